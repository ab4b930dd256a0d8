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
from dashboard.widgets import company_today

actor = require_actor()
today = company_today()

st.title(tr("activities.title"))
owner_id = views.rep_filter(actor, "act_rep")

log_tab, agenda_tab, week_tab, forgotten_tab = st.tabs([
    tr("activities.log_title"),
    tr("activities.agenda_team") if actor.is_manager else tr("activities.agenda"),
    tr("activities.calendar"),
    tr("activities.forgotten"),
])
with log_tab:
    views.log_form(actor)
with agenda_tab:
    views.agenda_section(actor, owner_id, today)
with week_tab:
    views.calendar_section(actor, owner_id, today)
with forgotten_tab:
    views.forgotten_section(actor, owner_id, today)
