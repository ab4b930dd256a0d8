"""Leaderboards and badges, on the achieved values of ``analytics.actuals.metric_actuals``.

Leaderboards are ``analytics.leaderboard``'s ranking: revenue (won amount by close date),
collections (by payment date), activities done, or win rate (won ÷ (won + lost) of deals
closed in the period). Equal values share a rank. A rep sees their own row with their rank
in their team (the others' numbers stay hidden); a manager their teams; a director / admin
everyone.

Badges (computed, never typed in) over the last 12 months: top 3 of a month (by revenue,
company-wide), first won deal, 100 % of the month's base target, course certified — plus
awards stored by hand.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from services.access import SYSTEM, Actor, visible_user_ids
from services.analytics.actuals import metric_actuals
from services.analytics.filters import DealFilter
from services.analytics.leaderboard import leaderboard as analytics_leaderboard
from services.analytics.targets import monthly_scope_targets
from services.clock import company_today
from services.errors import PermissionDenied
from services.i18n import t
from services.models import Award, Course, Deal, Enrollment, Stage, User
from services.periods import Period, add_months, month_start

LEADERBOARD_METRICS = ("revenue", "collections", "activities", "win_rate")


def _ranked(values: dict[int, Any]) -> list[tuple[int, int, Any]]:
    order = sorted(((u, v) for u, v in values.items() if v), key=lambda r: (-r[1], r[0]))
    out, rank, prev = [], 0, None
    for i, (uid, v) in enumerate(order):
        if v != prev:
            rank, prev = i + 1, v
        out.append((rank, uid, v))
    return out


def leaderboard(session: Session, actor: Actor, *, metric: str, period: Period, limit: int = 10) -> list[dict[str, Any]]:
    """Rows ``rank, user_id, name, value`` for ``metric`` in ``period`` — the ranking of
    ``analytics.leaderboard`` (one computation for every page), best ``limit`` with a value; a
    rep gets their own row ranked within their team (module docstring)."""
    if metric not in LEADERBOARD_METRICS:
        raise ValueError(f"unknown leaderboard metric {metric!r}")
    if actor.role == "rep":
        if actor.team_id is None:
            return []
        rows = analytics_leaderboard(session, SYSTEM, period=period, metric=metric,
                                     flt=DealFilter(team_id=actor.team_id))
        rows = [r for r in rows if r["user_id"] == actor.id]
    else:
        rows = [r for r in analytics_leaderboard(session, actor, period=period, metric=metric) if r["value"]][:limit]
    return [{"rank": r["rank"], "user_id": r["user_id"], "name": r["name"], "value": r["value"]} for r in rows]


def badges(session: Session, actor: Actor, *, user_id: int | None = None, today: date | None = None) -> list[dict[str, Any]]:
    """The badges of ``user_id`` (default: the actor) over the last 12 months, newest first:
    ``kind`` (top3 | first_deal | target_100 | certified | award), ``title``, ``on``, ``note``."""
    uid = user_id if user_id is not None else actor.id
    visible = visible_user_ids(session, actor)
    if uid is None or (visible is not None and uid not in visible):
        raise PermissionDenied(t("err.not_allowed", actor.locale))
    user = session.get(User, uid)
    if user is None:
        raise PermissionDenied(t("err.not_allowed", actor.locale))
    loc = actor.locale
    today = today or company_today(session)
    first = add_months(month_start(today), -11)
    window = Period(first, add_months(month_start(today), 1))
    out: list[dict[str, Any]] = []
    monthly = metric_actuals(session, SYSTEM, metric="contract_amount", start=window.start, end=window.end, by="user",
                             monthly=True)
    by_month: dict[date, dict[int, Decimal]] = {}
    for _, r in monthly.iterrows():
        by_month.setdefault(r["month"], {})[int(r["user_id"])] = r["value"]
    for m, values in sorted(by_month.items()):
        for rank, who, _v in _ranked(values):
            if who == uid and rank <= 3:
                out.append({"kind": "top3", "title": t("incentives.badge.top3", loc, rank=rank), "on": m,
                            "note": m.strftime("%Y-%m")})
    first_won = session.scalar(select(func.min(Deal.closed_on)).join(Stage, Stage.id == Deal.stage_id)
                               .where(Stage.kind == "won", Deal.owner_id == uid))
    if first_won:
        out.append({"kind": "first_deal", "title": t("incentives.badge.first_deal", loc), "on": first_won, "note": ""})
    months = [add_months(first, i) for i in range(12)]
    targets = monthly_scope_targets(session, Actor.from_user(user), scope="me", months=months)
    mine = {m: v.get(uid) for m, v in by_month.items()}
    for m in months:
        if targets.get(m) and (mine.get(m) or 0) >= targets[m]:
            out.append({"kind": "target_100", "title": t("incentives.badge.target_100", loc), "on": m,
                        "note": m.strftime("%Y-%m")})
    for title, on in session.execute(select(Course.title, Enrollment.certified_on).join(Course, Course.id == Enrollment.course_id)
                                     .where(Enrollment.user_id == uid, Enrollment.certified_on.is_not(None))).all():
        out.append({"kind": "certified", "title": t("incentives.badge.certified", loc), "on": on, "note": title})
    for title, on, note in session.execute(select(Award.title, Award.awarded_on, Award.note).where(Award.user_id == uid)).all():
        out.append({"kind": "award", "title": title, "on": on, "note": note or ""})
    return sorted(out, key=lambda b: (b["on"], b["kind"]), reverse=True)
