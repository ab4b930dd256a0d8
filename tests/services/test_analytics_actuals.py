"""Actuals of the target metrics (services.analytics.actuals) against hand-computed values,
on SQLite and PostgreSQL: per metric, in total / per user / per team / per month, period
edges in the company time zone, and only what the actor may see."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services import settings
from services.analytics import metric_actuals, metric_total
from services.analytics.actuals import metric_totals
from services.db import session_scope
from services.models import Activity, Contract, Customer, Deal, Payment

JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


@pytest.fixture
def world(engine, org):
    """rep_n1: won 1000 (Jan 10) + 500 (Feb 3), lost 200 (Jan 20), open 900; rep_s1: won 300
    (Jan 31). Payments on rep_n1's contract: 400 (Jan 31), 100 (Feb 1). Activities done (UTC):
    rep_n1 2026-01-31 16:30 (= Feb 1 00:30 in Shanghai), 2026-01-15; rep_s1 2026-02-10. Customers:
    rep_n1's created 2026-01-05, a pool customer created 2026-01-06."""
    st = org.stages
    n1, s1 = org.rep_n1.id, org.rep_s1.id
    with session_scope(engine) as s:
        settings.put(s, "timezone", "Asia/Shanghai")
        c = Customer(name="Acme", owner_id=n1, created_at=datetime(2026, 1, 5, 3, tzinfo=UTC))
        pool = Customer(name="Pool Co", owner_id=None, created_at=datetime(2026, 1, 6, 3, tzinfo=UTC))
        s.add_all([c, pool])
        s.flush()

        def deal(owner, stage, amount, closed):
            d = Deal(name=f"d{amount}", customer_id=c.id, owner_id=owner, stage_id=st[stage], amount=Decimal(amount),
                     opened_on=date(2025, 12, 1), closed_on=closed)
            s.add(d)
            s.flush()
            return d

        won = deal(n1, "Won", "1000", date(2026, 1, 10))
        deal(n1, "Won", "500", date(2026, 2, 3))
        deal(n1, "Lost", "200", date(2026, 1, 20))
        deal(n1, "Proposal", "900", None)
        deal(s1, "Won", "300", date(2026, 1, 31))
        k = Contract(number="HT-T-1", deal_id=won.id, customer_id=c.id, owner_id=n1, amount=Decimal("1000"),
                     signed_on=date(2026, 1, 10), status="signed")
        s.add(k)
        s.flush()
        s.add_all([Payment(contract_id=k.id, received_on=date(2026, 1, 31), amount=Decimal("400")),
                   Payment(contract_id=k.id, received_on=date(2026, 2, 1), amount=Decimal("100"))])
        s.add_all([Activity(kind="call", customer_id=c.id, owner_id=n1, done_at=datetime(2026, 1, 31, 16, 30, tzinfo=UTC)),
                   Activity(kind="call", customer_id=c.id, owner_id=n1, done_at=datetime(2026, 1, 15, 2, tzinfo=UTC)),
                   Activity(kind="visit", customer_id=c.id, owner_id=s1, done_at=datetime(2026, 2, 10, 2, tzinfo=UTC))])
    return org


def total(engine, actor, metric, start=JAN, end=MAR):
    with session_scope(engine) as s:
        return metric_total(s, actor, metric=metric, start=start, end=end)


def test_totals_per_metric(engine, world):
    d = world.director
    assert total(engine, d, "contract_amount") == Decimal("1800.00")
    assert total(engine, d, "won_deals") == 3
    assert total(engine, d, "collections") == Decimal("500.00")
    assert total(engine, d, "new_customers") == 1  # the pool customer has no owner
    assert total(engine, d, "activities") == 3
    assert total(engine, d, "contract_amount", JAN, FEB) == Decimal("1300.00")


def test_several_spans_in_one_read(engine, world):
    """``metric_totals`` (the weekly meeting's this week and last): each span's total, the
    company day for timestamps, nothing as 0, only what the actor may see."""
    spans = [(JAN, FEB), (FEB, MAR), (date(2025, 1, 1), date(2025, 2, 1))]
    with session_scope(engine) as s:
        def totals(actor, metric):
            return metric_totals(s, actor, metric=metric, spans=spans)

        d = world.director
        assert totals(d, "contract_amount") == [Decimal("1300.00"), Decimal("500.00"), Decimal("0.00")]
        assert totals(d, "won_deals") == [2, 1, 0]
        assert totals(d, "collections") == [Decimal("400.00"), Decimal("100.00"), Decimal("0.00")]
        # rep_n1's 2026-01-31 16:30 UTC is Feb 1 in Shanghai
        assert totals(d, "activities") == [1, 2, 0]
        assert totals(d, "new_customers") == [1, 0, 0]
        assert totals(world.rep_n2, "contract_amount") == [Decimal("0.00")] * 3
        assert metric_totals(s, d, metric="collections", spans=spans[:1], owner_ids={world.rep_s1.id}) == [
            Decimal("0.00")]
        for metric in ("contract_amount", "won_deals", "collections", "activities", "new_customers"):
            assert totals(d, metric) == [metric_total(s, d, metric=metric, start=a, end=b) for a, b in spans]
        with pytest.raises(ValueError, match="must be after start"):  # a reversed span, as metric_total
            metric_totals(s, d, metric="collections", spans=[(JAN, FEB), (MAR, FEB)])


def test_collections_of_few_owners_over_months_and_of_many_over_days_agree(engine, world):
    """Collections of a team over more than a month start from its contracts on SQLite (the
    range written so no index serves it); over a month, or for everyone, from the payments:
    the same numbers either way (400 on Jan 31, 100 on Feb 1, both rep_n1's)."""
    n1 = world.rep_n1.id
    with session_scope(engine) as s:
        def collected(start, end, owners):
            return metric_total(s, world.director, metric="collections", start=start, end=end, owner_ids=owners)

        assert collected(JAN, MAR, {n1}) == Decimal("500.00")  # 59 days, one owner
        assert collected(JAN, FEB, {n1}) == Decimal("400.00")  # 31 days
        assert collected(date(2026, 1, 31), date(2026, 2, 2), {n1, world.rep_n2.id}) == Decimal("500.00")
        assert collected(JAN, MAR, {world.rep_n2.id}) == Decimal("0.00")
        assert collected(JAN, MAR, None) == Decimal("500.00")
        many = metric_actuals(s, world.director, metric="collections", start=JAN, end=MAR, by="user",
                              owner_ids={n1, world.rep_s1.id}, monthly=True)
        assert sorted(zip(many["user_id"], many["month"], many["value"], strict=True)) == [
            (n1, JAN, Decimal("400.00")), (n1, FEB, Decimal("100.00"))]


def test_timestamps_follow_the_company_day(engine, world):
    # 2026-01-31 16:30 UTC is 00:30 on Feb 1 in Shanghai
    assert total(engine, world.director, "activities", JAN, FEB) == 1
    assert total(engine, world.director, "activities", FEB, MAR) == 2


def test_per_user_team_and_month(engine, world):
    n1, s1 = world.rep_n1.id, world.rep_s1.id
    with session_scope(engine) as s:
        by_user = metric_actuals(s, world.director, metric="contract_amount", start=JAN, end=MAR, by="user")
        assert dict(zip(by_user["user_id"], by_user["value"], strict=True)) == {n1: Decimal("1500.00"),
                                                                                 s1: Decimal("300.00")}
        by_team = metric_actuals(s, world.director, metric="won_deals", start=JAN, end=MAR, by="team")
        assert dict(zip(by_team["team_id"], by_team["value"], strict=True)) == {world.team_n: 2, world.team_s: 1}
        monthly = metric_actuals(s, world.director, metric="contract_amount", start=JAN, end=MAR, monthly=True)
        assert dict(zip(monthly["month"], monthly["value"], strict=True)) == {JAN: Decimal("1300.00"),
                                                                               FEB: Decimal("500.00")}
        acts = metric_actuals(s, world.director, metric="activities", start=JAN, end=MAR, by="user", monthly=True)
        assert sorted(zip(acts["user_id"], acts["month"], acts["value"], strict=True)) == sorted(
            [(n1, JAN, 1), (n1, FEB, 1), (s1, FEB, 1)])


def test_only_what_the_actor_may_see(engine, world):
    assert total(engine, world.rep_n1, "contract_amount") == Decimal("1500.00")
    assert total(engine, world.manager_s, "contract_amount") == Decimal("300.00")
    assert total(engine, world.rep_n2, "contract_amount") == Decimal("0.00")
    with session_scope(engine) as s:  # naming someone invisible does not widen the view
        assert metric_total(s, world.rep_n2, metric="collections", start=JAN, end=MAR,
                            owner_ids={world.rep_n1.id}) == Decimal("0.00")
