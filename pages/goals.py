"""Goal setting (销售目标设定).

Storyboard: title → metric, fiscal year and tier → tabs: tracking (period → targets with
attainment, 同比 / 环比 → one target: bullet chart, pace alert, work-back table beside it,
its tree with parts, mismatches, re-total and the split dialog) · set a target (managers:
holder and period → history / market / capacity suggestions side by side with the history
chart → the target form with its basis) · team grid (managers: reps × months with totals,
XLSX out and in).
"""

import streamlit as st

from dashboard import goal_views as views
from dashboard.auth import require_actor
from dashboard.i18n import tr
from dashboard.widgets import company_today, keep_tabs

actor = require_actor()
today = company_today()

st.title(tr("goals.title"))
metric, year, tier = views.pickers(actor, today)

codes = ("track", "set", "grid") if views.can_set(actor) else ("track",)
labels = {"track": tr("goals.attainment"), "set": tr("goals.new_target"), "grid": tr("goals.grid")}
tabs = keep_tabs("goals_tab", {code: labels[code] for code in codes})
with tabs["track"]:
    period = views.period_choice(year)
    views.track_section(actor, metric, period, tier, today)
if "set" in tabs:
    with tabs["set"]:
        views.set_section(actor, metric, year, tier, today)
    with tabs["grid"]:
        views.grid_section(actor, metric, year, tier)
