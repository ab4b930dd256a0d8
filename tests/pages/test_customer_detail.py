"""AppTest of the customer 360 page: every role on the demo company (runs, shows the
service's numbers, refuses other reps' customers) and the write paths (contacts, tickets)
plus plain-text rendering of hostile names on ``org_company`` (conftest) with a few rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from services import customer360
from services.access import Actor, visible_user_ids
from services.customers import _norm_columns
from services.db import make_engine, session_scope
from services.i18n import format_money, t
from services.models import Contact, Customer, Deal, Product, ServiceTicket, User
from tests.pages.conftest import open_page, rerun, shown_text

PAGE = "pages/customer_detail.py"


def start(actor, customer_id=None, locale="en") -> AppTest:
    state = {} if customer_id is None else {"customer_id": customer_id}
    return open_page(PAGE, actor, locale=locale, **state)


def metrics(at: AppTest) -> dict[str, str]:
    """label → value of the header metrics (the first metric with each label)."""
    out: dict[str, str] = {}
    for m in at.metric:
        out.setdefault(m.label, m.value)
    return out


def _customer_of(url, actor):
    eng = make_engine(url)
    with session_scope(eng) as s:
        rows = customer360.find_customers(s, actor, search="", limit=500)
        for cid, _ in rows:
            c = s.get(Customer, cid)
            if c.owner_id == actor.id:
                prof = customer360.customer_profile(s, actor, customer_id=cid)
                eng.dispose()
                return cid, prof
    eng.dispose()
    pytest.skip("no customer owned by this user in the demo data")


@pytest.mark.parametrize("role", ["rep", "manager", "director", "admin"])
def test_picker_when_no_customer_is_chosen(demo_db_url, demo_actors, role):
    at = start(demo_actors[role])
    assert at.title[0].value == "Customer 360"
    assert "Choose a customer" in shown_text(at)
    at.text_input(key="c360_search").set_value("a")
    rerun(at)
    assert not at.exception


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_numbers_are_the_services_numbers(demo_db_url, demo_actors, role):
    actor = demo_actors[role]
    if role == "manager":  # a customer of a rep in the manager's teams
        eng = make_engine(demo_db_url)
        with session_scope(eng) as s:
            team_rep = s.scalar(select(Customer.owner_id).where(
                Customer.owner_id.in_(sorted(visible_user_ids(s, actor) - {actor.id}))).limit(1))
            rep_actor = Actor.from_user(s.get(User, team_rep))
        eng.dispose()
        cid, _ = _customer_of(demo_db_url, rep_actor)
        with session_scope(make_engine(demo_db_url)) as s:
            prof = customer360.customer_profile(s, actor, customer_id=cid)
    else:
        cid, prof = _customer_of(demo_db_url, demo_actors["rep"])
    at = start(actor, cid)
    shown_metrics = metrics(at)
    assert shown_metrics["Lifetime value (estimate)"] == format_money(prof.clv.value, "en")
    assert shown_metrics["Won revenue"] == format_money(prof.totals["won_amount"], "en")
    assert shown_metrics["Open pipeline"] == format_money(prof.totals["open_pipeline"], "en")
    assert len(at.tabs) == 9
    assert prof.customer["name"] in shown_text(at)


def test_rep_cannot_open_another_reps_customer(demo_db_url, demo_actors):
    eng = make_engine(demo_db_url)
    rep = demo_actors["rep"]
    with session_scope(eng) as s:
        other = s.scalars(select(Customer.id).where(Customer.owner_id.is_not(None), Customer.owner_id != rep.id)
                          ).first()
    eng.dispose()
    at = start(rep, other)
    assert "does not exist or you may not see it" in shown_text(at)
    assert not at.metric


# ---------------------------------------------------------------------------
# writes on a small company


@pytest.fixture
def company(org_company):
    url, eng, org = org_company
    with session_scope(eng) as s:
        values = {"name": "<img src=x onerror=alert(1)>", "phone": "13800000000"}
        c = Customer(owner_id=org.rep_n1.id, notes="**bold** [link](http://evil)", **values,
                     **_norm_columns(values))
        s.add(c)
        p = Product(name="Widget", list_price=Decimal("1000"), unit_cost=Decimal("250"))
        s.add(p)
        s.flush()
        s.add(Deal(name="Big one", customer_id=c.id, owner_id=org.rep_n1.id, stage_id=org.stages["Won"],
                   amount=Decimal("40000"), product_id=p.id, closed_on=date(2026, 11, 1)))
        pool = Customer(name="Pool Co", name_norm="pool", owner_id=None, phone="13900000000")
        s.add(pool)
        s.flush()
        ids = (c.id, pool.id)
    return url, eng, org, ids


def test_hostile_name_and_notes_are_plain_text(company):
    _, eng, org, (cid, _) = company
    at = start(org.rep_n1, cid)
    assert at.title[0].value == r"\<img src\=x onerror\=alert\(1\)\>"  # escaped markdown, shown as typed
    assert any(t.value == "**bold** [link](http://evil)" for t in at.text)
    # CLV: 40,000 won over at least one year × margin 75% × 3 years = 90,000
    assert metrics(at)["Lifetime value (estimate)"] == format_money(Decimal("90000"), "en")
    assert "¥90,000.00" in [m.value for m in at.metric]  # the CLV tab shows it in full


def test_add_contact_keeps_input_on_error_then_saves(company):
    _, eng, org, (cid, _) = company
    at = start(org.rep_n1, cid)
    name, title, phone, email = [ti for ti in at.text_input if ti.form_id == "c360_contact_new"]
    name.set_value("Li Lei")
    phone.set_value("123")
    submit = next(b for b in at.get("form_submit_button") if b.form_id == "c360_contact_new")
    rerun(at, submit)
    assert f"**{t('customer360.contact_phone', 'en')}**:" in shown_text(at)  # the field is named
    name = next(ti for ti in at.text_input if ti.form_id == "c360_contact_new")
    assert name.value == "Li Lei"  # the typing stays
    with session_scope(eng) as s:
        assert s.scalars(select(Contact)).all() == []
    [ti for ti in at.text_input if ti.form_id == "c360_contact_new"][2].set_value("13812345678")
    rerun(at, next(b for b in at.get("form_submit_button") if b.form_id == "c360_contact_new"))
    with session_scope(eng) as s:
        contact = s.scalars(select(Contact)).one()
        assert (contact.name, contact.phone, contact.is_primary) == ("Li Lei", "13812345678", True)


def test_open_and_resolve_a_ticket(company):
    _, eng, org, (cid, _) = company
    at = start(org.rep_n1, cid)
    submits = at.get("form_submit_button")
    ticket_form = next(b for b in submits if b.form_id == "c360_ticket_new")
    title_input = next(ti for ti in at.text_input if ti.form_id == "c360_ticket_new")
    title_input.set_value("Screen flickers")
    rerun(at, ticket_form)
    with session_scope(eng) as s:
        tk = s.scalars(select(ServiceTicket)).one()
        assert (tk.title, tk.status) == ("Screen flickers", "open")
    at.selectbox(key="c360_ticket").set_value(tk.id)
    rerun(at)
    resolve = next(b for b in at.get("form_submit_button") if b.form_id.startswith("c360_resolve"))
    next(ta for ta in at.text_area if ta.form_id.startswith("c360_resolve")).set_value("Replaced the cable")
    rerun(at, resolve)
    # no rating chosen: refused with the field named in the user's language, nothing written
    assert f"**{t('tickets.satisfaction', 'en')}**: {t('err.required', 'en')}" in shown_text(at)
    with session_scope(eng) as s:
        assert s.get(ServiceTicket, tk.id).status == "open"
    next(r for r in at.radio if r.form_id.startswith("c360_resolve")).set_value(5)
    resolve = next(b for b in at.get("form_submit_button") if b.form_id.startswith("c360_resolve"))
    rerun(at, resolve)
    with session_scope(eng) as s:
        tk = s.get(ServiceTicket, tk.id)
        assert (tk.status, tk.satisfaction, tk.resolution) == ("resolved", 5, "Replaced the cable")


def test_pool_customer_hides_private_details_from_a_rep(company):
    _, eng, org, (_, pool_id) = company
    at = start(org.rep_n2, pool_id)
    text = shown_text(at)
    assert "claim this customer" in text and "13900000000" not in text
    assert not at.get("form_submit_button")  # nothing to edit before claiming
    mgr = start(org.manager_n, pool_id)
    assert "13900000000" in shown_text(mgr)


def test_chinese_labels(company):
    _, eng, org, (cid, _) = company
    at = start(org.rep_n1, cid, locale="zh_CN")
    assert "客户终身价值（估算）" in {m.label for m in at.metric}
