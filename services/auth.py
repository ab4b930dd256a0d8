"""Sign-in: password check with a lock-out per username + client, session tokens, logout,
first-run admin.

Rules
- Passwords are argon2id hashes (``services.passwords``); a clear-text password is never
  stored, logged or put in an exception message.
- A refused sign-in says nothing about the account: an unknown username, a wrong password
  and a disabled account get the same message, in the visitor's language (the sign-in
  screen's), are counted and locked out alike, and cost the same argon2 check.
- Lock-out per username + client: ``LOCK_AFTER`` (5) wrong sign-ins in a row lock that
  username for ``LOCK_MINUTES`` (15) — but only for that client. A client is either a
  browser the user signed in from before (it holds a signed device token naming the user,
  see ``device_token``) or "every other client" together. So an attacker who knows a
  username can lock it only for browsers that never signed in as that user; the owner's
  own browser keeps its own count and gets in. Wrong tries on the owner's browser lock that
  browser alone. An admin's unlock or a password reset clears every count of the user.
- Attempts are counted before the password is checked, atomically (the count row is locked
  — SQLite: the write lock of ``BEGIN IMMEDIATE``; PostgreSQL: ``FOR UPDATE``), so of any
  number of simultaneous tries at most ``LOCK_AFTER`` are checked; a successful sign-in
  clears its client's count.
- A sign-in is therefore three short transactions, opened here and not by the caller
  (``authenticate`` takes the engine): count the attempt (committed, so a refusal still
  counts), read the user, check the password outside any transaction (argon2 is slow and
  must not hold the write lock), then record the sign-in with a conditional UPDATE that
  only succeeds if the password hash checked is still the stored one and the user is active.
- A token is ``URLSafeTimedSerializer(secret).dumps(<random session id>)`` (itsdangerous).
  The secret lives outside the database (``services.secret_key``); the ``user_session``
  table stores only the SHA-256 of the id. A token expires twice over — by its signed
  timestamp (``MAX_TOKEN_DAYS``) and by the row's ``expires_at`` (setting ``session_days``);
  logout, deactivation and password resets revoke the row, so a copied token stops working.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import audit
from services import settings as company_settings
from services.access import SYSTEM, Actor
from services.db import expect_rows, read_scope, run_in_transaction
from services.errors import PermissionDenied, ValidationError
from services.i18n import normalize_locale, t
from services.models import LoginThrottle, User, UserSession, utcnow
from services.passwords import hash_password, needs_rehash, verify_password
from services.secret_key import signing_secret

LOCK_AFTER = 5
LOCK_MINUTES = 15
MAX_TOKEN_DAYS = 90
DEVICE_DAYS = 365
#: A typed password longer than any stored one can be (users.MAX_PASSWORD) is wrong.
MAX_PASSWORD_INPUT = 200
_SALT = "salesops.session"
_DEVICE_SALT = "salesops.device"
OTHER_CLIENTS = ""  # client_key of every client without a device token for the username


def _aware(value: datetime | None) -> datetime | None:
    """Treat naive datetimes read back from SQLite as UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def normalize_username(username: str | None) -> str:
    return (username or "").strip().lower()


def find_user(session: Session, username: str | None) -> User | None:
    """The user with this username (case-insensitive), or None."""
    return session.scalars(select(User).where(func.lower(User.username) == normalize_username(username))).first()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------
# the count of wrong sign-ins per username + client


def device_token(username: str) -> str:
    """A token that marks this browser as one ``username`` signed in from (kept by the
    browser for ``DEVICE_DAYS``): its wrong sign-ins are counted apart from everyone else's."""
    payload = {"u": normalize_username(username), "d": secrets.token_urlsafe(18)}
    return URLSafeTimedSerializer(signing_secret(), salt=_DEVICE_SALT).dumps(payload)


def device_matches(device: str | None, username: str) -> bool:
    """True when ``device`` is a valid device token of ``username``."""
    return _device_id(device, normalize_username(username)) is not None


def _device_id(device: str | None, name: str) -> str | None:
    if not device or not isinstance(device, str) or len(device) > 400:
        return None
    try:
        payload = URLSafeTimedSerializer(signing_secret(), salt=_DEVICE_SALT).loads(
            device, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("u") != name or not isinstance(payload.get("d"), str):
        return None
    return payload["d"]


def _throttle_keys(name: str, device: str | None) -> tuple[str, str]:
    device_id = _device_id(device, name)
    return _digest(name), (_digest(device_id) if device_id else OTHER_CLIENTS)


@dataclass(frozen=True)
class _Attempt:
    checked: bool  # the password may be checked (False: locked, refused unchecked)
    last: bool  # this attempt, if wrong, locks the client
    minutes: int  # minutes left of the lock (refused attempts)


def _take_attempt(session: Session, name: str, keys: tuple[str, str], now: datetime) -> _Attempt:
    """Count one attempt of ``keys`` before its password is checked, under the count row's
    lock; a lock older than ``LOCK_MINUTES``, or a count whose last attempt is, starts over."""
    username_key, client_key = keys
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(make(LoginThrottle).values(username_key=username_key, client_key=client_key, failures=0)
                    .on_conflict_do_nothing())
    row = session.scalars(select(LoginThrottle).where(LoginThrottle.username_key == username_key,
                                                      LoginThrottle.client_key == client_key)
                          .with_for_update()).one()
    until = _aware(row.locked_until)
    if until is not None and until > now:
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        return _Attempt(checked=False, last=False, minutes=minutes)
    last = _aware(row.last_failure_at)
    if until is not None or (last is not None and now - last > timedelta(minutes=LOCK_MINUTES)):
        row.failures, row.locked_until = 0, None
    row.failures += 1
    row.last_failure_at = now
    locks = row.failures >= LOCK_AFTER
    if locks:
        row.locked_until = now + timedelta(minutes=LOCK_MINUTES)
        user_id = session.scalar(select(User.id).where(func.lower(User.username) == name))
        audit.record(session, SYSTEM, "user", user_id if user_id is not None else f"?{username_key[:16]}", "lock",
                     {"locked_minutes": LOCK_MINUTES,
                      "client": "other" if client_key == OTHER_CLIENTS else "known_browser"})
    session.add(row)
    session.flush()
    return _Attempt(checked=True, last=locks, minutes=LOCK_MINUTES)


def clear_sign_in_locks(session: Session, username: str) -> int:
    """Forget every count of wrong sign-ins of ``username`` (admin unlock, new password)."""
    result = session.execute(delete(LoginThrottle).where(LoginThrottle.username_key == _digest(normalize_username(username))))
    return int(result.rowcount or 0)


def locked_until(session: Session, usernames: list[str], *, now: datetime | None = None) -> dict[str, datetime]:
    """Usernames whose sign-in from other clients (browsers they never signed in from) is
    locked now, with the end of the lock (for the admin's user list)."""
    now = now or utcnow()
    keys = {_digest(normalize_username(u)): u for u in usernames}
    if not keys:
        return {}
    rows = session.execute(select(LoginThrottle.username_key, LoginThrottle.locked_until).where(
        LoginThrottle.username_key.in_(sorted(keys)), LoginThrottle.client_key == OTHER_CLIENTS,
        LoginThrottle.locked_until.is_not(None))).all()
    return {keys[k]: _aware(until) for k, until in rows if _aware(until) > now}


# ---------------------------------------------------------------------------
# password sign-in


def authenticate(
    engine: Engine,
    *,
    username: str,
    password: str,
    device: str | None = None,
    now: datetime | None = None,
    locale: str | None = None,
) -> Actor:
    """The Actor for a correct username + password of an active user.

    Raises ``ValidationError`` for empty fields and ``PermissionDenied`` otherwise — one
    message for every refusal, in ``locale`` (the sign-in screen's language); the 5th wrong
    sign-in in a row from one client locks the username for that client for 15 minutes.
    ``device`` is the browser's device token (``device_token``), if it has one. Runs its own
    short transactions (see the module docstring): call it outside any write scope."""
    now = now or utcnow()
    loc = normalize_locale(locale)
    name = normalize_username(username)
    errors = {}
    if not name:
        errors["username"] = t("err.required", loc)
    if not password:
        errors["password"] = t("err.required", loc)
    if errors:
        raise ValidationError(errors)

    keys = _throttle_keys(name, device)
    attempt = run_in_transaction(engine, lambda s: _take_attempt(s, name, keys, now))
    if not attempt.checked:
        raise PermissionDenied(t("auth.locked", loc, minutes=attempt.minutes))

    dummy = _dummy_hash()  # made on the first sign-in of the process, whoever it is for
    with read_scope(engine) as s:
        user = s.execute(select(User.id, User.password_hash, User.active)
                         .where(func.lower(User.username) == name)).first()
    stored = user.password_hash if user is not None else dummy
    # Every refusal costs one argon2 check, so timing does not tell the cases apart.
    right = verify_password(stored, password[:MAX_PASSWORD_INPUT]) and len(password) <= MAX_PASSWORD_INPUT
    if not (right and user is not None and user.active):
        raise PermissionDenied(t("auth.locked", loc, minutes=LOCK_MINUTES) if attempt.last
                               else t("auth.bad_credentials", loc))

    def signed_in(s: Session) -> Actor:
        values: dict = {"last_login_at": now}
        if needs_rehash(stored):
            values["password_hash"] = hash_password(password)
        result = s.execute(update(User).where(User.id == user.id, User.password_hash == stored,
                                              User.active.is_(True)).values(**values))
        # the password was changed or the user disabled meanwhile: refused like any wrong try
        expect_rows(result, 1, lambda: PermissionDenied(t("auth.bad_credentials", loc)))
        s.execute(delete(LoginThrottle).where(LoginThrottle.username_key == keys[0],
                                              LoginThrottle.client_key == keys[1]))
        return Actor.from_user(s.get(User, user.id))

    return run_in_transaction(engine, signed_in)


@cache
def _dummy_hash() -> str:
    """Hashed on the first unknown username, not at import (argon2 is slow on purpose)."""
    return hash_password(secrets.token_urlsafe(16))


# ---------------------------------------------------------------------------
# tokens


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(signing_secret(), salt=_SALT)


def issue_token(session: Session, actor: Actor, *, days: int | None = None, now: datetime | None = None) -> str:
    """A signed token for a new ``user_session`` row valid for ``days`` (default: setting
    ``session_days``); the row keeps only the hash of the token's session id."""
    if actor.id is None:
        raise PermissionDenied("system actor cannot sign in")
    now = now or utcnow()
    days = int(days or company_settings.get(session, "session_days") or 7)
    days = max(1, min(days, MAX_TOKEN_DAYS))
    sid = secrets.token_urlsafe(24)
    session.add(UserSession(id_hash=_digest(sid), user_id=actor.id, created_at=now,
                            expires_at=now + timedelta(days=days)))
    session.flush()
    return _serializer().dumps(sid)


def token_days(session: Session) -> int:
    """How many days a new token lasts (for the browser's cookie lifetime)."""
    return max(1, min(int(company_settings.get(session, "session_days") or 7), MAX_TOKEN_DAYS))


def _session_hash(token: str | None, *, check_age: bool) -> str | None:
    if not token or not isinstance(token, str) or len(token) > 400:
        return None
    try:
        sid = _serializer().loads(token, max_age=MAX_TOKEN_DAYS * 86400 if check_age else None)
    except BadSignature:  # also SignatureExpired
        return None
    return _digest(sid) if isinstance(sid, str) else None


def actor_from_token(session: Session, token: str | None, *, now: datetime | None = None) -> Actor | None:
    """The Actor a token signs in, or None when the token is forged, expired, revoked or the
    user is inactive. Reads the user afresh, so role and team changes apply at once."""
    sid_hash = _session_hash(token, check_age=True)
    if sid_hash is None:
        return None
    now = now or utcnow()
    row = session.get(UserSession, sid_hash)
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return Actor.from_user(user)


def logout(session: Session, token: str | None) -> None:
    """Revoke the token's ``user_session`` row; unknown or forged tokens are ignored."""
    sid_hash = _session_hash(token, check_age=False)
    if sid_hash is None:
        return
    session.execute(update(UserSession).where(UserSession.id_hash == sid_hash, UserSession.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))


def revoke_user_sessions(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """Revoke every open session of a user (deactivation, password reset); ``keep`` is a
    session id (``session_id_of``) to leave open. Returns how many were revoked."""
    q = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if keep:
        q = q.where(UserSession.id_hash != keep)
    result = session.execute(q.values(revoked_at=utcnow()))
    return int(result.rowcount or 0)


def session_id_of(session: Session, token: str | None) -> str | None:
    """The stored id (hash) of the session a valid token names (to keep it open)."""
    return _session_hash(token, check_age=True)


# ---------------------------------------------------------------------------
# first run


def has_users(session: Session) -> bool:
    return (session.scalar(select(func.count()).select_from(User)) or 0) > 0


def setup_admin(session: Session, *, username: str, display_name: str, password: str, locale: str) -> Actor:
    """First run only (no user exists): create the admin account, the default stages, lost
    reasons and channels in ``locale``, and make ``locale`` the company's default language."""
    from services import users
    from services.reference import ensure_defaults

    loc = normalize_locale(locale)
    if has_users(session):
        raise PermissionDenied(t("auth.setup_done", loc))
    name = normalize_username(username)
    errors = users.check_username(session, name, loc)
    errors.update(users.check_password(password, loc))
    errors.update(users.check_profile(session, {"display_name": display_name}, loc))
    if errors:
        raise ValidationError(errors)
    user = User(username=name, display_name=display_name.strip(), role="admin", locale=loc,
                password_hash=hash_password(password))
    session.add(user)
    session.flush()
    actor = Actor.from_user(user)
    audit.record(session, actor, "user", user.id, "create", {"username": name, "role": "admin"})
    company_settings.put(session, "default_language", loc)
    ensure_defaults(session, locale=loc)
    return actor
