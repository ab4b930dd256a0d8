"""Customers (客户关系管理): validation, the grid's page query, saving grid edits with
optimistic locking, bulk actions and the public pool (公海).

Rules in one place:
- Every read goes through ``access.customer_filter``; private contact details (phone,
  email, address, notes) of a pool customer are hidden from a rep until they claim it.
- A save validates every row first, then checks access, then versions, then duplicates;
  any failure raises before anything is written (the caller's transaction is one unit).
- Every write bumps ``version`` and writes an audit row.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pydantic
from sqlalchemy import (
    Date,
    DateTime,
    TypeDecorator,
    and_,
    asc,
    bindparam,
    desc,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    update,
)
from sqlmodel import Session

from services import audit, settings
from services.access import (
    SYSTEM,
    Actor,
    can_see_private,
    customer_filter,
    ensure_can_edit_customer,
    ensure_owner_assignable,
    owner_scope_key,
    owner_scope_term,
    require_role,
    visible_user_ids,
)
from services.collation import name_sort_key
from services.dedupe import (
    CREDIT_CHARS,
    credit_code_check_char,
    find_duplicates,
    normalize_credit_code,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from services.errors import ConflictError, DuplicateError, NotFound, PermissionDenied, ValidationError
from services.i18n import t
from services.models import (
    TIERS,
    AuditLog,
    Channel,
    Customer,
    CustomerCreate,
    CustomerUpdate,
    Deal,
    Stage,
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


def _as_int(value: Any) -> int | None:
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


# ---------------------------------------------------------------------------
# reading: the grid's page query


@dataclass
class CustomerFilter:
    """What the grid shows. ``archived``: False (default) live rows, True archived only,
    None both. ``in_pool``: True pool only, False owned only, None both."""

    search: str | None = None
    owner_id: int | None = None
    tier: str | None = None
    status: str | None = None
    region: str | None = None
    industry: str | None = None
    channel_id: int | None = None
    no_contact_days: int | None = None
    in_pool: bool | None = None
    archived: bool | None = False


SORTABLE = {
    "name": Customer.name_sort,
    "tier": Customer.tier,
    "status": Customer.status,
    "owner_name": User.display_name,
    "region": Customer.region,
    "industry": Customer.industry,
    "last_contact_at": Customer.last_contact_at,
    "next_contact_on": Customer.next_contact_on,
    "created_at": Customer.created_at,
    "updated_at": Customer.updated_at,
    "id": Customer.id,
}

NOT_NULL_SORTS = ("name", "tier", "status", "created_at", "updated_at", "id")

PAGE_COLUMNS = (
    "id", "name", "credit_code", "industry", "region", "tier", "status", "channel_id", "channel_name",
    "owner_id", "owner_name", "phone", "email", "address", "notes", "next_contact_on", "last_contact_at",
    "pool_entered_at", "archived", "version", "created_at", "updated_at", "private_hidden",
)
_COLUMN_INDEX = {name: i for i, name in enumerate(PAGE_COLUMNS)}
# the frame's column labels, built once (inferring an Index from a list costs more than a
# small page); each frame gets its own shallow copy
_PAGE_INDEX = pd.Index(PAGE_COLUMNS)


_EQUAL_FILTERS = ("tier", "status", "region", "industry", "channel_id")


def _search_keys(search: str) -> dict[str, str]:
    """LIKE patterns of a search text, by kind. Name: contains on the normalised name; phone:
    prefix on the normalised phone (also matching the local part of a mobile number); email:
    prefix on the normalised email; credit code: prefix."""
    keys = {}
    name_key = normalize_name(search)
    if name_key:
        keys["q_name"] = f"%{_escape_like(name_key)}%"
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", search) if ch.isdigit())
    if len(digits) >= 3 and len(digits) >= len(search.replace(" ", "").replace("-", "")) - 2:
        keys["q_phone"] = f"{_escape_like(normalize_phone(search) or digits)}%"
    email_key = normalize_email(search)
    if email_key and ("@" in email_key or "." in email_key):
        keys["q_email"] = f"{_escape_like(email_key)}%"
    code = normalize_credit_code(search)
    if code and len(code) >= 4 and code.isalnum() and code.isascii():
        keys["q_code"] = f"{_escape_like(code)}%"
    return keys


def _grid_shape(actor: Actor, filters: CustomerFilter, visible: set[int] | None,
                now: datetime | None) -> tuple[tuple, dict[str, Any]]:
    """What the grid's SQL looks like for these filters (a hashable key: which conditions,
    not their values) and the values of its parameters."""
    params: dict[str, Any] = {}
    owners = owner_scope_key(visible, params)
    if owners == "ids" and len(params["owners"]) == 1:  # one owner (a rep): = instead of an expanding IN
        owners = "one"
        params["owner"] = params.pop("owners")[0]
    if filters.archived is not None:
        params["archived"] = bool(filters.archived)
    if filters.owner_id is not None:
        params["f_owner_id"] = filters.owner_id
    equal = []
    for name in _EQUAL_FILTERS:
        value = getattr(filters, name)
        if value not in (None, ""):
            equal.append(name)
            params[f"f_{name}"] = value
    if filters.no_contact_days is not None:
        params["cutoff"] = (now or utcnow()) - timedelta(days=int(filters.no_contact_days))
    search = (filters.search or "").strip()
    search_keys = _search_keys(search) if search else {}
    params.update(search_keys)
    key = (owners, filters.in_pool, actor.is_manager, filters.archived is not None, filters.owner_id is not None,
           tuple(equal), filters.no_contact_days is not None, bool(search), tuple(search_keys))
    return key, params


def _grid_conditions(key: tuple) -> list:
    """The WHERE of a grid shape (see ``_grid_shape``), values as bound parameters.

    Visibility is ``access.customer_filter`` specialised to the view: owned rows only → the
    owner IN list (no OR with the pool, so SQLite / PostgreSQL use the owner index); pool
    only → owner IS NULL (the pool is visible to everyone). Phone and email search terms
    match only rows whose private details the actor may see (the SQL twin of the masking
    in ``list_customers_page`` / ``access.can_see_private``): a rep must not learn a pool
    customer's hidden phone by searching for it."""
    owners, in_pool, is_manager, archived, by_owner, equal, no_contact, searched, search_keys = key
    own = owner_scope_term(Customer.owner_id, owners)
    if in_pool is True:
        conds = [Customer.owner_id.is_(None)]
    elif in_pool is False:
        conds = [and_(own, Customer.owner_id.is_not(None))]
    else:
        conds = [own if owners == "all" else or_(own, Customer.owner_id.is_(None))]
    if archived:
        conds.append(Customer.archived == bindparam("archived"))
    if by_owner:
        conds.append(Customer.owner_id == bindparam("f_owner_id"))
    for name in equal:
        conds.append(getattr(Customer, name) == bindparam(f"f_{name}"))
    if no_contact:
        conds.append(or_(Customer.last_contact_at.is_(None), Customer.last_contact_at < bindparam("cutoff")))
    if searched:
        private_ok = true() if owners == "all" else (or_(own, Customer.owner_id.is_(None)) if is_manager else own)
        columns = {"q_name": Customer.name_norm, "q_phone": Customer.phone_norm, "q_email": Customer.email_norm,
                   "q_code": Customer.credit_code}
        options = []
        for name in search_keys:
            term = columns[name].like(bindparam(name), escape="\\")
            options.append(and_(term, private_ok) if name in ("q_phone", "q_email") else term)
        conds.append(or_(*options) if options else Customer.id.is_(None))
    return conds


@lru_cache(maxsize=512)
def _grid_statements(key: tuple, sort: tuple, limit: int, offset: int):
    """Count and page statements of a grid shape, built once and reused: a reused statement
    keeps its cache key, so SQLAlchemy finds the compiled SQL without rebuilding the
    expression tree on every page load. They hold no values (only bound parameters). The
    page also carries the count as a last column (an uncorrelated scalar subquery, computed
    once), so one round trip answers both; the count statement is for an empty page."""
    conds = _grid_conditions(key)
    count = select(func.count()).select_from(Customer).where(and_(*conds))
    page = _page_select(conds, list(sort), limit, offset).add_columns(count.scalar_subquery().label("total_rows"))
    return count, page


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _sort_terms(sort: list[tuple[str, str]] | None) -> tuple[list, bool]:
    """ORDER BY terms of the grid (blanks last on both databases, ``id`` breaks ties) and
    whether they need the owner's name."""
    order = []
    by_owner_name = False
    for name, direction in sort or [("name", "asc")]:
        col = SORTABLE.get(name)
        if col is None:
            continue
        by_owner_name = by_owner_name or name == "owner_name"
        term = desc(col) if str(direction).lower() == "desc" else asc(col)
        # blanks last on both databases (SQLite and PostgreSQL disagree by default)
        order.append(term if name in NOT_NULL_SORTS else term.nulls_last())
    order.append(asc(Customer.id))
    return order, by_owner_name


class _RawStamp(TypeDecorator):
    """A timestamp column fetched as the driver returns it; ``_utc_values`` turns a whole
    column into aware UTC datetimes (what ``UTCDateTime`` does value by value, cheaper)."""

    impl = DateTime
    cache_ok = True

    def result_processor(self, dialect, coltype):
        return None


class _RawDay(TypeDecorator):
    """A date column fetched as the driver returns it (ISO text on SQLite); see ``_day_values``."""

    impl = Date
    cache_ok = True

    def result_processor(self, dialect, coltype):
        return None


def _utc_values(values) -> list:
    fromiso = datetime.fromisoformat
    try:  # SQLite: "YYYY-MM-DD HH:MM:SS.ffffff", naive UTC (or NULL) → aware in one C call
        return [None if v is None else fromiso(v + "+00:00") if len(v) == 26 else _not_sqlite_stamp()
                for v in values]
    except TypeError:  # not text (PostgreSQL), or another text layout: value by value
        pass
    out = []
    for v in values:
        if v is not None:
            if v.__class__ is str and len(v) == 26:  # SQLite: "YYYY-MM-DD HH:MM:SS.ffffff", naive UTC
                v = fromiso(v + "+00:00")  # aware in one C call (replace(tzinfo=…) costs ~15× more)
            else:
                if v.__class__ is str:
                    v = fromiso(v)
                v = v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
        out.append(v)
    return out


def _not_sqlite_stamp():
    raise TypeError("not SQLite's timestamp text")


def _day_values(values) -> list:
    fromiso = date.fromisoformat
    return [fromiso(v) if v.__class__ is str else v for v in values]


_STAMPS = ("next_contact_on", "last_contact_at", "pool_entered_at", "created_at", "updated_at")


def _page_select(conds: list, sort: list[tuple[str, str]] | None, limit: int | None = None, offset: int = 0):
    """The grid's columns for the rows matching ``conds`` in grid order. With ``limit``, one
    page as a deferred join: the ids of the page are picked from the customer indexes alone
    (``ix_customer_owner_grid`` / ``ix_customer_name_grid`` cover the usual filters and
    sorts), then only those rows are read with the owner's and channel's names. LIMIT /
    OFFSET are inline (they are ints): a prepared generic plan on PostgreSQL would not know
    the page is small and may sort every matching row instead of walking an index. The
    date / timestamp columns come raw (see ``_utc_values``) only in the paged form."""
    order, by_owner_name = _sort_terms(sort)

    def stamp(col, raw_type):
        return type_coerce(col, raw_type).label(col.key) if limit is not None else col

    stmt = select(
        Customer.id, Customer.name, Customer.credit_code, Customer.industry, Customer.region, Customer.tier,
        Customer.status, Customer.channel_id, Channel.name.label("channel_name"), Customer.owner_id,
        User.display_name.label("owner_name"), Customer.phone, Customer.email, Customer.address,
        Customer.notes, stamp(Customer.next_contact_on, _RawDay()), stamp(Customer.last_contact_at, _RawStamp()),
        stamp(Customer.pool_entered_at, _RawStamp()), Customer.archived, Customer.version,
        stamp(Customer.created_at, _RawStamp()), stamp(Customer.updated_at, _RawStamp()),
    ).select_from(Customer)
    if limit is None:
        stmt = stmt.where(and_(*conds))
    else:
        ids = select(Customer.id).where(and_(*conds))
        if by_owner_name:
            ids = ids.outerjoin(User, User.id == Customer.owner_id)
        ids = (ids.order_by(*order).limit(literal_column(str(limit))).offset(literal_column(str(offset)))
               .subquery("page_ids"))
        stmt = stmt.join(ids, ids.c.id == Customer.id)
    return (
        stmt.outerjoin(User, User.id == Customer.owner_id)
        .outerjoin(Channel, Channel.id == Customer.channel_id)
        .order_by(*order)
    )


def list_customers_page(
    session: Session,
    actor: Actor,
    *,
    filters: CustomerFilter | None = None,
    sort: list[tuple[str, str]] | None = None,
    page: int = 1,
    page_size: int = 100,
    now: datetime | None = None,
) -> tuple[pd.DataFrame, int]:
    """One page of the customers the actor may see, filtered and sorted in SQL, with the
    owner's and channel's names, plus the total count of matching rows. Private fields of
    rows the actor may not see in full (pool rows for a rep) are None and
    ``private_hidden`` is True. ``page`` starts at 1; ``page_size`` ≤ 500."""
    filters = filters or CustomerFilter()
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    page = max(1, int(page))
    visible = visible_user_ids(session, actor)
    key, params = _grid_shape(actor, filters, visible, now)
    sort_key = tuple((name, "desc" if str(direction).lower() == "desc" else "asc")
                     for name, direction in (sort or [("name", "asc")]) if name in SORTABLE)
    count_stmt, page_stmt = _grid_statements(key, sort_key, page_size, (page - 1) * page_size)
    conn = session.connection()  # Core execution: plain rows, no ORM bookkeeping
    # the driver's rows as they are (no Row objects): the one column SQLAlchemy would convert,
    # ``archived`` (0/1 on SQLite), is made bool below; timestamps come raw anyway
    result = conn.execute(page_stmt, params)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    if rows:
        total = rows[0][-1]
    elif page == 1:
        total = 0  # an empty first page: nothing matches
    else:
        total = conn.execute(count_stmt, params).scalar() or 0
    # column by column: one page needs no pandas type inference (object columns keep None
    # as None and ids as Python ints)
    block = np.empty((len(rows), len(PAGE_COLUMNS)), dtype=object)
    if rows:
        columns = list(zip(*rows, strict=True))
        columns.pop()  # the total
        i = _COLUMN_INDEX["archived"]
        columns[i] = [None if v is None else bool(v) for v in columns[i]]
        for name in _STAMPS:
            i = _COLUMN_INDEX[name]
            columns[i] = _day_values(columns[i]) if name == "next_contact_on" else _utc_values(columns[i])
        owner_col = columns[_COLUMN_INDEX["owner_id"]]
        if visible is None:
            hidden = [False] * len(rows)
        else:
            manager = actor.is_manager
            hidden = [not ((o is not None and o in visible) or (o is None and manager)) for o in owner_col]
        if any(hidden):
            for name in PRIVATE_FIELDS:
                i = _COLUMN_INDEX[name]
                columns[i] = [None if h else v for v, h in zip(columns[i], hidden, strict=True)]
        columns.append(hidden)
        for i, values in enumerate(columns):
            block[:, i] = values
    df = pd.DataFrame(block, columns=_PAGE_INDEX.copy(), dtype=object, copy=False)
    return df, int(total)


def get_customer(session: Session, actor: Actor, *, customer_id: int) -> dict[str, Any]:
    """One visible customer as a dict (same columns as a grid row); NotFound otherwise."""
    conds = [customer_filter(session, actor), Customer.id == customer_id]
    row = session.execute(_page_select(conds, [("id", "asc")])).first()
    if row is None:
        raise NotFound(t("err.not_found", actor.locale, detail=f"customer {customer_id}"))
    rec = dict(row._mapping)
    private_ok = can_see_private(session, actor, row.owner_id)
    if not private_ok:
        for f in PRIVATE_FIELDS:
            rec[f] = None
    rec["private_hidden"] = not private_ok
    return rec


def assignable_owners(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Active users the actor may make owner of a customer: a rep only themselves; a
    manager the users of their teams; directors and admins everyone."""
    stmt = select(User.id, User.display_name, User.username).where(User.active.is_(True)).order_by(User.display_name)
    if actor.role == "rep":
        stmt = stmt.where(User.id == actor.id)
    else:
        ids = visible_user_ids(session, actor)
        if ids is not None:
            stmt = stmt.where(User.id.in_(sorted(ids)))
    return [dict(r._mapping) for r in session.execute(stmt).all()]


def list_channels(session: Session) -> list[dict[str, Any]]:
    """Active channels (id, name) for select boxes (``reference.active_channels``)."""
    from services import reference

    return [{"id": i, "name": n} for i, n in reference.active_channels(session)]


def distinct_values(session: Session, actor: Actor, *, field_name: str, limit: int = 200) -> list[str]:
    """Distinct regions or industries among the customers the actor may see (for filters)."""
    col = {"region": Customer.region, "industry": Customer.industry}[field_name]
    stmt = (
        select(col).where(customer_filter(session, actor), col.is_not(None)).group_by(col).order_by(col).limit(limit)
    )
    return [v for v in session.scalars(stmt).all() if v]


# ---------------------------------------------------------------------------
# writing


@dataclass
class GridChanges:
    """Commands from a grid save. ``create``: list of field dicts, each with a ``_key``
    (temporary row key); ``update``: list of {"id", "version", "fields": {…}};
    ``archive``: ids."""

    create: list[dict[str, Any]] = field(default_factory=list)
    update: list[dict[str, Any]] = field(default_factory=list)
    archive: list[int] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.create or self.update or self.archive)

    @classmethod
    def coerce(cls, value: GridChanges | dict[str, Any]) -> GridChanges:
        if isinstance(value, GridChanges):
            return value
        return cls(
            create=list(value.get("create") or []),
            update=list(value.get("update") or []),
            archive=list(value.get("archive") or []),
        )


@dataclass
class SaveResult:
    created: dict[Any, int] = field(default_factory=dict)  # temp key → new id
    updated: list[int] = field(default_factory=list)
    archived: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.created) + len(self.updated) + len(self.archived)


def _row_snapshot(row: Customer, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(row, f) for f in fields}


def _same(a: Any, b: Any) -> bool:
    return audit._plain(a) == audit._plain(b)


def _load_editable(session: Session, actor: Actor, ids: list[int]) -> dict[int, Customer]:
    """Visible customers by id; NotFound for any id the actor cannot see; PermissionDenied
    when the actor may see but not edit one."""
    if not ids:
        return {}
    rows = session.scalars(select(Customer).where(Customer.id.in_(ids), customer_filter(session, actor))).all()
    by_id = {r.id: r for r in rows}
    for cid in ids:
        row = by_id.get(cid)
        if row is None:
            raise NotFound(t("err.not_found", actor.locale, detail=f"customer {cid}"))
        try:
            ensure_can_edit_customer(session, actor, row)
        except PermissionDenied as exc:
            raise PermissionDenied(t("err.permission", actor.locale, detail=f"{row.name}: {exc}")) from exc
    return by_id


def _check_duplicates(
    session: Session, actor: Actor, checks: list[tuple[Any, dict[str, Any], int | None]], override: bool
) -> None:
    """Raise DuplicateError for rows matching existing customers or each other, unless a
    manager overrides. ``checks``: (row key, values, exclude id)."""
    if override:
        if not actor.is_manager:
            raise PermissionDenied(t("customers.override_manager_only", actor.locale))
        return
    matches: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], Any] = {}
    for key, values, exclude in checks:
        for m in find_duplicates(
            session, actor, name=values.get("name"), phone=values.get("phone"), email=values.get("email"),
            credit_code=values.get("credit_code"), exclude_id=exclude,
        ):
            matches.append({**m, "row": key})
        norms = {
            "name": normalize_name(values.get("name")) or None,
            "phone": normalize_phone(values.get("phone")),
            "email": normalize_email(values.get("email")),
            "credit_code": normalize_credit_code(values.get("credit_code")),
        }
        for f, v in norms.items():
            if v is None:
                continue
            other = seen.get((f, v))
            if other is not None and other != key:
                matches.append({"row": key, "customer_id": None, "name": values.get("name"), "owner_id": None,
                                "owner_name": None, "matched_on": [f], "archived": False, "hidden": False,
                                "same_batch_row": other})
            else:
                seen[(f, v)] = key
    if matches:
        raise DuplicateError(matches, t("customers.duplicate_found", actor.locale, n=len(matches)))


def update_many(
    session: Session,
    actor: Actor,
    *,
    changes: GridChanges | dict[str, Any],
    override_duplicate: bool = False,
    now: datetime | None = None,
) -> SaveResult:
    """Apply a grid save all-or-nothing: validate every row (ValidationError with
    row_errors keyed by id / temp key), check access per row (NotFound / PermissionDenied),
    check versions (ConflictError {id: {field: (theirs, yours)}} incl. "version"), check
    duplicates (DuplicateError unless a manager overrides), then write with audit rows and
    bumped versions. Writes nothing when anything fails (caller's transaction)."""
    ch = GridChanges.coerce(changes)
    now = now or utcnow()
    loc = actor.locale
    row_errors: dict[Any, dict[str, str]] = {}

    creates: list[tuple[Any, dict[str, Any]]] = []
    for i, raw in enumerate(ch.create):
        key = raw.get("_key", f"new-{i + 1}")
        data = {k: v for k, v in raw.items() if k in EDITABLE_FIELDS}
        clean, errs = validate_customer_fields(data, loc, session=session)
        if errs:
            row_errors[key] = errs
        creates.append((key, clean))

    updates: list[tuple[int, int | None, dict[str, Any]]] = []
    for cmd in ch.update:
        cid = _as_int(cmd.get("id"))
        fields_in = {k: v for k, v in (cmd.get("fields") or {}).items() if k in EDITABLE_FIELDS}
        if cid is None:
            row_errors[str(cmd.get("id"))] = {"id": t("err.integer", loc)}
            continue
        clean, errs = validate_customer_fields(fields_in, loc, partial=True, session=session)
        if "owner_id" in fields_in and clean.get("owner_id", 0) is None and "owner_id" not in errs:
            errs["owner_id"] = t("customers.err_owner_required", loc)
        if errs:
            row_errors[cid] = errs
        updates.append((cid, _as_int(cmd.get("version")), clean))
    archive_ids = [a for a in (_as_int(x) for x in ch.archive) if a is not None]
    if row_errors:
        raise ValidationError(row_errors=row_errors)

    # access
    for _key, clean in creates:
        if "owner_id" not in clean or clean["owner_id"] is None:
            clean["owner_id"] = actor.id
        try:
            ensure_owner_assignable(session, actor, clean["owner_id"])
        except PermissionDenied as exc:
            raise PermissionDenied(t("err.permission", loc, detail=str(exc))) from exc
    rows = _load_editable(session, actor, sorted({u[0] for u in updates} | set(archive_ids)))
    for cid, _version, clean in updates:
        if "owner_id" in clean and clean["owner_id"] != rows[cid].owner_id:
            try:
                ensure_owner_assignable(session, actor, clean["owner_id"])
            except PermissionDenied as exc:
                raise PermissionDenied(t("err.permission", loc, detail=str(exc))) from exc

    # versions
    conflicts: dict[Any, dict[str, tuple[Any, Any]]] = {}
    for cid, version, clean in updates:
        row = rows[cid]
        if version is None or row.version != version:
            diff = {f: (getattr(row, f), v) for f, v in clean.items()}
            diff["version"] = (row.version, version)
            conflicts[cid] = diff
    if conflicts:
        raise ConflictError(conflicts, t("customers.conflict", loc, n=len(conflicts)))

    # duplicates
    checks: list[tuple[Any, dict[str, Any], int | None]] = [(key, clean, None) for key, clean in creates]
    for cid, _version, clean in updates:
        if any(f in clean and not _same(clean[f], getattr(rows[cid], f)) for f in DEDUPE_FIELDS):
            checks.append((cid, {f: clean.get(f, getattr(rows[cid], f)) for f in DEDUPE_FIELDS}, cid))
    if checks:
        _check_duplicates(session, actor, checks, override_duplicate)

    # write
    result = SaveResult()
    if creates:
        ids = insert_customers(session, actor, [clean for _key, clean in creates], now=now)
        result.created.update(zip([key for key, _clean in creates], ids, strict=True))
    for cid, version, clean in updates:
        row = rows[cid]
        before = _row_snapshot(row, list(clean))
        changed = {f: v for f, v in clean.items() if not _same(v, before[f])}
        if not changed:
            continue
        values = {**changed, **norm_columns(changed), "version": version + 1, "updated_at": now}
        if "owner_id" in changed:
            values["pool_entered_at"] = None
            if row.owner_id is not None:
                values["previous_owner_id"] = row.owner_id
        res = session.execute(
            update(Customer).where(Customer.id == cid, Customer.version == version).values(**values)
            .execution_options(synchronize_session=False)
        )
        if res.rowcount != 1:  # someone committed in between
            raise ConflictError({cid: {"version": (None, version)}}, t("customers.conflict", loc, n=1))
        audit.record(session, actor, "customer", cid, "update", audit.changed_fields(before, changed))
        result.updated.append(cid)
    for cid in archive_ids:
        row = rows[cid]
        if row.archived:
            continue
        session.execute(
            update(Customer).where(Customer.id == cid)
            .values(archived=True, version=Customer.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        audit.record(session, actor, "customer", cid, "archive", {"archived": [False, True]})
        result.archived.append(cid)
    session.flush()
    session.expire_all()
    return result


def create_customer(
    session: Session, actor: Actor, *, data: dict[str, Any], override_duplicate: bool = False
) -> int:
    """Create one customer (same rules as a grid save); returns its id. Owner defaults to
    the actor. ValidationError carries field → message in ``errors``."""
    try:
        res = update_many(session, actor, changes=GridChanges(create=[{**data, "_key": "new"}]),
                          override_duplicate=override_duplicate)
    except ValidationError as exc:
        raise ValidationError(exc.row_errors.get("new", {})) from exc
    return res.created["new"]


def update_customer(
    session: Session, actor: Actor, *, customer_id: int, version: int, data: dict[str, Any],
    override_duplicate: bool = False,
) -> None:
    """Update one customer's fields with optimistic locking (same rules as a grid save)."""
    try:
        update_many(session, actor, changes=GridChanges(update=[{"id": customer_id, "version": version,
                                                                  "fields": data}]),
                    override_duplicate=override_duplicate)
    except ValidationError as exc:
        raise ValidationError(exc.row_errors.get(customer_id, {})) from exc


# ---------------------------------------------------------------------------
# bulk actions


def _bulk_update(session: Session, actor: Actor, rows: list[Customer], action: str,
                 values_for: Callable[[Customer], dict[str, Any]], now: datetime, *,
                 gone: Callable[[Customer], Exception] | None = None) -> int:
    """The write of every bulk action: per loaded row one conditional UPDATE (its id and the
    version it was loaded with, the transaction rule) setting ``values_for(row)``, a bumped
    version and ``updated_at``, plus one audit row of what changed. A row someone changed
    since it was loaded raises ``gone(row)`` (default: ``ConflictError``) and the whole call
    writes nothing."""
    for row in rows:
        values = values_for(row)
        before = _row_snapshot(row, list(values))
        res = session.execute(
            update(Customer).where(Customer.id == row.id, Customer.version == row.version)
            .values(**values, version=Customer.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if res.rowcount != 1:
            raise (gone(row) if gone else ConflictError({row.id: {"version": (None, row.version)}},
                                                         t("customers.conflict", actor.locale, n=1)))
        audit.record(session, actor, "customer", row.id, action, audit.changed_fields(before, values))
    session.flush()
    session.expire_all()
    return len(rows)


def _ids(ids) -> list[int]:
    out = sorted({i for i in (_as_int(x) for x in ids) if i is not None})
    return out


def archive_customers(session: Session, actor: Actor, *, ids, now: datetime | None = None) -> int:
    """Soft-delete: archived rows leave the grid (restorable by a manager). The actor must
    be allowed to edit each row. Returns the number archived."""
    rows = [r for r in _load_editable(session, actor, _ids(ids)).values() if not r.archived]
    return _bulk_update(session, actor, rows, "archive", lambda r: {"archived": True}, now or utcnow())


def restore_customers(session: Session, actor: Actor, *, ids, now: datetime | None = None) -> int:
    """Un-archive (manager, director, admin)."""
    if not actor.is_manager:
        raise PermissionDenied(t("err.permission", actor.locale, detail=t("customers.manager_only", actor.locale)))
    rows = [r for r in _load_editable(session, actor, _ids(ids)).values() if r.archived]
    return _bulk_update(session, actor, rows, "restore", lambda r: {"archived": False}, now or utcnow())


def reassign_owner(session: Session, actor: Actor, *, ids, owner_id: int, now: datetime | None = None) -> int:
    """Give customers to another owner (manager+; the owner must be active and within the
    manager's teams). Clears the pool markers. Returns the number changed."""
    if not actor.is_manager:
        raise PermissionDenied(t("err.permission", actor.locale, detail=t("customers.manager_only", actor.locale)))
    owner = _as_int(owner_id)
    if owner is None or session.scalar(select(User.id).where(User.id == owner, User.active.is_(True))) is None:
        raise ValidationError({"owner_id": t("err.unknown_ref", actor.locale, value=owner_id)})
    try:
        ensure_owner_assignable(session, actor, owner)
    except PermissionDenied as exc:
        raise PermissionDenied(t("err.permission", actor.locale, detail=str(exc))) from exc
    rows = [r for r in _load_editable(session, actor, _ids(ids)).values() if r.owner_id != owner]
    return _bulk_update(session, actor, rows, "reassign",
                        lambda r: {"owner_id": owner, "previous_owner_id": r.owner_id, "pool_entered_at": None},
                        now or utcnow())


def release_to_pool(session: Session, actor: Actor, *, ids, now: datetime | None = None) -> int:
    """Put owned customers into the public pool (their owner, or a manager of the owner).
    Sets owner null, pool_entered_at, previous_owner_id, released_at."""
    now = now or utcnow()
    rows = [r for r in _load_editable(session, actor, _ids(ids)).values() if r.owner_id is not None]
    return _bulk_update(session, actor, rows, "release",
                        lambda r: {"owner_id": None, "previous_owner_id": r.owner_id, "pool_entered_at": now,
                                   "released_at": now}, now)


def _claimed_by(session: Session, customer_id: int, locale: str) -> dict[str, str]:
    """The row message for a pool customer someone else got first."""
    name = session.scalar(select(User.display_name).join(Customer, Customer.owner_id == User.id)
                          .where(Customer.id == customer_id))
    if name is None:
        return {"owner_id": t("pool.err_not_in_pool", locale)}
    return {"owner_id": t("pool.err_already_claimed", locale, owner=name)}


#: A claim this recent is reported to a rep who tried the same customer ("just claimed by …").
JUST_CLAIMED = timedelta(minutes=10)


def _claimed_just_now(session: Session, customer_id: int, now: datetime) -> bool:
    return session.scalar(select(AuditLog.id).where(
        AuditLog.entity == "customer", AuditLog.entity_id == str(customer_id), AuditLog.action == "claim",
        AuditLog.at >= now - JUST_CLAIMED).limit(1)) is not None


def claim_from_pool(session: Session, actor: Actor, *, ids, now: datetime | None = None) -> int:
    """Take pool customers as one's own. Rules (settings): a rep may own at most
    ``pool_rep_cap`` live customers; the previous owner must wait
    ``pool_claim_cooldown_days`` after release before claiming the same customer again.
    Exactly one of several reps claiming the same customer at once gets it; the others are
    told who did. All-or-nothing: any broken rule raises ValidationError with row_errors."""
    if actor.id is None:
        raise PermissionDenied(t("err.permission", actor.locale, detail="system"))
    now = now or utcnow()
    loc = actor.locale
    wanted = _ids(ids)
    # one rep's claims queue behind each other (PostgreSQL), so the cap holds for parallel claims
    session.execute(select(User.id).where(User.id == actor.id).with_for_update()).first()
    rows = session.scalars(select(Customer).where(Customer.id.in_(wanted), customer_filter(session, actor))).all()
    by_id = {r.id: r for r in rows}
    row_errors: dict[Any, dict[str, str]] = {}
    cooldown = int(settings.get(session, "pool_claim_cooldown_days") or 0)
    for cid in wanted:
        row = by_id.get(cid)
        if row is None:
            if _claimed_just_now(session, cid, now):  # it was in the pool a moment ago: say who got it
                row_errors[cid] = _claimed_by(session, cid, loc)
                continue
            raise NotFound(t("err.not_found", loc, detail=f"customer {cid}"))
        if row.owner_id is not None or row.archived:
            row_errors[cid] = (_claimed_by(session, cid, loc) if row.owner_id is not None
                               else {"owner_id": t("pool.err_not_in_pool", loc)})
            continue
        if row.previous_owner_id == actor.id and row.released_at is not None and cooldown > 0:
            released = row.released_at if row.released_at.tzinfo else row.released_at.replace(tzinfo=now.tzinfo)
            until = released + timedelta(days=cooldown)
            if now < until:
                row_errors[cid] = {"owner_id": t("pool.err_cooldown", loc, date=until.date().isoformat())}
    if actor.role == "rep":
        cap = int(settings.get(session, "pool_rep_cap") or 0)
        owned = session.scalar(
            select(func.count()).select_from(Customer).where(Customer.owner_id == actor.id, Customer.archived.is_(False))
        ) or 0
        if cap and owned + len(wanted) > cap:
            row_errors.setdefault("_all", {})["owner_id"] = t("pool.err_cap", loc, cap=cap, owned=owned)
    if row_errors:
        raise ValidationError(row_errors=row_errors)

    def lost_race(row: Customer) -> Exception:
        return ValidationError(row_errors={row.id: _claimed_by(session, row.id, loc)})

    return _bulk_update(session, actor, [by_id[cid] for cid in wanted], "claim",
                        lambda r: {"owner_id": actor.id, "pool_entered_at": None}, now, gone=lost_race)


def reclaim_stale_customers(session: Session, actor: Actor = SYSTEM, *, now: datetime | None = None,
                            limit: int | None = None) -> int:
    """Move owned customers without a follow-up for ``pool_reclaim_days[tier]`` days into
    the public pool. Days count from the latest of: last contact, the last assignment to
    the current owner (create / claim / reassign in the audit log), creation. A tier with 0
    days is never reclaimed; with ``pool_exempt_open_deals`` a customer with an open deal
    stays. Idempotent (a second run finds nothing); each move is audited as "reclaim".
    Admin (or the SYSTEM actor) only. Moves at most ``limit`` customers (the daily job calls
    it in batches, ``services.jobs``). Returns the number moved."""
    require_role(actor, "admin")
    now = now or utcnow()
    days_by_tier = settings.get(session, "pool_reclaim_days") or {}
    exempt_open = bool(settings.get(session, "pool_exempt_open_deals"))
    moved = 0
    for tier in TIERS:
        days = int(days_by_tier.get(tier) or 0)
        if days <= 0:
            continue
        cutoff = now - timedelta(days=days)
        stmt = select(Customer.id, Customer.owner_id).where(
            Customer.owner_id.is_not(None),
            Customer.archived.is_(False),
            Customer.tier == tier,
            func.coalesce(Customer.last_contact_at, Customer.created_at) < cutoff,
            Customer.created_at < cutoff,
        )
        if exempt_open:
            open_deal = (
                select(Deal.id).join(Stage, Stage.id == Deal.stage_id)
                .where(Deal.customer_id == Customer.id, Stage.kind == "open")
            )
            stmt = stmt.where(~exists(open_deal))
        candidates = session.execute(stmt).all()
        if not candidates:
            continue
        # a recent assignment restarts the clock
        recent: set[str] = set()
        ids_txt = [str(c.id) for c in candidates]
        for start in range(0, len(ids_txt), 500):
            chunk = ids_txt[start : start + 500]
            recent.update(
                session.scalars(
                    select(AuditLog.entity_id).where(
                        AuditLog.entity == "customer", AuditLog.entity_id.in_(chunk),
                        AuditLog.action.in_(("create", "claim", "reassign")), AuditLog.at >= cutoff,
                    )
                ).all()
            )
        for c in candidates:
            if str(c.id) in recent:
                continue
            res = session.execute(
                update(Customer).where(Customer.id == c.id, Customer.owner_id == c.owner_id)
                .values(owner_id=None, previous_owner_id=c.owner_id, pool_entered_at=now, released_at=now,
                        version=Customer.version + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount:
                audit.record(session, actor, "customer", c.id, "reclaim",
                             {"owner_id": [c.owner_id, None], "tier": tier, "days": days})
                moved += 1
                if limit is not None and moved >= limit:
                    break
        if limit is not None and moved >= limit:
            break
    session.flush()
    session.expire_all()
    return moved
