"""What was paid on an installment (``payment_plan.paid_amount``) and a contract's planned and
collected totals (``contract.planned_amount`` / ``collected_amount``) are kept by the database
with every installment or payment written — by the service, by another writer, at the same
time — so the due / overdue lists and the collections by rep read them from an index and still
match the rows (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, func, insert, select, update

from services.contracts import COLLECTING, add_installment, overdue_installments, record_payment
from services.db import session_scope
from services.models import CONTRACT_STATUSES, Contract, Payment, PaymentPlan
from tests.services.test_activities import NOW, TODAY
from tests.services.test_contracts import new_contract


def _paid(engine, plan_id: int) -> tuple[Decimal, Decimal]:
    """(paid_amount kept on the installment, Σ of its payments)."""
    with session_scope(engine) as s:
        kept = s.scalar(select(PaymentPlan.paid_amount).where(PaymentPlan.id == plan_id))
        summed = s.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.plan_id == plan_id))
    return Decimal(str(kept)).quantize(Decimal("0.01")), Decimal(str(summed)).quantize(Decimal("0.01"))


def _totals(engine, contract_id: int) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    """((planned kept, Σ installments), (collected kept, Σ payments)) of a contract."""
    def m(v) -> Decimal:
        return Decimal(str(v)).quantize(Decimal("0.01"))

    with session_scope(engine) as s:
        planned, collected = s.execute(select(Contract.planned_amount, Contract.collected_amount)
                                       .where(Contract.id == contract_id)).one()
        plans = s.scalar(select(func.coalesce(func.sum(PaymentPlan.amount), 0)).where(PaymentPlan.contract_id == contract_id))
        got = s.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.contract_id == contract_id))
    return (m(planned), m(plans)), (m(collected), m(got))


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


def test_contract_totals_follow_every_installment_and_payment(engine, org):
    cid, pid = _installment(engine, org, amount="1000")
    other, _ = _installment(engine, org, amount="500")
    assert _totals(engine, cid) == ((Decimal("1000.00"),) * 2, (Decimal("0.00"),) * 2)
    with session_scope(engine) as s:
        second = add_installment(s, org.rep_n1, contract_id=cid, due_on=date(2026, 12, 10), amount="250.50").id
        record_payment(s, org.rep_n1, contract_id=cid, plan_id=pid, received_on=TODAY, amount="300.10", now=NOW)
    assert _totals(engine, cid) == ((Decimal("1250.50"),) * 2, (Decimal("300.10"),) * 2)
    with session_scope(engine) as s:  # direct writers: a payment without installment, then moved to another contract
        s.execute(insert(Payment).values(contract_id=cid, plan_id=None, received_on=TODAY, amount=Decimal("20.00")))
        s.execute(update(PaymentPlan).where(PaymentPlan.id == second).values(amount=Decimal("200.00")))
    assert _totals(engine, cid) == ((Decimal("1200.00"),) * 2, (Decimal("320.10"),) * 2)
    with session_scope(engine) as s:
        s.execute(update(Payment).where(Payment.amount == Decimal("20.00")).values(contract_id=other))
        s.execute(delete(PaymentPlan).where(PaymentPlan.id == second))
    assert _totals(engine, cid) == ((Decimal("1000.00"),) * 2, (Decimal("300.10"),) * 2)
    assert _totals(engine, other) == ((Decimal("500.00"),) * 2, (Decimal("20.00"),) * 2)


def test_concurrent_installments_and_payments_on_one_contract_all_count(engine, org):
    cid, pid = _installment(engine, org, amount="100")
    barrier = threading.Barrier(6)
    failures: list[Exception] = []

    def clerk(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            with session_scope(engine) as s:
                if i % 2:
                    record_payment(s, org.rep_n1, contract_id=cid, plan_id=pid, received_on=TODAY,
                                   amount=f"{i}.50", now=NOW)
                else:
                    add_installment(s, org.rep_n1, contract_id=cid, due_on=date(2026, 12, 1 + i), amount=f"{10 + i}")
        except Exception as exc:  # writers queue on the contract's lock; none may fail
            failures.append(exc)

    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not failures, failures
    planned = Decimal("100") + sum(Decimal(10 + i) for i in (0, 2, 4))  # 136
    collected = sum(Decimal(f"{i}.50") for i in (1, 3, 5))  # 10.50
    assert _totals(engine, cid) == ((planned.quantize(Decimal("0.01")),) * 2, (collected,) * 2)


def _plan_owners(engine, contract_id: int) -> set:
    with session_scope(engine) as s:
        return set(s.scalars(select(PaymentPlan.collecting_owner_id).where(PaymentPlan.contract_id == contract_id)))


def test_installments_carry_the_owner_of_a_collecting_contract(engine, org):
    """collecting_owner_id = the contract's owner while its status is one of COLLECTING, else
    NULL — after every status or owner change and for installments added later, whoever
    writes; the per-owner due / overdue sums read it."""
    cid, pid = _installment(engine, org)
    with session_scope(engine) as s:
        status = s.scalar(select(Contract.status).where(Contract.id == cid))
    assert status in COLLECTING and _plan_owners(engine, cid) == {org.rep_n1.id}
    for value in CONTRACT_STATUSES:
        with session_scope(engine) as s:
            s.execute(update(Contract).where(Contract.id == cid).values(status=value))
        assert _plan_owners(engine, cid) == ({org.rep_n1.id} if value in COLLECTING else {None}), value
    with session_scope(engine) as s:  # back to executing, another owner, then one more installment
        s.execute(update(Contract).where(Contract.id == cid).values(status="executing", owner_id=org.rep_n2.id))
        s.execute(insert(PaymentPlan).values(contract_id=cid, installment=9, due_on=date(2026, 12, 20),
                                             amount=Decimal("5.00")))
    assert _plan_owners(engine, cid) == {org.rep_n2.id}
    other, _ = _installment(engine, org)
    with session_scope(engine) as s:  # an installment moved to another (collecting) contract
        s.execute(update(Contract).where(Contract.id == other).values(status="cancelled"))
        s.execute(update(PaymentPlan).where(PaymentPlan.id == pid).values(contract_id=other, installment=7))
    assert _plan_owners(engine, other) == {None}
