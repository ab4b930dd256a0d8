"""The page registry and the navigation built from the signed-in user's role.

A page is registered only when its file exists, so the menu never shows a placeholder:
later issues add their page file (and, if new, a line here) and it appears.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import streamlit as st
from sqlalchemy.engine import Engine

from dashboard.i18n import tr
from services.access import ALL_ROLES, Actor
from services.jobs import run_daily_jobs

APP_DIR = Path(__file__).resolve().parents[1]
_log = logging.getLogger("salesops.pages")
SECTIONS = ("top", "plan", "execute", "analyze", "team", "admin")
MANAGERS = ("admin", "director", "manager")


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


@contextmanager
def error_boundary(page: str) -> Iterator[None]:
    """Around every page (the entry point runs each page inside it): an exception the page
    did not handle is logged on the server with its traceback and a short reference, and the
    user sees one sentence in their language with that reference — never a traceback
    (``client.showErrorDetails`` is off as well). Streamlit's own stop / rerun signals are
    not exceptions and pass through."""
    try:
        yield
    except Exception:
        reference = secrets.token_hex(4)
        _log.exception("page %r failed (reference %s)", page, reference)
        st.error(tr("err.page_failed", reference=reference), icon=":material/error:")


# ---------------------------------------------------------------------------
# once-a-day jobs, started after the page is drawn


@st.cache_resource(show_spinner=False)
def _jobs_box() -> dict[str, str]:
    return {}  # database URL → company day the jobs were last started in this process


def start_daily_jobs(engine: Engine, *, today: date) -> threading.Thread | None:
    """Start ``services.jobs.run_daily_jobs`` in a background thread, at most once per
    company day in this process (the service itself makes it once a day across servers).
    No user's request waits for it; returns the thread, or None when today's already ran."""
    box = _jobs_box()
    db = engine.url.render_as_string(hide_password=True)
    with _JOBS_LOCK:
        if box.get(db) == today.isoformat():
            return None  # no database round trip on every rerun
        box[db] = today.isoformat()
    thread = threading.Thread(target=run_daily_jobs, args=(engine,), name="salesops-daily-jobs", daemon=True)
    thread.start()
    return thread


_JOBS_LOCK = threading.Lock()
