"""Widgets through AppTest: the period picker honours the fiscal year setting and custom
ranges, the scope picker offers only what the role may see, money inputs give Decimals."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.widgets import dash_missing, scope_choices, to_money
from services import settings
from services.access import Actor
from services.db import make_engine, migrate, session_scope
from services.periods import Period, local_today, period_for


def period_app():
    import streamlit as st

    from dashboard.widgets import period_picker

    st.session_state["picked"] = period_picker("p")


def scope_app():
    import streamlit as st

    from dashboard.widgets import scope_picker

    st.session_state["picked"] = scope_picker(st.session_state["who"], "s")


def money_app():
    import streamlit as st

    from dashboard.widgets import money_input

    st.session_state["picked"] = money_input("Amount", "m")


@pytest.fixture
def db_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    eng = make_engine(url)
    migrate(eng)
    with session_scope(eng) as s:
        settings.put(s, "fiscal_year_start_month", 4)
        settings.put(s, "timezone", "Asia/Shanghai")
    eng.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def run(fn, **state) -> AppTest:
    at = AppTest.from_function(fn, default_timeout=30)
    at.session_state["locale"] = "en"
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_period_picker_defaults_to_month_and_uses_fiscal_year(db_url):
    today = local_today("Asia/Shanghai")
    at = run(period_app)
    assert at.session_state["picked"] == period_for("month", today)
    assert at.radio(key="p_kind__en").options[:5] == ["Today", "This week", "This month", "This quarter", "This year"]
    at.radio(key="p_kind__en").set_value("year").run()
    year = at.session_state["picked"]
    assert year == period_for("year", today, 4) and year.start.month == 4
    assert at.caption[0].value == f"{year.start.isoformat()} – {year.last_day.isoformat()}"
    at.radio(key="p_kind__en").set_value("quarter").run()
    assert at.session_state["picked"] == period_for("quarter", today, 4)


def test_period_picker_custom_range_is_inclusive_of_last_day(db_url):
    at = run(period_app)
    at.radio(key="p_kind__en").set_value("custom").run()
    at.date_input(key="p_range").set_value((date(2026, 3, 1), date(2026, 3, 31))).run()
    assert at.session_state["picked"] == Period(date(2026, 3, 1), date(2026, 4, 1), "custom")
    # only the first date picked so far: a one-day period
    at.date_input(key="p_range").set_value((date(2026, 3, 5),)).run()
    picked = at.session_state["picked"]
    assert (picked.start, picked.end - timedelta(days=1)) == (date(2026, 3, 5), date(2026, 3, 5))


@pytest.mark.parametrize("role, options", [("rep", ("me",)), ("manager", ("team", "me")),
                                           ("director", ("all", "me")), ("admin", ("all", "me"))])
def test_scope_picker_limited_by_role(db_url, role, options):
    actor = Actor(id=1, username=role, display_name=role, role=role)
    assert scope_choices(actor) == options
    at = run(scope_app, who=actor)
    assert at.session_state["picked"] == options[0]
    radios = [r for r in at.radio if r.key == "s_scope__en"]
    if len(options) == 1:
        assert not radios  # nothing to choose
    else:
        assert radios[0].options == [{"me": "Mine", "team": "My team", "all": "Everyone"}[o] for o in options]
        radios[0].set_value("me").run()
        assert at.session_state["picked"] == "me"


def test_money_input_returns_decimal_with_two_places(db_url):
    at = run(money_app)
    assert at.session_state["picked"] is None
    at.number_input(key="m").set_value(1234.5).run()
    assert at.session_state["picked"] == Decimal("1234.50")
    assert to_money(0.105) == Decimal("0.11") and to_money(None) is None


def test_tables_show_a_dash_for_missing_cells():
    """Streamlit prints the English word "None" for a missing cell; our tables show "—"."""
    frame = pd.DataFrame({"name": ["甲", None], "amount": [1.5, float("nan")],
                          "due": [pd.Timestamp("2026-11-27"), pd.NaT], "count": [1, 2]})
    shown = dash_missing(frame)
    assert shown["name"].tolist() == ["甲", "—"]
    # a column with a dash is text throughout (as Streamlit would make it after a failed
    # Arrow conversion of "—" beside numbers or dates), dates without their midnight
    assert shown["amount"].tolist() == ["1.5", "—"]
    assert shown["due"].tolist() == ["2026-11-27", "—"]
    assert shown["count"].tolist() == [1, 2] and shown["count"].dtype == frame["count"].dtype
    # a count column pandas made float for its missing cell stays whole ("1007", not "1007.0")
    counts = dash_missing(pd.DataFrame({"now": [1007, 0, None], "days": [2.0, None, 4.5]}))
    assert counts["now"].tolist() == ["1007", "0", "—"] and counts["days"].tolist() == ["2.0", "—", "4.5"]
    assert frame["name"].isna().tolist() == [False, True]  # the caller's frame is left alone
