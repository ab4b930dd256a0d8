"""Payouts: computed from the deals and payments, never typed in.

Per rep and period of a scheme: the basis (won amount by close date and collections by
payment date — both ``analytics.actuals.metric_actuals``; gross margin = Σ won amount −
product unit cost × quantity, by close date), the commission by the scheme's tiers and mode
(``rules.commission``), the attainment bonus (won amount ÷ the rep's base target of the
period, ``analytics.targets.scope_target``), contest prizes, and an adjustment.

Lifecycle: ``compute_payouts`` writes nothing; ``save_payouts`` stores the computation as
drafts; ``approve_payouts`` (manager+) approves drafts; ``pay_payouts`` marks approved ones
paid. A paid period is locked: its amounts never change again, and when a later edit to a
deal or payment changes what that period would compute, the difference is paid as an
adjustment in the next unpaid period (adjustment = Σ over paid periods before it of
(recomputed − paid commission and bonus) − Σ adjustments already paid). Reps disabled since,
and users created inactive, earn for the periods they worked like anyone else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from services import audit
from services.access import Actor, owner_in, visible_user_ids
from services.analytics.actuals import metric_actuals_by_user
from services.analytics.common import in_period, money
from services.analytics.targets import scope_target
from services.clock import company_today, day_start_utc, local_tz
from services.errors import PermissionDenied, ValidationError
from services.i18n import t
from services.incentives.rules import ZERO, Line, Rule, attainment_bonus, cents, commission, rule_of
from services.incentives.schemes import (
    SPAN_OF,
    draft_rule,
    load_scheme,
    next_period,
    parse_period,
    period_label,
    period_of_start,
    scheme_user_ids,
)
from services.models import Activity, Deal, IncentiveScheme, Payout, Product, Stage, User
from services.periods import Period


@dataclass
class RepPayout:
    user_id: int
    username: str
    name: str
    active: bool
    basis: Decimal = ZERO
    commission: Decimal = ZERO
    bonus: Decimal = ZERO
    adjustment: Decimal = ZERO
    status: str = "new"  # new | draft | approved | paid
    lines: list[Line] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        return self.commission + self.bonus + self.adjustment

    def as_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "username": self.username, "name": self.name, "active": self.active,
                "basis": self.basis, "commission": self.commission, "bonus": self.bonus,
                "adjustment": self.adjustment, "payout": self.amount, "status": self.status,
                "lines": [ln.as_dict() for ln in self.lines]}


def _period(session: Session, actor: Actor, rule: Rule, period: str | Period) -> Period:
    if isinstance(period, Period):
        return period
    return parse_period(session, period, rule.period, actor.locale)


def _in_valid_dates(scheme: IncentiveScheme, period: Period, locale: str) -> None:
    if (scheme.starts_on and period.last_day < scheme.starts_on) or (scheme.ends_on and period.start > scheme.ends_on):
        raise ValidationError({"period": t("incentives.err.outside_dates", locale,
                                           starts=scheme.starts_on or "…", ends=scheme.ends_on or "…")})


# ---------------------------------------------------------------------------
# the basis


def won_amounts(session: Session, actor: Actor, period: Period, ids: set[int]) -> dict[int, Decimal]:
    return metric_actuals_by_user(session, actor, metric="contract_amount", start=period.start, end=period.end,
                                  owner_ids=ids)


def _margins(session: Session, actor: Actor, period: Period, ids: set[int]) -> dict[int, Decimal]:
    """Σ (won amount − product unit cost × quantity) per owner, won deals by close date (a
    deal without a product has no cost)."""
    visible = visible_user_ids(session, actor)
    ids = ids if visible is None else ids & visible
    cost = func.coalesce(Product.unit_cost, 0) * Deal.quantity
    rows = session.execute(
        select(Deal.owner_id, func.sum(func.coalesce(Deal.amount, 0) - cost))
        .join(Stage, Stage.id == Deal.stage_id).outerjoin(Product, Product.id == Deal.product_id)
        .where(Stage.kind == "won", in_period(Deal.closed_on, period), owner_in(Deal.owner_id, ids))
        .group_by(Deal.owner_id)
    ).all()
    return {uid: money(v) for uid, v in rows}


def basis_amounts(session: Session, actor: Actor, basis: str, period: Period, ids: set[int]) -> dict[int, Decimal]:
    """The basis of each of ``ids`` in ``period`` (module docstring); owners with none left out."""
    if basis == "margin":
        return _margins(session, actor, period, ids)
    if basis == "collections":
        return metric_actuals_by_user(session, actor, metric="collections", start=period.start, end=period.end,
                                      owner_ids=ids)
    return won_amounts(session, actor, period, ids)


# ---------------------------------------------------------------------------
# one period, computed


def _contest(session: Session, actor: Actor, rule: Rule, period: Period, ids: set[int]) -> dict[int, tuple[Decimal, list[Line]]]:
    """Prizes: prize i to rank i + 1 (equal scores share a rank, the next rank is skipped).
    most_activities: activities of the contest's kind done in the period; first_close: the
    earliest won deal of the contest's product closed in the period (ties by deal number);
    most_won (older rows): won amount."""
    contest = rule.contest or {}
    prizes = [Decimal(p) for p in contest.get("prizes", [])]
    visible = visible_user_ids(session, actor)
    ids = ids if visible is None else ids & visible
    scores: list[tuple[int, Any]] = []
    if contest.get("rule") == "most_activities":
        tz = local_tz(session)
        rows = session.execute(
            select(Activity.owner_id, func.count()).where(
                Activity.kind == contest.get("activity_kind", "demo"), owner_in(Activity.owner_id, ids),
                Activity.done_at >= day_start_utc(period.start, tz), Activity.done_at < day_start_utc(period.end, tz))
            .group_by(Activity.owner_id)).all()
        scores = sorted(((uid, n) for uid, n in rows if n), key=lambda r: (-r[1], r[0]))
    elif contest.get("rule") == "first_close":
        row = session.execute(
            select(Deal.owner_id, Deal.closed_on).join(Stage, Stage.id == Deal.stage_id)
            .where(Stage.kind == "won", Deal.product_id == contest.get("product_id"), in_period(Deal.closed_on, period),
                   owner_in(Deal.owner_id, ids))
            .order_by(Deal.closed_on, Deal.id).limit(1)).first()
        scores = [(row[0], row[1])] if row else []
        prizes = prizes[:1]
    else:
        won = won_amounts(session, actor, period, ids)
        scores = sorted(((u, v) for u, v in won.items() if v > 0), key=lambda r: (-r[1], r[0]))
    out: dict[int, tuple[Decimal, list[Line]]] = {}
    rank, prev = 0, object()
    for i, (uid, score) in enumerate(scores):
        if score != prev:
            rank, prev = i + 1, score
        if rank > len(prizes):
            break
        prize = prizes[rank - 1]
        out[uid] = (prize, [Line("prize", prize, base=Decimal(str(score)) if not isinstance(score, date) else None,
                                 note=f"#{rank}" + (f" {score.isoformat()}" if isinstance(score, date) else ""))])
    return out


def _compute(session: Session, actor: Actor, rule: Rule, period: Period, users: list[User]) -> dict[int, RepPayout]:
    """Basis, commission and bonus of each user in ``period`` under ``rule`` (no adjustment)."""
    ids = {u.id for u in users}
    out = {u.id: RepPayout(u.id, u.username, u.display_name, u.active) for u in users}
    if rule.kind == "contest":
        for uid, (prize, lines) in _contest(session, actor, rule, period, ids).items():
            out[uid].commission, out[uid].lines = prize, lines
        return out
    basis = basis_amounts(session, actor, rule.basis, period, ids) if rule.tiers else {}
    won = won_amounts(session, actor, period, ids) if rule.bonus else {}
    for user in users:
        rep = out[user.id]
        rep.basis = cents(basis.get(user.id, ZERO))
        if rule.tiers:
            rep.lines.append(Line("basis", rep.basis, note=rule.basis))
            rep.commission, slices = commission(rep.basis, rule.tiers, rule.mode)
            rep.lines += slices
        if rule.bonus:
            target = scope_target(session, Actor.from_user(user), scope="me", period=period)
            achieved = won.get(user.id, ZERO)
            attainment = (achieved / target) if target else None
            reached = attainment_bonus(attainment, rule.bonus)
            note = "no target" if attainment is None else f"{cents(attainment * 100)}% = {achieved} / {target}"
            if reached:
                rep.bonus = reached.bonus
                rep.lines.append(Line("bonus", reached.bonus, base=achieved, rate=reached.attainment, note=note))
            else:
                rep.lines.append(Line("note", ZERO, base=achieved, note=note))
    return out


def _users(session: Session, actor: Actor, scheme: IncentiveScheme) -> list[User]:
    ids = set(scheme_user_ids(session, scheme))
    visible = visible_user_ids(session, actor)
    if visible is not None:
        ids &= visible
    return list(session.scalars(select(User).where(User.id.in_(sorted(ids))).order_by(User.display_name, User.id)).all()) if ids else []


def _stored(session: Session, scheme_id: int, start: date, ids: list[int], *, lock: bool = False) -> dict[int, Payout]:
    if not ids:
        return {}
    stmt = select(Payout).where(Payout.scheme_id == scheme_id, Payout.period_start == start, Payout.user_id.in_(ids))
    if lock:
        stmt = stmt.order_by(Payout.id).with_for_update()
    return {p.user_id: p for p in session.scalars(stmt).all()}


def _status(p: Payout | None) -> str:
    return "new" if p is None else "paid" if p.paid else "approved" if p.approved else "draft"


def _adjustments(session: Session, actor: Actor, scheme: IncentiveScheme, rule: Rule, period: Period,
                 users: list[User]) -> dict[int, tuple[Decimal, list[str]]]:
    """Per user: what the paid periods before ``period`` compute now minus what was paid for
    them, minus adjustments already paid (module docstring); and the periods that moved."""
    ids = [u.id for u in users]
    if not ids:
        return {}
    paid = session.scalars(select(Payout).where(Payout.scheme_id == scheme.id, Payout.user_id.in_(ids),
                                                Payout.paid.is_(True), Payout.period_start < period.start)).all()
    by_start: dict[date, list[Payout]] = {}
    for p in paid:
        by_start.setdefault(p.period_start, []).append(p)
    users_by_id = {u.id: u for u in users}
    out: dict[int, tuple[Decimal, list[str]]] = {}
    for start, rows in sorted(by_start.items()):
        past = period_of_start(start, rule.period)
        now = _compute(session, actor, rule, past, [users_by_id[p.user_id] for p in rows])
        for p in rows:
            drift = now[p.user_id].commission + now[p.user_id].bonus - (p.commission + p.bonus) - p.adjustment
            if drift:
                total, periods = out.get(p.user_id, (ZERO, []))
                out[p.user_id] = (total + drift, [*periods, period_label(session, past)])
    return out


def _run(session: Session, actor: Actor, scheme: IncentiveScheme, rule: Rule, period: Period, *,
         adjust: bool = True) -> list[RepPayout]:
    users = _users(session, actor, scheme)
    computed = _compute(session, actor, rule, period, users)
    stored = _stored(session, scheme.id, period.start, [u.id for u in users])
    adjustments = _adjustments(session, actor, scheme, rule, period, users) if adjust else {}
    reps = []
    for user in users:
        rep, row = computed[user.id], stored.get(user.id)
        rep.status = _status(row)
        if row is not None and row.paid:  # locked: what was paid, as it was paid
            rep = RepPayout(user.id, user.username, user.display_name, user.active, row.basis_amount, row.commission,
                            row.bonus, row.adjustment, "paid", [Line.from_dict(d) for d in json.loads(row.lines or "[]")])
        elif user.id in adjustments:
            amount, periods = adjustments[user.id]
            rep.adjustment = amount
            rep.lines.append(Line("adjustment", amount, note=", ".join(periods)))
        if rep.amount or rep.basis or user.active or row is not None:
            reps.append(rep)
    return reps


def _result(session: Session, scheme: IncentiveScheme, rule: Rule, period: Period, reps: list[RepPayout]) -> dict[str, Any]:
    return {"scheme": scheme.name, "scheme_id": scheme.id, "kind": rule.kind, "basis": rule.basis, "mode": rule.mode,
            "period": period_label(session, period), "start": period.start, "end": period.end,
            "total": sum((r.amount for r in reps), ZERO), "reps": [r.as_dict() for r in reps]}


def compute_payouts(session: Session, actor: Actor, *, scheme: int | str, period: str | Period) -> dict[str, Any]:
    """Each rep's payout of ``scheme`` for ``period`` with its lines, for the reps the actor
    may see (a rep: only their own); paid periods show what was paid. Writes nothing."""
    row = load_scheme(session, actor, scheme)
    rule = rule_of(row)
    per = _period(session, actor, rule, period)
    _in_valid_dates(row, per, actor.locale)
    return _result(session, row, rule, per, _run(session, actor, row, rule, per))


def _require_manager(actor: Actor) -> None:
    if not actor.is_manager:
        raise PermissionDenied(t("err.permission", actor.locale, detail=t("incentives.managers_only", actor.locale)))


def _locked(session: Session, actor: Actor, period: Period) -> ValidationError:
    return ValidationError({"period": t("incentives.err.locked", actor.locale, period=period_label(session, period),
                                        next=period_label(session, next_period(period)))})


def save_payouts(session: Session, actor: Actor, *, scheme: int | str, period: str | Period) -> dict[str, Any]:
    """Store ``compute_payouts`` as drafts (manager+, the reps they may see): existing drafts
    and approvals are replaced by the new computation (approval must be given again); a
    period with a paid payout is locked and refused, nothing written."""
    _require_manager(actor)
    row = load_scheme(session, actor, scheme)
    rule = rule_of(row)
    per = _period(session, actor, rule, period)
    _in_valid_dates(row, per, actor.locale)
    reps = _run(session, actor, row, rule, per)
    stored = _stored(session, row.id, per.start, [r.user_id for r in reps], lock=True)
    if any(p.paid for p in stored.values()):
        raise _locked(session, actor, per)
    for rep in reps:
        p = stored.get(rep.user_id) or Payout(scheme_id=row.id, user_id=rep.user_id, period_start=per.start)
        p.basis_amount, p.commission, p.bonus, p.adjustment = rep.basis, rep.commission, rep.bonus, rep.adjustment
        p.amount = rep.amount
        p.lines = json.dumps([ln.as_dict() for ln in rep.lines])
        p.approved, p.approved_by = False, None
        session.add(p)
        rep.status = "draft"
    session.flush()
    audit.record(session, actor, "payout", f"{row.id}:{per.start}", "save", {"reps": [None, len(reps)]})
    return _result(session, row, rule, per, reps)


def _rows_for(session: Session, actor: Actor, scheme: int | str, period: str | Period) -> tuple[IncentiveScheme, Period, list[Payout]]:
    _require_manager(actor)
    row = load_scheme(session, actor, scheme)
    per = _period(session, actor, rule_of(row), period)
    ids = [u.id for u in _users(session, actor, row)]
    stored = _stored(session, row.id, per.start, ids, lock=True)
    return row, per, [stored[i] for i in ids if i in stored]


def approve_payouts(session: Session, actor: Actor, *, scheme: int | str, period: str | Period) -> dict[str, Any]:
    """Approve the saved drafts of the period for the reps the actor may see (manager+);
    without any draft → refused."""
    row, per, rows = _rows_for(session, actor, scheme, period)
    drafts = [p for p in rows if not p.approved and not p.paid]
    if not drafts:
        if rows and all(p.paid for p in rows):
            raise _locked(session, actor, per)
        raise ValidationError({"period": t("incentives.err.no_drafts", actor.locale, period=period_label(session, per))})
    for p in drafts:
        p.approved, p.approved_by = True, actor.id
        session.add(p)
    audit.record(session, actor, "payout", f"{row.id}:{per.start}", "approve", {"count": [None, len(drafts)]})
    return {"scheme": row.name, "period": period_label(session, per), "approved": len(drafts),
            "total": sum((p.amount for p in drafts), ZERO)}


def pay_payouts(session: Session, actor: Actor, *, scheme: int | str, period: str | Period,
                paid_on: date | None = None) -> dict[str, Any]:
    """Mark the period's approved payouts paid on ``paid_on`` (default today; never later than
    today) — manager+ — which locks them. Any payout of the period still unapproved →
    refused, nothing written."""
    row, per, rows = _rows_for(session, actor, scheme, period)
    unapproved = [p for p in rows if not p.approved and not p.paid]
    if unapproved:
        names = dict(session.execute(select(User.id, User.display_name)
                                     .where(User.id.in_([p.user_id for p in unapproved]))).all())
        raise ValidationError({"status": t("incentives.err.not_approved", actor.locale,
                                           names=", ".join(sorted(names.values())))})
    due = [p for p in rows if p.approved and not p.paid]
    if not due:
        if rows:
            raise _locked(session, actor, per)
        raise ValidationError({"period": t("incentives.err.no_drafts", actor.locale, period=period_label(session, per))})
    today = company_today(session)
    if paid_on is not None and paid_on > today:
        raise ValidationError({"paid_on": t("incentives.err.paid_future", actor.locale)})
    for p in due:
        p.paid, p.paid_on = True, paid_on or today
        session.add(p)
    audit.record(session, actor, "payout", f"{row.id}:{per.start}", "pay", {"count": [None, len(due)]})
    return {"scheme": row.name, "period": period_label(session, per), "paid": len(due),
            "total": sum((p.amount for p in due), ZERO)}


def list_payouts(session: Session, actor: Actor, *, user_id: int | None = None, limit: int = 60) -> list[dict[str, Any]]:
    """Stored payouts (newest period first) of the users the actor may see — a rep: their
    own — with status and lines."""
    visible = visible_user_ids(session, actor)
    ids = visible if user_id is None else ({user_id} if visible is None or user_id in visible else set())
    rows = session.execute(
        select(Payout, IncentiveScheme.name, IncentiveScheme.period_kind, User.display_name)
        .join(IncentiveScheme, IncentiveScheme.id == Payout.scheme_id).join(User, User.id == Payout.user_id)
        .where(owner_in(Payout.user_id, ids)).order_by(Payout.period_start.desc(), IncentiveScheme.name, User.display_name)
        .limit(limit)).all()
    out = []
    for p, name, kind, display in rows:
        per = period_of_start(p.period_start, kind if kind in SPAN_OF else "month")
        out.append({"id": p.id, "scheme": name, "period": period_label(session, per), "user_id": p.user_id,
                    "name": display, "basis": p.basis_amount, "commission": p.commission, "bonus": p.bonus,
                    "adjustment": p.adjustment, "payout": p.amount, "status": _status(p), "paid_on": p.paid_on,
                    "lines": json.loads(p.lines or "[]")})
    return out


def what_if(session: Session, actor: Actor, *, scheme: int | str, period: str | Period,
            changes: dict[str, Any]) -> dict[str, Any]:
    """The draft rule (the scheme with ``changes`` to tiers, mode, bonus or basis, checked
    like a save) against the current one for ``period``: each visible rep's payout both ways
    and the totals. Writes nothing."""
    row = load_scheme(session, actor, scheme)
    current = rule_of(row)
    draft = draft_rule(session, actor, row, changes)
    per = _period(session, actor, current, period)
    users = _users(session, actor, row)
    now, then = _compute(session, actor, current, per, users), _compute(session, actor, draft, per, users)
    reps = [{"user_id": u.id, "name": u.display_name, "basis_current": now[u.id].basis, "basis_draft": then[u.id].basis,
             "current": now[u.id].amount, "draft": then[u.id].amount, "difference": then[u.id].amount - now[u.id].amount}
            for u in users if u.active or now[u.id].amount or then[u.id].amount]
    total_now = sum((r["current"] for r in reps), ZERO)
    total_then = sum((r["draft"] for r in reps), ZERO)
    return {"scheme": row.name, "period": period_label(session, per), "current_total": total_now,
            "draft_total": total_then, "difference": total_then - total_now, "reps": reps}
