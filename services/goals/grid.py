"""The team's year in one screen: reps × months targets, with row and column totals.

The grid of a team, fiscal year, metric and tier reads the month targets of the team's
active reps (a rep without one shows empty cells). Saving it writes one consistent tree:
each rep's month targets, each rep's year target (= its row total, a part of the team's
year target), the team's month targets (= the column totals) and the team's year target
(= the grand total). When the team's year target already exists with another value the
save is refused, unless the manager asks to re-total it. Empty cells count as 0. A rep who
has a year target but no month targets yet is shown with that year split like the team's
months (``prefilled``), ready to adjust and save.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from services import audit
from services.access import Actor
from services.errors import ConflictError, ValidationError
from services.goals.common import (
    as_value,
    ensure_may_edit,
    fiscal_start_month,
    holder_reps,
    parse_period,
    period_label,
    shown_value,
    sub_periods,
    unit_of,
)
from services.goals.split import split_amount
from services.goals.targets import check_value
from services.i18n import t
from services.models import TARGET_METRICS, TARGET_TIERS, Target, Team


def _slot(session: Session, *, metric: str, tier: str, scope: str, team_id: int | None, user_id: int | None,
          kind: str, start, lock: bool = True) -> Target | None:
    stmt = select(Target).where(
        Target.metric == metric, Target.tier == tier, Target.scope == scope, Target.period_kind == kind,
        Target.period_start == start,
        Target.team_id.is_(None) if team_id is None else Target.team_id == team_id,
        Target.user_id.is_(None) if user_id is None else Target.user_id == user_id)
    return session.scalars(stmt.with_for_update() if lock else stmt).first()


def _check(session: Session, actor: Actor, team_id: Any, year: str, metric: str, tier: str):
    loc = actor.locale
    errors: dict[str, str] = {}
    if metric not in TARGET_METRICS:
        errors["metric"] = t("err.not_in_list", loc, options=", ".join(TARGET_METRICS))
    if tier not in TARGET_TIERS:
        errors["tier"] = t("err.not_in_list", loc, options=", ".join(TARGET_TIERS))
    if not isinstance(team_id, int) or session.get(Team, team_id) is None:
        errors["team_id"] = t("err.unknown_ref", loc, value=team_id)
    if errors:
        raise ValidationError(errors)
    kind, start = parse_period(year, fiscal_start_month(session), loc, field="year")
    if kind != "year":
        raise ValidationError({"year": t("goals.err.period_format", loc, value=year)})
    ensure_may_edit(session, actor, scope="team", team_id=team_id, user_id=None, field="team_id")
    return start


def team_grid(session: Session, actor: Actor, *, team_id: int, year: str, metric: str = "contract_amount",
              tier: str = "base") -> dict[str, Any]:
    """The grid: ``months`` (labels), ``rows`` (user_id, username, name, one value per month
    or None, total), ``column_totals``, ``total`` and the team's year target (``team_target``,
    None without one) — for a team the actor may set targets for."""
    start = _check(session, actor, team_id, year, metric, tier)
    fiscal = fiscal_start_month(session)
    months = [s for _, s in sub_periods("year", start, "month")]
    reps = holder_reps(session, "team", team_id, None)
    found = {(r.user_id, r.period_start): r.value for r in session.scalars(select(Target).where(
        Target.metric == metric, Target.tier == tier, Target.scope == "user", Target.period_kind == "month",
        Target.period_start.in_(months), Target.user_id.in_([u.id for u in reps] or [-1]))).all()}
    years = {r.user_id: r.value for r in session.scalars(select(Target).where(
        Target.metric == metric, Target.tier == tier, Target.scope == "user", Target.period_kind == "year",
        Target.period_start == start, Target.user_id.in_([u.id for u in reps] or [-1]))).all()}
    team_months = [r.value for r in session.scalars(select(Target).where(
        Target.metric == metric, Target.tier == tier, Target.scope == "team", Target.team_id == team_id,
        Target.period_kind == "month", Target.period_start.in_(months)).order_by(Target.period_start)).all()]
    rows = []
    for u in reps:
        values = [found.get((u.id, m)) for m in months]
        prefilled = all(v is None for v in values) and u.id in years
        if prefilled:
            # a rep with a year target but no months yet: their year split like the team's
            # months (equal without them), for the manager to adjust and save
            weights = team_months if len(team_months) == len(months) and sum(team_months) > 0 else [1] * len(months)
            values = split_amount(years[u.id], weights, unit=unit_of(metric))
        rows.append({"user_id": u.id, "username": u.username, "name": u.display_name, "prefilled": prefilled,
                     "values": [as_value(metric, v) if v is not None else None for v in values],
                     "total": as_value(metric, sum((v for v in values if v is not None), Decimal(0)))})
    columns = [as_value(metric, sum((Decimal(r["values"][i] or 0) for r in rows), Decimal(0)))
               for i in range(len(months))]
    team = _slot(session, metric=metric, tier=tier, scope="team", team_id=team_id, user_id=None, kind="year",
                 start=start, lock=False)
    return {"months": [period_label("month", m, fiscal) for m in months], "month_starts": months, "rows": rows,
            "column_totals": columns, "total": as_value(metric, sum((Decimal(c) for c in columns), Decimal(0))),
            "team_target": as_value(metric, team.value) if team else None, "team_target_id": team.id if team else None}


def _same_value(a: Any, b: Any) -> bool:
    return (a is None) == (b is None) and (a is None or Decimal(str(a)) == Decimal(str(b)))


def _check_unchanged(session: Session, actor: Actor, *, team_id: int, year: str, metric: str, tier: str,
                     shown: dict[int, list[Any]], cells: dict[int, list[Decimal]]) -> None:
    """Refuse the save when a cell differs from what the page showed (read after the team
    year's row lock, so two saves of one grid cannot both pass)."""
    now = team_grid(session, actor, team_id=team_id, year=year, metric=metric, tier=tier)
    current = {r["user_id"]: r["values"] for r in now["rows"]}
    conflicts: dict[Any, dict[str, tuple[Any, Any]]] = {}
    for user_id, before in shown.items():
        theirs = current.get(user_id, [None] * len(before))
        for i, (seen, value) in enumerate(zip(before, theirs, strict=False)):
            if not _same_value(seen, value):
                mine = cells.get(user_id, [None] * len(before))[i]
                conflicts.setdefault(user_id, {})[now["months"][i]] = (value, as_value(metric, mine))
    if conflicts:
        raise ConflictError(conflicts, t("goals.err.grid_changed", actor.locale, count=len(conflicts)))


def save_team_grid(session: Session, actor: Actor, *, team_id: int, year: str, cells: dict[int, list[Any]],
                   metric: str = "contract_amount", tier: str = "base", retotal_parent: bool = False,
                   shown: dict[int, list[Any]] | None = None) -> dict[str, Any]:
    """Write the grid (module docstring): ``cells`` maps each rep's user id to 12 month
    values (empty → 0, but a cell ``shown`` with a value that comes back empty is refused).
    Every cell is checked first (``value[<user>][<month>]``) and a
    rep outside the team is refused; nothing is written when one is bad.

    ``shown`` — the values the page displayed (``team_grid`` rows) — makes the save
    optimistic: under the lock on the team's year target, a cell someone else changed since
    raises ``ConflictError`` (rep → {month: (their value, yours)}) and nothing is written."""
    loc = actor.locale
    start = _check(session, actor, team_id, year, metric, tier)
    months = [s for _, s in sub_periods("year", start, "month")]
    reps = {u.id: u for u in holder_reps(session, "team", team_id, None)}
    errors: dict[str, str] = {}
    values: dict[int, list[Decimal]] = {}
    for user_id, row in cells.items():
        if user_id not in reps:
            raise ValidationError({"user_ids": t("goals.err.rep_outside_team", loc, user=user_id)})
        if len(row) != len(months):
            raise ValidationError({"cells": t("goals.err.weight_count", loc, count=len(months), given=len(row))})
        parsed = []
        before = (shown or {}).get(user_id) or [None] * len(months)
        for i, cell in enumerate(row):
            field = f"value[{user_id}][{i + 1}]"
            if (cell is None or cell == "") and i < len(before) and before[i] not in (None, "") and before[i] != 0:
                # a cell the page showed a value in came back empty: cleared, or text the
                # grid's number editor would not take — never saved as 0 unasked
                errors[field] = t("goals.err.cleared", loc, value=shown_value(metric, Decimal(str(before[i])), loc))
                parsed.append(Decimal(0))
                continue
            v = check_value(metric, 0 if cell is None or cell == "" else cell, loc, errors, field=field)
            parsed.append(v if v is not None else Decimal(0))
        values[user_id] = parsed
    if errors:
        raise ValidationError(errors)
    grand = sum((sum(v, Decimal(0)) for v in values.values()), Decimal(0))
    common = dict(metric=metric, tier=tier)
    team_year = _slot(session, scope="team", team_id=team_id, user_id=None, kind="year", start=start, **common)
    if shown is not None:
        _check_unchanged(session, actor, team_id=team_id, year=year, metric=metric, tier=tier, shown=shown,
                         cells=values)
    if team_year is not None and team_year.value != grand and not retotal_parent:
        raise ValidationError({"value": t("goals.err.mismatch", loc, id=team_year.id,
                                          total=shown_value(metric, grand, loc),
                                          value=shown_value(metric, team_year.value, loc), period=year)})
    if team_year is None:
        team_year = Target(scope="team", team_id=team_id, period_kind="year", period_start=start, value=grand,
                           basis_kind="manual", **common)
    old_total = team_year.value
    team_year.value = grand
    session.add(team_year)
    session.flush()
    written = 1

    def put(scope: str, user_id: int | None, kind: str, day, value: Decimal, parent_id: int) -> Target:
        nonlocal written
        row = _slot(session, scope=scope, team_id=team_id if scope == "team" else None, user_id=user_id, kind=kind,
                    start=day, **common)
        if row is None:
            row = Target(scope=scope, team_id=team_id if scope == "team" else None, user_id=user_id, period_kind=kind,
                         period_start=day, basis_kind="split", **common)
        row.value, row.parent_id = value, parent_id
        session.add(row)
        session.flush()
        written += 1
        return row

    for i, day in enumerate(months):
        put("team", None, "month", day, sum((v[i] for v in values.values()), Decimal(0)), team_year.id)
    for user_id, row_values in values.items():
        user_year = put("user", user_id, "year", start, sum(row_values, Decimal(0)), team_year.id)
        for day, value in zip(months, row_values, strict=True):
            put("user", user_id, "month", day, value, user_year.id)
    audit.record(session, actor, "target", team_year.id, "grid", {"value": [old_total, grand],
                                                                  "reps": [None, len(values)]})
    return {"team_target_id": team_year.id, "total": as_value(metric, grand), "written": written}
