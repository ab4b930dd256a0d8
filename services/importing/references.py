"""Resolving the names a file uses for other records — owners, channels, products, lost
reasons, stages and customers — to ids, under the importing user's rights.

A name that matches nothing is a row error, unless ``create_missing`` (directors and admins)
allows creating it: owners of deals and activities as inactive users who cannot sign in,
customers (through ``services.customers.insert_customers``, the app's own write path),
products, channels, lost reasons and stages. A missing stage whose name says won or lost
(won, Closed Won, 赢单, 成交; lost, Closed Lost, 输单, 丢单) is created as a won / lost stage
at 100 % / 0 %, so closed deals of another CRM stay closed; any other name becomes an open
stage after the existing ones. A reference is created when the first row that needs it is
written, and counted in ``ImportResult.created_refs``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from services import access, audit, dedupe
from services import customers as customer_service
from services.errors import PermissionDenied
from services.i18n import t
from services.importing.parsing import _POOL_WORDS, stage_kind_named
from services.models import Channel, Customer, LostReason, Product, Stage, User

if TYPE_CHECKING:
    from services.importing.rows import RowImporter

STAGE_PROBABILITY = {"open": 10, "won": 100, "lost": 0}


class RowFailed(Exception):
    """A row is rejected; its errors are already recorded."""


@dataclass
class Pending:
    """A reference the row needs that does not exist yet; ``create()`` writes it (and
    returns its id) when the first row that needs it is written."""

    kind: str
    key: str
    create: Callable[[], int | None]
    done: bool = False
    id: int | None = None
    stage_kind: str | None = None


def ref_key(ref: Any) -> Any:
    """What identifies a reference in the file's own duplicate keys (id or pending name)."""
    return ref.key if isinstance(ref, Pending) else ref


def norm(s: str) -> str:
    return dedupe.normalize_name(s) or unicodedata.normalize("NFKC", s).strip().lower()


class References:
    def __init__(self, importer: RowImporter) -> None:
        self.imp = importer
        self._pending: dict[tuple[str, str], Pending] = {}
        self._users: dict[str, Any] | None = None
        self._named: dict[str, dict[str, int]] = {}
        self._stages: list[Any] | None = None
        self._customers: dict[tuple[str, str], Any] = {}
        self._owner_ok: dict[int, bool] = {}

    # -- shared ------------------------------------------------------------------
    def fail(self, fld: str, raw: Any, reason: str) -> None:
        self.imp.error(fld, raw, reason)
        raise RowFailed

    def _pending_ref(self, kind: str, key: str, create: Callable[[], int | None], **kw: Any) -> Pending:
        p = self._pending.get((kind, key))
        if p is None:
            p = Pending(kind, key, create, **kw)
            self._pending[(kind, key)] = p
        return p

    def materialize(self, ref: Any) -> int | None:
        """The id of a reference, creating a pending one (create_missing) first."""
        if not isinstance(ref, Pending):
            return ref
        if not ref.done:
            ref.done = True
            refs = self.imp.result.created_refs
            refs[ref.kind] = refs.get(ref.kind, 0) + 1
            if not self.imp.dry_run:
                ref.id = ref.create()
        return ref.id

    def _insert(self, kind: str, key: str, build: Callable[[], Any]) -> Callable[[], int]:
        def create() -> int:
            s = self.imp.s
            obj = build()
            s.add(obj)
            s.flush()
            audit.record(s, self.imp.actor, kind, obj.id, "import", {"created_by_import": [None, key]})
            return obj.id

        return create

    # -- owners ------------------------------------------------------------------
    def owner(self, values: list[Any]) -> Any:
        """Owner id (or pending user, or None for the pool); empty → the importing user. A
        rep may only name themselves; a manager the users of their teams."""
        imp = self.imp
        raw = imp.text(values, "owner")
        if raw is None:
            if imp.actor.id is None and imp.kind != "customers":
                # a system import (CLI without --as) has nobody to default to
                self.fail("owner", raw, t("err.required", imp.locale))
            return imp.actor.id  # SYSTEM + customers: the public pool
        if raw.lower() in _POOL_WORDS:
            return None
        if self._users is None:
            self._users = {}
            by_name: dict[str, list[int]] = {}
            users = select(User.id, User.username, User.display_name)
            if imp.kind in ("customers", "contacts"):
                users = users.where(User.active.is_(True))  # live customers need a live owner
            for uid, username, display in imp.s.execute(users):
                self._users[username.lower()] = uid
                by_name.setdefault(unicodedata.normalize("NFKC", display).strip().lower(), []).append(uid)
            for name, ids in by_name.items():
                self._users.setdefault(name, ids[0] if len(ids) == 1 else ids)
        key = unicodedata.normalize("NFKC", raw).strip().lower()
        found = self._users.get(key)
        if isinstance(found, list):
            self.fail("owner", raw, imp.msg("err.ambiguous_owner"))
        if found is None:
            # former colleagues may own history (deals, activities), never a live customer
            if not imp.create_missing or imp.kind not in ("deals", "activities"):
                self.fail("owner", raw, t("err.unknown_ref", imp.locale, value=raw))
            return self._pending_ref("user", key, self._insert("user", key, lambda: self._new_user(raw)))
        if found not in self._owner_ok:
            try:
                access.ensure_owner_assignable(imp.s, imp.actor, found)
                self._owner_ok[found] = True
            except PermissionDenied:
                self._owner_ok[found] = False
        if not self._owner_ok[found]:
            self.fail("owner", raw, imp.msg("err.owner_not_allowed"))
        return found

    def _new_user(self, display: str) -> User:
        s = self.imp.s
        base = display.strip().lower()
        if not re.fullmatch(r"[a-z0-9._@-]{1,50}", base):
            base = "imported-" + hashlib.sha1(display.encode("utf-8")).hexdigest()[:10]
        username, n = base, 1
        while s.scalar(select(func.count()).select_from(User).where(User.username == username)):
            n += 1
            username = f"{base}-{n}"
        # inactive, unusable password: the owner of imported records, never a login
        return User(username=username, display_name=display.strip()[:120], role="rep",
                    team_id=self.imp.actor.team_id, password_hash="!", active=False)

    # -- channels, products, lost reasons ----------------------------------------
    _MODELS = {"channel": (Channel, 80), "product": (Product, 120), "lost_reason": (LostReason, 120)}

    def named(self, values: list[Any], fld: str, kind: str) -> Any:
        """A channel / product / lost reason by normalised name (spelling variants match)."""
        imp = self.imp
        raw = imp.text(values, fld)
        if raw is None:
            return None
        model, max_len = self._MODELS[kind]
        cache = self._named.get(kind)
        if cache is None:
            cache = {}
            for rid, name in imp.s.execute(select(model.id, model.name)):
                cache.setdefault(norm(name), rid)
            self._named[kind] = cache
        key = norm(raw)
        found = cache.get(key)
        if found is not None:
            return found
        if not imp.create_missing:
            self.fail(fld, raw, t("err.unknown_ref", imp.locale, value=raw))
        if len(raw) > max_len:
            self.fail(fld, raw, t("err.too_long", imp.locale, max=max_len))
        return self._pending_ref(kind, key, self._insert(kind, key, lambda: model(name=raw)))

    # -- stages --------------------------------------------------------------------
    def stage(self, values: list[Any]) -> tuple[Any, str, int]:
        """(stage id or pending, stage kind, default probability); empty → first open stage;
        won / lost words name the won / lost stage whatever it is called."""
        imp = self.imp
        if self._stages is None:
            self._stages = list(imp.s.execute(
                select(Stage.id, Stage.name, Stage.kind, Stage.probability, Stage.sequence)
                .where(Stage.active.is_(True)).order_by(Stage.sequence)))
        stages = self._stages
        raw = imp.text(values, "stage")
        if raw is None:
            for st in stages:
                if st.kind == "open":
                    return st.id, "open", st.probability
            self.fail("stage", raw, t("err.required", imp.locale))
        key = norm(raw)
        for st in stages:
            if norm(st.name) == key:
                return st.id, st.kind, st.probability
        said = stage_kind_named(raw)
        if said is not None:
            for st in stages:
                if st.kind == said:
                    return st.id, said, st.probability
            for p in self._pending.values():
                if p.kind == "stage" and p.stage_kind == said:
                    return p, said, STAGE_PROBABILITY[said]
        if not imp.create_missing:
            self.fail("stage", raw, t("err.unknown_ref", imp.locale, value=raw))
        if len(raw) > 60:
            self.fail("stage", raw, t("err.too_long", imp.locale, max=60))
        kind = said or "open"
        made = [p for p in self._pending.values() if p.kind == "stage"]
        if kind == "open":  # after the open stages, before won / lost
            sequence = max([st.sequence for st in stages if st.kind == "open"] or [0]) + 10 + 10 * len(made)
        else:
            sequence = max([st.sequence for st in stages] or [0]) + 10 + 10 * len(made)
        probability = STAGE_PROBABILITY[kind]
        create = self._insert("stage", key, lambda: Stage(name=raw, sequence=sequence, probability=probability,
                                                          kind=kind))
        return self._pending_ref("stage", key, create, stage_kind=kind), kind, probability

    # -- customers -------------------------------------------------------------------
    def customer(self, values: list[Any], *, required: bool, owner: Any, won: bool = False) -> Any:
        """The customer a deal / activity / contact belongs to, by external id or normalised
        name; must be one the actor may work on (a rep: their own)."""
        imp = self.imp
        ext = imp.text(values, "customer_external_id")
        name = imp.text(values, "customer")
        if ext is None and name is None:
            if required:
                self.fail("customer", None, t("err.required", imp.locale))
            return None
        fld, raw = ("customer_external_id", ext) if ext else ("customer", name)
        ck = (fld, raw if ext else norm(raw))
        if ck in self._customers:
            return self._customers[ck]
        if ext:
            q = select(Customer).where(Customer.external_id == ext)
        else:
            q = select(Customer).where(Customer.name_norm == dedupe.normalize_name(raw), Customer.archived.is_(False))
        rows = list(imp.s.scalars(q.limit(5)))
        if rows:
            visible = [c for c in rows if self._may_work_on(c)]
            if not visible:
                self.fail(fld, raw, imp.msg("err.customer_not_yours"))
            if len(visible) > 1:
                self.fail(fld, raw, imp.msg("err.ambiguous_customer", ids=", ".join(f"#{c.id}" for c in visible)))
            ref: Any = visible[0].id
        elif imp.create_missing and name:
            _clean, errs = customer_service.validate_customer_fields({"name": name}, imp.locale, partial=True)
            if errs:
                self.fail("customer", name, errs["name"])
            status = "active" if won else "prospect"
            ref = self._pending_ref("customer", norm(name), lambda: self._new_customer(name, owner, status))
        else:
            self.fail(fld, raw, t("err.unknown_ref", imp.locale, value=raw))
        self._customers[ck] = ref
        return ref

    def _may_work_on(self, c: Customer) -> bool:
        try:
            access.ensure_can_edit_customer(self.imp.s, self.imp.actor, c)
        except PermissionDenied:
            return False
        return True

    def _new_customer(self, name: str, owner: Any, status: str) -> int:
        owner_id = self.materialize(owner)
        return customer_service.insert_customers(self.imp.s, self.imp.actor,
                                                 [{"name": name, "owner_id": owner_id, "status": status}],
                                                 action="import")[0]
