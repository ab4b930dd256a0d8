"""Sales plans (销售计划制定).

Storyboard: title → (managers) new plan → the plan → progress strip (milestones done,
budget used, time elapsed, linked targets' attainment) → tabs: strategy (pricing texts
and discount limits per role, campaigns, channel shares) · timeline (Gantt with today's
line, overdue red; milestone status) · resources (budget vs spent, over budget
highlighted; people; allocation and monthly spend forms).
"""

import streamlit as st

from dashboard import plan_views as views
from dashboard.auth import require_actor
from dashboard.i18n import tr
from dashboard.runner import read
from dashboard.widgets import company_today, keep_tabs
from services import goals, plans, reference

actor = require_actor()
today = company_today()

st.title(tr("plans.title"))
if views.can_plan(actor):
    views.new_plan_form(actor, str(today.year))
plan_id = views.pick_plan(actor)
if plan_id is not None:
    plan = read(lambda s: plans.get_plan(s, actor, plan_id=plan_id))
    channels = {c.id: c.name for c in read(lambda s: reference.list_channels(s, actor))}
    teams = dict(read(lambda s: goals.target_holders(s, actor))["teams"])
    if not plan["editable"]:
        st.caption(tr("plans.read_only"))
    views.progress_strip(actor, plan_id, today)
    tabs = keep_tabs("plans_tab", {code: tr(f"plans.{code}") for code in ("strategy", "timeline", "resources")})
    with tabs["strategy"]:
        views.strategy_section(actor, plan, channels)
    with tabs["timeline"]:
        views.timeline_section(actor, plan, today)
    with tabs["resources"]:
        views.resources_section(actor, plan, channels, teams)
