"""One engine from ``DATABASE_URL`` and short transactions.

URL order: explicit argument → ``DATABASE_URL`` env var → ``sqlite:///data/salesops.db``.
The dashboard reads ``st.secrets`` and passes the URL in; services never import streamlit.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

DEFAULT_URL = "sqlite:///data/salesops.db"

# SQLite stores Numeric as its own type; SQLAlchemy converts back to Decimal on read and
# warns about it on every query. The rounding it mentions is covered by Numeric(14, 2).
warnings.filterwarnings("ignore", category=sa_exc.SAWarning, message=".*does \\*not\\* support Decimal.*")


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``DATABASE_URL``, else the SQLite default."""
    url = url or os.environ.get("DATABASE_URL") or DEFAULT_URL
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # pysqlite would BEGIN only before the first INSERT/UPDATE/DELETE, so reads and a SAVEPOINT
    # issued first would run outside the transaction (a released savepoint would commit). We
    # turn its own handling off and BEGIN ourselves when SQLAlchemy starts a transaction
    # (SQLAlchemy's documented recipe for pysqlite), so one session_scope = one transaction.
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN")


def sqlite_outside_transaction(connection, sql: str):
    """Run a statement (e.g. ``PRAGMA journal_mode``) on the raw SQLite connection, outside
    any transaction; the caller must have committed first. Returns the first row."""
    return connection.connection.dbapi_connection.execute(sql).fetchone()


def make_engine(url: str | None = None, **kwargs) -> Engine:
    """Create an engine: SQLite gets WAL, foreign keys and a busy timeout (folder created on
    first use); PostgreSQL gets ``pool_pre_ping``."""
    url = database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            Path(db).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kwargs)
    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One short transaction: commit on success, roll back everything on any exception."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with the Alembic migrations in services/migrations."""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def alembic_config(engine: Engine | None = None):
    from alembic.config import Config

    here = Path(__file__).resolve().parent
    cfg = Config()
    cfg.set_main_option("script_location", str(here / "migrations"))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def is_empty(engine: Engine) -> bool:
    """True when no user exists yet (first run)."""
    from sqlalchemy import func, inspect, select

    from services.models import User

    if not inspect(engine).has_table("user"):
        return True
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(User)) == 0
