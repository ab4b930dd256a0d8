"""Sales plans (services.plans) on SQLite and PostgreSQL: a plan linked to targets, the
discount limit checked on deals, campaigns and milestones inside the period, channel
shares, planned vs spent with the channel's monthly spend, progress, and who may change it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from services import deals, goals, plans
from services.db import session_scope
from services.errors import FieldNotFound, FieldPermissionDenied, ValidationError
from services.models import Channel, Customer, MarketingSpend, PlanMilestone, Product, SalesPlan

D = Decimal
TODAY = date(2027, 5, 15)


@pytest.fixture
def plan(engine, org):
    with session_scope(engine) as s:
        target = goals.create_target(s, org.manager_n, data=dict(scope="team", team_id=org.team_n, period="2027-Q2",
                                                                 value="1000"))
        p = plans.create_plan(s, org.manager_n, data=dict(title="North Q2 push", period="2027-Q2",
                                                          team_id=org.team_n, budget="5000",
                                                          pricing_strategy="List price; volume tiers",
                                                          target_ids=[target["id"]]))
        ch = Channel(name="Trade fair")
        s.add(ch)
        s.flush()
    return {"id": p["id"], "target": target["id"], "channel": ch.id}


def test_a_plan_for_a_quarter_and_team(engine, org, plan):
    with session_scope(engine, write=False) as s:
        got = plans.get_plan(s, org.rep_n2, plan_id=plan["id"])
    assert (got["period_start"], got["period_end"]) == (date(2027, 4, 1), date(2027, 6, 30))
    assert got["team"] == "North" and got["target_ids"] == [plan["target"]] and got["editable"] is False


def test_milestones_inside_the_period_and_their_status(engine, org, plan):
    with session_scope(engine) as s:
        m = plans.add_milestone(s, org.manager_n, plan_id=plan["id"], data=dict(
            title="Price list out", owner_id=org.rep_n1.id, due_on=date(2027, 4, 30)))
        plans.add_milestone(s, org.manager_n, plan_id=plan["id"], data=dict(title="Fair", due_on=date(2027, 6, 1)))
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        plans.add_milestone(s, org.manager_n, plan_id=plan["id"], data=dict(title="Late", due_on=date(2027, 7, 1)))
    assert exc.value.errors["due_on"] == "must lie inside the plan period 2027-04-01 … 2027-06-30"
    with session_scope(engine) as s:
        done = plans.update_milestone(s, org.manager_n, milestone_id=m["id"], changes={"status": "done"},
                                      today=date(2027, 4, 29))
    assert done["done_on"] == date(2027, 4, 29)
    with session_scope(engine, write=False) as s:
        progress = plans.plan_progress(s, org.manager_n, plan_id=plan["id"], today=TODAY)
        assert s.scalar(select(func.count(PlanMilestone.id))) == 2
    assert (progress["milestones_done"], progress["milestones_total"], progress["milestones_overdue"]) == (1, 2, 0)
    assert progress["targets"][0]["value"] == D("1000.00")


def test_campaigns_and_channel_shares(engine, org, plan):
    with session_scope(engine) as s:
        c = plans.add_campaign(s, org.manager_n, plan_id=plan["id"], data=dict(
            name="Spring fair", channel_id=plan["channel"], starts_on=date(2027, 5, 1), ends_on=date(2027, 5, 3),
            budget="1200"))
        plans.update_plan(s, org.manager_n, plan_id=plan["id"], changes={"channel_shares": {plan["channel"]: "0.4"}})
    assert c["budget"] == D("1200.00")
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        plans.add_campaign(s, org.manager_n, plan_id=plan["id"], data=dict(
            name="Too late", starts_on=date(2027, 6, 20), ends_on=date(2027, 7, 3)))
    assert "inside the plan period" in exc.value.errors["ends_on"]
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        plans.update_plan(s, org.manager_n, plan_id=plan["id"], changes={"channel_shares": {plan["channel"]: "1.2"}})
    assert exc.value.errors[f"channel_shares.{plan['channel']}"] == "must be between 0 and 1"
    with session_scope(engine, write=False) as s:
        got = plans.get_plan(s, org.manager_n, plan_id=plan["id"])
    assert got["channel_shares"][0]["share"] == D("0.4000") and len(got["campaigns"]) == 1


def test_budget_vs_spent_from_the_monthly_spend(engine, org, plan):
    with session_scope(engine) as s:
        plans.add_allocation(s, org.manager_n, plan_id=plan["id"], data=dict(kind="money", channel_id=plan["channel"],
                                                                             planned="1000"))
        plans.add_allocation(s, org.manager_n, plan_id=plan["id"], data=dict(kind="people", team_id=org.team_n,
                                                                             planned="3"))
        plans.add_allocation(s, org.manager_n, plan_id=plan["id"], data=dict(kind="money", region="East",
                                                                             planned="500", spent="200"))
        plans.record_spend(s, org.manager_n, plan_id=plan["id"], channel_id=plan["channel"], month=date(2027, 4, 1),
                           amount="700", today=TODAY)
        plans.record_spend(s, org.manager_n, plan_id=plan["id"], channel_id=plan["channel"], month=date(2027, 5, 9),
                           amount="400", today=TODAY)
        plans.record_spend(s, org.manager_n, plan_id=plan["id"], channel_id=plan["channel"], month=date(2027, 5, 1),
                           amount="450", today=TODAY)  # entered again: replaces the month's number
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        plans.record_spend(s, org.manager_n, plan_id=plan["id"], channel_id=plan["channel"], month=date(2027, 6, 1),
                           amount="10", today=TODAY)
    assert "not for a future month" in exc.value.errors["month"]
    with session_scope(engine, write=False) as s:
        rows = plans.plan_budget(s, org.manager_n, plan_id=plan["id"])
        progress = plans.plan_progress(s, org.manager_n, plan_id=plan["id"], today=TODAY)
        assert s.scalar(select(func.count(MarketingSpend.id))) == 2
    by_label = {r["label"]: r for r in rows}
    assert by_label["Trade fair"]["spent"] == D("1150.00") and by_label["Trade fair"]["over_budget"] is True
    assert by_label["East"]["spent"] == D("200.00") and by_label["East"]["over_budget"] is False
    assert by_label["North"]["kind"] == "people" and by_label["North"]["planned"] == D("3.00")
    assert progress["budget_planned"] == D("1500.00") and progress["budget_spent"] == D("1350.00")
    assert progress["budget_used"] == 0.9


def test_discount_limit_is_checked_on_deals(engine, org, plan):
    with session_scope(engine) as s:
        product = Product(name="Robot arm", list_price=D("10000"))
        customer = Customer(name="Buyer", owner_id=org.rep_n1.id)
        s.add_all([product, customer])
        s.flush()
        plans.update_plan(s, org.manager_n, plan_id=plan["id"],
                          changes={"status": "active", "discount_limits": {"rep": "0.1", "manager": "0.2"}})
        product_id, customer_id = product.id, customer.id
    # the plan covers 2027-Q2; check on a day inside it
    with session_scope(engine) as s:
        plans.check_discount(s, org.rep_n1, product_id=product_id, amount=D("9000"), today=TODAY)
        with pytest.raises(ValidationError) as exc:
            plans.check_discount(s, org.rep_n1, product_id=product_id, amount=D("8999.99"), today=TODAY)
        assert "at least 9,000.00" in exc.value.errors["amount"] and "10 %" in exc.value.errors["amount"]
        plans.check_discount(s, org.manager_n, product_id=product_id, amount=D("8000"), owner_id=org.rep_n1.id,
                             today=TODAY)
        plans.check_discount(s, org.rep_s1, product_id=product_id, amount=D("100"), today=TODAY)  # South: no plan
        plans.check_discount(s, org.rep_n1, product_id=product_id, amount=D("100"), today=date(2027, 7, 1))
    # a deal form saved today (outside the plan's quarter) is not limited; inside it would be
    with session_scope(engine) as s:
        plans.update_plan(s, org.manager_n, plan_id=plan["id"], changes={"status": "draft"})
        deals.create_deal(s, org.rep_n1, data=dict(name="Arm", customer_id=customer_id, product_id=product_id,
                                                   amount="100", stage_id=org.stages["Qualify"]))


def test_a_deal_below_the_limit_is_refused_by_the_deal_service(engine, org):
    from services.clock import company_today

    with session_scope(engine) as s:
        today = company_today(s)
        p = plans.create_plan(s, org.manager_n, data=dict(title="Now", period_start=today.replace(day=1),
                                                          period_end=today, team_id=org.team_n, status="active"))
        plans.update_plan(s, org.manager_n, plan_id=p["id"], changes={"discount_limits": {"rep": "0.1"}})
        product = Product(name="Sensor", list_price=D("1000"))
        customer = Customer(name="Buyer", owner_id=org.rep_n1.id)
        s.add_all([product, customer])
        s.flush()
        ids = product.id, customer.id
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        deals.create_deal(s, org.rep_n1, data=dict(name="Sensors", customer_id=ids[1], product_id=ids[0],
                                                   amount="850", stage_id=org.stages["Qualify"]))
    assert "at least 900.00" in exc.value.errors["amount"]
    with session_scope(engine) as s:
        d = deals.create_deal(s, org.rep_n1, data=dict(name="Sensors", customer_id=ids[1], product_id=ids[0],
                                                       amount="900", stage_id=org.stages["Qualify"]))
    with session_scope(engine) as s, pytest.raises(ValidationError):
        deals.update_deal(s, org.rep_n1, deal_id=d.id, version=d.version, changes={"amount": "899"})


def test_who_may_change_a_plan(engine, org, plan):
    with session_scope(engine) as s, pytest.raises(FieldPermissionDenied):
        plans.update_plan(s, org.rep_n1, plan_id=plan["id"], changes={"title": "Mine now"})
    with session_scope(engine) as s, pytest.raises(FieldNotFound):
        plans.get_plan(s, org.manager_s, plan_id=plan["id"])
    with session_scope(engine) as s, pytest.raises(FieldPermissionDenied):
        plans.create_plan(s, org.manager_n, data=dict(title="Company", period="2027"))
    with session_scope(engine, write=False) as s:
        assert [p["id"] for p in plans.list_plans(s, org.rep_n2)] == [plan["id"]]
        assert plans.list_plans(s, org.rep_s1) == []
        assert s.scalar(select(SalesPlan.title)) == "North Q2 push"
