"""How long a large import holds the database's write lock, and whether other users' saves
get through meanwhile.

Builds a customer CSV of ``--rows`` rows (default 40,000), imports it into a fresh
database as the admin — once in committed batches (``services.importing.run_import``, the
page and the CLI), once as one transaction (``import_file(session, …)``, the old way) —
while a second thread saves one new customer every 50 ms through
``services.customers.create_customer`` (a rep at the grid). It prints, per mode: total time,
write transactions, how long each held the write lock (p50 / p95 / max: BEGIN IMMEDIATE →
COMMIT on SQLite), and the other writer's waits and failures. It asserts nothing.

    python benchmarks/import_batches.py                       # SQLite temp file, 40,000 rows
    python benchmarks/import_batches.py --rows 150000 --batch 500
    python benchmarks/import_batches.py --postgres            # TEST_POSTGRES_URL, scratch schema
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, text  # noqa: E402

from services import customers as customer_service  # noqa: E402
from services.access import Actor  # noqa: E402
from services.db import make_engine, migrate, session_scope  # noqa: E402
from services.errors import DomainError  # noqa: E402
from services.importing import import_file, run_import  # noqa: E402
from services.models import Team, User  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else 0.0


def csv_file(rows: int, tag: str) -> bytes:
    lines = ["客户名称,电话,邮箱,地区,等级,备注"]
    lines += [f"{tag}客户{i:06d}有限公司,1{i % 10}{i:09d},c{i}@{tag.lower()}.example,华东,{'ABC'[i % 3]},第 {i} 行"
              for i in range(rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def fresh(url: str | None) -> tuple:
    if url:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(url)
        with admin.begin() as c:
            c.execute(text(f'create schema "{schema}"'))
        engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})

        def drop() -> None:
            engine.dispose()
            with admin.begin() as c:
                c.execute(text(f'drop schema "{schema}" cascade'))
            admin.dispose()
    else:
        folder = tempfile.mkdtemp()
        engine = make_engine(f"sqlite:///{folder}/bench.db")

        def drop() -> None:
            engine.dispose()
    migrate(engine)
    with session_scope(engine) as s:
        team = Team(name="华东", kind="team")
        s.add(team)
        s.flush()
        users = [User(username=n, display_name=n, role=r, team_id=team.id, password_hash="!")
                 for n, r in (("admin", "admin"), ("rep", "rep"))]
        s.add_all(users)
        s.flush()
        actors = [Actor.from_user(u) for u in users]
    return engine, actors, drop


class LockClock:
    """Write transactions of one engine: BEGIN → COMMIT / ROLLBACK, by thread."""

    def __init__(self, engine) -> None:
        self.open: dict[int, float] = {}
        self.held: list[float] = []
        event.listen(engine, "begin", self.begin)
        event.listen(engine, "commit", self.end)
        event.listen(engine, "rollback", self.end)

    def begin(self, conn) -> None:
        if conn.get_execution_options().get("salesops_mode") != "read":
            self.open[threading.get_ident()] = time.perf_counter()

    def end(self, conn) -> None:
        started = self.open.pop(threading.get_ident(), None)
        if started is not None:
            self.held.append(time.perf_counter() - started)


def run(mode: str, url: str | None, rows: int, batch: int) -> dict:
    engine, (admin, rep), drop = fresh(url)
    data = csv_file(rows, "B" if mode == "batches" else "T")
    stop = threading.Event()
    waits: list[float] = []
    failures: list[str] = []

    def other_writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            started = time.perf_counter()
            try:
                with session_scope(engine) as s:
                    customer_service.create_customer(s, rep, data={"name": f"手工录入{n:05d}"})
            except DomainError as exc:
                failures.append(type(exc).__name__)
            waits.append(time.perf_counter() - started)
            stop.wait(0.05)

    clock = LockClock(engine)
    writer = threading.Thread(target=other_writer)
    started = time.perf_counter()
    writer.start()
    if mode == "batches":
        result = run_import(engine, admin, kind="customers", path=data, batch_rows=batch)
    else:
        with session_scope(engine) as s:
            result = import_file(s, admin, kind="customers", path=data)
    total = time.perf_counter() - started
    stop.set()
    writer.join()
    import_locks = sorted(clock.held)[-max(1, result.batches):]  # the import's are the longest
    drop()
    return {"mode": mode, "created": result.created, "seconds": total, "transactions": result.batches,
            "lock p50": pct(import_locks, 0.5), "lock p95": pct(import_locks, 0.95), "lock max": max(import_locks),
            "saves": len(waits), "save p95": pct(waits, 0.95), "save max": max(waits or [0]),
            "failed saves": len(failures)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test") \
        if args.postgres else None
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{'PostgreSQL' if url else 'SQLite'}, {args.rows:,} customer rows, batches of {args.batch}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'mode':<12}{'rows':>8}{'total s':>9}{'txns':>6}{'lock p50':>10}{'lock p95':>10}{'lock max':>10}"
          f"{'saves':>7}{'save p95':>10}{'save max':>10}{'failed':>8}")
    for mode in ("batches", "one"):
        r = run(mode, url, args.rows, args.batch)
        print(f"{r['mode']:<12}{r['created']:>8,}{r['seconds']:>9.1f}{r['transactions']:>6}"
              f"{r['lock p50']:>9.3f}s{r['lock p95']:>9.3f}s{r['lock max']:>9.3f}s{r['saves']:>7}"
              f"{r['save p95']:>9.3f}s{r['save max']:>9.3f}s{r['failed saves']:>8}")
    print("lock: BEGIN → COMMIT of the import's write transactions; save: the other writer's create_customer")


if __name__ == "__main__":
    main()
