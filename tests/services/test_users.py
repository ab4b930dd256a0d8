"""Users and teams administration on SQLite and PostgreSQL: admin-only writes, field
messages, guards against locking the company out, audit rows, who reads whom."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services import auth, users
from services.db import session_scope
from services.errors import PermissionDenied, ValidationError
from services.i18n import t
from services.models import AuditLog, TeamCreate, TeamUpdate, User, UserUpdate


def new_user(**kw) -> dict:
    """The form's raw values (the service checks them against the user model's rules)."""
    base = {"username": "newrep", "display_name": "New Rep", "password": "password123", "role": "rep"}
    return {**base, **kw}


def test_admin_creates_a_user_who_can_sign_in(engine, org):
    with session_scope(engine) as s:
        made = users.create_user(s, org.admin, data=new_user(team_id=org.team_n, email="new@example.com"))
    assert made.username == "newrep" and made.team_id == org.team_n
    assert auth.authenticate(engine, username="newrep", password="password123").role == "rep"
    with session_scope(engine) as s:
        row = s.scalars(select(AuditLog).where(AuditLog.entity == "user", AuditLog.action == "create")).one()
        assert "password" not in (row.changes or "")


@pytest.mark.parametrize("role", ["director", "manager", "rep"])
def test_only_admin_writes(engine, org, role):
    actor = {"director": org.director, "manager": org.manager_n, "rep": org.rep_n1}[role]
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        users.create_user(s, actor, data=new_user())
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        users.deactivate_user(s, actor, username="rep_n2")
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        users.create_team(s, actor, data=TeamCreate(name="X", kind="team", parent_id=org.company_id))


def test_field_messages_name_every_bad_field(engine, org):
    data = new_user(username="Bad Name!", password="short", role="boss", team_id=9999, email="nope", display_name=" ")
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        users.create_user(s, org.admin, data=data)
    e = err.value.errors
    assert set(e) == {"username", "password", "role", "team_id", "email", "display_name"}
    assert e["password"] == t("admin.err_password_short", "en", min=8)
    assert e["role"] == t("err.not_in_list", "en", options="admin, director, manager, rep")


def test_username_must_be_unique_ignoring_case(engine, org):
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        users.create_user(s, org.admin, data=new_user(username="REP_N1"))
    assert err.value.errors["username"] == t("admin.err_username_taken", "en", value="rep_n1")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=70))
def test_username_rule_property(sqlite_engine, name):
    """A username passes exactly when, lower-cased and trimmed, it is 2–60 of a-z0-9._- and
    starts with a letter or digit."""
    with session_scope(sqlite_engine) as s:
        errors = users.check_username(s, name, "en")
    clean = name.strip().lower()
    ok = 2 <= len(clean) <= 60 and clean[0] in "abcdefghijklmnopqrstuvwxyz0123456789" and all(
        c in "abcdefghijklmnopqrstuvwxyz0123456789._-" for c in clean)
    assert (errors == {}) == ok


@settings(max_examples=40, deadline=None)
@given(pw=st.text(max_size=220))
def test_password_rule_property(pw):
    errors = users.check_password(pw, "en")
    assert (errors == {}) == (8 <= len(pw) <= 200)


def test_deactivate_ends_sessions_and_sign_in(engine, org):
    with session_scope(engine) as s:
        users.set_password(s, org.admin, username="rep_n1", password="password123")
        token = auth.issue_token(s, org.rep_n1)
    with session_scope(engine) as s:
        users.deactivate_user(s, org.admin, username="rep_n1")
    with session_scope(engine) as s:
        assert auth.actor_from_token(s, token) is None
    with pytest.raises(PermissionDenied):
        auth.authenticate(engine, username="rep_n1", password="password123")
    with session_scope(engine) as s:
        users.reactivate_user(s, org.admin, username="rep_n1")
    assert auth.authenticate(engine, username="rep_n1", password="password123").username == "rep_n1"


def test_admin_cannot_lock_the_company_out(engine, org):
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        users.deactivate_user(s, org.admin, username="admin")
    assert err.value.errors == {"active": t("admin.err_self_deactivate", "en")}
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        users.change_role(s, org.admin, username="admin", role="rep")
    assert err.value.errors == {"role": t("admin.err_last_admin", "en")}
    # with a second admin the first may step down
    with session_scope(engine) as s:
        users.change_role(s, org.admin, username="director", role="admin")
        assert users.change_role(s, org.admin, username="admin", role="director").role == "director"


def test_reset_password_unlocks_and_revokes(engine, org):
    with session_scope(engine) as s:
        users.set_password(s, org.admin, username="rep_s1", password="first-pass")
        token = auth.issue_token(s, org.rep_s1)
    for _ in range(5):
        with pytest.raises(PermissionDenied):
            auth.authenticate(engine, username="rep_s1", password="wrong-pass")
    with session_scope(engine) as s:
        assert users.get_user(s, org.admin, username="rep_s1").locked_until is not None
        users.set_password(s, org.admin, username="rep_s1", password="second-pass")
    with session_scope(engine) as s:
        assert auth.actor_from_token(s, token) is None
        assert users.get_user(s, org.admin, username="rep_s1").locked_until is None
    assert auth.authenticate(engine, username="rep_s1", password="second-pass").username == "rep_s1"


def test_unlock(engine, org):
    with session_scope(engine) as s:
        users.set_password(s, org.admin, username="rep_s2", password="first-pass")
    for _ in range(5):
        with pytest.raises(PermissionDenied):
            auth.authenticate(engine, username="rep_s2", password="wrong-pass")
    with pytest.raises(PermissionDenied, match=t("auth.locked", "zh_CN", minutes=15)):
        auth.authenticate(engine, username="rep_s2", password="first-pass")
    with session_scope(engine) as s:
        assert users.unlock_user(s, org.admin, username="rep_s2").locked_until is None
    assert auth.authenticate(engine, username="rep_s2", password="first-pass").username == "rep_s2"


def test_a_user_may_change_only_their_own_password(engine, org):
    with session_scope(engine) as s:
        users.set_password(s, org.rep_n1, username="rep_n1", password="my-new-pass")
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        users.set_password(s, org.rep_n1, username="rep_n2", password="their-pass")


def test_changing_ones_own_password_needs_the_current_one(engine, org):
    with session_scope(engine) as s:
        users.set_password(s, org.admin, username="rep_n1", password="first-pass")
        kept = auth.issue_token(s, org.rep_n1)
        other = auth.issue_token(s, org.rep_n1)
    for current, field in (("", "current_password"), ("not-it-at-all", "current_password")):
        with pytest.raises(ValidationError) as err, session_scope(engine) as s:
            users.change_own_password(s, org.rep_n1, current_password=current, new_password="second-pass")
        assert set(err.value.errors) == {field}
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        users.change_own_password(s, org.rep_n1, current_password="first-pass", new_password="short")
    assert err.value.errors == {"password": t("admin.err_password_short", "en", min=8)}
    with session_scope(engine) as s:
        users.change_own_password(s, org.rep_n1, current_password="first-pass", new_password="second-pass",
                                  keep_session=auth.session_id_of(s, kept))
    with session_scope(engine) as s:
        assert auth.actor_from_token(s, kept) is not None and auth.actor_from_token(s, other) is None
    assert auth.authenticate(engine, username="rep_n1", password="second-pass").username == "rep_n1"
    with pytest.raises(PermissionDenied):
        auth.authenticate(engine, username="rep_n1", password="first-pass")


def test_update_user_changes_role_team_and_audits(engine, org):
    with session_scope(engine) as s:
        out = users.update_user(s, org.admin, username="rep_n2",
                                data=UserUpdate(role="manager", team_id=org.team_s, capacity=50000))
        assert (out.role, out.team_id) == ("manager", org.team_s)
        row = s.scalars(select(AuditLog).where(AuditLog.entity == "user", AuditLog.action == "update")).one()
        assert '"role": ["rep", "manager"]' in row.changes


def test_list_users_by_role(engine, org):
    with session_scope(engine) as s:
        assert len(users.list_users(s, org.director)) == 8
        assert {u.username for u in users.list_users(s, org.manager_n)} == {"manager_n", "rep_n1", "rep_n2"}
        assert [u.username for u in users.list_users(s, org.rep_s1)] == ["rep_s1"]


def test_set_own_locale(engine, org):
    with session_scope(engine) as s:
        assert users.set_own_locale(s, org.rep_n1, locale="zh-CN").locale == "zh_CN"
    with session_scope(engine) as s:
        assert s.get(User, org.rep_n1.id).locale == "zh_CN"


# ---------------------------------------------------------------------------
# teams


def test_team_tree_rules(engine, org):
    with session_scope(engine) as s:
        region = users.create_team(s, org.admin, data=TeamCreate(name="East", kind="region", parent_id=org.company_id))
        team = users.create_team(s, org.admin, data=TeamCreate(name="Shanghai", kind="team", parent_id=region.id,
                                                                manager_id=org.manager_s.id))
        tree = users.team_tree(s, org.rep_n1)
    paths = [r["path"] for r in tree]
    assert paths.index("ACME / East") < paths.index("ACME / East / Shanghai")
    assert next(r for r in tree if r["id"] == team.id)["depth"] == 2
    assert next(r for r in tree if r["id"] == team.id)["manager_name"] == "Manager_S"

    bad = [
        ({"name": "", "kind": "team", "parent_id": org.company_id}, "name"),
        ({"name": "X", "kind": "squad", "parent_id": org.company_id}, "kind"),
        (TeamCreate(name="X", kind="company", parent_id=org.company_id), "parent_id"),
        (TeamCreate(name="X", kind="region", parent_id=team.id), "parent_id"),  # region under a team
        (TeamCreate(name="X", kind="team", parent_id=None), "parent_id"),
        (TeamCreate(name="X", kind="team", parent_id=org.company_id, manager_id=org.rep_n1.id), "manager_id"),
    ]
    for data, field in bad:
        with pytest.raises(ValidationError) as err, session_scope(engine) as s:
            users.create_team(s, org.admin, data=data)
        assert field in err.value.errors, (data, err.value.errors)


def test_team_cannot_sink_below_its_children_or_be_retired_while_used(engine, org):
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        users.update_team(s, org.admin, team_id=org.company_id, data=TeamUpdate(kind="team", parent_id=org.team_n))
    assert err.value.errors
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        users.deactivate_team(s, org.admin, team_id=org.team_n)
    assert err.value.errors == {"active": t("admin.err_team_in_use", "en")}
    with session_scope(engine) as s:
        empty = users.create_team(s, org.admin, data=TeamCreate(name="Empty", kind="team", parent_id=org.company_id))
        assert users.deactivate_team(s, org.admin, team_id=empty.id).active is False
        assert empty.id not in {tm.id for tm in users.list_teams(s, org.admin)}
        renamed = users.update_team(s, org.admin, team_id=org.team_n, data=TeamUpdate(name="North China"))
        assert renamed.name == "North China"


def test_team_names_are_unique_among_siblings(engine, org):
    """A second "East" under the same parent is refused with its reason (also when the first
    click's team is already there), the same name elsewhere in the tree is fine, and the
    database refuses a twin written around the service."""
    with session_scope(engine) as s:
        east = users.create_team(s, org.admin, data=TeamCreate(name="East", kind="region", parent_id=org.company_id))
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        users.create_team(s, org.admin, data={"name": " east ", "kind": "region", "parent_id": org.company_id})
    assert err.value.errors == {"name": t("admin.err_team_name_taken", "en", value="east")}
    with session_scope(engine) as s:  # under another parent the name is free
        users.create_team(s, org.admin, data=TeamCreate(name="East", kind="team", parent_id=east.id))
    with pytest.raises(ValidationError), session_scope(engine) as s:
        users.update_team(s, org.admin, team_id=org.team_n, data={"name": "EAST", "parent_id": org.company_id})
    from sqlalchemy.exc import IntegrityError

    from services.models import Team
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(Team(name="East", kind="region", parent_id=org.company_id))
        s.flush()
