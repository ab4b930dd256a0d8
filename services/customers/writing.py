"""Saving customers: grid changes validated as a whole, then access, versions (optimistic
locking) and duplicates; nothing is written unless every row passes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    select,
    update,
)
from sqlmodel import Session

from services import audit
from services.access import (
    Actor,
    customer_filter,
    ensure_can_edit_customer,
    ensure_owner_assignable,
)
from services.customers.rules import (
    DEDUPE_FIELDS,
    EDITABLE_FIELDS,
    as_int,
    insert_customers,
    norm_columns,
    validate_customer_fields,
)
from services.dedupe import (
    find_duplicates,
    normalize_credit_code,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from services.errors import ConflictError, DuplicateError, NotFound, PermissionDenied, ValidationError
from services.i18n import t
from services.models import (
    Customer,
    utcnow,
)

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


def row_snapshot(row: Customer, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(row, f) for f in fields}


def _same(a: Any, b: Any) -> bool:
    return audit._plain(a) == audit._plain(b)


def load_editable(session: Session, actor: Actor, ids: list[int]) -> dict[int, Customer]:
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
        cid = as_int(cmd.get("id"))
        fields_in = {k: v for k, v in (cmd.get("fields") or {}).items() if k in EDITABLE_FIELDS}
        if cid is None:
            row_errors[str(cmd.get("id"))] = {"id": t("err.integer", loc)}
            continue
        clean, errs = validate_customer_fields(fields_in, loc, partial=True, session=session)
        if "owner_id" in fields_in and clean.get("owner_id", 0) is None and "owner_id" not in errs:
            errs["owner_id"] = t("customers.err_owner_required", loc)
        if errs:
            row_errors[cid] = errs
        updates.append((cid, as_int(cmd.get("version")), clean))
    archive_ids = [a for a in (as_int(x) for x in ch.archive) if a is not None]
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
    rows = load_editable(session, actor, sorted({u[0] for u in updates} | set(archive_ids)))
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
        before = row_snapshot(row, list(clean))
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


