"""AppTest of the Goals page as rep, manager and director in both languages on the demo
company (the numbers shown are the service's), and a manager splitting a target and
mistyping weights on a small company."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from services import goals
from services.db import make_engine, session_scope
from services.i18n import format_percent, t
from services.models import Target
from services.periods import local_today
from tests.pages.conftest import open_page, rerun, shown_text

PAGE = "pages/goals.py"


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
@pytest.mark.parametrize("role", ["rep", "manager", "director"])
def test_goals_page_as_every_role(demo_db_url, demo_actors, role, locale):
    actor = demo_actors[role]
    at = open_page(PAGE, actor, locale=locale)
    assert at.title[0].value == t("goals.title", locale)
    assert len(at.tabs) == (1 if role == "rep" else 3)
    engine = make_engine(demo_db_url)
    with session_scope(engine, write=False) as s:
        year = str(local_today("Asia/Shanghai").year)
        rows = goals.attainment_report(s, actor, period=year, metric="contract_amount", tier="base")
    engine.dispose()
    assert rows, "the demo company has targets for this year"
    shown = {m.label: m.value for m in at.metric}
    assert shown[t("goals.attainment", locale)] == format_percent(rows[0]["attainment"], locale, 1)
    text = shown_text(at)
    assert t("goals.workback", locale) in text
    if role == "rep":
        assert t("goals.read_only", locale) in text


def test_a_manager_splits_a_target_and_sees_bad_weights_refused(org_company):
    _url, engine, org = org_company
    year = str(local_today("Asia/Shanghai").year)
    with session_scope(engine) as s:
        goals.create_target(s, org.manager_n, data=dict(scope="team", team_id=org.team_n, period=year,
                                                        value="120000"))
    at = open_page(PAGE, org.manager_n)
    at.selectbox(key="goals_split_weights__en").set_value("custom")
    at.text_input(key="goals_split_custom").set_value("1,-1,1,1")
    at.selectbox(key="goals_split_into__en").set_value("quarters")
    rerun(at, next(b for b in at.button if b.label == t("goals.split", "en")))
    assert "weights must not be negative" in shown_text(at)
    with session_scope(engine, write=False) as s:
        assert s.scalar(select(func.count(Target.id))) == 1
    at.selectbox(key="goals_split_weights__en").set_value("equal")
    at.selectbox(key="goals_split_into__en").set_value("months")
    rerun(at, next(b for b in at.button if b.label == t("goals.split", "en")))
    assert t("goals.split_done", "en", count=12) in shown_text(at)
    with session_scope(engine, write=False) as s:
        values = s.scalars(select(Target.value).where(Target.parent_id.is_not(None))).all()
    assert len(values) == 12 and sum(values) == Decimal("120000")
