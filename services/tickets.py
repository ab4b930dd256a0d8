"""After-sales service tickets (售后服务): open → assigned → resolved → closed, reopen.

Rules:
- A ticket belongs to a customer; who may see a ticket is who may see its customer
  (``access.customer_filter``), plus its assignee. Who may work on it (open, assign, resolve,
  close, reopen) is who may edit the customer (a rep: their own customers; a manager: their
  teams' and the pool), plus the assignee for resolve / close / reopen.
- Assigning follows the owner rule: a rep may assign only themselves; a manager a user of
  their teams; directors and admins anyone. The assignee must be an active user.
- Resolving needs a resolution text and the customer's satisfaction 1–5 (the survey answer
  given when the problem is solved; 5 = very satisfied).
- Closing is possible from resolved only; reopening (from resolved or closed) clears the
  resolution and satisfaction, so the next resolve asks again. Every step is audited.
- Ticket age = days from opened to resolved (or to now while unresolved).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from services import audit
from services.access import (
    Actor,
    customer_filter,
    ensure_can_edit_customer,
    ensure_owner_assignable,
    get_visible_customer,
    load_visible,
)
from services.errors import PermissionDenied, ValidationError
from services.i18n import t
from services.models import (
    TICKET_CATEGORIES,
    TICKET_PRIORITIES,
    Customer,
    ServiceTicket,
    ServiceTicketRead,
    User,
    utcnow,
)

OPEN_STATUSES = ("open", "assigned")
MAX_TEXT = 5000
#: A ticket opened again for the same customer with the same title this soon is a repeat click.
REPEAT_WINDOW = timedelta(minutes=2)
TICKET_COLUMNS = ["id", "customer_id", "customer_name", "owner_name", "title", "category", "priority", "status",
                  "assignee_id", "assignee_name", "opened_at", "resolved_at", "closed_at", "age_days",
                  "satisfaction", "resolution", "description"]
PRIORITY_RANK = {p: i for i, p in enumerate(reversed(TICKET_PRIORITIES))}  # urgent first


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def ticket_age_days(opened_at: datetime, resolved_at: datetime | None, now: datetime) -> float:
    """Days from opening to resolution (to ``now`` while unresolved), one decimal."""
    end = _aware(resolved_at) or _aware(now)
    return round(max((end - _aware(opened_at)).total_seconds(), 0) / 86400, 1)


def _read(row: ServiceTicket) -> ServiceTicketRead:
    return ServiceTicketRead.model_validate(row, from_attributes=True)


def _text(value: Any, field: str, locale: str, errors: dict[str, str], *, required: bool, limit: int) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[field] = t("err.required", locale)
        return None
    if not isinstance(value, str):
        errors[field] = t("err.required", locale)
        return None
    text = value.replace("\x00", "").strip()
    if len(text) > limit:
        errors[field] = t("err.too_long", locale, max=limit)
        return None
    return text


def _check_assignee(session: Session, actor: Actor, assignee_id: Any, errors: dict[str, str]) -> int | None:
    if assignee_id is None:
        return None
    if isinstance(assignee_id, bool) or not isinstance(assignee_id, int):
        errors["assignee_id"] = t("err.integer", actor.locale)
        return None
    user = session.get(User, assignee_id)
    if user is None or not user.active:
        errors["assignee_id"] = t("err.unknown_ref", actor.locale, value=assignee_id)
        return None
    try:
        ensure_owner_assignable(session, actor, assignee_id)
    except PermissionDenied:
        errors["assignee_id"] = t("tickets.err.assignee_not_allowed", actor.locale)
        return None
    return assignee_id


def open_ticket(session: Session, actor: Actor, *, data: Mapping[str, Any] | Any,
                now: datetime | None = None) -> ServiceTicketRead:
    """Open a ticket for a customer the actor may edit. title required (≤ 200); category
    and priority from the vocabularies (default usage / normal); optional description and
    assignee (then the ticket starts as assigned). The same open title for the same customer
    within ``REPEAT_WINDOW`` is refused as a repeat (a double click)."""
    raw = data.model_dump(exclude_unset=True) if hasattr(data, "model_dump") else dict(data)
    loc = actor.locale
    errors: dict[str, str] = {}
    title = _text(raw.get("title"), "title", loc, errors, required=True, limit=200)
    description = _text(raw.get("description"), "description", loc, errors, required=False, limit=MAX_TEXT)
    category = raw.get("category") or "usage"
    if category not in TICKET_CATEGORIES:
        errors["category"] = t("err.not_in_list", loc, options=", ".join(TICKET_CATEGORIES))
    priority = raw.get("priority") or "normal"
    if priority not in TICKET_PRIORITIES:
        errors["priority"] = t("err.not_in_list", loc, options=", ".join(TICKET_PRIORITIES))
    customer_id = raw.get("customer_id")
    if isinstance(customer_id, bool) or not isinstance(customer_id, int):
        errors["customer_id"] = t("err.required", loc)
    assignee_id = _check_assignee(session, actor, raw.get("assignee_id"), errors)
    if errors:
        raise ValidationError(errors)
    customer = get_visible_customer(session, actor, customer_id)
    ensure_can_edit_customer(session, actor, customer)
    opened_at = _aware(now) or utcnow()
    # a second click on "open ticket" must not open the same ticket twice
    twin = session.scalar(select(ServiceTicket.id).where(
        ServiceTicket.customer_id == customer_id, func.lower(ServiceTicket.title) == title.lower(),
        ServiceTicket.status.in_(OPEN_STATUSES), ServiceTicket.opened_at >= opened_at - REPEAT_WINDOW,
        ServiceTicket.opened_at <= opened_at + REPEAT_WINDOW))
    if twin is not None:
        raise ValidationError({"title": t("tickets.err.just_opened", loc, id=twin)})
    row = ServiceTicket(customer_id=customer_id, title=title, description=description, category=category,
                        priority=priority, assignee_id=assignee_id,
                        status="assigned" if assignee_id else "open", opened_at=opened_at)
    session.add(row)
    session.flush()
    audit.record(session, actor, "service_ticket", row.id, "create",
                 {k: [None, v] for k, v in {"customer_id": customer_id, "title": title, "category": category,
                                            "priority": priority, "assignee_id": assignee_id}.items() if v})
    return _read(row)


def _visible_ticket(session: Session, actor: Actor, ticket_id: int) -> ServiceTicket:
    """Tickets are seen through their customer (or by their assignee)."""
    return load_visible(session, actor, ServiceTicket, ticket_id, field="ticket_id",
                        join=(Customer, Customer.id == ServiceTicket.customer_id),
                        visible=or_(customer_filter(session, actor), ServiceTicket.assignee_id == actor.id))


def _workable_ticket(session: Session, actor: Actor, ticket_id: int, *, assignee_may: bool) -> ServiceTicket:
    """The ticket if the actor may edit its customer (or is its assignee, when allowed)."""
    row = _visible_ticket(session, actor, ticket_id)
    if assignee_may and row.assignee_id is not None and row.assignee_id == actor.id:
        return row
    ensure_can_edit_customer(session, actor, session.get(Customer, row.customer_id))
    return row


def _transition_error(actor: Actor, row: ServiceTicket, action: str) -> ValidationError:
    return ValidationError({"status": t("tickets.err.transition", actor.locale,
                                        status=t(f"tickets.status.{row.status}", actor.locale),
                                        action=t(f"tickets.action.{action}", actor.locale))})


def assign_ticket(session: Session, actor: Actor, *, ticket_id: int, assignee_id: int) -> ServiceTicketRead:
    """Give an open or assigned ticket to a user (see the assignment rule above)."""
    row = _workable_ticket(session, actor, ticket_id, assignee_may=False)
    errors: dict[str, str] = {}
    if assignee_id is None:
        errors["assignee_id"] = t("err.required", actor.locale)
    checked = _check_assignee(session, actor, assignee_id, errors)
    if errors:
        raise ValidationError(errors)
    if row.status not in OPEN_STATUSES:
        raise _transition_error(actor, row, "assign")
    before = {"assignee_id": row.assignee_id, "status": row.status}
    row.assignee_id, row.status = checked, "assigned"
    session.add(row)
    audit.record(session, actor, "service_ticket", row.id, "assign",
                 audit.changed_fields(before, {"assignee_id": row.assignee_id, "status": row.status}))
    session.flush()
    return _read(row)


def resolve_ticket(session: Session, actor: Actor, *, ticket_id: int, resolution: str, satisfaction: int,
                   now: datetime | None = None) -> ServiceTicketRead:
    """Resolve an open or assigned ticket: resolution text required (≤ 5000) and the
    customer's satisfaction, a whole number 1–5."""
    loc = actor.locale
    row = _workable_ticket(session, actor, ticket_id, assignee_may=True)
    errors: dict[str, str] = {}
    text = _text(resolution, "resolution", loc, errors, required=True, limit=MAX_TEXT)
    if satisfaction is None:
        errors["satisfaction"] = t("err.required", loc)
    elif isinstance(satisfaction, bool) or not isinstance(satisfaction, int):
        errors["satisfaction"] = t("err.integer", loc)
    elif not 1 <= satisfaction <= 5:
        errors["satisfaction"] = t("err.range", loc, min=1, max=5)
    if errors:
        raise ValidationError(errors)
    if row.status not in OPEN_STATUSES:
        raise _transition_error(actor, row, "resolve")
    before = {"status": row.status, "resolution": row.resolution, "satisfaction": row.satisfaction}
    row.status, row.resolution, row.satisfaction = "resolved", text, satisfaction
    row.resolved_at = _aware(now) or utcnow()
    session.add(row)
    audit.record(session, actor, "service_ticket", row.id, "resolve",
                 audit.changed_fields(before, {"status": "resolved", "resolution": text,
                                               "satisfaction": satisfaction}))
    session.flush()
    return _read(row)


def close_ticket(session: Session, actor: Actor, *, ticket_id: int, now: datetime | None = None) -> ServiceTicketRead:
    """Close a resolved ticket (the customer confirmed, or nothing more to do)."""
    row = _workable_ticket(session, actor, ticket_id, assignee_may=True)
    if row.status != "resolved":
        raise _transition_error(actor, row, "close")
    row.status, row.closed_at = "closed", _aware(now) or utcnow()
    session.add(row)
    audit.record(session, actor, "service_ticket", row.id, "close", {"status": ["resolved", "closed"]})
    session.flush()
    return _read(row)


def reopen_ticket(session: Session, actor: Actor, *, ticket_id: int) -> ServiceTicketRead:
    """Reopen a resolved or closed ticket: back to assigned (or open without assignee);
    resolution and satisfaction are cleared (kept in the audit trail)."""
    row = _workable_ticket(session, actor, ticket_id, assignee_may=True)
    if row.status not in ("resolved", "closed"):
        raise _transition_error(actor, row, "reopen")
    before = {"status": row.status, "resolution": row.resolution, "satisfaction": row.satisfaction}
    row.status = "assigned" if row.assignee_id else "open"
    row.resolution = row.satisfaction = row.resolved_at = row.closed_at = None
    session.add(row)
    audit.record(session, actor, "service_ticket", row.id, "reopen",
                 audit.changed_fields(before, {"status": row.status, "resolution": None, "satisfaction": None}))
    session.flush()
    return _read(row)


def _ticket_select():
    owner, assignee = aliased(User), aliased(User)
    return (
        select(ServiceTicket, Customer.name.label("customer_name"), owner.display_name.label("owner_name"),
               assignee.display_name.label("assignee_name"))
        .join(Customer, Customer.id == ServiceTicket.customer_id)
        .outerjoin(owner, owner.id == Customer.owner_id)
        .outerjoin(assignee, assignee.id == ServiceTicket.assignee_id)
    )


def _frame(rows, now: datetime) -> pd.DataFrame:
    records = []
    for tk, customer_name, owner_name, assignee_name in rows:
        records.append({
            "id": tk.id, "customer_id": tk.customer_id, "customer_name": customer_name, "owner_name": owner_name,
            "title": tk.title, "category": tk.category, "priority": tk.priority, "status": tk.status,
            "assignee_id": tk.assignee_id, "assignee_name": assignee_name, "opened_at": _aware(tk.opened_at),
            "resolved_at": _aware(tk.resolved_at), "closed_at": _aware(tk.closed_at),
            "age_days": ticket_age_days(tk.opened_at, tk.resolved_at, now), "satisfaction": tk.satisfaction,
            "resolution": tk.resolution, "description": tk.description,
        })
    return pd.DataFrame.from_records(records, columns=TICKET_COLUMNS)


def list_customer_tickets(session: Session, actor: Actor, *, customer_id: int,
                          now: datetime | None = None) -> pd.DataFrame:
    """All tickets of a visible customer (NotFound otherwise): unresolved first, then
    newest first, with age in days."""
    get_visible_customer(session, actor, customer_id)
    stmt = _ticket_select().where(ServiceTicket.customer_id == customer_id).order_by(
        ServiceTicket.status.in_(OPEN_STATUSES).desc(), ServiceTicket.opened_at.desc(), ServiceTicket.id.desc())
    return _frame(session.execute(stmt).all(), _aware(now) or utcnow())


def list_open_tickets_by_age(session: Session, actor: Actor, *, now: datetime | None = None,
                             limit: int = 200) -> pd.DataFrame:
    """Unresolved tickets (open or assigned) of the customers the actor may see plus those
    assigned to them, oldest first — the manager's list of what is waiting longest."""
    stmt = (
        _ticket_select()
        .where(ServiceTicket.status.in_(OPEN_STATUSES),
               or_(customer_filter(session, actor), ServiceTicket.assignee_id == actor.id))
        .order_by(ServiceTicket.opened_at.asc(), ServiceTicket.id.asc())
        .limit(limit)
    )
    return _frame(session.execute(stmt).all(), _aware(now) or utcnow())


def count_open_tickets(session: Session, actor: Actor) -> int:
    """How many unresolved tickets the actor sees (for badges)."""
    from sqlalchemy import func

    return int(session.scalar(
        select(func.count()).select_from(ServiceTicket).join(Customer, Customer.id == ServiceTicket.customer_id)
        .where(and_(ServiceTicket.status.in_(OPEN_STATUSES),
                    or_(customer_filter(session, actor), ServiceTicket.assignee_id == actor.id)))
    ) or 0)
