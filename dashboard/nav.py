"""The page registry and the navigation built from the signed-in user's role.

A page is registered only when its file exists, so the menu never shows a placeholder:
later issues add their page file (and, if new, a line here) and it appears.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import streamlit as st
from sqlalchemy.engine import Engine

from dashboard.i18n import tr
from services import settings as company_settings
from services.access import ALL_ROLES, SYSTEM, Actor
from services.customers import reclaim_stale_customers
from services.db import session_scope
from services.periods import local_today

APP_DIR = Path(__file__).resolve().parents[1]
SECTIONS = ("top", "plan", "execute", "analyze", "team", "admin")
MANAGERS = ("admin", "director", "manager")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageSpec:
    key: str  # also the URL path
    file: str  # relative to the app folder
    section: str  # one of SECTIONS ("top" = above the sections)
    icon: str
    roles: tuple[str, ...] = ALL_ROLES
    default: bool = False
    hidden: bool = False  # reachable by st.switch_page / st.page_link, not in the menu

    @property
    def title_key(self) -> str:
        return f"nav.page_{self.key}"


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "pages/overview.py", "top", ":material/dashboard:", default=True),
    # Plan
    PageSpec("goals", "pages/goals.py", "plan", ":material/flag:"),
    PageSpec("plans", "pages/plans.py", "plan", ":material/event_note:"),
    # Execute
    PageSpec("customers", "pages/customers.py", "execute", ":material/groups:"),
    PageSpec("customer_detail", "pages/customer_detail.py", "execute", ":material/person:", hidden=True),
    PageSpec("activities", "pages/activities.py", "execute", ":material/call:"),
    PageSpec("deals", "pages/deals.py", "execute", ":material/handshake:"),
    PageSpec("contracts", "pages/contracts.py", "execute", ":material/description:"),
    # Analyze
    PageSpec("funnel", "pages/funnel.py", "analyze", ":material/filter_alt:"),
    PageSpec("performance", "pages/performance.py", "analyze", ":material/leaderboard:"),
    PageSpec("meeting", "pages/meeting.py", "analyze", ":material/co_present:", roles=MANAGERS),
    # Team
    PageSpec("training", "pages/training.py", "team", ":material/school:"),
    PageSpec("incentives", "pages/incentives.py", "team", ":material/emoji_events:"),
    # Admin (directors get a read-only view of the admin page)
    PageSpec("import_export", "pages/import_export.py", "admin", ":material/upload_file:", roles=MANAGERS),
    PageSpec("admin", "pages/admin.py", "admin", ":material/settings:", roles=("admin", "director")),
)


def visible_pages(role: str, app_dir: Path = APP_DIR) -> list[PageSpec]:
    """The registry entries a role may open whose page file exists, in menu order."""
    return [p for p in PAGES if role in p.roles and (app_dir / p.file).exists()]


def build_navigation(actor: Actor, app_dir: Path = APP_DIR) -> dict[str, list[st.Page]]:
    """``{section title: [st.Page, …]}`` for ``st.navigation``; the "top" section has the
    empty title so Streamlit shows it above the others."""
    specs = visible_pages(actor.role, app_dir)
    if specs and not any(p.default for p in specs):
        specs[0] = replace(specs[0], default=True)
    sections: dict[str, list[st.Page]] = {}
    for section in SECTIONS:
        pages = [
            st.Page(
                str(app_dir / p.file),
                title=tr(p.title_key),
                icon=p.icon,
                url_path=p.key,
                default=p.default,
                visibility="hidden" if p.hidden else "visible",
            )
            for p in specs
            if p.section == section
        ]
        if pages:
            sections["" if section == "top" else tr(f"nav.section_{section}")] = pages
    return sections


# ---------------------------------------------------------------------------
# once-a-day jobs at app start


@st.cache_resource(show_spinner=False)
def _jobs_box() -> dict[str, str]:
    return {}  # database URL → day the jobs last ran in this process


def run_daily_jobs(engine: Engine, *, today: date | None = None) -> int | None:
    """Return stale customers to the public pool at most once a day (setting
    ``pool_last_reclaim_on`` records the day, so several app servers run it once). Returns
    how many moved, or None when it did not run. A failure is logged, never shown.
    ``today`` defaults to today in the company time zone (read from settings)."""
    box = _jobs_box()
    db = engine.url.render_as_string(hide_password=True)
    if today is not None and box.get(db) == today.isoformat():
        return None  # already done today in this process: no database round trip on every rerun
    try:
        with session_scope(engine) as s:
            if today is None:
                today = local_today(company_settings.get(s, "timezone"))
            stamp = today.isoformat()
            if box.get(db) == stamp or company_settings.get(s, "pool_last_reclaim_on") == stamp:
                box[db] = stamp
                return None
            moved = reclaim_stale_customers(s, SYSTEM)
            company_settings.put(s, "pool_last_reclaim_on", stamp)
        box[db] = stamp
        return moved
    except Exception:  # the app must open even if the job fails
        _log.exception("daily pool reclaim failed")
        return None
