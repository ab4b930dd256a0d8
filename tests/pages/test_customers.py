"""AppTest of the Customers page as rep and manager: it runs, shows the service's total,
keeps the user's edits with a message when a save fails, saves good edits, and runs bulk
actions within the role's rights.

Runs on ``org_company`` (conftest) plus a few customers. The grid itself is a
component AppTest cannot click into, so edits are put where the grid's returned rows go
(the page's working rows), exactly as the page does after a failed save.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services import customers as cs
from services.db import session_scope
from services.models import Customer
from tests.pages.conftest import open_page, rerun, shown_text

PAGE = "pages/customers.py"


@pytest.fixture
def company(org_company):
    _, eng, org = org_company
    with session_scope(eng) as s:
        for i, rep in enumerate([org.rep_n1, org.rep_n1, org.rep_n2, org.rep_s1]):
            values = {"name": f"Customer {i}", "email": f"c{i}@example.com"}
            s.add(Customer(owner_id=rep.id, tier="B", **values, **cs._norm_columns(values)))
        s.add(Customer(name="<img src=x onerror=alert(1)>", name_norm="imgsrcx", owner_id=org.rep_n1.id))
        s.add(Customer(name="Pool Co", name_norm="poolco", owner_id=None, phone="13800000000"))
    return org_company


def service_total(eng, actor, **flt) -> int:
    with session_scope(eng) as s:
        return cs.list_customers_page(s, actor, filters=cs.CustomerFilter(**flt), page_size=1)[1]


def save_with_edit(at, name: str, **changes) -> dict:
    """Edit the row called ``name`` as the grid would return it, then press Save; returns the
    edited row."""
    rows = [dict(r) for r in at.session_state["cust_sent"]]
    target = next(r for r in rows if r["name"] == name)
    target.update(changes)
    at.session_state["cust_work"] = rows
    rerun(at, at.button(key="cust_save"))
    return target


@pytest.mark.parametrize("role", ["rep", "manager", "director"])
def test_page_runs_and_shows_the_service_total(company, role):
    _, eng, org = company
    actor = {"rep": org.rep_n1, "manager": org.manager_n, "director": org.director}[role]
    at = open_page(PAGE, actor)
    assert at.title[0].value == "Customers"
    want = service_total(eng, actor, in_pool=False)
    assert f"Customers: {want:,}" in shown_text(at)
    assert len(at.session_state["cust_sent"]) == want
    # only managers get the reassign control
    keys = {b.key for b in at.button}
    assert ("cust_reassign" in keys) == (role != "rep")


def test_chinese_page(company):
    _, eng, org = company
    at = open_page(PAGE, org.rep_n1, locale="zh_CN")
    assert at.title[0].value == "客户"


def test_failed_save_keeps_edits_and_marks_the_row(company):
    _, eng, org = company
    at = open_page(PAGE, org.rep_n1)
    target = save_with_edit(at, "Customer 0", email="not-an-email")
    shown = shown_text(at)
    assert "Nothing was saved" in shown and "is not a valid email address" in shown
    # the edit is still there to correct, and the row carries its message
    work = at.session_state["cust_work"]
    assert next(r for r in work if r["id"] == target["id"])["email"] == "not-an-email"
    assert target["id"] in at.session_state["cust_errors"]
    with session_scope(eng) as s:
        assert s.get(Customer, target["id"]).email == "c0@example.com"


def test_good_save_is_written_and_the_grid_reloads(company):
    _, eng, org = company
    at = open_page(PAGE, org.rep_n1)
    target = save_with_edit(at, "Customer 1", region="East")
    assert "Saved: 0 created, 1 updated, 0 archived" in shown_text(at)
    with session_scope(eng) as s:
        row = s.get(Customer, target["id"])
        assert row.region == "East" and row.version == 2
    assert "cust_work" not in at.session_state
    assert next(r for r in at.session_state["cust_sent"] if r["id"] == target["id"])["version"] == 2


def test_add_row_then_save_without_a_name_is_refused(company):
    _, eng, org = company
    at = open_page(PAGE, org.rep_n1)
    with session_scope(eng) as s:
        before = s.scalar(select(func.count()).select_from(Customer))
    rerun(at, at.button(key="cust_add"))
    assert at.session_state["cust_work"][0]["_key"] == "new-1"
    rerun(at, at.button(key="cust_save"))
    assert "is required" in shown_text(at) and "new-1" in at.session_state["cust_errors"]
    with session_scope(eng) as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == before


def test_duplicate_new_row_is_reported_with_owner_only(company):
    _, eng, org = company
    at = open_page(PAGE, org.rep_n1)
    rerun(at, at.button(key="cust_add"))
    work = [dict(r) for r in at.session_state["cust_work"]]
    work[0]["name"] = "CUSTOMER 2"  # rep_n2's customer: name hidden, owner shown
    at.session_state["cust_work"] = work
    rerun(at, at.button(key="cust_save"))
    shown = shown_text(at)
    assert "matches a customer owned by Rep_N2" in shown
    assert "cust_override" not in {b.key for b in at.button}  # reps cannot override


def test_pool_view_and_claim(company, monkeypatch):
    from dashboard import state

    monkeypatch.setattr(state, "POLL_SECONDS", 0.0)  # the claim below writes outside the page, as another server would
    _, eng, org = company
    at = open_page(PAGE, org.rep_n1)
    at.segmented_control(key="cust_view").set_value("pool")
    rerun(at)
    sent = at.session_state["cust_sent"]
    assert [r["name"] for r in sent] == ["Pool Co"] and sent[0]["phone"] is None
    assert "Pool rules" in shown_text(at)
    # claim through the service the button calls (the grid selection is browser-only); the
    # page then shows it in the rep's own list and no longer in the pool
    with session_scope(eng) as s:
        cs.claim_from_pool(s, org.rep_n1, ids=[sent[0]["id"]])
    from dashboard.state import _version_box

    _version_box()["checked"] = float("-inf")  # as POLL_SECONDS later: the next run looks at the database
    rerun(at)
    assert [r["name"] for r in at.session_state["cust_sent"]] == []
    at.segmented_control(key="cust_view").set_value("mine")
    rerun(at)
    mine = {r["name"]: r for r in at.session_state["cust_sent"]}
    assert "Pool Co" in mine and mine["Pool Co"]["owner_id"] == org.rep_n1.id
