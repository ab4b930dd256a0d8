"""In the real browser a director opens the company plan: progress strip, the milestone
Gantt chart (today's line, overdue red) and budget vs spent."""

import pytest

from tests.e2e.conftest import login, screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def test_plan_timeline_and_budget_render(page, app_url):
    page.set_viewport_size({"width": 1440, "height": 1300})
    login(page, app_url, "director")
    page.locator("[data-testid='stSidebarNav'] a", has_text="Sales plans").first.click()
    wait_for_app(page)
    page.get_by_role("heading", name="Sales plans").wait_for()
    assert page.locator("[data-testid='stMetric']", has_text="Milestones done").count() == 1
    page.get_by_role("tab", name="Timeline").click()
    wait_for_app(page)
    page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first.wait_for()
    screenshot(page, "plans-timeline.png")
    page.get_by_role("tab", name="Resources").click()
    wait_for_app(page)
    page.get_by_text("Money").first.wait_for()
    screenshot(page, "plans-resources.png")
