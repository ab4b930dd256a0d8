"""Customer field rules applied: validation of raw values, column normalisation, and the one
insert path that imports and the create form share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pydantic
from sqlalchemy import (
    select,
)
from sqlmodel import Session

from services import audit
from services.access import (
    Actor,
    ensure_owner_assignable,
)
from services.collation import name_sort_key
from services.dedupe import (
    CREDIT_CHARS,
    credit_code_check_char,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from services.errors import ValidationError
from services.i18n import t
from services.models import (
    Channel,
    Customer,
    CustomerCreate,
    CustomerUpdate,
    User,
    utcnow,
)
from services.validation import FieldRuleError, as_text, cell_int, field_message, is_missing

# Fields a user may set through create / the grid / import.
EDITABLE_FIELDS = (
    "name", "credit_code", "industry", "region", "tier", "status", "channel_id", "owner_id",
    "phone", "email", "address", "notes", "next_contact_on",
)
PRIVATE_FIELDS = ("phone", "email", "address", "notes")
DEDUPE_FIELDS = ("name", "phone", "email", "credit_code")
MAX_PAGE_SIZE = 500


# ---------------------------------------------------------------------------
# validation


def as_int(value: Any) -> int | None:
    """A positive 32-bit id from int / integral float / digit text; else None."""
    out = cell_int(value)
    return out if out is not None and 0 < out < 2**31 else None


def valid_credit_code(text: str) -> bool:
    """18 characters of the GB 32100 set (no I O Z S V) with a matching check character."""
    return len(text) == 18 and all(ch in CREDIT_CHARS for ch in text) and credit_code_check_char(text[:17]) == text[17]


def validate_customer_fields(
    data: dict[str, Any],
    locale: str | None,
    *,
    partial: bool = False,
    session: Session | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check and clean customer input → ``(clean, errors)`` by the rules on the customer
    models (``services.models.customers.CustomerRules``; the new-customer model for a
    create, the update model with ``partial=True``, where only the fields present are
    checked); never raises on odd input. Each field is checked on its own, so one bad cell
    does not hide the others' messages. With a ``session`` the owner must be an active user
    and the channel must exist. Unknown keys are ignored; empty text becomes None."""
    model = CustomerUpdate if partial else CustomerCreate
    checker = model.__pydantic_validator__
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    present = [f for f in EDITABLE_FIELDS if f in data] if partial else list(EDITABLE_FIELDS)
    for f in present:
        try:
            if f not in data:  # a new customer's unnamed field: its default, or "required"
                if f == "name":
                    raise FieldRuleError("err.required")
                clean[f] = model.model_fields[f].default
                continue
            if f == "name" and is_missing(data[f]):
                raise FieldRuleError("err.required")
            clean[f] = getattr(checker.validate_assignment(model.model_construct(), f, data[f]), f)
        except FieldRuleError as exc:
            errors[f] = exc.message(locale or "en")
        except pydantic.ValidationError as exc:
            errors[f] = field_message(exc.errors()[0], locale or "en")
    if session is not None:
        if clean.get("owner_id") is not None:
            ok = session.scalar(select(User.id).where(User.id == clean["owner_id"], User.active.is_(True)))
            if ok is None:
                errors["owner_id"] = t("err.unknown_ref", locale, value=clean["owner_id"])
        if clean.get("channel_id") is not None:
            ok = session.scalar(select(Channel.id).where(Channel.id == clean["channel_id"]))
            if ok is None:
                errors["channel_id"] = t("err.unknown_ref", locale, value=clean["channel_id"])
    for f in errors:
        clean.pop(f, None)
    return clean, errors


def norm_columns(values: dict[str, Any]) -> dict[str, Any]:
    """The normalised columns that follow from name / phone / email: the dedupe keys and the
    name's sort key (pinyin for Chinese, ``services.collation``) — the one place that derives
    them, so every write path stores them."""
    out: dict[str, Any] = {}
    if "name" in values:
        out["name_norm"] = normalize_name(values["name"]) or (values["name"] or "").casefold()[:200]
        out["name_sort"] = name_sort_key(values["name"])
    if "phone" in values:
        out["phone_norm"] = normalize_phone(values["phone"])
    if "email" in values:
        out["email_norm"] = normalize_email(values["email"])
    return out


_norm_columns = norm_columns  # the former private name, still imported by tests

MAX_EXTERNAL_ID = 80


def insert_customers(session: Session, actor: Actor, rows: list[dict[str, Any]], *, now: datetime | None = None,
                     action: str = "create") -> list[int]:
    """Validate and insert new customers — the one write path for a new customer row (grid,
    form, import); returns their ids in order. Each row passes ``validate_customer_fields``
    (what is missing takes the model's defaults: tier C, status lead); an ``external_id``
    (≤ 80 characters) may come along. A row gets its normalised duplicate-check columns; one
    without an owner is in the public pool from ``now``; each gets one audit row ``action``
    with its values. Any invalid row raises ``ValidationError`` (``row_errors`` by position),
    and an owner the actor may not assign ``PermissionDenied``, before anything is written.
    The duplicate check is the caller's (a grid save refuses, an import matches)."""
    loc = actor.locale
    now = now or utcnow()
    for owner_id in sorted({r.get("owner_id") for r in rows} - {None}):
        ensure_owner_assignable(session, actor, owner_id)
    prepared: list[dict[str, Any]] = []
    row_errors: dict[Any, dict[str, str]] = {}
    for i, raw in enumerate(rows):
        clean, errs = validate_customer_fields({k: v for k, v in raw.items() if k in EDITABLE_FIELDS}, loc)
        if not is_missing(raw.get("external_id")):
            ext = as_text(raw["external_id"])
            if ext is None:
                errs["external_id"] = t("customers.err_text", loc)
            elif len(ext) > MAX_EXTERNAL_ID:
                errs["external_id"] = t("err.too_long", loc, max=MAX_EXTERNAL_ID)
            else:
                clean["external_id"] = ext
        if errs:
            row_errors[i] = errs
        prepared.append(clean)
    if row_errors:
        raise ValidationError(row_errors=row_errors)
    created = [Customer(**clean, **norm_columns(clean), created_at=now, updated_at=now,
                        pool_entered_at=None if clean.get("owner_id") is not None else now) for clean in prepared]
    session.add_all(created)
    session.flush()
    for row, clean in zip(created, prepared, strict=True):
        audit.record(session, actor, "customer", row.id, action, {k: [None, v] for k, v in clean.items() if v is not None})
    return [row.id for row in created]


