"""Execution (销售活动执行): products, stages, lost reasons, deals and their history,
activities, contracts, payment plans and payments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationInfo, field_validator
from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from services.models.fields import (
    LONG_TEXT,
    MAX_AMOUNT,
    MONEY,
    STAGE_KINDS,
    Editable,
    FieldRuleError,
    money_field,
    text_field,
    utcnow,
)
from services.models.organisation import NAME_MAX, in_vocabulary


class ProductBase(Editable):
    """The field rules of a product: name 1–120 characters (unique, ignoring case: the
    service checks), series ≤ 60, list price and unit cost 0…``MAX_AMOUNT`` with 2 places."""

    name: str = Field(min_length=1, max_length=NAME_MAX, unique=True)
    series: str | None = Field(default=None, max_length=60)
    list_price: Decimal = Field(default=Decimal("0"), ge=0, le=MAX_AMOUNT, decimal_places=2, sa_type=MONEY)
    unit_cost: Decimal = Field(default=Decimal("0"), ge=0, le=MAX_AMOUNT, decimal_places=2, sa_type=MONEY)

    @field_validator("series")
    @classmethod
    def _blank_series(cls, value: str | None) -> str | None:
        return value or None


class Product(ProductBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    active: bool = True


class ProductCreate(ProductBase):
    pass


class ProductRead(SQLModel):
    id: int
    name: str
    series: str | None = None
    list_price: Decimal = Decimal("0")
    unit_cost: Decimal = Decimal("0")
    active: bool = True


class ProductUpdate(SQLModel):
    """The fields a change may name (checked against ``ProductBase`` merged with the row)."""

    name: Any = None
    series: Any = None
    list_price: Any = None
    unit_cost: Any = None
    active: bool | None = None


#: The probability a closed stage's deals carry (the stage rule, Odoo's "won ⇒ 100 %").
CLOSED_STAGE_PROBABILITY = {"won": 100, "lost": 0}
# an installment is open (not fully paid) while what was paid on it is more than half a cent
# short of its amount; the partial index ix_payment_plan_open_due is built on this very text
OPEN_SHORTFALL = "0.005"
OPEN_INSTALLMENT = f"paid_amount < amount - {OPEN_SHORTFALL}"
# a deal's stage history rows, and those of a visit that has ended: the partial visit indexes
# are built on this very text, and the funnel's reads repeat it
STAGE_ROW = "field = 'stage'"
ENDED_VISIT = "field = 'stage' AND days IS NOT NULL"
# a change of a deal's expected close (close-date slippage reads them by when they were made)
CLOSE_MOVE = "field = 'expected_close'"


def stage_probability_rule(kind: str | None, probability: int | None) -> FieldRuleError | None:
    """The stage rule: a won stage is at 100 %, a lost one at 0 %, an open one below 100 %.
    ``None`` when ``probability`` fits ``kind``, else the refusal to give for the field."""
    if kind == "won" and probability != 100:
        return FieldRuleError("admin.err_won_probability")
    if kind == "lost" and probability != 0:
        return FieldRuleError("admin.err_lost_probability")
    if kind == "open" and probability is not None and probability >= 100:
        return FieldRuleError("admin.err_open_probability")
    return None


class StageBase(Editable):
    """The field rules of a pipeline stage: name 1–60 (unique), sequence 0–10000,
    probability 0–100 whole percent fitting its kind (``stage_probability_rule``), kind
    open / won / lost, stall days 0–3650, guidance ≤ ``LONG_TEXT``."""

    name: str = Field(min_length=1, max_length=60, unique=True)
    sequence: int = Field(default=10, ge=0, le=10000)
    kind: str = Field(default="open", max_length=8)  # before probability: its rule reads the kind
    probability: int = Field(default=10, ge=0, le=100)  # percent
    stall_days: int = Field(default=14, ge=0, le=3650)
    guidance: str | None = Field(default=None, max_length=LONG_TEXT)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        return in_vocabulary(value, STAGE_KINDS)

    @field_validator("guidance")
    @classmethod
    def _blank_guidance(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("probability")
    @classmethod
    def _fits_kind(cls, value: int, info: ValidationInfo) -> int:
        refusal = stage_probability_rule(info.data.get("kind"), value)
        if refusal is not None:
            raise refusal
        return value


class Stage(StageBase, table=True):
    """Pipeline stage; ``kind`` won/lost closes the deal; ``stall_days`` without activity
    marks a deal red."""

    id: int | None = Field(default=None, primary_key=True)
    guidance: str | None = text_field()
    active: bool = True


class StageCreate(StageBase):
    pass


class StageRead(SQLModel):
    id: int
    name: str
    sequence: int = 10
    probability: int = 10
    kind: str = "open"
    stall_days: int = 14
    guidance: str | None = None
    active: bool = True


class StageUpdate(SQLModel):
    """The fields a change may name (checked against ``StageBase`` merged with the row)."""

    name: Any = None
    sequence: Any = None
    probability: Any = None
    kind: Any = None
    stall_days: Any = None
    guidance: Any = None
    active: bool | None = None


class LostReasonBase(Editable):
    """A lost reason: name 1–120 characters (unique, ignoring case)."""

    name: str = Field(min_length=1, max_length=NAME_MAX, unique=True)


class LostReason(LostReasonBase, table=True):
    __tablename__ = "lost_reason"
    id: int | None = Field(default=None, primary_key=True)
    active: bool = True


class LostReasonCreate(LostReasonBase):
    pass


class LostReasonUpdate(SQLModel):
    """Rename and/or (de)activate (checked against ``LostReasonBase``)."""

    name: Any = None
    active: bool | None = None


class LostReasonRead(SQLModel):
    id: int
    name: str
    active: bool = True


class DealBase(SQLModel):
    name: str = Field(max_length=200)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    owner_id: int = Field(foreign_key="user.id")
    product_id: int | None = Field(default=None, foreign_key="product.id")
    amount: Decimal | None = money_field(None, nullable=True)
    stage_id: int = Field(foreign_key="stage.id")
    probability: int = 10
    expected_close: date | None = None
    channel_id: int | None = Field(default=None, foreign_key="channel.id")
    next_step: str | None = Field(default=None, max_length=300)


class Deal(DealBase, table=True):
    """商机. Every change of stage, amount, expected close or owner writes DealHistory."""

    __table_args__ = (
        # the pipeline board and the Overview's pipeline: per stage (and owner) count / sum /
        # weighted sum / stalled from the index alone, and the largest deals of a stage in
        # amount order
        Index("ix_deal_owner_stage_board", "owner_id", "stage_id", "amount", "expected_close", "last_activity_at",
              "created_at", "probability"),
        Index("ix_deal_stage_board", "stage_id", "amount", "owner_id", "expected_close", "last_activity_at",
              "created_at", "probability", "stages_reached"),  # (and the pipeline's funnel)
        # won / lost deals of a period (won revenue, win rate, the won trend, the sales cycle,
        # the customer lifetime value) from the index alone (and the lost ones by reason: rising
        # lost reasons)
        Index("ix_deal_stage_closed", "stage_id", "closed_on", "owner_id", "amount", "lost_reason_id", "opened_on",
              "customer_id", "product_id"),
        Index("ix_deal_owner_stage_closed", "owner_id", "stage_id", "closed_on", "amount",
              "lost_reason_id", "opened_on", "customer_id", "product_id"),  # the same, per owner
        # open deals in a stage since before a time (the stalled-deals finding) as a range
        Index("ix_deal_stage_since", "stage_id", "stage_changed_at", "owner_id", "amount"),
        Index("ix_deal_customer", "customer_id"),
        Index("ix_deal_closed_on", "closed_on"),
        # the funnel's cohort (deals opened in a period, everyone's or one owner's) from the
        # index alone (with the kept stage facts: reach, conversion and leakage); id last because
        # PostgreSQL indexes do not carry the key
        Index("ix_deal_opened_cohort", "opened_on", "owner_id", "stage_id", "amount", "closed_on", "lost_reason_id",
              "stages_reached", "stage_entered_from", "id"),
        Index("ix_deal_owner_opened_cohort", "owner_id", "opened_on", "stage_id", "amount", "closed_on",
              "lost_reason_id", "stages_reached", "stage_entered_from", "id"),
        Index("ix_deal_expected_close", "expected_close"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # units of the product sold: gross margin = amount − product unit cost × quantity
    quantity: int = Field(default=1, sa_column_kwargs={"server_default": text("1")})
    opened_on: date = Field(default_factory=lambda: datetime.now(UTC).date())
    closed_on: date | None = None
    lost_reason_id: int | None = Field(default=None, foreign_key="lost_reason.id")
    lost_note: str | None = Field(default=None, max_length=300)
    stage_changed_at: datetime = Field(default_factory=utcnow)
    last_activity_at: datetime | None = None
    external_id: str | None = Field(default=None, max_length=80, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1
    # kept by database triggers (migration 0014) with every deal and stage-history row written,
    # never by the app: the ids of every stage the deal was in (``,1,2,4,``), and the old value
    # of its latest stage row into its current stage (a lost deal: the stage it was lost from)
    stages_reached: str = Field(default=",", max_length=400, sa_column_kwargs={"server_default": ","})
    stage_entered_from: str | None = Field(default=None, max_length=60)


class DealCreate(DealBase):
    opened_on: date | None = None
    external_id: str | None = None


class DealUpdate(SQLModel):
    name: str | None = None
    customer_id: int | None = None
    owner_id: int | None = None
    product_id: int | None = None
    amount: Decimal | None = None
    probability: int | None = None
    expected_close: date | None = None
    channel_id: int | None = None
    next_step: str | None = None


class DealRead(DealBase):
    id: int
    opened_on: date
    closed_on: date | None = None
    lost_reason_id: int | None = None
    lost_note: str | None = None
    stage_changed_at: datetime | None = None
    last_activity_at: datetime | None = None
    version: int = 1


class DealHistory(SQLModel, table=True):
    """One row per change of stage, amount, expected close or owner (from → to)."""

    __tablename__ = "deal_history"
    # a deal's history in time order (changed_at, id), and the stages it reached / the stage
    # it was lost from / the days it spent in each, from the index alone
    __table_args__ = (
        Index("ix_deal_history_deal_at", "deal_id", "changed_at", "id", "field", "new_value", "old_value"),
        # the visits of a stage (stage rows) by the deal's cohort, by owner, and by length
        Index("ix_deal_history_visit", "deal_opened_on", "new_value", "deal_owner_id", "days",
              sqlite_where=text(STAGE_ROW), postgresql_where=text(STAGE_ROW)),
        Index("ix_deal_history_owner_visit", "deal_owner_id", "deal_opened_on", "new_value", "days",
              sqlite_where=text(STAGE_ROW), postgresql_where=text(STAGE_ROW)),
        Index("ix_deal_history_visit_days", "new_value", "days", "deal_opened_on", "deal_owner_id",
              sqlite_where=text(ENDED_VISIT), postgresql_where=text(ENDED_VISIT)),
        # the expected-close changes by when they were made (about 1 % of the rows)
        Index("ix_deal_history_close_moves", "changed_at", "deal_id", "old_value", "new_value",
              sqlite_where=text(CLOSE_MOVE), postgresql_where=text(CLOSE_MOVE)),
    )
    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id")
    field: str = Field(max_length=20)  # stage | amount | expected_close | owner
    old_value: str | None = Field(default=None, max_length=60)
    new_value: str | None = Field(default=None, max_length=60)
    changed_by: int | None = Field(default=None, foreign_key="user.id")
    changed_at: datetime = Field(default_factory=utcnow, index=True)
    # a stage row is a visit of the stage; kept by database triggers (migration 0014): its
    # length in days (to the deal's next stage row; NULL while the deal is still there) and
    # the deal's cohort (opened on, owner)
    days: float | None = None
    deal_opened_on: date | None = None
    deal_owner_id: int | None = None


class ActivityBase(SQLModel):
    kind: str = Field(default="call", max_length=20)
    customer_id: int = Field(foreign_key="customer.id")
    deal_id: int | None = Field(default=None, foreign_key="deal.id")
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    owner_id: int = Field(foreign_key="user.id")
    planned_at: datetime | None = None
    done_at: datetime | None = None
    duration_minutes: int | None = None
    outcome: str | None = Field(default=None, max_length=300)
    notes: str | None = text_field()
    next_step: str | None = Field(default=None, max_length=300)
    next_contact_on: date | None = None
    location: str | None = Field(default=None, max_length=200)


class Activity(ActivityBase, table=True):
    """跟进记录: planned (``done_at`` null) or done."""

    __table_args__ = (
        Index("ix_activity_owner_done", "owner_id", "done_at"),
        Index("ix_activity_owner_planned", "owner_id", "planned_at"),
        Index("ix_activity_customer_done", "customer_id", "done_at"),
        Index("ix_activity_deal", "deal_id"),
        # done in a time range (Overview counts, the week calendar) with the owner in the
        # index: a team's or rep's rows are picked out without reading the table
        Index("ix_activity_done", "done_at", "owner_id"),
        # done activities of one kind in a time range (work-back demos / visits per deal,
        # activity contests), counted from the index alone
        Index("ix_activity_kind_done", "kind", "done_at", "owner_id"),
        # the agenda reads only open (planned, not done) activities
        Index("ix_activity_owner_open_planned", "owner_id", "planned_at",
              sqlite_where=text("done_at IS NULL"), postgresql_where=text("done_at IS NULL")),
        Index("ix_activity_open_planned", "planned_at", "owner_id",
              sqlite_where=text("done_at IS NULL"), postgresql_where=text("done_at IS NULL")),
    )
    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=80, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class ActivityCreate(ActivityBase):
    external_id: str | None = None


class ActivityRead(ActivityBase):
    id: int
    created_at: datetime | None = None


class ContractBase(SQLModel):
    deal_id: int | None = Field(default=None, foreign_key="deal.id")  # indexed with status (Contract)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    owner_id: int = Field(foreign_key="user.id")  # indexed with status and amount (Contract)
    amount: Decimal = money_field()
    signed_on: date | None = Field(default=None, index=True)
    start_on: date | None = None
    end_on: date | None = None
    term_months: int | None = None
    status: str = Field(default="draft", max_length=12)


class Contract(ContractBase, table=True):
    """合同; number like HT-20261127-0001. At most one live (not cancelled) contract per deal:
    a partial unique index, as well as the service's check."""

    __table_args__ = (
        Index("ux_contract_live_deal", "deal_id", unique=True,
              sqlite_where=text("deal_id IS NOT NULL AND status != 'cancelled'"),
              postgresql_where=text("deal_id IS NOT NULL AND status <> 'cancelled'")),
        # an owner's contracts (collections by owner, per-rep totals) with status, amount and
        # the kept planned / collected totals: per-owner sums from the index alone
        Index("ix_contract_owner_status", "owner_id", "status", "amount", "planned_amount", "collected_amount"),
        # "has this deal a live contract" from the index alone (won deals without a contract)
        Index("ix_contract_deal_status", "deal_id", "status"),
        # PostgreSQL only (migration 0018): the list's newest-first order; SQLite walks
        # ix_contract_signed_on (its NULLs sort last in DESC) and has no NULLS LAST in an index
        Index("ix_contract_newest", text("signed_on DESC NULLS LAST"), text("id DESC")).ddl_if(dialect="postgresql"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=40, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    version: int = 1
    # Σ of its installments' amounts and of its payments' amounts, kept by database triggers
    # (migration 0012) with every installment or payment written, by whoever writes it
    planned_amount: Decimal = money_field(sa_column_kwargs={"server_default": "0"})
    collected_amount: Decimal = money_field(sa_column_kwargs={"server_default": "0"})


class ContractRead(ContractBase):
    id: int
    number: str
    version: int = 1


class PaymentPlan(SQLModel, table=True):
    """回款计划 installment. Status is derived (pending / partially paid / paid / overdue)
    from what was paid on it and the due date, so it is never stale. ``paid_amount`` is the
    sum of the payments on it, kept by a database trigger (migration 0010) in the same
    statement as every payment insert, update or delete — exact under concurrent writers (each
    is one increment of the installment row) — so the due and overdue totals read it from an
    index instead of summing every installment's payments."""

    __tablename__ = "payment_plan"
    __table_args__ = (
        UniqueConstraint("contract_id", "installment"),
        # due / overdue lists and due-to-date sums read due date, contract and amount from
        # the index alone, by date or per contract
        Index("ix_payment_plan_due", "due_on", "contract_id", "amount", "paid_amount", "collecting_owner_id"),
        Index("ix_payment_plan_contract_due", "contract_id", "due_on", "amount", "paid_amount"),
        # the not fully paid ones only (due this month, overdue) with their collecting owner: a
        # partial index whose condition the reads repeat literally (OPEN_INSTALLMENT)
        Index("ix_payment_plan_open_due", "due_on", "collecting_owner_id", "amount", "paid_amount", "contract_id",
              sqlite_where=text(OPEN_INSTALLMENT), postgresql_where=text(OPEN_INSTALLMENT)),
    )
    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id")
    installment: int = 1
    due_on: date
    amount: Decimal = money_field()
    paid_amount: Decimal = money_field(sa_column_kwargs={"server_default": "0"})
    # the contract's owner while the contract is collecting (signed / executing / completed),
    # else NULL — kept by database triggers (migration 0012) on every installment written and
    # every contract status or owner change, so per-owner due and overdue sums read this
    # table's indexes alone
    collecting_owner_id: int | None = None
    note: str | None = Field(default=None, max_length=200)


class Payment(SQLModel, table=True):
    """回款: money received, against an installment (partial payments allowed)."""

    # collections of a period (all, or the owners' contracts), collected per contract and
    # paid per installment: sums from the index alone
    __table_args__ = (
        Index("ix_payment_received", "received_on", "contract_id", "amount"),
        Index("ix_payment_contract_received", "contract_id", "received_on", "amount"),
        Index("ix_payment_plan_paid", "plan_id", "amount"),
    )
    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id")
    plan_id: int | None = Field(default=None, foreign_key="payment_plan.id")
    received_on: date
    amount: Decimal = money_field()
    method: str | None = Field(default=None, max_length=30)
    note: str | None = Field(default=None, max_length=200)
    recorded_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
