"""Targets as the analytics read them: the base contract-amount target of a scope, per month
and prorated to a period (see docs/KPIS.md) — the one place that turns ``Target`` rows into
"the target of this scope for this period" (Overview, forecast, findings, leaderboard,
meeting). The goals area (``services.goals``) sets and splits the rows; its tracking reads
a target row's own value, which for a whole month / quarter / year of a consistent tree is
the number this module gives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, bindparam, func, or_, select
from sqlmodel import Session

from services.access import (
    Actor,
    managed_team_ids,
    owner_params,
    owner_scope_term,
    owner_shape,
    team_member_ids,
    team_parents,
    team_subtree_ids,
)
from services.analytics.common import (
    CENT,
    ZERO,
    in_period_bound,
    money,
    scope_user_ids,
)
from services.db import read_once, shaped
from services.models import Target
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


#: A target row as ``_window_rows`` reads it: (scope, team id, user id, period kind,
#: period start, Σ value) — grouped by the first five.
Row = tuple


def _target_candidates(session: Session, actor: Actor, scope: str, ids: set[int] | None,
                       months: list[date]) -> list[tuple[tuple[str, ...], Callable[[Row], bool]]]:
    """Which target rows count for the scope, in order of preference (the first that
    accepts any row wins), each as (the target scopes it reads, which of their rows): me →
    the actor's user targets; team → targets of the topmost targeted teams the actor manages
    plus user targets of scope users outside those teams; all (director / admin) → company
    targets, else the same team + user rule over every team."""
    def user_level(r: Row) -> bool:
        return ids is None or r[2] in ids

    if scope == "me" or actor.role == "rep":
        return [(("user",), user_level)]
    if scope == "all" and ids is None:
        teams = set(team_parents(session))
        first = [(("company",), lambda r: True)]
    else:
        teams = managed_team_ids(session, actor)
        first = []
    targeted = {r[1] for r in _window_rows(session, months, "team", None) if r[1] in teams} - {None}
    top = _topmost(session, targeted)
    covered_users = team_member_ids(session, team_subtree_ids(session, top))
    return [*first, (("team", "user"), lambda r: r[1] in top if r[0] == "team"
                     else user_level(r) and r[2] not in covered_users)]


def _window(months: list[date]) -> tuple[date, date]:
    """[first, end) of the period starts of target rows that can cover ``months``: a year
    target starts at most 11 months before."""
    return add_months(months[0], -11), add_months(months[-1], 1)


def _window_rows(session: Session, months: list[date], target_scope: str, ids: set[int] | None) -> tuple[Row, ...]:
    """The base contract-amount target rows of ``target_scope`` (company / team / user —
    the users of ``ids``, ``None`` = every one) in the window (``_window``), grouped; read
    once per read transaction for the same window, scope and owners (the target-vs-actual
    tab asks for every team's target)."""
    lo, hi = _window(months)
    users = target_scope == "user" and ids is not None
    key = ("target_window", lo, hi, target_scope, tuple(sorted(ids)) if users else None)

    owners = owner_shape(ids) if users else "all"

    def build():
        return (select(Target.scope, Target.team_id, Target.user_id, Target.period_kind, Target.period_start,
                       func.sum(Target.value))
                .where(_target_base(), Target.scope == bindparam("scope"), *in_period_bound(Target.period_start),
                       # a month row from the first month on, a quarter's from two before:
                       # the earlier ones cover none of the months (a year's month rows
                       # before the first month are 11 of the 23 the window holds)
                       or_(Target.period_kind == "year",
                           and_(Target.period_kind == "quarter", Target.period_start >= bindparam("lo_quarter")),
                           and_(Target.period_kind == "month", Target.period_start >= bindparam("lo_month"))),
                       owner_scope_term(Target.user_id, owners))
                .group_by(Target.scope, Target.team_id, Target.user_id, Target.period_kind, Target.period_start))

    def read() -> tuple[Row, ...]:
        params = {"scope": target_scope, "lo": lo, "hi": hi, "lo_quarter": add_months(months[0], -2),
                  "lo_month": months[0], **(owner_params(ids) if users else {})}
        return tuple(tuple(r) for r in session.execute(shaped(("targets.window", owners), build), params).all())

    return read_once(session, key, read)


def _user_rows(session: Session, months: list[date], wanted: set[int] | None, users: set[int] | None) -> list[Row]:
    """The user target rows of ``wanted`` (``None`` = every user) from the window's rows of
    ``users`` (a superset), by user: scanning every user's rows for each team's few cost more
    than reading them (the target-vs-actual tab)."""
    rows = _window_rows(session, months, "user", users)
    if wanted is None:
        return list(rows)
    lo, hi = _window(months)
    key = ("target_window_users", lo, hi, None if users is None else tuple(sorted(users)))

    def index() -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = {}
        for r in rows:
            out.setdefault(r[2], []).append(r)
        return out

    by_user = read_once(session, key, index)
    return [r for uid in sorted(wanted) for r in by_user.get(uid, ())]


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


def _targets_by_month(session: Session, actor: Actor, scope: str, ids: set[int] | None, months: list[date],
                      prefetch: set[int] | None | str = "ids") -> dict[date, Decimal | None]:
    """Monthly target (metric contract_amount, tier base) of the scope: per holder
    (company, team or user) ``_holder_months``, summed over the holders that count (see
    ``_target_candidates``); None for a month without any target. ``prefetch``: the users
    whose user targets to read (a superset of ``ids``: the target-vs-actual tab reads them
    once for all its teams); by default ``ids``."""
    if not months:
        return {}
    users = ids if prefetch == "ids" else prefetch
    rows: list[Row] = []
    for target_scopes, counts in _target_candidates(session, actor, scope, ids, months):
        rows = [r for t in target_scopes
                for r in (_user_rows(session, months, ids, users) if t == "user" else _window_rows(session, months, t, None))
                if counts(r)]
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


def monthly_scope_targets(session: Session, actor: Actor, *, scope: str, months: list[date],
                          prefetch: set[int] | None | str = "ids") -> dict[date, Decimal | None]:
    """Base contract-amount target of an Overview scope ("me" / "team" / "all") per month
    (first days ``months``); None for a month without any target (see ``_targets_by_month``)."""
    return _targets_by_month(session, actor, scope, scope_user_ids(session, actor, scope), months, prefetch)


def scope_target(session: Session, actor: Actor, *, scope: str, period: Period,
                 prefetch: set[int] | None | str = "ids") -> Decimal | None:
    """Base contract-amount target of an Overview scope prorated to ``period`` (Σ monthly
    target × share of the month's days inside the period); None without any target.
    ``prefetch``: see ``_targets_by_month``."""
    return _period_target(monthly_scope_targets(session, actor, scope=scope, months=month_starts(period),
                                                prefetch=prefetch), period)


def user_targets(session: Session, user_ids: list[int], *, period: Period,
                 prefetch: set[int] | None | str = "ids") -> dict[int, Decimal | None]:
    """``scope_target(rep, scope="me")`` of each of ``user_ids`` (their own user targets,
    prorated to ``period``), in one read: the target-vs-actual and behind-pace rows of every
    rep of a scope. ``prefetch``: the users whose rows to read (a superset; see
    ``_targets_by_month``)."""
    months = month_starts(period)
    if not months or not user_ids:
        return dict.fromkeys(user_ids)
    wanted = set(user_ids)
    rows = _user_rows(session, months, wanted, wanted if prefetch == "ids" else prefetch)
    per_user = {holder[2]: values for holder, values in _holder_months(rows, months).items()}
    return {uid: _period_target(_summed([per_user[uid]], months), period) if uid in per_user else None
            for uid in user_ids}
