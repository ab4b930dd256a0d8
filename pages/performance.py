"""Performance & review — KPIs of any scope and period with their formulas, 同比 / 环比, the
rows behind each number, target vs actual, 排行榜, forecast and slippage, findings and the
review (反馈调整).

Storyboard: title → period, scope, filters → KPI cards → stage conversion → drill-down (read
when opened) → tabs: findings and the review form · target vs actual bullets ·
leaderboards · forecast and slippage (each of the last three read when its tab opens).
"""

import streamlit as st

from dashboard import performance_views as views
from dashboard.analytics_widgets import deal_filter
from dashboard.auth import require_actor
from dashboard.i18n import tr
from dashboard.widgets import keep_tabs, period_picker, tab_sections

actor = require_actor()
st.title(tr("analytics.performance_title"))
period = period_picker("performance")
flt = deal_filter(actor, "performance")

views.kpi_cards(views.load("kpis", actor, period, flt))
views.stage_conversion(actor, period, flt)
views.drill_down(actor, period, flt)

tabs = keep_tabs("performance_tab", {code: tr(f"analytics.tab_{code}") for code in (
    "review", "targets", "ranking", "forecast")})
# the review tab holds a form: drawn on every run (see tab_sections); the others read and
# draw only while open
tab_sections(tabs, {
    "review": lambda: views.review_section(actor, period, flt),
    "targets": lambda: views.targets_section(actor, period, flt),
    "ranking": lambda: views.leaderboards(actor, period, flt),
    "forecast": lambda: views.forecast_section(actor, flt, period),
}, lazy=("targets", "ranking", "forecast"))
