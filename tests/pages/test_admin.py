"""AppTest of the Admin page: admins manage users, teams and settings with field messages;
directors get a read-only view; managers and reps are refused.

Writes go to a private copy of the demo company so the shared demo stays as built."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from services import settings
from services.access import Actor
from services.db import make_engine, migrate, session_scope
from services.demo import build_demo
from services.i18n import t
from services.models import Team, User
from tests.pages.conftest import open_page, unescape

PAGE = "pages/admin.py"


@pytest.fixture(scope="module")
def own_db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('admin') / 'admin.db'}"
    engine = make_engine(url)
    migrate(engine)
    build_demo(engine, scale="small", seed=7, lang="en")
    with session_scope(engine) as s:
        admin = Actor.from_user(s.scalars(select(User).where(User.role == "admin")).first())
    engine.dispose()
    return url, admin


@pytest.fixture
def admin_page(own_db, monkeypatch):
    url, admin = own_db
    monkeypatch.setenv("DATABASE_URL", url)
    return open_page(PAGE, admin)


def db(own_db):
    return make_engine(own_db[0])


def test_admin_sees_every_tab_and_the_users(admin_page):
    at = admin_page
    assert not at.exception
    assert [tab.label for tab in at.tabs] == [t(f"admin.tab_{k}", "en") for k in
                                               ("users", "teams", "stages", "lost_reasons", "channels", "products", "settings")]
    users_table = at.tabs[0].dataframe[0].value
    assert "rep1" in set(users_table[t("admin.user_username", "en")])
    assert len(at.tabs[2].dataframe) == 1  # the stages editor


def test_create_user_shows_field_messages_then_creates(admin_page, own_db):
    at = admin_page
    at.text_input(key="uc_username").input("x")
    at.text_input(key="uc_display_name").input("New Rep")
    at.text_input(key="uc_password").input("short")
    at.button(key="uc_submit").click().run()
    errors = "\n".join(unescape(e.value) for e in at.error)  # one box, a labelled line per field
    assert f"**{t('admin.user_username', 'en')}**: {t('admin.err_username_format', 'en')}" in errors
    assert f"**{t('admin.user_password', 'en')}**: {t('admin.err_password_short', 'en', min=8)}" in errors
    assert at.text_input(key="uc_display_name").value == "New Rep"  # the typing stays
    at.text_input(key="uc_username").input("newrep")
    at.text_input(key="uc_password").input("password-ok")
    at.button(key="uc_submit").click().run()
    assert not at.exception and not at.error
    with session_scope(db(own_db)) as s:
        assert s.scalars(select(User).where(User.username == "newrep")).one().role == "rep"


def test_deactivating_yourself_is_refused_with_the_message(admin_page, own_db):
    at = admin_page
    me = own_db[1]
    at.selectbox(key="ue_pick").set_value(me.username).run()
    at.checkbox(key=f"ue_{me.id}_active").uncheck()
    at.button(key=f"ue_{me.id}_submit").click().run()
    assert f"- **{t('admin.user_active', 'en')}**: {t('admin.err_self_deactivate', 'en')}" in [
        unescape(e.value) for e in at.error]


def test_create_team_under_the_company(admin_page, own_db):
    at = admin_page
    with session_scope(db(own_db)) as s:
        company = s.scalars(select(Team).where(Team.kind == "company")).first()
    at.text_input(key="tc_name").input("Key Accounts")
    at.selectbox(key="tc_parent").set_value(company.id)
    at.button(key="tc_submit").click().run()
    assert not at.exception and not at.error
    with session_scope(db(own_db)) as s:
        team = s.scalars(select(Team).where(Team.name == "Key Accounts")).one()
        assert (team.kind, team.parent_id) == ("team", company.id)


def test_settings_are_saved(admin_page, own_db):
    at = admin_page
    at.number_input(key="set_fy_month").set_value(4)
    at.button(key="set_submit").click().run()
    assert not at.exception and not at.error
    with session_scope(db(own_db)) as s:
        assert settings.get(s, "fiscal_year_start_month") == 4


def test_director_gets_a_read_only_view(demo_db_url, demo_actors):
    at = open_page(PAGE, demo_actors["director"])
    assert [i.value for i in at.info][0] == t("admin.read_only", "en")
    assert not at.text_input  # no create / edit forms
    assert at.tabs[0].dataframe  # but the users are listed
    hints = {t("admin.stages_hint", "en"), t("admin.deactivate_hint", "en")}
    assert not hints & {c.value for c in at.caption}  # no editing hints on a view that cannot edit


@pytest.mark.parametrize("role", ["manager", "rep"])
def test_managers_and_reps_are_refused(demo_db_url, demo_actors, role):
    at = open_page(PAGE, demo_actors[role])
    assert [unescape(e.value) for e in at.error] == [t("auth.no_access", demo_actors[role].locale)]
    assert not at.tabs


def test_team_form_clears_and_confirms_and_a_second_click_creates_nothing(admin_page, own_db):
    at = admin_page
    with session_scope(db(own_db)) as s:
        company = s.scalars(select(Team).where(Team.kind == "company")).first()
    at.text_input(key="tc_name").input("Twin Team")
    at.selectbox(key="tc_parent").set_value(company.id)
    at.button(key="tc_submit").click().run()
    assert t("admin.team_created", "en", name="Twin Team") in [unescape(m.value) for m in at.success]
    assert at.text_input(key="tc_name").value == ""  # cleared: the next click has nothing to create
    at.text_input(key="tc_name").input("twin team")  # the same name typed again under the same parent
    at.selectbox(key="tc_parent").set_value(company.id)
    at.button(key="tc_submit").click().run()
    assert t("admin.err_team_name_taken", "en", value="twin team") in "\n".join(unescape(e.value) for e in at.error)
    assert at.text_input(key="tc_name").value == "twin team"  # refused: the typing stays
    with session_scope(db(own_db)) as s:
        assert len(s.scalars(select(Team).where(Team.name.ilike("twin team"))).all()) == 1


def test_out_of_range_numbers_get_the_message_in_chinese(own_db, monkeypatch):
    """The fiscal month and a user's capacity reach the service (no browser-side bound that
    would block the submit with an English tooltip) and come back with the rule in Chinese;
    a later good submit clears the message."""
    url, admin = own_db
    monkeypatch.setenv("DATABASE_URL", url)
    at = open_page(PAGE, dataclasses.replace(admin, locale="zh_CN"), locale="zh_CN")  # a Chinese-speaking admin
    at.number_input(key="set_fy_month").set_value(13)
    at.button(key="set_submit").click().run()
    assert f"**{t('admin.setting_fiscal_year_start_month', 'zh_CN')}**: {t('err.range', 'zh_CN', min=1, max=12)}" in \
        "\n".join(unescape(e.value) for e in at.error)
    at.number_input(key="set_fy_month").set_value(1)
    at.button(key="set_submit").click().run()
    assert not at.error and t("common.saved", "zh_CN") in [m.value for m in at.success]
    at.text_input(key="uc_username").input("neg")
    at.text_input(key="uc_display_name").input("Neg")
    at.text_input(key="uc_password").input("password-ok")
    at.number_input(key="uc_capacity").set_value(-5000)
    at.button(key="uc_submit").click().run()
    assert f"**{t('admin.user_capacity', 'zh_CN')}**: {t('err.not_negative', 'zh_CN')}" in \
        "\n".join(unescape(e.value) for e in at.error)
    with session_scope(db(own_db)) as s:
        assert s.scalars(select(User).where(User.username == "neg")).first() is None
