"""Sign-in: password check with lock-out, session tokens, logout, first-run admin.

Rules
- Passwords are argon2id hashes (``services.passwords``); a clear-text password is never
  stored, logged or put in an exception message.
- ``LOCK_AFTER`` (5) wrong passwords in a row lock the account for ``LOCK_MINUTES`` (15).
  While locked, even the right password is refused. A successful sign-in resets the count.
  The failure count is written in its own short transaction, so it sticks even though the
  caller's transaction rolls back when ``authenticate`` raises.
- Unknown user and wrong password give the same message (no user enumeration); an inactive
  user learns the account is disabled only after giving the right password.
- A token is ``URLSafeTimedSerializer(secret).dumps(<user_session.id>)`` (itsdangerous): it is
  signed with a per-installation secret, generated on first use and kept in the ``setting``
  table (key ``auth_secret``), and it expires twice over — by its signed timestamp
  (``MAX_TOKEN_DAYS``) and by the ``user_session`` row's ``expires_at`` (setting
  ``session_days``). Logout, deactivation and password resets revoke the row, so a copied
  token stops working at once.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from functools import cache

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services import audit
from services import settings as company_settings
from services.access import SYSTEM, Actor
from services.errors import PermissionDenied, ValidationError
from services.i18n import normalize_locale, t
from services.models import Setting, User, UserSession, utcnow
from services.passwords import hash_password, needs_rehash, verify_password

LOCK_AFTER = 5
LOCK_MINUTES = 15
MAX_TOKEN_DAYS = 90
SECRET_KEY = "auth_secret"
_SALT = "salesops.session"


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


# ---------------------------------------------------------------------------
# password sign-in


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    now: datetime | None = None,
    locale: str | None = None,
) -> Actor:
    """The Actor for a correct username + password of an active, unlocked user.

    Raises ``ValidationError`` for empty fields and ``PermissionDenied`` otherwise; the 5th
    wrong password in a row locks the account for 15 minutes. ``locale`` is the language of
    the sign-in screen, used until the user is known (then the user's own language)."""
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

    user = find_user(session, name)
    if user is None:
        # Same cost as a real check, so timing does not reveal which usernames exist.
        verify_password(_dummy_hash(), password)
        raise PermissionDenied(t("auth.bad_credentials", loc))
    loc = normalize_locale(user.locale or locale)

    locked_until = _aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
        raise PermissionDenied(t("auth.locked", loc, minutes=minutes))

    if not verify_password(user.password_hash, password):
        locked = _record_failure(session, user.id, now)
        if locked:
            raise PermissionDenied(t("auth.locked", loc, minutes=LOCK_MINUTES))
        raise PermissionDenied(t("auth.bad_credentials", loc))

    if not user.active:
        raise PermissionDenied(t("auth.inactive", loc))

    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    return Actor.from_user(user)


def _record_failure(session: Session, user_id: int, now: datetime) -> bool:
    """Count one wrong password in a separate committed transaction (the caller's will roll
    back on our exception). True when this failure locked the account. The caller's
    transaction has only read so far: it ends first, so it holds no write lock the side
    transaction would wait for (SQLite writers take the lock at BEGIN)."""
    session.rollback()
    with Session(session.get_bind()) as side:
        side.execute(update(User).where(User.id == user_id).values(failed_logins=User.failed_logins + 1))
        count = side.scalar(select(User.failed_logins).where(User.id == user_id)) or 0
        locked = count >= LOCK_AFTER
        if locked:
            side.execute(
                update(User)
                .where(User.id == user_id)
                .values(failed_logins=0, locked_until=now + timedelta(minutes=LOCK_MINUTES))
            )
            audit.record(side, SYSTEM, "user", user_id, "lock", {"locked_minutes": LOCK_MINUTES})
        side.commit()
    return locked


@cache
def _dummy_hash() -> str:
    """Hashed on the first unknown username, not at import (argon2 is slow on purpose)."""
    return hash_password(secrets.token_urlsafe(16))


# ---------------------------------------------------------------------------
# tokens


def _secret(session: Session, *, create: bool) -> str | None:
    value = company_settings.get(session, SECRET_KEY)
    if value or not create:
        return value
    value = secrets.token_urlsafe(48)
    if session.get_bind().dialect.name == "postgresql":
        # Two app servers may start at once: the loser re-reads the winner's secret.
        try:
            with session.begin_nested():
                session.add(Setting(key=SECRET_KEY, value=f'"{value}"'))
        except IntegrityError:
            return company_settings.get(session, SECRET_KEY)
    else:
        company_settings.put(session, SECRET_KEY, value)
        session.flush()
    return value


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def issue_token(session: Session, actor: Actor, *, days: int | None = None, now: datetime | None = None) -> str:
    """A signed token for a new ``user_session`` row valid for ``days`` (default: setting
    ``session_days``)."""
    if actor.id is None:
        raise PermissionDenied("system actor cannot sign in")
    now = now or utcnow()
    days = int(days or company_settings.get(session, "session_days") or 7)
    days = max(1, min(days, MAX_TOKEN_DAYS))
    secret = _secret(session, create=True)
    row = UserSession(id=secrets.token_urlsafe(24), user_id=actor.id, created_at=now,
                      expires_at=now + timedelta(days=days))
    session.add(row)
    session.flush()
    return _serializer(secret).dumps(row.id)


def _session_id(session: Session, token: str | None, *, check_age: bool) -> str | None:
    if not token or not isinstance(token, str) or len(token) > 400:
        return None
    secret = _secret(session, create=False)
    if not secret:
        return None
    try:
        if check_age:
            return _serializer(secret).loads(token, max_age=MAX_TOKEN_DAYS * 86400)
        return _serializer(secret).loads(token)
    except BadSignature:  # also SignatureExpired
        return None


def actor_from_token(session: Session, token: str | None, *, now: datetime | None = None) -> Actor | None:
    """The Actor a token signs in, or None when the token is forged, expired, revoked or the
    user is inactive. Reads the user afresh, so role and team changes apply at once."""
    sid = _session_id(session, token, check_age=True)
    if sid is None:
        return None
    now = now or utcnow()
    row = session.get(UserSession, sid)
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return Actor.from_user(user)


def logout(session: Session, token: str | None) -> None:
    """Revoke the token's ``user_session`` row; unknown or forged tokens are ignored."""
    sid = _session_id(session, token, check_age=False)
    if sid is None:
        return
    row = session.get(UserSession, sid)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.flush()


def revoke_user_sessions(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """Revoke every open session of a user (deactivation, password reset); ``keep`` is a
    session id to leave open. Returns how many were revoked."""
    q = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if keep:
        q = q.where(UserSession.id != keep)
    result = session.execute(q.values(revoked_at=utcnow()))
    return int(result.rowcount or 0)


def session_id_of(session: Session, token: str | None) -> str | None:
    """The ``user_session`` id a valid token names (for keeping the current session open)."""
    return _session_id(session, token, check_age=True)


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
    _secret(session, create=True)
    return actor
