"""Per-process engine, the signed-in actor and a data-version counter.

Write paths call ``bump_data_version()``; ``st.cache_data`` functions take
``data_version()`` as an argument so their results refresh after a change.
"""

from __future__ import annotations

import os

import streamlit as st
from sqlalchemy.engine import Engine

from services import secret_key
from services.access import Actor
from services.db import database_url, make_engine, migrate

ACTOR_KEY = "actor"


def _from_secrets(key: str) -> str | None:
    try:
        return st.secrets.get(key)  # type: ignore[no-any-return]
    except Exception:
        return None


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


def get_engine() -> Engine:
    """The app's engine: ``DATABASE_URL`` env var, else ``st.secrets``, else SQLite default.
    Migrated to the newest schema on first use. Also hands the token-signing secret of
    ``st.secrets`` (``SALESOPS_SECRET_KEY``), if any, to ``services.secret_key``."""
    secret_key.use(_from_secrets(secret_key.ENV_KEY))
    return _engine_for(database_url(os.environ.get("DATABASE_URL") or _from_secrets("DATABASE_URL")))


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


def data_version() -> int:
    """Process-wide counter so every session sees other users' writes on its next rerun."""
    return _version_box()["v"]


def bump_data_version() -> None:
    _version_box()["v"] += 1


@st.cache_resource(show_spinner=False)
def _version_box() -> dict[str, int]:
    return {"v": 0}
