"""Sales analytics: Overview KPIs, monthly won trend, KPI report, pipeline by stage.

Every number is one SQL aggregation (SQLAlchemy Core ``select … group_by``) filtered by
``services.access``; nothing loads whole tables into Python. The formulas are written out in
docs/KPIS.md; each function's docstring repeats its rule.

Scopes (``scope=``):
- ``"me"``   — records the actor owns;
- ``"team"`` — records owned by the users of the teams the actor manages (their subtree),
  plus the actor's own; for a rep the same as ``"me"``;
- ``"all"``  — everything the actor may see (director / admin: everything; manager: their
  teams; rep: own).
The scope is always intersected with ``access.visible_user_ids``: a scope never widens what
a role may see.

Deal semantics: a deal is won / lost when its stage's ``kind`` is won / lost; ``closed_on``
is its close date. Won revenue of a period = sum of ``amount`` of won deals with
``closed_on`` in the period. Periods are half-open ``[start, end)`` (``end`` exclusive);
timestamp columns (activity ``done_at``, customer ``created_at``) are compared with the
period's local midnights in the company time zone (setting ``timezone``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from sqlalchemy import Date, and_, case, cast, func, literal_column, or_, select, true, type_coerce
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from services import settings
from services.access import Actor, managed_team_ids, owner_in, team_subtree_ids, visible_user_ids
from services.models import Activity, Contract, Customer, Deal, Payment, Stage, Target, Team, User, utcnow
from services.periods import Period, add_months, local_today, month_starts

SCOPES = ("me", "team", "all")
CENT = Decimal("0.01")
ZERO = Decimal("0")


# ---------------------------------------------------------------------------
# helpers


def _money(value) -> Decimal:
    """SQL sums come back as Decimal (PostgreSQL) or float (SQLite REAL): normalise to
    Decimal with 2 places."""
    if value is None:
        return ZERO.quantize(CENT)
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _float2(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _ratio(num, den) -> float | None:
    if not den:
        return None
    return float(Decimal(str(num)) / Decimal(str(den)))


def month_bucket(col, dialect_name: str):
    """SQL expression for the first day of ``col``'s month, typed as a date, for
    ``group_by``: ``strftime`` on SQLite, ``date_trunc`` on PostgreSQL. Literal (not bound)
    arguments so the same expression text appears in SELECT and GROUP BY."""
    if dialect_name == "sqlite":
        return type_coerce(func.strftime(literal_column("'%Y-%m-01'"), col), Date)
    return cast(func.date_trunc(literal_column("'month'"), col), Date)


def days_between(later, earlier, dialect_name: str):
    """SQL expression for ``later − earlier`` in days (both date columns)."""
    if dialect_name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return later - earlier


def _weighted_amount(dialect_name: str):
    """amount × probability / 100 (float division on SQLite, where whole amounts are
    stored as integers; exact numeric on PostgreSQL)."""
    return Deal.amount * Deal.probability / (100.0 if dialect_name == "sqlite" else 100)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _company_tz(session: Session) -> str:
    return settings.get(session, "timezone") or "UTC"


def scope_user_ids(session: Session, actor: Actor, scope: str) -> set[int] | None:
    """Owner ids whose records count for ``scope``; ``None`` means every owner. Always
    within what the actor may see."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    visible = visible_user_ids(session, actor)
    if scope == "me" or (scope == "team" and actor.role == "rep"):
        return {actor.id} if actor.id is not None else set()
    if scope == "all":
        return visible
    teams = managed_team_ids(session, actor)
    ids = set(session.scalars(select(User.id).where(User.team_id.in_(sorted(teams)))).all()) if teams else set()
    if actor.id is not None:
        ids.add(actor.id)
    return ids if visible is None else ids & visible


def _in_period(col, period: Period) -> ColumnElement:
    return and_(col >= period.start, col < period.end)


# ---------------------------------------------------------------------------
# targets


def _target_base():
    return and_(Target.metric == "contract_amount", Target.tier == "base")


def _topmost(session: Session, team_ids: set[int]) -> set[int]:
    """Of ``team_ids``, those with no ancestor also in ``team_ids`` (avoids counting a
    region's target and its teams' targets twice)."""
    parents = dict(session.execute(select(Team.id, Team.parent_id)).all())
    out = set()
    for tid in team_ids:
        p, covered = parents.get(tid), False
        while p is not None:
            if p in team_ids:
                covered = True
                break
            p = parents.get(p)
        if not covered:
            out.add(tid)
    return out


def _target_candidates(session: Session, actor: Actor, scope: str, ids: set[int] | None, window) -> list:
    """Target filters for the scope in order of preference (the first with rows wins):
    me → the actor's user targets; team → targets of the topmost targeted teams the actor
    manages plus user targets of scope users outside those teams; all (director / admin) →
    company targets, else the same team + user rule over every team."""
    user_level = and_(Target.scope == "user", owner_in(Target.user_id, ids))
    if scope == "me" or actor.role == "rep":
        return [user_level]
    if scope == "all" and ids is None:
        teams = set(session.scalars(select(Team.id)).all())
        first = [Target.scope == "company"]
    else:
        teams = managed_team_ids(session, actor)
        first = []
    targeted = set(
        session.scalars(
            select(Target.team_id)
            .where(_target_base(), window, Target.scope == "team", owner_in(Target.team_id, teams))
            .group_by(Target.team_id)
        ).all()
    ) - {None}
    top = _topmost(session, targeted)
    covered_teams = team_subtree_ids(session, top)
    covered_users = (
        set(session.scalars(select(User.id).where(User.team_id.in_(sorted(covered_teams)))).all()) if covered_teams else set()
    )
    uncovered_users = and_(Target.scope == "user", owner_in(Target.user_id, ids), Target.user_id.not_in(sorted(covered_users)))
    team_level = and_(Target.scope == "team", owner_in(Target.team_id, top))
    return [*first, or_(team_level, uncovered_users)]


def _targets_by_month(session: Session, actor: Actor, scope: str, ids: set[int] | None, months: list[date]) -> dict[date, Decimal | None]:
    """Monthly target (metric contract_amount, tier base) of the scope. Per target holder
    (company, team or user) and month: its month target if it has one, else its quarter
    target / 3, else its year target / 12; the scope's monthly target is the sum over its
    holders (see ``_target_candidates`` for which holders count); None when none has one."""
    if not months:
        return {}
    window = and_(Target.period_start >= add_months(months[0], -11), Target.period_start < add_months(months[-1], 1))
    rows: list = []
    for cond in _target_candidates(session, actor, scope, ids, window):
        rows = session.execute(
            select(Target.scope, Target.team_id, Target.user_id, Target.period_kind, Target.period_start, func.sum(Target.value))
            .where(_target_base(), window, cond)
            .group_by(Target.scope, Target.team_id, Target.user_id, Target.period_kind, Target.period_start)
        ).all()
        if rows:
            break
    spans = {"month": 1, "quarter": 3, "year": 12}
    # holder → kind → month → value
    shares: dict[tuple, dict[str, dict[date, Decimal]]] = {}
    for t_scope, team_id, user_id, kind, start, value in rows:
        if kind not in spans:
            continue
        per_kind = shares.setdefault((t_scope, team_id, user_id), {}).setdefault(kind, {})
        share = _money(value) / spans[kind]
        for i in range(spans[kind]):
            m = add_months(start, i)
            per_kind[m] = per_kind.get(m, ZERO) + share
    out: dict[date, Decimal | None] = {}
    for m in months:
        values = [
            next((by_kind[k][m] for k in ("month", "quarter", "year") if m in by_kind.get(k, {})), None)
            for by_kind in shares.values()
        ]
        values = [v for v in values if v is not None]
        out[m] = sum(values, ZERO).quantize(CENT, rounding=ROUND_HALF_UP) if values else None
    return out


def _period_target(month_targets: dict[date, Decimal | None], period: Period) -> Decimal | None:
    """Σ monthly target × (days of the month inside the period / days of the month)."""
    total, any_target = ZERO, False
    for m, value in month_targets.items():
        if value is None:
            continue
        nxt = add_months(m, 1)
        overlap = (min(nxt, period.end) - max(m, period.start)).days
        if overlap <= 0:
            continue
        any_target = True
        total += value * Decimal(overlap) / Decimal((nxt - m).days)
    return total.quantize(CENT, rounding=ROUND_HALF_UP) if any_target else None


# ---------------------------------------------------------------------------
# Overview


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
                d[k] = _float2(v)
        d["overdue_followups"] = self.overdue_followups
        return d


def _closed_deals(session: Session, owner: ColumnElement, period: Period) -> tuple[Decimal, int, int]:
    won, lost = Stage.kind == "won", Stage.kind == "lost"
    row = session.execute(
        select(
            func.sum(case((won, Deal.amount), else_=0)),
            func.count(case((won, 1))),
            func.count(case((lost, 1))),
        )
        .select_from(Deal)
        .join(Stage, Stage.id == Deal.stage_id)
        .where(owner, _in_period(Deal.closed_on, period), Stage.kind.in_(("won", "lost")))
    ).one()
    return _money(row[0]), int(row[1] or 0), int(row[2] or 0)


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
    new_customers — customers created in the period; collections — Σ payments received in
    the period on contracts owned in scope.
    """
    tz = _company_tz(session)
    today = today or local_today(tz)
    now = now or utcnow()
    ids = scope_user_ids(session, actor, scope)
    lo, hi = period.utc_bounds(tz)

    won_amount, won_count, lost_count = _closed_deals(session, owner_in(Deal.owner_id, ids), period)

    open_row = session.execute(
        select(func.count(Deal.id), func.sum(Deal.amount), func.sum(_weighted_amount(_dialect(session))))
        .select_from(Deal)
        .join(Stage, Stage.id == Deal.stage_id)
        .where(Stage.kind == "open", owner_in(Deal.owner_id, ids))
    ).one()

    activities_done = session.scalar(
        select(func.count(Activity.id)).where(owner_in(Activity.owner_id, ids), Activity.done_at >= lo, Activity.done_at < hi)
    )
    overdue_activities = session.scalar(
        select(func.count(Activity.id)).where(
            owner_in(Activity.owner_id, ids), Activity.done_at.is_(None), Activity.planned_at < now
        )
    )

    customer_owner = Customer.owner_id.is_not(None) if ids is None else owner_in(Customer.owner_id, ids)
    overdue_customers = session.scalar(
        select(func.count(Customer.id)).where(customer_owner, Customer.archived.is_(False), Customer.next_contact_on < today)
    )
    new_customer_owner = true() if ids is None else owner_in(Customer.owner_id, ids)
    new_customers = session.scalar(
        select(func.count(Customer.id)).where(new_customer_owner, Customer.created_at >= lo, Customer.created_at < hi)
    )

    collections = session.scalar(
        select(func.sum(Payment.amount))
        .select_from(Payment)
        .join(Contract, Contract.id == Payment.contract_id)
        .where(owner_in(Contract.owner_id, ids), _in_period(Payment.received_on, period))
    )

    target = _period_target(_targets_by_month(session, actor, scope, ids, month_starts(period)), period)
    return OverviewKPIs(
        period=period,
        scope=scope,
        won_amount=won_amount,
        won_count=won_count,
        lost_count=lost_count,
        win_rate=_ratio(won_count, won_count + lost_count),
        target_amount=target,
        attainment=_ratio(won_amount, target),
        open_pipeline=_money(open_row[1]),
        weighted_pipeline=_money(open_row[2]),
        open_deal_count=int(open_row[0] or 0),
        activities_done=int(activities_done or 0),
        overdue_activities=int(overdue_activities or 0),
        overdue_customers=int(overdue_customers or 0),
        new_customers=int(new_customers or 0),
        collections=_money(collections),
    )


def monthly_won_trend(session: Session, actor: Actor, *, start: date, end: date, scope: str = "me") -> pd.DataFrame:
    """Won revenue per calendar month for ``[start, end)``: one row per month (also months
    with nothing won) — month (first day, date), won_amount (float), won_count (int),
    target_amount (float, NaN when the scope has no target for that month)."""
    period = Period(start, end)
    ids = scope_user_ids(session, actor, scope)
    bucket = month_bucket(Deal.closed_on, _dialect(session)).label("month")
    rows = session.execute(
        select(bucket, func.sum(Deal.amount), func.count(Deal.id))
        .select_from(Deal)
        .join(Stage, Stage.id == Deal.stage_id)
        .where(Stage.kind == "won", owner_in(Deal.owner_id, ids), _in_period(Deal.closed_on, period))
        .group_by(bucket)
    ).all()
    found = {m: (_money(amount), int(count)) for m, amount, count in rows}
    months = month_starts(period)
    targets = _targets_by_month(session, actor, scope, ids, months)
    return pd.DataFrame(
        {
            "month": months,
            "won_amount": [float(found.get(m, (ZERO, 0))[0]) for m in months],
            "won_count": pd.array([found.get(m, (ZERO, 0))[1] for m in months], dtype="int64"),
            "target_amount": [float(targets[m]) if targets.get(m) is not None else float("nan") for m in months],
        }
    )


# ---------------------------------------------------------------------------
# KPI report (CLI `salesops report kpi`, performance pages)


def kpi_report(
    session: Session,
    actor: Actor,
    *,
    start: date,
    end: date,
    by: str | None = None,
    scope: str = "all",
) -> list[dict]:
    """KPIs for deals closed and activities done in ``[start, end)`` (``end`` exclusive),
    for everything the actor sees (``scope="all"``) or a narrower scope; one row in total
    (``by=None``), per owner or per owner's team. Keys: won_amount, won_count, lost_count,
    win_rate (won / (won + lost)), avg_won_amount (won_amount / won_count),
    avg_days_to_close (mean closed_on − opened_on of won deals), activity_count. JSON-ready:
    money as float rounded to 2 places, ratios as floats, None when undefined."""
    if by not in (None, "owner", "team"):
        raise ValueError(f"unknown grouping {by!r}")
    period = Period(start, end)
    dialect = _dialect(session)
    ids = scope_user_ids(session, actor, scope)
    lo, hi = period.utc_bounds(_company_tz(session))
    won = Stage.kind == "won"

    def key_for(owner_col):
        if by == "owner":
            return owner_col
        if by == "team":
            return User.team_id
        return literal_column("0")

    def keyed(stmt, owner_col):
        return stmt.join(User, User.id == owner_col) if by == "team" else stmt

    dkey = key_for(Deal.owner_id).label("k")
    deal_stmt = keyed(
        select(
            dkey,
            func.sum(case((won, Deal.amount), else_=0)),
            func.count(case((won, 1))),
            func.count(case((Stage.kind == "lost", 1))),
            func.sum(case((won, days_between(Deal.closed_on, Deal.opened_on, dialect)))),
        )
        .select_from(Deal)
        .join(Stage, Stage.id == Deal.stage_id),
        Deal.owner_id,
    ).where(owner_in(Deal.owner_id, ids), _in_period(Deal.closed_on, period), Stage.kind.in_(("won", "lost")))
    deals = {r[0]: r[1:] for r in session.execute(deal_stmt.group_by(dkey) if by else deal_stmt).all()}

    akey = key_for(Activity.owner_id).label("k")
    act_stmt = keyed(select(akey, func.count(Activity.id)).select_from(Activity), Activity.owner_id).where(
        owner_in(Activity.owner_id, ids), Activity.done_at >= lo, Activity.done_at < hi
    )
    activities = dict(session.execute(act_stmt.group_by(akey) if by else act_stmt).all())

    def row(k) -> dict:
        amount, won_n, lost_n, days = deals.get(k, (None, 0, 0, None))
        won_n, lost_n, amount = int(won_n or 0), int(lost_n or 0), _money(amount)
        return {
            "won_amount": _float2(amount),
            "won_count": won_n,
            "lost_count": lost_n,
            "win_rate": _ratio(won_n, won_n + lost_n),
            "avg_won_amount": _float2(amount / won_n) if won_n else None,
            "avg_days_to_close": round(float(days) / won_n, 1) if won_n and days is not None else None,
            "activity_count": int(activities.get(k, 0) or 0),
        }

    if by is None:
        return [{"scope": scope, "start": start.isoformat(), "end": end.isoformat(), **row(0)}]

    keys = set(deals) | set(activities)
    if by == "owner":
        # active reps in scope appear even with nothing closed (a leaderboard shows zeros)
        reps = select(User.id).where(User.active.is_(True), User.role == "rep", owner_in(User.id, ids))
        keys |= set(session.scalars(reps).all())
        names = {
            uid: (username, display, team)
            for uid, username, display, team in session.execute(
                select(User.id, User.username, User.display_name, User.team_id).where(User.id.in_(sorted(keys)))
            ).all()
        }
        out = [{"owner_id": k, "username": names[k][0], "display_name": names[k][1], "team_id": names[k][2], **row(k)}
               for k in keys if k in names]
        out.sort(key=lambda r: (-r["won_amount"], r["display_name"]))
        return out
    team_names = dict(session.execute(select(Team.id, Team.name).where(Team.id.in_(sorted(k for k in keys if k is not None)))).all())
    out = [{"team_id": k, "team": team_names.get(k), **row(k)} for k in keys]
    out.sort(key=lambda r: (-r["won_amount"], r["team"] or ""))
    return out


# ---------------------------------------------------------------------------
# Pipeline


def pipeline_by_stage(session: Session, actor: Actor, *, scope: str = "me") -> pd.DataFrame:
    """Open pipeline per open stage (in stage order), now: stage, sequence, count (deals),
    amount (Σ amount), weighted (Σ amount × deal probability / 100). Every active open stage
    appears, also with no deals."""
    ids = scope_user_ids(session, actor, scope)
    count = func.count(Deal.id)
    rows = session.execute(
        select(
            Stage.name,
            Stage.sequence,
            count,
            func.coalesce(func.sum(Deal.amount), 0),
            func.coalesce(func.sum(_weighted_amount(_dialect(session))), 0),
        )
        .select_from(Stage)
        .outerjoin(Deal, and_(Deal.stage_id == Stage.id, owner_in(Deal.owner_id, ids)))
        .where(Stage.kind == "open")
        .group_by(Stage.id, Stage.name, Stage.sequence, Stage.active)
        .having(or_(Stage.active.is_(True), count > 0))
        .order_by(Stage.sequence, Stage.name)
    ).all()
    return pd.DataFrame(
        {
            "stage": [r[0] for r in rows],
            "sequence": pd.array([r[1] for r in rows], dtype="int64"),
            "count": pd.array([int(r[2]) for r in rows], dtype="int64"),
            "amount": [float(_money(r[3])) for r in rows],
            "weighted": [float(_money(r[4])) for r in rows],
        }
    )
