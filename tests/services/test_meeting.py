"""The weekly meeting report and its PDF (dataset: tests/services/analytics_data.py), on
SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from services.analytics.filters import DealFilter
from services.analytics.funnel import stage_now
from services.analytics.meeting import meeting_report, parse_week, week_of
from services.db import read_scope, session_scope
from services.models import Contract, Payment, PaymentPlan
from services.reports_pdf import meeting_pdf
from tests.services.analytics_data import TODAY, build_deals

D = Decimal


@pytest.fixture
def deals(engine, org):
    return build_deals(engine, org)


def test_week_parsing():
    week = parse_week("2026-W47")
    assert (week.start, week.end) == (date(2026, 11, 16), date(2026, 11, 23))
    assert week_of(date(2026, 11, 22)) == "2026-W47"
    with pytest.raises(ValueError):
        parse_week("2026-47")


def test_meeting_numbers(engine, org, deals):
    with read_scope(engine) as s:
        rep = meeting_report(s, org.director, week=parse_week("2026-W47"), today=TODAY)
    won = rep["numbers"]["contract_amount"]
    # no company target for November: rep n1's 20,000 counts, prorated 7 of 30 days
    assert (won["this_week"], won["last_week"], won["target"]) == (D("10000.00"), D("0.00"), D("4666.67"))
    assert rep["numbers"]["won_deals"] == {"this_week": 1, "last_week": 0}
    assert [d["deal"] for d in rep["won"]] == ["D1"] and rep["lost"] == []
    assert [d["deal"] for d in rep["top_deals"]] == ["D4", "D6", "D5", "D3"]
    assert rep["leaderboard"][0]["name"] == "Rep_N1" and rep["leaderboard"][0]["value"] == D("10000.00")
    assert rep["funnel"].deals == 4
    # each open stage's bar: the deals in it now and their amount (the four open deals in all)
    per_stage: dict[str, list] = {}
    for d in rep["top_deals"]:  # the four open deals, each in the stage it is in now
        got = per_stage.setdefault(d["stage"], [0, D("0.00")])
        got[0] += 1
        got[1] += d["amount"] or 0
    assert {r["stage"]: list(stage_now(r)) for r in rep["funnel"].stages
            if r["kind"] == "open" and r["in_stage_now"]} == per_stage
    assert rep["win_rate"] == {"won": 1, "lost": 0, "value": 1.0}  # the week's closed deals, not the pipeline's
    with read_scope(engine) as s:
        before = meeting_report(s, org.director, week=parse_week("2026-W46"), today=TODAY)
    assert [d["deal"] for d in before["lost"]] == ["D2"]
    assert before["win_rate"] == {"won": 0, "lost": 1, "value": 0.0}
    with read_scope(engine) as s:
        quiet = meeting_report(s, org.director, week=parse_week("2026-W40"), today=TODAY)
    assert quiet["win_rate"] == {"won": 0, "lost": 0, "value": None}  # shown as "–"


@pytest.mark.parametrize("locale,titles", [("zh_CN", ["销售漏斗", "本周赢单", "排行榜", "逾期回款"]),
                                           ("en", ["Sales funnel", "Deals won this week", "Leaderboard"])])
def test_meeting_pdf_text(engine, org, deals, locale, titles):
    with read_scope(engine) as s:
        rep = meeting_report(s, org.director, week=parse_week("2026-W47"), today=TODAY)
    pdf = meeting_pdf(rep, locale=locale)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height  # landscape
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "10,000.00" in text
    for title in titles:
        assert title in text


@pytest.fixture
def collections(engine, org, deals):
    """Installments as of 2026-11-22 (the last day of W47): rep n1 5,000 due 11-20 with 1,000
    paid (4,000 overdue); rep n2 3,000 due 11-10 unpaid (3,000) and 1,000 due 11-25 (not yet
    due); rep s1 2,500 due 11-01 with 500 paid (2,000); rep s2 9,000 due 11-01 on a cancelled
    contract (never counts)."""
    plans = [("HT-N1", org.rep_n1, "signed", [(date(2026, 11, 20), "5000", "1000")]),
             ("HT-N2", org.rep_n2, "executing", [(date(2026, 11, 10), "3000", None), (date(2026, 11, 25), "1000", None)]),
             ("HT-S1", org.rep_s1, "signed", [(date(2026, 11, 1), "2500", "500")]),
             ("HT-S2", org.rep_s2, "cancelled", [(date(2026, 11, 1), "9000", None)])]
    with session_scope(engine) as s:
        for number, owner, status, installments in plans:
            k = Contract(number=number, customer_id=deals.customer, owner_id=owner.id, amount=D("20000"), status=status)
            s.add(k)
            s.flush()
            for i, (due, amount, paid) in enumerate(installments, 1):
                plan = PaymentPlan(contract_id=k.id, installment=i, due_on=due, amount=D(amount))
                s.add(plan)
                s.flush()
                if paid:
                    s.add(Payment(contract_id=k.id, plan_id=plan.id, received_on=date(2026, 11, 21), amount=D(paid)))


@pytest.mark.parametrize("who,flt,count,remaining,owners", [
    ("director", DealFilter(), 3, "9000.00", ["Rep_S1", "Rep_N2", "Rep_N1"]),
    ("director", DealFilter(team_id="north"), 2, "7000.00", ["Rep_N2", "Rep_N1"]),
    ("director", DealFilter(team_id="south"), 1, "2000.00", ["Rep_S1"]),
    ("director", DealFilter(team_id="north", owner_id="rep_n2"), 1, "3000.00", ["Rep_N2"]),
    ("director", DealFilter(team_id="north", owner_id="rep_s1"), 0, "0.00", []),  # rep outside the team
    ("manager_n", DealFilter(), 2, "7000.00", ["Rep_N2", "Rep_N1"]),
    ("manager_n", DealFilter(team_id="south"), 0, "0.00", []),  # a team the manager may not see
    ("rep_n1", DealFilter(scope="me"), 1, "4000.00", ["Rep_N1"]),
])
def test_meeting_overdue_follows_team_and_rep(engine, org, collections, who, flt, count, remaining, owners):
    refs = {"north": org.team_n, "south": org.team_s, "rep_n2": org.rep_n2.id, "rep_s1": org.rep_s1.id}
    flt = DealFilter(scope=flt.scope, team_id=refs.get(flt.team_id), owner_id=refs.get(flt.owner_id))
    with read_scope(engine) as s:
        overdue = meeting_report(s, getattr(org, who), week=parse_week("2026-W47"), flt=flt, today=TODAY)["overdue"]
    assert (overdue["count"], overdue["remaining"]) == (count, D(remaining))
    assert [r["owner_name"] for r in overdue["rows"]] == owners  # oldest first
