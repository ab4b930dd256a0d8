"""Importing activities (跟进记录): matched by external id, else by customer + kind + time;
a date in the future makes a planned activity; a done activity moves the customer's last
contact (and the deal's last activity) forward, never back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from services import access, audit, dedupe
from services.activities import apply_activity_effects
from services.errors import NotFound
from services.i18n import t
from services.importing.parsing import parse_activity_kind, parse_int
from services.importing.references import Pending, ref_key
from services.importing.rows import RowImporter
from services.models import Activity, Contact, Deal, utcnow

MAX_DURATION_MINUTES = 24 * 60


@dataclass
class NewActivity:
    row: Activity
    changes: dict[str, Any]
    outcome: Any
    touch: tuple | None = None

    @property
    def id(self) -> int | None:
        return self.row.id


class ActivityImporter(RowImporter):
    kind = "activities"
    text_limits = {"outcome": 300, "next_step": 300, "location": 200, "external_id": 80}

    def handle(self, values: list[Any]) -> None:
        texts = self.texts(values, ("outcome", "notes", "next_step", "location"))
        ext = self.texts(values, ("external_id",))["external_id"]
        kind = (self.parse(values, "kind", parse_activity_kind) if "kind" in self.col_of else None) or "other"
        done_at = self.datetime_of(values, "done_at")
        planned_at = self.datetime_of(values, "planned_at")
        duration = self.parse(values, "duration_minutes", parse_int, low=0, high=MAX_DURATION_MINUTES) \
            if "duration_minutes" in self.col_of else None
        next_contact = self.date_of(values, "next_contact_on")
        now = utcnow()
        if done_at is not None and done_at > now:
            planned_at, done_at = planned_at or done_at, None  # a future date is a plan
        if done_at is None and planned_at is None and not self.row_errors:
            self.error("done_at", self.raw(values, "done_at"), t("err.required", self.locale))
        self.fail_if_errors()
        owner = self.refs.owner(values)
        customer = self.refs.customer(values, required=True, owner=owner)
        deal_id = self._deal(values, customer)
        contact_id = self._contact(values, customer)
        self.fail_if_errors()
        fields = {"kind": kind, "done_at": done_at, "planned_at": planned_at, "duration_minutes": duration,
                  "next_contact_on": next_contact, **texts}
        when = done_at or planned_at
        key = ("act-ext", ext) if ext else ("act", ref_key(customer), kind, when)
        if key in self.seen:
            first_row, entity = self.seen[key]
            self.outcome("skipped", getattr(entity, "id", entity), self.msg("note.same_as_row", row=first_row))
            return
        existing = None
        if ext:
            existing = self.s.scalars(select(Activity).where(Activity.external_id == ext)).first()
        elif not isinstance(customer, Pending):
            col = Activity.done_at if done_at else Activity.planned_at
            existing = self.s.scalars(select(Activity).where(Activity.customer_id == customer, Activity.kind == kind,
                                                             col == when)).first()
        if existing is not None and (self.on_duplicate != "keep_both" or ext):
            self.seen[key] = (self.current_row, existing.id)
            try:
                access.ensure_owned_visible(self.s, self.actor, existing.owner_id)
            except NotFound:
                self.error("external_id", ext, self.msg("err.activity_not_yours"))
                return
            self.outcome("skipped", existing.id, self.msg("note.activity_exists", id=existing.id))
            return
        owner_id = self.refs.materialize(owner)
        customer_id = self.refs.materialize(customer)
        act = Activity(**fields, external_id=ext, owner_id=owner_id, customer_id=customer_id, deal_id=deal_id,
                       contact_id=contact_id, created_at=now)
        changes = {k: [None, v] for k, v in {**fields, "customer_id": customer_id, "external_id": ext}.items()
                   if v is not None}
        new = NewActivity(act, changes, self.outcome("created"),
                          (customer_id, deal_id, done_at, next_contact) if done_at is not None else None)
        self.seen[key] = (self.current_row, new)
        self.queue(new)

    def write_queued(self, items: list[NewActivity]) -> None:
        self.s.add_all([n.row for n in items])
        self.s.flush()
        for n in items:
            audit.record(self.s, self.actor, "activity", n.row.id, "import", n.changes)
            n.outcome.entity_id = n.row.id
            if n.touch is not None:
                self._touch_contact(*n.touch)

    def _deal(self, values: list[Any], customer: Any) -> int | None:
        ext = self.text(values, "deal_external_id")
        name = self.text(values, "deal")
        if not ext and not name:
            return None
        if ext:
            deal = self.s.scalars(select(Deal).where(Deal.external_id == ext)).first()
        else:
            deal = None
            if not isinstance(customer, Pending):
                norm = dedupe.normalize_name(name)
                for d in self.s.scalars(select(Deal).where(Deal.customer_id == customer)):
                    if dedupe.normalize_name(d.name) == norm:
                        deal = d
                        break
        fld, raw = ("deal_external_id", ext) if ext else ("deal", name)
        if deal is None or deal.customer_id != (customer if not isinstance(customer, Pending) else None):
            self.error(fld, raw, t("err.unknown_ref", self.locale, value=raw))
            return None
        return deal.id

    def _contact(self, values: list[Any], customer: Any) -> int | None:
        name = self.text(values, "contact")
        if not name or isinstance(customer, Pending):
            if name:
                self.error("contact", name, t("err.unknown_ref", self.locale, value=name))
            return None
        norm = dedupe.normalize_name(name)
        for c in self.s.scalars(select(Contact).where(Contact.customer_id == customer)):
            if dedupe.normalize_name(c.name) == norm:
                return c.id
        self.error("contact", name, t("err.unknown_ref", self.locale, value=name))
        return None

    def _touch_contact(self, customer_id: int, deal_id: int | None, done_at: datetime,
                       next_contact: date | None) -> None:
        """The same effects as an activity logged on the page (``apply_activity_effects``)."""
        apply_activity_effects(self.s, customer_id=customer_id, deal_id=deal_id, done_at=done_at,
                               next_contact_on=next_contact, next_step=None, now=utcnow())
