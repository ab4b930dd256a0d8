"""The build order of the demo company: one step per area, in dependency order (a step reads
what earlier steps left on the ``Demo``). A new area adds its module and one line here.

Each step names the tables its area owns, parents first; rows are inserted in the order of
this list, so foreign keys always point at rows already written. (An area may finish its rows
in a later step: customer rows once activities tell the last contact, deal rows once their
last activity is known.)"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import SQLModel

from services.i18n import t

from . import (
    activities,
    contracts,
    customers,
    deals,
    forecasts,
    marketing,
    organisation,
    plans,
    reviews,
    service,
    targets,
    team,
)
from .context import Demo, Progress


@dataclass(frozen=True)
class Step:
    run: Callable[[Demo], None]
    tables: tuple[str, ...] = ()  # the tables this area owns, parents first
    progress: tuple[float, str] | None = None  # (fraction done, message key) shown before the step


STEPS: tuple[Step, ...] = (
    Step(organisation.build, ("team", "user"), (0.0, "demo.step_org")),
    Step(customers.build, ("customer", "contact"), (0.05, "demo.step_customers")),
    Step(deals.build, ("deal", "deal_history"), (0.15, "demo.step_deals")),
    Step(activities.build, ("activity",), (0.35, "demo.step_activities")),
    Step(customers.finish, (), (0.7, "demo.step_contracts")),
    Step(contracts.build, ("contract", "payment_plan", "payment")),
    Step(service.build, ("service_ticket",)),
    Step(marketing.build, ("marketing_spend",)),
    Step(targets.build, ("target",), (0.85, "demo.step_targets")),
    Step(plans.build, ("sales_plan", "sales_plan_target", "plan_milestone", "plan_allocation", "plan_campaign",
                       "plan_channel_share", "plan_discount_limit")),
    Step(reviews.build, ("review", "review_action")),
    Step(forecasts.build, ("forecast_snapshot",)),
    Step(team.build, ("course", "course_session", "enrollment", "sales_case", "course_case", "incentive_scheme",
                      "award", "team_event", "team_event_participant"),
         (0.95, "demo.step_team")),
    Step(organisation.audit, ("audit_log",)),
)

# run after the rows are loaded, in the load's transaction: what an area computes with its
# own services from the loaded data (payouts from deals and payments)
# (the step, the tables it writes — recounted for the summary)
AFTER_LOAD: tuple[tuple[Callable, tuple[str, ...]], ...] = ((team.payouts, ("payout", "audit_log")),)

INSERT_ORDER: tuple[str, ...] = tuple(table for step in STEPS for table in step.tables)
REFERENCE_TABLES = ("product", "stage", "lost_reason", "channel")


def id_tables() -> list[str]:
    """The tables whose next id the demo counts from: every table it writes that has an id."""
    names = list(INSERT_ORDER) + list(REFERENCE_TABLES)
    return [name for name in names if "id" in SQLModel.metadata.tables[name].c]


def generate(demo: Demo, report: Progress) -> None:
    """Run every step, then put the tables in insert order."""
    for step in STEPS:
        if step.progress:
            fraction, key = step.progress
            report(fraction, t(key, demo.lang))
        step.run(demo)
    unlisted = set(demo.rows.tables) - set(INSERT_ORDER)
    if unlisted:  # a table no step owns would never be written
        raise RuntimeError(f"demo tables without a build step: {sorted(unlisted)}")
    demo.rows.tables = {k: demo.rows.tables[k] for k in INSERT_ORDER if k in demo.rows.tables}
