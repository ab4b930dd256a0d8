"""AppTest fixtures and helpers shared by the page tests.

Databases (temporary SQLite files):
- ``demo_db_url``: the demo company (``build_demo(scale="small", seed=7, lang="en")``), built
  once per test session and set as ``DATABASE_URL`` for the whole session; ``demo_actors``
  gives the first active user of each role as an ``Actor``.
- ``org_company``: ``build_org`` only (two teams, a manager and two reps each), fresh for
  each test and set as ``DATABASE_URL`` for it; tests add the rows they need.
- ``small_company``: ``build_small_company`` (customers, contacts, open and won deals,
  planned activities, follow-ups due), built once per test module (the tests write to it)
  and set as ``DATABASE_URL`` for each test.
- ``fresh_db_url``: an empty migrated database (first-run setup).

Pages: ``open_page("pages/x.py", actor)`` runs a page as that user (English unless
``locale=``) and fails on an exception; ``rerun(at, element)`` clicks ``element`` (or just
reruns) with the same check::

    at = open_page("pages/deals.py", demo_actors["rep"])
    rerun(at, at.button(key="deal_move_1_btn"))
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from services import settings
from services.access import ALL_ROLES, Actor
from services.db import make_engine, migrate, session_scope
from services.models import Activity, Contact, Customer, Deal, LostReason, Product, User, utcnow
from services.periods import local_today
from tests.conftest import build_org

ROOT = Path(__file__).resolve().parents[2]


def app_path(relative: str) -> str:
    """Absolute path of an app file, so tests run from any working directory."""
    return str(ROOT / relative)


# ---------------------------------------------------------------------------
# running pages


def open_page(page: str, actor: Actor | None, *, locale: str | None = "en", **state: Any) -> AppTest:
    """Run ``page`` (relative to the app folder) as ``actor`` with ``state`` put in session
    state first; asserts the run raised nothing."""
    at = AppTest.from_file(app_path(page), default_timeout=60)
    if actor is not None:
        at.session_state["actor"] = actor
    if locale:
        at.session_state["locale"] = locale
    for key, value in state.items():
        at.session_state[key] = value
    return rerun(at)


def rerun(at: AppTest, element: Any = None) -> AppTest:
    """Click ``element`` (a button) or rerun the page; asserts the run raised nothing."""
    (element.click() if element is not None else at).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def unescape(markdown: str) -> str:
    """Markdown as the user reads it: backslash escapes (``dashboard.text.plain``) removed."""
    return re.sub(r"\\(.)", r"\1", markdown)


def shown_text(at: AppTest) -> str:
    """Everything the page shows as (markdown) text, escapes removed, so user text and
    messages can be looked for as typed."""
    kinds = ("title", "markdown", "caption", "text", "info", "success", "warning", "error")
    return unescape("\n".join(e.value for kind in kinds for e in getattr(at, kind)))


def by_label(widgets, label: str):
    """The first widget of a list with this label."""
    return next(w for w in widgets if w.label == label)


# ---------------------------------------------------------------------------
# databases


def _build(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    from services.demo import build_demo

    build_demo(engine, scale="small", seed=7, lang="en")
    engine.dispose()


@pytest.fixture(scope="session")
def demo_db_url(tmp_path_factory) -> str:
    """URL of the session's demo database; also set as ``DATABASE_URL`` until the end."""
    path = tmp_path_factory.mktemp("demo") / "salesops-demo.db"
    url = f"sqlite:///{path}"
    _build(url)
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    yield url
    if saved is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = saved


@pytest.fixture(scope="session")
def demo_actors(demo_db_url) -> dict[str, Actor]:
    """role → the first active user (lowest id) with that role, as an Actor."""
    engine = make_engine(demo_db_url)
    out: dict[str, Actor] = {}
    with session_scope(engine) as s:
        for role in ALL_ROLES:
            user = s.scalars(select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)).first()
            if user is not None:
                out[role] = Actor.from_user(user)
    engine.dispose()
    return out


@pytest.fixture
def fresh_db_url(tmp_path, monkeypatch) -> str:
    """An empty migrated SQLite database as ``DATABASE_URL`` for this test only."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def org_company(tmp_path, monkeypatch):
    """(url, engine, Org): ``build_org`` in a fresh database, ``DATABASE_URL`` for this test."""
    url = f"sqlite:///{tmp_path / 'company.db'}"
    engine = make_engine(url)
    migrate(engine)
    org = build_org(engine)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url, engine, org
    engine.dispose()


def build_small_company(url: str) -> dict[str, Actor]:
    """Three reps' customers with contacts, open and won deals, a planned activity each and
    follow-ups due; returns {role: Actor} (rep = rep_n1, manager = manager_n, other_rep =
    rep_n2)."""
    eng = make_engine(url)
    migrate(eng)
    org = build_org(eng)
    now = utcnow()
    with session_scope(eng) as s:
        today = local_today(settings.get(s, "timezone"))
        s.add_all([LostReason(name="Price"), LostReason(name="Timing"), Product(name="Widget")])
        for i, rep in enumerate([org.rep_n1, org.rep_n2, org.rep_s1]):
            for j in range(3):
                c = Customer(name=f"Cust {rep.username} {j}", name_norm=f"cust {rep.username} {j}", owner_id=rep.id,
                             next_contact_on=today - timedelta(days=j), last_contact_at=now - timedelta(days=20 * j),
                             created_at=now - timedelta(days=300))
                s.add(c)
                s.flush()
                s.add(Contact(customer_id=c.id, name=f"Contact {rep.username} {j}"))
                for k, stage in enumerate(["Qualify", "Proposal", "Won"]):
                    s.add(Deal(name=f"Deal {i}{j}{k}", customer_id=c.id, owner_id=rep.id, stage_id=org.stages[stage],
                               amount=Decimal(1000 * (k + 1) + j), opened_on=date(2026, 1, 1),
                               probability={"Qualify": 10, "Proposal": 50, "Won": 100}[stage],
                               closed_on=today - timedelta(days=3) if stage == "Won" else None,
                               last_activity_at=now - timedelta(days=30 * j), created_at=now - timedelta(days=60),
                               stage_changed_at=now - timedelta(days=5)))
                if j == 0:
                    s.add(Activity(customer_id=c.id, owner_id=rep.id, kind="visit",
                                   planned_at=now - timedelta(days=2), next_step=f"Visit plan {rep.username}"))
    eng.dispose()
    return {"rep": org.rep_n1, "manager": org.manager_n, "director": org.director, "admin": org.admin,
            "other_rep": org.rep_n2}


@pytest.fixture(scope="module")
def small_company_db(tmp_path_factory) -> tuple[str, dict[str, Actor]]:
    """(url, {role: Actor}) of ``build_small_company``, one per test module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('small_company') / 'company.db'}"
    return url, build_small_company(url)


@pytest.fixture
def small_company(small_company_db, monkeypatch) -> tuple[str, dict[str, Actor]]:
    """The module's small company as ``DATABASE_URL`` for this test."""
    monkeypatch.setenv("DATABASE_URL", small_company_db[0])
    return small_company_db


@pytest.fixture(autouse=True)
def _navigation_mode(monkeypatch):
    """AppTest starts every run as a fresh process would: with our ``pages/`` folder that is
    Streamlit's legacy multipage mode until ``st.navigation`` runs, so a rerun on a page
    would skip ``streamlit_app.py``. A running server leaves that mode after its first run
    (``dashboard.auth.ensure_navigation_mode``); do the same here."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
