"""Findings and the leaderboard against hand-computed numbers (dataset:
tests/services/analytics_data.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.analytics.filters import DealFilter
from services.analytics.findings import findings
from services.analytics.funnel import stage_conversions
from services.analytics.leaderboard import leaderboard
from services.db import read_scope, session_scope
from services.models import (
    Channel,
    Contract,
    Customer,
    Deal,
    DealHistory,
    MarketingSpend,
    Payment,
    PaymentPlan,
)
from services.periods import Period
from tests.services.analytics_data import NOW, TODAY, build_deals, utc

D = Decimal
NOV = Period(date(2026, 11, 1), date(2026, 12, 1), "month")


@pytest.fixture
def world(engine, org):
    deals = build_deals(engine, org)
    with session_scope(engine) as s:
        # a second deal lost for Price in November (none in October): a rising reason
        s.add(Deal(name="D8", owner_id=org.rep_n2.id, customer_id=deals.customer, stage_id=org.stages["Lost"],
                   amount=D("1000"), probability=0, opened_on=date(2026, 10, 1), closed_on=date(2026, 11, 25),
                   lost_reason_id=deals.price))
        contract = Contract(number="HT-9", customer_id=deals.customer, owner_id=org.rep_n1.id, amount=D("5000"),
                            status="signed")
        s.add(contract)
        s.flush()
        plan = PaymentPlan(contract_id=contract.id, installment=1, due_on=date(2026, 11, 20), amount=D("5000"))
        s.add(plan)
        s.flush()
        s.add(Payment(contract_id=contract.id, plan_id=plan.id, received_on=date(2026, 11, 21), amount=D("1000")))
        # rep n2: two November deals moved Qualify → Needs and still there (not stalled): n2 moves
        # 0 of 2 Needs deals onward, the North team 2 of 4
        for i in (1, 2):
            d = Deal(name=f"N2-{i}", owner_id=org.rep_n2.id, customer_id=deals.customer, stage_id=org.stages["Needs"],
                     amount=D("1500"), probability=25, opened_on=date(2026, 11, 10), stage_changed_at=utc(2026, 11, 20))
            s.add(d)
            s.flush()
            s.add_all([DealHistory(deal_id=d.id, field="stage", new_value=str(org.stages["Qualify"]),
                                   changed_at=utc(2026, 11, 10)),
                       DealHistory(deal_id=d.id, field="stage", old_value=str(org.stages["Qualify"]),
                                   new_value=str(org.stages["Needs"]), changed_at=utc(2026, 11, 20))])
        # Web: October 1,000 for 2 new customers (500 each), November 3,000 for 2 (1,500 each)
        web = Channel(name="Web")
        s.add(web)
        s.flush()
        s.add_all([MarketingSpend(channel_id=web.id, month=date(2026, 10, 1), amount=D("1000")),
                   MarketingSpend(channel_id=web.id, month=date(2026, 11, 1), amount=D("3000"))])
        for i, day in enumerate((utc(2026, 10, 5), utc(2026, 10, 6), utc(2026, 11, 5), utc(2026, 11, 6))):
            s.add(Customer(name=f"Web {i}", owner_id=org.rep_n1.id, channel_id=web.id, created_at=day))
    return deals


def test_findings_in_both_languages(engine, org, world):
    with read_scope(engine) as s:
        found = findings(s, org.director, period=NOV, today=TODAY, now=NOW)
    kinds = [f["kind"] for f in found]
    assert kinds == ["behind_pace", "weakest_stage", "rising_lost_reason", "stalled", "stalled", "stalled",
                     "cac_rising", "overdue_collections"]
    pace = found[0]
    assert pace["text"]["en"] == ("Rep_N1 has won ¥10,000.00 of a ¥20,000.00 target (50%) with 87% of the period "
                                  "gone.")
    assert pace["text"]["zh_CN"] == "Rep_N1 已赢单 ¥10,000.00，目标 ¥20,000.00（完成 50%），期间已过 87%。"
    assert found[1]["text"]["en"] == "Rep_N2 moves 0% of Needs deals onward, the team 50% (Needs deals reached: 2)."
    assert found[1]["numbers"]["conversion"] == 0 and found[1]["numbers"]["team_conversion"] == 0.5
    assert found[2]["numbers"] == {"reason": "Price", "now": 2, "before": 0}
    assert found[6]["text"]["en"] == ("Acquisition cost from Web rose 200% to ¥1,500.00 per new customer "
                                      "(was ¥500.00).")
    assert found[6]["text"]["zh_CN"] == "Web 渠道获客成本上升 200%，每个新客户 ¥1,500.00（此前 ¥500.00）。"
    stalled = {f["numbers"]["stage_id"]: f["numbers"] for f in found if f["kind"] == "stalled"}
    assert {org.stages[k]: v for k, v in (("Qualify", 1), ("Needs", 1), ("Proposal", 1))} == {
        sid: n["deals"] for sid, n in stalled.items()}
    assert stalled[org.stages["Proposal"]]["amount"] == 3000.0  # D6, in Proposal since 10-20 (stall 21 days)
    assert found[-1]["text"]["en"] == "Overdue installments: 1, ¥4,000.00 still to collect."
    assert "¥4,000.00" in found[-1]["text"]["zh_CN"]
    # the Performance page passes the conversions its strip read: the same findings
    with read_scope(engine) as s:
        conv = stage_conversions(s, org.director, period=NOV)
        assert findings(s, org.director, period=NOV, today=TODAY, now=NOW, conversions=conv) == found


def test_findings_respect_access(engine, org, world):
    with read_scope(engine) as s:
        south = findings(s, org.manager_s, period=NOV, today=TODAY, now=NOW)
        n2 = findings(s, org.rep_n2, period=NOV, today=TODAY, now=NOW, flt=DealFilter(scope="me"))
    assert south == []
    assert [f["kind"] for f in n2] == ["stalled"]  # D5 only; n1's target, deals and contract are not theirs


def test_leaderboard_metrics(engine, org, world):
    with read_scope(engine) as s:
        revenue = leaderboard(s, org.director, period=NOV, metric="revenue")
        rates = leaderboard(s, org.director, period=NOV, metric="win_rate")
        north = leaderboard(s, org.manager_n, period=NOV, metric="revenue")
    assert [(r["rank"], r["name"], r["value"]) for r in revenue] == [
        (1, "Rep_N1", D("10000.00")), (2, "Rep_N2", D("0.00")), (2, "Rep_S1", D("0.00")), (2, "Rep_S2", D("0.00"))]
    # n1: 1 won (D1) and 1 lost (D2); n2: 1 lost (D8); the south reps closed nothing → no rate, last
    assert [(r["rank"], r["name"], r["value"], r["won"], r["lost"]) for r in rates] == [
        (1, "Rep_N1", 0.5, 1, 1), (2, "Rep_N2", 0.0, 0, 1), (None, "Rep_S1", None, 0, 0), (None, "Rep_S2", None, 0, 0)]
    assert [r["name"] for r in north] == ["Rep_N1", "Rep_N2"]
