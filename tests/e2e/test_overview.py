"""Sign in through the real browser and see the Overview with real numbers and its chart."""

import pytest
from sqlalchemy import select

from services import settings
from services.access import Actor
from services.analytics import overview_kpis
from services.clock import company_today
from services.db import make_engine, read_scope
from services.models import User
from services.periods import period_for
from tests.e2e.conftest import login, screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def test_sign_in_and_see_overview_with_chart(page, app_url, e2e_db_url):
    page.set_viewport_size({"width": 1440, "height": 1150})
    login(page, app_url, "director")
    # the landing page shows KPI cards and the Altair trend chart (a Vega canvas/svg)
    page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
    assert page.locator("[data-testid='stMetric']").count() >= 6
    chart = page.locator("[data-testid='stVegaLiteChart'], [data-testid='stArrowVegaLiteChart']").first
    chart.wait_for(timeout=60_000)
    page.locator("canvas, svg.marks").first.wait_for(timeout=60_000)
    # the won / lost card shows the service's counts for the director's default view (this
    # month, everyone)
    engine = make_engine(e2e_db_url)
    with read_scope(engine) as s:
        director = Actor.from_user(s.scalar(select(User).where(User.username == "director")))
        today = company_today(s)
        k = overview_kpis(s, director, period=period_for("month", today, settings.get(s, "fiscal_year_start_month")),
                          scope="all", today=today)
    engine.dispose()
    card = page.locator("[data-testid='stMetric']", has_text="Deals won / lost").first
    assert card.locator("[data-testid='stMetricValue']").inner_text().strip() == f"{k.won_count:,} / {k.lost_count:,}"
    wait_for_app(page)
    screenshot(page, "overview.png")


def test_refresh_keeps_user_signed_in_and_logout_ends_it(page, app_url):
    login(page, app_url, "rep1")
    page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
    page.reload()
    wait_for_app(page)
    # still signed in: no password field, the overview is back
    page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
    assert page.locator("input[type='password']").count() == 0
    signed_in_url = page.url
    assert "s=" in signed_in_url
    # sign out: back to the sign-in form, and the old URL no longer signs anyone in
    page.get_by_role("button", name="Sign out").click()
    page.locator("input[type='password']").first.wait_for(timeout=30_000)
    page.goto(signed_in_url)
    wait_for_app(page)
    page.locator("input[type='password']").first.wait_for(timeout=30_000)
    assert page.locator("[data-testid='stMetric']").count() == 0


def test_wrong_password_is_refused(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    page.locator("[data-testid='stTextInput'] input:not([type='password'])").first.fill("rep2")
    page.locator("input[type='password']").first.fill("not-the-password")
    page.locator("[data-testid='stFormSubmitButton'] button, [data-testid='stBaseButton-secondaryFormSubmit'], [data-testid='stBaseButton-primaryFormSubmit']").first.click()
    wait_for_app(page)
    page.wait_for_selector("[data-testid='stAlert']", timeout=30_000)
    assert page.locator("input[type='password']").count() == 1
