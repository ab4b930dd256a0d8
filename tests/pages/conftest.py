"""AppTest fixtures: one demo company per test session in a temporary SQLite file.

``demo_db_url`` builds it with ``services.demo.build_demo(scale="small", seed=7, lang="en")``
and points ``DATABASE_URL`` at it for the whole session (restored afterwards);
``demo_actors`` gives the first active user of each role as an ``Actor``. Page tests then do::

    at = AppTest.from_file("pages/x.py", default_timeout=60)
    at.session_state["actor"] = demo_actors["rep"]
    at.run()
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from services.access import ALL_ROLES, Actor
from services.db import make_engine, migrate, session_scope
from services.models import User

ROOT = Path(__file__).resolve().parents[2]


def app_path(relative: str) -> str:
    """Absolute path of an app file, so tests run from any working directory."""
    return str(ROOT / relative)


def _build(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    try:
        from services.demo import build_demo
    except ImportError:  # demo builder not there yet: a small org with default reference data
        from services.reference import ensure_defaults
        from tests.conftest import build_org

        build_org(engine)
        with session_scope(engine) as s:
            ensure_defaults(s, locale="en")
    else:
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
