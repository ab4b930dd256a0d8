"""Per-process engine, the signed-in actor and the data version.

``st.cache_data`` loaders take ``data_version()`` as an argument so their results refresh
after a change. The version moves on two clocks: a write through this process
(``bump_data_version()``, called by ``dashboard.runner.run_service``) moves it at once; a
write by another app server on the same database (or by the CLI, an import, a daily job)
shows up in the audit log — every change writes an audit row — whose newest id this process
reads at most every ``POLL_SECONDS``, so other servers' changes appear within that time on
the next rerun.
"""

from __future__ import annotations

import contextlib
import os
import time

import streamlit as st
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from services.access import Actor
from services.db import database_url, make_engine, migrate, read_scope
from services.models import AuditLog

ACTOR_KEY = "actor"


def _secret_url() -> str | None:
    try:
        return st.secrets.get("DATABASE_URL")  # type: ignore[no-any-return]
    except Exception:
        return None


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


def get_engine() -> Engine:
    """The app's engine: ``DATABASE_URL`` env var, else ``st.secrets``, else SQLite default.
    Migrated to the newest schema on first use."""
    return _engine_for(database_url(os.environ.get("DATABASE_URL") or _secret_url()))


def db_key() -> str:
    """The database URL as a cache key: ``st.cache_data`` loaders take it so one process
    serving several databases (tests, several companies) never mixes their results."""
    return str(get_engine().url)


def current_actor() -> Actor | None:
    return st.session_state.get(ACTOR_KEY)


def set_actor(actor: Actor | None) -> None:
    if actor is None:
        st.session_state.pop(ACTOR_KEY, None)
    else:
        st.session_state[ACTOR_KEY] = actor


#: How often (seconds) a process looks for changes made elsewhere (other servers, the CLI).
POLL_SECONDS = 2.0


def data_version() -> int:
    """The version cached reads are keyed on: this process's own writes plus the newest audit
    row id (changes by anyone, seen within ``POLL_SECONDS``)."""
    box = _version_box()
    now = time.monotonic()
    if now - box["checked"] >= POLL_SECONDS:
        box["checked"] = now
        with contextlib.suppress(Exception):  # the database being away must not break every page
            box["seen"] = _newest_change(get_engine())
    return box["v"] + box["seen"]


def bump_data_version() -> None:
    _version_box()["v"] += 1


def _newest_change(engine: Engine) -> int:
    with read_scope(engine) as s:
        return int(s.scalar(select(func.max(AuditLog.id))) or 0)


@st.cache_resource(show_spinner=False)
def _version_box() -> dict[str, float]:
    return {"v": 0, "seen": 0, "checked": float("-inf")}
