"""Who sees what. Every read and write service asks this module, so the rules hold even
when a service is called directly (CLI, tests, jobs).

- rep: own customers, deals, activities, contracts; plus customers in the public pool
  (without private contact details until claimed).
- manager: everything owned by users in the teams they manage (the whole subtree).
- director / admin: everything. Only admin manages users, settings and imports of others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sqlalchemy import Integer, bindparam, cast, exists, false, or_, select, true, union
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from services.db import read_once
from services.errors import FieldNotFound, FieldPermissionDenied, NotFound, PermissionDenied, ValidationError
from services.i18n import t
from services.models import Customer, Team, User

ALL_ROLES = ("admin", "director", "manager", "rep")


@dataclass(frozen=True)
class Actor:
    """The signed-in user as plain data (safe to keep in session state; no ORM object)."""

    id: int | None
    username: str
    display_name: str
    role: str
    team_id: int | None = None
    locale: str = "zh_CN"

    @property
    def sees_all(self) -> bool:
        return self.role in ("admin", "director")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_manager(self) -> bool:
        """Manager or above: may reassign, restore archived rows, override duplicates."""
        return self.role in ("admin", "director", "manager")

    @classmethod
    def from_user(cls, user: User) -> Actor:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            team_id=user.team_id,
            locale=user.locale or "zh_CN",
        )


SYSTEM = Actor(id=None, username="system", display_name="System", role="admin", locale="en")


def _team_table(session: Session) -> tuple[tuple[int, int | None, int | None], ...]:
    """(id, parent id, manager id) of every team, read once per read transaction."""
    return read_once(session, ("team_table",), lambda: tuple(
        (tid, parent, manager) for tid, parent, manager in session.execute(
            select(Team.id, Team.parent_id, Team.manager_id)).all()))


def team_parents(session: Session) -> Mapping[int, int | None]:
    """Every team's parent team (None at the top), read once per read transaction (a
    read-only view: the same mapping serves every caller of the transaction)."""
    return read_once(session, ("team_tree",), lambda: MappingProxyType(
        {tid: parent for tid, parent, _manager in _team_table(session)}))


def team_managers(session: Session) -> dict[int, int | None]:
    """Every team's manager (None when it names none), from the team table read once per
    read transaction."""
    return {tid: manager for tid, _parent, manager in _team_table(session)}


def team_member_ids(session: Session, team_ids: set[int]) -> set[int]:
    """The users in ``team_ids`` (not below them), read once per read transaction per set."""
    key = tuple(sorted(team_ids))
    if not key:
        return set()
    return set(read_once(session, ("team_members", key), lambda: frozenset(
        session.scalars(select(User.id).where(User.team_id.in_(key))).all())))


def team_subtree_ids(session: Session, root_ids: set[int]) -> set[int]:
    """The given teams and every team below them."""
    if not root_ids:
        return set()
    children: dict[int | None, list[int]] = {}
    for tid, parent in team_parents(session).items():
        children.setdefault(parent, []).append(tid)
    seen: set[int] = set()
    stack = list(root_ids)
    while stack:
        tid = stack.pop()
        if tid in seen:
            continue
        seen.add(tid)
        stack.extend(children.get(tid, []))
    return seen


def managed_team_ids(session: Session, actor: Actor) -> set[int]:
    """Teams a manager is responsible for: those naming them manager (with subtrees); a
    manager named on no team manages their own team."""
    def compute() -> frozenset[int]:
        roots = {tid for tid, _parent, manager in _team_table(session) if manager == actor.id}
        if not roots and actor.team_id is not None:
            roots = {actor.team_id}
        return frozenset(team_subtree_ids(session, roots))

    return set(read_once(session, ("managed_teams", actor.id, actor.team_id), compute))


def core_connection(session: Session) -> Connection:
    """The session's connection for a plain Core read, after flushing what an ORM query
    would flush first (autoflush), so the read sees the session's pending changes."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    return session.connection()


def _managed_user_ids_stmt():
    """``managed_team_ids`` + the users of those teams as one recursive query: roots are the
    teams naming the manager (else their own team, ``:own_team``, which may be NULL), then
    every team below them (UNION, so a cycle ends), then the users in them."""
    me = bindparam("me", type_=Integer)
    own_team = cast(bindparam("own_team", type_=Integer), Integer)
    named = select(Team.id.label("id")).where(Team.manager_id == me)
    own = select(own_team.label("id")).where(own_team.is_not(None), ~exists().where(Team.manager_id == me))
    roots = union(named, own).subquery("managed_roots")
    tree = select(roots.c.id).cte("managed_tree", recursive=True)
    tree = tree.union(select(Team.id).where(Team.parent_id == tree.c.id))
    return select(User.id).where(User.team_id.in_(select(tree.c.id)))


_MANAGED_USER_IDS = _managed_user_ids_stmt()


def visible_user_ids(session: Session, actor: Actor) -> set[int] | None:
    """Owners whose records the actor may see; ``None`` means everyone. A manager sees the
    users of ``managed_team_ids`` (computed in one query) and themselves."""
    if actor.sees_all:
        return None
    if actor.role == "manager":
        def compute() -> frozenset[int]:
            rows = core_connection(session).execute(_MANAGED_USER_IDS, {"me": actor.id, "own_team": actor.team_id})
            return frozenset({r[0] for r in rows} | {actor.id})

        return set(read_once(session, ("managed_users", actor.id, actor.team_id), compute))
    return {actor.id} if actor.id is not None else set()


def owner_scope_key(ids: set[int] | None, params: dict) -> str:
    """The shape of an owner filter, for reusing prepared statements: "all" (no filter),
    "none" (nothing visible) or "ids" — then ``params["owners"]`` holds the sorted ids."""
    params.update(owner_params(ids))
    return owner_shape(ids)


def owner_shape(ids: set[int] | None) -> str:
    """``owner_scope_key``'s shape alone (part of a statement's key, ``db.shaped``)."""
    return "all" if ids is None else ("ids" if ids else "none")


def owner_params(ids: set[int] | None) -> dict:
    """``owner_scope_key``'s parameters alone: ``{"owners": sorted ids}`` for the "ids" shape."""
    return {"owners": sorted(ids)} if ids else {}


def owner_scope_term(col, owners: str, params: dict | None = None) -> ColumnElement:
    """The SQL of an owner scope shape from ``owner_scope_key`` for reused statements:
    everyone (``"all"``), no one (``"none"``), the ``:owner`` parameter (``"one"``) or the
    expanding ``:owners`` list (``"ids"``) — with ``params`` (the key's parameters) their
    values instead, as anonymous parameters (two such terms in one statement never share a
    name), for a statement built and run once."""
    if owners == "all":
        return true()
    if owners == "none":
        return false()
    if owners == "one":
        return col == (bindparam("owner") if params is None else params["owner"])
    return col.in_(bindparam("owners", expanding=True) if params is None else params["owners"])


def load_visible(session: Session, actor: Actor, model, record_id: int, *, field: str | None = None,
                 visible: ColumnElement | None = None, join: tuple | None = None, for_update: bool = False):
    """The ``model`` row ``record_id`` if the actor may see it — by default when its owner
    (``model.owner_id``) is visible to them, else by the ``visible`` term (over ``join``, a
    ``(table, on)`` pair) — locked ``FOR UPDATE`` when the caller will change it. Otherwise
    ``FieldNotFound`` on ``field`` (default ``<table>_id``), never telling whether a hidden
    record exists."""
    stmt = select(model)
    if join is not None:
        stmt = stmt.join(*join)
    stmt = stmt.where(model.id == record_id,
                      visible if visible is not None else owner_filter(session, actor, model.owner_id))
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise FieldNotFound({field or f"{model.__tablename__}_id": t("err.unknown_ref", actor.locale, value=record_id)})
    return row


def owner_filter(session: Session, actor: Actor, owner_col, *, visible: set[int] | None | str = "compute") -> ColumnElement:
    """SQL filter on an owner column for records that have no public pool (deals,
    activities, contracts, payouts, …)."""
    ids = visible_user_ids(session, actor) if visible == "compute" else visible
    return owner_scope_term(owner_col, owner_shape(ids), owner_params(ids))


def customer_filter(session: Session, actor: Actor, *, include_pool: bool = True) -> ColumnElement:
    """SQL filter for customers the actor may see: own (or team's) plus the public pool."""
    ids = visible_user_ids(session, actor)
    if ids is None:
        return true()
    own = Customer.owner_id.in_(sorted(ids)) if ids else false()
    return or_(own, Customer.owner_id.is_(None)) if include_pool else own


def can_see_private(session: Session, actor: Actor, owner_id: int | None, *, visible: set[int] | None | str = "compute") -> bool:
    """Private contact details (phone, email, address, contacts) of a customer are shown to
    its owner's chain and to managers; a rep sees pool customers without them."""
    if actor.is_manager and (owner_id is None):
        return True
    ids = visible_user_ids(session, actor) if visible == "compute" else visible
    if ids is None:
        return True
    return owner_id is not None and owner_id in ids


def get_visible_customer(session: Session, actor: Actor, customer_id: int) -> Customer:
    """The customer row if the actor may see it; ``NotFound`` otherwise (we do not reveal
    that an invisible customer exists)."""
    row = session.scalars(
        select(Customer).where(Customer.id == customer_id, customer_filter(session, actor))
    ).first()
    if row is None:
        raise NotFound(t("err.not_allowed", actor.locale))
    return row


def ensure_can_edit_customer(session: Session, actor: Actor, customer: Customer) -> None:
    """Reps edit only their own customers (claim a pool customer first); managers those of
    their teams and the pool; directors and admins everything."""
    if actor.sees_all:
        return
    if customer.owner_id is None:
        if actor.is_manager:
            return
        raise PermissionDenied(t("err.claim_first", actor.locale))
    if customer.owner_id in visible_user_ids(session, actor):  # not None: sees_all returned above
        return
    raise PermissionDenied(t("err.not_allowed", actor.locale))


def ensure_owner_assignable(session: Session, actor: Actor, owner_id: int | None) -> None:
    """Who may be made owner: a rep only themselves (or the pool); a manager anyone in their
    teams; directors and admins anyone."""
    if owner_id is None or actor.sees_all:
        return
    if actor.role == "rep":
        if owner_id != actor.id:
            raise PermissionDenied(t("err.owner_not_allowed", actor.locale))
        return
    ids = visible_user_ids(session, actor)
    if ids is not None and owner_id not in ids:
        raise PermissionDenied(t("err.owner_not_allowed", actor.locale))


def ensure_owned_visible(session: Session, actor: Actor, owner_id: int | None) -> None:
    """For deals, activities, contracts: the actor may act on it only if its owner is
    visible to them."""
    ids = visible_user_ids(session, actor)
    if ids is None:
        return
    if owner_id is None or owner_id not in ids:
        raise NotFound(t("err.not_allowed", actor.locale))


def require_role(actor: Actor, *roles: str) -> None:
    if actor.role not in roles:
        raise PermissionDenied(f"requires role {' or '.join(roles)}")


def require_admin(actor: Actor) -> None:
    """Admin-only writes (users, teams, reference data): refused in the actor's language."""
    if actor.role != "admin":
        raise PermissionDenied(t("err.permission", actor.locale, detail=t("admin.admin_only", actor.locale)))


# ---------------------------------------------------------------------------
# the checks write services share


def visible_editable_customer(session: Session, actor: Actor, customer_id: int | None,
                              field: str = "customer_id") -> Customer:
    """The customer if the actor may see and edit it. Unknown or invisible → ``FieldNotFound``
    (we do not reveal that an invisible customer exists); visible but not editable (a pool
    customer for a rep) → ``FieldPermissionDenied``. Both carry a message on ``field``."""
    loc = actor.locale
    if customer_id is None:
        raise ValidationError({field: t("err.required", loc)})
    row = session.scalars(
        select(Customer).where(Customer.id == customer_id, customer_filter(session, actor),
                               Customer.archived.is_(False))
    ).first()
    if row is None:
        raise FieldNotFound({field: t("err.unknown_ref", loc, value=customer_id)})
    try:
        ensure_can_edit_customer(session, actor, row)
    except PermissionDenied:
        key = "activities.err.claim_first" if row.owner_id is None else "activities.err.not_your_customer"
        raise FieldPermissionDenied({field: t(key, loc)}) from None
    return row


def check_owner(session: Session, actor: Actor, owner_id: int | None, field: str = "owner_id") -> int:
    """Owner of a new record: defaults to the actor; a rep may only name themselves, a
    manager anyone in their teams. Must be an existing, active user. A user the actor may
    not see gets the same answer whether they exist or not (and is never named)."""
    loc = actor.locale
    if owner_id is None:
        if actor.id is None:
            raise ValidationError({field: t("err.required", loc)})
        return actor.id
    ids = visible_user_ids(session, actor)
    if ids is not None and owner_id not in ids:
        raise FieldPermissionDenied({field: t("err.owner_not_allowed", loc)})
    user = session.get(User, owner_id)
    if user is None or not user.active:
        raise ValidationError({field: t("err.unknown_ref", loc, value=owner_id)})
    try:
        ensure_owner_assignable(session, actor, owner_id)
    except PermissionDenied:
        raise FieldPermissionDenied({field: t("err.owner_not_allowed", loc)}) from None
    return owner_id


def scoped_owner_ids(session: Session, actor: Actor, owner_id: int | None) -> set[int] | None:
    """Owners a list shows: ``owner_id`` when given (must be visible to the actor, else
    ``PermissionDenied``), else everyone the actor may see (``None`` = all)."""
    visible = visible_user_ids(session, actor)
    if owner_id is None:
        return visible
    if visible is not None and owner_id not in visible:
        raise PermissionDenied(t("err.permission", actor.locale, detail=str(owner_id)))
    return {owner_id}


def owner_in(col, ids: set[int] | None):
    return owner_filter(None, None, col, visible=ids)  # type: ignore[arg-type]
