"""``salesops report funnel | forecast | leaderboard | findings | meeting`` and ``salesops
forecast snapshot``: the Funnel, Performance and Weekly meeting pages' numbers."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from services.cli.base import (
    CliError,
    app,
    day_range,
    engine_of,
    failures,
    msg,
    print_table,
    read,
    report_app,
    write,
)

forecast_app = typer.Typer(help="Forecast snapshots (weekly, for forecast accuracy).", no_args_is_help=True)
app.add_typer(forecast_app, name="forecast")


class FunnelBy(StrEnum):
    stage = "stage"


class Metric(StrEnum):
    revenue = "revenue"
    collections = "collections"
    win_rate = "win_rate"
    activities = "activities"


class Lang(StrEnum):
    zh = "zh"
    en = "en"


def _echo(rows, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
    else:
        print_table(rows if isinstance(rows, list) else [rows])


def funnel_rows(report) -> list[dict]:
    """Per stage for the CLI: deals reaching it, amount, conversion onward, lost at it and
    mean days in it (the Funnel page's table)."""
    data = report.to_dict()
    return [{"stage": r["stage"], "kind": r["kind"], "deals": r["reached"], "amount": r["amount"],
             "without_amount": r["without_amount"], "conversion_next": r["conversion_next"], "lost_at": r["lost_at"],
             "avg_days": r["avg_days"], "median_days": r["median_days"]} for r in data["stages"]]


@report_app.command("funnel")
def report_funnel(
    ctx: typer.Context,
    date_from: str | None = typer.Option(None, "--from", help="First day opened (YYYY-MM-DD); default: 1st of this month."),
    date_to: str | None = typer.Option(None, "--to", help="Last day opened, inclusive; default: today."),
    by: FunnelBy = typer.Option(FunnelBy.stage, "--by", help="One row per stage."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (a list of rows)."),
) -> None:
    """The funnel of the deals opened in the period: per stage the deals reaching it, their
    amount, the share that went further, the deals lost at it and the days spent in it."""
    with failures():
        from services.access import SYSTEM
        from services.analytics.funnel import funnel

        engine = engine_of(ctx)
        period = day_range(engine, date_from, date_to)
        report = read(engine, lambda s: funnel(s, SYSTEM, period=period))
        _echo(funnel_rows(report), as_json)


@report_app.command("forecast")
def report_forecast(
    ctx: typer.Context,
    months: int = typer.Option(3, "--months", min=1, max=24, help="Months from this one."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (a list of rows)."),
) -> None:
    """Per expected-close month: open deals, pipeline, weighted, won, commit, best case, target."""
    with failures():
        from services.access import SYSTEM
        from services.analytics.forecast import forecast, forecast_json

        engine = engine_of(ctx)
        _echo(forecast_json(read(engine, lambda s: forecast(s, SYSTEM, months=months))), as_json)


@report_app.command("leaderboard")
def report_leaderboard(
    ctx: typer.Context,
    date_from: str | None = typer.Option(None, "--from", help="First day (YYYY-MM-DD); default: 1st of this month."),
    date_to: str | None = typer.Option(None, "--to", help="Last day, inclusive; default: today."),
    metric: Metric = typer.Option(Metric.revenue, "--metric", help="What to rank on."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (a list of rows)."),
) -> None:
    """排行榜: reps ranked on won revenue, collections, win rate or activities."""
    with failures():
        from services.access import SYSTEM
        from services.analytics.leaderboard import leaderboard, leaderboard_json

        engine = engine_of(ctx)
        period = day_range(engine, date_from, date_to)
        _echo(leaderboard_json(read(engine, lambda s: leaderboard(s, SYSTEM, period=period, metric=metric.value))),
              as_json)


@report_app.command("findings")
def report_findings(
    ctx: typer.Context,
    date_from: str | None = typer.Option(None, "--from", help="First day (YYYY-MM-DD); default: 1st of this month."),
    date_to: str | None = typer.Option(None, "--to", help="Last day, inclusive; default: today."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (a list of findings)."),
) -> None:
    """The review's findings for the period, one sentence each with its numbers."""
    with failures():
        from services.access import SYSTEM
        from services.analytics.findings import findings
        from services.cli.base import cli_locale

        engine = engine_of(ctx)
        period = day_range(engine, date_from, date_to)
        found = read(engine, lambda s: findings(s, SYSTEM, period=period))
        if as_json:
            typer.echo(json.dumps(found, ensure_ascii=False, default=str))
        else:
            for f in found:
                typer.echo(f"- {f['text'][cli_locale()]}")
            if not found:
                typer.echo(msg("no_rows"))


@report_app.command("meeting")
def report_meeting(
    ctx: typer.Context,
    week: str | None = typer.Option(None, "--week", help="ISO week, e.g. 2026-W48; default: this week."),
    pdf: Path = typer.Option(..., "--pdf", help="Write the report to this PDF file."),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="Language of the report."),
) -> None:
    """Write the weekly meeting report (A4 landscape PDF with charts) to ``--pdf``."""
    with failures():
        from services.access import SYSTEM
        from services.analytics.meeting import meeting_report, parse_week, week_of
        from services.clock import company_today
        from services.reports_pdf import meeting_pdf

        engine = engine_of(ctx)
        try:
            period = parse_week(week or week_of(read(engine, company_today)))
        except ValueError:
            raise CliError(msg("bad_week", value=week)) from None
        report = read(engine, lambda s: meeting_report(s, SYSTEM, week=period))
        data = meeting_pdf(report, locale="zh_CN" if lang == Lang.zh else "en")
        pdf.write_bytes(data)
        typer.echo(msg("pdf_written", path=str(pdf), size=len(data)))


@forecast_app.command("snapshot")
def forecast_snapshot(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Record this week's forecast for the company, every team and every rep (at most once a
    week per scope: running it again the same week adds nothing)."""
    with failures():
        from services.access import SYSTEM
        from services.analytics.forecast import take_snapshot

        engine = engine_of(ctx)
        written = write(engine, lambda s: take_snapshot(s, SYSTEM))
        typer.echo(json.dumps({"written": written}) if as_json else msg("snapshot_written", count=written))
