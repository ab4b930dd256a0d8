"""Large imports commit in short batches: a failure keeps the batches before it and says how
many rows they wrote, a rerun finishes without duplicates, a dry run writes nothing, and
another user's save goes through between batches (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text

from services import customers as customer_service
from services.db import session_scope
from services.importing import run_import
from services.models import AuditLog, Customer


def _file(n: int) -> bytes:
    return ("name,phone\n" + "".join(f"Customer {i:04d},1380000{i:04d}\n" for i in range(n))).encode()


def _count(engine, model=Customer) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.fixture
def failing_insert(engine):
    """A database that refuses one customer row (a full disk, a constraint from elsewhere)."""
    name = "Customer 0450"  # data row 451: the third batch of 200
    if engine.dialect.name == "sqlite":
        create = [f"CREATE TRIGGER import_boom BEFORE INSERT ON customer WHEN NEW.name = '{name}' "
                  "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"]
        drop = ["DROP TRIGGER IF EXISTS import_boom"]
    else:
        create = ["CREATE FUNCTION import_boom() RETURNS trigger AS $$ BEGIN "
                  f"IF NEW.name = '{name}' THEN RAISE EXCEPTION 'disk on fire'; END IF; RETURN NEW; END $$ "
                  "LANGUAGE plpgsql",
                  "CREATE TRIGGER import_boom BEFORE INSERT ON customer FOR EACH ROW EXECUTE FUNCTION import_boom()"]
        drop = ["DROP TRIGGER IF EXISTS import_boom ON customer", "DROP FUNCTION IF EXISTS import_boom()"]

    def run(statements):
        with engine.begin() as c:
            for sql in statements:
                c.execute(text(sql))

    run(create)
    yield lambda: run(drop)
    run(drop)


def test_a_failed_third_batch_keeps_the_first_two_and_a_rerun_finishes(engine, org, failing_insert):
    data = _file(1000)
    res = run_import(engine, org.admin, kind="customers", path=data, batch_rows=200, batch_seconds=60)
    assert res.failure and res.failed_rows == (402, 601)
    assert (res.batches, res.written, res.created) == (2, 400, 400)
    assert res.to_dict()["written"] == 400 and res.to_dict()["failed_rows"] == [402, 601]
    assert _count(engine) == 400  # the first two batches stay; the third is rolled back whole
    failing_insert()  # the cause is fixed; the same file is imported again
    again = run_import(engine, org.admin, kind="customers", path=data, batch_rows=200, batch_seconds=60)
    assert again.failure is None and (again.created, again.skipped, again.batches) == (600, 400, 5)
    assert _count(engine) == 1000
    with session_scope(engine) as s:
        assert s.scalar(select(func.count(func.distinct(Customer.name_norm)))) == 1000
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.entity == "customer")) == 1000


def test_progress_comes_after_each_committed_batch(engine, org):
    seen = []
    res = run_import(engine, org.admin, kind="customers", path=_file(450), batch_rows=200, batch_seconds=60,
                     progress=lambda done, total: seen.append((done, total, _count(engine))))
    assert res.created == 450
    # each call sees its batch committed (counted from another connection)
    assert seen == [(200, 450, 200), (400, 450, 400), (450, 450, 450)]


def test_a_batch_ends_at_its_time_budget(engine, org):
    seen = []
    res = run_import(engine, org.admin, kind="customers", path=_file(30), batch_rows=200, batch_seconds=0,
                     progress=lambda done, total: seen.append(done))
    # a budget already spent after each row: one row per transaction, none lost or repeated
    assert res.created == 30 and res.batches == 30 and seen == list(range(1, 31))
    assert _count(engine) == 30


def test_a_dry_run_in_batches_writes_nothing(engine, org):
    res = run_import(engine, org.admin, kind="customers", path=_file(500) + b"Customer 0001,\n", dry_run=True,
                     batch_rows=100)
    assert res.dry_run and (res.created, res.skipped, res.written) == (500, 1, 0)
    assert _count(engine) == 0 and _count(engine, AuditLog) == 0


def test_another_users_save_goes_through_between_batches(engine, org):
    first_batch_done, saved = threading.Event(), threading.Event()
    outcome: dict = {}

    def progress(done: int, total: int) -> None:
        if done == 200:
            first_batch_done.set()
            saved.wait(30)  # the import pauses between batches until the other save is in

    def importing() -> None:
        outcome["result"] = run_import(engine, org.manager_n, kind="customers", path=_file(1000), batch_rows=200,
                                       batch_seconds=60, progress=progress)

    worker = threading.Thread(target=importing)
    worker.start()
    try:
        assert first_batch_done.wait(60)
        started = time.monotonic()
        with session_scope(engine) as s:  # a rep saves a new customer from the grid meanwhile
            customer_service.create_customer(s, org.rep_n1, data={"name": "Typed Meanwhile Ltd"})
        waited = time.monotonic() - started
    finally:
        saved.set()
        worker.join(120)
    assert waited < 5, f"the save waited {waited:.1f} s for the import"
    res = outcome["result"]
    assert res.failure is None and res.created == 1000
    assert _count(engine) == 1001
