"""Contracts and collections: numbering, status transitions, payment plans, payments,
derived installment status with a frozen ``today``, lists, ratios, access — on SQLite and
PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from services.contracts import (
    add_installment,
    collection_by_rep,
    create_contract_from_deal,
    due_installments,
    installments,
    list_contracts,
    list_customer_contracts,
    overdue_installments,
    overdue_summary,
    payments_received,
    plan_installments,
    record_payment,
    set_contract_status,
    split_amount,
)
from services.db import session_scope
from services.errors import ConflictError, NotFound, ValidationError
from services.models import Activity, Contract, Payment, PaymentPlan
from tests.services.test_activities import NOW, TODAY, make_customer, make_deal


def won_deal(engine, org, owner, name="Won deal", amount=Decimal("10000")) -> int:
    cid = make_customer(engine, owner, name=f"Customer of {name}")
    return make_deal(engine, org, owner, cid, stage="Won", amount=amount, closed_on=date(2026, 11, 1), name=name)


def new_contract(engine, org, owner=None, **kw) -> int:
    owner = owner or org.rep_n1
    did = won_deal(engine, org, owner, name=kw.pop("name", "Won deal"))
    with session_scope(engine) as s:
        c = create_contract_from_deal(s, owner, deal_id=did, signed_on=kw.pop("signed_on", date(2026, 11, 2)),
                                      term_months=12, now=NOW, **kw)
        return c.id


def count(engine, model) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_create_contract_numbers_and_signing_activity(engine, org):
    did = won_deal(engine, org, org.rep_n1)
    did2 = won_deal(engine, org, org.rep_n1, name="Second")
    with session_scope(engine) as s:
        c1 = create_contract_from_deal(s, org.rep_n1, deal_id=did, signed_on=date(2026, 11, 2), term_months=12, now=NOW)
    with session_scope(engine) as s:
        c2 = create_contract_from_deal(s, org.rep_n1, deal_id=did2, amount="8000", signed_on=date(2026, 11, 20),
                                       start_on=date(2026, 12, 1), term_months=3, now=NOW)
    assert (c1.number, c2.number) == ("HT-20261127-0001", "HT-20261127-0002")
    assert c1.amount == Decimal("10000.00") and c1.status == "signed" and c1.end_on == date(2027, 11, 1)
    assert c2.amount == Decimal("8000.00") and c2.end_on == date(2027, 2, 28)
    with session_scope(engine) as s:
        kinds = s.scalars(select(Activity.kind).where(Activity.deal_id == did)).all()
        assert kinds == ["contract_signing"]
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        create_contract_from_deal(s, org.rep_n1, deal_id=did, signed_on=date(2026, 11, 2), term_months=12, now=NOW)
    assert "deal_id" in exc.value.errors  # already has a contract


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"amount": "-10"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1e12"}, "amount"),
        ({"signed_on": date(2026, 12, 1)}, "signed_on"),
        ({"signed_on": date(2026, 9, 1)}, "signed_on"),
        ({"term_months": 0}, "term_months"),
        ({"start_on": date(2026, 10, 1)}, "start_on"),
    ],
)
def test_create_contract_rejects_bad_input(engine, org, kw, field):
    did = won_deal(engine, org, org.rep_n1)
    args = {"signed_on": date(2026, 11, 2), "term_months": 12} | kw
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        create_contract_from_deal(s, org.rep_n1, deal_id=did, now=NOW, **args)
    assert exc.value.errors.get(field)
    assert count(engine, Contract) == 0 and count(engine, Activity) == 0


def test_contract_needs_won_visible_deal(engine, org):
    cid = make_customer(engine, org.rep_n1)
    open_deal = make_deal(engine, org, org.rep_n1, cid)
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        create_contract_from_deal(s, org.rep_n1, deal_id=open_deal, signed_on=TODAY, term_months=1, now=NOW)
    assert "deal_id" in exc.value.errors
    did = won_deal(engine, org, org.rep_n2, name="theirs")
    with session_scope(engine) as s, pytest.raises(NotFound):
        create_contract_from_deal(s, org.rep_n1, deal_id=did, signed_on=TODAY, term_months=1, now=NOW)
    assert count(engine, Contract) == 0


def test_status_transitions(engine, org):
    cid = new_contract(engine, org)
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        set_contract_status(s, org.rep_n1, contract_id=cid, status="draft", version=1)
    assert "status" in exc.value.errors
    with session_scope(engine) as s:
        assert set_contract_status(s, org.rep_n1, contract_id=cid, status="executing", version=1).version == 2
    with session_scope(engine) as s, pytest.raises(ConflictError):
        set_contract_status(s, org.rep_n1, contract_id=cid, status="completed", version=1)
    with session_scope(engine) as s:
        set_contract_status(s, org.rep_n1, contract_id=cid, status="completed", version=2)
    with session_scope(engine) as s, pytest.raises(ValidationError):
        set_contract_status(s, org.rep_n1, contract_id=cid, status="cancelled", version=3)
    with session_scope(engine) as s, pytest.raises(NotFound):
        set_contract_status(s, org.rep_n2, contract_id=cid, status="cancelled", version=3)


def test_installments_may_not_exceed_contract_amount(engine, org):
    cid = new_contract(engine, org)
    with session_scope(engine) as s:
        add_installment(s, org.rep_n1, contract_id=cid, due_on=date(2026, 12, 1), amount="6000")
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        add_installment(s, org.rep_n1, contract_id=cid, due_on=date(2027, 1, 1), amount="4000.01")
    assert "¥4,000.00" in exc.value.errors["amount"]
    for bad, field in [({"amount": "-1"}, "amount"), ({"due_on": date(2026, 10, 1)}, "due_on")]:
        args = {"due_on": date(2027, 1, 1), "amount": "100"} | bad
        with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
            add_installment(s, org.rep_n1, contract_id=cid, **args)
        assert field in exc.value.errors
    assert count(engine, PaymentPlan) == 1
    with session_scope(engine) as s:
        rest = plan_installments(s, org.rep_n1, contract_id=cid, count=3, first_due_on=date(2027, 1, 31))
    assert [r.amount for r in rest] == [Decimal("1333.34"), Decimal("1333.33"), Decimal("1333.33")]
    assert [r.due_on for r in rest] == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)]
    assert [r.installment for r in rest] == [2, 3, 4]


@given(total=st.decimals(min_value="0.01", max_value="100000000", places=2), parts=st.integers(1, 60))
def test_split_amount_adds_up(total, parts):
    shares = split_amount(total, parts)
    assert sum(shares) == total and len(shares) == parts
    assert shares[0] == max(shares) and min(shares) >= 0


def test_payments_and_derived_status_with_frozen_today(engine, org):
    cid = new_contract(engine, org)
    with session_scope(engine) as s:
        p1 = add_installment(s, org.rep_n1, contract_id=cid, due_on=date(2026, 11, 10), amount="3000").id
        p2 = add_installment(s, org.rep_n1, contract_id=cid, due_on=date(2026, 11, 30), amount="3000").id
        p3 = add_installment(s, org.rep_n1, contract_id=cid, due_on=date(2026, 12, 31), amount="3000").id
        p4 = add_installment(s, org.rep_n1, contract_id=cid, due_on=date(2027, 1, 31), amount="1000").id
    with session_scope(engine) as s:
        record_payment(s, org.rep_n1, contract_id=cid, plan_id=p2, received_on=date(2026, 11, 25), amount="1000",
                       now=NOW)
        for part in ("1000", "1000", "999.99"):
            r = record_payment(s, org.rep_n1, contract_id=cid, plan_id=p3, received_on=date(2026, 11, 26),
                               amount=part, now=NOW)
        assert r.installment_status == "partially_paid"
        record_payment(s, org.rep_n1, contract_id=cid, plan_id=p3, received_on=TODAY, amount="0.01", now=NOW)
    # a payment over what is due on the installment, or in the future, is rejected
    for kw, field in [({"plan_id": p3, "amount": "0.01"}, "amount"), ({"plan_id": p2, "amount": "2000.01"}, "amount"),
                      ({"plan_id": p2, "amount": "-5"}, "amount"),
                      ({"plan_id": p2, "amount": "5", "received_on": TODAY + timedelta(days=1)}, "received_on"),
                      ({"plan_id": 99999, "amount": "5"}, "plan_id")]:
        args = {"received_on": TODAY} | kw
        with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
            record_payment(s, org.rep_n1, contract_id=cid, now=NOW, **args)
        assert field in exc.value.errors
    assert count(engine, Payment) == 5
    with session_scope(engine) as s:
        status = installments(s, org.rep_n1, contract_id=cid, today=TODAY).set_index("id")["status"].to_dict()
        assert status == {p1: "overdue", p2: "partially_paid", p3: "paid", p4: "pending"}
        later = installments(s, org.rep_n1, contract_id=cid, today=date(2026, 12, 1)).set_index("id")["status"]
        assert later[p2] == "overdue" and later[p3] == "paid"
        assert due_installments(s, org.rep_n1, start=date(2026, 11, 1), end=date(2026, 12, 1),
                                today=TODAY)["id"].tolist() == [p1, p2]
        assert overdue_installments(s, org.rep_n1, today=TODAY)["id"].tolist() == [p1]
        assert overdue_installments(s, org.rep_n2, today=TODAY).empty
        week = payments_received(s, org.rep_n1, start=date(2026, 11, 23), end=date(2026, 11, 30))
        assert len(week) == 5 and week.attrs["total"] == Decimal("4000.00")
        row = list_contracts(s, org.rep_n1, today=TODAY).iloc[0]
        assert row["collected"] == Decimal("4000.00") and row["due_to_date"] == Decimal("3000.00")
        assert row["planned"] == Decimal("10000.00") and row["overdue_amount"] == Decimal("3000.00")
        assert row["collection_ratio"] == pytest.approx(0.4)
        cust = list_customer_contracts(s, org.manager_n, customer_id=int(row["customer_id"]), today=TODAY)
        assert cust["collected"].tolist() == [Decimal("4000.00")]
        with pytest.raises(NotFound):
            list_customer_contracts(s, org.rep_n2, customer_id=int(row["customer_id"]))


def test_collection_ratio_per_rep(engine, org):
    a = new_contract(engine, org, org.rep_n1, name="A")
    b = new_contract(engine, org, org.rep_n2, name="B")
    cancelled = new_contract(engine, org, org.rep_n2, name="C")
    with session_scope(engine) as s:
        set_contract_status(s, org.rep_n2, contract_id=cancelled, status="cancelled", version=1)
        pa = add_installment(s, org.rep_n1, contract_id=a, due_on=date(2026, 11, 20), amount="10000").id
        pb = add_installment(s, org.rep_n2, contract_id=b, due_on=date(2026, 12, 20), amount="5000").id
        record_payment(s, org.rep_n1, contract_id=a, plan_id=pa, received_on=TODAY, amount="2500", now=NOW)
        record_payment(s, org.rep_n2, contract_id=b, plan_id=pb, received_on=TODAY, amount="5000", now=NOW)
    with session_scope(engine) as s:
        by_rep = collection_by_rep(s, org.manager_n, today=TODAY).set_index("owner_name")
        assert by_rep.loc["Rep_N1", "collection_ratio"] == pytest.approx(0.25)
        assert by_rep.loc["Rep_N1", "ratio_due"] == pytest.approx(0.25)
        assert by_rep.loc["Rep_N2", "contracts"] == 1  # the cancelled one does not count
        assert by_rep.loc["Rep_N2", "collection_ratio"] == pytest.approx(0.5)
        assert list(collection_by_rep(s, org.rep_n1, today=TODAY)["owner_name"]) == ["Rep_N1"]
        with pytest.raises(ValidationError):
            record_payment(s, org.rep_n2, contract_id=cancelled, plan_id=None, received_on=TODAY, amount="1",
                           now=NOW)


def test_concurrent_contract_numbers_are_unique(engine, org):
    deals = [won_deal(engine, org, org.rep_n1, name=f"D{i}") for i in range(6)]
    numbers, failures = [], []
    barrier = threading.Barrier(len(deals))

    def work(did):
        try:
            barrier.wait(timeout=10)
            with session_scope(engine) as s:
                numbers.append(create_contract_from_deal(s, org.rep_n1, deal_id=did, signed_on=TODAY,
                                                         term_months=1, now=NOW, log_signing=False).number)
        except Exception as exc:  # any failure is a finding: writers queue, they do not fail
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(d,)) for d in deals]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not failures, failures
    assert len(numbers) == len(set(numbers)) == len(deals)
    assert all(n.startswith("HT-20261127-") for n in numbers)


def test_overdue_total_covers_every_row_not_only_the_listed_ones(engine, org):
    """12 overdue installments of 100.00 (one 40.00 paid), listed 5 at a time: the list says
    5 of 12 and the total is 12 × 100 − 40 = 1,160.00 — from SQL over all of them."""
    cid = new_contract(engine, org)
    with session_scope(engine) as s:
        plans = [add_installment(s, org.rep_n1, contract_id=cid, due_on=date(2026, 11, 3) + timedelta(days=i),
                                 amount="100").id for i in range(12)]
        record_payment(s, org.rep_n1, contract_id=cid, plan_id=plans[0], received_on=TODAY, amount="40", now=NOW)
    with session_scope(engine) as s:
        page = overdue_installments(s, org.rep_n1, today=TODAY, limit=5)
        assert len(page) == 5 and page.attrs["count"] == 12
        assert page.attrs["remaining"] == Decimal("1160.00")
        due = due_installments(s, org.rep_n1, start=date(2026, 11, 1), end=date(2026, 12, 1), today=TODAY, limit=3)
        assert len(due) == 3 and due.attrs["count"] == 12 and due.attrs["remaining"] == Decimal("1160.00")
        # the weekly meeting's and the findings' summary: the same totals, rows as dicts (none at limit 0)
        summary = overdue_summary(s, org.rep_n1, today=TODAY, limit=2)
        assert (summary["count"], summary["remaining"]) == (12, Decimal("1160.00"))
        assert [r["id"] for r in summary["rows"]] == page["id"].tolist()[:2]
        assert summary["rows"][0]["remaining"] == Decimal("60.00") and summary["rows"][0]["due_on"] == date(2026, 11, 3)
        assert overdue_summary(s, org.rep_n1, today=TODAY, limit=0) == {**summary, "rows": []}
        assert overdue_summary(s, org.rep_n2, today=TODAY)["count"] == 0
        week = payments_received(s, org.rep_n1, start=TODAY, end=TODAY + timedelta(days=1), limit=0)
        assert week.empty and week.attrs["count"] == 1 and week.attrs["total"] == Decimal("40.00")
