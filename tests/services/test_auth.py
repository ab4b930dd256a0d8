"""Sign-in rules on SQLite and PostgreSQL: lock-out after 5 wrong passwords for 15 minutes,
inactive users refused, tokens signed / expiring / revocable, first-run admin only once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services import auth, settings
from services.db import session_scope
from services.errors import PermissionDenied, ValidationError
from services.i18n import t
from services.models import AuditLog, Stage, User, UserSession
from services.passwords import hash_password

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse"
PASSWORD_HASH = hash_password(PASSWORD)  # once: argon2 is slow on purpose


@pytest.fixture
def with_password(engine, org):
    with session_scope(engine) as s:
        for u in s.scalars(select(User)).all():
            u.password_hash = PASSWORD_HASH
    return org


def sign_in(engine, username, password, now=T0, locale=None):
    with session_scope(engine) as s:
        return auth.authenticate(s, username=username, password=password, now=now, locale=locale)


def test_right_password_signs_in_and_records_the_time(engine, with_password):
    actor = sign_in(engine, "rep_n1", PASSWORD)
    assert actor.username == "rep_n1" and actor.role == "rep"
    with session_scope(engine) as s:
        user = s.scalars(select(User).where(User.username == "rep_n1")).one()
        assert auth._aware(user.last_login_at) == T0
        assert user.password_hash != PASSWORD


def test_username_is_case_insensitive(engine, with_password):
    assert sign_in(engine, "  REP_N1 ", PASSWORD).username == "rep_n1"


def test_wrong_password_and_unknown_user_get_the_same_message(engine, with_password):
    with pytest.raises(PermissionDenied) as wrong:
        sign_in(engine, "rep_n1", "nope-nope", locale="en")
    with pytest.raises(PermissionDenied) as unknown:
        sign_in(engine, "ghost", "nope-nope", locale="en")
    assert str(wrong.value) == str(unknown.value) == t("auth.bad_credentials", "en")


def test_empty_fields_are_named(engine, with_password):
    with pytest.raises(ValidationError) as err:
        sign_in(engine, "", "", locale="zh_CN")
    assert set(err.value.errors) == {"username", "password"}
    assert err.value.errors["password"] == t("err.required", "zh_CN")


def test_five_wrong_passwords_lock_for_15_minutes(engine, with_password):
    for i in range(4):
        with pytest.raises(PermissionDenied) as err:
            sign_in(engine, "rep_n1", f"wrong{i}", now=T0 + timedelta(seconds=i))
        assert "locked" not in str(err.value)
    with pytest.raises(PermissionDenied) as err:
        sign_in(engine, "rep_n1", "wrong5", now=T0 + timedelta(seconds=5))
    assert str(err.value) == t("auth.locked", "en", minutes=15)
    # even the right password is refused while locked
    with pytest.raises(PermissionDenied, match="locked"):
        sign_in(engine, "rep_n1", PASSWORD, now=T0 + timedelta(minutes=14))
    # after 15 minutes the right password works and the count starts again
    assert sign_in(engine, "rep_n1", PASSWORD, now=T0 + timedelta(minutes=15, seconds=6)).username == "rep_n1"
    with session_scope(engine) as s:
        user = s.scalars(select(User).where(User.username == "rep_n1")).one()
        assert user.failed_logins == 0 and user.locked_until is None
        assert s.scalars(select(AuditLog).where(AuditLog.action == "lock")).first() is not None


def test_success_resets_the_failure_count(engine, with_password):
    for i in range(4):
        with pytest.raises(PermissionDenied):
            sign_in(engine, "rep_n2", "bad", now=T0 + timedelta(seconds=i))
    sign_in(engine, "rep_n2", PASSWORD, now=T0 + timedelta(seconds=10))
    for i in range(4):  # four more wrong ones do not lock
        with pytest.raises(PermissionDenied, match="(?i)wrong"):
            sign_in(engine, "rep_n2", "bad", now=T0 + timedelta(seconds=20 + i))


def test_locks_are_per_user(engine, with_password):
    for i in range(5):
        with pytest.raises(PermissionDenied):
            sign_in(engine, "rep_s1", "bad", now=T0 + timedelta(seconds=i))
    assert sign_in(engine, "rep_s2", PASSWORD).username == "rep_s2"


def test_inactive_user_cannot_sign_in_in_their_language(engine, with_password):
    with session_scope(engine) as s:
        user = s.scalars(select(User).where(User.username == "rep_s1")).one()
        user.active = False
        user.locale = "zh_CN"
    with pytest.raises(PermissionDenied) as err:
        sign_in(engine, "rep_s1", PASSWORD, locale="en")
    assert str(err.value) == t("auth.inactive", "zh_CN")


def test_password_never_logged(engine, with_password, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "Sup3r-Secret-Pa55"
    with pytest.raises(PermissionDenied) as err:
        sign_in(engine, "rep_n1", secret)
    assert secret not in caplog.text and secret not in str(err.value)


# ---------------------------------------------------------------------------
# tokens


def test_token_round_trip_and_logout(engine, with_password):
    with session_scope(engine) as s:
        actor = auth.authenticate(s, username="manager_n", password=PASSWORD)
        token = auth.issue_token(s, actor)
    with session_scope(engine) as s:
        assert auth.actor_from_token(s, token) == actor
        assert settings.get(s, auth.SECRET_KEY)  # generated on first use and stored
    with session_scope(engine) as s:
        auth.logout(s, token)
    with session_scope(engine) as s:
        assert auth.actor_from_token(s, token) is None
        assert s.scalars(select(UserSession)).one().revoked_at is not None


def test_token_expires(engine, with_password):
    with session_scope(engine) as s:
        token = auth.issue_token(s, with_password.rep_n1, days=2, now=T0)
    with session_scope(engine) as s:
        assert auth.actor_from_token(s, token, now=T0 + timedelta(days=1)) is not None
        assert auth.actor_from_token(s, token, now=T0 + timedelta(days=2, seconds=1)) is None


def test_forged_or_garbage_tokens_are_refused(engine, with_password):
    with session_scope(engine) as s:
        token = auth.issue_token(s, with_password.rep_n1)
    with session_scope(engine) as s:
        assert auth.actor_from_token(s, token[:-2] + ("AA" if not token.endswith("AA") else "BB")) is None
        assert auth.actor_from_token(s, "not-a-token") is None
        assert auth.actor_from_token(s, "") is None
        assert auth.actor_from_token(s, None) is None
        auth.logout(s, "garbage")  # ignored


def test_token_of_deactivated_user_stops_working_and_role_changes_apply(engine, with_password):
    with session_scope(engine) as s:
        token = auth.issue_token(s, with_password.rep_n1)
    with session_scope(engine) as s:
        s.scalars(select(User).where(User.username == "rep_n1")).one().role = "manager"
    with session_scope(engine) as s:
        assert auth.actor_from_token(s, token).role == "manager"
        s.scalars(select(User).where(User.username == "rep_n1")).one().active = False
    with session_scope(engine) as s:
        assert auth.actor_from_token(s, token) is None


def test_revoke_user_sessions_keeps_the_named_one(engine, with_password):
    with session_scope(engine) as s:
        a = auth.issue_token(s, with_password.rep_n1)
        b = auth.issue_token(s, with_password.rep_n1)
    with session_scope(engine) as s:
        assert auth.revoke_user_sessions(s, with_password.rep_n1.id, keep=auth.session_id_of(s, b)) == 1
    with session_scope(engine) as s:
        assert auth.actor_from_token(s, a) is None
        assert auth.actor_from_token(s, b) is not None


# ---------------------------------------------------------------------------
# first run


def test_setup_admin_on_empty_database(engine):
    with session_scope(engine) as s:
        assert not auth.has_users(s)
        admin = auth.setup_admin(s, username="Boss", display_name="The Boss", password="longenough", locale="en")
    assert admin.role == "admin" and admin.username == "boss" and admin.locale == "en"
    with session_scope(engine) as s:
        assert settings.get(s, "default_language") == "en"
        names = [st.name for st in s.scalars(select(Stage).order_by(Stage.sequence)).all()]
        assert names == ["Qualify", "Needs", "Proposal", "Negotiation", "Won", "Lost"]
    assert sign_in(engine, "boss", "longenough").role == "admin"


def test_setup_admin_validates_fields(engine):
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        auth.setup_admin(s, username="a b", display_name="", password="short", locale="zh_CN")
    assert set(err.value.errors) == {"username", "password", "display_name"}
    assert err.value.errors["password"] == t("admin.err_password_short", "zh_CN", min=8)
    with session_scope(engine) as s:
        assert not auth.has_users(s)  # nothing half written


def test_setup_admin_only_when_no_user_exists(engine, org):
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        auth.setup_admin(s, username="intruder", display_name="X", password="longenough", locale="en")
