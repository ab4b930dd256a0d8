"""The Overview page: KPIs of a scope and period, the monthly won trend, pipeline by stage."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlmodel import Session

from services.access import Actor, owner_in, owner_params, owner_scope_key, owner_scope_term, owner_shape
from services.analytics.actuals import metric_total
from services.analytics.common import (
    ZERO,
    company_tz_name,
    dialect_of,
    float2,
    in_period_bound,
    money,
    month_bucket,
    ratio,
    scope_user_ids,
    stage_ids,
    stage_in_bound,
    weighted_amount,
)
from services.analytics.kpis import closed_counts
from services.analytics.targets import monthly_scope_targets, scope_target
from services.db import shaped
from services.models import Activity, Customer, Deal, Stage, utcnow
from services.periods import Period, local_today, month_starts


@dataclass(frozen=True)
class OverviewKPIs:
    """The Overview page's numbers for one scope and period (money as Decimal)."""

    period: Period
    scope: str
    won_amount: Decimal
    won_count: int
    lost_count: int
    win_rate: float | None
    target_amount: Decimal | None
    attainment: float | None
    open_pipeline: Decimal
    weighted_pipeline: Decimal
    open_deal_count: int
    activities_done: int
    overdue_activities: int
    overdue_customers: int
    new_customers: int
    collections: Decimal

    @property
    def overdue_followups(self) -> int:
        """Overdue planned activities + customers past their next-contact date."""
        return self.overdue_activities + self.overdue_customers

    def to_dict(self) -> dict:
        """JSON-friendly: money as float with 2 decimals, dates as ISO strings."""
        d = asdict(self)
        d["period"] = {"start": self.period.start.isoformat(), "end": self.period.end.isoformat(), "kind": self.period.kind}
        for k, v in d.items():
            if isinstance(v, Decimal):
                d[k] = float2(v)
        d["overdue_followups"] = self.overdue_followups
        return d


def overview_kpis(
    session: Session,
    actor: Actor,
    *,
    period: Period,
    scope: str = "me",
    today: date | None = None,
    now: datetime | None = None,
) -> OverviewKPIs:
    """The Overview numbers for ``scope`` in ``period``:

    won_amount / won_count / lost_count — won (lost) deals with closed_on in the period;
    win_rate = won_count / (won_count + lost_count), None when no deal closed;
    target_amount — base contract-amount target of the scope prorated to the period (see
    docs/KPIS.md), attainment = won_amount / target_amount (None without target);
    open_pipeline / weighted_pipeline / open_deal_count — deals in an open stage *now*:
    Σ amount and Σ amount × probability / 100; activities_done — activities with done_at
    in the period; overdue_activities — planned (done_at null) with planned_at < now;
    overdue_customers — owned, unarchived customers with next_contact_on < today;
    new_customers — customers created in the period that someone in scope owns (the public
    pool's are leads, not counted: the same number as the Performance page and the target
    metric); collections — Σ payments received in the period on contracts owned in scope.
    """
    tz = company_tz_name(session)
    today = today or local_today(tz)
    now = now or utcnow()
    ids = scope_user_ids(session, actor, scope)

    # won revenue, activities, new customers and collections: the target metrics' one
    # computation (actuals.metric_total), as on the Performance page and in the meeting;
    # won / lost counts: the win rate's one statement (kpis.closed_counts)
    def actual(metric: str):
        return metric_total(session, actor, metric=metric, start=period.start, end=period.end, owner_ids=ids)

    won_amount = actual("contract_amount")
    won_count, lost_count = closed_counts(session, ids, period)

    open_row = session.execute(
        select(func.count(), func.sum(Deal.amount), func.sum(weighted_amount(dialect_of(session))))
        .select_from(Deal)
        .join(Stage, Stage.id == Deal.stage_id)
        .where(Stage.kind == "open", owner_in(Deal.owner_id, ids))
    ).one()

    activities_done = actual("activities")
    overdue_activities = session.scalar(
        select(func.count()).select_from(Activity).where(
            owner_in(Activity.owner_id, ids), Activity.done_at.is_(None), Activity.planned_at < now
        )
    )

    customer_owner = Customer.owner_id.is_not(None) if ids is None else owner_in(Customer.owner_id, ids)
    overdue_customers = session.scalar(
        select(func.count()).select_from(Customer).where(customer_owner, Customer.archived.is_(False), Customer.next_contact_on < today)
    )
    new_customers = actual("new_customers")
    collections = actual("collections")

    target = scope_target(session, actor, scope=scope, period=period)
    return OverviewKPIs(
        period=period,
        scope=scope,
        won_amount=won_amount,
        won_count=won_count,
        lost_count=lost_count,
        win_rate=ratio(won_count, won_count + lost_count),
        target_amount=target,
        attainment=ratio(won_amount, target),
        open_pipeline=money(open_row[1]),
        weighted_pipeline=money(open_row[2]),
        open_deal_count=int(open_row[0] or 0),
        activities_done=int(activities_done or 0),
        overdue_activities=int(overdue_activities or 0),
        overdue_customers=int(overdue_customers or 0),
        new_customers=int(new_customers or 0),
        collections=money(collections),
    )


def monthly_won_trend(session: Session, actor: Actor, *, start: date, end: date, scope: str = "me") -> pd.DataFrame:
    """Won revenue per calendar month for ``[start, end)``: one row per month (also months
    with nothing won) — month (first day, date), won_amount (float), won_count (int),
    target_amount (float, NaN when the scope has no target for that month)."""
    period = Period(start, end)
    ids = scope_user_ids(session, actor, scope)
    owners, dialect = owner_shape(ids), dialect_of(session)

    def build():
        bucket = month_bucket(Deal.closed_on, dialect).label("month")
        return (select(bucket, func.sum(Deal.amount), func.count())
                .where(stage_in_bound("won"), owner_scope_term(Deal.owner_id, owners), *in_period_bound(Deal.closed_on))
                .group_by(bucket))

    rows = session.execute(shaped(("overview.won_trend", owners, dialect), build),
                           {"won": stage_ids(session, "won"), "lo": period.start, "hi": period.end,
                            **owner_params(ids)}).all()
    found = {m: (money(amount), int(count)) for m, amount, count in rows}
    months = month_starts(period)
    targets = monthly_scope_targets(session, actor, scope=scope, months=months)
    return pd.DataFrame(
        {
            "month": months,
            "won_amount": [float(found.get(m, (ZERO, 0))[0]) for m in months],
            "won_count": pd.array([found.get(m, (ZERO, 0))[1] for m in months], dtype="int64"),
            "target_amount": [float(targets[m]) if targets.get(m) is not None else float("nan") for m in months],
        }
    )




_OPEN_STAGES = (select(Stage.id, Stage.name, Stage.sequence, Stage.active).where(Stage.kind == "open")
                .order_by(Stage.sequence, Stage.name))


@lru_cache(maxsize=16)
def _pipeline_statement(owners: str, dialect: str):
    """Count / Σ amount / Σ weighted per open stage (owners a bound parameter), built once per
    owner-scope shape: building the expression tree cost more than running it. An inner join
    from the open stages: owner and stage ranges of the covering board indexes (owner first
    when scoped); stages without deals are added by the caller."""
    return (
        select(Stage.id, func.count(), func.coalesce(func.sum(Deal.amount), 0),
               func.coalesce(func.sum(weighted_amount(dialect)), 0))
        .select_from(Stage)
        .join(Deal, Deal.stage_id == Stage.id)
        .where(Stage.kind == "open", owner_scope_term(Deal.owner_id, owners))
        .group_by(Stage.id)
    )


def pipeline_by_stage(session: Session, actor: Actor, *, scope: str = "me") -> pd.DataFrame:
    """Open pipeline per open stage (in stage order), now: stage, sequence, count (deals),
    amount (Σ amount), weighted (Σ amount × deal probability / 100). Every active open stage
    appears, also with no deals (an inactive one only while it still holds deals)."""
    ids = scope_user_ids(session, actor, scope)
    conn = session.connection()  # Core execution: plain rows, no ORM bookkeeping
    stages = conn.execute(_OPEN_STAGES).all()
    params: dict = {}
    owners = owner_scope_key(ids, params)
    found = {r[0]: r[1:] for r in conn.execute(_pipeline_statement(owners, conn.dialect.name), params).all()} \
        if stages else {}
    rows = [(st.name, st.sequence, *found.get(st.id, (0, 0, 0))) for st in stages if st.active or st.id in found]
    return pd.DataFrame(
        {
            "stage": [r[0] for r in rows],
            "sequence": np.array([r[1] for r in rows], dtype="int64"),
            "count": np.array([int(r[2]) for r in rows], dtype="int64"),
            "amount": [float(money(r[3])) for r in rows],
            "weighted": [float(money(r[4])) for r in rows],
        }
    )
