"""Customer 360: numbers computed by hand, masking for pool customers, access by role."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest

from services import tickets
from services.customer360 import clv_estimate, customer_profile, find_customers, purchase_history
from services.db import session_scope
from services.errors import NotFound
from services.models import (
    Activity,
    Contact,
    Contract,
    Customer,
    Deal,
    Payment,
    PaymentPlan,
    Product,
)

TODAY = date(2026, 11, 27)


def _build(engine, org):
    """Customer of rep_n1: product P (list 100,000, cost 40,000 → margin 60%);
    won: P 100,000 (2025-11-27), P 50,000 (2026-06-01), no product 30,000 (2026-10-01);
    open 20,000 + open without amount; lost 10,000. Contract 100,000 with installments
    50,000 due 2026-06-01 and 50,000 due 2026-12-31; 50,000 received."""
    st = org.stages
    with session_scope(engine) as s:
        p = Product(name="P", list_price=Decimal("100000"), unit_cost=Decimal("40000"))
        s.add(p)
        c = Customer(name="Wayne Enterprises", name_norm="wayne", owner_id=org.rep_n1.id, phone="010-88886666",
                     email="bruce@wayne.com", next_contact_on=date(2026, 12, 10),
                     last_contact_at=datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
        s.add(c)
        s.flush()

        def deal(name, amount, stage, closed=None, product=None):
            d = Deal(name=name, customer_id=c.id, owner_id=org.rep_n1.id, stage_id=st[stage],
                     amount=None if amount is None else Decimal(amount), closed_on=closed,
                     product_id=product, opened_on=date(2025, 10, 1))
            s.add(d)
            s.flush()
            return d

        d1 = deal("First", "100000", "Won", date(2025, 11, 27), p.id)
        deal("Second", "50000", "Won", date(2026, 6, 1), p.id)
        deal("Services", "30000", "Won", date(2026, 10, 1))
        deal("Upsell", "20000", "Proposal")
        deal("Idea", None, "Qualify")
        deal("Lost one", "10000", "Lost", date(2026, 3, 1), p.id)
        k = Contract(number="HT-20251127-0001", deal_id=d1.id, customer_id=c.id, owner_id=org.rep_n1.id,
                     amount=Decimal("100000"), signed_on=date(2025, 11, 27), status="executing")
        s.add(k)
        s.flush()
        p1 = PaymentPlan(contract_id=k.id, installment=1, due_on=date(2026, 6, 1), amount=Decimal("50000"))
        s.add_all([p1, PaymentPlan(contract_id=k.id, installment=2, due_on=date(2026, 12, 31),
                                   amount=Decimal("50000"))])
        s.flush()
        s.add(Payment(contract_id=k.id, plan_id=p1.id, received_on=date(2026, 6, 3), amount=Decimal("50000")))
        s.add_all([Contact(customer_id=c.id, name="Alfred", is_primary=False),
                   Contact(customer_id=c.id, name="Bruce", is_primary=True)])
        s.add_all([
            Activity(kind="call", customer_id=c.id, owner_id=org.rep_n1.id,
                     done_at=datetime(2026, 11, 20, 2, 0, tzinfo=UTC), notes="Called"),
            Activity(kind="service", customer_id=c.id, owner_id=org.rep_n1.id,
                     done_at=datetime(2026, 11, 22, 2, 0, tzinfo=UTC), outcome="Fixed", notes="On-site repair"),
            Activity(kind="visit", customer_id=c.id, owner_id=org.rep_n1.id,
                     planned_at=datetime(2026, 12, 3, 2, 0, tzinfo=UTC)),
        ])
        cid = c.id
    with session_scope(engine) as s:
        t1 = tickets.open_ticket(s, org.rep_n1, data={"customer_id": cid, "title": "Login fails"},
                                 now=datetime(2026, 11, 1, tzinfo=UTC))
        tickets.resolve_ticket(s, org.rep_n1, ticket_id=t1.id, resolution="Reset SSO", satisfaction=4,
                               now=datetime(2026, 11, 2, tzinfo=UTC))
        t2 = tickets.open_ticket(s, org.rep_n1, data={"customer_id": cid, "title": "Slow reports"},
                                 now=datetime(2026, 11, 5, tzinfo=UTC))
        tickets.resolve_ticket(s, org.rep_n1, ticket_id=t2.id, resolution="Added index", satisfaction=2,
                               now=datetime(2026, 11, 6, tzinfo=UTC))
        tickets.open_ticket(s, org.rep_n1, data={"customer_id": cid, "title": "Invoice copy"})
    return cid


def test_profile_numbers_by_hand(engine, org):
    cid = _build(engine, org)
    with session_scope(engine) as s:
        prof = customer_profile(s, org.rep_n1, customer_id=cid, today=TODAY)
    # CLV: first won 2025-11-27 → 365 days < 1 year → 1 year; annual = 180,000;
    # margin over priced won deals = (100,000×0.6 + 50,000×0.6) / 150,000 = 0.6; × 3 years
    assert prof.clv.total_won == Decimal("180000.00") and prof.clv.won_deals == 3
    assert prof.clv.years_observed == Decimal("1.00") and prof.clv.avg_annual_revenue == Decimal("180000.00")
    assert prof.clv.margin_rate == Decimal("0.6000") and prof.clv.value == Decimal("324000.00")
    assert "324,000.00" in prof.clv.formula("en")
    t = prof.totals
    assert t["won_amount"] == Decimal("180000.00") and t["open_deals"] == 2
    assert t["open_pipeline"] == Decimal("20000.00")  # the deal without amount counts as 0
    assert (t["contract_amount"], t["collected"], t["due_to_date"], t["outstanding"]) == (
        Decimal("100000.00"), Decimal("50000.00"), Decimal("50000.00"), Decimal("50000.00"))
    assert t["open_tickets"] == 1 and t["avg_satisfaction"] == 3.0
    hist = prof.purchase_history
    assert hist["product"].tolist()[0] == "P" and pd.isna(hist["product"].tolist()[1])  # no product
    assert hist["deals"].tolist() == [2, 1]
    assert hist["amount"].tolist() == [Decimal("150000.00"), Decimal("30000.00")]
    assert [c.name for c in prof.contacts] == ["Bruce", "Alfred"]  # primary first
    assert prof.timeline["kind"].tolist() == ["visit", "service", "call"]  # latest first
    assert prof.feedback["source"].tolist() == ["activity", "ticket", "ticket"]
    assert prof.feedback["satisfaction"].tolist()[1:] == [2, 4]
    assert prof.next_follow_up == date(2026, 12, 3)  # the planned visit comes before next_contact_on
    assert prof.last_contact_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert prof.can_edit and not prof.private_hidden
    assert prof.customer["phone"] == "010-88886666"


def test_clv_over_several_years_and_without_prices(engine, org):
    cid = _build(engine, org)
    with session_scope(engine) as s:
        est = clv_estimate(s, org.manager_n, customer_id=cid, today=date(2027, 11, 27), lifetime_years=5)
        # 730 days / 365.25 = 1.9986 years → annual 90,062.97…; × 0.6 × 5
        years = Decimal(730) / Decimal("365.25")
        expected = (Decimal(180000) / years * Decimal("0.6") * 5).quantize(Decimal("0.01"))
        assert est.value == expected and est.years_observed == Decimal("2.00")
        s.execute(Product.__table__.update().values(list_price=0))
        est = clv_estimate(s, org.manager_n, customer_id=cid, today=TODAY)
        assert est.margin_rate is None and est.value == Decimal("540000.00")  # revenue basis
        assert "unknown" in est.formula("en")


def test_other_reps_cannot_read_the_360(engine, org):
    cid = _build(engine, org)
    for actor in (org.rep_n2, org.rep_s1, org.manager_s):
        with session_scope(engine) as s, pytest.raises(NotFound):
            customer_profile(s, actor, customer_id=cid, today=TODAY)
        with session_scope(engine) as s, pytest.raises(NotFound):
            purchase_history(s, actor, customer_id=cid)
    with session_scope(engine) as s:
        prof = customer_profile(s, org.director, customer_id=cid, today=TODAY)
        assert prof.clv.value == Decimal("324000.00")
        assert find_customers(s, org.rep_n1, search="wayne") == [(cid, "Wayne Enterprises")]
        assert find_customers(s, org.rep_n2, search="wayne") == []


def test_pool_customer_is_masked_for_a_rep(engine, org):
    cid = _build(engine, org)
    with session_scope(engine) as s:
        s.get(Customer, cid).owner_id = None
    with session_scope(engine) as s:
        prof = customer_profile(s, org.rep_n2, customer_id=cid, today=TODAY)
        assert prof.private_hidden and not prof.can_edit
        assert prof.customer["phone"] is None and prof.customer["email"] is None and prof.contacts == []
        assert prof.deals.empty and prof.clv.value == Decimal("0.00")  # rep_n1's deals stay invisible
        mgr = customer_profile(s, org.manager_n, customer_id=cid, today=TODAY)
        assert not mgr.private_hidden and len(mgr.contacts) == 2
