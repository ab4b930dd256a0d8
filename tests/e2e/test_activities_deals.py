"""Activities and deals in a real browser (Chromium through Playwright):

- log a planned activity for today through the quick log form → it shows in the agenda
  ("Today"), in the timeline under the form and on the customer page's timeline;
- move a deal on the pipeline board → after a reload the card sits in the new stage's
  column, and the database has the new stage and a history row.

Uses the e2e fixtures of tests/e2e/conftest.py (``app_url`` over the demo company,
``e2e_db_url``, ``page``, ``login``).
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from services.db import make_engine, read_scope, session_scope
from services.models import Activity, Customer, Deal, DealHistory, Stage, User
from tests.e2e.conftest import login, screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def open_page(page, name: str) -> None:
    page.locator("[data-testid='stSidebarNav'] a", has_text=name).first.click()
    wait_for_app(page)
    page.get_by_role("heading", name=name).first.wait_for()


def choose(page, container, option: str) -> None:
    """Pick ``option`` in a Streamlit selectbox inside ``container``."""
    container.locator("[data-testid='stSelectbox']").first.click()
    page.get_by_role("option", name=option, exact=True).first.click()


def test_log_activity_shows_in_agenda_and_timeline(page, app_url, e2e_db_url):
    engine = make_engine(e2e_db_url)
    with session_scope(engine) as s:
        rep_id = s.scalar(select(User.id).where(User.username == "rep1"))
        customer_id, customer_name = s.execute(
            select(Customer.id, Customer.name).where(Customer.owner_id == rep_id, Customer.archived.is_(False))
            .order_by(Customer.name)).first()
        before = s.scalar(select(func.count()).select_from(Activity).where(Activity.customer_id == customer_id))
    marker = f"E2E plan {uuid.uuid4().hex[:8]}"

    login(page, app_url, "rep1")
    open_page(page, "Activities")
    log_tab = page.locator("[data-testid='stTabPanel']").first
    log_tab.get_by_label("Find customer").fill(customer_name)
    log_tab.get_by_label("Find customer").press("Enter")
    wait_for_app(page)
    choose(page, page.locator(".st-key-act_log_customer"), customer_name)
    wait_for_app(page)
    form = page.locator("[data-testid='stForm']").first
    form.get_by_text("Planned", exact=True).click()  # planned today, at the default time (now)
    form.get_by_label("Next step").fill(marker)
    form.get_by_label("Notes").fill(marker)
    form.get_by_role("button", name="Save activity").click()
    wait_for_app(page)
    page.get_by_text("Activity saved").wait_for()
    # the form cleared; the timeline under it shows the new activity
    assert form.get_by_label("Next step").input_value() == ""
    page.locator("[data-testid='stTable']", has_text=marker).first.wait_for()

    with session_scope(engine) as s:
        rows = s.scalars(select(Activity).where(Activity.customer_id == customer_id)).all()
        assert len(rows) == before + 1
        new = next(r for r in rows if r.notes == marker)
        assert new.done_at is None and new.planned_at is not None and new.owner_id == rep_id

    # the agenda's "Today" lists it
    page.get_by_role("tab", name="My agenda").click()
    agenda = page.locator("[data-testid='stTabPanel']").nth(1)
    agenda.get_by_text(marker).first.wait_for()
    screenshot(page, "activities_agenda.png")

    # the customer page's timeline lists it too
    token = parse_qs(urlparse(page.url).query).get("s", [""])[0]
    page.goto(f"{app_url}/customer_detail?id={customer_id}&s={token}")
    wait_for_app(page)
    page.get_by_role("tab", name="Timeline").first.click()
    wait_for_app(page)
    page.locator("[data-testid='stDataFrame']", has_text=marker).first.wait_for(timeout=30_000)


def test_move_deal_on_board_persists(page, app_url, e2e_db_url):
    engine = make_engine(e2e_db_url)
    with read_scope(engine) as s:
        rep_id = s.scalar(select(User.id).where(User.username == "rep1"))
        open_stages = s.execute(select(Stage.id, Stage.name).where(Stage.kind == "open", Stage.active.is_(True))
                                .order_by(Stage.sequence)).all()
        counts = dict(s.execute(select(Deal.stage_id, func.count()).where(Deal.owner_id == rep_id)
                                .group_by(Deal.stage_id)).all())
        # the biggest deal of the fullest stage goes to the emptiest one, so both cards are on screen
        source = max(open_stages, key=lambda st_: counts.get(st_.id, 0))
        target = min((st_ for st_ in open_stages if st_.id != source.id), key=lambda st_: counts.get(st_.id, 0))
        deal_id = s.scalar(select(Deal.id).where(Deal.owner_id == rep_id, Deal.stage_id == source.id)
                           .order_by(func.coalesce(Deal.amount, -1).desc(), Deal.id))
    assert deal_id is not None, "rep1 has open deals in the demo"

    login(page, app_url, "rep1")
    open_page(page, "Deals")
    card = page.locator(f".st-key-deal_card_{deal_id}")
    card.wait_for()
    choose(page, card, target.name)
    card.get_by_role("button", name="Move").click()
    wait_for_app(page)
    page.get_by_text(f"Deal moved to {target.name}").wait_for()

    page.reload()
    wait_for_app(page)
    moved = page.locator(f".st-key-deal_card_{deal_id}")
    moved.wait_for()
    column = page.locator("[data-testid='stColumn']", has=moved).first
    assert f"{target.name} ·" in column.inner_text()
    screenshot(page, "deals_board.png")

    with session_scope(engine) as s:
        assert s.get(Deal, deal_id).stage_id == target.id
        last = s.execute(select(DealHistory.old_value, DealHistory.new_value)
                         .where(DealHistory.deal_id == deal_id, DealHistory.field == "stage")
                         .order_by(DealHistory.changed_at.desc(), DealHistory.id.desc())).first()
        assert tuple(last) == (str(source.id), str(target.id))
