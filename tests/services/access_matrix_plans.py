"""Access-matrix rows of the plans area: the North team's plan (this month and the next
two) with a milestone owned by rep_n1 — the team's people see it, the North manager,
director and admin change it, the South side sees nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from services import plans
from services.models import PlanMilestone, SalesPlan
from services.periods import add_months
from tests.services.access_matrix_common import EVERYONE, MANAGERS, OWNER, TODAY, Case

MODULES = (plans,)
TEAM = {**OWNER, "rep_n2": True}  # the plan of rep_n1's team: the whole team reads it
START = TODAY.replace(day=1)
END = add_months(START, 3) - timedelta(days=1)


def extend_world(session, world) -> None:
    plan = SalesPlan(title="North plan", period_start=START, period_end=END, team_id=world.org.team_n,
                     owner_id=world.org.manager_n.id, budget=Decimal("1000"), status="active")
    session.add(plan)
    session.flush()
    milestone = PlanMilestone(plan_id=plan.id, title="Kick-off", owner_id=world.org.rep_n1.id, due_on=END)
    session.add(milestone)
    session.flush()
    world.extra["plan"], world.extra["milestone"] = plan.id, milestone.id


def _plan(w) -> int:
    return w.extra["plan"]


MATRIX = {
    "plans.create_plan": Case(lambda s, a, w: plans.create_plan(s, a, data=dict(
        title="North next", period_start=START, period_end=END, team_id=w.org.team_n)), MANAGERS, writes=True),
    "plans.update_plan": Case(lambda s, a, w: plans.update_plan(s, a, plan_id=_plan(w), changes={"title": "Renamed"}),
                              MANAGERS, writes=True),
    "plans.list_plans": Case(lambda s, a, w: plans.list_plans(s, a), TEAM,
                             sees=lambda r, w: any(p["id"] == w.extra["plan"] for p in r)),
    "plans.get_plan": Case(lambda s, a, w: plans.get_plan(s, a, plan_id=_plan(w)), TEAM),
    "plans.add_campaign": Case(lambda s, a, w: plans.add_campaign(s, a, plan_id=_plan(w), data=dict(
        name="Fair", starts_on=START, ends_on=START, budget="10")), MANAGERS, writes=True),
    "plans.add_milestone": Case(lambda s, a, w: plans.add_milestone(s, a, plan_id=_plan(w), data=dict(
        title="Review", due_on=END)), MANAGERS, writes=True),
    "plans.update_milestone": Case(lambda s, a, w: plans.update_milestone(
        s, a, milestone_id=w.extra["milestone"], changes={"status": "done"}), MANAGERS, writes=True),
    "plans.add_allocation": Case(lambda s, a, w: plans.add_allocation(s, a, plan_id=_plan(w), data=dict(
        kind="money", channel_id=w.channel, planned="100")), MANAGERS, writes=True),
    "plans.record_spend": Case(lambda s, a, w: plans.record_spend(s, a, plan_id=_plan(w), channel_id=w.channel,
                                                                  month=START, amount="50", today=TODAY),
                               MANAGERS, writes=True),
    "plans.plan_budget": Case(lambda s, a, w: plans.plan_budget(s, a, plan_id=_plan(w)), TEAM),
    "plans.plan_progress": Case(lambda s, a, w: plans.plan_progress(s, a, plan_id=_plan(w)), TEAM),
    "plans.check_discount": Case(lambda s, a, w: plans.check_discount(s, a, product_id=w.product, amount=Decimal("1")),
                                 EVERYONE),
}
