"""AppTest of the Funnel, Performance and Weekly meeting pages as rep, manager and director,
in both languages: no exception, and the numbers shown are the services' numbers (dataset:
tests/services/analytics_data.py; the period is the calendar year 2026, the meeting week is
2026-W47)."""

from __future__ import annotations

from datetime import date

import pytest

from services.analytics.filters import DealFilter
from services.analytics.funnel import funnel
from services.analytics.kpis import kpis
from services.db import make_engine, migrate, read_scope
from services.i18n import format_money, format_number, format_percent, t
from tests.conftest import build_org
from tests.pages.conftest import open_page, rerun, shown_text
from tests.services.analytics_data import build_deals

YEAR = dict(performance_kind="year", funnel_kind="year")
ROLES = ("rep", "manager", "director")
SCOPE = {"rep": "me", "manager": "team", "director": "all"}


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('analytics_pages') / 'a.db'}"
    eng = make_engine(url)
    migrate(eng)
    org = build_org(eng)
    build_deals(eng, org)
    actors = {"rep": org.rep_n1, "manager": org.manager_n, "director": org.director}
    return url, eng, actors


@pytest.fixture
def db(company, monkeypatch):
    url, eng, actors = company
    monkeypatch.setenv("DATABASE_URL", url)
    return eng, actors


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_funnel_page_shows_the_service_numbers(db, role, locale):
    eng, actors = db
    actor = actors[role]
    from services.periods import Period
    year = Period(date(2026, 1, 1), date(2027, 1, 1), "year")
    with read_scope(eng) as s:
        rep = funnel(s, actor, period=year, flt=DealFilter(scope=SCOPE[role]))
    at = open_page("pages/funnel.py", actor, locale=locale, **YEAR)
    assert at.title[0].value == t("analytics.funnel_title", locale)
    assert _metric(at, t("analytics.deals", locale)) == format_number(rep.deals, locale)
    win = _metric(at, t("analytics.win_rate", locale))
    assert win == ("–" if rep.win_rate is None else format_percent(rep.win_rate, locale))
    assert len(at.dataframe) >= 2  # the stage table and the deals of a stage


def test_funnel_rep_without_closed_deals_shows_a_dash(db):
    eng, actors = db
    at = open_page("pages/funnel.py", actors["rep"], locale="en", funnel_kind="year", funnel_mode="pipeline")
    assert _metric(at, "Win rate") == "–"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_performance_page_shows_the_service_numbers(db, role, locale):
    eng, actors = db
    actor = actors[role]
    from services.periods import Period
    year = Period(date(2026, 1, 1), date(2027, 1, 1), "year")
    with read_scope(eng) as s:
        k = kpis(s, actor, period=year, flt=DealFilter(scope=SCOPE[role]))
    at = open_page("pages/performance.py", actor, locale=locale, **YEAR)
    assert _metric(at, t("analytics.kpi_won_revenue", locale)) == format_money(k["won_revenue"], locale)
    assert _metric(at, t("analytics.kpi_win_rate", locale)) == format_percent(k["win_rate"], locale)
    helps = {m.label: m.help for m in at.metric}
    assert helps[t("analytics.kpi_won_revenue", locale)] == t("analytics.help_won_revenue", locale)
    # the card's arrow follows the sign of 环比: Streamlit reads it from the delta's first character
    print("DELTAS", [(m.label, m.proto.delta) for m in at.metric])
    for m in at.metric:
        if m.proto.delta:
            assert m.proto.delta[0] in "-0123456789", (m.label, m.proto.delta)


def test_review_saved_from_the_performance_page(db):
    eng, actors = db
    at = open_page("pages/performance.py", actors["manager"], locale="en", **YEAR)
    at.text_input(key="review_action_title").input("Call every stalled deal")
    rerun(at, at.button(key="FormSubmitter:review_form-Save review"))
    assert any("Review saved." in s.value for s in at.success)


def test_performance_tabs_read_only_while_open(db):
    """Findings and the review form are drawn on arrival; target vs actual, the leaderboards
    and the forecast only in their tab (the numbers are the services'); the rows behind a
    KPI only while the drill-down is open."""
    from services.analytics.leaderboard import leaderboard
    from services.periods import Period

    eng, actors = db
    director = actors["director"]
    year = Period(date(2026, 1, 1), date(2027, 1, 1), "year")
    at = open_page("pages/performance.py", director, locale="en", **YEAR)
    assert at.text_input(key="review_action_title") is not None
    text = shown_text(at)
    assert "Forecast accuracy" not in text and "Won ÷ forecast" not in text
    assert not [d for d in at.dataframe if list(d.value.columns) == ["#", "Name", "Team", "Value"]]
    at.session_state["performance_tab"] = "ranking"
    rerun(at)
    with read_scope(eng) as s:
        board = leaderboard(s, director, period=year, metric="revenue", flt=DealFilter(scope="all"))
    ranked = [d.value for d in at.dataframe if list(d.value.columns) == ["#", "Name", "Team", "Value"]]
    assert ranked and list(ranked[0]["Name"]) == [r["name"] for r in board]
    assert at.text_input(key="review_action_title") is not None  # the form stays drawn
    at.session_state["performance_tab"] = "forecast"
    rerun(at)
    forecast_table = [d.value for d in at.dataframe if "Weighted" in d.value.columns]
    assert forecast_table and forecast_table[0].columns[0] == "Expected close month"
    # drill-down: closed on arrival, its rows read and shown once opened
    assert not [sb for sb in at.selectbox if sb.key == "perf_drill__en"]
    at.session_state["perf_drill_open"] = True
    rerun(at)
    assert [sb for sb in at.selectbox if sb.key == "perf_drill__en"]
    # the won deals behind the revenue, under the reader's column names
    assert [d for d in at.dataframe if list(d.value.columns)[:3] == ["#", "Deal", "Owner"]]


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_meeting_page(db, locale):
    eng, actors = db
    at = open_page("pages/meeting.py", actors["director"], locale=locale, meeting_day=date(2026, 11, 20))
    won = _metric(at, t("analytics.meeting_metric_contract_amount", locale))
    assert won == format_money(10000, locale)
    subheaders = [h.value for h in at.subheader]
    assert t("analytics.meeting_section_leaderboard", locale) in subheaders
    at.toggle(key="meeting_presenter").set_value(True)
    rerun(at)
    assert [h.value for h in at.subheader] == [t("analytics.meeting_section_numbers", locale)]
    rerun(at, at.button(key="meeting_next"))
    assert [h.value for h in at.subheader] == [t("analytics.meeting_section_funnel", locale)]


def test_meeting_page_is_for_managers(db):
    eng, actors = db
    at = open_page("pages/meeting.py", actors["rep"], locale="en")
    assert at.error and not at.metric


def test_open_review_action_on_the_owners_agenda(db):
    from services.db import session_scope
    from services.reviews import create_review

    eng, actors = db
    with session_scope(eng) as s:
        create_review(s, actors["director"], period_start=date(2026, 11, 1), period_end=date(2026, 12, 1),
                      actions=[{"title": "Phone the Acme buyer", "owner_id": actors["rep"].id,
                                "due_on": date(2026, 12, 9)}])
    at = open_page("pages/activities.py", actors["rep"], locale="en", act_tab="agenda")
    text = shown_text(at)
    assert "Action items from reviews" in [h.value for h in at.subheader]
    assert "Phone the Acme buyer" in text and "2026-12-09" in text
