"""The KPI report (``salesops report kpi``): one row in total, per owner or per team."""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, literal_column, select
from sqlmodel import Session

from services.access import Actor, owner_in
from services.analytics.common import (
    company_tz_name,
    days_between,
    dialect_of,
    float2,
    in_period,
    money,
    ratio,
    scope_user_ids,
)
from services.models import Activity, Deal, Stage, Team, User
from services.periods import Period


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
    dialect = dialect_of(session)
    ids = scope_user_ids(session, actor, scope)
    lo, hi = period.utc_bounds(company_tz_name(session))
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
    ).where(owner_in(Deal.owner_id, ids), in_period(Deal.closed_on, period), Stage.kind.in_(("won", "lost")))
    deals = {r[0]: r[1:] for r in session.execute(deal_stmt.group_by(dkey) if by else deal_stmt).all()}

    akey = key_for(Activity.owner_id).label("k")
    act_stmt = keyed(select(akey, func.count()).select_from(Activity), Activity.owner_id).where(
        owner_in(Activity.owner_id, ids), Activity.done_at >= lo, Activity.done_at < hi
    )
    activities = dict(session.execute(act_stmt.group_by(akey) if by else act_stmt).all())

    def row(k) -> dict:
        amount, won_n, lost_n, days = deals.get(k, (None, 0, 0, None))
        won_n, lost_n, amount = int(won_n or 0), int(lost_n or 0), money(amount)
        return {
            "won_amount": float2(amount),
            "won_count": won_n,
            "lost_count": lost_n,
            "win_rate": ratio(won_n, won_n + lost_n),
            "avg_won_amount": float2(amount / won_n) if won_n else None,
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


