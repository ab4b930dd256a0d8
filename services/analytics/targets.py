"""Targets as the analytics read them: the base contract-amount target of a scope, per month
and prorated to a period (see docs/KPIS.md) — the one place that turns ``Target`` rows into
"the target of this scope for this period" (Overview, forecast, findings, leaderboard,
meeting). The goals area (``services.goals``) sets and splits the rows; its tracking reads
a target row's own value, which for a whole month / quarter / year of a consistent tree is
the number this module gives."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from services.access import Actor, managed_team_ids, owner_in, team_member_ids, team_parents, team_subtree_ids
from services.analytics.common import (
    CENT,
    ZERO,
    money,
    scope_user_ids,
)
from services.models import Target, Team
from services.periods import Period, add_months, month_starts


def _target_base():
    return and_(Target.metric == "contract_amount", Target.tier == "base")


def _topmost(session: Session, team_ids: set[int]) -> set[int]:
    """Of ``team_ids``, those with no ancestor also in ``team_ids`` (avoids counting a
    region's target and its teams' targets twice)."""
    parents = team_parents(session)
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
    covered_users = team_member_ids(session, covered_teams)
    uncovered_users = and_(Target.scope == "user", owner_in(Target.user_id, ids), Target.user_id.not_in(sorted(covered_users)))
    team_level = and_(Target.scope == "team", owner_in(Target.team_id, top))
    return [*first, or_(team_level, uncovered_users)]


def _window(months: list[date]):
    """Target rows that can cover ``months``: a year target starts at most 11 months before."""
    return and_(Target.period_start >= add_months(months[0], -11), Target.period_start < add_months(months[-1], 1))


def _target_rows(session: Session, cond, window) -> list:
    return session.execute(
        select(Target.scope, Target.team_id, Target.user_id, Target.period_kind, Target.period_start, func.sum(Target.value))
        .where(_target_base(), window, cond)
        .group_by(Target.scope, Target.team_id, Target.user_id, Target.period_kind, Target.period_start)
    ).all()


def _holder_months(rows: list, months: list[date]) -> dict[tuple, dict[date, Decimal]]:
    """Per target holder (scope, team id, user id): its monthly target of each of ``months``
    it has one for — its month target if it has one, else its quarter target / 3, else its
    year target / 12."""
    spans = {"month": 1, "quarter": 3, "year": 12}
    wanted = {m.year * 12 + m.month - 1: m for m in months}  # month number → its first day
    # holder → kind → month → value
    shares: dict[tuple, dict[str, dict[date, Decimal]]] = {}
    for t_scope, team_id, user_id, kind, start, value in rows:
        if kind not in spans:
            continue
        if start.day != 1:  # a target period starts on a month's first day, as every one of ``months``
            continue
        per_kind = shares.setdefault((t_scope, team_id, user_id), {}).setdefault(kind, {})
        share = money(value) / spans[kind]
        first = start.year * 12 + start.month - 1
        for n in range(first, first + spans[kind]):  # the months the row covers, those asked for
            if (m := wanted.get(n)) is not None:
                per_kind[m] = per_kind.get(m, ZERO) + share
    out: dict[tuple, dict[date, Decimal]] = {}
    for holder, by_kind in shares.items():
        for m in months:
            value = next((by_kind[k][m] for k in ("month", "quarter", "year") if m in by_kind.get(k, {})), None)
            if value is not None:
                out.setdefault(holder, {})[m] = value
    return out


def _summed(per_holder: list[dict[date, Decimal]], months: list[date]) -> dict[date, Decimal | None]:
    """The scope's monthly target: the sum over its holders; None for a month none has one."""
    out: dict[date, Decimal | None] = {}
    for m in months:
        values = [h[m] for h in per_holder if m in h]
        out[m] = sum(values, ZERO).quantize(CENT, rounding=ROUND_HALF_UP) if values else None
    return out


def _targets_by_month(session: Session, actor: Actor, scope: str, ids: set[int] | None, months: list[date]) -> dict[date, Decimal | None]:
    """Monthly target (metric contract_amount, tier base) of the scope: per holder
    (company, team or user) ``_holder_months``, summed over the holders that count (see
    ``_target_candidates``); None for a month without any target."""
    if not months:
        return {}
    window = _window(months)
    rows: list = []
    for cond in _target_candidates(session, actor, scope, ids, window):
        rows = _target_rows(session, cond, window)
        if rows:
            break
    return _summed(list(_holder_months(rows, months).values()), months)


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
# the public questions other areas ask (the goals area owns how targets are set and split;
# these answer "what is the target of this scope / holder for this period")


def monthly_scope_targets(session: Session, actor: Actor, *, scope: str, months: list[date]) -> dict[date, Decimal | None]:
    """Base contract-amount target of an Overview scope ("me" / "team" / "all") per month
    (first days ``months``); None for a month without any target (see ``_targets_by_month``)."""
    return _targets_by_month(session, actor, scope, scope_user_ids(session, actor, scope), months)


def scope_target(session: Session, actor: Actor, *, scope: str, period: Period) -> Decimal | None:
    """Base contract-amount target of an Overview scope prorated to ``period`` (Σ monthly
    target × share of the month's days inside the period); None without any target."""
    return _period_target(monthly_scope_targets(session, actor, scope=scope, months=month_starts(period)), period)


def user_targets(session: Session, user_ids: list[int], *, period: Period) -> dict[int, Decimal | None]:
    """``scope_target(rep, scope="me")`` of each of ``user_ids`` (their own user targets,
    prorated to ``period``), in one read: the target-vs-actual and behind-pace rows of every
    rep of a scope."""
    months = month_starts(period)
    if not months or not user_ids:
        return dict.fromkeys(user_ids)
    rows = _target_rows(session, and_(Target.scope == "user", Target.user_id.in_(sorted(set(user_ids)))),
                        _window(months))
    per_user = {holder[2]: values for holder, values in _holder_months(rows, months).items()}
    return {uid: _period_target(_summed([per_user[uid]], months), period) if uid in per_user else None
            for uid in user_ids}
