"""The customer grid in a real browser (Chromium through Playwright): edit a cell, save,
reload — the value is still there; an invalid email gets a message and the edit stays in
the grid; a name with HTML renders as text and runs nothing.

Uses the e2e fixtures of tests/e2e/conftest.py (``app_url`` over the demo company,
``page``, ``login``). The grid (AG Grid) lives in the component's iframe.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import login, screenshot, wait_for_app

pytestmark = pytest.mark.e2e

XSS = "<img src=x onerror=alert(1)>"


def open_customers(page, app_url: str, username: str = "rep1"):
    login(page, app_url, username)
    page.get_by_role("link", name="Customers").first.click()
    wait_for_app(page)
    page.get_by_role("heading", name="Customers").wait_for()
    frame = page.frame_locator("iframe[title='st_aggrid.AgGrid.agGrid']")
    frame.locator(".ag-row").first.wait_for()
    return frame


def row_index(frame, name: str) -> str:
    cell = frame.locator(".ag-pinned-left-cols-container [col-id='name']", has_text=name).first
    cell.wait_for()
    return cell.locator("xpath=..").get_attribute("row-index")  # the cell's parent is its row


def cell(frame, idx: str, col: str):
    return frame.locator(f".ag-row[row-index='{idx}'] [col-id='{col}']").first


def first_name(frame) -> str:
    return frame.locator(".ag-pinned-left-cols-container .ag-row[row-index='0'] [col-id='name']").inner_text().strip()


def edit_cell(page, frame, idx: str, col: str, value: str, *, press_enter: bool = True) -> None:
    """Type into a cell; without Enter the edit is left open (the Save click commits it)."""
    target = cell(frame, idx, col)
    target.scroll_into_view_if_needed()
    target.dblclick()
    editor = target.locator("input").first
    editor.wait_for()
    editor.fill(value)
    if press_enter:
        editor.press("Enter")
        wait_for_app(page)  # the edit reruns the script (cellValueChanged)


def save(page) -> None:
    # a human press (~150 ms): the grid commits an open editor when it loses focus on
    # mouse-down, and the app reruns; a zero-length synthetic click can be lost in that rerun
    page.get_by_role("button", name="Save changes").click(delay=150)
    wait_for_app(page)


def test_edit_save_reload_keeps_the_value(page, app_url):
    frame = open_customers(page, app_url)
    name = first_name(frame)
    idx = row_index(frame, name)
    edit_cell(page, frame, idx, "region", "Edited Region 42", press_enter=False)
    save(page)  # clicking outside the grid ends the edit before the save runs
    page.get_by_text(re.compile(r"Saved: 0 created, 1 updated")).wait_for()
    page.reload()
    wait_for_app(page)
    frame = page.frame_locator("iframe[title='st_aggrid.AgGrid.agGrid']")
    frame.locator(".ag-row").first.wait_for()
    idx = row_index(frame, name)
    assert cell(frame, idx, "region").inner_text().strip() == "Edited Region 42"


def test_invalid_email_shows_message_and_keeps_the_edit(page, app_url):
    frame = open_customers(page, app_url)
    name = first_name(frame)
    idx = row_index(frame, name)
    edit_cell(page, frame, idx, "email", "not-an-email")
    save(page)
    page.get_by_text("Nothing was saved. Fix the marked rows and save again.").wait_for()
    page.get_by_text(re.compile("is not a valid email address")).first.wait_for()
    frame = page.frame_locator("iframe[title='st_aggrid.AgGrid.agGrid']")
    idx = row_index(frame, name)
    assert cell(frame, idx, "email").inner_text().strip() == "not-an-email"
    assert "is not a valid email address" in cell(frame, idx, "_error").inner_text()
    # after a reload nothing was stored
    page.reload()
    wait_for_app(page)
    frame = page.frame_locator("iframe[title='st_aggrid.AgGrid.agGrid']")
    idx = row_index(frame, name)
    assert cell(frame, idx, "email").inner_text().strip() != "not-an-email"


def test_html_in_a_name_is_shown_as_text(page, app_url):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    frame = open_customers(page, app_url)
    page.get_by_role("button", name="Add row").click()
    wait_for_app(page)
    frame = page.frame_locator("iframe[title='st_aggrid.AgGrid.agGrid']")
    edit_cell(page, frame, "0", "name", XSS)
    save(page)
    page.get_by_text(re.compile(r"Saved: 1 created")).wait_for()
    search = page.get_by_label("Search name / phone / email / credit code")
    search.fill("onerror")
    search.press("Enter")
    wait_for_app(page)
    page.get_by_text(re.compile(r"^Customers: 1$")).first.wait_for()
    frame = page.frame_locator("iframe[title='st_aggrid.AgGrid.agGrid']")
    shown = frame.locator(".ag-pinned-left-cols-container [col-id='name']", has_text="<img").first
    shown.wait_for()
    assert shown.inner_text().strip() == XSS
    assert frame.locator(".ag-root img").count() == 0
    page.wait_for_timeout(500)
    assert dialogs == []


def test_select_rows_and_release_to_pool(page, app_url):
    frame = open_customers(page, app_url, "rep2")
    total_text = page.get_by_text(re.compile(r"^Customers: [\d,]+")).first.inner_text()
    before = int(re.search(r"Customers: ([\d,]+)", total_text).group(1).replace(",", ""))
    name = first_name(frame)
    idx = row_index(frame, name)
    frame.locator(f".ag-pinned-left-cols-container .ag-row[row-index='{idx}'] input[type='checkbox']").first.check()
    wait_for_app(page)
    page.get_by_text("1 selected", exact=False).first.wait_for()
    page.get_by_role("button", name="Release to pool").click(delay=100)
    wait_for_app(page)
    page.get_by_text("1 customer(s) updated").wait_for()
    page.get_by_text(re.compile(rf"^Customers: {before - 1:,}")).first.wait_for()
    # it is in the public pool now
    page.locator("[data-testid='stButtonGroup']").get_by_text("Public pool").click()
    wait_for_app(page)
    search = page.get_by_label("Search name / phone / email / credit code")
    search.fill(name)
    search.press("Enter")
    wait_for_app(page)
    frame = page.frame_locator("iframe[title='st_aggrid.AgGrid.agGrid']")
    frame.locator(".ag-pinned-left-cols-container [col-id='name']", has_text=name).first.wait_for()


def test_two_users_save_the_same_row_the_second_sees_the_conflict(browser, app_url):
    """Two browsers edit the same customer; the first save wins, the second is told beside
    the row what the other person saved — no traceback, and its own edit stays on screen."""
    contexts = [browser.new_context(locale="en-US", viewport={"width": 1440, "height": 1000}) for _ in range(2)]
    try:
        first, second = (c.new_page() for c in contexts)
        for p in (first, second):
            p.set_default_timeout(30_000)
        frames = [open_customers(p, app_url, "rep3") for p in (first, second)]
        name = first_name(frames[0])
        for p, frame, value in ((first, frames[0], "Theirs Region"), (second, frames[1], "Yours Region")):
            edit_cell(p, frame, row_index(frame, name), "region", value)
        save(first)
        first.get_by_text(re.compile(r"Saved: 0 created, 1 updated")).wait_for()
        save(second)
        second.get_by_text("Changed by someone else — nothing was saved").wait_for()
        frame = second.frame_locator("iframe[title='st_aggrid.AgGrid.agGrid']")
        idx = row_index(frame, name)
        problem = cell(frame, idx, "_error").inner_text()
        assert "Theirs Region" in problem and "Yours Region" in problem
        assert cell(frame, idx, "region").inner_text().strip() == "Yours Region"
        assert "Traceback" not in second.locator("body").inner_text()
    finally:
        for c in contexts:
            c.close()


def test_an_edit_is_kept_when_someone_else_saved_meanwhile(page, app_url, e2e_db_url):
    """Another user's write moves the data version while this rep's edit is still open in a
    cell; the Save click that commits it must save it (it used to reload the page rows first
    and answer "nothing to save", the typed value gone)."""
    from sqlalchemy import select

    from services.access import Actor
    from services.customers import create_customer
    from services.db import make_engine, session_scope
    from services.models import User

    frame = open_customers(page, app_url, "rep2")
    name = first_name(frame)
    idx = row_index(frame, name)
    engine = make_engine(e2e_db_url)
    with session_scope(engine) as s:  # someone else saves a new customer of their own
        u = s.scalars(select(User).where(User.username == "rep4")).one()
        create_customer(s, Actor(id=u.id, username=u.username, display_name=u.display_name, role=u.role,
                                 team_id=u.team_id), data={"name": "Meanwhile Trading Ltd"})
    engine.dispose()
    page.wait_for_timeout(2_500)  # past the data version's poll interval (dashboard.state)
    edit_cell(page, frame, idx, "region", "Kept Region 7", press_enter=False)
    save(page)
    try:
        page.get_by_text(re.compile(r"Saved: 0 created, 1 updated")).wait_for()
    except Exception:
        screenshot(page, "grid-kept-edit-failed.png")  # what the page said instead
        raise
    frame = page.frame_locator("iframe[title='st_aggrid.AgGrid.agGrid']")
    frame.locator(".ag-row").first.wait_for()
    assert cell(frame, row_index(frame, name), "region").inner_text().strip() == "Kept Region 7"
