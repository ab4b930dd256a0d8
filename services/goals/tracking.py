"""Tracking a target: actual, 完成率, run-rate projection, 同比 / 环比, pace alerts
(formulas in docs/KPIS.md).

- actual = ``analytics.actuals.metric_total`` of the holder's people over the period so far
  (``[start, min(today + 1 day, end))``) — the one computation of every metric's actual. The
  actual of a target is the whole holder's total: who may see the target may see its total;
- attainment 完成率 = actual / target;
- elapsed = days of the period up to and including today / days of the period (0…1);
- projection = actual / elapsed (run rate to the period end; the actual once it is over);
- 同比 = (actual − actual of the same days one year earlier) / the latter;
- 环比 = (actual − actual of the same number of days of the previous period) / the latter;
- pace alert: at 50 / 90 / 100 % of the period elapsed, the last of these checkpoints
  passed, when the projection is below the target.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from services.access import SYSTEM, Actor
from services.analytics.actuals import metric_actuals_by_user, metric_total
from services.clock import company_today
from services.goals.common import (
    as_value,
    fiscal_start_month,
    holder_names,
    holder_user_ids,
    load_target,
    parse_period,
    period_of,
    target_dict,
    unit_of,
    visible_target_term,
)
from services.models import Target
from services.periods import add_months, previous

CHECKPOINTS = (Decimal("0.5"), Decimal("0.9"), Decimal("1"))
BY = (None, "user", "team", "company")


def _growth(now: Decimal, before: Decimal) -> float | None:
    return None if not before else round(float((now - before) / before), 4)


def progress_of(session: Session, row: Target, *, today: date, fiscal: int,
                per_user: dict | None = None, names: dict | None = None) -> dict[str, Any]:
    """Tracking numbers of one target row (module docstring); the caller checked access.
    ``per_user`` (a dict the caller keeps across rows) holds each (metric, window)'s actuals
    per owner, read once: team and rep targets of one period then sum their owners' values
    instead of asking the database three times per target; ``names`` the holders' names
    (``holder_names``) when the caller converts many rows."""
    period = period_of(row.period_kind, row.period_start)
    owners = holder_user_ids(session, row.scope, row.team_id, row.user_id)
    end = min(today + timedelta(days=1), period.end)
    days = max((end - period.start).days, 0)

    def total(lo: date, hi: date) -> Decimal:
        if hi <= lo:
            return Decimal(0)
        if per_user is None or owners is None:
            return Decimal(metric_total(session, SYSTEM, metric=row.metric, start=lo, end=hi, owner_ids=owners))
        key = (row.metric, lo, hi)
        if key not in per_user:
            per_user[key] = metric_actuals_by_user(session, SYSTEM, metric=row.metric, start=lo, end=hi)
        values = per_user[key]
        return sum((Decimal(values.get(u, 0)) for u in owners), Decimal(0))

    actual = total(period.start, end)
    elapsed = (Decimal(days) / Decimal(period.days)).quantize(Decimal("0.0001"))
    projection = (actual / elapsed).quantize(unit_of(row.metric), rounding=ROUND_HALF_UP) if elapsed else None
    last_year = total(add_months(period.start, -12), add_months(period.start, -12) + timedelta(days=days))
    prev = previous(period)
    prev_actual = total(prev.start, min(prev.start + timedelta(days=days), prev.end))
    target = Decimal(row.value)
    passed = [c for c in CHECKPOINTS if elapsed >= c]
    alert = None
    if passed and projection is not None and projection < target:
        alert = {"checkpoint": int(passed[-1] * 100), "projection": as_value(row.metric, projection),
                 "shortfall": as_value(row.metric, target - projection)}
    out = target_dict(session, row, fiscal, names)
    out.update({
        "actual": as_value(row.metric, actual), "attainment": round(float(actual / target), 4) if target else None,
        "elapsed": float(elapsed), "projection": as_value(row.metric, projection) if projection is not None else None,
        "projected_attainment": round(float(projection / target), 4) if target and projection is not None else None,
        "last_year": as_value(row.metric, last_year), "yoy": _growth(actual, last_year),
        "previous_period": as_value(row.metric, prev_actual), "mom": _growth(actual, prev_actual),
        "pace_alert": alert,
    })
    return out


def target_progress(session: Session, actor: Actor, *, target_id: int, today: date | None = None) -> dict[str, Any]:
    """Actual, 完成率, projection, 同比, 环比 and pace alert of one visible target."""
    row = load_target(session, actor, target_id)
    return progress_of(session, row, today=today or company_today(session), fiscal=fiscal_start_month(session))


def attainment_report(session: Session, actor: Actor, *, period: str, by: str | None = None,
                      metric: str | None = None, tier: str | None = None, today: date | None = None) -> list[dict]:
    """Per visible target of exactly ``period``: target value, actual, attainment and
    projection (``progress_of``); ``by`` keeps user, team or company targets only."""
    if by not in BY:
        raise ValueError(f"unknown grouping {by!r}")
    fiscal = fiscal_start_month(session)
    kind, start = parse_period(period, fiscal, actor.locale)
    stmt = select(Target).where(visible_target_term(session, actor), Target.period_kind == kind,
                                Target.period_start == start)
    if by:
        stmt = stmt.where(Target.scope == by)
    if metric:
        stmt = stmt.where(Target.metric == metric)
    if tier:
        stmt = stmt.where(Target.tier == tier)
    today = today or company_today(session)
    order = {"company": 0, "team": 1, "user": 2}
    per_user: dict = {}
    targets = session.scalars(stmt).all()
    names = holder_names(session, targets)
    rows = [progress_of(session, r, today=today, fiscal=fiscal, per_user=per_user, names=names) for r in targets]
    rows.sort(key=lambda d: (d["metric"], order[d["scope"]], d["holder"], d["tier"], d["id"]))
    return rows
