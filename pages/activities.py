"""Activities — log the day's calls and visits, work through the agenda, look at the
week, and find customers nobody has talked to for a while.

Storyboard: title → (managers) rep filter → tabs: quick log form with the customer's
recent timeline · my agenda (overdue / today / rest of the week, mark done in place) ·
week calendar · forgotten customers (7/15/30/90/180 days).
"""

import streamlit as st

from dashboard import activity_views as views
from dashboard.auth import require_actor
from dashboard.i18n import tr
from dashboard.widgets import company_today, keep_tabs, tab_sections

actor = require_actor()
today = company_today()

st.title(tr("activities.title"))
owner_id = views.rep_filter(actor, "act_rep")

tabs = keep_tabs(views.TABS_KEY, {
    "log": tr("activities.log_title"),
    "agenda": tr("activities.agenda_team") if actor.is_manager else tr("activities.agenda"),
    "week": tr("activities.calendar"),
    "forgotten": tr("activities.forgotten"),
})
# the agenda, the week and the forgotten customers are read and drawn only while open (a
# director's week alone is thousands of entries)
tab_sections(tabs, {
    "log": lambda: views.log_form(actor),
    "agenda": lambda: views.agenda_section(actor, owner_id, today),
    "week": lambda: views.calendar_section(actor, owner_id, today),
    "forgotten": lambda: views.forgotten_section(actor, owner_id, today),
}, lazy=("agenda", "week", "forgotten"))
