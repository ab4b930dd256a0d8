"""Planner statistics follow the data: a large import refreshes its tables' statistics, the
daily job refreshes them once a company day — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from services import importing, jobs
from services.db import refresh_statistics, session_scope
from services.models import Customer


def _customer_rows_planned(engine) -> int | None:
    """How many customer rows the planner's statistics say there are (None: no statistics)."""
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            if not c.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")).scalar():
                return None
            stat = c.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'customer' ORDER BY idx LIMIT 1")).scalar()
            return int(stat.split()[0]) if stat else None
        return int(c.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'customer'::regclass")).scalar())


def _file(n: int) -> bytes:
    return ("name,phone\n" + "".join(f"Stat customer {i:04d},1390000{i:04d}\n" for i in range(n))).encode()


def test_a_large_import_refreshes_the_statistics_of_its_tables(engine, org, monkeypatch):
    refresh_statistics(engine, tables=["customer"])
    before = _customer_rows_planned(engine) or 0
    monkeypatch.setattr(importing, "LARGE_IMPORT_ROWS", 120)
    res = importing.run_import(engine, org.admin, kind="customers", path=_file(150), batch_rows=100, batch_seconds=60)
    assert res.written == 150
    with session_scope(engine) as s:
        total = s.scalar(select(func.count()).select_from(Customer))
    assert total == before + 150
    assert _customer_rows_planned(engine) == total


def test_a_small_import_leaves_the_statistics_alone(engine, org):
    refresh_statistics(engine, tables=["customer"])
    before = _customer_rows_planned(engine)
    res = importing.run_import(engine, org.admin, kind="customers", path=_file(20), batch_rows=100, batch_seconds=60)
    assert res.written == 20
    assert _customer_rows_planned(engine) == before


def test_the_daily_job_refreshes_the_statistics_once_a_day(engine, org):
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert jobs.run_daily_jobs(engine, now=now)["planner_statistics"] is True
    assert "planner_statistics" not in jobs.run_daily_jobs(engine, now=now + timedelta(hours=2))
    assert jobs.run_daily_jobs(engine, now=now + timedelta(days=1))["planner_statistics"] is True


def test_postgresql_plans_each_run_for_its_own_values(engine):
    """A statement psycopg has prepared (run five times on a connection) is still planned for
    the owners and dates of each run, never once for any values (a team's won deals by month
    took 10 ms on such a generic plan instead of 2 at the large demo)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan cache")
    with engine.connect() as c:
        for _ in range(12):
            c.execute(text("SELECT count(*) FROM customer WHERE id > :n"), {"n": 0}).scalar()
        plans = c.execute(text("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                               "WHERE statement LIKE 'SELECT count(*) FROM customer WHERE id > %'")).all()
    assert [tuple(p) for p in plans] == [(0, 7)]  # prepared at the 6th run, then planned 7 times for its values
