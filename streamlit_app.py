"""SalesOps entry point: page config, the sign-in gate and the navigation for the user's role.

Run with ``streamlit run streamlit_app.py``. Unauthenticated visitors see only the sign-in
page (or, on an empty database, the first-run setup); signed-in users get the pages their
role may use, in sections, plus the account block in the sidebar.
"""

import streamlit as st

from dashboard.auth import (
    account_sidebar,
    ensure_navigation_mode,
    restore_session,
    setup_screen,
    sign_in_screen,
    write_cookies,
)
from dashboard.i18n import tr
from dashboard.nav import build_navigation, error_boundary, start_daily_jobs
from dashboard.state import get_engine
from dashboard.widgets import app_icon, company_today, page_style
from services.db import is_empty

st.set_page_config(page_title="SalesOps", page_icon=app_icon(), layout="wide")
page_style()
ensure_navigation_mode()

engine = get_engine()
actor = restore_session()

if actor is None:
    if is_empty(engine):
        gate = st.Page(setup_screen, title=tr("auth.setup_title"), icon=":material/rocket_launch:", url_path="setup")
    else:
        gate = st.Page(sign_in_screen, title=tr("auth.sign_in"), icon=":material/login:", url_path="sign-in")
    with error_boundary(gate.url_path):
        st.navigation([gate], position="hidden").run()
    write_cookies()
    st.stop()

# every entry shown: a folded "View more" hid the team pages from managers on a 1280×720 screen
page = st.navigation(build_navigation(actor), expanded=True)
account_sidebar(actor)
try:
    with error_boundary(page.url_path):
        page.run()
finally:  # after the page is drawn (also when it stops or reruns): nobody waits for the daily jobs
    write_cookies()
    start_daily_jobs(engine, today=company_today())
