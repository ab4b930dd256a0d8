"""AppTest of the Overview page as every role: no exception, and the metric cards show the
service's numbers formatted with the same formatter.

Runs on a small company built here (``build_org`` + deals, activities, targets, payments in
the current month) and on the demo company (tests/pages/conftest.py).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from streamlit.testing.v1 import AppTest

from services import settings
from services.analytics import overview_kpis
from services.db import make_engine, migrate, session_scope
from services.i18n import format_money, format_number, format_percent, t
from services.models import Activity, Customer, Deal, Target
from services.periods import local_today, period_for
from tests.conftest import build_org
from tests.pages.conftest import open_page, rerun

PAGE = "pages/overview.py"
DEFAULT_SCOPE = {"rep": "me", "manager": "team", "director": "all", "admin": "all"}


@pytest.fixture(scope="module")
def overview_db(tmp_path_factory):
    """(DATABASE_URL, {role: Actor}) for a small company with numbers in the current month."""
    url = f"sqlite:///{tmp_path_factory.mktemp('overview') / 'overview.db'}"
    eng = make_engine(url)
    migrate(eng)
    org = build_org(eng)
    with session_scope(eng) as s:
        today = local_today(settings.get(s, "timezone"))
        first = today.replace(day=1)
        for i, rep in enumerate([org.rep_n1, org.rep_n2, org.rep_s1, org.rep_s2]):
            c = Customer(name=f"Customer {i}", owner_id=rep.id, next_contact_on=first - timedelta(days=1))
            s.add(c)
            s.flush()
            for j, (stage, amount, prob) in enumerate([("Won", 12000 + 1000 * i, 100), ("Won", 3456.78, 100),
                                                      ("Lost", 5000, 0), ("Proposal", 20000, 50),
                                                      ("Qualify", 7000 + i, 10)]):
                closed = first if stage in ("Won", "Lost") else None
                s.add(Deal(name=f"D{i}{j}", customer_id=c.id, owner_id=rep.id, stage_id=org.stages[stage],
                           amount=Decimal(str(amount)), probability=prob, opened_on=first - timedelta(days=40),
                           closed_on=closed))
            s.add(Activity(customer_id=c.id, owner_id=rep.id, done_at=_noon_utc(first)))
            s.add(Activity(customer_id=c.id, owner_id=rep.id, planned_at=_noon_utc(first - timedelta(days=2))))
            s.add(Target(metric="contract_amount", scope="user", user_id=rep.id, period_kind="month",
                         period_start=first, value=Decimal("30000")))
        s.add(Target(metric="contract_amount", scope="team", team_id=org.team_n, period_kind="month",
                     period_start=first, value=Decimal("70000")))
    eng.dispose()
    actors = {"admin": org.admin, "director": org.director, "manager": org.manager_n, "rep": org.rep_n1}
    return url, actors


@pytest.fixture
def small_company(overview_db, monkeypatch):
    """The module's company as ``DATABASE_URL`` for this test."""
    monkeypatch.setenv("DATABASE_URL", overview_db[0])
    return overview_db


def _noon_utc(day):
    from datetime import UTC, datetime, time

    return datetime.combine(day, time(4, 0), UTC)  # noon in Shanghai


def run_page(actor, *, locale="en", scope=None, period=None) -> AppTest:
    at = open_page(PAGE, actor, locale=locale)
    if period:
        at.radio(key=f"overview_kind__{locale}").set_value(period)
        rerun(at)
    if scope:
        at.radio(key=f"overview_scope__{locale}").set_value(scope)
        rerun(at)
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected(url, actor, scope, kind="month", locale="en") -> dict[str, str]:
    eng = make_engine(url)
    try:
        with session_scope(eng) as s:
            today = local_today(settings.get(s, "timezone"))
            k = overview_kpis(s, actor, period=period_for(kind, today, settings.get(s, "fiscal_year_start_month")),
                              scope=scope, today=today)
    finally:
        eng.dispose()
    m = lambda v: format_money(v, locale)  # noqa: E731
    return {
        t("overview.won_amount", locale): m(k.won_amount),
        t("overview.target", locale): m(k.target_amount) if k.target_amount is not None else t("overview.no_target", locale),
        t("overview.win_rate", locale): format_percent(k.win_rate, locale),
        t("overview.won_lost", locale): f"{format_number(k.won_count, locale)} / {format_number(k.lost_count, locale)}",
        t("overview.open_pipeline", locale): m(k.open_pipeline),
        t("overview.weighted_pipeline", locale): m(k.weighted_pipeline),
        t("overview.activities_done", locale): format_number(k.activities_done, locale),
        t("overview.overdue", locale): format_number(k.overdue_followups, locale),
    }


@pytest.mark.parametrize("role", ["admin", "director", "manager", "rep"])
def test_overview_shows_service_numbers_per_role(small_company, role):
    url, actors = small_company
    at = run_page(actors[role])
    shown = metrics(at)
    want = expected(url, actors[role], DEFAULT_SCOPE[role])
    assert shown == want
    assert len(at.get("vega_lite_chart")) == 3  # bullet, trend, pipeline


def test_overview_numbers_differ_by_role(small_company):
    url, actors = small_company
    rep = metrics(run_page(actors["rep"]))
    director = metrics(run_page(actors["director"]))
    # rep_n1 won 12,000 + 3,456.78; the company won four times as many deals
    assert rep["Won revenue"] == format_money(Decimal("15456.78"), "en")
    assert rep["Deals won / lost"] == "2 / 1" and director["Deals won / lost"] == "8 / 4"
    assert rep["Target"] == format_money(30000, "en")
    assert director["Target"] == format_money(70000 + 30000 + 30000, "en")  # north team + south's reps


def test_rep_has_no_scope_choice_and_manager_switches_to_own(small_company):
    url, actors = small_company
    rep = run_page(actors["rep"])
    assert not [r for r in rep.radio if r.key.startswith("overview_scope")]
    mgr = run_page(actors["manager"], scope="me")
    assert metrics(mgr) == expected(url, actors["manager"], "me")
    assert metrics(mgr)["Won revenue"] == format_money(0, "en")


def test_overview_year_period_and_chinese(small_company):
    url, actors = small_company
    at = run_page(actors["director"], locale="zh_CN", period="year")
    assert metrics(at) == expected(url, actors["director"], "all", kind="year", locale="zh_CN")
    assert at.title[0].value == "概览"


def test_overview_without_actor_stops(small_company):
    at = open_page(PAGE, None)
    assert not at.metric


@pytest.mark.parametrize("role", ["admin", "director", "manager", "rep"])
def test_overview_on_demo_company(demo_db_url, demo_actors, role):
    at = run_page(demo_actors[role])
    assert metrics(at) == expected(demo_db_url, demo_actors[role], DEFAULT_SCOPE[role])


def test_a_new_companys_overview_tells_the_admin_what_to_do_next(org_company):
    """Right after setup (teams and users exist in build_org, no customer yet) the admin is
    pointed at importing customers; a rep sees no such hints."""
    from services.i18n import t

    url, eng, org = org_company
    at = open_page(PAGE, org.admin)
    text = "\n".join(m.value for m in at.markdown)
    assert t("overview.start_title", "en") in text and t("overview.start_import", "en") in text
    assert t("overview.start_teams", "en") not in text  # the teams are there already
    rep = open_page(PAGE, org.rep_n1)
    assert t("overview.start_title", "en") not in "\n".join(m.value for m in rep.markdown)
