"""Funnel — deals and amount reaching each stage (from the deal history), conversion, win
rate, leakage by lost reason, days in stage, cohorts by month opened, the bottleneck.

Storyboard: title → period, scope, filters, cohort / pipeline → cards (deals, won, lost,
win rate) → bottleneck sentence → funnel chart (PNG download) → stage table → leakage →
cohorts → the deals of a chosen stage.
"""

import streamlit as st

from dashboard import funnel_views as views
from dashboard.analytics_widgets import deal_filter
from dashboard.auth import require_actor
from dashboard.i18n import tr
from dashboard.widgets import period_picker

actor = require_actor()
st.title(tr("analytics.funnel_title"))
period = period_picker("funnel")
flt = deal_filter(actor, "funnel")
mode = views.mode_picker("funnel")

report = views.load_funnel(actor, period, mode, flt)
views.summary_cards(report)
views.bottleneck_line(actor, period, flt, report)
views.funnel_chart_section(report)
views.tables(report)
views.stage_deals_section(actor, period, mode, flt, report)
