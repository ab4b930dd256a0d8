"""Sales plans (销售计划制定): a plan for a period and team, linked to its targets, with
strategy (pricing with discount limits per role, promotion campaigns, channel shares), a
timeline of milestones, resources (people and money per team / channel / region), monthly
spend and one progress summary.

Rules:
- Period: written like a target's (``YYYY`` / ``YYYY-Qn`` / ``YYYY-MM``) or as first and last
  day; ``period_end`` is the last day *inside* the plan.
- Who: director / admin see and edit every plan. A manager sees and edits the plans of the
  teams they manage; company plans (no team) they only see. A rep sees the plans of their
  own team and the company's, read-only.
- Pricing: the list price is the product's; ``discount limit`` per role (0…1) caps the
  discount off list price while the plan is active (status active, today inside its period,
  for the deal owner's team or the whole company). ``check_discount`` refuses a deal amount
  below list price × (1 − limit of the actor's role); a team plan's limit wins over the
  company plan's.
- Campaigns and milestones lie inside the plan period (a date outside it is refused).
  Channel shares are 0…1 each and add up to at most 1.
- Money: allocations plan money (or people) to a team, channel or region. Spent: for a
  channel allocation, Σ ``MarketingSpend`` of that channel over the plan's months (the same
  rows feed CAC); otherwise the allocation's own ``spent``. Spend is entered per channel and
  month, never for a month after the current one. Budget used = Σ spent / Σ planned.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, false, func, or_, select, true
from sqlmodel import Session

from services import audit
from services.access import Actor, check_owner, managed_team_ids, team_parents
from services.clock import company_today
from services.errors import FieldNotFound, FieldPermissionDenied, ValidationError
from services.goals.common import fiscal_start_month, parse_period, period_of, visible_target_term
from services.goals.tracking import progress_of
from services.i18n import t
from services.models import (
    ALLOCATION_KINDS,
    MILESTONE_STATUSES,
    PLAN_STATUSES,
    ROLES,
    Channel,
    MarketingSpend,
    PlanAllocation,
    PlanCampaign,
    PlanChannelShare,
    PlanDiscountLimit,
    PlanMilestone,
    Product,
    SalesPlan,
    SalesPlanTarget,
    Target,
    Team,
    User,
)
from services.periods import add_months, month_start
from services.validation import check_amount

MAX_TITLE = 200
MAX_TEXT = 5000
STRATEGY_FIELDS = ("pricing_strategy", "promotion_strategy", "channel_strategy")


# ---------------------------------------------------------------------------
# access


def _visible_term(session: Session, actor: Actor):
    if actor.sees_all:
        return true()
    if actor.role == "manager":
        teams = managed_team_ids(session, actor)
        return or_(SalesPlan.team_id.is_(None), SalesPlan.team_id.in_(sorted(teams) or [-1]))
    if actor.id is None:
        return false()
    own = SalesPlan.team_id == actor.team_id if actor.team_id is not None else false()
    return or_(SalesPlan.team_id.is_(None), own)


def _may_edit(session: Session, actor: Actor, team_id: int | None) -> bool:
    if actor.sees_all:
        return True
    return actor.role == "manager" and team_id is not None and team_id in managed_team_ids(session, actor)


def _load(session: Session, actor: Actor, plan_id: Any, *, edit: bool = False) -> SalesPlan:
    row = None
    if isinstance(plan_id, int) and not isinstance(plan_id, bool):
        stmt = select(SalesPlan).where(SalesPlan.id == plan_id, _visible_term(session, actor))
        row = session.scalars(stmt.with_for_update() if edit else stmt).first()
    if row is None:
        raise FieldNotFound({"plan_id": t("err.unknown_ref", actor.locale, value=plan_id)})
    if edit and not _may_edit(session, actor, row.team_id):
        raise FieldPermissionDenied({"plan_id": t("plans.err.not_yours", actor.locale)})
    return row


def _text(raw: Mapping[str, Any], field: str, loc: str, errors: dict[str, str], *, required: bool = False,
          limit: int = MAX_TEXT) -> str | None:
    value = raw.get(field)
    text = str(value).replace("\x00", "").strip() if value is not None else ""
    if not text:
        if required:
            errors[field] = t("err.required", loc)
        return None
    if len(text) > limit:
        errors[field] = t("err.too_long", loc, max=limit)
        return None
    return text


def _share(value: Any, field: str, loc: str, errors: dict[str, str]) -> Decimal | None:
    try:
        share = Decimal(str(value).strip().rstrip("%")) / (100 if str(value).strip().endswith("%") else 1)
    except (InvalidOperation, ValueError):
        errors[field] = t("err.number", loc)
        return None
    if not share.is_finite() or not 0 <= share <= 1:
        errors[field] = t("err.range", loc, min=0, max=1)
        return None
    return share.quantize(Decimal("0.0001"))


def _in_plan(plan: SalesPlan, day: date | None) -> bool:
    return day is not None and plan.period_start <= day <= plan.period_end


def milestone_status(m: PlanMilestone) -> str:
    """A milestone with a done date is done, whatever its status column says."""
    return "done" if m.done_on is not None else m.status


def _plan_dict(session: Session, plan: SalesPlan) -> dict[str, Any]:
    team = session.get(Team, plan.team_id) if plan.team_id else None
    owner = session.get(User, plan.owner_id) if plan.owner_id else None
    return {"id": plan.id, "title": plan.title, "period_start": plan.period_start, "period_end": plan.period_end,
            "team_id": plan.team_id, "team": team.name if team else None, "owner_id": plan.owner_id,
            "owner": owner.display_name if owner else None, "status": plan.status, "budget": plan.budget,
            **{f: getattr(plan, f) for f in STRATEGY_FIELDS}}


# ---------------------------------------------------------------------------
# plans


def create_plan(session: Session, actor: Actor, *, data: Mapping[str, Any]) -> dict[str, Any]:
    """A new plan: title (1–200), period (text, or period_start + period_end), team (the
    actor must be able to edit its plans; none = company, director / admin only), owner
    (default the actor), strategy texts, budget ≥ 0, status (draft | active | closed),
    ``target_ids`` to link (visible targets)."""
    loc = actor.locale
    raw = dict(data)
    errors: dict[str, str] = {}
    title = _text(raw, "title", loc, errors, required=True, limit=MAX_TITLE)
    start = end = None
    if raw.get("period"):
        try:
            kind, first = parse_period(raw["period"], fiscal_start_month(session), loc)
            p = period_of(kind, first)
            start, end = p.start, p.last_day
        except ValidationError as exc:
            errors.update(exc.errors)
    else:
        start, end = raw.get("period_start"), raw.get("period_end")
        if not isinstance(start, date):
            errors["period_start"] = t("err.required", loc)
        if not isinstance(end, date):
            errors["period_end"] = t("err.required", loc)
        elif isinstance(start, date) and end < start:
            errors["period_end"] = t("plans.err.end_before_start", loc)
    budget = check_amount(raw.get("budget", 0), "budget", loc, errors) or Decimal(0)
    status = raw.get("status") or "draft"
    if status not in PLAN_STATUSES:
        errors["status"] = t("err.not_in_list", loc, options=", ".join(PLAN_STATUSES))
    texts = {f: _text(raw, f, loc, errors) for f in STRATEGY_FIELDS}
    team_id = raw.get("team_id")
    if team_id is not None and session.get(Team, team_id) is None:
        errors["team_id"] = t("err.unknown_ref", loc, value=team_id)
    if errors:
        raise ValidationError(errors)
    if not _may_edit(session, actor, team_id):
        raise FieldPermissionDenied({"team_id": t("plans.err.not_yours", loc)})
    owner_id = check_owner(session, actor, raw.get("owner_id"))
    plan = SalesPlan(title=title, period_start=start, period_end=end, team_id=team_id, owner_id=owner_id,
                     budget=budget, status=status, **texts)
    session.add(plan)
    session.flush()
    _link(session, actor, plan, raw.get("target_ids") or [])
    audit.record(session, actor, "sales_plan", plan.id, "create",
                 {"title": [None, title], "period_start": [None, start], "period_end": [None, end],
                  "team_id": [None, team_id], "budget": [None, budget]})
    return _plan_dict(session, plan)


def _link(session: Session, actor: Actor, plan: SalesPlan, target_ids: list[int]) -> None:
    for tid in target_ids:
        if session.scalar(select(Target.id).where(Target.id == tid, visible_target_term(session, actor))) is None:
            raise ValidationError({"target_ids": t("err.unknown_ref", actor.locale, value=tid)})
        if session.get(SalesPlanTarget, (plan.id, tid)) is None:
            session.add(SalesPlanTarget(plan_id=plan.id, target_id=tid))
    session.flush()


def update_plan(session: Session, actor: Actor, *, plan_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change a plan's title, status, budget or strategy texts, link more targets
    (``target_ids``), and set its discount limits (``discount_limits``: role → 0…1) and
    channel shares (``channel_shares``: channel id → 0…1, Σ ≤ 1) — each given mapping
    replaces the plan's previous one."""
    loc = actor.locale
    plan = _load(session, actor, plan_id, edit=True)
    raw = dict(changes)
    errors: dict[str, str] = {}
    before = _plan_dict(session, plan)
    if "title" in raw:
        plan.title = _text(raw, "title", loc, errors, required=True, limit=MAX_TITLE) or plan.title
    for f in STRATEGY_FIELDS:
        if f in raw:
            setattr(plan, f, _text(raw, f, loc, errors))
    if "budget" in raw:
        plan.budget = check_amount(raw["budget"], "budget", loc, errors, required=True) or plan.budget
    if "status" in raw:
        if raw["status"] not in PLAN_STATUSES:
            errors["status"] = t("err.not_in_list", loc, options=", ".join(PLAN_STATUSES))
        else:
            plan.status = raw["status"]
    limits: dict[str, Decimal] = {}
    for role, value in (raw.get("discount_limits") or {}).items():
        if role not in ROLES:
            errors["discount_limits"] = t("err.not_in_list", loc, options=", ".join(ROLES))
        elif (share := _share(value, f"discount_limits.{role}", loc, errors)) is not None:
            limits[role] = share
    shares: dict[int, Decimal] = {}
    for channel_id, value in (raw.get("channel_shares") or {}).items():
        cid = int(channel_id) if str(channel_id).isdigit() else None
        if cid is None or session.get(Channel, cid) is None:
            errors["channel_shares"] = t("err.unknown_ref", loc, value=channel_id)
        elif (share := _share(value, f"channel_shares.{cid}", loc, errors)) is not None:
            shares[cid] = share
    if sum(shares.values(), Decimal(0)) > 1:
        errors["channel_shares"] = t("plans.err.shares_over_one", loc)
    if errors:
        raise ValidationError(errors)
    if "discount_limits" in raw:
        session.execute(delete(PlanDiscountLimit).where(PlanDiscountLimit.plan_id == plan.id))
        session.add_all([PlanDiscountLimit(plan_id=plan.id, role=r, max_discount=v) for r, v in limits.items()])
    if "channel_shares" in raw:
        session.execute(delete(PlanChannelShare).where(PlanChannelShare.plan_id == plan.id))
        session.add_all([PlanChannelShare(plan_id=plan.id, channel_id=c, share=v) for c, v in shares.items()])
    session.add(plan)
    session.flush()
    _link(session, actor, plan, raw.get("target_ids") or [])
    after = _plan_dict(session, plan)
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if limits or "discount_limits" in raw:
        diff["discount_limits"] = [None, json.dumps({r: str(v) for r, v in limits.items()})]
    if shares or "channel_shares" in raw:
        diff["channel_shares"] = [None, json.dumps({str(c): str(v) for c, v in shares.items()})]
    audit.record(session, actor, "sales_plan", plan.id, "update", diff)
    return after


def list_plans(session: Session, actor: Actor, *, team_id: int | None = None) -> list[dict[str, Any]]:
    """The plans the actor may see (optionally of one team), newest period first."""
    stmt = select(SalesPlan).where(_visible_term(session, actor))
    if team_id is not None:
        stmt = stmt.where(SalesPlan.team_id == team_id)
    rows = session.scalars(stmt.order_by(SalesPlan.period_start.desc(), SalesPlan.id)).all()
    return [_plan_dict(session, r) for r in rows]


def get_plan(session: Session, actor: Actor, *, plan_id: int) -> dict[str, Any]:
    """One plan with its strategy (discount limits, channel shares, campaigns), milestones,
    allocations and linked target ids; ``editable`` says whether the actor may change it."""
    plan = _load(session, actor, plan_id)
    out = _plan_dict(session, plan)
    out["editable"] = _may_edit(session, actor, plan.team_id)
    out["discount_limits"] = {r.role: r.max_discount for r in session.scalars(
        select(PlanDiscountLimit).where(PlanDiscountLimit.plan_id == plan.id)).all()}
    out["channel_shares"] = [{"channel_id": c, "channel": n, "share": s} for c, n, s in session.execute(
        select(PlanChannelShare.channel_id, Channel.name, PlanChannelShare.share)
        .join(Channel, Channel.id == PlanChannelShare.channel_id).where(PlanChannelShare.plan_id == plan.id)
        .order_by(Channel.name)).all()]
    out["campaigns"] = [{"id": c.id, "name": c.name, "channel_id": c.channel_id, "starts_on": c.starts_on,
                         "ends_on": c.ends_on, "budget": c.budget} for c in session.scalars(
        select(PlanCampaign).where(PlanCampaign.plan_id == plan.id).order_by(PlanCampaign.starts_on)).all()]
    names = dict(session.execute(select(User.id, User.display_name)).all())
    out["milestones"] = [{"id": m.id, "title": m.title, "owner_id": m.owner_id, "owner": names.get(m.owner_id),
                          "start_on": m.start_on, "due_on": m.due_on, "done_on": m.done_on, "status": milestone_status(m)}
                         for m in session.scalars(select(PlanMilestone).where(PlanMilestone.plan_id == plan.id)
                                                  .order_by(PlanMilestone.due_on, PlanMilestone.id)).all()]
    out["target_ids"] = sorted(session.scalars(select(SalesPlanTarget.target_id)
                                               .where(SalesPlanTarget.plan_id == plan.id)).all())
    return out


# ---------------------------------------------------------------------------
# campaigns, milestones, allocations, spend


def add_campaign(session: Session, actor: Actor, *, plan_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """A promotion campaign: name, channel (optional, active), first and last day inside
    the plan period (last ≥ first), budget ≥ 0."""
    loc = actor.locale
    plan = _load(session, actor, plan_id, edit=True)
    raw = dict(data)
    errors: dict[str, str] = {}
    name = _text(raw, "name", loc, errors, required=True, limit=MAX_TITLE)
    budget = check_amount(raw.get("budget", 0), "budget", loc, errors) or Decimal(0)
    starts, ends = raw.get("starts_on"), raw.get("ends_on")
    for field, day in (("starts_on", starts), ("ends_on", ends)):
        if not isinstance(day, date):
            errors[field] = t("err.required", loc)
        elif not _in_plan(plan, day):
            errors[field] = t("plans.err.outside_period", loc, start=plan.period_start, end=plan.period_end)
    if "starts_on" not in errors and "ends_on" not in errors and ends < starts:
        errors["ends_on"] = t("plans.err.end_before_start", loc)
    channel_id = raw.get("channel_id")
    if channel_id is not None and session.get(Channel, channel_id) is None:
        errors["channel_id"] = t("err.unknown_ref", loc, value=channel_id)
    if errors:
        raise ValidationError(errors)
    row = PlanCampaign(plan_id=plan.id, name=name, channel_id=channel_id, starts_on=starts, ends_on=ends,
                       budget=budget)
    session.add(row)
    session.flush()
    audit.record(session, actor, "plan_campaign", row.id, "create",
                 {"name": [None, name], "starts_on": [None, starts], "ends_on": [None, ends], "budget": [None, budget]})
    return {"id": row.id, "name": name, "channel_id": channel_id, "starts_on": starts, "ends_on": ends,
            "budget": budget}


def add_milestone(session: Session, actor: Actor, *, plan_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """A milestone: title, owner (default the actor; the owner rule), optional start, due
    date inside the plan period (start ≤ due), status planned | in_progress | done."""
    loc = actor.locale
    plan = _load(session, actor, plan_id, edit=True)
    raw = dict(data)
    errors: dict[str, str] = {}
    title = _text(raw, "title", loc, errors, required=True, limit=MAX_TITLE)
    due, start = raw.get("due_on"), raw.get("start_on")
    if not isinstance(due, date):
        errors["due_on"] = t("err.required", loc)
    elif not _in_plan(plan, due):
        errors["due_on"] = t("plans.err.outside_period", loc, start=plan.period_start, end=plan.period_end)
    if start is not None and (not isinstance(start, date) or not _in_plan(plan, start)):
        errors["start_on"] = t("plans.err.outside_period", loc, start=plan.period_start, end=plan.period_end)
    elif start is not None and isinstance(due, date) and start > due:
        errors["start_on"] = t("plans.err.start_after_due", loc)
    status = raw.get("status") or "planned"
    if status not in MILESTONE_STATUSES:
        errors["status"] = t("err.not_in_list", loc, options=", ".join(MILESTONE_STATUSES))
    if errors:
        raise ValidationError(errors)
    owner_id = check_owner(session, actor, raw.get("owner_id"))
    row = PlanMilestone(plan_id=plan.id, title=title, owner_id=owner_id, start_on=start, due_on=due, status=status,
                        done_on=company_today(session) if status == "done" else None)
    session.add(row)
    session.flush()
    audit.record(session, actor, "plan_milestone", row.id, "create",
                 {"title": [None, title], "due_on": [None, due], "owner_id": [None, owner_id], "status": [None, status]})
    return {"id": row.id, "title": title, "owner_id": owner_id, "start_on": start, "due_on": due, "status": status,
            "done_on": row.done_on}


def update_milestone(session: Session, actor: Actor, *, milestone_id: int, changes: Mapping[str, Any],
                     today: date | None = None) -> dict[str, Any]:
    """Change a milestone's status (done sets the done date to today, other statuses clear
    it), title or due date (inside the plan period)."""
    loc = actor.locale
    row = session.get(PlanMilestone, milestone_id) if isinstance(milestone_id, int) else None
    if row is None:
        raise FieldNotFound({"milestone_id": t("err.unknown_ref", loc, value=milestone_id)})
    plan = _load(session, actor, row.plan_id, edit=True)
    raw = dict(changes)
    errors: dict[str, str] = {}
    before = {"title": row.title, "due_on": row.due_on, "status": row.status}
    if "title" in raw:
        row.title = _text(raw, "title", loc, errors, required=True, limit=MAX_TITLE) or row.title
    if "due_on" in raw:
        if not isinstance(raw["due_on"], date) or not _in_plan(plan, raw["due_on"]):
            errors["due_on"] = t("plans.err.outside_period", loc, start=plan.period_start, end=plan.period_end)
        else:
            row.due_on = raw["due_on"]
    if "status" in raw:
        if raw["status"] not in MILESTONE_STATUSES:
            errors["status"] = t("err.not_in_list", loc, options=", ".join(MILESTONE_STATUSES))
        else:
            row.status = raw["status"]
            row.done_on = (today or company_today(session)) if row.status == "done" else None
    if errors:
        raise ValidationError(errors)
    session.add(row)
    session.flush()
    after = {"title": row.title, "due_on": row.due_on, "status": row.status}
    audit.record(session, actor, "plan_milestone", row.id, "update",
                 {k: [before[k], after[k]] for k in after if before[k] != after[k]})
    return {"id": row.id, **after, "done_on": row.done_on}


def add_allocation(session: Session, actor: Actor, *, plan_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """People (headcount, whole) or money (≥ 0) planned for a team, channel and / or region
    (at least one of them), with spent so far for allocations without a channel."""
    loc = actor.locale
    plan = _load(session, actor, plan_id, edit=True)
    raw = dict(data)
    errors: dict[str, str] = {}
    kind = raw.get("kind") or "money"
    if kind not in ALLOCATION_KINDS:
        errors["kind"] = t("err.not_in_list", loc, options=", ".join(ALLOCATION_KINDS))
    planned = check_amount(raw.get("planned"), "planned", loc, errors, required=True)
    if kind == "people" and planned is not None and planned != planned.to_integral_value():
        errors["planned"] = t("err.integer", loc)
    spent = check_amount(raw.get("spent", 0), "spent", loc, errors) or Decimal(0)
    team_id, channel_id = raw.get("team_id"), raw.get("channel_id")
    region = _text(raw, "region", loc, errors, limit=60)
    if team_id is not None and session.get(Team, team_id) is None:
        errors["team_id"] = t("err.unknown_ref", loc, value=team_id)
    if channel_id is not None and session.get(Channel, channel_id) is None:
        errors["channel_id"] = t("err.unknown_ref", loc, value=channel_id)
    if team_id is None and channel_id is None and region is None:
        errors["team_id"] = t("plans.err.allocation_target", loc)
    if errors:
        raise ValidationError(errors)
    row = PlanAllocation(plan_id=plan.id, kind=kind, team_id=team_id, channel_id=channel_id, region=region,
                         planned=planned, spent=spent, note=_text(raw, "note", loc, errors, limit=200))
    session.add(row)
    session.flush()
    audit.record(session, actor, "plan_allocation", row.id, "create",
                 {"kind": [None, kind], "planned": [None, planned], "team_id": [None, team_id],
                  "channel_id": [None, channel_id], "region": [None, region]})
    return {"id": row.id, "kind": kind, "team_id": team_id, "channel_id": channel_id, "region": region,
            "planned": planned, "spent": spent}


def record_spend(session: Session, actor: Actor, *, plan_id: int, channel_id: int, month: date, amount: Any,
                 today: date | None = None) -> dict[str, Any]:
    """Actual spend of a channel in a month (one number per channel × month, replaced when
    entered again), entered through a plan the actor may edit: the month must overlap the
    plan period and not lie after the current month."""
    loc = actor.locale
    plan = _load(session, actor, plan_id, edit=True)
    errors: dict[str, str] = {}
    value = check_amount(amount, "amount", loc, errors, required=True)
    if not isinstance(month, date):
        errors["month"] = t("err.required", loc)
    else:
        month = month_start(month)
        current = month_start(today or company_today(session))
        if month > current:
            errors["month"] = t("plans.err.future_month", loc, month=f"{current:%Y-%m}")
        elif add_months(month, 1) <= plan.period_start or month > plan.period_end:
            errors["month"] = t("plans.err.outside_period", loc, start=plan.period_start, end=plan.period_end)
    if session.get(Channel, channel_id) is None:
        errors["channel_id"] = t("err.unknown_ref", loc, value=channel_id)
    if errors:
        raise ValidationError(errors)
    row = session.scalars(select(MarketingSpend).where(MarketingSpend.channel_id == channel_id,
                                                       MarketingSpend.month == month).with_for_update()).first()
    old = row.amount if row else None
    if row is None:
        row = MarketingSpend(channel_id=channel_id, month=month, amount=value)
    row.amount = value
    session.add(row)
    session.flush()
    audit.record(session, actor, "marketing_spend", row.id, "update" if old is not None else "create",
                 {"amount": [old, value], "month": [None, month], "channel_id": [None, channel_id]})
    return {"channel_id": channel_id, "month": month, "amount": value}


# ---------------------------------------------------------------------------
# budget and progress


def _budget_rows(session: Session, plan: SalesPlan) -> list[dict[str, Any]]:
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    channels = dict(session.execute(select(Channel.id, Channel.name)).all())
    last_month = month_start(plan.period_end)
    out = []
    for a in session.scalars(select(PlanAllocation).where(PlanAllocation.plan_id == plan.id)
                             .order_by(PlanAllocation.kind, PlanAllocation.id)).all():
        if a.kind == "money" and a.channel_id is not None:
            spent = Decimal(session.scalar(select(func.sum(MarketingSpend.amount)).where(
                MarketingSpend.channel_id == a.channel_id, MarketingSpend.month >= month_start(plan.period_start),
                MarketingSpend.month <= last_month)) or 0)
        else:
            spent = Decimal(a.spent or 0)
        label = " / ".join(x for x in (teams.get(a.team_id), channels.get(a.channel_id), a.region) if x)
        out.append({"id": a.id, "kind": a.kind, "label": label, "team_id": a.team_id, "channel_id": a.channel_id,
                    "region": a.region, "planned": Decimal(a.planned), "spent": spent.quantize(Decimal("0.01")),
                    "over_budget": a.kind == "money" and spent > a.planned})
    return out


def plan_budget(session: Session, actor: Actor, *, plan_id: int) -> list[dict[str, Any]]:
    """Planned vs spent per allocation (module docstring), ``over_budget`` when money spent
    exceeds what was planned."""
    return _budget_rows(session, _load(session, actor, plan_id))


def plan_progress(session: Session, actor: Actor, *, plan_id: int, today: date | None = None) -> dict[str, Any]:
    """One screen of progress: milestones done / total / overdue (due before today, not
    done), money planned / spent / used (spent ÷ planned), and the linked targets the actor
    may see with their attainment (``goals.tracking``)."""
    plan = _load(session, actor, plan_id)
    today = today or company_today(session)
    miles = session.scalars(select(PlanMilestone).where(PlanMilestone.plan_id == plan.id)).all()
    money = [r for r in _budget_rows(session, plan) if r["kind"] == "money"]
    planned = sum((r["planned"] for r in money), Decimal(0))
    spent = sum((r["spent"] for r in money), Decimal(0))
    fiscal = fiscal_start_month(session)
    targets = session.scalars(select(Target).join(SalesPlanTarget, SalesPlanTarget.target_id == Target.id).where(
        SalesPlanTarget.plan_id == plan.id, visible_target_term(session, actor)).order_by(Target.id)).all()
    return {
        "plan_id": plan.id,
        "milestones_total": len(miles), "milestones_done": sum(1 for m in miles if milestone_status(m) == "done"),
        "milestones_overdue": sum(1 for m in miles if milestone_status(m) != "done" and m.due_on < today),
        "budget_planned": planned, "budget_spent": spent,
        "budget_used": round(float(spent / planned), 4) if planned else None,
        "elapsed": round(min(max((today - plan.period_start).days + 1, 0) /
                             ((plan.period_end - plan.period_start).days + 1), 1), 4),
        "targets": [progress_of(session, r, today=today, fiscal=fiscal) for r in targets],
    }


# ---------------------------------------------------------------------------
# pricing: the discount limit


def discount_limit(session: Session, *, role: str, owner_id: int | None, day: date) -> tuple[Decimal, SalesPlan] | None:
    """The limit that applies to ``role`` on a deal of ``owner_id`` on ``day``: from the
    active plan covering the day for the owner's team (or a team above it) — the nearest
    team's plan first — else the company plan; None without one."""
    owner = session.get(User, owner_id) if owner_id is not None else None
    chain: list[int | None] = []
    team_id = owner.team_id if owner else None
    parents = team_parents(session)
    while team_id is not None and team_id not in chain:
        chain.append(team_id)
        team_id = parents.get(team_id)
    chain.append(None)
    rows = session.execute(
        select(SalesPlan, PlanDiscountLimit.max_discount).join(PlanDiscountLimit, PlanDiscountLimit.plan_id == SalesPlan.id)
        .where(SalesPlan.status == "active", SalesPlan.period_start <= day, SalesPlan.period_end >= day,
               PlanDiscountLimit.role == role,
               or_(SalesPlan.team_id.is_(None), SalesPlan.team_id.in_([c for c in chain if c is not None] or [-1])))
    ).all()
    if not rows:
        return None
    rank = {tid: i for i, tid in enumerate(chain)}
    plan, limit = min(rows, key=lambda r: (rank.get(r[0].team_id, len(chain)), r[0].id))
    return Decimal(limit), plan


def check_discount(session: Session, actor: Actor, *, product_id: int | None, amount: Any,
                   owner_id: int | None = None, today: date | None = None, field: str = "amount") -> None:
    """Refuse a deal amount below the product's list price × (1 − the discount limit of
    the actor's role) while an active plan sets one (``discount_limit``); nothing to check
    without a product, an amount, a list price or a limit."""
    if product_id is None or amount is None:
        return
    product = session.get(Product, product_id)
    if product is None or not product.list_price:
        return
    found = discount_limit(session, role=actor.role, owner_id=owner_id if owner_id is not None else actor.id,
                           day=today or company_today(session))
    if found is None:
        return
    limit, plan = found
    floor = (Decimal(product.list_price) * (1 - limit)).quantize(Decimal("0.01"))
    if Decimal(amount) < floor:
        raise ValidationError({field: t("plans.err.discount", actor.locale, limit=f"{(limit * 100).normalize():f}",
                                        role=actor.role, floor=f"{floor:,.2f}", plan=plan.title)})


def plan_months(plan_start: date, plan_end: date) -> list[date]:
    """First days of the plan's months (for the spend form)."""
    out, m = [], month_start(plan_start)
    while m <= plan_end:
        out.append(m)
        m = add_months(m, 1)
    return out


__all__ = ["add_allocation", "add_campaign", "add_milestone", "check_discount", "create_plan", "discount_limit",
           "get_plan", "list_plans", "plan_budget", "plan_months", "plan_progress", "record_spend", "update_milestone",
           "update_plan"]
