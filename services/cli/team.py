"""``salesops scheme add`` and ``salesops payouts compute | approve | pay`` — the incentive
services of the Incentives page, acting as the system administrator."""

from __future__ import annotations

import json
from enum import StrEnum

import typer

from services.cli.base import app, engine_of, failures, print_table, read, team_id, user_id, write

scheme_app = typer.Typer(help="Incentive schemes (commission tiers, bonus thresholds).", no_args_is_help=True)
payouts_app = typer.Typer(help="Payouts computed from deals and payments: compute, approve, pay.",
                          no_args_is_help=True)
app.add_typer(scheme_app, name="scheme")
app.add_typer(payouts_app, name="payouts")


class Basis(StrEnum):
    won_amount = "won_amount"
    collections = "collections"
    margin = "margin"


class Mode(StrEnum):
    whole = "whole"
    marginal = "marginal"


class PeriodKind(StrEnum):
    month = "month"
    quarter = "quarter"
    year = "year"


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


@scheme_app.command("add")
def scheme_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Scheme name (unique)."),
    basis: Basis | None = typer.Option(None, "--basis", help="won_amount (by close date), collections (by payment "
                                       "date) or margin (won amount − unit cost × quantity)."),
    mode: Mode = typer.Option(Mode.whole, "--mode", help="whole (全额累进) or marginal (超额累进)."),
    tiers: str = typer.Option(..., "--tiers", help='"lower bound:rate" pairs from 0, e.g. "0:2%,100000:4%,250000:6%".'),
    period: PeriodKind | None = typer.Option(None, "--period", help="month, quarter or year."),
    team: list[str] = typer.Option([], "--team", help="Team name (repeatable); everyone when no team or user."),
    user: list[str] = typer.Option([], "--user", help="Username (repeatable)."),
    bonus: str | None = typer.Option(None, "--bonus", help='Attainment bonus, e.g. "100%:5000,120%:12000".'),
    starts_on: str | None = typer.Option(None, "--from", help="Valid from (YYYY-MM-DD)."),
    ends_on: str | None = typer.Option(None, "--to", help="Valid until, inclusive (YYYY-MM-DD)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Add a commission scheme (tiers checked: from 0, rising, rates 0–100 %)."""
    with failures():
        from services.access import SYSTEM
        from services.incentives import add_scheme

        engine = engine_of(ctx)

        def work(session):
            values = {"name": name, "basis": basis.value if basis else None, "mode": mode.value, "tiers": tiers,
                      "period": period.value if period else None, "bonus": bonus, "starts_on": starts_on,
                      "ends_on": ends_on, "team_ids": [team_id(session, x) for x in team],
                      "user_ids": [user_id(session, x.strip(), active_only=False) for x in user]}
            return add_scheme(session, SYSTEM, values=values)

        row = write(engine, work)
        typer.echo(_json(row) if as_json else f"{row['name']}: {row['basis']} {row['mode']} {row['tiers']}")


@payouts_app.command("compute")
def payouts_compute(
    ctx: typer.Context,
    scheme: str = typer.Option(..., "--scheme", help="Scheme name or id."),
    period: str = typer.Option(..., "--period", help="2027-05 (month), 2027-Q2 (quarter) or 2027 (year)."),
    save: bool = typer.Option(False, "--save", help="Store the result as draft payouts."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Per rep: basis, payout and the lines of the calculation (writes nothing unless --save)."""
    with failures():
        from services.access import SYSTEM
        from services.incentives import compute_payouts, save_payouts

        engine = engine_of(ctx)
        if save:
            result = write(engine, lambda s: save_payouts(s, SYSTEM, scheme=scheme, period=period))
        else:
            result = read(engine, lambda s: compute_payouts(s, SYSTEM, scheme=scheme, period=period))
        if as_json:
            typer.echo(_json(result))
        else:
            print_table([{k: r[k] for k in ("name", "basis", "commission", "bonus", "adjustment", "payout", "status")}
                         for r in result["reps"]])


def _step(ctx: typer.Context, scheme: str, period: str, as_json: bool, fn_name: str) -> None:
    with failures():
        from services import incentives
        from services.access import SYSTEM

        fn = getattr(incentives, fn_name)
        result = write(engine_of(ctx), lambda s: fn(s, SYSTEM, scheme=scheme, period=period))
        typer.echo(_json(result))  # the step's result as JSON, with or without --json


@payouts_app.command("approve")
def payouts_approve(ctx: typer.Context, scheme: str = typer.Option(..., "--scheme"),
                    period: str = typer.Option(..., "--period"), as_json: bool = typer.Option(False, "--json")) -> None:
    """Approve the period's saved draft payouts."""
    _step(ctx, scheme, period, as_json, "approve_payouts")


@payouts_app.command("pay")
def payouts_pay(ctx: typer.Context, scheme: str = typer.Option(..., "--scheme"),
                period: str = typer.Option(..., "--period"), as_json: bool = typer.Option(False, "--json")) -> None:
    """Mark the period's approved payouts paid (the period is then locked)."""
    _step(ctx, scheme, period, as_json, "pay_payouts")
