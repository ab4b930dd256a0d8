"""Importing contacts: checked with the contact form's rules
(``services.contacts.validate_contact_fields``), matched within the same customer by
normalised name, phone or email; a customer's first contact becomes its primary one, as in
the app."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services import audit, dedupe
from services.contacts import validate_contact_fields
from services.i18n import t
from services.importing.parsing import parse_bool
from services.importing.references import Pending
from services.importing.rows import RowImporter
from services.models import Contact


class ContactImporter(RowImporter):
    kind = "contacts"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._with_contacts: set[int] = set()

    def handle(self, values: list[Any]) -> None:
        data = {f: self.text(values, f) for f in ("name", "title", "phone", "email", "notes") if f in self.col_of}
        data["name"] = self.text(values, "name")
        primary = self.parse(values, "is_primary", parse_bool) if "is_primary" in self.col_of else None
        clean, errs = validate_contact_fields(data, self.locale, partial=True)
        for fld, message in errs.items():
            self.error(fld, data.get(fld), message)
        self.fail_if_errors()
        customer_id = self.refs.customer(values, required=True, owner=self.actor.id)
        if isinstance(customer_id, Pending):  # contacts never create customers
            self.error("customer", self.text(values, "customer"), t("err.unknown_ref", self.locale, value=""))
            return
        fields = {k: v for k, v in clean.items() if v is not None}
        key = ("contact", customer_id, dedupe.normalize_name(fields["name"]))
        if key in self.seen:
            self.outcome("skipped", self.seen[key][1], self.msg("note.same_as_row", row=self.seen[key][0]))
            return
        existing = self._existing(customer_id, fields, key[2])
        if existing is not None and self.on_duplicate == "keep_both" and not all(
                (getattr(existing, k) or None) == v for k, v in fields.items()):
            existing = None
        if existing is None:
            self._create(customer_id, fields, primary, key)
            return
        self.seen[key] = (self.current_row, existing.id)
        if self.on_duplicate != "update":
            self.outcome("skipped", existing.id, self.msg("note.contact_exists", id=existing.id))
            return
        changes = dict(fields)
        if primary is not None:
            changes["is_primary"] = primary
        diff = audit.changed_fields({k: getattr(existing, k) for k in changes}, changes)
        if not diff:
            self.outcome("skipped", existing.id, self.msg("note.unchanged"))
            return
        if not self.dry_run:
            if changes.get("is_primary"):
                self._clear_primary(customer_id)
            for k in diff:
                setattr(existing, k, changes[k])
            self.s.add(existing)
            audit.record(self.s, self.actor, "contact", existing.id, "update", diff)
        self.outcome("updated", existing.id)

    def _existing(self, customer_id: int, fields: dict[str, Any], name_norm: str) -> Contact | None:
        for c in self.s.scalars(select(Contact).where(Contact.customer_id == customer_id)):
            same_phone = fields.get("phone") and c.phone and \
                dedupe.normalize_phone(c.phone) == dedupe.normalize_phone(fields["phone"])
            same_email = fields.get("email") and c.email and \
                dedupe.normalize_email(c.email) == dedupe.normalize_email(fields["email"])
            if dedupe.normalize_name(c.name) == name_norm or same_phone or same_email:
                return c
        return None

    def _create(self, customer_id: int, fields: dict[str, Any], primary: bool | None, key: tuple) -> None:
        if customer_id not in self._with_contacts:
            if self.s.scalar(select(Contact.id).where(Contact.customer_id == customer_id).limit(1)) is None:
                primary = True  # as in the app: a customer's first contact is its primary one
            self._with_contacts.add(customer_id)
        contact = Contact(customer_id=customer_id, is_primary=bool(primary), **fields)
        if not self.dry_run:
            if primary:
                self._clear_primary(customer_id)
            self.s.add(contact)
            self.s.flush()
            audit.record(self.s, self.actor, "contact", contact.id, "import", {k: [None, v] for k, v in fields.items()})
        self.seen[key] = (self.current_row, contact.id)
        self.outcome("created", contact.id)

    def _clear_primary(self, customer_id: int) -> None:
        for c in self.s.scalars(select(Contact).where(Contact.customer_id == customer_id,
                                                      Contact.is_primary.is_(True))):
            c.is_primary = False
            self.s.add(c)
