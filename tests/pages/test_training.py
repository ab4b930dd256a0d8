"""AppTest of the Training page as rep and manager in both languages: a course assigned to a
whole team shows in a rep's own view; the rep marks it completed; a score above the maximum
is refused under its field; the dashboard's completion rate is the service's."""

from __future__ import annotations

import pytest

from services.db import read_scope, session_scope
from services.i18n import format_percent
from services.training import add_course, list_enrollments, training_dashboard
from tests.pages.conftest import open_page, rerun

PAGE = "pages/training.py"


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
@pytest.mark.parametrize("role", ["rep", "manager"])
def test_page_runs_in_both_languages(demo_db_url, demo_actors, role, locale):
    at = open_page(PAGE, demo_actors[role], locale=locale)
    assert at.title[0].value == ("Training" if locale == "en" else "培训")
    tabs = [t.label for t in at.tabs]
    assert len(tabs) == (3 if role == "rep" else 7)
    if role == "manager" and locale == "en":
        with read_scope(__import__("services.db", fromlist=["make_engine"]).make_engine(demo_db_url)) as s:
            rate = training_dashboard(s, demo_actors["manager"])["total"]["rate"]
        assert next(m for m in at.metric if m.label == "Completion rate").value == format_percent(rate, "en")


def test_assign_to_team_then_rep_sees_it_and_completes(org_company):
    url, engine, org = org_company
    with session_scope(engine) as s:
        course = add_course(s, org.manager_n, values={"title": "Objection handling", "category": "sales_skills"})
    at = open_page(PAGE, org.manager_n)
    at.multiselect(key="assign_team_ids").set_value([org.team_n])
    rerun(at, at.button(key="assign_btn"))
    assert any("Assigned to 2" in s.value for s in at.success)
    rep = open_page(PAGE, org.rep_n1)
    assert "Objection handling" in str(rep.dataframe[0].value)
    with read_scope(engine) as s:
        mine = list_enrollments(s, org.rep_n1)
    rerun(rep, rep.button(key=f"progress_done_{mine[0]['id']}"))
    with read_scope(engine) as s:
        assert list_enrollments(s, org.rep_n1)[0]["status"] == "completed"
    # the trainer's score above the maximum: refused under the field, nothing saved
    at = open_page(PAGE, org.manager_n)
    at.number_input(key="score_score").set_value(130)
    rerun(at, at.button(key="score_btn"))
    assert any("maximum score 100" in c.value for c in at.caption)
    with read_scope(engine) as s:
        assert all(r["score"] is None for r in list_enrollments(s, org.manager_n))
    assert course["id"]
