"""AppTest of the Plans page as rep, manager and director in both languages on the demo
company (progress numbers are the service's), and a manager adding milestones on a small
company: one outside the plan period is refused with the rule, one inside is saved."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from services import plans
from services.db import make_engine, session_scope
from services.i18n import t
from services.models import PlanMilestone
from tests.pages.conftest import open_page, rerun, shown_text

PAGE = "pages/plans.py"


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
@pytest.mark.parametrize("role", ["rep", "manager", "director"])
def test_plans_page_as_every_role(demo_db_url, demo_actors, role, locale):
    actor = demo_actors[role]
    at = open_page(PAGE, actor, locale=locale)
    assert at.title[0].value == t("plans.title", locale)
    engine = make_engine(demo_db_url)
    with session_scope(engine, write=False) as s:
        first = plans.list_plans(s, actor)[0]
        progress = plans.plan_progress(s, actor, plan_id=first["id"])
    engine.dispose()
    shown = {m.label: m.value for m in at.metric}
    assert shown[t("plans.milestones_done", locale)] == f"{progress['milestones_done']} / {progress['milestones_total']}"
    assert len(at.tabs) == 3
    if role == "rep":
        assert t("plans.read_only", locale) in shown_text(at)


def test_a_manager_adds_milestones_inside_the_period_only(org_company):
    _url, engine, org = org_company
    with session_scope(engine) as s:
        plan = plans.create_plan(s, org.manager_n, data=dict(title="North 2027", period="2027", team_id=org.team_n))
    at = open_page(PAGE, org.manager_n)
    at.text_input(key="plans_mile_title").set_value("Kick-off")
    at.date_input(key="plans_mile_due").set_value(date(2028, 2, 1))
    rerun(at, next(b for b in at.button if b.label == t("plans.new_milestone", "en")))
    assert "must lie inside the plan period 2027-01-01 … 2027-12-31" in shown_text(at)
    at.date_input(key="plans_mile_due").set_value(date(2027, 2, 1))
    rerun(at, next(b for b in at.button if b.label == t("plans.new_milestone", "en")))
    assert t("plans.milestone_added", "en") in shown_text(at)
    with session_scope(engine, write=False) as s:
        assert s.scalar(select(func.count(PlanMilestone.id)).where(PlanMilestone.plan_id == plan["id"])) == 1
