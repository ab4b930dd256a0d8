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
from dashboard.widgets import company_today, keep_tabs, tab_sections

actor = require_actor()
today = company_today()

st.title(tr("contracts.title"))
owner_id = rep_filter(actor, "contract_rep")
views.flash_messages()

tabs = keep_tabs("contract_tab", {code: tr(f"contracts.{code}") for code in (
    "list", "due_this_month", "overdue", "collected_this_week", "by_rep", "new_from_deal")})
# the read-only lists are read and drawn only while open
tab_sections(tabs, {
    "list": lambda: views.list_section(actor, owner_id, today),
    "due_this_month": lambda: views.due_section(actor, owner_id, today),
    "overdue": lambda: views.overdue_section(actor, owner_id, today),
    "collected_this_week": lambda: views.collected_section(actor, owner_id, today),
    "by_rep": lambda: views.by_rep_section(actor, owner_id, today),
    "new_from_deal": lambda: views.new_section(actor, today),
}, lazy=("due_this_month", "overdue", "collected_this_week", "by_rep"))
