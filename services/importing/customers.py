"""Importing customers: each row is checked with the customer form's own rules
(``services.customers.validate_customer_fields``), matched against existing customers by
external id, then by the duplicate check (normalised name, phone, email, credit code), and
new customers are written through ``services.customers.insert_customers`` — the grid's
write path (defaults, duplicate-check columns, public pool, audit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from services import access, audit, dedupe
from services import customers as customer_service
from services.access import SYSTEM
from services.errors import PermissionDenied
from services.i18n import t
from services.importing.parsing import cell_text, parse_status, parse_tier
from services.importing.rows import RowImporter
from services.models import Customer, User, utcnow


@dataclass
class NewCustomer:
    """A customer queued for writing; ``id`` is set once it is written."""

    values: dict[str, Any]
    outcome: Any
    id: int | None = None


_TEXT = ("name", "credit_code", "industry", "region", "phone", "email", "address", "notes")


class CustomerImporter(RowImporter):
    kind = "customers"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._known_ext: dict[str, int] | None = None

    def handle(self, values: list[Any]) -> None:
        data: dict[str, Any] = {f: self.text(values, f) for f in _TEXT if f in self.col_of}
        data["name"] = self.text(values, "name")
        if data.get("credit_code"):
            data["credit_code"] = data["credit_code"].replace(" ", "").upper()
        if "tier" in self.col_of:
            data["tier"] = self.parse(values, "tier", parse_tier)
        if "status" in self.col_of:
            data["status"] = self.parse(values, "status", parse_status)
        next_contact = self.date_of(values, "next_contact_on")
        ext = self.text(values, "external_id")
        if ext and len(ext) > customer_service.MAX_EXTERNAL_ID:
            self.error("external_id", ext, t("err.too_long", self.locale, max=customer_service.MAX_EXTERNAL_ID))
        probe = {k: v for k, v in data.items() if v is not None or k == "name"}
        clean, field_errors = customer_service.validate_customer_fields(probe, self.locale, partial=True)
        for fld, message in field_errors.items():
            self.error(fld, probe.get(fld), message)
        self.fail_if_errors()
        owner = self.refs.owner(values) if "owner" in self.col_of else self.actor.id
        channel = self.refs.named(values, "channel", "channel")
        fields = {k: v for k, v in clean.items() if v is not None and k in Customer.model_fields}
        if next_contact:
            fields["next_contact_on"] = next_contact
        match, how = self._match(fields, ext)
        if match is None or (self.on_duplicate == "keep_both" and how != "external_id"
                             and not self._identical(match, fields)):
            self._create(fields, ext, owner, channel)
            return
        owner_given = "owner" in self.col_of and self.text(values, "owner") is not None
        self._matched(match, how, fields, ext, owner, channel, owner_given, channel is not None)

    # -- matching ------------------------------------------------------------------
    def _keys(self, fields: dict[str, Any], ext: str | None) -> list[tuple]:
        keys: list[tuple] = []
        if ext:
            keys.append(("ext", ext))
        keys.append(("name", dedupe.normalize_name(fields["name"])))
        if fields.get("phone") and dedupe.normalize_phone(fields["phone"]):
            keys.append(("phone", dedupe.normalize_phone(fields["phone"])))
        if fields.get("email") and dedupe.normalize_email(fields["email"]):
            keys.append(("email", dedupe.normalize_email(fields["email"])))
        if fields.get("credit_code"):
            keys.append(("credit", fields["credit_code"]))
        return keys

    def _existing_external_id(self, ext: str) -> int | None:
        """Customer id holding this external id (one query per 500 ids of the file)."""
        if self._known_ext is None:
            self._known_ext = {}
            col = self.col_of.get("external_id")
            ids = sorted({cell_text(v[col]) for _, v in self.table.rows if col is not None and col < len(v)} - {""})
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                self._known_ext.update(
                    {e: cid for cid, e in self.s.execute(select(Customer.id, Customer.external_id)
                                                          .where(Customer.external_id.in_(chunk)))})
        return self._known_ext.get(ext)

    def _match(self, fields: dict[str, Any], ext: str | None) -> tuple[Any, str]:
        """(existing customer row or an earlier row of this file, how it matched)."""
        for key in self._keys(fields, ext):
            if key in self.seen:
                return self.seen[key], "file"
        if ext and (known := self._existing_external_id(ext)) is not None:
            return self.s.get(Customer, known), "external_id"
        # SYSTEM: the import must see a colleague's customer to avoid duplicating it; what
        # the user is told about an invisible match is decided below (owner name only).
        matches = dedupe.find_duplicates(self.s, SYSTEM, name=fields["name"], phone=fields.get("phone"),
                                         email=fields.get("email"), credit_code=fields.get("credit_code"))
        ids: list[int] = []
        for m in matches:
            mid = m.get("customer_id")
            if mid is not None and mid not in ids:
                ids.append(mid)
        rows = [r for r in (self.s.get(Customer, i) for i in ids) if r is not None]
        rows = [r for r in rows if not r.archived] or rows
        if not rows:
            return None, ""
        return (rows if len(rows) > 1 else rows[0]), "duplicate"

    def _identical(self, match: Any, fields: dict[str, Any]) -> bool:
        if isinstance(match, tuple):  # an earlier row of this file
            return match[2] == fields
        if isinstance(match, list):
            return any(self._identical(m, fields) for m in match)
        for k, v in fields.items():
            cur = getattr(match, k, None)
            if k == "name":
                if dedupe.normalize_name(cur) != dedupe.normalize_name(v):
                    return False
            elif (cur or None) != v:
                return False
        return True

    def _remember(self, fields: dict[str, Any], ext: str | None, entity: Any) -> None:
        for key in self._keys(fields, ext):
            self.seen.setdefault(key, (self.current_row, entity, dict(fields)))

    # -- writing -----------------------------------------------------------------------
    def _create(self, fields: dict[str, Any], ext: str | None, owner: Any, channel: Any) -> None:
        values = {**fields, "owner_id": self.refs.materialize(owner), "channel_id": self.refs.materialize(channel),
                  "external_id": ext}
        new = NewCustomer(values, self.outcome("created"))
        self._remember(fields, ext, new)
        self.queue(new)

    def write_queued(self, items: list[NewCustomer]) -> None:
        ids = customer_service.insert_customers(self.s, self.actor, [n.values for n in items], action="import")
        for new, cid in zip(items, ids, strict=True):
            new.id = new.outcome.entity_id = cid

    def _matched(self, match: Any, how: str, fields: dict[str, Any], ext: str | None, owner: Any,
                 channel: Any, owner_given: bool, channel_given: bool) -> None:
        if how == "file":
            first_row, entity, _ = match
            if self.on_duplicate != "update" or self.dry_run:
                self.outcome("skipped", getattr(entity, "id", entity), self.msg("note.same_as_row", row=first_row))
                return
            self.flush()
            match = self.s.get(Customer, getattr(entity, "id", entity))
        if isinstance(match, list):
            if self.on_duplicate == "update":
                self.error("name", fields["name"], self.msg("err.several_matches",
                                                            ids=", ".join(f"#{m.id}" for m in match)))
                return
            self.outcome("skipped", match[0].id, self._match_note(match[0]))
            return
        existing: Customer = match
        if self.on_duplicate != "update":
            self.outcome("skipped", existing.id, self._match_note(existing))
            self._remember(fields, ext, existing.id)
            return
        try:
            access.ensure_can_edit_customer(self.s, self.actor, existing)
        except PermissionDenied:
            self.error("name", fields["name"], self.msg("err.cannot_update", owner=self._owner_name(existing)))
            return
        changes: dict[str, Any] = dict(fields)
        if owner_given:
            changes["owner_id"] = self.refs.materialize(owner)
        if channel_given:
            changes["channel_id"] = self.refs.materialize(channel)
        if ext and not existing.external_id:
            changes["external_id"] = ext
        before = {k: getattr(existing, k) for k in changes}
        if "name" in changes and dedupe.normalize_name(before["name"]) == dedupe.normalize_name(changes["name"]):
            changes["name"] = before["name"]  # a spelling variant does not rename the customer
        diff = audit.changed_fields(before, changes)
        if not diff:
            self.outcome("skipped", existing.id, self.msg("note.unchanged"))
            self._remember(fields, ext, existing.id)
            return
        if not self.dry_run:
            for k in diff:
                setattr(existing, k, changes[k])
            for k, v in customer_service.norm_columns({"name": existing.name, "phone": existing.phone,
                                                       "email": existing.email}).items():
                setattr(existing, k, v)
            if "owner_id" in diff:
                existing.pool_entered_at = None if existing.owner_id else utcnow()
            existing.version += 1
            existing.updated_at = utcnow()
            self.s.add(existing)
            audit.record(self.s, self.actor, "customer", existing.id, "update", diff)
        self._remember(fields, ext, existing.id)
        self.outcome("updated", existing.id)

    def _match_note(self, c: Customer) -> str:
        """Which customer matched: its id for one the actor may see, else only its owner."""
        if self.visible is None or c.owner_id is None or c.owner_id in self.visible:
            return self.msg("note.matches", id=c.id, owner=self._owner_name(c))
        return self.msg("note.matches_hidden", owner=self._owner_name(c))

    def _owner_name(self, c: Customer) -> str:
        if c.owner_id is None:
            return self.msg("pool")
        u = self.s.get(User, c.owner_id)
        return u.display_name if u else str(c.owner_id)
