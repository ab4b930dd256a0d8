"""In the real browser a manager sets their team's target for next year, splits it into
months and into reps, and sees the bullet chart and the work-back table beside it."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from services.db import make_engine, read_scope
from services.models import Target, User
from tests.e2e.conftest import login, screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the select box labelled ``label`` (the list may close again when
    a rerun redraws the box: open it again then)."""
    wait_for_app(page)
    for attempt in range(4):
        page.locator("[data-testid='stSelectbox']", has_text=label).first.click()
        choice = page.get_by_role("option", name=option, exact=True).first
        try:
            choice.wait_for(timeout=5_000)
            choice.click()
            break
        except Exception:
            if attempt == 3:
                raise
            page.keyboard.press("Escape")
            wait_for_app(page)
    wait_for_app(page)


def open_split(page) -> None:
    """Open the split dialog (an expander under the target tree) unless it is open."""
    form = page.locator("[data-testid='stForm']", has_text="Split into").first
    if not form.is_visible():
        page.locator("[data-testid='stExpander'] summary", has_text="Split").first.click()
        form.wait_for()


def test_team_year_target_split_to_months_and_reps_with_bullet_and_workback(page, app_url, e2e_db_url):
    page.set_viewport_size({"width": 1440, "height": 1400})
    login(page, app_url, "manager1")
    page.locator("[data-testid='stSidebarNav'] a", has_text="Targets").first.click()
    wait_for_app(page)
    try:
        page.get_by_role("heading", name="Targets").wait_for()
    except Exception:
        screenshot(page, "goals-failed.png")
        raise
    engine = make_engine(e2e_db_url)
    with read_scope(engine) as s:
        team_id = s.scalar(select(User.team_id).where(User.username == "manager1"))
        year = max(s.scalars(select(Target.period_start).where(Target.period_kind == "year")).all()).year + 1
    # set the team's target for next year
    page.get_by_role("tab", name="Set a target").click()
    wait_for_app(page)
    period = page.locator("[data-testid='stTextInput']", has_text="Period").locator("input").first
    period.fill(str(year))
    period.press("Enter")
    wait_for_app(page)
    form = page.locator("[data-testid='stForm']", has_text="Basis notes")
    form.get_by_label("Target").fill("1200000.01")
    form.get_by_role("button", name="Set a target").click()
    wait_for_app(page)
    page.get_by_text("Target #").first.wait_for()
    # follow it on the tracking tab and split it
    page.get_by_role("tab", name="Attainment").click()
    wait_for_app(page)
    pick(page, "Fiscal year", str(year))
    open_split(page)
    pick(page, "Weights", "Equal")
    page.locator("[data-testid='stForm']", has_text="Split into").get_by_role("button", name="Split").click()
    wait_for_app(page)
    page.get_by_text("Split into 12 parts").wait_for()
    open_split(page)
    pick(page, "Split into", "Reps")
    pick(page, "Weights", "Capacity")
    page.locator("[data-testid='stForm']", has_text="Split into").get_by_role("button", name="Split").click()
    wait_for_app(page)
    page.get_by_text("Split into", exact=False).first.wait_for()
    with read_scope(engine) as s:
        team_year = s.scalar(select(Target).where(Target.scope == "team", Target.team_id == team_id,
                                                  Target.period_kind == "year", Target.period_start >= Target.period_start,
                                                  Target.value == Decimal("1200000.01")))
        parts = s.scalars(select(Target).where(Target.parent_id == team_year.id)).all()
    engine.dispose()
    months = [p for p in parts if p.period_kind == "month"]
    reps = [p for p in parts if p.scope == "user"]
    assert len(months) == 12 and sum(p.value for p in months) == Decimal("1200000.01")
    assert reps and sum(p.value for p in reps) == Decimal("1200000.01")
    # the bullet chart and the work-back table beside the target
    page.locator("[data-testid='stVegaLiteChart'], [data-testid='stArrowVegaLiteChart']").first.wait_for()
    page.locator("canvas, svg.marks").first.wait_for()
    page.get_by_text("Work back").first.wait_for()
    page.get_by_text("Per rep per week").first.wait_for(state="attached")  # a header of the work-back table
    screenshot(page, "goals.png")
    # the team's year as a reps × months grid, with its totals row
    page.get_by_role("tab", name="Team year grid (reps × months)").click()
    wait_for_app(page)
    grid = page.frame_locator("iframe[title='st_aggrid.AgGrid.agGrid']")
    grid.locator(".ag-row").first.wait_for()
    grid.locator(".ag-floating-bottom .ag-row").first.wait_for()  # the totals row
    page.wait_for_timeout(500)
    screenshot(page, "goals-grid.png")
