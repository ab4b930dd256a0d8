"""Customer 360 — everything about one customer: overview, contacts, timeline, deals,
contracts and payments, service tickets, purchase history, lifetime value, feedback.

Storyboard: the customer comes from ``?id=`` or from the grid (session state), else a search
picker → header with the key numbers → one tab per view. Writes (contacts, tickets) go
through services; user text is always shown as plain text.
"""

import streamlit as st

from dashboard import customer360_views as views
from dashboard.auth import require_actor
from dashboard.i18n import tr

actor = require_actor()

customer_id = views.selected_customer_id()
if customer_id is None:
    st.title(tr("customer360.title"))
    customer_id = views.customer_picker(actor)
    if customer_id is None:
        st.info(tr("customer360.choose"))
        st.stop()

profile = views.load_profile(actor, customer_id)
if profile is None:
    views.customer_picker(actor)
    st.stop()

views.header(profile)
views.switch_customer(actor)
tabs = views.tabs()
with tabs["overview"]:
    views.overview_tab(profile)
with tabs["contacts"]:
    views.contacts_tab(actor, profile)
with tabs["timeline"]:
    views.timeline_tab(profile)
with tabs["deals"]:
    views.deals_tab(profile)
with tabs["contracts"]:
    views.contracts_tab(profile)
with tabs["tickets"]:
    views.tickets_tab(actor, profile)
with tabs["purchases"]:
    views.purchases_tab(profile)
with tabs["clv"]:
    views.clv_tab(actor, profile)
with tabs["feedback"]:
    views.feedback_tab(profile)
