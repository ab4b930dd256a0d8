"""Contacts: the people at a customer. One primary contact per customer.

Contacts are private contact details: only those who may see the customer's private
fields (its owner's chain, managers for pool customers) can list them; only those who
may edit the customer can change them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from services import audit
from services.access import Actor, can_see_private, ensure_can_edit_customer, get_visible_customer
from services.errors import NotFound, PermissionDenied, ValidationError
from services.i18n import t
from services.models import Contact, ContactCreate, ContactRead, ContactUpdate
from services.models.fields import valid_email, valid_phone
from services.validation import as_text, is_missing

CONTACT_FIELDS = ("name", "title", "phone", "email", "is_primary", "notes")
LIMITS = {"name": 120, "title": 80, "notes": 5000}


def validate_contact_fields(data: dict[str, Any], locale: str | None, *, partial: bool = False) -> tuple[dict, dict]:
    """name required ≤ 120; title ≤ 80; phone 7–20 digits; email format; is_primary bool.
    Never raises on odd input → (clean, errors)."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in [f for f in CONTACT_FIELDS if f in data] if partial else CONTACT_FIELDS:
        raw = data.get(f)
        if f == "is_primary":
            if is_missing(raw):
                clean[f] = False
            elif isinstance(raw, bool):
                clean[f] = raw
            else:
                errors[f] = t("err.not_in_list", locale, options="true, false")
            continue
        if is_missing(raw):
            if f == "name":
                errors[f] = t("err.required", locale)
            else:
                clean[f] = None
            continue
        text = as_text(raw)
        if text is None:
            errors[f] = t("customers.err_text", locale)
        elif f == "phone" and not valid_phone(text):
            errors[f] = t("err.phone_format", locale)
        elif f == "email" and not valid_email(text):
            errors[f] = t("err.email_format", locale)
        elif f in LIMITS and len(text) > LIMITS[f]:
            errors[f] = t("err.too_long", locale, max=LIMITS[f])
        else:
            clean[f] = text
    return clean, errors


def _readable_customer(session: Session, actor: Actor, customer_id: int):
    customer = get_visible_customer(session, actor, customer_id)
    if not can_see_private(session, actor, customer.owner_id):
        raise PermissionDenied(t("err.permission", actor.locale, detail=t("customers.private_hidden", actor.locale)))
    return customer


def _editable_customer(session: Session, actor: Actor, customer_id: int):
    customer = get_visible_customer(session, actor, customer_id)
    ensure_can_edit_customer(session, actor, customer)
    return customer


def list_contacts(session: Session, actor: Actor, *, customer_id: int) -> list[ContactRead]:
    """Contacts of a customer, primary first (NotFound if the customer is invisible;
    PermissionDenied for a rep on a pool customer)."""
    _readable_customer(session, actor, customer_id)
    rows = session.scalars(
        select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.is_primary.desc(), Contact.name)
    ).all()
    return [ContactRead.model_validate(r, from_attributes=True) for r in rows]


def _unset_other_primaries(session: Session, customer_id: int, keep_id: int) -> None:
    session.execute(
        update(Contact).where(Contact.customer_id == customer_id, Contact.id != keep_id, Contact.is_primary.is_(True))
        .values(is_primary=False).execution_options(synchronize_session=False)
    )


def create_contact(session: Session, actor: Actor, *, data: ContactCreate | dict[str, Any]) -> ContactRead:
    """Add a contact to a customer the actor may edit. The first contact of a customer, or
    one marked primary, becomes the only primary one."""
    raw = data.model_dump() if hasattr(data, "model_dump") else dict(data)
    customer_id = raw.get("customer_id")
    if not isinstance(customer_id, int) or isinstance(customer_id, bool):
        raise ValidationError({"customer_id": t("err.integer", actor.locale)})
    clean, errors = validate_contact_fields(raw, actor.locale)
    if errors:
        raise ValidationError(errors)
    _editable_customer(session, actor, customer_id)
    has_any = session.scalar(select(Contact.id).where(Contact.customer_id == customer_id).limit(1)) is not None
    if not has_any:
        clean["is_primary"] = True
    row = Contact(customer_id=customer_id, **clean)
    session.add(row)
    session.flush()
    if row.is_primary:
        _unset_other_primaries(session, customer_id, row.id)
    audit.record(session, actor, "contact", row.id, "create", {k: [None, v] for k, v in clean.items() if v})
    session.flush()
    return ContactRead.model_validate(row, from_attributes=True)


def update_contact(session: Session, actor: Actor, *, contact_id: int, data: ContactUpdate | dict[str, Any]) -> ContactRead:
    """Change a contact's fields (only those given)."""
    raw = data.model_dump(exclude_unset=True) if hasattr(data, "model_dump") else dict(data)
    row = session.get(Contact, contact_id)
    if row is None:
        raise NotFound(t("err.not_found", actor.locale, detail=f"contact {contact_id}"))
    _editable_customer(session, actor, row.customer_id)
    clean, errors = validate_contact_fields(raw, actor.locale, partial=True)
    if errors:
        raise ValidationError(errors)
    before = {k: getattr(row, k) for k in clean}
    for k, v in clean.items():
        setattr(row, k, v)
    session.add(row)
    session.flush()
    if clean.get("is_primary"):
        _unset_other_primaries(session, row.customer_id, row.id)
    changes = audit.changed_fields(before, clean)
    if changes:
        audit.record(session, actor, "contact", row.id, "update", changes)
    session.flush()
    return ContactRead.model_validate(row, from_attributes=True)


def set_primary_contact(session: Session, actor: Actor, *, contact_id: int) -> ContactRead:
    """Make this contact the customer's only primary contact."""
    return update_contact(session, actor, contact_id=contact_id, data={"is_primary": True})


def delete_contact(session: Session, actor: Actor, *, contact_id: int) -> None:
    """Remove a contact; if it was primary, the next contact (by name) becomes primary."""
    row = session.get(Contact, contact_id)
    if row is None:
        raise NotFound(t("err.not_found", actor.locale, detail=f"contact {contact_id}"))
    _editable_customer(session, actor, row.customer_id)
    customer_id, was_primary = row.customer_id, row.is_primary
    audit.record(session, actor, "contact", row.id, "delete", {"name": [row.name, None]})
    session.delete(row)
    session.flush()
    if was_primary:
        nxt = session.scalars(select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.name)).first()
        if nxt is not None:
            nxt.is_primary = True
            session.add(nxt)
            session.flush()
