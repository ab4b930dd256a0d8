"""Reading customers: the grid's SQL page query with filters, search and sort, one customer,
and the pick lists the grid offers."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Date,
    DateTime,
    TypeDecorator,
    and_,
    asc,
    bindparam,
    desc,
    func,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
)
from sqlmodel import Session

from services.access import (
    Actor,
    can_see_private,
    customer_filter,
    owner_scope_key,
    owner_scope_term,
    visible_user_ids,
)
from services.customers.rules import MAX_PAGE_SIZE, PRIVATE_FIELDS
from services.dedupe import (
    normalize_credit_code,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from services.errors import NotFound
from services.i18n import t
from services.models import (
    Channel,
    Customer,
    User,
    utcnow,
)

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


