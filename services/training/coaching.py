"""The coaching loop: each rep's KPIs against their team, the one that lags most mapped to a
course category and a recommended course, and the KPI in equal periods before and after a
completed course.

KPIs per rep over a period (deals by ``closed_on`` / ``opened_on``, activities by ``done_at``):
- win_rate = won ÷ (won + lost) of the deals closed in the period;
- stage_conversion = deals opened in the period that have left the first open stage (now in a
  later stage or won) ÷ deals opened in the period;
- activity_volume = activities done (``analytics.actuals``, metric activities);
- avg_deal_size = won amount ÷ won deals (``analytics.actuals``);
- cycle_length = average days from opened to closed of the won deals (lower is better).
Team value: the mean over the team's reps that have the KPI. Lag = (team − rep) ÷ team (for
cycle length (rep − team) ÷ team); the KPI with the largest positive lag is the rep's gap.
Mapping to a course category: win_rate, cycle_length → sales_skills; stage_conversion →
product_knowledge; avg_deal_size → market_analysis; activity_volume → other. The recommended
course is the first active course of that category (by title) the rep has not completed.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session

from services.access import SYSTEM, Actor, owner_filter, owner_in, visible_user_ids
from services.analytics.actuals import metric_actuals_by_user
from services.analytics.common import days_between, dialect_of, in_period
from services.clock import company_today
from services.errors import NotFound
from services.i18n import t
from services.models import Course, Deal, Enrollment, Stage, User
from services.periods import Period

KPIS = ("win_rate", "stage_conversion", "activity_volume", "avg_deal_size", "cycle_length")
LOWER_IS_BETTER = {"cycle_length"}
CATEGORY_OF = {"win_rate": "sales_skills", "cycle_length": "sales_skills", "stage_conversion": "product_knowledge",
               "avg_deal_size": "market_analysis", "activity_volume": "other"}


def rep_kpis(session: Session, actor: Actor, *, period: Period, user_ids: set[int] | None = None) -> dict[int, dict[str, float | None]]:
    """{user id: {kpi: value or None}} for the reps the actor may see (module docstring)."""
    visible = visible_user_ids(session, actor)
    ids = visible if user_ids is None else (user_ids if visible is None else user_ids & visible)
    reps = set(session.scalars(select(User.id).where(User.role == "rep", owner_in(User.id, ids))).all())
    if not reps:
        return {}
    won_n = metric_actuals_by_user(session, actor, metric="won_deals", start=period.start, end=period.end,
                                  owner_ids=reps)
    won_amt = metric_actuals_by_user(session, actor, metric="contract_amount", start=period.start, end=period.end,
                                    owner_ids=reps)
    acts = metric_actuals_by_user(session, actor, metric="activities", start=period.start, end=period.end,
                                 owner_ids=reps)
    lost = dict(session.execute(
        select(Deal.owner_id, func.count()).join(Stage, Stage.id == Deal.stage_id)
        .where(Stage.kind == "lost", in_period(Deal.closed_on, period), owner_in(Deal.owner_id, reps))
        .group_by(Deal.owner_id)).all())
    first_open = session.scalar(select(func.min(Stage.sequence)).where(Stage.kind == "open"))
    moved = case((or_(Stage.kind == "won", and_(Stage.kind == "open", Stage.sequence > (first_open or 0))), 1),
                 else_=0)
    conv = {uid: (int(m or 0), int(n)) for uid, n, m in session.execute(
        select(Deal.owner_id, func.count(), func.sum(moved)).join(Stage, Stage.id == Deal.stage_id)
        .where(in_period(Deal.opened_on, period), owner_in(Deal.owner_id, reps))
        .group_by(Deal.owner_id)).all()}
    cycle = dict(session.execute(
        select(Deal.owner_id, func.avg(days_between(Deal.closed_on, Deal.opened_on, dialect_of(session))))
        .join(Stage, Stage.id == Deal.stage_id)
        .where(Stage.kind == "won", in_period(Deal.closed_on, period), owner_in(Deal.owner_id, reps))
        .group_by(Deal.owner_id)).all())
    out: dict[int, dict[str, float | None]] = {}
    for uid in reps:
        w, lo = won_n.get(uid, 0), lost.get(uid, 0)
        moved, total = conv.get(uid, (0, 0))
        out[uid] = {
            "win_rate": (w / (w + lo)) if (w + lo) else None,
            "stage_conversion": (moved / total) if total else None,
            "activity_volume": float(acts.get(uid, 0)),
            "avg_deal_size": float(Decimal(won_amt.get(uid, 0)) / w) if w else None,
            "cycle_length": float(cycle[uid]) if cycle.get(uid) is not None else None,
        }
    return out


def lagging_kpi(kpis: dict[str, float | None], team: dict[str, float | None]) -> tuple[str, float] | None:
    """(kpi, lag) of the KPI that lags most behind the team (module docstring); None when
    nothing lags."""
    best: tuple[str, float] | None = None
    for kpi in KPIS:
        mine, theirs = kpis.get(kpi), team.get(kpi)
        if mine is None or not theirs:
            continue
        lag = (mine - theirs) / theirs if kpi in LOWER_IS_BETTER else (theirs - mine) / theirs
        if lag > 0 and (best is None or lag > best[1]):
            best = (kpi, lag)
    return best


def team_means(table: dict[int, dict[str, float | None]], team_of: dict[int, Any]) -> dict[Any, dict[str, float | None]]:
    """Per team: the mean of each KPI over its reps that have it."""
    out: dict[Any, dict[str, float | None]] = {}
    for team in set(team_of.values()):
        members = [table[u] for u in table if team_of.get(u) == team]
        out[team] = {}
        for kpi in KPIS:
            values = [m[kpi] for m in members if m.get(kpi) is not None]
            out[team][kpi] = (sum(values) / len(values)) if values else None
    return out


def recommend(table: dict[int, dict[str, float | None]], team_of: dict[int, Any], courses: list[dict[str, Any]],
              completed: dict[int, set[int]] | None = None) -> dict[int, dict[str, Any]]:
    """Per rep of a KPI ``table``: the lagging KPI, its value and the team's, the course
    category and the recommended course (module docstring). Pure: the test feeds a
    hand-built table."""
    completed = completed or {}
    means = team_means(table, team_of)
    out = {}
    for uid, kpis in table.items():
        team = means.get(team_of.get(uid), {})
        lag = lagging_kpi(kpis, team)
        if lag is None:
            continue
        kpi, gap = lag
        category = CATEGORY_OF[kpi]
        course = next((c for c in sorted(courses, key=lambda c: c["title"])
                       if c["category"] == category and c["id"] not in completed.get(uid, set())), None)
        out[uid] = {"kpi": kpi, "lag": gap, "value": kpis[kpi], "team_value": team[kpi], "category": category,
                    "course_id": course["id"] if course else None, "course": course["title"] if course else None}
    return out


def coaching(session: Session, actor: Actor, *, period: Period) -> list[dict[str, Any]]:
    """One row per rep the actor may see whose KPI lags their team: the KPI, both values, the
    category and the recommended course. The team's value is over all its reps (a rep sees
    their own row only, never a colleague's numbers)."""
    visible = visible_user_ids(session, actor)
    mine = set(session.scalars(select(User.id).where(User.role == "rep", owner_in(User.id, visible))).all())
    if not mine:
        return []
    teams = set(session.scalars(select(User.team_id).where(User.id.in_(sorted(mine)))).all()) - {None}
    members = set(session.scalars(select(User.id).where(User.role == "rep", User.team_id.in_(sorted(teams))))
                  .all()) if teams else set()
    table = rep_kpis(session, SYSTEM, period=period, user_ids=members | mine)
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(sorted(table)))).all()}
    team_of = {uid: users[uid].team_id for uid in table}
    courses = [{"id": c.id, "title": c.title, "category": c.category}
               for c in session.scalars(select(Course).where(Course.active.is_(True))).all()]
    done: dict[int, set[int]] = {}
    for uid, cid in session.execute(select(Enrollment.user_id, Enrollment.course_id)
                                    .where(Enrollment.user_id.in_(sorted(mine)),
                                           Enrollment.status.in_(("completed", "assigned", "in_progress")))).all():
        done.setdefault(uid, set()).add(cid)
    recs = recommend(table, team_of, courses, done)
    return [{"user_id": uid, "name": users[uid].display_name, **rec}
            for uid, rec in sorted(recs.items(), key=lambda kv: users[kv[0]].display_name) if uid in mine]


def before_after(session: Session, actor: Actor, *, enrollment_id: int, today: date | None = None,
                 max_days: int = 90) -> dict[str, Any]:
    """For a completed enrollment: the rep's KPIs over the equal periods before and after the
    completion day — each as long as the days since completion, at most ``max_days``."""
    row = session.scalars(select(Enrollment).where(Enrollment.id == enrollment_id,
                                                   owner_filter(session, actor, Enrollment.user_id))).first()
    if row is None or row.completed_on is None:
        raise NotFound(t("err.not_allowed", actor.locale))
    today = today or company_today(session)
    days = max(1, min(max_days, (today - row.completed_on).days))
    after = Period(row.completed_on, row.completed_on + timedelta(days=days))
    before = Period(row.completed_on - timedelta(days=days), row.completed_on)
    ids = {row.user_id}
    b = rep_kpis(session, actor, period=before, user_ids=ids).get(row.user_id, {})
    a = rep_kpis(session, actor, period=after, user_ids=ids).get(row.user_id, {})
    return {"days": days, "before": before, "after": after,
            "kpis": [{"kpi": k, "before": b.get(k), "after": a.get(k)} for k in KPIS]}
