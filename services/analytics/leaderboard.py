"""排行榜: reps ranked on won revenue, collections, win rate or activities in a period
(docs/KPIS.md, "Leaderboard")."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from services.access import (
    Actor,
    owner_params,
    owner_scope_term,
    owner_shape,
    team_managers,
    visible_user_ids,
)
from services.analytics.actuals import metric_actuals_by_user
from services.analytics.common import float2, money, ratio, scope_user_ids
from services.analytics.filters import DealFilter, filter_owner_ids
from services.analytics.kpis import closed_params, closed_statement
from services.db import shaped
from services.models import Team, User
from services.periods import Period

METRICS = ("revenue", "collections", "win_rate", "activities")
_ACTUAL = {"revenue": "contract_amount", "collections": "collections", "activities": "activities"}


def leaderboard(session: Session, actor: Actor, *, period: Period, metric: str = "revenue",
                flt: DealFilter | None = None) -> list[dict]:
    """Every active rep of the scope (and anyone else with a value), best first: ``rank``
    (ties share a rank), ``user_id, name, team, value``; win rate = won ÷ (won + lost) of
    deals closed in the period, with ``won`` and ``lost``; a rep without closed deals has
    no win rate and ranks last."""
    if metric not in METRICS:
        raise ValueError(f"unknown leaderboard metric {metric!r}")
    ids = filter_owner_ids(session, actor, flt or DealFilter())
    owners = owner_shape(ids)
    people = {uid: (name, team) for uid, name, team in session.execute(shaped(("leaderboard.people", owners), lambda: (
        select(User.id, User.display_name, Team.name).outerjoin(Team, Team.id == User.team_id)
        .where(owner_scope_term(User.id, owners), User.active.is_(True), User.role == "rep"))), owner_params(ids)).all()}
    values: dict[int, object] = {}
    extra: dict[int, dict] = {}
    if metric == "win_rate":
        for uid, won, lost in session.execute(closed_statement(owners, by_owner=True),
                                              closed_params(session, ids, period)).all():
            values[uid] = ratio(won, won + lost)
            extra[uid] = {"won": int(won), "lost": int(lost)}
    else:
        values = metric_actuals_by_user(session, actor, metric=_ACTUAL[metric], start=period.start, end=period.end,
                                        owner_ids=ids)
    missing = set(values) - set(people)
    if missing:
        for uid, name, team in session.execute(select(User.id, User.display_name, Team.name)
                                               .outerjoin(Team, Team.id == User.team_id)
                                               .where(User.id.in_(sorted(missing)))).all():
            people[uid] = (name, team)
    zero = None if metric == "win_rate" else (money(0) if metric != "activities" else 0)
    rows = [{"user_id": uid, "name": name, "team": team, "value": values.get(uid, zero),
             **({"won": extra.get(uid, {}).get("won", 0), "lost": extra.get(uid, {}).get("lost", 0)}
                if metric == "win_rate" else {})}
            for uid, (name, team) in people.items()]
    rows.sort(key=lambda r: (r["value"] is None, -(float(r["value"]) if r["value"] is not None else 0), r["name"] or ""))
    rank, last = 0, object()
    for i, r in enumerate(rows, start=1):
        if r["value"] != last:
            rank, last = i, r["value"]
        r["rank"] = rank if r["value"] is not None else None
    return rows


def leaderboard_json(rows: list[dict]) -> list[dict]:
    return [{k: float2(v) if isinstance(v, Decimal) else v for k, v in r.items()} for r in rows]





def target_vs_actual(session: Session, actor: Actor, *, period: Period, flt: DealFilter | None = None) -> list[dict]:
    """Won revenue against the base contract-amount target for every rep of the scope and for
    each of their teams (``kind`` "rep" / "team"): the target is the holder's own (prorated
    to the period by days, ``targets.scope_target``), None without one; attainment = won ÷
    target."""
    from services.analytics.targets import scope_target, user_targets

    flt = flt or DealFilter()
    rows = leaderboard(session, actor, period=period, metric="revenue", flt=flt)
    teams = dict(session.execute(select(User.id, User.team_id).where(User.id.in_([r["user_id"] for r in rows] or [-1])))
                 .all())
    managers = team_managers(session)
    # each team's target is its manager's team scope target; the user targets of the reps
    # and of all those scopes are read once (every team read its own: five statements a team)
    bosses = {tid: Actor(id=managers[tid], username="", display_name="", role="manager", team_id=tid)
              for tid in {teams.get(r["user_id"]) for r in rows} if tid is not None and managers.get(tid) is not None}
    scopes = [scope_user_ids(session, boss, "team") for boss in bosses.values()]
    prefetch = None if visible_user_ids(session, actor) is None or any(ids is None for ids in scopes) else \
        set().union(*scopes, (r["user_id"] for r in rows))
    targets = user_targets(session, [r["user_id"] for r in rows], period=period, prefetch=prefetch)
    out, team_won = [], {}
    for r in rows:
        target = targets[r["user_id"]]
        out.append({"kind": "rep", "id": r["user_id"], "name": r["name"], "team": r["team"], "won": r["value"],
                    "target": target, "attainment": ratio(r["value"], target) if target else None})
        key = (teams.get(r["user_id"]), r["team"])
        team_won[key] = team_won.get(key, money(0)) + r["value"]
    for (tid, name), won in sorted(team_won.items(), key=lambda kv: kv[0][1] or ""):
        target = scope_target(session, bosses[tid], scope="team", period=period, prefetch=prefetch) \
            if tid in bosses else None
        out.append({"kind": "team", "id": tid, "name": name, "team": name, "won": won, "target": target,
                    "attainment": ratio(won, target) if target else None})
    return out


__all__ = ["METRICS", "leaderboard", "leaderboard_json", "target_vs_actual"]
