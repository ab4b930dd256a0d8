"""Incentives (激励).

Storyboard: title → tabs: (managers) payouts — a scheme and period, each rep's payout with
the calculation line by line, save draft / approve / pay · what-if — edit tiers, mode or
bonus thresholds and compare the cost with the current scheme · schemes — the list and a
new scheme; (everyone) leaderboards of the month · my payouts and badges.
"""

import streamlit as st

from dashboard import incentive_views as views
from dashboard.auth import require_actor
from dashboard.i18n import tr
from dashboard.widgets import keep_tabs

actor = require_actor()
st.title(tr("nav.page_incentives"))
rows = views.schemes(actor)

codes = ("payouts", "what_if", "schemes", "leaderboards", "mine") if actor.is_manager else ("mine", "leaderboards")
tabs = keep_tabs("incentive_tab", {c: tr(f"incentives.page.tab_{c}") for c in codes})
if actor.is_manager:
    with tabs["payouts"]:
        views.payouts_section(actor, rows)
    with tabs["what_if"]:
        views.what_if_section(actor, rows)
    with tabs["schemes"]:
        views.schemes_section(actor, rows)
with tabs["leaderboards"]:
    views.leaderboard_section(actor)
with tabs["mine"]:
    views.my_section(actor)
