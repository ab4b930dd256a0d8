"""Overview — the landing page: the signed-in user's results and work for a period.

Storyboard: title → period and scope pickers → metric cards (won vs target, win rate,
won/lost, pipeline, weighted pipeline, activities, overdue follow-ups) → won vs target
bullet → monthly won revenue trend with target → open pipeline by stage.
"""

import streamlit as st

from dashboard import overview_views as views
from dashboard.auth import require_actor
from dashboard.i18n import tr
from dashboard.text import plain
from dashboard.widgets import company_today, period_picker, scope_picker

actor = require_actor()

st.title(tr("overview.title"))
st.caption(tr("overview.greeting", name=plain(actor.display_name)))
views.getting_started(actor)

pick_period, pick_scope = st.columns([3, 1])
with pick_period:
    period = period_picker("overview")
with pick_scope:
    scope = scope_picker(actor, "overview")

today = company_today()
kpis = views.load_kpis(actor, period, scope, today)
views.kpi_cards(kpis)
views.target_bullet(kpis)

trend_col, pipeline_col = st.columns([3, 2])
with trend_col:
    views.trend_section(views.load_trend(actor, scope, today))
with pipeline_col:
    views.pipeline_section(views.load_pipeline(actor, scope))
