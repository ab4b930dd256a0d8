"""Training (培训).

Storyboard: title → tabs: my training — what is assigned, due and done, progress and
completion, cases for my open deals · (managers) dashboard — completion per team and
course, overdue, scores · assign — a course to reps or whole teams · courses — catalogue,
scores, new course · coaching — each rep's lagging KPI, the recommended course, assign in
one click, before / after · (everyone) case library · team events.
"""

import streamlit as st

from dashboard import training_views as views
from dashboard.auth import require_actor
from dashboard.i18n import tr
from dashboard.widgets import keep_tabs

actor = require_actor()
st.title(tr("nav.page_training"))

codes = (("dashboard", "assign", "courses", "coaching", "cases", "events", "mine") if actor.is_manager
         else ("mine", "cases", "events"))
tabs = keep_tabs("training_tab", {c: tr(f"training.page.tab_{c}") for c in codes})
with tabs["mine"]:
    views.my_section(actor)
if actor.is_manager:
    with tabs["dashboard"]:
        views.dashboard_section(actor)
    with tabs["assign"]:
        views.assign_section(actor)
    with tabs["courses"]:
        views.courses_section(actor)
    with tabs["coaching"]:
        views.coaching_section(actor)
with tabs["cases"]:
    views.cases_section(actor)
with tabs["events"]:
    views.events_section(actor)
