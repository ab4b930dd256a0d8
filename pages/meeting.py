"""Weekly meeting — the screen the team shares every week (1280×720, large type): this week
vs last week and target, funnel, top open deals, won and lost this week, overdue
collections, open action items, leaderboard; presenter mode; the same report as PDF.

Storyboard: title → week, presenter toggle, PDF download → the sections (all, or one at a
time with back / next in presenter mode).
"""

import streamlit as st

from dashboard import meeting_views as views
from dashboard.auth import require_actor
from dashboard.i18n import tr
from dashboard.nav import MANAGERS
from dashboard.widgets import company_today

actor = require_actor(MANAGERS)
st.title(tr("analytics.meeting_title"))
top = st.columns([2, 1, 1])
with top[0]:
    week = views.week_picker(company_today())
presenter = top[1].toggle(tr("analytics.presenter"), key="meeting_presenter")
report = views.load_report(actor, week)
with top[2]:
    views.pdf_download(report)
views.large_type(presenter)

for name in (views.presenter_nav() if presenter else views.SECTIONS):
    views.section(name, report)
