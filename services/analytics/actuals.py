"""Actuals of the target metrics: what was achieved in a period, in total, per owner or per
owner's team, optionally per month — the one computation targets, attainment, forecasts,
leaderboards and payouts compare against.

Metrics (``services.models.TARGET_METRICS``), each counted for the record's owner:
- ``contract_amount`` — Σ amount of won deals with ``closed_on`` in the period (won revenue);
- ``collections`` — Σ payments with ``received_on`` in the period, on contracts they own;
- ``won_deals`` — number of won deals with ``closed_on`` in the period;
- ``new_customers`` — customers created in the period that they own now;
- ``activities`` — activities with ``done_at`` in the period.
Date columns compare with ``[start, end)``; timestamps with the local midnights of those days
in the company time zone. Owners are always limited to what the actor may see.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
from sqlalchemy import Date, and_, bindparam, case, func, literal_column, select
from sqlmodel import Session

from services.access import Actor, owner_params, owner_scope_term, owner_shape, visible_user_ids
from services.analytics.common import dialect_of, money, month_bucket, stage_ids, stage_in_bound
from services.clock import day_start_utc, local_tz
from services.db import shaped
from services.models import TARGET_METRICS, Activity, Contract, Customer, Deal, Payment, User
from services.periods import Period, add_months, month_starts

BY = (None, "user", "team")
MONEY_METRICS = ("contract_amount", "collections")


def _source(metric: str):
    """(owner column, the column summed — None for a count of rows —, date column or None,
    timestamp column or None, joins, conditions); the won stages are the parameter ``won``."""
    if metric == "contract_amount":
        return Deal.owner_id, Deal.amount, Deal.closed_on, None, [], [stage_in_bound("won")]
    if metric == "won_deals":
        return Deal.owner_id, None, Deal.closed_on, None, [], [stage_in_bound("won")]
    if metric == "collections":
        return Contract.owner_id, Payment.amount, Payment.received_on, None, \
            [(Contract, Contract.id == Payment.contract_id)], []
    if metric == "new_customers":
        return Customer.owner_id, None, None, Customer.created_at, [], [Customer.owner_id.is_not(None)]
    return Activity.owner_id, None, None, Activity.done_at, [], []


#: The metrics counted on a timestamp (compared with the company's local midnights), as
#: ``_source`` says.
STAMPED = tuple(m for m in TARGET_METRICS if _source(m)[2] is None)
_FROM = {"contract_amount": Deal, "won_deals": Deal, "collections": Payment, "new_customers": Customer,
         "activities": Activity}


def metric_actuals(session: Session, actor: Actor, *, metric: str, start: date, end: date,
                   by: str | None = None, owner_ids: set[int] | None = None, monthly: bool = False) -> pd.DataFrame:
    """Actuals of ``metric`` in ``[start, end)`` (see the module docstring), one SQL
    aggregation: columns ``user_id`` (``by="user"``) or ``team_id`` (``by="team"``, the
    owner's team), ``month`` (first day, when ``monthly``) and ``value`` (Decimal for money
    metrics, int for counts). Only owners the actor may see, narrowed to ``owner_ids`` when
    given. Groups with nothing are left out (a total of nothing is one row of 0)."""
    columns, rows = _actual_rows(session, actor, metric=metric, start=start, end=end, by=by, owner_ids=owner_ids,
                                 monthly=monthly)
    frame = pd.DataFrame.from_records(rows, columns=columns)
    if monthly and len(frame) and "month" in frame:
        frame["month"] = [m if isinstance(m, date) else date.fromisoformat(str(m)[:10]) for m in frame["month"]]
    frame["value"] = [_value(metric, v) for v in frame["value"]]
    if columns == ["value"] and frame.empty:
        frame = pd.DataFrame({"value": [_value(metric, None)]})
    return frame.astype({"value": object})


def metric_totals(session: Session, actor: Actor, *, metric: str, spans: list[tuple[date, date]],
                  owner_ids: set[int] | None = None) -> list[Decimal | int]:
    """``metric_total`` of each ``[start, end)`` span in ``spans`` (e.g. this week and last),
    in one read: one conditional sum per span over the range that holds them all."""
    if metric not in TARGET_METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    if not spans:
        return []
    for a, b in spans:
        Period(a, b)  # an empty or reversed span is refused, as metric_total refuses it
    ids, tz, owners, params = _read_setup(session, actor, metric, owner_ids)
    stamped = metric in STAMPED
    bounds = [(day_start_utc(a, tz), day_start_utc(b, tz)) if stamped else (a, b) for a, b in spans]
    for i, (lo, hi) in enumerate(bounds):
        params.update({f"lo{i}": lo, f"hi{i}": hi})
    params.update(lo=min(lo for lo, _ in bounds), hi=max(hi for _, hi in bounds))
    _keys, stmt = shaped(("actuals", metric, None, owners, "spans", len(spans)),
                         lambda: _actuals_statement(metric, None, owners, spans=len(spans)))
    row = session.execute(stmt, params).one()
    return [_value(metric, v) for v in row]


def _read_setup(session: Session, actor: Actor, metric: str, owner_ids: set[int] | None):
    """(the owners read — what the actor may see, narrowed to ``owner_ids`` —, the company
    time zone, their owner shape, the statement's first parameters)."""
    visible = visible_user_ids(session, actor)
    ids = owner_ids if visible is None else (visible if owner_ids is None else owner_ids & visible)
    params = owner_params(ids)
    if metric in ("contract_amount", "won_deals"):
        params["won"] = stage_ids(session, "won")
    return ids, local_tz(session), owner_shape(ids), params


def metric_actuals_by_user(session: Session, actor: Actor, *, metric: str, start: date, end: date,
                           owner_ids: set[int] | None = None) -> dict[int, Decimal | int]:
    """``metric_actuals(..., by="user")`` as owner id → value, without building a frame (a
    leaderboard's few dozen rows: the frame cost more than the query)."""
    _columns, rows = _actual_rows(session, actor, metric=metric, start=start, end=end, by="user",
                                  owner_ids=owner_ids, monthly=False)
    return {int(uid): _value(metric, v) for uid, v in rows}


def _value(metric: str, v) -> Decimal | int:
    return money(v) if metric in MONEY_METRICS else int(v or 0)


def _actual_rows(session: Session, actor: Actor, *, metric: str, start: date, end: date, by: str | None,
                 owner_ids: set[int] | None, monthly: bool) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of ``metric_actuals`` before they become a frame."""
    if metric not in TARGET_METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    if by not in BY:
        raise ValueError(f"unknown grouping {by!r}")
    period = Period(start, end)
    ids, tz, owners, params = _read_setup(session, actor, metric, owner_ids)
    if monthly and metric in STAMPED:
        # timestamps: one conditional sum per local month (exact in the company time zone)
        months = month_starts(period)
        bounds = [(day_start_utc(max(m, period.start), tz), day_start_utc(min(add_months(m, 1), period.end), tz))
                  for m in months]
        params.update({f"lo{i}": lo for i, (lo, _hi) in enumerate(bounds)})
        params.update({f"hi{i}": hi for i, (_lo, hi) in enumerate(bounds)})
        params.update(lo=bounds[0][0] if bounds else day_start_utc(period.start, tz),
                      hi=bounds[-1][1] if bounds else day_start_utc(period.end, tz))
        keys, stmt = shaped(("actuals", metric, by, owners, "months", len(months)),
                            lambda: _actuals_statement(metric, by, owners, months=len(months)))
        rows = []
        for r in session.execute(stmt, params).all():
            head, counts = tuple(r[:len(keys)]), r[len(keys):]
            rows += [(*head, m, c) for m, c in zip(months, counts, strict=True) if c]
    else:
        stamped = metric in STAMPED
        plus = _plus_range(session, metric, ids, period)
        if stamped:
            params.update(lo=day_start_utc(period.start, tz), hi=day_start_utc(period.end, tz))
        else:
            params.update(lo=period.start, hi=period.end)
        month = dialect_of(session) if monthly else None
        keys, stmt = shaped(("actuals", metric, by, owners, plus, month),
                            lambda: _actuals_statement(metric, by, owners, plus=plus, month=month))
        rows = [tuple(r) for r in session.execute(stmt, params).all()]

    return [k.key for k in keys] + (["month"] if monthly else []) + ["value"], rows


def _actuals_statement(metric: str, by: str | None, owners: str, *, plus: bool = False, month: str | None = None,
                       months: int | None = None, spans: int | None = None):
    """(key columns, statement) of ``_actual_rows``' shape: bound ``owners``, ``won``,
    ``lo`` / ``hi`` (dates, or the local midnights of timestamps) and, per month of a
    timestamp metric (``months``) or per span (``spans``, ``metric_totals``), ``lo{i}`` / ``hi{i}``."""
    owner, summed, day_col, stamp_col, joins, conds = _source(metric)
    value = func.count() if summed is None else func.sum(summed)
    keys: list = []
    stmt_from = select().select_from(_FROM[metric])
    # the owner's table only when an owner is asked for: every payment has its contract (a
    # non-null foreign key), and the join costs a director's year of collections a contract
    # lookup per payment (230 ms at 70k payments, 10 ms without)
    for table, on in joins if (by is not None or owners != "all") else ():
        stmt_from = stmt_from.join(table, on)
    if by == "user":
        keys.append(owner.label("user_id"))
    elif by == "team":
        stmt_from = stmt_from.join(User, User.id == owner)
        keys.append(User.team_id.label("team_id"))
    lo, hi = bindparam("lo"), bindparam("hi")
    where = [owner_scope_term(owner, owners), *conds]
    if day_col is not None:
        col = literal_column("+payment.received_on", Date) if plus else day_col
        where += [col >= lo, col < hi]
    else:
        where += [stamp_col >= lo, stamp_col < hi]
    if spans is not None:
        col = day_col if day_col is not None else stamp_col
        cols = []
        for i in range(spans):
            inside = and_(col >= bindparam(f"lo{i}"), col < bindparam(f"hi{i}"))
            cols.append(func.count(case((inside, 1))) if summed is None else func.sum(case((inside, summed))))
        return keys, stmt_from.add_columns(*cols).where(*where)
    if months is not None:
        cols = [func.sum(case((and_(stamp_col >= bindparam(f"lo{i}"), stamp_col < bindparam(f"hi{i}")), 1),
                              else_=0)) for i in range(months)]
        stmt = stmt_from.add_columns(*keys, *cols).where(*where)
    elif month is not None:
        bucket = month_bucket(day_col, month).label("month")
        stmt = stmt_from.add_columns(*keys, bucket, value.label("value")).where(*where).group_by(*keys, bucket)
        return keys, stmt
    else:
        stmt = stmt_from.add_columns(*keys, value.label("value")).where(*where)
    return keys, (stmt.group_by(*keys) if keys else stmt)


#: Collections of at most this many owners over more than a month start from their contracts.
FEW_OWNERS = 12


def _plus_range(session: Session, metric: str, ids: set[int] | None, period: Period) -> bool:
    """Whether the period's range is written on ``+payment.received_on``: collections of a
    team or fewer (``FEW_OWNERS``) over more than a month on SQLite, where no index serves
    it, so the planner starts from the owners' contracts (the owner index) and reads their
    payments by contract — a year of six reps' collections in 21 ms instead of 161 ms looking
    up the contract of every payment of the year (large demo). Not for more owners or a
    shorter period: all 50 reps' month took 230 ms that way, 60 ms by payment."""
    return (metric == "collections" and ids is not None and len(ids) <= FEW_OWNERS and period.days > 31
            and dialect_of(session) == "sqlite")


def metric_total(session: Session, actor: Actor, *, metric: str, start: date, end: date,
                 owner_ids: set[int] | None = None) -> Decimal | int:
    """``metric_actuals`` in total: one number (the same read, without building a frame)."""
    _columns, rows = _actual_rows(session, actor, metric=metric, start=start, end=end, by=None, owner_ids=owner_ids,
                                  monthly=False)
    return _value(metric, rows[0][0] if rows else None)


__all__ = ["BY", "MONEY_METRICS", "metric_actuals", "metric_total", "metric_totals"]
