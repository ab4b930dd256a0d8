"""One engine from ``DATABASE_URL``, short transactions, and the transaction rule.

URL order: explicit argument → ``DATABASE_URL`` env var → ``sqlite:///data/salesops.db``.
The dashboard reads ``st.secrets`` and passes the URL in; services never import streamlit.

The transaction rule — every service follows it, and every service added later too:

1. One service call is one transaction, opened by its caller: ``session_scope(engine)`` for
   a call that may write, ``read_scope(engine)`` for one that only reads (or, with retries,
   ``run_in_transaction``). Services never commit; an exception rolls everything back.
2. SQLite: a write transaction begins ``IMMEDIATE``, taking the database's write lock up
   front, so concurrent writers queue within ``busy_timeout`` (``LOCK_TIMEOUT_S``) instead of
   failing when a deferred reader tries to upgrade. Read scopes begin deferred and are
   read-only (``PRAGMA query_only``); in WAL mode they never wait for a writer.
3. PostgreSQL (READ COMMITTED): a service that reads rows in order to change them locks
   them first (``select(...).with_for_update()``, several rows in id order), or changes them
   with one conditional UPDATE (``WHERE version = :v``, ``WHERE owner_id IS NULL``, a
   forward-only ``CASE``) and checks the row count with ``expect_rows``. ``lock_timeout`` is
   ``LOCK_TIMEOUT_S``; read scopes are ``READ ONLY``.
4. "At most one" rules are database constraints as well as checks (unique and partial
   unique indexes); numbers come from ``services.sequences`` (a counter row, never max+1).
5. No driver error reaches a user: a lock wait past the bound, a deadlock or a serialization
   failure becomes ``errors.BusyError`` (one plain sentence in the user's language);
   ``run_in_transaction`` first retries the call when the database chose it as a deadlock
   or serialization victim.
6. Long jobs (imports, the daily pool reclaim) commit in batches, each its own short
   transaction and idempotent, so a rerun after a crash writes nothing twice and the team's
   saves go through between batches.
"""

from __future__ import annotations

import os
import random
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from services.errors import BusyError
from services.private_files import private_file

T = TypeVar("T")

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


#: How long a write waits for the database (SQLite busy timeout, PostgreSQL lock_timeout).
LOCK_TIMEOUT_S = 10
#: Deadlock / serialization victims are rerun this many times before the user is told.
RETRIES = 3
_MODE = "salesops_mode"  # execution option: "write" (default) or "read"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # pysqlite would BEGIN only before the first INSERT/UPDATE/DELETE, so reads and a SAVEPOINT
    # issued first would run outside the transaction (a released savepoint would commit). We
    # turn its own handling off and BEGIN ourselves when SQLAlchemy starts a transaction
    # (SQLAlchemy's documented recipe for pysqlite), so one session_scope = one transaction.
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_S * 1000}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(connection) -> None:
    # Rule 2: writers take the write lock at BEGIN (and wait for it within busy_timeout); a
    # deferred BEGIN that reads first could not upgrade later and would fail at once.
    if connection.get_execution_options().get(_MODE) == "read":
        connection.exec_driver_sql("BEGIN")
        connection.exec_driver_sql("PRAGMA query_only=1")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_end(connection) -> None:
    if connection.get_execution_options().get(_MODE) == "read":
        connection.exec_driver_sql("PRAGMA query_only=0")


def _pg_connect(dbapi_connection, _record) -> None:
    # Rule 3's bound: a row lock is waited for at most LOCK_TIMEOUT_S, then BusyError.
    with dbapi_connection.cursor() as cur:
        cur.execute(f"SET lock_timeout = '{LOCK_TIMEOUT_S}s'")
        # psycopg prepares a statement run five times on a connection, and after five more
        # PostgreSQL may plan it once for any parameters: for a team's won deals by month that
        # generic plan took 10 ms where the plan for the owners and dates asked takes 2 (large
        # demo). Statements stay prepared (parsed once); each run is planned for its values.
        if dbapi_connection.info.server_version >= 120000:
            cur.execute("SET plan_cache_mode = force_custom_plan")
    dbapi_connection.commit()


def _pg_begin(connection) -> None:
    if connection.get_execution_options().get(_MODE) == "read":
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")


def sqlite_outside_transaction(connection, sql: str):
    """Run a statement (e.g. ``PRAGMA journal_mode``) on the raw SQLite connection, outside
    any transaction; the caller must have committed first. Returns the first row."""
    return connection.connection.dbapi_connection.execute(sql).fetchone()


def make_engine(url: str | None = None, **kwargs) -> Engine:
    """Create an engine: SQLite gets WAL, foreign keys, a busy timeout and IMMEDIATE write
    transactions (file and folder created owner-only on first use); PostgreSQL gets ``pool_pre_ping`` and a lock
    timeout. See the transaction rule in this module's docstring."""
    url = database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            # owner-only (0600 in a 0700 folder); SQLite gives its -wal / -shm files the same mode
            private_file(Path(db).expanduser().resolve())
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": LOCK_TIMEOUT_S})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "commit", _sqlite_end)
        event.listen(engine, "rollback", _sqlite_end)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _pg_connect)
        event.listen(engine, "begin", _pg_begin)
    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


# SQLSTATEs of PostgreSQL errors that mean "the database is busy", and whether a rerun may help
_PG_BUSY = {"40P01": True, "40001": True, "55P03": False, "57014": False}


def busy_kind(exc: BaseException) -> bool | None:
    """``None`` when ``exc`` is not a "database busy" error; else whether rerunning the
    transaction may succeed (deadlock / serialization victims: yes; a lock wait that already
    took the full timeout: no)."""
    if not isinstance(exc, sa_exc.DBAPIError):
        return None
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state in _PG_BUSY:
        return _PG_BUSY[state]
    text = str(orig).lower()
    if "database is locked" in text or "database table is locked" in text or "database is busy" in text:
        return False
    return None


_open_writes = threading.local()


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One short transaction: commit on success, roll back everything on any exception.
    ``write=False`` is a read-only scope (see the rule above); a "database busy" error of
    the driver comes out as ``BusyError``. A write scope may not open inside another write
    scope of the same thread: the inner one would wait for the outer one's lock until the
    bound and fail, so it is refused at once (pass the session down instead)."""
    depth = getattr(_open_writes, "depth", 0)
    if write and depth:
        raise RuntimeError("a write transaction was opened inside another one in the same thread; "
                           "pass the open session to the inner call instead")
    bind = engine if write else engine.execution_options(**{_MODE: "read"})
    queue = _sqlite_writers(engine) if write else None
    if queue is not None and not queue.acquire(timeout=LOCK_TIMEOUT_S):
        raise BusyError()
    session = Session(bind, expire_on_commit=False)
    session.info["read_only"] = not write  # lets a read memoize what cannot change in it (read_once)
    if write:
        _open_writes.depth = depth + 1
    try:
        yield session
        session.commit()
    except BaseException as exc:
        session.rollback()
        retry = busy_kind(exc)
        if retry is not None:
            raise BusyError(retryable=retry) from exc
        raise
    finally:
        if write:
            _open_writes.depth = depth
        session.close()
        if queue is not None:
            queue.release()


_WRITERS: dict[str, threading.Lock] = {}
_WRITERS_LOCK = threading.Lock()


def _sqlite_writers(engine: Engine) -> threading.Lock | None:
    """One lock per SQLite database file in this process: its writers wait for each other on
    it (woken in turn) instead of polling SQLite's busy handler, whose growing sleeps let a
    writer that lost a few times wait far longer than the queue in front of it. Writers in
    other processes still queue through ``busy_timeout``. None for PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return None
    key = str(engine.url)
    with _WRITERS_LOCK:
        return _WRITERS.setdefault(key, threading.Lock())


def read_once(session: Session, key: tuple, compute: Callable[[], T]) -> T:
    """``compute()`` once per read-only transaction (``read_scope``) for ``key``: for what
    does not change inside one, asked by many services of a page (who sees what, the stage
    ids of a kind), a statement each time. Computed afresh in a write transaction, which may
    be changing it."""
    if not session.info.get("read_only"):
        return compute()
    memo = session.info.setdefault("read_once", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


_SHAPES: dict[tuple, object] = {}


def shaped(key: tuple, build: Callable[[], T]) -> T:
    """The statement ``build()`` returns for ``key``, built once per process. ``key`` names
    the statement's shape — its tables, columns and which conditions it has, never a value —
    and the values are bind parameters given when it runs (``session.execute(stmt, params)``;
    an ``IN`` list an ``expanding`` one). SQLAlchemy finds a statement's compiled SQL by a key
    it computes from the statement on every execution: building the statement and that key
    cost ~130 µs a statement on this machine, more than a rep's small reads themselves (a
    rep's KPI block is 31 statements). A statement object is immutable; sharing it between
    threads is safe. (A builder whose arguments are its shape does the same with
    ``functools.lru_cache``: the Overview's pipeline, the deal board, the agenda, the
    customer grid; owner shapes and parameters come from ``access.owner_scope_key``.)"""
    stmt = _SHAPES.get(key)
    if stmt is None:
        stmt = _SHAPES.setdefault(key, build())
    return stmt  # type: ignore[return-value]


def read_scope(engine: Engine):
    """A read-only transaction (rule 2): never takes a write lock, refuses writes."""
    return session_scope(engine, write=False)


def run_in_transaction(engine: Engine, work: Callable[[Session], T], *, write: bool = True,
                       retries: int = RETRIES) -> T:
    """``work(session)`` in one transaction, rerun from the start (with a short growing
    pause) when the database picked it as a deadlock / serialization victim; any other
    ``BusyError`` (the lock wait took the whole bound) is raised at once."""
    attempt = 0
    while True:
        try:
            with session_scope(engine, write=write) as session:
                return work(session)
        except BusyError as exc:
            attempt += 1
            if not exc.retryable or attempt > retries:
                raise
            time.sleep(0.02 * attempt + random.random() * 0.03)


def expect_rows(result, expected: int, error: Callable[[], Exception]) -> None:
    """Rule 3's check of a conditional UPDATE / DELETE: when it touched a different number
    of rows than ``expected`` (someone else changed them first), raise ``error()``."""
    if result.rowcount != expected:
        raise error()


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
    with read_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(User)) == 0


#: SQLite ``analysis_limit`` for full statistics: 0 reads every index entry. A sampled ANALYZE
#: (e.g. 1000 rows per index) mis-counts skewed columns — deals per stage came out as 1,001
#: when won / lost held 75k / 187k — and the planner then reads the wrong index row by row.
FULL_ANALYSIS = 0
#: ``analysis_limit`` for the scheduled ``PRAGMA optimize`` (bounded work on a live database).
OPTIMIZE_ANALYSIS = 0


def refresh_statistics(engine: Engine, *, tables: list[str] | None = None) -> None:
    """Planner statistics that match the data, after bulk changes (the demo build, a large
    import) and on a schedule: SQLite ``ANALYZE`` with ``analysis_limit`` off (every index
    entry counted), PostgreSQL ``ANALYZE`` of our tables (``tables``, default every table of
    the models; a bare ANALYZE would visit every schema of a shared database). Runs outside
    any service transaction; readers keep reading meanwhile."""
    if is_sqlite(engine):
        with engine.connect() as conn:
            conn.commit()
            sqlite_outside_transaction(conn, f"PRAGMA analysis_limit={FULL_ANALYSIS}")
            for table in tables or [""]:
                sqlite_outside_transaction(conn, f'ANALYZE "{table}"' if table else "ANALYZE")
        return
    from sqlmodel import SQLModel

    import services.models  # noqa: F401  (registers the tables)

    names = tables or [t.name for t in SQLModel.metadata.sorted_tables]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE " + ", ".join(f'"{n}"' for n in names))


def optimize_statistics(engine: Engine) -> None:
    """The scheduled refresh (a daily job): SQLite ``PRAGMA optimize`` — ANALYZE of the tables
    whose row counts moved enough since their last statistics; PostgreSQL ``ANALYZE`` of our
    tables (autovacuum does this too, this bounds how stale they can get)."""
    if is_sqlite(engine):
        with engine.connect() as conn:
            conn.commit()
            sqlite_outside_transaction(conn, f"PRAGMA analysis_limit={OPTIMIZE_ANALYSIS}")
            sqlite_outside_transaction(conn, "PRAGMA optimize")
        return
    refresh_statistics(engine)
