"""Contracts & collections (合同 / 回款).

Storyboard: title → (managers) rep filter → messages → tabs: contracts (search, list with
collected vs due and ratio; a contract's plan, payments, status, add / split installments,
record a payment) · due this month · overdue · collected this week · collection by rep ·
new contract from a won deal.
"""

import streamlit as st

from dashboard import contract_views as views
from dashboard.activity_views import rep_filter
from dashboard.auth import require_actor
from dashboard.i18n import tr
from dashboard.widgets import company_today

actor = require_actor()
today = company_today()

st.title(tr("contracts.title"))
owner_id = rep_filter(actor, "contract_rep")
views.flash_messages()
lists = views.load_lists(actor, owner_id, today)

tabs = st.tabs([tr("contracts.list"), tr("contracts.due_this_month"), tr("contracts.overdue"),
                tr("contracts.collected_this_week"), tr("contracts.by_rep"), tr("contracts.new_from_deal")])
with tabs[0]:
    views.list_section(actor, owner_id, today)
with tabs[1]:
    views.due_section(lists)
with tabs[2]:
    views.overdue_section(lists)
with tabs[3]:
    views.collected_section(lists)
with tabs[4]:
    views.by_rep_section(lists)
with tabs[5]:
    views.new_section(actor)
