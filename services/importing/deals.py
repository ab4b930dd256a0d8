"""Importing deals: a row is matched by external id, else by customer + normalised deal
name; a new deal is checked with ``services.deals.check_new_deal`` for the kind of stage it
lands in and written through ``services.deals.insert_deals`` (the deal form's write path:
probability, close-date rules, first stage history row, audit). An update writes history
rows for stage, amount, expected close and owner, as the app does.

Import-only rules: a won or lost deal without a close date takes its expected close date;
a won deal must name its customer; an open deal with a close date is an error on its row
(the date would otherwise be dropped)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from services import access, audit, dedupe
from services import deals as deal_service
from services.errors import NotFound
from services.i18n import t
from services.importing.parsing import cell_text, parse_amount, parse_int
from services.importing.references import Pending, RowFailed, ref_key
from services.importing.rows import RowImporter
from services.models import Deal, Stage, utcnow
from services.validation import check_amount

_HISTORY = {"stage_id": "stage", "amount": "amount", "expected_close": "expected_close", "owner_id": "owner"}
# a field of the deal → the import field whose column is named in the report
_COLUMN = {"stage_id": "stage", "customer_id": "customer", "owner_id": "owner", "product_id": "product",
           "channel_id": "channel", "lost_reason_id": "lost_reason"}


@dataclass
class NewDeal:
    values: dict[str, Any]
    outcome: Any
    id: int | None = None


class DealImporter(RowImporter):
    kind = "deals"
    text_limits = {"name": deal_service.MAX_NAME, "next_step": deal_service.MAX_NEXT_STEP,
                   "external_id": deal_service.MAX_EXTERNAL_ID}

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._deal_ext: dict[str, int] | None = None

    def handle(self, values: list[Any]) -> None:
        texts = self.texts(values, ("external_id", "name", "next_step"))
        ext, name, next_step = texts["external_id"], texts["name"], texts["next_step"]
        amount = self.parse(values, "amount", parse_amount) if "amount" in self.col_of else None
        if amount is not None:
            limit_errors: dict[str, str] = {}
            check_amount(amount, "amount", self.locale, limit_errors)  # the app's rule for absurd amounts
            if limit_errors:
                self.error("amount", self.raw(values, "amount"), limit_errors["amount"])
        probability = self.parse(values, "probability", parse_int, low=0, high=100) \
            if "probability" in self.col_of else None
        expected = self.date_of(values, "expected_close")
        opened = self.date_of(values, "opened_on")
        closed = self.date_of(values, "closed_on")
        self.fail_if_errors()
        owner = self.refs.owner(values)
        stage, stage_kind, stage_prob = self.refs.stage(values)
        won = stage_kind == "won"
        customer = self.refs.customer(values, required=won, owner=owner, won=won)
        if stage_kind in ("won", "lost"):
            closed = closed or expected
        product = self.refs.named(values, "product", "product")
        channel = self.refs.named(values, "channel", "channel")
        reason = self.refs.named(values, "lost_reason", "lost_reason") if stage_kind == "lost" else None
        if not name:
            parts = [self.text(values, "customer"), self.text(values, "product")]
            name = (" ".join(p for p in parts if p) or ext or "")[:deal_service.MAX_NAME]
        if not name:
            self.error("name", None, t("err.required", self.locale))
            raise RowFailed
        fields = {"name": name, "amount": amount, "probability": probability, "expected_close": expected,
                  "opened_on": opened or closed, "closed_on": closed, "next_step": next_step}
        refs = {"owner_id": owner, "stage_id": stage, "customer_id": customer, "product_id": product,
                "channel_id": channel, "lost_reason_id": reason}
        existing = self._match(ext, customer, name, owner)
        if isinstance(existing, tuple):
            self.outcome("skipped", getattr(existing[1], "id", existing[1]), self.msg("note.same_as_row",
                                                                                      row=existing[0]))
            return
        if existing is not None and (self.on_duplicate != "keep_both" or ext):
            self._matched(existing, fields, refs, stage_kind, values)
            return
        self._create(fields, ext, refs, stage_kind, stage_prob, values)

    def _key(self, ext: str | None, customer: Any, name: str) -> tuple:
        if ext:
            return ("deal-ext", ext)
        return ("deal", ref_key(customer), dedupe.normalize_name(name))

    def _match(self, ext: str | None, customer: Any, name: str, owner: Any) -> Any:
        key = self._key(ext, customer, name)
        if key in self.seen:
            return self.seen[key]
        if ext:
            if self._deal_ext is None:
                col = self.col_of["external_id"]
                ids = sorted({cell_text(v[col]) for _, v in self.table.rows if col < len(v)} - {""})
                self._deal_ext = {}
                for i in range(0, len(ids), 500):
                    self._deal_ext.update({e: did for did, e in self.s.execute(
                        select(Deal.id, Deal.external_id).where(Deal.external_id.in_(ids[i:i + 500])))})
            known = self._deal_ext.get(ext)
            return self.s.get(Deal, known) if known is not None else None
        if isinstance(customer, Pending) or isinstance(owner, Pending):
            return None
        q = select(Deal).where(Deal.customer_id == customer) if customer is not None else \
            select(Deal).where(Deal.customer_id.is_(None), Deal.owner_id == owner)
        norm = dedupe.normalize_name(name)
        for d in self.s.scalars(q):
            if dedupe.normalize_name(d.name) == norm:
                return d
        return None

    def _report(self, errors: dict[str, str], values: list[Any]) -> None:
        for fld, message in errors.items():
            column = _COLUMN.get(fld, fld)
            self.error(column, self.raw(values, column), message)
        self.fail_if_errors()

    def _create(self, fields: dict[str, Any], ext: str | None, refs: dict[str, Any], stage_kind: str,
                stage_prob: int, values: list[Any]) -> None:
        clean, errors = deal_service.check_new_deal({**fields, "external_id": ext}, self.locale,
                                                    stage_kind=stage_kind, stage_probability=stage_prob,
                                                    today=self.today)
        self._report(errors, values)
        clean.update({k: self.refs.materialize(ref) for k, ref in refs.items()})
        new = NewDeal(clean, self.outcome("created"))
        self.seen[self._key(ext, refs["customer_id"], fields["name"])] = (self.current_row, new)
        self.queue(new)

    def write_queued(self, items: list[NewDeal]) -> None:
        ids = deal_service.insert_deals(self.s, self.actor, [n.values for n in items], action="import")
        for new, did in zip(items, ids, strict=True):
            new.id = new.outcome.entity_id = did

    def _matched(self, deal: Deal, fields: dict[str, Any], refs: dict[str, Any], stage_kind: str,
                 values: list[Any]) -> None:
        self.seen[self._key(deal.external_id, refs["customer_id"], fields["name"])] = (self.current_row, deal.id)
        try:
            access.ensure_owned_visible(self.s, self.actor, deal.owner_id)
        except NotFound:
            self.error("external_id" if deal.external_id else "name", deal.external_id or fields["name"],
                       self.msg("err.deal_not_yours"))
            return
        if self.on_duplicate != "update":
            self.outcome("skipped", deal.id, self.msg("note.deal_exists", id=deal.id))
            return
        stage_given = self.text(values, "stage") is not None
        current_kind = self.s.scalar(select(Stage.kind).where(Stage.id == deal.stage_id))
        if (stage_kind if stage_given else current_kind) == "open" and self.raw(values, "closed_on") is not None:
            self._report({"closed_on": t("deals.err.open_has_no_close_date", self.locale)}, values)
        given = self._given(values)
        changes = {k: v for k, v in fields.items() if v is not None and k in given}
        if stage_given:
            changes["stage_id"] = self.refs.materialize(refs["stage_id"])
        if self.text(values, "owner") is not None:
            changes["owner_id"] = self.refs.materialize(refs["owner_id"])
        for fld in ("customer_id", "product_id", "channel_id", "lost_reason_id"):
            if refs[fld] is not None:
                changes[fld] = self.refs.materialize(refs[fld])
        before = {k: getattr(deal, k) for k in changes}
        diff = audit.changed_fields(before, changes)
        if not diff:
            self.outcome("skipped", deal.id, self.msg("note.unchanged"))
            return
        if "stage_id" in diff and current_kind in ("won", "lost"):
            self.error("stage", self.raw(values, "stage"), self.msg("err.deal_closed"))
            return
        if not self.dry_run:
            now = utcnow()
            for k in diff:
                if k in _HISTORY:
                    deal_service.write_history(self.s, deal.id, _HISTORY[k], before[k], changes[k], by=self.actor,
                                              at=now)
                setattr(deal, k, changes[k])
            if "stage_id" in diff:
                deal.stage_changed_at = now
                if stage_kind in deal_service.CLOSED_PROBABILITY:
                    deal.probability = deal_service.CLOSED_PROBABILITY[stage_kind]
            deal.version += 1
            deal.updated_at = now
            self.s.add(deal)
            audit.record(self.s, self.actor, "deal", deal.id, "update", diff)
        self.outcome("updated", deal.id)

    def _given(self, values: list[Any]) -> set[str]:
        given = {f for f in ("name", "amount", "probability", "expected_close", "opened_on", "closed_on", "next_step")
                 if f in self.col_of and self.raw(values, f) is not None}
        if "closed_on" not in given and "expected_close" in given:
            given.add("closed_on")  # a closed deal's close date defaults to its expected close
        return given
