"""The forecast: open pipeline by expected close month (weighted, commit, best case) next to
the month's target; weekly snapshots of it; forecast accuracy and close-date slippage (the
formulas in docs/KPIS.md, "Forecast").

- weighted = Σ amount × probability ÷ 100 of open deals expected to close in the month;
- commit = won in the month + Σ amount of open deals at or above the commit probability
  (setting ``forecast_commit_probability``, Admin → Settings);
- best case = won in the month + Σ amount of every open deal expected in the month.
Open deals whose expected close is already past count in the current month (they are still
expected, just late); deals without an expected close are left out; without an amount they
count in the number of deals only.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Date, Integer, bindparam, case, cast, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from services import settings
from services.access import (
    Actor,
    managed_team_ids,
    owner_in,
    owner_params,
    owner_shape,
    team_subtree_ids,
    visible_user_ids,
)
from services.analytics.common import ZERO, dialect_of, float2, in_period, money, month_bucket, ratio
from services.analytics.filters import DealFilter, deal_conditions_bound, deal_filter_shape, filter_owner_ids
from services.analytics.targets import monthly_scope_targets
from services.clock import company_today
from services.db import shaped
from services.models import Deal, DealHistory, ForecastSnapshot, Stage, Team, User
from services.models.sales import CLOSE_MOVE
from services.periods import Period, add_months, month_start

SNAPSHOT_MONTHS = 3


def commit_probability(session: Session) -> int:
    """The commit threshold in percent (setting ``forecast_commit_probability``)."""
    return int(settings.get(session, "forecast_commit_probability") or settings.DEFAULTS["forecast_commit_probability"])


def _month_rows(session: Session, shape: tuple, params: dict, first: date, months: int, threshold: int,
                by_owner: bool):
    """(owner or None, month) → [open count, pipeline, weighted, commit-open, won] from two
    grouped queries (open deals by expected-close month, won deals by close month) of the
    deals of a filter shape (``filters.deal_filter_shape``) and its ``params``."""
    dialect = dialect_of(session)
    open_stmt, won_stmt = shaped(("forecast.months", shape, dialect, by_owner),
                                 lambda: _month_statements(shape, dialect, by_owner))
    params = {**params, "first": first, "end": add_months(first, months), "threshold": threshold}
    out: dict[tuple, list] = {}
    for row in session.execute(open_stmt, params).all():
        owner = row[0] if by_owner else None
        m, n, pipe, w, commit = row[-5:]
        m = m if isinstance(m, date) else date.fromisoformat(str(m)[:10])
        out[(owner, m)] = [int(n), money(pipe), money(w), money(commit), money(0)]
    for row in session.execute(won_stmt, params).all():
        owner = row[0] if by_owner else None
        m, won = row[-2:]
        m = m if isinstance(m, date) else date.fromisoformat(str(m)[:10])
        out.setdefault((owner, m), [0, money(0), money(0), money(0), money(0)])[4] = money(won)
    return out


def _month_statements(shape: tuple, dialect: str, by_owner: bool):
    """(open by expected-close month, won by close month) of ``_month_rows`` on the bound
    ``first`` / ``end`` (the months' range) and ``threshold`` (commit probability)."""
    first, end = bindparam("first", type_=Date), bindparam("end", type_=Date)
    conds = deal_conditions_bound(shape)
    expected = case((Deal.expected_close < first, first), else_=Deal.expected_close)
    bucket = month_bucket(cast(expected, Date) if dialect != "sqlite" else expected, dialect).label("month")
    weighted = Deal.amount * Deal.probability / (100.0 if dialect == "sqlite" else 100)
    keys = [Deal.owner_id] if by_owner else []
    open_stmt = (
        select(*keys, bucket, func.count(), func.sum(Deal.amount), func.sum(weighted),
               func.sum(case((Deal.probability >= bindparam("threshold", type_=Integer), Deal.amount), else_=0)))
        # open stages as a list of ids, not a join, and the close-date bound on an expression
        # (no date set: not counted): the planner then reads the stage-led board index (which
        # carries amount, owner, expected close and probability) instead of walking every
        # deal, closed ones too, by expected close
        .where(*conds, Deal.stage_id.in_(select(Stage.id).where(Stage.kind == "open")),
               func.coalesce(Deal.expected_close, end) < end)
        .group_by(*keys, bucket))
    won_bucket = month_bucket(Deal.closed_on, dialect).label("month")
    won_stmt = (select(*keys, won_bucket, func.sum(Deal.amount)).join(Stage, Stage.id == Deal.stage_id)
                .where(*conds, Stage.kind == "won", Deal.closed_on >= first, Deal.closed_on < end)
                .group_by(*keys, won_bucket))
    return open_stmt, won_stmt


def _row(month: date, values: list | None, target: Decimal | None) -> dict:
    n, pipe, w, commit_open, won = values or [0, money(0), money(0), money(0), money(0)]
    return {"month": month, "open_count": n, "pipeline": pipe, "weighted": w, "won": won,
            "commit": commit_open + won, "best_case": pipe + won, "target": target}


def forecast(session: Session, actor: Actor, *, months: int = 3, flt: DealFilter | None = None,
             today: date | None = None) -> list[dict]:
    """Per expected-close month from this one (company time zone), ``months`` months: open
    deals, pipeline, weighted, won so far, commit, best case (module docstring) and the
    scope's base contract-amount target (None without one)."""
    if not 1 <= months <= 24:
        raise ValueError("months must be 1..24")
    flt = flt or DealFilter()
    today = today or company_today(session)
    first = month_start(today)
    month_list = [add_months(first, i) for i in range(months)]
    shape, params = deal_filter_shape(session, actor, flt)
    rows = _month_rows(session, shape, params, first, months, commit_probability(session), False)
    targets = monthly_scope_targets(session, actor, scope=flt.scope, months=month_list)
    return [_row(m, rows.get((None, m)), targets.get(m)) for m in month_list]


def forecast_json(rows: list[dict]) -> list[dict]:
    """Rows of ``forecast`` for JSON: money as float, months as ISO dates."""
    return [{k: (float2(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, date) else v)
             for k, v in r.items()} for r in rows]


# ---------------------------------------------------------------------------
# weekly snapshots


def _scope_members(session: Session, actor: Actor) -> dict[str, set[int] | None]:
    """Snapshot scopes the actor may take, with their owners: "company" (director / admin),
    "team:<id>" for every team they see, "user:<id>" for every rep they see."""
    visible = visible_user_ids(session, actor)
    scopes: dict[str, set[int] | None] = {}
    if visible is None:
        scopes["company"] = None
        teams = set(session.scalars(select(Team.id)).all())
    else:
        teams = managed_team_ids(session, actor)
    members = dict(session.execute(select(User.id, User.team_id).where(User.active.is_(True))).all())
    for tid in sorted(teams):
        sub = team_subtree_ids(session, {tid})
        ids = {u for u, t in members.items() if t in sub}
        scopes[f"team:{tid}"] = ids if visible is None else ids & visible
    reps = session.scalars(select(User.id).where(User.role == "rep", User.active.is_(True), owner_in(User.id, visible)))
    for uid in reps.all():
        scopes[f"user:{uid}"] = {uid}
    return scopes


def take_snapshot(session: Session, actor: Actor, *, today: date | None = None) -> int:
    """Record this week's forecast (this month and the next two) for every scope the actor
    sees: the company, each team, each rep. At most one snapshot per scope, month and company
    week — a unique constraint, inserts that yield on conflict — so calling it again the
    same week (on every app start, from the CLI, from two servers at once) adds nothing.
    Returns the number of snapshot rows written."""
    today = today or company_today(session)
    week = today - timedelta(days=today.weekday())
    first = month_start(today)
    visible = visible_user_ids(session, actor)
    rows = _month_rows(session, (owner_shape(visible), False, False, False), owner_params(visible), first,
                       SNAPSHOT_MONTHS, commit_probability(session), True)
    values = []
    for key, owners in _scope_members(session, actor).items():
        scope, _, ref = key.partition(":")
        for i in range(SNAPSHOT_MONTHS):
            m = add_months(first, i)
            agg = [0, ZERO, ZERO, ZERO, ZERO]
            for (owner, month), v in rows.items():
                if month == m and (owners is None or owner in owners):
                    agg = [a + b for a, b in zip(agg, v, strict=True)]
            r = _row(m, agg, None)
            values.append({"taken_on": today, "week_start": week, "scope_key": key, "scope": scope,
                           "team_id": int(ref) if scope == "team" else None,
                           "user_id": int(ref) if scope == "user" else None,
                           "period_start": m, "period_end": add_months(m, 1), "weighted_amount": r["weighted"],
                           "commit_amount": r["commit"], "best_case_amount": r["best_case"],
                           "won_to_date": r["won"]})
    if not values:
        return 0
    make = pg_insert if dialect_of(session) == "postgresql" else sqlite_insert
    written = 0
    for chunk in range(0, len(values), 500):
        res = session.execute(make(ForecastSnapshot).values(values[chunk:chunk + 500])
                              .on_conflict_do_nothing(index_elements=["scope_key", "week_start", "period_start"])
                              .returning(ForecastSnapshot.id))
        written += len(res.all())
    return written


def forecast_accuracy(session: Session, actor: Actor, *, period: Period) -> list[dict]:
    """Per rep and month of ``period``: the forecast of the month's last snapshot taken
    before it began (else its first one) — won to date + weighted — against what was won in
    it; ``accuracy`` = won ÷ forecast (None when the forecast was 0), ``error`` = won −
    forecast. Only reps the actor may see."""
    visible = visible_user_ids(session, actor)
    snaps = session.execute(
        select(ForecastSnapshot.user_id, ForecastSnapshot.period_start, ForecastSnapshot.taken_on,
               ForecastSnapshot.won_to_date + ForecastSnapshot.weighted_amount)
        .where(ForecastSnapshot.scope == "user", owner_in(ForecastSnapshot.user_id, visible),
               in_period(ForecastSnapshot.period_start, period))
        .order_by(ForecastSnapshot.user_id, ForecastSnapshot.period_start, ForecastSnapshot.taken_on)).all()
    chosen: dict[tuple[int, date], Decimal] = {}
    for uid, month, taken, predicted in snaps:
        key = (uid, month)
        if taken <= month or key not in chosen:
            chosen[key] = money(predicted)
    if not chosen:
        return []
    dialect = dialect_of(session)
    bucket = month_bucket(Deal.closed_on, dialect).label("month")
    won = {(o, m if isinstance(m, date) else date.fromisoformat(str(m)[:10])): money(v)
           for o, m, v in session.execute(
               select(Deal.owner_id, bucket, func.sum(Deal.amount)).join(Stage, Stage.id == Deal.stage_id)
               .where(Stage.kind == "won", in_period(Deal.closed_on, period),
                      owner_in(Deal.owner_id, {u for u, _ in chosen}))
               .group_by(Deal.owner_id, bucket)).all()}
    names = dict(session.execute(select(User.id, User.display_name)).all())
    out = []
    for (uid, month), predicted in sorted(chosen.items()):
        actual = won.get((uid, month), money(0))
        out.append({"user_id": uid, "name": names.get(uid), "month": month, "forecast": predicted, "won": actual,
                    "accuracy": ratio(actual, predicted), "error": actual - predicted})
    return out


def close_date_slippage(session: Session, actor: Actor, *, period: Period, flt: DealFilter | None = None) -> list[dict]:
    """Per rep, from the expected-close rows of ``DealHistory`` changed in ``period``
    (company days): ``moves`` (expected close moved later), ``deals`` moved, ``avg_days``
    moved (mean of new − old over those moves), ``pulled_in`` (moved earlier)."""
    flt = flt or DealFilter()
    dialect = dialect_of(session)
    # the partial index's own text (ix_deal_history_close_moves): a bound value would not
    # prove it, and every history row changed in the period was read (483 ms a year here)
    is_date = text(CLOSE_MOVE)
    if dialect == "sqlite":
        moved = func.julianday(DealHistory.new_value) - func.julianday(DealHistory.old_value)
    else:
        moved = cast(case((is_date, DealHistory.new_value)), Date) - cast(case((is_date, DealHistory.old_value)), Date)
    lo, hi = Period(period.start, period.end).utc_bounds(settings.get(session, "timezone") or "UTC")
    ids = filter_owner_ids(session, actor, flt)
    rows = session.execute(
        select(Deal.owner_id, func.count(case((moved > 0, 1))), func.count(func.distinct(case((moved > 0, Deal.id)))),
               func.avg(case((moved > 0, moved))), func.count(case((moved < 0, 1))))
        .select_from(DealHistory).join(Deal, Deal.id == DealHistory.deal_id)
        .where(is_date, DealHistory.old_value.is_not(None), DealHistory.new_value.is_not(None),
               DealHistory.changed_at >= lo, DealHistory.changed_at < hi, owner_in(Deal.owner_id, ids))
        .group_by(Deal.owner_id)).all()
    names = dict(session.execute(select(User.id, User.display_name)).all())
    out = [{"user_id": o, "name": names.get(o), "moves": int(m), "deals": int(d),
            "avg_days": None if a is None else round(float(a), 1), "pulled_in": int(p)} for o, m, d, a, p in rows]
    return sorted(out, key=lambda r: (-r["moves"], r["name"] or ""))


__all__ = ["SNAPSHOT_MONTHS", "close_date_slippage", "commit_probability", "forecast", "forecast_accuracy",
           "forecast_json", "take_snapshot"]
