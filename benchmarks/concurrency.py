"""A whole team writing at once: 20 writers for 60 s on each database, through the services.

Each writer loops over one kind of write, as a team does in a busy hour:
  customer  update_customer of one of 100 shared customers (the version it just read; a
            newer version is a conflict the user is told about)
  activity  log_activity on one of those customers (moves last contact, next contact)
  deal      update_deal (next step) of one of 50 shared open deals
  contract  create_contract_from_deal for a fresh won deal (numbered HT-…)
  claim     claim_from_pool of a pool customer (several writers race for the same ones)
It prints per kind: committed, conflicts (told to the user), other errors (must be 0), lost
updates (a committed change missing from the final state or the audit log; must be 0) and
the p50 / p95 latency of one save. Then, with ``--import-rows N``, it imports a generated
customer file of N rows (batched commits) while 5 writers keep saving customers, and prints
their p95 save latency during the import.

    python benchmarks/concurrency.py                       # SQLite (temp file) and PostgreSQL
    python benchmarks/concurrency.py --seconds 20 --writers 10 --sqlite-only
    python benchmarks/concurrency.py --import-rows 150000

PostgreSQL: ``TEST_POSTGRES_URL`` or the local server (a scratch schema, dropped after).
It asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text  # noqa: E402

from services import activities, contracts, customers, deals  # noqa: E402
from services.access import Actor  # noqa: E402
from services.db import make_engine, migrate, read_scope, run_in_transaction  # noqa: E402
from services.errors import ConflictError, ValidationError  # noqa: E402
from services.models import AuditLog, Customer, Deal, Stage, Team, User  # noqa: E402

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
KINDS = ("customer", "activity", "deal", "contract", "claim")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def build_world(engine, writers: int) -> dict:
    """A company, ``writers`` directors (they may edit everything), 100 shared customers, 50
    open deals, a pool of 300 customers, 2,000 won deals waiting for contracts, stages."""
    now = datetime.now(UTC)
    today = now.date()

    def work(s):
        company = Team(name="Bench Co", kind="company")
        s.add(company)
        s.flush()
        users = [User(username=f"w{i}", display_name=f"Writer {i}", role="director", team_id=company.id,
                      password_hash="!") for i in range(writers)]
        reps = [User(username=f"r{i}", display_name=f"Rep {i}", role="rep", team_id=company.id,
                     password_hash="!") for i in range(writers)]
        s.add_all(users + reps)
        stages = [Stage(name=n, sequence=q, probability=p, kind=k) for n, q, p, k in
                  (("Qualify", 10, 10, "open"), ("Proposal", 30, 50, "open"), ("Won", 90, 100, "won"),
                   ("Lost", 99, 0, "lost"))]
        s.add_all(stages)
        s.flush()
        shared = [Customer(name=f"Shared {i}", name_norm=f"shared {i}", owner_id=users[0].id,
                           created_at=now - timedelta(days=2)) for i in range(100)]
        pool = [Customer(name=f"Pool {i}", name_norm=f"pool {i}", owner_id=None, pool_entered_at=now,
                         created_at=now - timedelta(days=2)) for i in range(300)]
        s.add_all(shared + pool)
        s.flush()
        open_deals = [Deal(name=f"Open {i}", customer_id=shared[i].id, owner_id=users[0].id,
                           stage_id=stages[0].id, amount=Decimal("1000"), opened_on=today - timedelta(days=10))
                      for i in range(50)]
        won = [Deal(name=f"Won {i}", customer_id=shared[i % 100].id, owner_id=users[0].id, stage_id=stages[2].id,
                    amount=Decimal("5000"), probability=100, opened_on=today - timedelta(days=30),
                    closed_on=today - timedelta(days=1)) for i in range(2000)]
        s.add_all(open_deals + won)
        s.flush()
        return {"writers": [Actor.from_user(u) for u in users], "reps": [Actor.from_user(u) for u in reps],
                "shared": [c.id for c in shared], "pool": [c.id for c in pool],
                "open_deals": [d.id for d in open_deals], "won": [d.id for d in won], "today": today}
    return run_in_transaction(engine, work)


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.committed: dict[str, int] = defaultdict(int)
        self.conflicts: dict[str, int] = defaultdict(int)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.saved_notes: list[tuple[int, str]] = []

    def add(self, kind: str, outcome: str, ms: float, detail: str = "") -> None:
        with self.lock:
            if outcome == "ok":
                self.committed[kind] += 1
                self.latency[kind].append(ms)
            elif outcome == "conflict":
                self.conflicts[kind] += 1
                self.latency[kind].append(ms)
            else:
                self.errors[kind].append(detail)


def writer(engine, world: dict, kind: str, index: int, stop: float, tally: Tally, won_queue: list) -> None:
    rng = random.Random(index)
    actor = world["writers"][index]
    rep = world["reps"][index]
    today = world["today"]
    while time.monotonic() < stop:
        t0 = time.perf_counter()
        try:
            if kind == "customer":
                cid = rng.choice(world["shared"])
                with read_scope(engine) as s:
                    version = s.scalar(select(Customer.version).where(Customer.id == cid))
                note = f"{index}-{uuid.uuid4().hex[:8]}"
                run_in_transaction(engine, partial(customers.update_customer, actor=actor, customer_id=cid,
                                                   version=version, data={"notes": note}))
                with tally.lock:
                    tally.saved_notes.append((cid, note))
            elif kind == "activity":
                cid = rng.choice(world["shared"])
                run_in_transaction(engine, partial(activities.log_activity, actor=actor, data={
                    "customer_id": cid, "kind": "call", "next_contact_on": today + timedelta(days=rng.randint(1, 30))}))
            elif kind == "deal":
                did = rng.choice(world["open_deals"])
                with read_scope(engine) as s:
                    version = s.scalar(select(Deal.version).where(Deal.id == did))
                run_in_transaction(engine, partial(deals.update_deal, actor=actor, deal_id=did, version=version,
                                                   changes={"next_step": f"step {uuid.uuid4().hex[:6]}"}))
            elif kind == "contract":
                with tally.lock:
                    did = won_queue.pop() if won_queue else None
                if did is None:
                    return
                run_in_transaction(engine, partial(contracts.create_contract_from_deal, actor=actor, deal_id=did,
                                                   signed_on=today, term_months=12))
            else:
                cid = rng.choice(world["pool"][:60])  # writers race for the same few
                run_in_transaction(engine, partial(customers.claim_from_pool, actor=rep, ids=[cid]))
        except (ConflictError, ValidationError):
            tally.add(kind, "conflict", (time.perf_counter() - t0) * 1000)
        except Exception as exc:  # noqa: BLE001 — counted: the goal is zero
            tally.add(kind, "error", 0, f"{type(exc).__name__}: {str(exc)[:120]}")
        else:
            tally.add(kind, "ok", (time.perf_counter() - t0) * 1000)


def lost_updates(engine, tally: Tally) -> int:
    """Committed customer saves missing from the audit log, plus customers whose final notes
    are not their last audited value."""
    with read_scope(engine) as s:
        audited: dict[int, list[str]] = defaultdict(list)
        for entity_id, changes in s.execute(select(AuditLog.entity_id, AuditLog.changes).where(
                AuditLog.entity == "customer", AuditLog.action == "update").order_by(AuditLog.id)):
            notes = json.loads(changes).get("notes")
            if notes:
                audited[int(entity_id)].append(notes[1])
        in_audit = {(cid, n) for cid, notes in audited.items() for n in notes}
        missing = sum(1 for pair in tally.saved_notes if pair not in in_audit)
        final = dict(s.execute(select(Customer.id, Customer.notes).where(Customer.id.in_(list(audited)))).all())
        wrong = sum(1 for cid, notes in audited.items() if final.get(cid) != notes[-1])
        claims = s.execute(select(AuditLog.entity_id, func.count()).where(AuditLog.action == "claim")
                           .group_by(AuditLog.entity_id).having(func.count() > 1)).all()
    return missing + wrong + len(claims)


def run_mix(engine, label: str, writers: int, seconds: float) -> None:
    world = build_world(engine, writers)
    tally = Tally()
    won_queue = list(world["won"])
    stop = time.monotonic() + seconds
    threads = [threading.Thread(target=writer, args=(engine, world, KINDS[i % len(KINDS)], i, stop, tally, won_queue))
               for i in range(writers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    lost = lost_updates(engine, tally)
    print(f"\n## {label}: {writers} writers for {seconds:.0f} s\n")
    print("| write | committed | conflicts (told) | other errors | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in KINDS:
        lat = tally.latency[kind]
        print(f"| {kind} | {tally.committed[kind]:,} | {tally.conflicts[kind]:,} | {len(tally.errors[kind])} | "
              f"{pct(lat, 0.5):.1f} | {pct(lat, 0.95):.1f} |")
    print(f"\nlost updates: {lost}")
    for kind, errs in tally.errors.items():
        for e in errs[:3]:
            print(f"  {kind} error: {e}")


def run_import_while_saving(engine, label: str, rows: int, seconds_cap: float = 600) -> None:
    """Import ``rows`` generated customers (batched commits) while 5 writers save customers."""
    from services import importing

    world = build_world(engine, 6)
    path = Path(tempfile.mkdtemp()) / "customers.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("name,region,phone\n")
        for i in range(rows):
            fh.write(f"Imported Company {i:06d},Region {i % 40},139{i:08d}\n")
    tally = Tally()
    done = threading.Event()

    def saver(i: int) -> None:
        stop = time.monotonic() + seconds_cap
        while not done.is_set() and time.monotonic() < stop:
            writer(engine, world, "customer", i, time.monotonic() + 0.5, tally, [])

    threads = [threading.Thread(target=saver, args=(i,)) for i in range(5)]
    for th in threads:
        th.start()
    t0 = time.perf_counter()
    admin = Actor(id=world["writers"][5].id, username="w5", display_name="Writer 5", role="admin", locale="en")
    run_import = getattr(importing, "run_import", None)
    if run_import is not None:  # the batched entry point over an engine
        result = run_import(engine, admin, kind="customers", path=path, mapping={"name": "name", "region": "region",
                                                                                 "phone": "phone"})
    else:
        result = run_in_transaction(engine, lambda s: importing.import_file(
            s, admin, kind="customers", path=path, mapping={"name": "name", "region": "region", "phone": "phone"}))
    took = time.perf_counter() - t0
    done.set()
    for th in threads:
        th.join()
    lat = tally.latency["customer"]
    print(f"\n## {label}: import of {rows:,} customers while 5 writers save\n")
    print(f"import: {took:.1f} s, created {getattr(result, 'created', '?')}; saves meanwhile: "
          f"{tally.committed['customer']:,} committed, {tally.conflicts['customer']:,} conflicts, "
          f"{len(tally.errors['customer'])} other errors; save p50 {pct(lat, 0.5):.0f} ms, p95 {pct(lat, 0.95):.0f} ms, "
          f"max {max(lat) if lat else float('nan'):.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--writers", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--import-rows", type=int, default=0)
    ap.add_argument("--sqlite-only", action="store_true")
    args = ap.parse_args()
    print(f"# Concurrency — {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")

    folder = Path(tempfile.mkdtemp(prefix="salesops-bench-"))
    engine = make_engine(f"sqlite:///{folder / 'concurrency.db'}")
    migrate(engine)
    run_mix(engine, "SQLite", args.writers, args.seconds)
    if args.import_rows:
        engine2 = make_engine(f"sqlite:///{folder / 'import.db'}")
        migrate(engine2)
        run_import_while_saving(engine2, "SQLite", args.import_rows)
    if args.sqlite_only:
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as c:
            c.execute(text(f'create schema "{schema}"'))
    except Exception as exc:  # noqa: BLE001
        print(f"\nPostgreSQL not reachable ({type(exc).__name__}): skipped")
        return
    try:
        for name, run in (("mix", lambda e: run_mix(e, "PostgreSQL", args.writers, args.seconds)),
                          ("import", lambda e: args.import_rows and run_import_while_saving(e, "PostgreSQL",
                                                                                           args.import_rows))):
            sub = f"{schema}_{name}"
            with admin.begin() as c:
                c.execute(text(f'create schema "{sub}"'))
            eng = make_engine(PG_URL, connect_args={"options": f"-csearch_path={sub}"}, pool_size=args.writers + 5)
            migrate(eng)
            run(eng)
            eng.dispose()
            with admin.begin() as c:
                c.execute(text(f'drop schema "{sub}" cascade'))
    finally:
        with admin.begin() as c:
            c.execute(text(f'drop schema if exists "{schema}" cascade'))
        admin.dispose()


if __name__ == "__main__":
    main()
