"""AppTest of streamlit_app.py: the sign-in gate, first-run setup, the navigation each role
gets, the token kept in the URL, sign-out, and the language switch."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from dashboard.nav import PAGES, visible_pages
from services.db import make_engine, session_scope
from services.demo import DEMO_PASSWORD
from services.i18n import t
from services.models import Stage, User, UserSession
from tests.pages.conftest import ROOT, app_path, shown_text, unescape

APP = app_path("streamlit_app.py")


def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def registered(at: AppTest) -> set[str]:
    """Script paths (relative to the app folder) that st.navigation registered this run."""
    paths = [info.get("script_path") or "" for info in at._registered_pages.values()]
    return {str(Path(p).resolve().relative_to(ROOT)) for p in paths if p.endswith(".py")}


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password)
    return at.button[0].click().run()


def test_unauthenticated_visitor_sees_only_the_sign_in_page(demo_db_url):
    at = app().run()
    assert not at.exception
    assert [ti.key for ti in at.text_input] == ["signin_username", "signin_password"]
    assert registered(at) == set()  # the gate page is a function, no page file is reachable
    assert "actor" not in at.session_state
    # demo mode: the demo logins are listed with their password
    shown = " ".join(str(tb.value) for tb in at.table) + " ".join(c.value for c in at.caption)
    assert "rep1" in shown and DEMO_PASSWORD in shown


def test_sign_in_keeps_the_token_in_the_url_and_a_reload_restores_it(demo_db_url):
    at = sign_in(app().run(), "rep1", DEMO_PASSWORD)
    assert not at.exception and not at.error
    assert at.session_state["actor"].username == "rep1"
    token = at.query_params["s"]
    assert token
    # a browser refresh: a new session that only has the URL
    again = app()
    again.query_params["s"] = token
    again.run()
    assert not again.exception
    assert again.session_state["actor"].username == "rep1"
    assert "pages/overview.py" in registered(again)


def test_wrong_password_shows_the_message_and_keeps_the_form(demo_db_url):
    at = sign_in(app().run(), "rep2", "not-the-password")
    assert [unescape(e.value) for e in at.error] == [t("auth.bad_credentials", "en")]  # rep2's language
    assert "actor" not in at.session_state
    assert at.text_input(key="signin_username").value == "rep2"


def test_sign_out_revokes_the_session_and_clears_the_url(demo_db_url):
    at = sign_in(app().run(), "manager1", DEMO_PASSWORD)
    token = at.query_params["s"]
    at.sidebar.button(key="sign_out").click().run()
    assert "actor" not in at.session_state
    assert "s" not in at.query_params
    assert [ti.key for ti in at.text_input] == ["signin_username", "signin_password"]
    engine = make_engine(demo_db_url)
    with session_scope(engine) as s:
        from services.auth import actor_from_token

        assert actor_from_token(s, token) is None
        assert s.scalars(select(UserSession).where(UserSession.revoked_at.is_not(None))).first() is not None
    engine.dispose()
    stale = app()
    stale.query_params["s"] = token
    stale.run()
    assert "actor" not in stale.session_state  # the old URL no longer signs in


@pytest.mark.parametrize("role", ["admin", "director", "manager", "rep"])
def test_each_role_gets_exactly_its_pages(demo_db_url, demo_actors, role):
    at = app()
    at.session_state["actor"] = demo_actors[role]
    at.run()
    assert not at.exception
    expected = {p.file for p in visible_pages(role)}
    assert registered(at) == expected
    assert ("pages/admin.py" in expected) == (role in ("admin", "director"))
    # what each role must and must not get, written out (not derived from the registry)
    always = {"pages/overview.py", "pages/customers.py", "pages/activities.py", "pages/deals.py",
              "pages/contracts.py", "pages/customer_detail.py"}
    managers_only = {"pages/import_export.py"} | ({"pages/meeting.py"} & {p.file for p in PAGES})
    assert always <= registered(at)
    if role == "rep":
        assert not (registered(at) & (managers_only | {"pages/admin.py"}))
    else:
        assert {f for f in managers_only if (ROOT / f).exists()} <= registered(at)
    assert at.sidebar.button(key="sign_out").label == t("auth.sign_out", demo_actors[role].locale)


def test_language_switch_changes_visible_strings_and_is_saved(demo_db_url, demo_actors):
    actor = demo_actors["rep"]
    at = app()
    at.session_state["actor"] = actor
    at.run()
    assert at.sidebar.button(key="sign_out").label == "Sign out"
    at.sidebar.radio(key="lang_switch_sidebar").set_value("zh_CN").run()
    assert not at.exception
    assert at.sidebar.button(key="sign_out").label == "退出登录"
    assert at.session_state["actor"].locale == "zh_CN"
    engine = make_engine(demo_db_url)
    with session_scope(engine) as s:
        assert s.get(User, actor.id).locale == "zh_CN"
        s.get(User, actor.id).locale = actor.locale  # leave the shared demo as it was
    engine.dispose()


def test_first_run_setup_creates_the_admin(fresh_db_url):
    at = app().run()
    assert not at.exception
    keys = [ti.key for ti in at.text_input]
    assert keys == ["setup_username", "setup_display_name", "setup_password", "setup_confirm"]
    at.radio(key="lang_switch_setup").set_value("en").run()
    at.text_input(key="setup_display_name").input("Ada Admin")
    at.text_input(key="setup_password").input("short")
    at.text_input(key="setup_confirm").input("short")
    at.button[0].click().run()
    assert t("admin.err_password_short", "en", min=8) in shown_text(at)
    at.text_input(key="setup_password").input("long enough")
    at.text_input(key="setup_confirm").input("long enough")
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert at.session_state["actor"].role == "admin"
    assert "pages/admin.py" in registered(at)
    engine = make_engine(fresh_db_url)
    with session_scope(engine) as s:
        assert s.scalars(select(User.username)).all() == ["admin"]
        assert [x.name for x in s.scalars(select(Stage).order_by(Stage.sequence)).all()][0] == "Qualify"
    engine.dispose()


def test_first_run_can_load_the_demo_company(fresh_db_url):
    at = app().run()
    at.button(key="setup_load_demo").click().run()
    assert not at.exception
    # the sign-in page now lists the demo logins
    assert [ti.key for ti in at.text_input] == ["signin_username", "signin_password"]
    shown = " ".join(str(tb.value) for tb in at.table)
    assert "admin" in shown and "rep1" in shown


def test_no_demo_logins_outside_demo_mode(fresh_db_url):
    from tests.conftest import build_org

    engine = make_engine(fresh_db_url)
    build_org(engine)
    engine.dispose()
    at = app().run()
    assert [ti.key for ti in at.text_input] == ["signin_username", "signin_password"]
    assert not at.table
    assert DEMO_PASSWORD not in " ".join(c.value for c in at.caption)


@pytest.mark.parametrize(("saved", "shown"), [(None, "en"), ("zh_CN", "zh_CN")])
def test_sign_in_keeps_the_browser_language_unless_the_user_chose_one(fresh_db_url, saved, shown):
    """An English browser: a user without a saved language stays in English after signing in
    (and after a reload); a user who chose Chinese gets Chinese."""
    from services.passwords import hash_password
    from tests.conftest import build_org

    engine = make_engine(fresh_db_url)
    org = build_org(engine)
    with session_scope(engine) as s:
        user = s.get(User, org.rep_n1.id)
        user.locale, user.password_hash = saved, hash_password("password-ok")
    at = app()
    at.context["locale"] = "en-US"
    at.run()
    sign_in(at, org.rep_n1.username, "password-ok")
    assert not at.exception and not at.error
    assert at.session_state["locale"] == shown
    assert at.session_state["actor"].locale == shown  # services answer in that language too
    assert at.sidebar.button(key="sign_out").label == t("auth.sign_out", shown)
    reload = app()
    reload.context["locale"] = "en-US"
    reload.query_params["s"] = at.query_params["s"]
    reload.run()
    assert reload.session_state["actor"].locale == shown
    assert reload.sidebar.button(key="sign_out").label == t("auth.sign_out", shown)
    with session_scope(engine) as s:
        assert s.get(User, org.rep_n1.id).locale == saved  # signing in saves no choice
    engine.dispose()
