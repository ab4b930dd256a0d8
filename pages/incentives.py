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
from dashboard.widgets import keep_tabs, tab_sections

actor = require_actor()
st.title(tr("nav.page_incentives"))
rows = views.schemes(actor)

codes = ("payouts", "what_if", "schemes", "leaderboards", "mine") if actor.is_manager else ("mine", "leaderboards")
tabs = keep_tabs("incentive_tab", {c: tr(f"incentives.page.tab_{c}") for c in codes})
# the leaderboards and one's own payouts are read and drawn only while open
tab_sections(tabs, {
    "payouts": lambda: views.payouts_section(actor, rows),
    "what_if": lambda: views.what_if_section(actor, rows),
    "schemes": lambda: views.schemes_section(actor, rows),
    "leaderboards": lambda: views.leaderboard_section(actor),
    "mine": lambda: views.my_section(actor),
}, lazy=("leaderboards", "mine"))
