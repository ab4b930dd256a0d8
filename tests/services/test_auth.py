"""Sign-in rules on SQLite and PostgreSQL: one answer for every refusal, lock-out per
username + client (atomic under parallel tries), tokens signed with a secret outside the
database and session ids stored hashed, first-run admin only once."""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from services import auth, settings
from services.db import read_scope, session_scope
from services.errors import PermissionDenied, ValidationError
from services.i18n import t
from services.models import AuditLog, LoginThrottle, Stage, User, UserSession
from services.passwords import hash_password

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse"
PASSWORD_HASH = hash_password(PASSWORD)  # once: argon2 is slow on purpose
BAD = t("auth.bad_credentials", "en")
LOCKED = t("auth.locked", "en", minutes=15)


@pytest.fixture
def with_password(engine, org):
    """Every user of the org has PASSWORD and speaks Chinese (the visitor speaks English)."""
    with session_scope(engine) as s:
        for u in s.scalars(select(User)).all():
            u.password_hash = PASSWORD_HASH
            u.locale = "zh_CN"
    return org


def sign_in(engine, username, password, now=T0, locale="en", device=None):
    return auth.authenticate(engine, username=username, password=password, now=now, locale=locale, device=device)


def refusal(engine, username, password, **kw) -> str:
    with pytest.raises(PermissionDenied) as err:
        sign_in(engine, username, password, **kw)
    return str(err.value)


def test_right_password_signs_in_and_records_the_time(engine, with_password):
    actor = sign_in(engine, "rep_n1", PASSWORD)
    assert actor.username == "rep_n1" and actor.role == "rep" and actor.locale == "zh_CN"
    with read_scope(engine) as s:
        user = s.scalars(select(User).where(User.username == "rep_n1")).one()
        assert auth._aware(user.last_login_at) == T0


def test_username_is_case_insensitive(engine, with_password):
    assert sign_in(engine, "  REP_N1 ", PASSWORD).username == "rep_n1"


def test_unknown_user_wrong_password_and_disabled_account_get_one_answer_in_the_visitors_language(
        engine, with_password):
    with session_scope(engine) as s:
        s.scalars(select(User).where(User.username == "rep_s1")).one().active = False
    wrong = refusal(engine, "rep_n1", "nope-nope")
    unknown = refusal(engine, "ghost", "nope-nope")
    disabled = refusal(engine, "rep_s1", PASSWORD)  # even with the right password
    assert wrong == unknown == disabled == BAD  # English, though the accounts speak Chinese
    assert refusal(engine, "ghost", "nope", locale="zh_CN") == refusal(engine, "rep_n2", "nope", locale="zh_CN") \
        == t("auth.bad_credentials", "zh_CN")


def test_unknown_user_wrong_password_and_disabled_account_lock_alike(engine, with_password):
    with session_scope(engine) as s:
        s.scalars(select(User).where(User.username == "rep_s1")).one().active = False
    for name, password in (("rep_n1", "bad"), ("ghost", "bad"), ("rep_s1", PASSWORD)):
        answers = [refusal(engine, name, password, now=T0 + timedelta(seconds=i)) for i in range(7)]
        assert answers == [BAD] * 4 + [LOCKED] * 3, name
    with read_scope(engine) as s:  # the lock is audited, for real and unknown usernames alike
        assert len(s.scalars(select(AuditLog).where(AuditLog.action == "lock")).all()) == 3


def test_five_wrong_passwords_lock_for_15_minutes(engine, with_password):
    for i in range(4):
        assert refusal(engine, "rep_n1", f"wrong{i}", now=T0 + timedelta(seconds=i)) == BAD
    assert refusal(engine, "rep_n1", "wrong5", now=T0 + timedelta(seconds=5)) == LOCKED
    # even the right password is refused while locked
    assert refusal(engine, "rep_n1", PASSWORD, now=T0 + timedelta(minutes=14)) == t("auth.locked", "en", minutes=2)
    # after 15 minutes the right password works and the count starts again
    assert sign_in(engine, "rep_n1", PASSWORD, now=T0 + timedelta(minutes=15, seconds=6)).username == "rep_n1"
    for i in range(4):
        assert refusal(engine, "rep_n1", "bad", now=T0 + timedelta(minutes=20, seconds=i)) == BAD


def test_success_resets_the_count_and_old_failures_fade(engine, with_password):
    for i in range(4):
        refusal(engine, "rep_n2", "bad", now=T0 + timedelta(seconds=i))
    sign_in(engine, "rep_n2", PASSWORD, now=T0 + timedelta(seconds=10))
    for i in range(4):  # four more wrong ones do not lock
        assert refusal(engine, "rep_n2", "bad", now=T0 + timedelta(seconds=20 + i)) == BAD
    # a fifth one, 16 minutes after the fourth, starts a new count
    assert refusal(engine, "rep_n2", "bad", now=T0 + timedelta(minutes=16, seconds=23)) == BAD


def test_locks_are_per_user(engine, with_password):
    for i in range(5):
        refusal(engine, "rep_s1", "bad", now=T0 + timedelta(seconds=i))
    assert sign_in(engine, "rep_s2", PASSWORD).username == "rep_s2"


def test_nobody_locks_the_owner_out_of_a_browser_they_signed_in_from(engine, with_password):
    owners_browser = auth.device_token("admin")
    sign_in(engine, "admin", PASSWORD, device=owners_browser)
    # an attacker who knows the username, from any other browser (none, or its own device token)
    attackers_browser = auth.device_token("rep_n1")
    for i in range(10):
        refusal(engine, "admin", "guess", now=T0 + timedelta(seconds=i), device=attackers_browser if i % 2 else None)
    assert refusal(engine, "admin", PASSWORD, now=T0 + timedelta(minutes=1)) == LOCKED  # other browsers: locked
    assert sign_in(engine, "admin", PASSWORD, now=T0 + timedelta(minutes=1), device=owners_browser).username == "admin"
    # wrong tries on the owner's browser lock that browser only, and not the others longer
    for i in range(5):
        refusal(engine, "admin", "typo", now=T0 + timedelta(minutes=2, seconds=i), device=owners_browser)
    assert refusal(engine, "admin", PASSWORD, now=T0 + timedelta(minutes=3), device=owners_browser) \
        == t("auth.locked", "en", minutes=15)  # 14 min 4 s left
    assert sign_in(engine, "admin", PASSWORD, now=T0 + timedelta(minutes=16)).username == "admin"


def test_a_device_token_counts_only_for_its_user_and_signature():
    token = auth.device_token("Admin")
    assert auth.device_matches(token, "admin")
    assert not auth.device_matches(token, "rep_n1")
    assert not auth.device_matches(token[:-3] + "xyz", "admin")
    assert not auth.device_matches(URLSafeTimedSerializer("x" * 40, salt="salesops.device").dumps(
        {"u": "admin", "d": "forged"}), "admin")
    assert not auth.device_matches(None, "admin")


def test_the_count_is_stored_under_hashes_only(engine, with_password):
    refusal(engine, "my-secret-passw0rd", "x")  # a password typed into the username field
    with read_scope(engine) as s:
        rows = s.scalars(select(LoginThrottle)).all()
    assert [r.username_key for r in rows] == [hashlib.sha256(b"my-secret-passw0rd").hexdigest()]


@pytest.mark.parametrize("right_one", [False, True])
def test_parallel_tries_check_at_most_five_passwords(engine, with_password, monkeypatch, right_one):
    """30 simultaneous tries at one username: the count is taken atomically before any
    password is checked, so at most 5 are checked and the rest refused unchecked — the right
    password among them gets in only if it was one of those 5."""
    checked, lock = [], threading.Lock()
    real = auth.verify_password

    def counting(stored, password):
        with lock:
            checked.append(password)
        return real(stored, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    passwords = [f"wrong-{i}" for i in range(30)]
    if right_one:
        passwords[17] = PASSWORD
    start = threading.Barrier(len(passwords))
    answers: list[str] = []

    def attempt(password: str) -> None:
        start.wait()
        try:
            auth.authenticate(engine, username="manager_n", password=password, now=T0, locale="en")
            answers.append("signed in")
        except PermissionDenied as exc:
            answers.append(str(exc))

    threads = [threading.Thread(target=attempt, args=(p,)) for p in passwords]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(answers) == 30
    signed_in = answers.count("signed in")
    assert len(checked) <= 5 + 5 * signed_in  # a success clears the count (and its lock)
    if signed_in:
        assert PASSWORD in checked
    else:
        assert len(checked) == 5 and answers.count(BAD) == 4 and answers.count(LOCKED) == 26
        # and the lock holds: the right password is refused now
        assert refusal(engine, "manager_n", PASSWORD, now=T0 + timedelta(minutes=1)) == t(
            "auth.locked", "en", minutes=14)


def test_parallel_right_passwords_while_locked_are_all_refused(engine, with_password):
    for i in range(5):
        refusal(engine, "rep_n1", "bad", now=T0 + timedelta(seconds=i))
    start = threading.Barrier(30)
    answers: list[str] = []

    def attempt() -> None:
        start.wait()
        try:
            auth.authenticate(engine, username="rep_n1", password=PASSWORD, now=T0 + timedelta(minutes=1), locale="en")
            answers.append("signed in")
        except PermissionDenied as exc:
            answers.append(str(exc))

    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert answers == [t("auth.locked", "en", minutes=15)] * 30  # 14 min 4 s left


def test_empty_fields_are_named(engine, with_password):
    with pytest.raises(ValidationError) as err:
        sign_in(engine, "", "", locale="zh_CN")
    assert set(err.value.errors) == {"username", "password"}
    assert err.value.errors["password"] == t("err.required", "zh_CN")


def test_password_never_logged(engine, with_password, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "Sup3r-Secret-Pa55"
    message = refusal(engine, "rep_n1", secret)
    assert secret not in caplog.text and secret not in message


def test_a_password_changed_during_the_check_does_not_sign_in(engine, with_password, monkeypatch):
    real = auth.verify_password

    def slow_check(stored, password):
        with session_scope(engine) as s:  # an admin resets the password meanwhile
            s.scalars(select(User).where(User.username == "rep_n2")).one().password_hash = hash_password("new-one-99")
        return real(stored, password)

    monkeypatch.setattr(auth, "verify_password", slow_check)
    assert refusal(engine, "rep_n2", PASSWORD) == BAD


# ---------------------------------------------------------------------------
# tokens


def test_token_round_trip_and_logout(engine, with_password):
    actor = sign_in(engine, "manager_n", PASSWORD)
    with session_scope(engine) as s:
        token = auth.issue_token(s, actor)
    with session_scope(engine) as s:
        assert auth.actor_from_token(s, token) == actor
    with session_scope(engine) as s:
        auth.logout(s, token)
    with session_scope(engine) as s:
        assert auth.actor_from_token(s, token) is None
        assert s.scalars(select(UserSession)).one().revoked_at is not None


def test_session_ids_are_stored_hashed(engine, with_password):
    with session_scope(engine) as s:
        token = auth.issue_token(s, with_password.rep_n1)
    sid = URLSafeTimedSerializer("unused").loads_unsafe(token)[1]  # the id inside the signed token
    with read_scope(engine) as s:
        row = s.scalars(select(UserSession)).one()
    assert row.id_hash == hashlib.sha256(sid.encode()).hexdigest() and sid not in row.id_hash
    with read_scope(engine) as s:
        assert settings.get(s, "auth_secret") is None  # the secret is not in the database


def stored_strings(session: Session) -> set[str]:
    """Every text value in every table of a database (what a copy of it would give)."""
    values = set()
    for table in SQLModel.metadata.sorted_tables:
        for row in session.execute(select(table)).all():
            values.update(v for v in row if isinstance(v, str) and v)
    return values


def test_a_token_minted_from_a_database_copy_does_not_sign_in(engine, with_password, tmp_path):
    """Whoever reads a copy of the database (a backup, a leaked file) gets the stored session
    rows and settings — and still cannot make a token: the signing secret is not stored,
    and a stored id hash is not a session id."""
    with session_scope(engine) as s:
        real = auth.issue_token(s, with_password.admin)
        settings.put(s, "company_name", "ACME")
    if engine.dialect.name == "sqlite":  # read the values from an actual copy of the file
        from services.db import make_engine

        copy = tmp_path / "copy.db"
        with engine.connect() as conn:
            conn.connection.dbapi_connection.execute(f"VACUUM INTO '{copy}'")
        source = make_engine(f"sqlite:///{copy}")
    else:
        source = engine
    with read_scope(source) as s:
        values = stored_strings(s)
        hashes = [r.id_hash for r in s.scalars(select(UserSession)).all()]
    forged = [
        URLSafeTimedSerializer(secret, salt=salt).dumps(sid)
        for secret in values for sid in hashes for salt in ("salesops.session", "itsdangerous")
    ]
    # and with the real secret but a stored value as the id (the hash itself)
    forged += [auth._serializer().dumps(sid) for sid in hashes]
    assert forged
    with read_scope(engine) as s:
        assert auth.actor_from_token(s, real) is not None
        assert all(auth.actor_from_token(s, token) is None for token in forged)


def test_a_token_signed_with_another_installations_secret_is_refused(engine, with_password, monkeypatch):
    with session_scope(engine) as s:
        token = auth.issue_token(s, with_password.rep_n1)
    monkeypatch.setattr(auth, "signing_secret", lambda: "another-installation-" + "x" * 40)
    with read_scope(engine) as s:
        assert auth.actor_from_token(s, token) is None


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
