"""Deals — the pipeline board and every deal's detail.

Storyboard: title → (managers) rep filter → messages → tabs: pipeline board (a column per
open stage with count and sum; cards with customer, amount, owner, days in stage, a red
mark when stalled, and "move to") · deals (search, pick one: move / reopen, edit, history)
· new deal. Moving to won or lost opens a dialog (final amount and close date, then the
offer to create the contract; or the lost reason).
"""

import streamlit as st

from dashboard import deal_views as views
from dashboard.activity_views import rep_filter
from dashboard.auth import require_actor
from dashboard.i18n import tr
from dashboard.widgets import company_today, keep_tabs

actor = require_actor()
today = company_today()

st.title(tr("deals.title"))
owner_id = rep_filter(actor, "deal_rep")
views.flash_messages()

tabs = keep_tabs("deal_tab", {"board": tr("deals.board"), "list": tr("deals.list"), "new": tr("deals.new")})
with tabs["board"]:
    views.board_section(actor, owner_id, today)
with tabs["list"]:
    views.detail_section(actor, owner_id)
with tabs["new"]:
    views.new_deal_form(actor)

views.pending_dialog(actor, today)
