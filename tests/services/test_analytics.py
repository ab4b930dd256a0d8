"""Analytics against hand-computed numbers, on SQLite and PostgreSQL.

November 2026, company time zone Asia/Shanghai (the default), "now" 2026-11-27 08:00 UTC.
Deals (owner, stage, amount, opened → closed):
  n1  Won   10,000.00   10-01 → 11-05 (35 days)     n1  Won  5,000.50  11-01 → 11-20 (19 days)
  n1  Lost   3,000.00         → 11-10               n1  Won  7,000.00  → 10-31 (October)
  n1  Won    1,234.56         → 12-01 (December: the period end is exclusive)
  n1  Proposal 20,000 @50%    n1  Qualify 1,000 @10%
  n2  Won    8,000.00   11-01 → 11-30 (29 days)     n2  Lost 2,000.00 → 11-02
  n2  Negotiation 4,000 @75%
  s1  Won   50,000.00   09-15 → 11-15 (61 days)     s1  Needs 6,000 @25%
  s2  Lost   9,000.00         → 11-03
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.analytics import (
    kpi_report,
    monthly_won_trend,
    overview_kpis,
    pipeline_by_stage,
    scope_user_ids,
)
from services.db import session_scope
from services.models import Activity, Contract, Customer, Deal, Payment, Target
from services.periods import Period, period_for

NOV = Period(date(2026, 11, 1), date(2026, 12, 1), "month")
TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
D = Decimal


def utc(y, m, d, h=12, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=UTC)


@pytest.fixture
def data(engine, org):
    o = org
    st = o.stages
    with session_scope(engine) as s:
        def customer(owner, created, next_contact=None, archived=False, name=None):
            c = Customer(name=name or f"C{owner}-{created}", owner_id=owner, created_at=created,
                         next_contact_on=next_contact, archived=archived)
            s.add(c)
            s.flush()
            return c.id

        c1 = customer(o.rep_n1.id, utc(2026, 11, 2, 0), date(2026, 11, 20))
        customer(o.rep_n1.id, utc(2026, 10, 15), date(2026, 11, 30))
        c3 = customer(o.rep_n2.id, utc(2026, 11, 5), date(2026, 11, 1))
        c4 = customer(o.rep_s1.id, utc(2026, 11, 6))
        customer(None, utc(2026, 11, 7), date(2026, 11, 1))  # public pool
        customer(o.rep_n1.id, utc(2026, 9, 1), date(2026, 11, 1), archived=True)
        # created 2026-11-30 17:00 UTC = 12-01 01:00 in Shanghai → not a November customer
        customer(o.rep_n1.id, utc(2026, 11, 30, 17))

        def deal(owner, stage, amount, prob=10, opened=date(2026, 10, 1), closed=None, cust=c1):
            s.add(Deal(name=f"D{amount}", owner_id=owner, stage_id=st[stage], amount=D(amount), probability=prob,
                       opened_on=opened, closed_on=closed, customer_id=cust))

        n1, n2, s1, s2 = o.rep_n1.id, o.rep_n2.id, o.rep_s1.id, o.rep_s2.id
        deal(n1, "Won", "10000.00", 100, date(2026, 10, 1), date(2026, 11, 5))
        deal(n1, "Won", "5000.50", 100, date(2026, 11, 1), date(2026, 11, 20))
        deal(n1, "Lost", "3000", 0, date(2026, 10, 1), date(2026, 11, 10))
        deal(n1, "Won", "7000", 100, date(2026, 9, 1), date(2026, 10, 31))
        deal(n1, "Won", "1234.56", 100, date(2026, 11, 1), date(2026, 12, 1))
        deal(n1, "Proposal", "20000", 50)
        deal(n1, "Qualify", "1000", 10)
        deal(n2, "Won", "8000", 100, date(2026, 11, 1), date(2026, 11, 30), cust=c3)
        deal(n2, "Lost", "2000", 0, date(2026, 10, 20), date(2026, 11, 2), cust=c3)
        deal(n2, "Negotiation", "4000", 75, cust=c3)
        deal(s1, "Won", "50000", 100, date(2026, 9, 15), date(2026, 11, 15), cust=c4)
        deal(s1, "Needs", "6000", 25, cust=c4)
        deal(s2, "Lost", "9000", 0, date(2026, 10, 1), date(2026, 11, 3), cust=c4)

        def activity(owner, cust, done=None, planned=None):
            s.add(Activity(owner_id=owner, customer_id=cust, done_at=done, planned_at=planned))

        activity(n1, c1, done=utc(2026, 11, 3, 2))
        activity(n1, c1, done=utc(2026, 10, 31, 17))  # 11-01 01:00 Shanghai → November
        activity(n1, c1, done=utc(2026, 11, 30, 16, 30))  # 12-01 00:30 Shanghai → December
        activity(n1, c1, planned=utc(2026, 11, 20, 1))  # overdue
        activity(n1, c1, planned=utc(2026, 11, 28, 1))  # still ahead
        activity(n2, c3, done=utc(2026, 11, 10))
        activity(s1, c4, done=utc(2026, 11, 11))
        activity(s1, c4, planned=utc(2026, 11, 1))  # overdue
        s.flush()

        k1 = Contract(number="HT-1", customer_id=c1, owner_id=n1, amount=D("10000"))
        k2 = Contract(number="HT-2", customer_id=c4, owner_id=s1, amount=D("50000"))
        s.add_all([k1, k2])
        s.flush()
        s.add_all([
            Payment(contract_id=k1.id, received_on=date(2026, 11, 10), amount=D("3000")),
            Payment(contract_id=k1.id, received_on=date(2026, 10, 30), amount=D("1000")),
            Payment(contract_id=k2.id, received_on=date(2026, 11, 30), amount=D("20000")),
            Payment(contract_id=k2.id, received_on=date(2026, 12, 1), amount=D("500")),
        ])

        def target(scope, value, *, user=None, team=None, kind="month", start=date(2026, 11, 1),
                   metric="contract_amount", tier="base"):
            s.add(Target(metric=metric, scope=scope, user_id=user, team_id=team, period_kind=kind,
                         period_start=start, tier=tier, value=D(value)))

        target("user", "20000", user=n1)
        target("user", "30000", user=n1, tier="stretch")  # other tier: ignored
        target("user", "5", user=n1, metric="won_deals")  # other metric: ignored
        target("user", "10000", user=n2)
        target("team", "40000", team=o.team_n)  # north's team target wins over its users' sum
        target("user", "90000", user=s1, kind="quarter", start=date(2026, 10, 1))  # 30,000 a month
    return o


def kpis(engine, actor, scope, period=NOV):
    with session_scope(engine) as s:
        return overview_kpis(s, actor, period=period, scope=scope, today=TODAY, now=NOW)


def test_rep_overview_hand_computed(engine, data):
    k = kpis(engine, data.rep_n1, "me")
    assert k.won_amount == D("15000.50")
    assert (k.won_count, k.lost_count) == (2, 1)
    assert k.win_rate == pytest.approx(2 / 3)
    assert k.target_amount == D("20000.00")
    assert k.attainment == pytest.approx(15000.50 / 20000)
    assert k.open_pipeline == D("21000.00")
    assert k.weighted_pipeline == D("10100.00")
    assert k.open_deal_count == 2
    assert k.activities_done == 2  # 11-03 and the one at 01:00 local on 11-01; not the 12-01 one
    assert (k.overdue_activities, k.overdue_customers, k.overdue_followups) == (1, 1, 2)
    assert k.new_customers == 1
    assert k.collections == D("3000.00")


def test_manager_team_overview(engine, data):
    k = kpis(engine, data.manager_n, "team")
    assert k.won_amount == D("23000.50")
    assert (k.won_count, k.lost_count, k.win_rate) == (3, 2, pytest.approx(0.6))
    assert k.target_amount == D("40000.00")  # the team target, not 20,000 + 10,000
    assert (k.open_pipeline, k.weighted_pipeline, k.open_deal_count) == (D("25000.00"), D("13100.00"), 3)
    assert (k.activities_done, k.overdue_activities, k.overdue_customers) == (3, 1, 2)
    assert k.new_customers == 2
    assert k.collections == D("3000.00")
    # a manager's "all" is their teams; south's 50,000 never shows up
    assert kpis(engine, data.manager_n, "all") == k.__class__(**{**k.__dict__, "scope": "all"})
    # the manager's own numbers (owns nothing)
    me = kpis(engine, data.manager_n, "me")
    assert (me.won_amount, me.won_count, me.win_rate, me.target_amount) == (D("0.00"), 0, None, None)


def test_manager_without_team_target_uses_user_targets(engine, data):
    k = kpis(engine, data.manager_s, "team")
    assert k.won_amount == D("50000.00")
    assert (k.won_count, k.lost_count, k.win_rate) == (1, 1, pytest.approx(0.5))
    assert k.target_amount == D("30000.00")  # s1's quarter target / 3
    assert k.collections == D("20000.00")


def test_director_all(engine, data):
    k = kpis(engine, data.director, "all")
    assert k.won_amount == D("73000.50")
    assert (k.won_count, k.lost_count) == (4, 3)
    assert k.win_rate == pytest.approx(4 / 7)
    # no company target: north's team target + south's user target (s1) = 40,000 + 30,000
    assert k.target_amount == D("70000.00")
    assert (k.open_pipeline, k.weighted_pipeline, k.open_deal_count) == (D("31000.00"), D("14600.00"), 4)
    assert (k.activities_done, k.overdue_activities, k.overdue_customers) == (4, 2, 2)
    assert k.new_customers == 3  # c1, c3 and c4: the pool customer is a lead no one owns yet (as on Performance)
    assert k.collections == D("23000.00")
    assert kpis(engine, data.admin, "all") == k


def test_company_target_wins_for_all(engine, data):
    with session_scope(engine) as s:
        s.add(Target(metric="contract_amount", scope="company", team_id=data.company_id, period_kind="year",
                     period_start=date(2026, 1, 1), value=D("1200000")))
    k = kpis(engine, data.director, "all")
    assert k.target_amount == D("100000.00")
    assert k.attainment == pytest.approx(0.730005)


def test_rep_cannot_widen_scope(engine, data):
    me = kpis(engine, data.rep_n1, "me")
    for scope in ("team", "all"):
        assert kpis(engine, data.rep_n1, scope).__dict__ | {"scope": "me"} == me.__dict__
    with session_scope(engine) as s:
        assert scope_user_ids(s, data.rep_n1, "all") == {data.rep_n1.id}
        assert scope_user_ids(s, data.manager_n, "team") == {data.manager_n.id, data.rep_n1.id, data.rep_n2.id}
        assert scope_user_ids(s, data.director, "all") is None
        with pytest.raises(ValueError):
            scope_user_ids(s, data.director, "everyone")


def test_target_prorated_to_week_and_quarter(engine, data):
    week = period_for("week", TODAY)  # Mon 11-23 .. Sun 11-29: 7 of November's 30 days
    k = kpis(engine, data.rep_n1, "me", week)
    assert k.target_amount == D("4666.67")
    assert k.won_amount == D("0.00") and k.attainment == 0.0
    q = kpis(engine, data.rep_s1, "me", period_for("quarter", TODAY))
    assert q.target_amount == D("90000.00")
    # rep_n1 has only a November target in Q4: October and December add nothing
    assert kpis(engine, data.rep_n1, "me", period_for("quarter", TODAY)).target_amount == D("20000.00")
    # December alone: the quarter that began two months before still covers it; November's
    # month target does not
    dec = Period(date(2026, 12, 1), date(2027, 1, 1), "month")
    assert kpis(engine, data.rep_s1, "me", dec).target_amount == D("30000.00")
    assert kpis(engine, data.rep_n1, "me", dec).target_amount is None


def test_a_target_of_other_months_does_not_hold_the_period(engine, data):
    """A company target for October only: November's company line has nothing, so the next
    line holds it (north's team target + s1's quarter share), as with no company target; a
    team row of an earlier month changes nothing."""
    with session_scope(engine) as s:
        s.add(Target(metric="contract_amount", scope="company", period_kind="month", period_start=date(2026, 10, 1),
                     tier="base", value=D("99999")))
        s.add(Target(metric="contract_amount", scope="team", team_id=data.team_n, period_kind="month",
                     period_start=date(2026, 9, 1), tier="base", value=D("55555")))
    assert kpis(engine, data.director, "all").target_amount == D("70000.00")
    assert kpis(engine, data.director, "all", Period(date(2026, 10, 1), date(2026, 11, 1), "month")).target_amount == \
        D("99999.00")


def test_monthly_won_trend(engine, data):
    with session_scope(engine) as s:
        df = monthly_won_trend(s, data.director, start=date(2026, 9, 1), end=date(2027, 1, 1), scope="all")
        mine = monthly_won_trend(s, data.rep_n1, start=date(2026, 9, 1), end=date(2027, 1, 1), scope="me")
    assert list(df.columns) == ["month", "won_amount", "won_count", "target_amount"]
    assert list(df["month"]) == [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    assert list(df["won_amount"]) == [0.0, 7000.0, 73000.5, 1234.56]
    assert list(df["won_count"]) == [0, 1, 4, 1]
    t = list(df["target_amount"])
    assert math.isnan(t[0]) and t[1:3] == [30000.0, 70000.0] and t[3] == 30000.0
    assert list(mine["won_amount"]) == [0.0, 7000.0, 15000.5, 1234.56]
    assert mine["target_amount"].fillna(-1).tolist() == [-1, -1, 20000.0, -1]


def test_kpi_report_totals_match_overview(engine, data):
    with session_scope(engine) as s:
        total = kpi_report(s, data.director, start=NOV.start, end=NOV.end)
    assert len(total) == 1
    r = total[0]
    assert r["won_amount"] == 73000.5 and r["won_count"] == 4 and r["lost_count"] == 3
    assert r["win_rate"] == pytest.approx(4 / 7)
    assert r["avg_won_amount"] == 18250.13  # 73,000.50 / 4 = 18,250.125 → half up
    assert r["avg_days_to_close"] == 36.0  # (35 + 19 + 29 + 61) / 4
    assert r["activity_count"] == 4
    k = kpis(engine, data.director, "all")
    assert (r["won_amount"], r["won_count"], r["activity_count"]) == (float(k.won_amount), k.won_count, k.activities_done)


def test_kpi_report_by_owner_and_team(engine, data):
    with session_scope(engine) as s:
        owners = {r["username"]: r for r in kpi_report(s, data.director, start=NOV.start, end=NOV.end, by="owner")}
        teams = {r["team"]: r for r in kpi_report(s, data.director, start=NOV.start, end=NOV.end, by="team")}
        rep_rows = kpi_report(s, data.rep_n1, start=NOV.start, end=NOV.end, by="owner")
    assert set(owners) == {"rep_n1", "rep_n2", "rep_s1", "rep_s2"}
    n1 = owners["rep_n1"]
    assert (n1["won_amount"], n1["won_count"], n1["lost_count"]) == (15000.5, 2, 1)
    assert n1["avg_won_amount"] == 7500.25 and n1["avg_days_to_close"] == 27.0 and n1["activity_count"] == 2
    s2 = owners["rep_s2"]
    assert (s2["won_amount"], s2["win_rate"], s2["avg_won_amount"], s2["avg_days_to_close"]) == (0.0, 0.0, None, None)
    assert owners["rep_s1"]["avg_days_to_close"] == 61.0
    north = teams["North"]
    assert (north["won_amount"], north["won_count"], north["lost_count"]) == (23000.5, 3, 2)
    assert north["avg_won_amount"] == 7666.83 and north["avg_days_to_close"] == 27.7 and north["activity_count"] == 3
    assert (teams["South"]["won_amount"], teams["South"]["win_rate"]) == (50000.0, 0.5)
    # a rep sees only their own row
    assert [r["username"] for r in rep_rows] == ["rep_n1"]


def test_pipeline_by_stage(engine, data):
    with session_scope(engine) as s:
        df = pipeline_by_stage(s, data.manager_n, scope="team")
        rep = pipeline_by_stage(s, data.rep_s1, scope="all")
    assert list(df["stage"]) == ["Qualify", "Needs", "Proposal", "Negotiation"]
    assert list(df["count"]) == [1, 0, 1, 1]
    assert list(df["amount"]) == [1000.0, 0.0, 20000.0, 4000.0]
    assert list(df["weighted"]) == [100.0, 0.0, 10000.0, 3000.0]
    assert list(rep["count"]) == [0, 1, 0, 0] and rep["weighted"].sum() == 1500.0


def test_to_dict_is_json_ready(engine, data):
    import json

    d = kpis(engine, data.rep_n1, "me").to_dict()
    assert json.loads(json.dumps(d))["won_amount"] == 15000.5
    assert d["overdue_followups"] == 2 and d["period"]["end"] == "2026-12-01"
