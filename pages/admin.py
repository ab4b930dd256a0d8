"""Admin — users, the team tree, pipeline stages, lost reasons, channels, products and
company settings. Admins change them; directors see them read-only."""

import streamlit as st

from dashboard import admin_views as views
from dashboard.auth import require_actor
from dashboard.i18n import tr

actor = require_actor(("admin", "director"))
read_only = actor.role != "admin"

st.title(tr("admin.title"))
if read_only:
    st.info(tr("admin.read_only"))

tabs = st.tabs([tr("admin.tab_users"), tr("admin.tab_teams"), tr("admin.tab_stages"), tr("admin.tab_lost_reasons"),
                tr("admin.tab_channels"), tr("admin.tab_products"), tr("admin.tab_settings")])
drawers = (views.users_tab, views.teams_tab, views.stages_tab, views.lost_reasons_tab, views.channels_tab,
           views.products_tab, views.settings_tab)
for tab, draw in zip(tabs, drawers, strict=True):
    with tab:
        draw(actor, read_only)
