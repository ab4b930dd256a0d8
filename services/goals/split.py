"""Decomposition: a target into its quarters, months or reps, the parts adding up exactly
to the whole.

The split rule (``split_amount``): part_i = whole × w_i / Σw, cut down to the unit (a cent;
one for counted metrics); the cents left over go one each to the parts with the largest cut
fraction, ties to the largest weight, then the earliest — so the parts always sum to the
whole, none is negative, and equal weights give parts at most one unit apart.

Weights: time parts by ``seasonal`` (the holder's actuals in the same months of the past
three years; equal when there is no history), ``equal`` or custom numbers; reps by
``capacity`` (each rep's capacity setting), ``history`` (each rep's actuals in the twelve
months before the period), ``equal`` or custom numbers (in the order of the reps by name).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from services import audit
from services.access import Actor, team_subtree_ids
from services.analytics.actuals import metric_actuals
from services.errors import ValidationError
from services.goals.common import (
    SPANS,
    fiscal_start_month,
    holder_reps,
    holder_user_ids,
    load_target,
    period_of,
    sub_periods,
    target_dicts,
    unit_of,
)
from services.i18n import t
from services.models import SalesPlanTarget, Target, User
from services.periods import Period, add_months

SPLIT_INTO = ("quarters", "months", "users")
TIME_WEIGHTS = ("seasonal", "equal")
REP_WEIGHTS = ("capacity", "history", "equal")
HISTORY_YEARS = 3


def split_amount(whole: Decimal, weights: Sequence[Decimal | int | float | str], *,
                 unit: Decimal = Decimal("0.01")) -> list[Decimal]:
    """``whole`` split by ``weights`` (the split rule in the module docstring). Weights
    must be non-negative with a positive sum (``ValueError`` otherwise)."""
    w = [Decimal(str(x)) for x in weights]
    if not w or any(x < 0 for x in w) or sum(w) <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    whole = Decimal(whole).quantize(unit, rounding=ROUND_DOWN)
    total_w = sum(w)
    raw = [whole * x / total_w for x in w]
    parts = [r.quantize(unit, rounding=ROUND_DOWN) for r in raw]
    left = int((whole - sum(parts)) / unit)
    order = sorted(range(len(w)), key=lambda i: (-(raw[i] - parts[i]), -w[i], i))
    for i in order[:left]:
        parts[i] += unit
    return parts


def parse_weights(text: Any, locale: str, field: str = "weights") -> list[Decimal]:
    """``"3,3,4"`` (or a list of numbers) → Decimals; each a number ≥ 0 and the sum > 0."""
    items = text if isinstance(text, list | tuple) else str(text or "").split(",")
    out: list[Decimal] = []
    for item in items:
        try:
            value = Decimal(str(item).strip())
        except (InvalidOperation, ValueError):
            raise ValidationError({field: t("goals.err.weight_number", locale, value=str(item).strip())}) from None
        if not value.is_finite():
            raise ValidationError({field: t("goals.err.weight_number", locale, value=str(item).strip())})
        if value < 0:
            raise ValidationError({field: t("goals.err.weight_negative", locale)})
        out.append(value)
    if not out or sum(out) <= 0:
        raise ValidationError({field: t("goals.err.weight_zero", locale)})
    return out


def seasonal_weights(session: Session, actor: Actor, *, metric: str, owner_ids: set[int] | None,
                     parts: list[Period]) -> list[Decimal] | None:
    """Per part: the holder's actuals in the same months of the past ``HISTORY_YEARS``
    years (Σ over those years); None when all of them are zero."""
    first, last = parts[0].start, parts[-1].end
    lo = add_months(first, -12 * HISTORY_YEARS)
    frame = metric_actuals(session, actor, metric=metric, start=lo, end=first, owner_ids=owner_ids, monthly=True)
    by_month: dict[int, Decimal] = {}
    for month, value in zip(frame.get("month", []), frame["value"], strict=False):
        by_month[month.month] = by_month.get(month.month, Decimal(0)) + Decimal(value)
    out = []
    for part in parts:
        months = []
        m = part.start
        while m < part.end and m < last:
            months.append(m.month)
            m = add_months(m, 1)
        out.append(sum((by_month.get(x, Decimal(0)) for x in months), Decimal(0)))
    return out if sum(out) > 0 else None


def rep_weights(session: Session, actor: Actor, *, metric: str, reps: list[User], basis: str,
                period: Period) -> list[Decimal] | None:
    """Per rep: capacity, or actuals of the twelve months before the period; None when all zero."""
    if basis == "capacity":
        out = [Decimal(u.capacity or 0) for u in reps]
    else:
        frame = metric_actuals(session, actor, metric=metric, start=add_months(period.start, -12), end=period.start,
                               by="user", owner_ids={u.id for u in reps})
        found = {int(u): Decimal(v) for u, v in zip(frame.get("user_id", []), frame["value"], strict=False)}
        out = [found.get(u.id, Decimal(0)) for u in reps]
    return out if sum(out) > 0 else None


def _children(session: Session, parent: Target, into: str) -> list[Target]:
    stmt = select(Target).where(Target.parent_id == parent.id)
    if into == "users":
        stmt = stmt.where(Target.scope == "user", Target.period_kind == parent.period_kind)
    else:
        stmt = stmt.where(Target.period_kind == ("quarter" if into == "quarters" else "month"),
                          Target.scope == parent.scope)
    return list(session.scalars(stmt).all())


def _reps_for(session: Session, actor: Actor, parent: Target, user_ids: list[int] | None) -> list[User]:
    loc = actor.locale
    if user_ids is None:
        reps = holder_reps(session, "team", parent.team_id, None)
        if not reps:
            raise ValidationError({"into": t("goals.err.no_reps", loc)})
        return reps
    teams = team_subtree_ids(session, {parent.team_id})
    reps = []
    for uid in user_ids:
        user = session.get(User, uid) if isinstance(uid, int) else None
        if user is None or not user.active or user.team_id not in teams:
            raise ValidationError({"user_ids": t("goals.err.rep_outside_team", loc, user=uid)})
        reps.append(user)
    if len({u.id for u in reps}) != len(reps) or not reps:
        raise ValidationError({"user_ids": t("goals.err.rep_twice", loc)})
    return reps


def split_target(session: Session, actor: Actor, *, target_id: int, into: str,
                 weights: str | Sequence[Any] | None = None, user_ids: list[int] | None = None) -> list[dict]:
    """Split a target into its quarters / months (year → quarters or months, quarter →
    months) or, for a team target, into its reps (all active reps of the team, or
    ``user_ids`` — each must be in the team). Weights default to seasonal (time) and
    capacity (reps); see the module docstring. Parts made by an earlier split of the same
    kind are replaced, unless one of them has been split itself. The parts carry the
    parent's metric, tier and (for time) holder; they sum exactly to the parent."""
    loc = actor.locale
    if into not in SPLIT_INTO:
        raise ValidationError({"into": t("err.not_in_list", loc, options=", ".join(SPLIT_INTO))})
    parent = load_target(session, actor, target_id, for_update=True, edit=True)
    fiscal = fiscal_start_month(session)
    period = period_of(parent.period_kind, parent.period_start)
    basis = weights if isinstance(weights, str) and weights in TIME_WEIGHTS + REP_WEIGHTS else None
    custom = None if basis or weights is None else parse_weights(weights, loc)
    if into == "users":
        if parent.scope != "team":
            raise ValidationError({"into": t("goals.err.users_need_team", loc)})
        basis = basis or ("capacity" if custom is None else "custom")
        if basis in ("seasonal",):
            raise ValidationError({"weights": t("err.not_in_list", loc, options=", ".join(REP_WEIGHTS))})
        reps = _reps_for(session, actor, parent, user_ids)
        slots = [dict(scope="user", team_id=None, user_id=u.id, period_kind=parent.period_kind,
                      period_start=parent.period_start) for u in reps]
        if custom is None and basis != "equal":
            found = rep_weights(session, actor, metric=parent.metric, reps=reps, basis=basis, period=period)
            custom, basis = (found, basis) if found else ([Decimal(1)] * len(reps), "equal")
    else:
        child_kind = "quarter" if into == "quarters" else "month"
        if SPANS[parent.period_kind] <= SPANS[child_kind]:
            raise ValidationError({"into": t("goals.err.split_too_small", loc, period=parent.period_kind)})
        basis = basis or ("seasonal" if custom is None else "custom")
        if basis in ("capacity", "history"):
            raise ValidationError({"weights": t("err.not_in_list", loc, options=", ".join(TIME_WEIGHTS))})
        subs = sub_periods(parent.period_kind, parent.period_start, child_kind)
        slots = [dict(scope=parent.scope, team_id=parent.team_id, user_id=parent.user_id, period_kind=k,
                      period_start=s) for k, s in subs]
        if custom is None and basis == "seasonal":
            found = seasonal_weights(session, actor, metric=parent.metric,
                                     owner_ids=holder_user_ids(session, parent.scope, parent.team_id, parent.user_id),
                                     parts=[period_of(k, s) for k, s in subs])
            custom, basis = (found, "seasonal") if found else (None, "equal")
    if custom is None:
        custom = [Decimal(1)] * len(slots)
    if len(custom) != len(slots):
        raise ValidationError({"weights": t("goals.err.weight_count", loc, count=len(slots), given=len(custom))})
    values = split_amount(parent.value, custom, unit=unit_of(parent.metric))
    old = _children(session, parent, into)
    if old and session.scalar(select(Target.id).where(Target.parent_id.in_([c.id for c in old])).limit(1)):
        raise ValidationError({"into": t("goals.err.parts_split", loc)})
    if old:
        ids = [c.id for c in old]
        session.execute(delete(SalesPlanTarget).where(SalesPlanTarget.target_id.in_(ids)))
        session.execute(delete(Target).where(Target.id.in_(ids)))
        session.flush()
    # a part may not take the slot of a target set on its own
    for slot in slots:
        twin = session.scalar(select(Target.id).where(
            Target.metric == parent.metric, Target.tier == parent.tier, Target.scope == slot["scope"],
            Target.period_kind == slot["period_kind"], Target.period_start == slot["period_start"],
            Target.team_id.is_(None) if slot["team_id"] is None else Target.team_id == slot["team_id"],
            Target.user_id.is_(None) if slot["user_id"] is None else Target.user_id == slot["user_id"]))
        if twin is not None:
            raise ValidationError({"into": t("goals.err.part_exists", loc, id=twin)})
    total_w = sum(custom)
    rows = []
    for slot, value, w in zip(slots, values, custom, strict=True):
        note = json.dumps({"weights": basis, "share": str((w / total_w).quantize(Decimal("0.0001")))})
        row = Target(metric=parent.metric, tier=parent.tier, value=value, parent_id=parent.id, basis_kind="split",
                     basis_notes=note, **slot)
        session.add(row)
        rows.append(row)
    session.flush()
    audit.record(session, actor, "target", parent.id, "split",
                 {"into": into, "weights": basis, "parts": [str(v) for v in values]})
    return target_dicts(session, rows, fiscal)
