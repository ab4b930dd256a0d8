"""``salesops target add | split | suggest | workback`` — the goals services
(``services.goals``) from the command line, acting as the system administrator."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import typer

from services.cli.base import (
    cli_locale,
    engine_of,
    failures,
    print_table,
    read,
    target_app,
    team_id,
    user_id,
    write,
)


class Scope(StrEnum):
    company = "company"
    team = "team"
    user = "user"


class Tier(StrEnum):
    base = "base"
    stretch = "stretch"
    challenge = "challenge"


class Into(StrEnum):
    quarters = "quarters"
    months = "months"
    users = "users"


def cli_actor():
    """The system administrator, speaking the command line's language."""
    from dataclasses import replace

    from services.access import SYSTEM

    return replace(SYSTEM, locale=cli_locale())


def _echo(data: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str))
    elif isinstance(data, list):
        print_table(data)
    else:
        for key, value in data.items():
            typer.echo(f"{key}: {value}")


@target_app.command("add")
def target_add(
    ctx: typer.Context,
    metric: str = typer.Option("contract_amount", "--metric",
                               help="contract_amount | collections | won_deals | new_customers | activities"),
    scope: Scope = typer.Option(..., "--scope", help="company, team or user."),
    team: str | None = typer.Option(None, "--team", help="Team name (scope team)."),
    user: str | None = typer.Option(None, "--user", help="Username (scope user)."),
    period: str = typer.Option(..., "--period", help="YYYY (fiscal year), YYYY-Qn or YYYY-MM."),
    tier: Tier = typer.Option(Tier.base, "--tier", help="base 目标, stretch 冲刺 or challenge 挑战."),
    value: str = typer.Option(..., "--value", help="The target (money with 2 places, counts whole)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Set a target; prints it with its id."""
    with failures():
        from services.goals import create_target

        engine = engine_of(ctx)
        row = write(engine, lambda s: create_target(s, cli_actor(), data=dict(
            metric=metric, scope=scope.value, team_id=team_id(s, team), user_id=user_id(s, user), period=period,
            tier=tier.value, value=value)))
        _echo(row, as_json)


@target_app.command("split")
def target_split(
    ctx: typer.Context,
    target: int = typer.Argument(..., help="The target's id."),
    into: Into = typer.Option(..., "--into", help="quarters, months or users (a team target's reps)."),
    weights: str | None = typer.Option(None, "--weights",
                                       help='seasonal | equal | capacity | history | custom numbers "3,3,4,…".'),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (the parts)."),
) -> None:
    """Split a target into parts that add up exactly to it."""
    with failures():
        from services.goals import split_target

        engine = engine_of(ctx)
        rows = write(engine, lambda s: split_target(s, cli_actor(), target_id=target, into=into.value, weights=weights))
        _echo(rows, as_json)


@target_app.command("suggest")
def target_suggest(
    ctx: typer.Context,
    metric: str = typer.Option("contract_amount", "--metric"),
    scope: Scope = typer.Option(..., "--scope"),
    team: str | None = typer.Option(None, "--team"),
    user: str | None = typer.Option(None, "--user"),
    period: str = typer.Option(..., "--period", help="YYYY, YYYY-Qn or YYYY-MM."),
    market_size: str | None = typer.Option(None, "--market-size"),
    market_share: str | None = typer.Option(None, "--market-share", help="0…1"),
    growth_rate: str | None = typer.Option(None, "--growth", help="e.g. 0.15 for +15 % on last year."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The history, market and capacity suggestions with their inputs."""
    with failures():
        from services.goals import suggest_targets

        engine = engine_of(ctx)
        out = read(engine, lambda s: suggest_targets(
            s, cli_actor(), metric=metric, scope=scope.value, team_id=team_id(s, team), user_id=user_id(s, user),
            period=period, market_size=market_size, market_share=market_share, growth_rate=growth_rate))
        if as_json:
            _echo(out, True)
        else:
            print_table([{"basis": k, "value": out[k]["value"]} for k in ("history", "market", "capacity")])


@target_app.command("workback")
def target_workback(
    ctx: typer.Context,
    target: int = typer.Argument(..., help="The target's id."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Per rep per week: won deals, new deals, demos, visits and leads it takes, and the rates used."""
    with failures():
        from services.goals import workback

        engine = engine_of(ctx)
        out = read(engine, lambda s: workback(s, cli_actor(), target_id=target))
        if as_json:
            _echo(out, True)
        else:
            print_table([{"need": k, "total": out["needed"][k], "per_rep_per_week": v}
                         for k, v in out["per_rep_per_week"].items()])
