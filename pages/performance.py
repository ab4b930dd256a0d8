"""Performance & review — KPIs of any scope and period with their formulas, 同比 / 环比, the
rows behind each number, target vs actual, 排行榜, forecast and slippage, findings and the
review (反馈调整).

Storyboard: title → period, scope, filters → KPI cards → drill-down → target vs actual
bullets → leaderboards → forecast → findings and the review form.
"""

import streamlit as st

from dashboard import performance_views as views
from dashboard.analytics_widgets import deal_filter
from dashboard.auth import require_actor
from dashboard.i18n import tr
from dashboard.widgets import period_picker

actor = require_actor()
st.title(tr("analytics.performance_title"))
period = period_picker("performance")
flt = deal_filter(actor, "performance")

views.kpi_cards(views.load_comparison(actor, period, flt))
views.drill_down(actor, period, flt)
views.targets_section(actor, period, flt)
views.leaderboards(actor, period, flt)
views.forecast_section(actor, flt, period)
views.review_section(actor, period, flt)
