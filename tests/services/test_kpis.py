"""Performance KPIs against hand-computed numbers, on SQLite and PostgreSQL.

The shared deals (tests/services/analytics_data.py) plus, for November 2026:
  D7 n2 won 4,000 (no product), opened 10-01, closed 11-30 (60 days); D1 10,000 on product
  "Kit" (list 100, cost 40: 60 % margin), 18 days.
  customers: C2 n2 created 11-03 (Web, active); C3 n1 created 2026-10-31 16:30 UTC = 11-01
  00:30 in Shanghai (Web, churned); a pool customer 11-05 (Fair); Acme (active) from October.
  spend: Web 3,000 (Nov) + 500 (Oct), Fair 1,000 (Nov).
  activities done: n1 11-10, n1 2026-10-31 16:30 UTC (November in Shanghai), n1 2026-11-30
  17:00 UTC (December in Shanghai), n2 11-15.
  payments on D1's contract: 2,500 on 11-25, 1,000 on 12-01.
  tickets on Acme resolved in November: satisfaction 4, 5, and one not rated.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services import settings
from services.access import SYSTEM
from services.analytics.filters import DealFilter
from services.analytics.kpis import kpi_comparison, kpi_rows, kpis
from services.db import read_scope, session_scope
from services.models import (
    Activity,
    Channel,
    Contract,
    Customer,
    Deal,
    MarketingSpend,
    Payment,
    Product,
    ServiceTicket,
)
from services.periods import Period, period_for
from tests.services.analytics_data import TODAY, build_deals, utc

D = Decimal
NOV = Period(date(2026, 11, 1), date(2026, 12, 1), "month")


@pytest.fixture
def world(engine, org):
    deals = build_deals(engine, org)
    n1, n2 = org.rep_n1.id, org.rep_n2.id
    with session_scope(engine) as s:
        web, fair, kit = Channel(name="Web"), Channel(name="Fair"), Product(name="Kit", list_price=D("100"),
                                                                            unit_cost=D("40"))
        s.add_all([web, fair, kit])
        s.flush()
        s.get(Deal, deals.ids["D1"]).product_id = kit.id
        s.get(Customer, deals.customer).status = "active"
        c2 = Customer(name="C2", owner_id=n2, channel_id=web.id, status="active", created_at=utc(2026, 11, 3))
        c3 = Customer(name="C3", owner_id=n1, channel_id=web.id, status="churned", created_at=utc(2026, 10, 31, 16))
        pool = Customer(name="Pool", owner_id=None, channel_id=fair.id, created_at=utc(2026, 11, 5))
        s.add_all([c2, c3, pool])
        s.flush()
        s.add(Deal(name="D7", owner_id=n2, customer_id=c2.id, stage_id=org.stages["Won"], amount=D("4000"),
                   probability=100, opened_on=date(2026, 10, 1), closed_on=date(2026, 11, 30)))
        s.add_all([MarketingSpend(channel_id=web.id, month=date(2026, 11, 1), amount=D("3000")),
                   MarketingSpend(channel_id=web.id, month=date(2026, 10, 1), amount=D("500")),
                   MarketingSpend(channel_id=fair.id, month=date(2026, 11, 1), amount=D("1000"))])
        from datetime import UTC, datetime
        for owner, at in ((n1, utc(2026, 11, 10)), (n1, datetime(2026, 10, 31, 16, 30, tzinfo=UTC)),
                          (n1, utc(2026, 11, 30, 17)), (n2, utc(2026, 11, 15))):
            s.add(Activity(kind="call", customer_id=deals.customer, owner_id=owner, done_at=at))
        contract = Contract(number="HT-1", deal_id=deals.ids["D1"], customer_id=deals.customer, owner_id=n1,
                            amount=D("10000"), status="signed")
        s.add(contract)
        s.flush()
        s.add_all([Payment(contract_id=contract.id, received_on=date(2026, 11, 25), amount=D("2500")),
                   Payment(contract_id=contract.id, received_on=date(2026, 12, 1), amount=D("1000"))])
        for score, day in ((4, 10), (5, 20), (None, 21)):
            s.add(ServiceTicket(customer_id=deals.customer, title=f"T{day}", status="resolved",
                                opened_at=utc(2026, 11, 1), resolved_at=utc(2026, 11, day), satisfaction=score))
    return deals


def test_november_kpis(engine, org, world):
    with read_scope(engine) as s:
        k = kpis(s, org.director, period=NOV)
    assert (k["won_revenue"], k["won_deals"], k["lost_deals"]) == (D("14000.00"), 2, 1)
    assert k["win_rate"] == pytest.approx(2 / 3)
    assert k["avg_won_deal"] == D("7000.00")
    assert (k["sales_cycle_mean"], k["sales_cycle_median"]) == (39.0, 39.0)
    assert k["collections"] == D("2500.00")  # the 12-01 payment is December's
    assert (k["activities"], k["reps"]) == (3, 4)  # company days: 10-31 16:30 UTC in, 11-30 17:00 UTC out
    assert k["activities_per_rep_week"] == pytest.approx(3 / 4 / (30 / 7), abs=0.006)
    assert k["new_customers"] == 2  # C2 and C3; the pool customer has no owner
    cac = {r["channel"]: r for r in k["cac_by_channel"]}
    assert (cac["Web"]["spend"], cac["Web"]["new_customers"], cac["Web"]["cac"]) == (D("3000.00"), 2, D("1500.00"))
    assert cac["Fair"]["cac"] == D("1000.00")
    assert k["cac"] == D("1333.33")  # 4,000 ÷ 3
    # margin 6,000 (D1, 60 %) + 4,000 (D7, no product) over 2 customers; churn 1 of 3 → 3 years
    assert (k["yearly_margin_per_customer"], k["lifetime_years"], k["clv"]) == (D("5000.00"), 3.0, D("15000.00"))
    assert k["churn_rate"] == pytest.approx(1 / 3) and k["retention_rate"] == pytest.approx(2 / 3)
    assert (k["avg_satisfaction"], k["rated_tickets"]) == (4.5, 2)


def test_sales_cycle_median_of_an_odd_and_an_even_number_of_won_deals(engine, org, world):
    """Won in November: 18 and 60 days (median = their mean, 39); with a third of 100 days
    the median is the middle one, 60, and the mean (18 + 60 + 100) / 3 = 59.3."""
    from services.analytics.kpis import sales_cycle

    with read_scope(engine) as s:
        assert sales_cycle(s, None, NOV) == (39.0, 39.0)
        assert sales_cycle(s, {org.rep_n1.id}, NOV) == (18.0, 18.0)
        assert sales_cycle(s, {org.rep_s1.id}, NOV) == (None, None)
    with session_scope(engine) as s:
        s.add(Deal(name="D8", owner_id=org.rep_n1.id, customer_id=world.customer, stage_id=org.stages["Won"],
                   amount=D("1"), probability=100, opened_on=date(2026, 8, 2), closed_on=date(2026, 11, 10)))
    with read_scope(engine) as s:
        assert sales_cycle(s, None, NOV) == (59.3, 60.0)


def test_rep_scope_and_no_closed_deals(engine, org, world):
    with read_scope(engine) as s:
        rep = kpis(s, org.rep_n2, period=NOV)
        empty = kpis(s, org.rep_s1, period=NOV)
    assert (rep["won_revenue"], rep["win_rate"], rep["activities"], rep["reps"]) == (D("4000.00"), 1.0, 1, 1)
    assert empty["win_rate"] is None and empty["avg_won_deal"] is None and empty["sales_cycle_mean"] is None
    assert empty["won_revenue"] == D("0.00")


def test_mom_yoy_and_fiscal_year_april(engine, org, world):
    with session_scope(engine) as s:
        settings.update_settings(s, SYSTEM, values={"fiscal_year_start_month": 4})
    fy = period_for("year", TODAY, 4)
    quarter = period_for("quarter", TODAY, 4)
    assert (fy.start, fy.end) == (date(2026, 4, 1), date(2027, 4, 1))
    assert (quarter.start, quarter.end) == (date(2026, 10, 1), date(2027, 1, 1))
    with read_scope(engine) as s:
        year = kpis(s, org.director, period=fy)
        cmp = kpi_comparison(s, org.director, period=NOV)
    assert year["won_revenue"] == D("14000.00")
    won = cmp["cards"]["won_revenue"]
    assert won["previous"] == D("0.00") and won["mom"] is None  # nothing won in October: no change to show
    cycle = cmp["cards"]["sales_cycle_mean"]
    assert cycle["previous"] is None and cycle["better"] == 0
    cac = cmp["cards"]["cac"]  # October: 500 spent, no new customers from a channel → no CAC
    assert cac["previous"] is None


def test_drill_down_rows_add_up(engine, org, world):
    with read_scope(engine) as s:
        won = kpi_rows(s, org.director, kpi="won_revenue", period=NOV)
        closed = kpi_rows(s, org.director, kpi="win_rate", period=NOV)
        pays = kpi_rows(s, org.director, kpi="collections", period=NOV)
        acts = kpi_rows(s, org.manager_n, kpi="activities_per_rep_week", period=NOV)
        north = kpis(s, org.manager_n, period=NOV, flt=DealFilter(scope="team"))
    assert sum(r["amount"] for r in won) == D("14000.00") and [r["days"] for r in won] == [18, 60]
    assert len(closed) == 3
    assert [r["amount"] for r in pays] == [D("2500.00")]
    assert len(acts) == north["activities"] == 3
