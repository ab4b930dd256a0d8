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
from dashboard.widgets import keep_tabs, tab_sections

actor = require_actor()
st.title(tr("nav.page_training"))

codes = (("dashboard", "assign", "courses", "coaching", "cases", "events", "mine") if actor.is_manager
         else ("mine", "cases", "events"))
tabs = keep_tabs("training_tab", {c: tr(f"training.page.tab_{c}") for c in codes})
# the team's completion dashboard and the coaching suggestions (a row per weak KPI of each rep)
# are read and drawn only while open
tab_sections(tabs, {
    "mine": lambda: views.my_section(actor),
    "dashboard": lambda: views.dashboard_section(actor),
    "assign": lambda: views.assign_section(actor),
    "courses": lambda: views.courses_section(actor),
    "coaching": lambda: views.coaching_section(actor),
    "cases": lambda: views.cases_section(actor),
    "events": lambda: views.events_section(actor),
}, lazy=("dashboard", "coaching"))
