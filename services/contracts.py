"""Contracts (合同), payment plans (回款计划) and payments (回款).

- Numbers: ``HT-YYYYMMDD-NNNN`` from the local issue date, NNNN counting per day from the
  day's sequence (``services.sequences``: concurrent creations queue for the next value,
  they never collide or run out).
- One live (not cancelled) contract per deal: checked under the deal's row lock, and a
  partial unique index is the wall.
- Status transitions: draft → signed | cancelled; signed → executing | completed | cancelled;
  executing → completed | cancelled; completed and cancelled are final.
- Installment status is derived in SQL, never stored: ``paid`` when the payments on it
  (``paid_amount``, kept by the database with every payment written) reach its amount; else ``overdue`` when its due date is before ``today``; else
  ``partially_paid`` when something was paid; else ``pending``.
- Collection ratio = collected ÷ contract amount, over contracts that are signed, executing
  or completed (drafts and cancelled contracts are left out). ``due_to_date`` is the sum of
  installments due on or before today, so ``collected`` vs ``due_to_date`` shows arrears.
- Kept by the database (migrations 0010 and 0012, triggers in the same statement as every
  write, whoever writes): an installment's ``paid_amount`` and ``collecting_owner_id`` (its
  contract's owner while the contract is collecting), a contract's ``planned_amount`` and
  ``collected_amount``. The lists and per-owner totals read them from indexes; they are
  never written by this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Integer, Numeric, and_, bindparam, case, func, literal, literal_column, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services import audit
from services.access import (
    Actor,
    get_visible_customer,
    load_visible,
    owner_filter,
    owner_params,
    owner_scope_term,
    owner_shape,
    scoped_owner_ids,
    visible_editable_customer,
)
from services.activities import log_activity
from services.clock import as_utc, local_date, local_tz
from services.db import shaped
from services.errors import ConflictError, FieldNotFound, ValidationError
from services.i18n import format_money, t
from services.models import (
    CONTRACT_STATUSES,
    OPEN_SHORTFALL,
    Contract,
    ContractRead,
    Customer,
    Deal,
    Payment,
    PaymentPlan,
    Stage,
    User,
    utcnow,
)
from services.periods import add_months
from services.sequences import next_value
from services.validation import check_amount

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("signed", "cancelled"),
    "signed": ("executing", "completed", "cancelled"),
    "executing": ("completed", "cancelled"),
    "completed": (),
    "cancelled": (),
}
# statuses that count for collections; migration 0012's triggers keep each installment's
# collecting_owner_id by the same list (tests/services/test_installment_paid.py checks both agree)
COLLECTING = ("signed", "executing", "completed")
PAYABLE = COLLECTING
PLANNABLE = ("draft", "signed", "executing")
INSTALLMENT_STATUSES = ("pending", "partially_paid", "paid", "overdue")
MAX_TERM_MONTHS = 600
# SQLite sums Numeric as floating point; a sub-cent tolerance keeps 33.33+33.33+33.34 "paid".
_CENT = Decimal(OPEN_SHORTFALL)


def _dec(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0)).quantize(Decimal("0.01"))


def _next_number(session: Session, day: date) -> str:
    """The day's next contract number from its sequence (``services.sequences``); a new
    day's sequence starts after the highest number already issued that day."""
    prefix = f"HT-{day:%Y%m%d}-"

    def issued() -> int:
        last = session.scalar(select(func.max(Contract.number)).where(Contract.number.like(prefix + "%")))
        tail = last.rsplit("-", 1)[1] if last else ""
        return int(tail) if tail.isdigit() else 0

    return f"{prefix}{next_value(session, 'contract:' + prefix, start=issued):04d}"


def create_contract_from_deal(session: Session, actor: Actor, *, deal_id: int, amount: Decimal | str | None = None,
                              signed_on: date, term_months: int, start_on: date | None = None,
                              now: datetime | None = None, log_signing: bool = True) -> ContractRead:
    """Contract for a won deal the actor may see: amount defaults to the deal's (> 0,
    ≤ 10^11); signed on or after the deal opened and not in the future; term 1–600 months
    from ``start_on`` (default: signed date), ``end_on`` = start + term − 1 day; one live
    (not cancelled) contract per deal. Status starts as ``signed``. Also logs the
    contract-signing activity on the deal (without a next-contact requirement)."""
    loc = actor.locale
    now = as_utc(now) or utcnow()
    tz = local_tz(session)
    today = local_date(now, tz)
    # the deal's row lock queues concurrent creations for the same deal (PostgreSQL; SQLite's
    # write lock already does): the second sees the first's contract and is told its number
    deal = load_visible(session, actor, Deal, deal_id, field="deal_id", for_update=True)
    errors: dict[str, str] = {}
    stage = session.get(Stage, deal.stage_id)
    live = session.scalar(select(Contract.number).where(Contract.deal_id == deal.id, Contract.status != "cancelled"))
    if stage is None or stage.kind != "won":
        errors["deal_id"] = t("contracts.err.deal_not_won", loc)
    elif deal.customer_id is None:
        errors["deal_id"] = t("contracts.err.deal_without_customer", loc)
    elif live is not None:
        errors["deal_id"] = t("contracts.err.deal_has_contract", loc, number=live)
    value = check_amount(amount if amount not in (None, "") else deal.amount, "amount", loc, errors,
                         required=True, positive=True)
    if signed_on is None:
        errors["signed_on"] = t("err.required", loc)
    elif signed_on > today:
        errors["signed_on"] = t("contracts.err.signed_in_future", loc)
    elif signed_on < deal.opened_on:
        errors["signed_on"] = t("contracts.err.signed_before_deal", loc, opened=deal.opened_on.isoformat())
    try:
        term = int(term_months)
        if not 1 <= term <= MAX_TERM_MONTHS:
            errors["term_months"] = t("err.range", loc, min=1, max=MAX_TERM_MONTHS)
    except (TypeError, ValueError):
        errors["term_months"] = t("err.integer", loc)
        term = 0
    start = start_on or signed_on
    if start_on is not None and signed_on is not None and start_on < signed_on:
        errors["start_on"] = t("contracts.err.start_before_signed", loc)
    if errors:
        raise ValidationError(errors)
    visible_editable_customer(session, actor, deal.customer_id, field="deal_id")
    row = Contract(deal_id=deal.id, customer_id=deal.customer_id, owner_id=deal.owner_id, amount=value,
                   signed_on=signed_on, start_on=start, end_on=add_months(start, term) - timedelta(days=1),
                   term_months=term, status="signed", number="", created_at=now)
    row.number = _next_number(session, today)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # the partial unique index: a live contract appeared after all
        raise ValidationError({"deal_id": t("contracts.err.deal_has_contract", loc, number="")}) from None
    audit.record(session, actor, "contract", row.id, "create", {
        "number": row.number, "deal_id": deal.id, "amount": value, "signed_on": signed_on, "term_months": term})
    if log_signing:
        signed_at = min(now, as_utc(datetime.combine(signed_on, time(12), tzinfo=tz)))
        log_activity(session, actor, data={
            "kind": "contract_signing", "customer_id": deal.customer_id, "deal_id": deal.id,
            "owner_id": deal.owner_id, "done_at": signed_at, "outcome": row.number,
        }, now=now, require_next_contact=False)
    return ContractRead.model_validate(row)


def get_contract(session: Session, actor: Actor, *, contract_id: int) -> ContractRead:
    """One contract the actor may see (by owner)."""
    return ContractRead.model_validate(load_visible(session, actor, Contract, contract_id, field="contract_id"))


def set_contract_status(session: Session, actor: Actor, *, contract_id: int, status: str, version: int) -> ContractRead:
    """Change status along ``TRANSITIONS`` (optimistic locking on ``version``)."""
    loc = actor.locale
    row = load_visible(session, actor, Contract, contract_id, field="contract_id", for_update=True)
    if row.version != version:
        raise ConflictError({row.id: {"status": (row.status, status)}})
    if status not in CONTRACT_STATUSES:
        raise ValidationError({"status": t("err.not_in_list", loc, options=", ".join(CONTRACT_STATUSES))})
    if status == row.status:
        return ContractRead.model_validate(row)
    if status not in TRANSITIONS[row.status]:
        allowed = ", ".join(t(f"contracts.status.{s}", loc) for s in TRANSITIONS[row.status]) or "—"
        raise ValidationError({"status": t("contracts.err.bad_transition", loc, current=t(
            f"contracts.status.{row.status}", loc), allowed=allowed)})
    before = row.status
    row.status = status
    row.version += 1
    session.add(row)
    session.flush()
    audit.record(session, actor, "contract", row.id, "status", {"status": [before, status]})
    return ContractRead.model_validate(row)


@dataclass
class InstallmentRead:
    id: int
    contract_id: int
    installment: int
    due_on: date
    amount: Decimal
    note: str | None = None


def _planned_total(session: Session, contract_id: int) -> Decimal:
    return _dec(session.scalar(select(func.coalesce(func.sum(PaymentPlan.amount), 0))
                               .where(PaymentPlan.contract_id == contract_id)))


def add_installment(session: Session, actor: Actor, *, contract_id: int, due_on: date, amount: Decimal | str,
                    note: str | None = None) -> InstallmentRead:
    """Add the next installment: amount > 0; the plan's total may not exceed the contract
    amount; due date not before the contract was signed; not on completed or cancelled
    contracts."""
    loc = actor.locale
    row = load_visible(session, actor, Contract, contract_id, field="contract_id", for_update=True)
    errors: dict[str, str] = {}
    value = check_amount(amount, "amount", loc, errors, required=True, positive=True)
    if row.status not in PLANNABLE:
        errors["contract_id"] = t("contracts.err.not_plannable", loc, status=t(f"contracts.status.{row.status}", loc))
    if due_on is None:
        errors["due_on"] = t("err.required", loc)
    elif row.signed_on and due_on < row.signed_on:
        errors["due_on"] = t("contracts.err.due_before_signed", loc, signed=row.signed_on.isoformat())
    if note and len(note) > 200:
        errors["note"] = t("err.too_long", loc, max=200)
    if value is not None and "amount" not in errors:
        planned = _planned_total(session, contract_id)
        if planned + value > _dec(row.amount):
            errors["amount"] = t("contracts.err.plan_over_amount", loc,
                                 left=format_money(_dec(row.amount) - planned, loc, compact=False))
    if errors:
        raise ValidationError(errors)
    number = (session.scalar(select(func.max(PaymentPlan.installment)).where(PaymentPlan.contract_id == contract_id))
              or 0) + 1
    plan = PaymentPlan(contract_id=contract_id, installment=number, due_on=due_on, amount=value,
                       note=(note or "").strip() or None)
    session.add(plan)
    session.flush()
    audit.record(session, actor, "payment_plan", plan.id, "create",
                 {"contract_id": contract_id, "installment": number, "due_on": due_on, "amount": value})
    return InstallmentRead(plan.id, contract_id, number, due_on, _dec(value), plan.note)


def split_amount(total: Decimal, parts: int) -> list[Decimal]:
    """Split money into ``parts`` shares of whole cents that add up to ``total``; the
    rounding remainder goes to the first (largest) share."""
    if parts < 1:
        raise ValueError("parts must be ≥ 1")
    total = _dec(total)
    share = (total / parts).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    shares = [share] * parts
    shares[0] += total - share * parts
    return shares


def plan_installments(session: Session, actor: Actor, *, contract_id: int, count: int, first_due_on: date,
                      every_months: int = 1) -> list[InstallmentRead]:
    """Plan the contract's not yet planned amount as ``count`` (1–120) installments, the
    first due on ``first_due_on`` (required) and then every ``every_months`` (1–12) months
    (``split_amount``); refused when nothing is left to plan."""
    loc = actor.locale
    row = load_visible(session, actor, Contract, contract_id, field="contract_id")
    errors: dict[str, str] = {}
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    if isinstance(every_months, float) and every_months.is_integer():
        every_months = int(every_months)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 120:
        errors["count"] = t("err.range", loc, min=1, max=120)
    if isinstance(every_months, bool) or not isinstance(every_months, int) or not 1 <= every_months <= 12:
        errors["every_months"] = t("err.range", loc, min=1, max=12)
    if first_due_on is None:
        errors["first_due_on"] = t("err.required", loc)
    left = _dec(row.amount) - _planned_total(session, contract_id)
    if left <= 0:
        errors["__all__"] = t("contracts.err.nothing_to_split", loc)
    if errors:
        raise ValidationError(errors)
    return [add_installment(session, actor, contract_id=contract_id, amount=share,
                            due_on=add_months(first_due_on, i * every_months))
            for i, share in enumerate(split_amount(left, count))]


def delete_installment(session: Session, actor: Actor, *, contract_id: int, plan_id: int) -> None:
    """Remove an installment that has no payments yet."""
    loc = actor.locale
    load_visible(session, actor, Contract, contract_id, field="contract_id", for_update=True)
    plan = session.get(PaymentPlan, plan_id)
    if plan is None or plan.contract_id != contract_id:
        raise FieldNotFound({"plan_id": t("err.unknown_ref", loc, value=plan_id)})
    if session.scalar(select(func.count()).select_from(Payment).where(Payment.plan_id == plan_id)):
        raise ValidationError({"plan_id": t("contracts.err.installment_has_payments", loc)})
    audit.record(session, actor, "payment_plan", plan.id, "delete",
                 {"installment": plan.installment, "amount": plan.amount, "due_on": plan.due_on})
    session.delete(plan)
    session.flush()


@dataclass
class PaymentRecorded:
    id: int
    contract_id: int
    plan_id: int | None
    received_on: date
    amount: Decimal
    installment_status: str | None


def record_payment(session: Session, actor: Actor, *, contract_id: int, plan_id: int | None, received_on: date,
                   amount: Decimal | str, method: str | None = None, note: str | None = None,
                   now: datetime | None = None) -> PaymentRecorded:
    """Record money received: amount > 0 and at most what is still due on the installment
    (its amount − payments on it) and on the contract (amount − all payments); partial
    payments are fine. Received date not in the future and not before the contract was
    signed. Only signed / executing / completed contracts take payments. The contract row is
    locked (PostgreSQL) so two clerks cannot overpay the same installment."""
    loc = actor.locale
    now = as_utc(now) or utcnow()
    today = local_date(now, local_tz(session))
    row = load_visible(session, actor, Contract, contract_id, field="contract_id", for_update=True)
    errors: dict[str, str] = {}
    value = check_amount(amount, "amount", loc, errors, required=True, positive=True)
    if row.status not in PAYABLE:
        errors["contract_id"] = t("contracts.err.not_payable", loc, status=t(f"contracts.status.{row.status}", loc))
    if received_on is None:
        errors["received_on"] = t("err.required", loc)
    elif received_on > today:
        errors["received_on"] = t("contracts.err.received_in_future", loc)
    elif row.signed_on and received_on < row.signed_on:
        errors["received_on"] = t("contracts.err.received_before_signed", loc, signed=row.signed_on.isoformat())
    plan = None
    if plan_id is not None:
        plan = session.get(PaymentPlan, plan_id)
        if plan is None or plan.contract_id != contract_id:
            errors["plan_id"] = t("err.unknown_ref", loc, value=plan_id)
            plan = None
    if value is not None and "amount" not in errors:
        paid_contract = _dec(session.scalar(select(func.coalesce(func.sum(Payment.amount), 0))
                                            .where(Payment.contract_id == contract_id)))
        left = _dec(row.amount) - paid_contract
        if plan is not None:
            paid_plan = _dec(session.scalar(select(func.coalesce(func.sum(Payment.amount), 0))
                                            .where(Payment.plan_id == plan.id)))
            left = min(left, _dec(plan.amount) - paid_plan)
        if value > left:
            errors["amount"] = t("contracts.err.payment_over_due", loc,
                                 left=format_money(max(left, Decimal("0.00")), loc, compact=False))
    if method and len(method) > 30:
        errors["method"] = t("err.too_long", loc, max=30)
    if note and len(note) > 200:
        errors["note"] = t("err.too_long", loc, max=200)
    if errors:
        raise ValidationError(errors)
    pay = Payment(contract_id=contract_id, plan_id=plan_id, received_on=received_on, amount=value,
                  method=(method or "").strip() or None, note=(note or "").strip() or None,
                  recorded_by=actor.id, created_at=now)
    session.add(pay)
    session.flush()  # the database adds it to the installment's paid_amount (migration 0010's trigger)
    if plan is not None:
        session.expire(plan, ["paid_amount"])
    audit.record(session, actor, "payment", pay.id, "create",
                 {"contract_id": contract_id, "plan_id": plan_id, "received_on": received_on, "amount": value})
    status = None
    if plan is not None:
        frame = installments(session, actor, contract_id=contract_id, today=today)
        status = frame.loc[frame["id"] == plan.id, "status"].iloc[0]
    return PaymentRecorded(pay.id, contract_id, plan_id, received_on, value, status)


# ---------------------------------------------------------------------------
# reads


def _paid_on_plan():
    """What was paid on the installment: its ``paid_amount`` — kept by a database trigger on
    every payment inserted, changed or deleted, whoever writes it — read from the installment
    indexes, so no payment is summed at read time."""
    return PaymentPlan.paid_amount


def _open_installment():
    """An installment not fully paid (paid more than half a cent short of its amount), written
    as the very text of the partial index ``ix_payment_plan_open_due`` so both planners walk
    only the open installments."""
    return PaymentPlan.paid_amount < PaymentPlan.amount - literal_column(OPEN_SHORTFALL, Numeric)


def _collecting_term(owners: str, params: dict | None = None):
    """Installments of live (signed / executing / completed) contracts owned by an owner shape
    (``access.owner_scope_key``), from the installment's kept ``collecting_owner_id``: on the
    bound ``owners``, or on ``params``' values when given; "all" = any live contract's."""
    if owners == "all":
        return PaymentPlan.collecting_owner_id.is_not(None)
    return owner_scope_term(PaymentPlan.collecting_owner_id, owners, params)


def installment_status_expr(amount, paid, due_on, today: date):
    """SQL CASE for the derived installment status (see the module docstring)."""
    return case(
        (paid >= amount - _CENT, literal("paid")),
        (due_on < today, literal("overdue")),
        (paid > 0, literal("partially_paid")),
        else_=literal("pending"),
    )


def _installment_select(today: date):
    paid_amount = _paid_on_plan()
    status = installment_status_expr(PaymentPlan.amount, paid_amount, PaymentPlan.due_on, today)
    stmt = (
        select(PaymentPlan.id, PaymentPlan.contract_id, Contract.number, Customer.name.label("customer_name"),
               User.display_name.label("owner_name"), PaymentPlan.installment, PaymentPlan.due_on,
               PaymentPlan.amount, paid_amount.label("paid"), (PaymentPlan.amount - paid_amount).label("remaining"),
               status.label("status"), PaymentPlan.note)
        .join(Contract, Contract.id == PaymentPlan.contract_id)
        .join(Customer, Customer.id == Contract.customer_id)
        .join(User, User.id == Contract.owner_id)
    )
    return stmt, status, paid_amount


INSTALLMENT_COLUMNS = ["id", "contract_id", "number", "customer_name", "owner_name", "installment", "due_on",
                       "amount", "paid", "remaining", "status", "note"]


#: The money columns of an installment row (``INSTALLMENT_COLUMNS``), Decimal when read.
INSTALLMENT_MONEY = ("amount", "paid", "remaining")


def _money_frame(rows, columns, money=INSTALLMENT_MONEY) -> pd.DataFrame:
    """Result rows as a frame of ``columns`` (a column the rows lack is NaN), money columns as
    Decimal. Built column by column in one frame construction: a dict per row and a column
    assignment per money column took 2–3 ms for a page of 50 contracts, more than its SQL."""
    rows = list(rows)
    if not rows:
        return pd.DataFrame(columns=columns)
    values = dict(zip(rows[0]._fields, zip(*rows, strict=True), strict=True))
    missing = [float("nan")] * len(rows)
    return pd.DataFrame({c: [_dec(v) for v in values[c]] if c in money and c in values else list(values.get(c, missing))
                         for c in columns}, columns=columns)


def installments(session: Session, actor: Actor, *, contract_id: int, today: date) -> pd.DataFrame:
    """The contract's payment plan with paid, remaining and the derived status as of
    ``today``."""
    load_visible(session, actor, Contract, contract_id, field="contract_id")
    stmt, _, _ = _installment_select(today)
    rows = session.execute(stmt.where(PaymentPlan.contract_id == contract_id).order_by(PaymentPlan.installment)).all()
    return _money_frame(rows, INSTALLMENT_COLUMNS)


def _open_installments(session: Session, actor: Actor, *, window: tuple[date, date] | None, today: date,
                       owner_id: int | None,
                       limit: int, offset: int, owner_ids: set[int] | None = None) -> pd.DataFrame:
    """Not fully paid installments (paid < amount, to the cent) due in ``window`` ((start,
    end); None: before ``today``, overdue) on live
    contracts the actor may see, by due date: at most ``limit`` rows, with ``.attrs['count']``
    and ``.attrs['remaining']`` over all of them. The totals read only the installment,
    contract and payment indexes (no names joined); paid is summed per installment.
    ``owner_ids`` (e.g. an analytics filter's owners) narrows further, never widens."""
    rows, count, remaining = _open_installment_rows(session, actor, window=window, today=today, owner_id=owner_id,
                                                    limit=limit, offset=offset, owner_ids=owner_ids)
    frame = _money_frame(rows, INSTALLMENT_COLUMNS)
    frame.attrs["count"] = count
    frame.attrs["remaining"] = remaining
    return frame


def overdue_summary(session: Session, actor: Actor, *, today: date, owner_ids: set[int] | None = None,
                    limit: int = 10) -> dict:
    """``overdue_installments`` without a frame, for a report's few rows: ``count`` and
    ``remaining`` over every overdue installment, ``rows`` the oldest ``limit`` as dicts of
    ``INSTALLMENT_COLUMNS`` (money as Decimal; none read with ``limit`` 0)."""
    rows, count, remaining = _open_installment_rows(session, actor, window=None, today=today, owner_id=None,
                                                    limit=limit, offset=0, owner_ids=owner_ids)
    return {"count": count, "remaining": remaining,
            "rows": [{c: _dec(v) if c in INSTALLMENT_MONEY else v for c, v in zip(INSTALLMENT_COLUMNS, r, strict=True)}
                     for r in rows]}


def _open_installment_rows(session: Session, actor: Actor, *, window: tuple[date, date] | None, today: date,
                           owner_id: int | None, limit: int, offset: int,
                           owner_ids: set[int] | None) -> tuple[list, int, Decimal]:
    """(rows, count, remaining) of ``_open_installments``."""
    ids = scoped_owner_ids(session, actor, owner_id)
    if owner_ids is not None:
        ids = set(owner_ids) if ids is None else ids & set(owner_ids)
    kind = "overdue" if window is None else "due"
    owners = owner_shape(ids)
    rows_stmt, totals_stmt = shaped(("contracts.open_installments", kind, owners),
                                    lambda: _open_installment_statements(kind, owners))
    params = {"today": today, "limit": limit, "offset": offset, **owner_params(ids)}
    if kind == "due":
        params.update(start=window[0], end=window[1])
    rows = session.execute(rows_stmt, params).all() if limit > 0 else []  # limit 0: the totals alone
    count, remaining = session.execute(totals_stmt, params).one()
    return rows, int(count), _dec(remaining)


def _open_installment_statements(kind: str, owners: str):
    """(rows, totals) of the open installments of ``_open_installments``: due in [start, end)
    or before ``today`` (``kind`` "due" / "overdue"), on live contracts of ``owners``
    (``access.owner_shape``); the rows by due date, ``limit`` / ``offset``."""
    stmt, _, paid = _installment_select(bindparam("today"))
    window = ((PaymentPlan.due_on >= bindparam("start"), PaymentPlan.due_on < bindparam("end")) if kind == "due"
              else (PaymentPlan.due_on < bindparam("today"),))
    collecting = _collecting_term(owners)
    # a live contract's installment carries its owner (collecting_owner_id, NULL otherwise):
    # the totals read the partial index of open installments alone, no contract per row
    cond = (*window, _open_installment(), collecting)
    rows = (stmt.where(*cond).order_by(PaymentPlan.due_on, PaymentPlan.id)
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)))
    totals = select(func.count(), func.coalesce(func.sum(PaymentPlan.amount - paid), 0)).where(*cond)
    return rows, totals


def due_installments(session: Session, actor: Actor, *, start: date, end: date, today: date,
                     owner_id: int | None = None, limit: int = 200, offset: int = 0) -> pd.DataFrame:
    """Installments due in [start, end) that are not fully paid (e.g. due this month), on
    live contracts the actor may see, by due date: at most ``limit`` rows, with the count
    and the remaining amount of all of them in ``.attrs`` (``count``, ``remaining``)."""
    return _open_installments(session, actor, window=(start, end),
                              today=today, owner_id=owner_id, limit=limit, offset=offset)


def overdue_installments(session: Session, actor: Actor, *, today: date, owner_id: int | None = None,
                         owner_ids: set[int] | None = None, limit: int = 200, offset: int = 0) -> pd.DataFrame:
    """Installments past due and not fully paid, oldest first, on live contracts: at most
    ``limit`` rows, with the count and remaining amount of all of them in ``.attrs``
    (``count``, ``remaining`` = Σ (amount − paid) over every overdue installment).
    ``owner_ids`` narrows to those contract owners (within what the actor may see; ``None``
    = no narrowing)."""
    return _open_installments(session, actor, window=None, today=today,
                              owner_id=owner_id, limit=limit, offset=offset, owner_ids=owner_ids)


PAYMENT_COLUMNS = ["id", "contract_id", "number", "customer_name", "owner_name", "installment", "received_on",
                   "amount", "method", "note"]


def _payment_select():
    return (
        select(Payment.id, Payment.contract_id, Contract.number, Customer.name.label("customer_name"),
               User.display_name.label("owner_name"), PaymentPlan.installment, Payment.received_on, Payment.amount,
               Payment.method, Payment.note)
        .join(Contract, Contract.id == Payment.contract_id)
        .join(Customer, Customer.id == Contract.customer_id)
        .join(User, User.id == Contract.owner_id)
        .outerjoin(PaymentPlan, PaymentPlan.id == Payment.plan_id)
    )


def payments_received(session: Session, actor: Actor, *, start: date, end: date, owner_id: int | None = None,
                      limit: int = 200, offset: int = 0) -> pd.DataFrame:
    """Payments received in [start, end) (e.g. collected this week), newest first;
    ``.attrs['total']`` is their sum and ``.attrs['count']`` their number over the whole
    range (the rows are at most ``limit``)."""
    ids = scoped_owner_ids(session, actor, owner_id)
    owners = owner_shape(ids)
    rows_stmt, totals_stmt = shaped(("contracts.payments_received", owners),
                                    lambda: _payments_received_statements(owners))
    params = {"start": start, "end": end, "limit": limit, "offset": offset, **owner_params(ids)}
    frame = _money_frame(session.execute(rows_stmt, params).all(), PAYMENT_COLUMNS, money=("amount",))
    count, total = session.execute(totals_stmt, params).one()
    frame.attrs["total"], frame.attrs["count"] = _dec(total), int(count)
    return frame


def _payments_received_statements(owners: str):
    """(rows, totals) of ``payments_received`` for an owner shape (``access.owner_shape``):
    received in [start, end), the rows newest first, ``limit`` / ``offset``."""
    def received(*cols):
        # the owners' contracts' payments as a join, so the planner may start from the date
        # range (a manager's week: 900 payments, each contract looked up) or from the owners'
        # contracts (a rep's year); as ``contract_id IN (their contracts)`` it always walked
        # every contract of the owners (a manager's week 15 ms, the join 1); everyone's
        # payments need no contract at all
        stmt = select(*cols).where(Payment.received_on >= bindparam("start"), Payment.received_on < bindparam("end"))
        if owners != "all":
            stmt = stmt.join(Contract, Contract.id == Payment.contract_id).where(
                owner_scope_term(Contract.owner_id, owners))
        return stmt

    # the page's ids first, from the date index (a day can hold hundreds of payments), then
    # names and numbers for those rows only
    page = (received(Payment.id).order_by(Payment.received_on.desc(), Payment.id.desc())
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)).subquery("page"))
    rows = (_payment_select().where(Payment.id.in_(select(page.c.id)))
            .order_by(Payment.received_on.desc(), Payment.id.desc()))
    return rows, received(func.count(), func.coalesce(func.sum(Payment.amount), 0))


def contract_payments(session: Session, actor: Actor, *, contract_id: int) -> pd.DataFrame:
    """All payments of a contract, newest first."""
    load_visible(session, actor, Contract, contract_id, field="contract_id")
    rows = session.execute(_payment_select().where(Payment.contract_id == contract_id)
                           .order_by(Payment.received_on.desc(), Payment.id.desc())).all()
    return _money_frame(rows, PAYMENT_COLUMNS, money=("amount",))


CONTRACT_COLUMNS = ["id", "number", "deal_id", "customer_id", "customer_name", "owner_id", "owner_name", "amount",
                    "signed_on", "start_on", "end_on", "term_months", "status", "version", "planned",
                    "due_to_date", "collected", "overdue_amount", "collection_ratio"]


def _contract_select(today, chosen):
    """The contracts whose ids ``chosen`` (a CTE of contract ids: one page, one customer's)
    holds, with planned and collected (the contract's kept totals), due to date, overdue
    (remaining on overdue installments) and collection ratio; due and overdue aggregated in
    SQL over those contracts' installments only (index ranges per contract)."""
    ids = select(chosen.c.id)  # the caller orders by ``chosen``'s columns: the outer loop stays on the few chosen
    paid = _paid_on_plan()
    plan = (
        select(PaymentPlan.contract_id.label("contract_id"),
               func.sum(case((PaymentPlan.due_on <= today, PaymentPlan.amount), else_=0)).label("due_to_date"),
               func.sum(case((and_(PaymentPlan.due_on < today, _open_installment()),
                              PaymentPlan.amount - paid), else_=0)).label("overdue_amount"))
        .where(PaymentPlan.contract_id.in_(ids))
        .group_by(PaymentPlan.contract_id).subquery("plan_sum")
    )
    return (
        select(Contract.id, Contract.number, Contract.deal_id, Contract.customer_id,
               Customer.name.label("customer_name"), Contract.owner_id, User.display_name.label("owner_name"),
               Contract.amount, Contract.signed_on, Contract.start_on, Contract.end_on, Contract.term_months,
               Contract.status, Contract.version, Contract.planned_amount.label("planned"),
               func.coalesce(plan.c.due_to_date, 0).label("due_to_date"), Contract.collected_amount.label("collected"),
               func.coalesce(plan.c.overdue_amount, 0).label("overdue_amount"))
        .select_from(chosen)
        .join(Contract, Contract.id == chosen.c.id)
        .join(Customer, Customer.id == Contract.customer_id)
        .join(User, User.id == Contract.owner_id)
        .outerjoin(plan, plan.c.contract_id == Contract.id)
    )


def _contract_frame(rows) -> pd.DataFrame:
    frame = _money_frame(rows, CONTRACT_COLUMNS[:-1],
                         money=("amount", "planned", "due_to_date", "collected", "overdue_amount"))
    frame["collection_ratio"] = [float(c / a) if a else None for c, a in zip(frame["collected"], frame["amount"],
                                                                              strict=True)]
    return frame


def _contract_filter(stmt, owners: str, status: bool, search: bool):
    """The list's filters on a shaped statement: bound ``owners`` (``access.owner_shape``),
    ``status`` and ``like`` (``_filter_params``)."""
    stmt = stmt.where(owner_scope_term(Contract.owner_id, owners))
    if status:
        stmt = stmt.where(Contract.status == bindparam("status"))
    if search:
        like = bindparam("like")
        stmt = stmt.join(Customer, Customer.id == Contract.customer_id).where(
            or_(Contract.number.ilike(like), Customer.name.ilike(like)))
    return stmt


def _filter_params(ids: set[int] | None, status: str | None, search: str | None) -> tuple[tuple, dict]:
    """(the filters' shape, their parameters) of ``_contract_filter``."""
    params = owner_params(ids)
    if status:
        params["status"] = status
    if search:
        params["like"] = f"%{search.strip()}%"
    return (owner_shape(ids), bool(status), bool(search)), params


def _newest_first(signed_on, contract_id):
    # signed date down its index, unsigned (drafts) last, then newest id
    return signed_on.desc().nulls_last(), contract_id.desc()


def list_contracts(session: Session, actor: Actor, *, today: date, owner_id: int | None = None,
                   status: str | None = None, search: str | None = None, limit: int = 50,
                   offset: int = 0) -> pd.DataFrame:
    """Contracts the actor may see, newest signed first (unsigned last), with collected vs
    due and the collection ratio; ``search`` matches number or customer name; paged in SQL
    (the page's ids first, then the sums for those contracts only)."""
    shape, params = _filter_params(scoped_owner_ids(session, actor, owner_id), status, search)

    def build():
        page = (_contract_filter(select(Contract.id, Contract.signed_on), *shape)
                .order_by(*_newest_first(Contract.signed_on, Contract.id))
                .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)).cte("page"))
        return _contract_select(bindparam("today"), page).order_by(*_newest_first(page.c.signed_on, page.c.id))

    rows = session.execute(shaped(("contracts.list", shape), build),
                           {**params, "today": today, "limit": limit, "offset": offset}).all()
    return _contract_frame(rows)


def count_contracts(session: Session, actor: Actor, *, owner_id: int | None = None, status: str | None = None,
                    search: str | None = None) -> int:
    """How many contracts ``list_contracts`` pages through (same filters), counted in SQL."""
    shape, params = _filter_params(scoped_owner_ids(session, actor, owner_id), status, search)
    stmt = shaped(("contracts.count", shape), lambda: _contract_filter(select(func.count()).select_from(Contract), *shape))
    return int(session.scalar(stmt, params) or 0)


def list_customer_contracts(session: Session, actor: Actor, *, customer_id: int, today: date | None = None) -> pd.DataFrame:
    """The customer's contracts the actor may see (by owner) with collected vs due to date;
    the customer must be visible (else ``NotFound``)."""
    get_visible_customer(session, actor, customer_id)
    today = today or local_date(utcnow(), local_tz(session))
    chosen = select(Contract.id).where(Contract.customer_id == customer_id,
                                       owner_filter(session, actor, Contract.owner_id)).cte("chosen")
    rows = session.execute(_contract_select(today, chosen).order_by(chosen.c.id.desc())).all()
    return _contract_frame(rows)


def collection_by_rep(session: Session, actor: Actor, *, today: date, owner_id: int | None = None) -> pd.DataFrame:
    """Per owner over their signed / executing / completed contracts: contract amount,
    due to date, collected, overdue amount and collection ratio = collected ÷ contract
    amount (ratio_due = collected ÷ due to date). Biggest contract amount first.

    Three grouped statements over all the owners' live contracts, never a capped list, each
    from one index: contracts with their kept totals (``planned_amount``,
    ``collected_amount``: migration 0012's triggers) from the owner-and-status index; due to
    date = planned − installments due after today (the few future ones, down the due-date
    index, which carries their live contract's owner); overdue = remaining on past-due open
    installments (the partial index of open installments)."""
    ids = scoped_owner_ids(session, actor, owner_id)
    owners = owner_shape(ids)
    sums, future, overdue = shaped(("contracts.collection_by_rep", owners), lambda: _collection_statements(owners))
    params = {"today": today, **owner_params(ids)}
    per: dict[int, list] = {
        r.owner_id: [r.owner_id, r.owner_name, int(r.n), _dec(r.amount), _dec(r.planned), _dec(r.collected), _dec(0)]
        for r in session.execute(sums, params)
    }
    for who, value in session.execute(future, params).all():
        if who in per:
            per[who][4] -= _dec(value)
    for who, value in session.execute(overdue, params).all():
        if who in per:
            per[who][6] = _dec(value)
    rows = sorted(per.values(), key=lambda r: (-r[3], r[1] or "", r[0]))
    frame = pd.DataFrame.from_records(rows, columns=["owner_id", "owner_name", "contracts", "amount", "due_to_date",
                                                     "collected", "overdue_amount"])
    frame["collection_ratio"] = [float(c / a) if a else None for c, a in zip(frame["collected"], frame["amount"],
                                                                              strict=True)]
    frame["ratio_due"] = [float(c / d) if d else None for c, d in zip(frame["collected"], frame["due_to_date"],
                                                                       strict=True)]
    return frame


def _collection_statements(owners: str):
    """(per owner sums, future installments, overdue remaining) of ``collection_by_rep`` for
    an owner shape, on the bound ``today``."""
    live = (Contract.status.in_(COLLECTING), owner_scope_term(Contract.owner_id, owners))
    # grouped per owner first, then the few owners' names (a join per contract row would
    # look the user up ~76k times and group in a temporary tree)
    sums = (select(Contract.owner_id.label("owner_id"), func.count().label("n"),
                   func.sum(Contract.amount).label("amount"), func.sum(Contract.planned_amount).label("planned"),
                   func.sum(Contract.collected_amount).label("collected"))
            .where(*live).group_by(Contract.owner_id).subquery("per_owner"))
    paid = _paid_on_plan()
    owner = PaymentPlan.collecting_owner_id
    today = bindparam("today")
    # from the installment indexes alone (each carries its live contract's owner): the few
    # installments due after today, and the open past-due ones (the partial index)
    future = select(owner, func.sum(PaymentPlan.amount)).where(PaymentPlan.due_on > today, _collecting_term(owners))
    overdue = (select(owner, func.sum(PaymentPlan.amount - paid))
               .where(PaymentPlan.due_on < today, _open_installment(), _collecting_term(owners)))
    return (select(sums, User.display_name.label("owner_name")).join(User, User.id == sums.c.owner_id),
            future.group_by(owner), overdue.group_by(owner))


def won_deals_without_contract(session: Session, actor: Actor, *, limit: int = 100) -> list[tuple[int, str]]:
    """(deal id, label) of won deals the actor may see that have no live contract yet, most
    recently closed first. Walks the won stages' close-date index (not every deal); the
    live contracts' deal ids come from ``ix_contract_deal_status`` alone, no contract row."""
    won = session.scalars(select(Stage.id).where(Stage.kind == "won")).all()
    if not won:
        return []
    # NOT IN over the live contracts' deal ids (one pass of ix_contract_deal_status, hashed),
    # not a correlated NOT EXISTS: with it SQLite walked every deal by close date, ~1 s for
    # a director when (as usual) every won deal has its contract
    live = select(Contract.deal_id).where(Contract.status != "cancelled", Contract.deal_id.is_not(None))
    rows = session.execute(
        select(Deal.id, Deal.name, Customer.name.label("customer_name"))
        .join(Customer, Customer.id == Deal.customer_id)
        # the won ids and the limit rendered into the SQL: with a bound LIMIT (and stage list)
        # SQLite prefers walking the close-date index over every deal to sorting the won ones
        .where(Deal.stage_id.in_(bindparam("won_ids", list(won), expanding=True, literal_execute=True)),
               Deal.id.not_in(live), owner_filter(session, actor, Deal.owner_id))
        .order_by(Deal.closed_on.desc(), Deal.id.desc())
        .limit(bindparam("won_limit", int(limit), literal_execute=True))
    ).all()
    return [(r.id, f"{r.customer_name} · {r.name}") for r in rows]
