"""Shared fixtures. ``engine`` runs each service test on SQLite and on PostgreSQL.

PostgreSQL: ``TEST_POSTGRES_URL`` or the local server at 127.0.0.1:5432 (database ``test``).
Each test session works in its own schema, dropped at the end; tables are emptied between
tests. When the server does not answer, the PostgreSQL cases skip with a message.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from services.access import Actor
from services.db import make_engine, migrate, session_scope
from services.models import Stage, Team, User

# Tests (and the app servers they start) sign tokens with a secret of their own, never the
# one of a real installation in data/.
os.environ.setdefault("SALESOPS_SECRET_KEY", "test-" + uuid.uuid4().hex + uuid.uuid4().hex)

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_HINT = (
    "PostgreSQL not reachable at {url}: start the local server or set TEST_POSTGRES_URL="
    "postgresql+psycopg://user@host:5432/db to run the PostgreSQL cases"
)


def _pg_available() -> str | None:
    try:
        eng = make_engine(PG_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return f"{PG_HINT.format(url=PG_URL)} ({type(exc).__name__})"


@contextmanager
def pg_schema_engine():
    """A migrated engine on a schema of its own in the test PostgreSQL database, dropped after."""
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f'create schema "{schema}"'))
    eng = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        migrate(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as c:
            c.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()


@pytest.fixture(scope="session")
def _pg_engine():
    reason = _pg_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with pg_schema_engine() as eng:
        yield eng


@pytest.fixture(scope="session")
def _sqlite_engine(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "salesops-test.db"
    eng = make_engine(f"sqlite:///{path}")
    migrate(eng)
    yield eng
    eng.dispose()


def cli_url(engine) -> str:
    """The test database as a ``DATABASE_URL`` the CLI can open (PostgreSQL: with the test
    session's schema as the search path)."""
    if engine.dialect.name == "sqlite":
        return engine.url.render_as_string(hide_password=False)
    with engine.connect() as c:
        schema = c.exec_driver_sql("show search_path").scalar()
    return engine.url.set(query={"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def _empty_all_tables(eng) -> None:
    tables = [t.name for t in SQLModel.metadata.sorted_tables]
    with eng.begin() as c:
        if eng.dialect.name == "postgresql":
            c.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in tables) + " RESTART IDENTITY CASCADE"))
        else:
            c.execute(text("PRAGMA defer_foreign_keys=ON"))
            for n in reversed(tables):
                c.execute(text(f'DELETE FROM "{n}"'))
            c.execute(text("DELETE FROM sqlite_sequence")) if c.execute(
                text("select name from sqlite_master where name='sqlite_sequence'")
            ).first() else None


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request):
    """An empty, migrated database: SQLite and PostgreSQL."""
    eng = request.getfixturevalue("_sqlite_engine" if request.param == "sqlite" else "_pg_engine")
    _empty_all_tables(eng)
    return eng


@pytest.fixture
def sqlite_engine(_sqlite_engine):
    """SQLite only (for tests about SQLite behaviour)."""
    _empty_all_tables(_sqlite_engine)
    return _sqlite_engine


def downgrade_to(engine, revision: str) -> None:
    """Move the schema down to ``revision`` (a migration test goes back and up again)."""
    from alembic import command

    from services.db import alembic_config

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


@pytest.fixture(params=["sqlite", "postgresql"])
def own_engine(request, tmp_path):
    """A migrated database of this test's own (its schema may move down and up again)."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'own.db'}")
        migrate(eng)
        yield eng
        eng.dispose()
        return
    request.getfixturevalue("_pg_engine")  # skips without a server
    with pg_schema_engine() as eng:
        yield eng


@dataclass
class Org:
    """A small company: admin, director; two teams (north, south) each with a manager and two
    reps; default stages. Actors are plain ``Actor`` values."""

    admin: Actor
    director: Actor
    manager_n: Actor
    manager_s: Actor
    rep_n1: Actor
    rep_n2: Actor
    rep_s1: Actor
    rep_s2: Actor
    company_id: int
    team_n: int
    team_s: int
    stages: dict[str, int]

    def all_actors(self) -> list[Actor]:
        return [self.admin, self.director, self.manager_n, self.manager_s, self.rep_n1, self.rep_n2, self.rep_s1, self.rep_s2]


DEFAULT_STAGES = [
    ("Qualify", 10, 10, "open", 14),
    ("Needs", 20, 25, "open", 14),
    ("Proposal", 30, 50, "open", 21),
    ("Negotiation", 40, 75, "open", 21),
    ("Won", 90, 100, "won", 0),
    ("Lost", 99, 0, "lost", 0),
]


def build_org(eng, locale: str = "en") -> Org:
    with session_scope(eng) as s:
        company = Team(name="ACME", kind="company")
        s.add(company)
        s.flush()
        north = Team(name="North", kind="team", parent_id=company.id)
        south = Team(name="South", kind="team", parent_id=company.id)
        s.add_all([north, south])
        s.flush()

        def user(name, role, team):
            u = User(username=name, display_name=name.title(), role=role, team_id=team, locale=locale,
                     password_hash="!", capacity=Decimal("100000"))
            s.add(u)
            s.flush()
            return u

        admin = user("admin", "admin", company.id)
        director = user("director", "director", company.id)
        mn = user("manager_n", "manager", north.id)
        ms = user("manager_s", "manager", south.id)
        n1, n2 = user("rep_n1", "rep", north.id), user("rep_n2", "rep", north.id)
        s1, s2 = user("rep_s1", "rep", south.id), user("rep_s2", "rep", south.id)
        north.manager_id, south.manager_id, company.manager_id = mn.id, ms.id, director.id
        s.add_all([north, south, company])
        stages = {}
        for name, seq, prob, kind, stall in DEFAULT_STAGES:
            st = Stage(name=name, sequence=seq, probability=prob, kind=kind, stall_days=stall)
            s.add(st)
            s.flush()
            stages[name] = st.id
        a = Actor.from_user
        return Org(a(admin), a(director), a(mn), a(ms), a(n1), a(n2), a(s1), a(s2),
                   company.id, north.id, south.id, stages)


@pytest.fixture
def org(engine) -> Org:
    return build_org(engine)
