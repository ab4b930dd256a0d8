"""``salesops report kpi``, ``salesops report attainment`` and ``salesops pool reclaim``."""

from __future__ import annotations

import json
from datetime import timedelta
from enum import StrEnum

import typer

from services.cli.base import (
    day_range,
    engine_of,
    failures,
    msg,
    pool_app,
    print_table,
    read,
    report_app,
    write,
)


class ByName(StrEnum):
    owner = "owner"
    team = "team"



@report_app.command("kpi")
def report_kpi(
    ctx: typer.Context,
    date_from: str | None = typer.Option(None, "--from", help="First day (YYYY-MM-DD); default: 1st of this month."),
    date_to: str | None = typer.Option(None, "--to", help="Last day, inclusive (YYYY-MM-DD); default: today."),
    by: ByName | None = typer.Option(None, "--by", help="One row per owner or per team."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (a list of rows)."),
) -> None:
    """Won revenue, won/lost counts, win rate, average won deal, average days to close and
    activities for deals closed (and activities done) in the period — the Overview's numbers."""
    with failures():
        from services.access import SYSTEM
        from services.analytics import kpi_report

        engine = engine_of(ctx)
        period = day_range(engine, date_from, date_to)
        start, last = period.start, period.end - timedelta(days=1)
        rows = read(engine, lambda session: kpi_report(session, SYSTEM, start=period.start, end=period.end,
                                                       by=by.value if by else None))
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        else:
            typer.echo(msg("kpi_title", start=start.isoformat(), end=last.isoformat()))
            print_table(rows)


class AttainmentBy(StrEnum):
    user = "user"
    team = "team"


@report_app.command("attainment")
def report_attainment(
    ctx: typer.Context,
    period: str = typer.Option(..., "--period", help="YYYY (fiscal year), YYYY-Qn or YYYY-MM."),
    by: AttainmentBy | None = typer.Option(None, "--by", help="Only user or only team targets."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (a list of rows)."),
) -> None:
    """Per target of the period: target, actual, attainment (actual / target) and the
    run-rate projection to the period end — the Goals page's numbers."""
    with failures():
        from services.access import SYSTEM
        from services.goals import attainment_report

        engine = engine_of(ctx)
        rows = read(engine, lambda session: attainment_report(session, SYSTEM, period=period,
                                                               by=by.value if by else None))
        keep = ("id", "metric", "scope", "holder", "period", "tier", "value", "actual", "attainment", "projection")
        rows = [{k: r[k] for k in keep} for r in rows]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        else:
            print_table(rows)


# ---------------------------------------------------------------------------
# public pool


@pool_app.command("reclaim")
def pool_reclaim(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Move owned customers without a follow-up for their tier's number of days into the
    public pool (the rules in the settings). Safe to run again: it is idempotent."""
    with failures():
        from services.access import SYSTEM
        from services.customers import reclaim_stale_customers

        engine = engine_of(ctx)
        count = write(engine, lambda session: reclaim_stale_customers(session, SYSTEM))
        typer.echo(json.dumps({"reclaimed": count}) if as_json else msg("reclaimed", count=count))


