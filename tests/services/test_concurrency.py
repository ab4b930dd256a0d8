"""A whole team writing at once, on SQLite and PostgreSQL (the transaction rule in
services/db.py). Bounded: at most 20 threads, a few seconds each.

- concurrent grid saves and activity logs on the same customers: every committed change is in
  the final state and in the audit log, every loser gets a ConflictError, nothing else fails;
- ten reps claiming one pool customer: one owner, one "claimed", one claim audit row;
- ten contracts for one won deal at once: one live contract; twenty for different deals: all
  succeed with unique numbers;
- sixteen activities logged on one customer at once: last contact = the newest activity;
- the same deal version moved by ten users: one move, the others are told it changed.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from services import activities, contracts, customers, deals
from services.access import Actor
from services.db import read_scope, run_in_transaction
from services.errors import ConflictError, ValidationError
from services.models import AuditLog, Contract, Customer, Deal, User
from services.models.customers import Customer as CustomerTable

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()


def race(n: int, work: Callable[[int], object], *, seconds: float | None = None) -> tuple[list, list, list]:
    """Run ``work(i)`` in ``n`` threads released together (once, or in a loop for
    ``seconds``): (results, expected refusals, any other exception)."""
    barrier = threading.Barrier(n)
    results, refused, failed = [], [], []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        stop = time.monotonic() + (seconds or 0)
        while True:
            try:
                value = work(i)
            except (ConflictError, ValidationError) as exc:
                with lock:
                    refused.append(exc)
            except Exception as exc:  # noqa: BLE001 — a driver error, "locked", a deadlock: a finding
                with lock:
                    failed.append(exc)
            else:
                with lock:
                    results.append(value)
            if seconds is None or time.monotonic() >= stop:
                return

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    return results, refused, failed


def add_customers(engine, owner: Actor, n: int, *, pool: bool = False) -> list[int]:
    def work(s):
        rows = [CustomerTable(name=f"Race {owner.username} {pool} {i}", owner_id=None if pool else owner.id,
                              pool_entered_at=NOW if pool else None, created_at=NOW - timedelta(days=1))
                for i in range(n)]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]
    return run_in_transaction(engine, work)


def won_deals(engine, org, owner: Actor, customer_id: int, n: int) -> list[int]:
    def work(s):
        rows = [Deal(name=f"Won {i}", customer_id=customer_id, owner_id=owner.id, stage_id=org.stages["Won"],
                     amount=Decimal("1000"), probability=100, opened_on=TODAY - timedelta(days=30),
                     closed_on=TODAY - timedelta(days=1)) for i in range(n)]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]
    return run_in_transaction(engine, work)


def test_concurrent_grid_saves_and_activity_logs(engine, org):
    rep = org.rep_n1
    ids = add_customers(engine, rep, 10)
    rng_lock = threading.Lock()
    rng = random.Random(7)

    def pick() -> int:
        with rng_lock:
            return rng.choice(ids)

    def save(i: int):
        cid = pick()
        with read_scope(engine) as s:
            version = customers.get_customer(s, rep, customer_id=cid)["version"]
        note = f"note {i} {time.monotonic_ns()}"
        run_in_transaction(engine, lambda s: customers.update_customer(s, rep, customer_id=cid, version=version,
                                                                       data={"notes": note}))
        return cid, note

    def log(i: int):
        cid = pick()
        run_in_transaction(engine, lambda s: activities.log_activity(
            s, rep, data={"customer_id": cid, "kind": "call", "next_contact_on": TODAY + timedelta(days=1 + i % 20)}))
        return cid, None

    results, refused, failed = race(10, lambda i: save(i) if i % 2 else log(i), seconds=3)
    assert not failed, failed[:3]
    assert all(isinstance(e, ConflictError) for e in refused), refused[:3]
    saved = [r for r in results if r[1] is not None]
    assert saved and refused, "the race should produce both saves and conflicts"
    with read_scope(engine) as s:
        audited = {}
        for entity_id, changes in s.execute(
                select(AuditLog.entity_id, AuditLog.changes).where(AuditLog.entity == "customer",
                                                                   AuditLog.action == "update")
                .order_by(AuditLog.id)).all():
            audited.setdefault(int(entity_id), []).append(json.loads(changes)["notes"][1])
        # every committed save is in the audit log, in commit order, and the last one is what the row holds
        assert sorted(n for _c, n in saved) == sorted(n for notes in audited.values() for n in notes)
        for cid, notes in audited.items():
            assert s.scalar(select(Customer.notes).where(Customer.id == cid)) == notes[-1]
        logged = s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.entity == "activity"))
        assert logged == len(results) - len(saved)


def test_one_of_ten_reps_gets_a_pool_customer(engine, org):
    def add_reps(s):
        users = [User(username=f"racer{i}", display_name=f"Racer {i}", role="rep", team_id=org.team_n,
                      password_hash="!") for i in range(10)]
        s.add_all(users)
        s.flush()
        return [Actor.from_user(u) for u in users]
    reps = run_in_transaction(engine, add_reps)
    pool_id = add_customers(engine, org.rep_n1, 1, pool=True)[0]
    results, refused, failed = race(10, lambda i: run_in_transaction(
        engine, lambda s: customers.claim_from_pool(s, reps[i], ids=[pool_id])) and reps[i].id)
    assert not failed, failed
    assert len(results) == 1 and len(refused) == 9
    with read_scope(engine) as s:
        assert s.scalar(select(Customer.owner_id).where(Customer.id == pool_id)) == results[0]
        assert s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.entity == "customer", AuditLog.entity_id == str(pool_id), AuditLog.action == "claim")) == 1
    winner = next(r for r in reps if r.id == results[0])
    assert all(winner.display_name in str(e.row_errors) for e in refused)  # "was just claimed by …"


def test_one_live_contract_per_deal_and_unique_numbers(engine, org):
    rep = org.rep_n1
    cid = add_customers(engine, rep, 1)[0]
    one = won_deals(engine, org, rep, cid, 1)[0]

    def create(deal_id):
        return run_in_transaction(engine, lambda s: contracts.create_contract_from_deal(
            s, rep, deal_id=deal_id, signed_on=TODAY, term_months=12, now=NOW).number)

    results, refused, failed = race(10, lambda i: create(one))
    assert not failed, failed
    assert len(results) == 1 and len(refused) == 9
    assert all(results[0] in str(e.errors) for e in refused)  # "this deal already has contract HT-…"
    many = won_deals(engine, org, rep, cid, 20)
    numbers, refused, failed = race(20, lambda i: create(many[i]))
    assert not failed and not refused, (failed, refused)
    assert len(set(numbers)) == 20
    with read_scope(engine) as s:
        live = s.execute(select(Contract.deal_id, func.count()).where(Contract.status != "cancelled")
                         .group_by(Contract.deal_id)).all()
        assert len(live) == 21 and all(n == 1 for _d, n in live)


def test_last_contact_is_the_newest_of_sixteen_parallel_logs(engine, org):
    rep = org.rep_n1
    cid = add_customers(engine, rep, 1)[0]
    times = [NOW - timedelta(hours=i) for i in range(16)]
    random.Random(3).shuffle(times)
    results, refused, failed = race(16, lambda i: run_in_transaction(engine, lambda s: activities.log_activity(
        s, rep, data={"customer_id": cid, "kind": "visit", "done_at": times[i],
                      "next_contact_on": TODAY + timedelta(days=3)}, now=NOW)))
    assert not failed and not refused, (failed, refused)
    with read_scope(engine) as s:
        last = s.scalar(select(Customer.last_contact_at).where(Customer.id == cid))
    assert (last if last.tzinfo else last.replace(tzinfo=UTC)) == max(times)


def test_one_move_of_the_same_deal_version(engine, org):
    rep = org.rep_n1
    cid = add_customers(engine, rep, 1)[0]
    deal_id = run_in_transaction(engine, lambda s: deals.create_deal(
        s, rep, data={"name": "Contested", "customer_id": cid, "stage_id": org.stages["Qualify"],
                      "amount": "100", "expected_close": TODAY + timedelta(days=30)}).id)
    targets = [org.stages["Needs"], org.stages["Proposal"], org.stages["Negotiation"]]
    results, refused, failed = race(10, lambda i: run_in_transaction(engine, lambda s: deals.move_deal(
        s, rep, deal_id=deal_id, stage_id=targets[i % 3], version=1)).deal.stage_id)
    assert not failed, failed
    assert len(results) == 1 and len(refused) == 9
    assert all(isinstance(e, ConflictError) for e in refused)
    with read_scope(engine) as s:
        assert s.scalar(select(Deal.stage_id).where(Deal.id == deal_id)) == results[0]
        assert s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.entity == "deal", AuditLog.action == "move")) == 1

