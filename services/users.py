"""Users and the team tree (company → region → team).

Writes are admin only; directors read everything, managers read the users of their teams,
reps read themselves. Every write is validated first (messages per field, in the actor's
language) and audited. Guards: nobody deactivates themselves, and the last active admin can
neither be deactivated nor lose the admin role, so the company is never locked out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import Session

from services import audit, reference
from services.access import Actor, visible_user_ids
from services.access import require_admin as _require_admin
from services.auth import (
    clear_sign_in_locks,
    find_user,
    locked_until,
    normalize_username,
    revoke_user_sessions,
)
from services.errors import NotFound, ValidationError
from services.i18n import normalize_locale, t
from services.models import (
    TEAM_KINDS,
    Team,
    TeamBase,
    TeamCreate,
    TeamRead,
    TeamUpdate,
    User,
    UserBase,
    UserCreate,
    UserRead,
    UserUpdate,
)
from services.passwords import MIN_LENGTH, hash_password, verify_password
from services.validation import validate

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")
MAX_PASSWORD = 200
TEAM_RANK = {"company": 0, "region": 1, "team": 2}
MANAGER_ROLES = ("admin", "director", "manager")


# ---------------------------------------------------------------------------
# field checks (shared with first-run setup and the CLI)


def check_username(session: Session, username: str, locale: str, *, exclude_id: int | None = None) -> dict[str, str]:
    """Username: 2–60 characters of a-z 0-9 . _ - starting with a letter or digit; unique
    (case-insensitive)."""
    name = normalize_username(username)
    if not name:
        return {"username": t("err.required", locale)}
    if not USERNAME_RE.match(name):
        return {"username": t("admin.err_username_format", locale)}
    q = select(User.id).where(func.lower(User.username) == name)
    if exclude_id is not None:
        q = q.where(User.id != exclude_id)
    if session.scalars(q).first() is not None:
        return {"username": t("admin.err_username_taken", locale, value=name)}
    return {}


def check_password(password: str | None, locale: str) -> dict[str, str]:
    """Password: at least 8 characters (at most 200)."""
    if not password:
        return {"password": t("err.required", locale)}
    if len(password) < MIN_LENGTH:
        return {"password": t("admin.err_password_short", locale, min=MIN_LENGTH)}
    if len(password) > MAX_PASSWORD:
        return {"password": t("err.too_long", locale, max=MAX_PASSWORD)}
    return {}


def _as_dict(data: Any) -> dict[str, Any]:
    return data.model_dump(exclude_unset=True) if isinstance(data, BaseModel) else dict(data)


_PROFILE = tuple(UserBase.model_fields)


def _profile(session: Session, values: dict[str, Any], locale: str) -> tuple[dict[str, Any], dict[str, str]]:
    """``values`` (a whole profile) against ``UserBase``'s field rules, plus: the team exists
    and is active. Returns (clean values, errors)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    try:
        clean = validate(UserBase, values, locale).model_dump()
    except ValidationError as exc:
        errors.update(exc.errors)
    team_id = values.get("team_id")
    if team_id is not None and "team_id" not in errors:
        team = session.get(Team, team_id)
        if team is None or not team.active:
            errors["team_id"] = t("err.unknown_ref", locale, value=team_id)
    return clean, errors


def check_profile(session: Session, values: dict[str, Any], locale: str) -> dict[str, str]:
    """The messages for the profile fields present in ``values`` (display_name, role,
    team_id, email, locale, capacity): ``UserBase``'s rules and an existing team."""
    given = {k: v for k, v in values.items() if k in _PROFILE}
    _, errors = _profile(session, {"display_name": "-", **given}, locale)
    return {k: v for k, v in errors.items() if k in given}


def _user_by_name(session: Session, actor: Actor, username: str) -> User:
    row = find_user(session, username)
    if row is None:
        raise NotFound(t("err.not_found", actor.locale, detail=username))
    return row


def _read(session: Session, user: User) -> UserRead:
    return _reads(session, [user])[0]


def _reads(session: Session, rows: list[User]) -> list[UserRead]:
    """Read models with ``locked_until``: the end of the lock on sign-ins from browsers the
    user never signed in from (``services.auth``), or None."""
    locks = locked_until(session, [u.username for u in rows])
    return [UserRead.model_validate(u, from_attributes=True).model_copy(update={"locked_until": locks.get(u.username)})
            for u in rows]


def _active_admins(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))) or 0


def _snapshot(user: User) -> dict[str, Any]:
    return {k: getattr(user, k) for k in ("display_name", "role", "team_id", "email", "locale", "capacity", "active")}


# ---------------------------------------------------------------------------
# users


def list_users(session: Session, actor: Actor, *, include_inactive: bool = True) -> list[UserRead]:
    """Users the actor may see: admin and director all; a manager the users of their teams;
    a rep only themselves. Ordered by display name."""
    q = select(User).order_by(User.display_name, User.username)
    ids = visible_user_ids(session, actor)
    if ids is not None:
        q = q.where(User.id.in_(sorted(ids)))
    if not include_inactive:
        q = q.where(User.active.is_(True))
    return _reads(session, list(session.scalars(q).all()))


def get_user(session: Session, actor: Actor, *, username: str) -> UserRead:
    """One user, if visible to the actor (else NotFound)."""
    user = _user_by_name(session, actor, username)
    ids = visible_user_ids(session, actor)
    if ids is not None and user.id not in ids:
        raise NotFound(t("err.not_found", actor.locale, detail=username))
    return _read(session, user)


def create_user(session: Session, actor: Actor, *, data: UserCreate | Mapping[str, Any]) -> UserRead:
    """Admin only. Username unique and well-formed, password ≥ 8, the profile by
    ``UserBase``'s rules (known role, existing team, …)."""
    _require_admin(actor)
    loc = actor.locale
    values = _as_dict(data)
    name = normalize_username(values.get("username") or "")
    password = values.get("password")
    errors = check_username(session, name, loc)
    errors.update(check_password(password, loc))
    clean, profile_errors = _profile(session, {k: v for k, v in values.items() if k in _PROFILE}, loc)
    errors.update(profile_errors)
    if errors:
        raise ValidationError(errors)
    user = User(username=name, password_hash=hash_password(password), **clean)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user", user.id, "create",
                 {"username": name, "role": user.role, "team_id": user.team_id})
    return _read(session, user)


def update_user(session: Session, actor: Actor, *, username: str, data: UserUpdate | Mapping[str, Any]) -> UserRead:
    """Admin only: change display name, role, team, email, language, capacity or active flag
    (the changed profile must pass ``UserBase``). The last active admin keeps the role;
    nobody deactivates themselves."""
    _require_admin(actor)
    user = _user_by_name(session, actor, username)
    values = _as_dict(data)
    active = values.pop("active", None)
    changes = {k: v for k, v in values.items() if k in _PROFILE}
    clean, errors = _profile(session, {**{f: getattr(user, f) for f in _PROFILE}, **changes}, actor.locale)
    if active is not None and not isinstance(active, bool):
        errors["active"] = t("err.boolean", actor.locale)
    if errors:
        raise ValidationError(errors)
    new = {k: clean[k] for k in changes}
    if active is not None:
        new["active"] = active
    demoting = new.get("role") not in (None, "admin") and user.role == "admin"
    deactivating = new.get("active") is False and user.active
    if deactivating and user.id == actor.id:
        raise ValidationError({"active": t("admin.err_self_deactivate", actor.locale)})
    if (demoting or deactivating) and user.role == "admin" and user.active and _active_admins(session) <= 1:
        raise ValidationError({"role" if demoting else "active": t("admin.err_last_admin", actor.locale)})
    before = _snapshot(user)
    for key, value in new.items():
        setattr(user, key, value)
    session.add(user)
    session.flush()
    changes_made = audit.changed_fields(before, _snapshot(user))
    if changes_made:
        audit.record(session, actor, "user", user.id, "update", changes_made)
    if deactivating:
        revoke_user_sessions(session, user.id)
    return _read(session, user)


def change_role(session: Session, actor: Actor, *, username: str, role: str) -> UserRead:
    """Admin only: give a user another role (see update_user for the guards)."""
    return update_user(session, actor, username=username, data=UserUpdate(role=role))


def change_team(session: Session, actor: Actor, *, username: str, team_id: int | None) -> UserRead:
    """Admin only: move a user to another team (or none)."""
    return update_user(session, actor, username=username, data=UserUpdate(team_id=team_id))


def deactivate_user(session: Session, actor: Actor, *, username: str) -> UserRead:
    """Admin only: the user can no longer sign in and their open sessions end. Their records
    stay (reassign customers separately)."""
    return update_user(session, actor, username=username, data=UserUpdate(active=False))


def reactivate_user(session: Session, actor: Actor, *, username: str) -> UserRead:
    """Admin only: let a deactivated user sign in again."""
    return update_user(session, actor, username=username, data=UserUpdate(active=True))


def set_password(session: Session, actor: Actor, *, username: str, password: str,
                 keep_session: str | None = None) -> None:
    """Admin resets anyone's password; a user may change their own. The new password must
    have 8+ characters; it also unlocks the account and ends the user's other sessions."""
    user = _user_by_name(session, actor, username)
    if actor.id != user.id:
        _require_admin(actor)
    errors = check_password(password, actor.locale)
    if errors:
        raise ValidationError(errors)
    user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    clear_sign_in_locks(session, user.username)
    revoke_user_sessions(session, user.id, keep=keep_session)
    audit.record(session, actor, "user", user.id, "password", {"password": ["***", "***"]})


def change_own_password(session: Session, actor: Actor, *, current_password: str, new_password: str,
                        keep_session: str | None = None) -> None:
    """Any signed-in user: replace their own password, giving the current one first (so a
    browser left signed in cannot be used to take the account over). Same rules as
    ``set_password``; the user's other sessions end, ``keep_session`` stays open."""
    user = session.get(User, actor.id) if actor.id is not None else None
    if user is None:
        raise NotFound(t("err.not_allowed", actor.locale))
    if not current_password:
        raise ValidationError({"current_password": t("err.required", actor.locale)})
    if not verify_password(user.password_hash, current_password[:MAX_PASSWORD]):
        raise ValidationError({"current_password": t("auth.current_password_wrong", actor.locale)})
    set_password(session, actor, username=user.username, password=new_password, keep_session=keep_session)


def unlock_user(session: Session, actor: Actor, *, username: str) -> UserRead:
    """Admin only: lift the lock-outs after too many wrong sign-ins (from every client)."""
    _require_admin(actor)
    user = _user_by_name(session, actor, username)
    cleared = clear_sign_in_locks(session, user.username)
    audit.record(session, actor, "user", user.id, "unlock", {"sign_in_locks": [cleared, 0]})
    return _read(session, user)


def getting_started(session: Session, actor: Actor) -> dict[str, bool]:
    """For a new company's Overview (admins only): what exists yet — ``teams`` (any below
    the company), ``users`` (anyone besides admins), ``customers``. An empty answer for
    everyone else (the hints are the admin's)."""
    from services.models import Customer

    if actor.role != "admin":
        return {}
    return {
        "teams": bool(session.scalar(select(func.count()).select_from(Team).where(Team.kind != "company"))),
        "users": bool(session.scalar(select(func.count()).select_from(User).where(User.role != "admin"))),
        "customers": bool(session.scalar(select(func.count()).select_from(Customer))),
    }


def set_own_locale(session: Session, actor: Actor, *, locale: str) -> Actor:
    """Any user: save their interface language. Returns the updated Actor."""
    loc = normalize_locale(locale)
    user = session.get(User, actor.id) if actor.id is not None else None
    if user is None:
        raise NotFound(t("err.not_found", actor.locale, detail=actor.username))
    if user.locale != loc:
        audit.record(session, actor, "user", user.id, "update", {"locale": [user.locale, loc]})
        user.locale = loc
        session.add(user)
        session.flush()
    return Actor.from_user(user)


# ---------------------------------------------------------------------------
# teams


def _team_read(team: Team) -> TeamRead:
    return TeamRead.model_validate(team, from_attributes=True)


def list_teams(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[TeamRead]:
    """Every team (names are not private), ordered by kind then name."""
    q = select(Team).order_by(Team.name)
    if not include_inactive:
        q = q.where(Team.active.is_(True))
    rows = session.scalars(q).all()
    return sorted((_team_read(r) for r in rows), key=lambda r: (TEAM_RANK.get(r.kind, 9), r.name))


def team_tree(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[dict[str, Any]]:
    """Teams in tree order (depth-first) with ``depth``, ``path`` (A / B / C), manager name
    and active member count — ready to draw as an indented list."""
    teams = list_teams(session, actor, include_inactive=include_inactive)
    names = dict(session.execute(select(User.id, User.display_name)).all())
    members = dict(session.execute(
        select(User.team_id, func.count()).where(User.active.is_(True)).group_by(User.team_id)
    ).all())
    by_parent: dict[int | None, list[TeamRead]] = {}
    ids = {tm.id for tm in teams}
    for tm in teams:
        parent = tm.parent_id if tm.parent_id in ids else None
        by_parent.setdefault(parent, []).append(tm)
    out: list[dict[str, Any]] = []

    def walk(parent: int | None, depth: int, path: str) -> None:
        for tm in by_parent.get(parent, []):
            full = f"{path} / {tm.name}" if path else tm.name
            out.append({**tm.model_dump(), "depth": depth, "path": full,
                        "manager_name": names.get(tm.manager_id), "members": members.get(tm.id, 0)})
            walk(tm.id, depth + 1, full)

    walk(None, 0, "")
    return out


def _check_team(session: Session, values: dict[str, Any], locale: str, *, team_id: int | None = None
                ) -> tuple[dict[str, Any], dict[str, str]]:
    """``TeamBase``'s field rules (name 1–120, kind company / region / team, region ≤ 60),
    then the tree: a company has no parent, a region sits under a company, a team under a
    company or region (so the tree can have no cycle); a team with sub-teams cannot sink
    below them; the name is unique among its siblings; the manager is an active admin,
    director or manager. Returns (clean values, errors)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    try:
        clean = validate(TeamBase, values, locale).model_dump()
    except ValidationError as exc:
        errors.update(exc.errors)
    kind = clean.get("kind", values.get("kind"))
    if "kind" in errors or kind not in TEAM_KINDS:
        return clean, errors
    parent_id = values.get("parent_id")
    if kind == "company":
        if parent_id is not None:
            errors["parent_id"] = t("admin.err_company_parent", locale)
    elif parent_id is None:
        errors["parent_id"] = t("err.required", locale)
    else:
        parent = session.get(Team, parent_id)
        if parent is None or not parent.active or parent_id == team_id:
            errors["parent_id"] = t("err.unknown_ref", locale, value=parent_id)
        elif TEAM_RANK.get(parent.kind, 9) >= TEAM_RANK[kind]:
            errors["parent_id"] = t("admin.err_team_parent_kind", locale)
    if team_id is not None:
        # a team that already has children may not sink below them
        child_kinds = session.scalars(select(Team.kind).where(Team.parent_id == team_id, Team.active.is_(True))).all()
        if any(TEAM_RANK.get(ck, 9) <= TEAM_RANK[kind] for ck in child_kinds):
            errors["kind"] = t("admin.err_team_parent_kind", locale)
    name = clean.get("name")
    if name and "name" not in errors and "parent_id" not in errors and \
            reference.name_taken(session, Team, name, row_id=team_id, parent_id=parent_id):
        errors["name"] = t("admin.err_team_name_taken", locale, value=name)
    manager_id = values.get("manager_id")
    if manager_id is not None:
        mgr = session.get(User, manager_id)
        if mgr is None or not mgr.active or mgr.role not in MANAGER_ROLES:
            errors["manager_id"] = t("admin.err_manager_role", locale)
    return clean, errors


def create_team(session: Session, actor: Actor, *, data: TeamCreate | Mapping[str, Any]) -> TeamRead:
    """Admin only: add a company, region or team to the tree (see _check_team for the rules)."""
    _require_admin(actor)
    values = _as_dict(data)
    clean, errors = _check_team(session, values, actor.locale)
    if errors:
        raise ValidationError(errors)
    team = Team(**clean)
    session.add(team)
    session.flush()
    audit.record(session, actor, "team", team.id, "create", {k: v for k, v in clean.items() if v is not None})
    return _team_read(team)


def update_team(session: Session, actor: Actor, *, team_id: int, data: TeamUpdate | Mapping[str, Any]) -> TeamRead:
    """Admin only: rename, move, change kind or manager (the changed team must pass
    ``_check_team``); deactivating needs the team to be empty (no active members, no active
    sub-teams)."""
    _require_admin(actor)
    team = session.scalars(select(Team).where(Team.id == team_id).with_for_update()).first()
    if team is None:
        raise NotFound(t("err.not_found", actor.locale, detail=team_id))
    changes = _as_dict(data)
    active = changes.pop("active", None)
    fields = ("name", "kind", "parent_id", "manager_id", "region")
    before = {k: getattr(team, k) for k in (*fields, "active")}
    clean, errors = _check_team(session, {**{k: before[k] for k in fields}, **changes}, actor.locale, team_id=team_id)
    if active is False and team.active:
        busy = session.scalar(select(func.count()).select_from(User).where(User.team_id == team_id, User.active.is_(True)))
        kids = session.scalar(select(func.count()).select_from(Team).where(Team.parent_id == team_id, Team.active.is_(True)))
        if busy or kids:
            errors["active"] = t("admin.err_team_in_use", actor.locale)
    if errors:
        raise ValidationError(errors)
    for key in changes:
        if key in fields:
            setattr(team, key, clean[key])
    if active is not None:
        team.active = bool(active)
    session.add(team)
    session.flush()
    diff = audit.changed_fields(before, {k: getattr(team, k) for k in before})
    if diff:
        audit.record(session, actor, "team", team.id, "update", diff)
    return _team_read(team)


def deactivate_team(session: Session, actor: Actor, *, team_id: int) -> TeamRead:
    """Admin only: retire an empty team (its history stays)."""
    return update_team(session, actor, team_id=team_id, data=TeamUpdate(active=False))
