"""Team events (团队建设): date, team, kind, participants, cost, notes, and who took part; the
cost counts against a sales plan's budget — the plan named on the event, else the plan of
the event's team whose period holds the event's date (read-only sums; plans are the goals
area's).

Who may: a manager (or above) records events for teams they manage and participants they may
see; everyone reads the events of their own teams (a rep: their team's).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from services import audit
from services.access import Actor, managed_team_ids, team_subtree_ids, visible_user_ids
from services.errors import FieldPermissionDenied, NotFound, ValidationError
from services.i18n import t
from services.models import EVENT_KINDS, SalesPlan, Team, TeamEvent, TeamEventParticipant, User
from services.models.fields import clean_text
from services.training.courses import _day, require_manager
from services.validation import check_amount


def _event_teams(session: Session, actor: Actor) -> set[int] | None:
    """Teams whose events the actor reads (None = all)."""
    if actor.sees_all:
        return None
    if actor.role == "manager":
        return managed_team_ids(session, actor)
    return {actor.team_id} if actor.team_id else set()


def add_event(session: Session, actor: Actor, *, values: dict[str, Any], participant_ids: list[int] | None = None) -> dict[str, Any]:
    """A team event (manager+): title, held_on, team (one they manage), kind, cost (money ≥ 0),
    notes, an optional plan, and the participants (users they may see)."""
    require_manager(actor)
    loc, errors = actor.locale, {}
    title = clean_text(values.get("title") or "") or ""
    if not title:
        errors["title"] = t("err.required", loc)
    held = _day(values.get("held_on"), "held_on", loc, errors)
    kind = values.get("kind") or "team_building"
    if kind not in EVENT_KINDS:
        errors["kind"] = t("err.not_in_list", loc, options=", ".join(EVENT_KINDS))
    cost = check_amount(values.get("cost") or "0", "cost", loc, errors)
    team_id = values.get("team_id")
    teams = _event_teams(session, actor)
    if team_id is None:
        errors["team_id"] = t("err.required", loc)
    elif session.get(Team, team_id) is None:
        errors["team_id"] = t("err.unknown_ref", loc, value=team_id)
    elif teams is not None and team_id not in teams:
        raise FieldPermissionDenied({"team_id": t("training.err.not_your_team", loc)})
    plan_id = values.get("plan_id")
    if plan_id is not None and session.get(SalesPlan, plan_id) is None:
        errors["plan_id"] = t("err.unknown_ref", loc, value=plan_id)
    ids = sorted(set(participant_ids or []))
    visible = visible_user_ids(session, actor)
    if visible is not None and set(ids) - visible:
        raise FieldPermissionDenied({"participant_ids": t("err.owner_not_allowed", loc)})
    if errors:
        raise ValidationError(errors)
    event = TeamEvent(title=title[:200], held_on=held, team_id=team_id, kind=kind, cost=cost or Decimal("0"),
                      participants=len(ids), notes=clean_text(values.get("notes") or "") or None, plan_id=plan_id)
    session.add(event)
    session.flush()
    for uid in ids:
        session.add(TeamEventParticipant(event_id=event.id, user_id=uid))
    session.flush()
    audit.record(session, actor, "team_event", event.id, "create", {"title": [None, title], "cost": [None, cost]})
    return {"id": event.id, "title": event.title, "held_on": held, "team_id": team_id, "kind": kind, "cost": event.cost,
            "participants": len(ids)}


def list_events(session: Session, actor: Actor, *, start: date | None = None, end: date | None = None) -> list[dict[str, Any]]:
    """Events of the actor's teams (with subteams), newest first, with the plan they count
    against and whether the actor took part."""
    teams = _event_teams(session, actor)
    stmt = select(TeamEvent, Team.name).outerjoin(Team, Team.id == TeamEvent.team_id).order_by(TeamEvent.held_on.desc())
    if teams is not None:
        scope = team_subtree_ids(session, teams)
        if not scope:
            return []
        stmt = stmt.where(TeamEvent.team_id.in_(sorted(scope)))
    if start:
        stmt = stmt.where(TeamEvent.held_on >= start)
    if end:
        stmt = stmt.where(TeamEvent.held_on < end)
    rows = session.execute(stmt).all()
    mine = set(session.scalars(select(TeamEventParticipant.event_id).where(TeamEventParticipant.user_id == actor.id)).all()) \
        if actor.id else set()
    return [{"id": e.id, "title": e.title, "held_on": e.held_on, "team": name, "team_id": e.team_id, "kind": e.kind,
             "participants": e.participants, "cost": e.cost, "notes": e.notes, "plan_id": e.plan_id,
             "took_part": e.id in mine} for e, name in rows]


def set_participation(session: Session, actor: Actor, *, event_id: int, user_id: int, took_part: bool) -> dict[str, Any]:
    """Mark a user (one the actor may see) as having taken part or not (manager+); the
    event's participant count follows."""
    require_manager(actor)
    teams = _event_teams(session, actor)
    event = session.scalars(select(TeamEvent).where(TeamEvent.id == event_id).with_for_update()).first()
    visible = visible_user_ids(session, actor)
    if event is None or (teams is not None and event.team_id not in team_subtree_ids(session, teams)) \
            or (visible is not None and user_id not in visible) or session.get(User, user_id) is None:
        raise NotFound(t("err.not_allowed", actor.locale))
    row = session.get(TeamEventParticipant, (event_id, user_id))
    if took_part and row is None:
        session.add(TeamEventParticipant(event_id=event_id, user_id=user_id))
    elif not took_part and row is not None:
        session.delete(row)
    session.flush()
    event.participants = session.scalar(select(func.count()).select_from(TeamEventParticipant)
                                        .where(TeamEventParticipant.event_id == event_id)) or 0
    session.add(event)
    audit.record(session, actor, "team_event", event_id, "participation", {"user_id": [None, user_id]})
    return {"event_id": event_id, "participants": event.participants}


def plan_event_costs(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Per sales plan of the actor's teams: its budget, the cost of the events counted against
    it (named on the event, else same team with the date inside the plan's period) and what
    is left."""
    teams = _event_teams(session, actor)
    stmt = select(SalesPlan).order_by(SalesPlan.period_start.desc())
    if teams is not None:
        scope = team_subtree_ids(session, teams)
        stmt = stmt.where(or_(SalesPlan.team_id.in_(sorted(scope)), SalesPlan.owner_id == actor.id))
    out = []
    for plan in session.scalars(stmt).all():
        cost = session.scalar(select(func.coalesce(func.sum(TeamEvent.cost), 0)).where(or_(
            TeamEvent.plan_id == plan.id,
            (TeamEvent.plan_id.is_(None)) & (TeamEvent.team_id == plan.team_id) & (TeamEvent.held_on >= plan.period_start)
            & (TeamEvent.held_on <= plan.period_end))))
        cost = Decimal(str(cost or 0)).quantize(Decimal("0.01"))
        out.append({"plan_id": plan.id, "plan": plan.title, "budget": plan.budget, "event_cost": cost,
                    "left": plan.budget - cost})
    return out
