"""What was paid on an installment (``payment_plan.paid_amount``) is kept by the database with
every payment written — by the service, by another writer, at the same time — so the due and
overdue lists can read it from an index and still match the payments (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, func, insert, select, update

from services.contracts import add_installment, overdue_installments, record_payment
from services.db import session_scope
from services.models import Payment, PaymentPlan
from tests.services.test_activities import NOW, TODAY
from tests.services.test_contracts import new_contract


def _paid(engine, plan_id: int) -> tuple[Decimal, Decimal]:
    """(paid_amount kept on the installment, Σ of its payments)."""
    with session_scope(engine) as s:
        kept = s.scalar(select(PaymentPlan.paid_amount).where(PaymentPlan.id == plan_id))
        summed = s.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.plan_id == plan_id))
    return Decimal(str(kept)).quantize(Decimal("0.01")), Decimal(str(summed)).quantize(Decimal("0.01"))


def _installment(engine, org, amount="1000") -> tuple[int, int]:
    cid = new_contract(engine, org)
    with session_scope(engine) as s:
        plan = add_installment(s, org.rep_n1, contract_id=cid, due_on=date(2026, 11, 10), amount=amount)
    return cid, plan.id


def test_paid_follows_every_payment_whoever_writes_it(engine, org):
    cid, pid = _installment(engine, org)
    with session_scope(engine) as s:
        record_payment(s, org.rep_n1, contract_id=cid, plan_id=pid, received_on=TODAY, amount="300.10", now=NOW)
    assert _paid(engine, pid) == (Decimal("300.10"), Decimal("300.10"))
    with session_scope(engine) as s:  # another writer (a script, an import) inserts a payment directly
        s.execute(insert(Payment).values(contract_id=cid, plan_id=pid, received_on=TODAY, amount=Decimal("99.90")))
    assert _paid(engine, pid) == (Decimal("400.00"), Decimal("400.00"))
    with session_scope(engine) as s:  # corrected, then removed
        s.execute(update(Payment).where(Payment.amount == Decimal("99.90")).values(amount=Decimal("49.90")))
    assert _paid(engine, pid) == (Decimal("350.00"), Decimal("350.00"))
    with session_scope(engine) as s:
        s.execute(delete(Payment).where(Payment.amount == Decimal("49.90")))
    assert _paid(engine, pid) == (Decimal("300.10"), Decimal("300.10"))
    with session_scope(engine) as s:
        frame = overdue_installments(s, org.rep_n1, today=TODAY)
    assert frame.attrs["count"] == 1 and frame.attrs["remaining"] == Decimal("699.90")
    assert frame["paid"].tolist() == [Decimal("300.10")]


def test_concurrent_payments_on_one_installment_all_count(engine, org):
    cid, pid = _installment(engine, org, amount="1000")
    clerks = 6
    barrier = threading.Barrier(clerks)
    failures: list[Exception] = []

    def clerk(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            with session_scope(engine) as s:
                record_payment(s, org.rep_n1, contract_id=cid, plan_id=pid, received_on=TODAY,
                               amount=f"{10 + i}.25", now=NOW)
        except Exception as exc:  # writers queue on the contract's lock; none may fail
            failures.append(exc)

    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(clerks)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not failures, failures
    expected = sum(Decimal(f"{10 + i}.25") for i in range(clerks))  # 76.50
    assert _paid(engine, pid) == (expected, expected)
