"""AppTest of the Activities page as rep and manager on the small company (conftest):
no exception, the quick log form keeps the input on a validation error and clears on
success, the agenda shows the service's items and marks one done in place, the manager's
rep filter narrows the agenda."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services import settings
from services.activities import agenda
from services.db import make_engine, session_scope
from services.i18n import t
from services.models import Activity, Customer
from services.periods import local_today
from tests.pages.conftest import by_label, open_page, rerun

PAGE = "pages/activities.py"
AGENDA = "agenda"  # the tab to open (closed tabs are not drawn)


@pytest.mark.parametrize("role", ["rep", "manager", "director", "admin"])
def test_page_runs_for_every_role(small_company, role):
    at = open_page(PAGE, small_company[1][role], act_tab=AGENDA)
    assert at.title[0].value == "Activities"
    assert [s.value for s in at.subheader][:3] == ["Overdue", "Today", "Rest of the week"]
    assert bool([s for s in at.selectbox if s.label == "Rep"]) == (role != "rep")


def test_closed_tabs_are_drawn_when_opened(small_company):
    """The first visit draws the log form only; the agenda appears when its tab is chosen."""
    at = open_page(PAGE, small_company[1]["rep"])
    assert [t.label for t in at.tabs] == ["Log an activity", "My agenda", "Week calendar", "Forgotten customers"]
    assert "Overdue" not in [s.value for s in at.subheader]
    assert "Previous week" not in [b.label for b in at.button]
    at.session_state["act_tab"] = AGENDA
    rerun(at)
    assert [s.value for s in at.subheader][:3] == ["Overdue", "Today", "Rest of the week"]
    at.session_state["act_tab"] = "week"
    rerun(at)
    assert "Previous week" in [b.label for b in at.button]


def test_agenda_numbers_are_the_services(small_company):
    url, actors = small_company
    eng = make_engine(url)
    with session_scope(eng) as s:
        today = local_today(settings.get(s, "timezone"))
        expected = agenda(s, actors["manager"], today=today)
    at = open_page(PAGE, actors["manager"], act_tab=AGENDA)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Overdue"] == str(expected["overdue"].attrs["total"])
    assert metrics["Today"] == str(expected["today"].attrs["total"])
    # the manager narrows to one rep
    by_label(at.selectbox, "Rep").set_value(actors["other_rep"].id).run()
    with session_scope(eng) as s:
        only = agenda(s, actors["manager"], today=today, owner_id=actors["other_rep"].id)
    assert {m.label: m.value for m in at.metric}["Overdue"] == str(only["overdue"].attrs["total"])


def test_agenda_counts_by_hand(small_company):
    """rep_n1 (the small company): a visit planned 2 days ago on customer 0 (overdue), and
    follow-ups due on customers 1 and 2 (yesterday and 2 days ago: overdue); customer 0's
    follow-up today is covered by its planned visit. Nothing else today."""
    url, actors = small_company
    at = open_page(PAGE, actors["rep"], act_tab=AGENDA)
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Overdue"], metrics["Today"]) == ("3", "0")


def test_log_form_keeps_input_on_error_and_clears_on_success(small_company):
    url, actors = small_company
    rep = actors["rep"]
    at = open_page(PAGE, rep)
    customer = by_label(at.selectbox, "Customer")
    target = next(o for o in customer.options if o.endswith(" 1"))
    customer.select(target).run()
    eng = make_engine(url)
    with session_scope(eng) as s:
        cid = s.scalar(select(Customer.id).where(Customer.name == target))
        before = len(s.scalars(select(Activity).where(Activity.customer_id == cid)).all())
    by_label(at.text_input, "Outcome").input("Talked about pricing")
    by_label(at.text_input, "Next step").input("Send proposal")
    submit = next(b for b in at.button if b.label == "Save activity")
    rerun(at, submit)  # next contact date missing → rejected
    assert any("correct" in e.value for e in at.error)
    assert by_label(at.text_input, "Outcome").value == "Talked about pricing"  # input kept
    with session_scope(eng) as s:
        assert len(s.scalars(select(Activity).where(Activity.customer_id == cid)).all()) == before
    next_day = local_today() + timedelta(days=5)
    by_label(at.date_input, "Next contact date").set_value(next_day)
    rerun(at, next(b for b in at.button if b.label == "Save activity"))
    assert [s.value for s in at.success] == ["Activity saved"]
    assert by_label(at.text_input, "Outcome").value == ""  # cleared
    with session_scope(eng) as s:
        rows = s.scalars(select(Activity).where(Activity.customer_id == cid).order_by(Activity.id)).all()
        assert len(rows) == before + 1 and rows[-1].outcome == "Talked about pricing"
        assert rows[-1].next_contact_on == next_day and rows[-1].owner_id == rep.id
    # the timeline under the form shows it
    assert any("Talked about pricing" in tb.value.to_string() for tb in at.table)


def test_mark_done_in_place(small_company):
    url, actors = small_company
    rep = actors["rep"]
    at = open_page(PAGE, rep, act_tab=AGENDA)
    eng = make_engine(url)
    with session_scope(eng) as s:
        planned = s.scalars(select(Activity).where(Activity.owner_id == rep.id, Activity.done_at.is_(None))).first()
        planned_id = planned.id
    key = f"agenda_activity_{planned_id}"
    at.text_input(key=f"{key}_outcome").input("Met the buyer")
    at.date_input(key=f"{key}_next").set_value(local_today() + timedelta(days=7))
    form_buttons = [b for b in at.button if b.label == "Mark done" and b.form_id == f"{key}_form"]
    rerun(at, form_buttons[0])
    assert "Marked done" in [s.value for s in at.success]
    with session_scope(eng) as s:
        row = s.get(Activity, planned_id)
        assert row.done_at is not None and row.outcome == "Met the buyer"


@pytest.mark.parametrize("role", ["rep", "manager", "director"])
def test_demo_company_agenda_matches_service(demo_db_url, demo_actors, role):
    actor = demo_actors[role]
    at = open_page(PAGE, actor, act_tab=AGENDA)
    with session_scope(make_engine(demo_db_url)) as s:
        today = local_today(settings.get(s, "timezone"))
        expected = agenda(s, actor, today=today)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Overdue"] == str(expected["overdue"].attrs["total"])
    assert metrics["Rest of the week"] == str(expected["this_week"].attrs["total"])


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_customer_picker_placeholder_is_in_the_users_language(small_company, locale):
    """Streamlit's own placeholder is English ("Choose an option"); ours follows the user."""
    at = open_page(PAGE, small_company[1]["rep"], locale=locale)
    assert at.selectbox(key="act_log_customer").proto.placeholder == t("ui.choose", locale)
    at.text_input(key="act_log_customer_search").input("no such customer")
    rerun(at)
    picker = at.selectbox(key="act_log_customer")
    assert picker.options == [] and picker.proto.placeholder == t("ui.no_options", locale)
