"""AppTest of the Contracts page as rep and manager: lists show the service's figures; a
contract from a won deal, installments (over the amount rejected), a payment (over what is
due rejected) and the derived status in the plan."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from services import settings
from services.contracts import collection_by_rep, create_contract_from_deal
from services.db import make_engine, read_scope, session_scope
from services.i18n import format_percent
from services.models import Contract, Deal, Payment, PaymentPlan, Stage
from services.periods import local_today
from tests.pages.conftest import open_page, rerun

PAGE = "pages/contracts.py"


def won_deals(eng, owner):
    with read_scope(eng) as s:
        return s.scalars(select(Deal.id).join(Stage, Stage.id == Deal.stage_id)
                         .where(Stage.kind == "won", Deal.owner_id == owner.id).order_by(Deal.id)).all()


@pytest.mark.parametrize("role", ["rep", "manager", "director", "admin"])
def test_page_runs(small_company, role):
    at = open_page(PAGE, small_company[1][role])
    assert at.title[0].value == "Contracts & collections"


def test_contract_plan_and_payment_flow(small_company):
    url, actors = small_company
    eng = make_engine(url)
    rep = actors["rep"]
    at = open_page(PAGE, rep)
    deal_id = won_deals(eng, rep)[0]
    at.selectbox(key="contract_new_deal").select_index(
        at.selectbox(key="contract_new_deal").options.index(
            next(o for o in at.selectbox(key="contract_new_deal").options if o.endswith("Deal 002"))))
    rerun(at, next(b for b in at.button if b.label == "New contract from a won deal"))
    with session_scope(eng) as s:
        contract = s.scalars(select(Contract).where(Contract.deal_id == deal_id)).one()
        cid, amount = contract.id, contract.amount
    assert amount == Decimal("3000.00")
    at.run()
    assert at.selectbox(key="contract_selected").value == cid
    # an installment over the contract amount is rejected and the input stays
    today = local_today()
    at.date_input(key="contract_plan_due").set_value(today + timedelta(days=10))
    at.number_input(key="contract_plan_amount").set_value(3000.01)
    rerun(at, next(b for b in at.button if b.label == "Add installment"))
    assert any("exceed the contract amount" in c.value for c in at.caption)
    assert at.number_input(key="contract_plan_amount").value == pytest.approx(3000.01)
    at.number_input(key="contract_plan_amount").set_value(1000.0)
    rerun(at, next(b for b in at.button if b.label == "Add installment"))
    assert "Installment added" in [m.value for m in at.success]
    with session_scope(eng) as s:
        assert s.scalar(select(func.count()).select_from(PaymentPlan).where(PaymentPlan.contract_id == cid)) == 1
    # a payment over the installment is rejected; a partial one is recorded
    at.number_input(key="contract_pay_amount").set_value(1500.0)
    rerun(at, next(b for b in at.button if b.label == "Record payment"))
    assert any("more than what is due" in c.value and "at most ¥1,000" in c.value for c in at.caption)  # money as shown
    at.number_input(key="contract_pay_amount").set_value(400.0)
    rerun(at, next(b for b in at.button if b.label == "Record payment"))
    assert "Payment recorded" in [m.value for m in at.success]
    with session_scope(eng) as s:
        assert s.scalar(select(func.sum(Payment.amount)).where(Payment.contract_id == cid)) == Decimal("400")
    plan_tables = [df.value for df in at.dataframe if "Installment" in df.value.columns and "Paid" in df.value.columns]
    assert any("Partially paid" in t["Status"].tolist() for t in plan_tables)


def test_collection_by_rep_matches_service(small_company):
    url, actors = small_company
    eng = make_engine(url)
    manager = actors["manager"]
    other = actors["other_rep"]
    with session_scope(eng) as s:
        today = local_today(settings.get(s, "timezone"))
        did = won_deals(eng, other)[0]
        create_contract_from_deal(s, other, deal_id=did, signed_on=today - timedelta(days=2), term_months=6)
    at = open_page(PAGE, manager, contract_tab="by_rep")  # (closed tabs are not drawn)
    with session_scope(eng) as s:
        expected = collection_by_rep(s, manager, today=today)
    table = next(df.value for df in at.dataframe if "Collection ratio" in df.value.columns
                 and "Contracts" in df.value.columns)
    assert table["Collection ratio"].tolist() == [format_percent(r, "en") for r in expected["collection_ratio"]]
    assert len(table) == len(expected) >= 1


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_demo_company_collections_match_service(demo_db_url, demo_actors, role):
    actor = demo_actors[role]
    at = open_page(PAGE, actor, contract_tab="by_rep")
    with session_scope(make_engine(demo_db_url)) as s:
        today = local_today(settings.get(s, "timezone"))
        expected = collection_by_rep(s, actor, today=today)
    table = next(df.value for df in at.dataframe if "Collection ratio" in df.value.columns
                 and "Contracts" in df.value.columns)
    assert table["Collection ratio"].tolist() == [format_percent(r, "en") for r in expected["collection_ratio"]]


def test_collection_lists_are_read_when_their_tab_opens(small_company, monkeypatch):
    """A first visit (the contract list) reads none of the four collection lists; opening one
    of their tabs reads that list only."""
    import services.contracts as svc

    calls: list[str] = []
    for name in ("due_installments", "overdue_installments", "payments_received", "collection_by_rep"):
        real = getattr(svc, name)
        monkeypatch.setattr(svc, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    at = open_page(PAGE, small_company[1]["manager"])
    assert not at.exception and calls == []
    at.session_state["contract_tab"] = "overdue"
    rerun(at)
    assert calls == ["overdue_installments"]
