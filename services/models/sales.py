"""Execution (销售活动执行): products, stages, lost reasons, deals and their history,
activities, contracts, payment plans and payments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from services.models.fields import money_field, text_field, utcnow


class Product(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    series: str | None = Field(default=None, max_length=60)
    list_price: Decimal = money_field()
    unit_cost: Decimal = money_field()
    active: bool = True


class ProductCreate(SQLModel):
    name: str
    series: str | None = None
    list_price: Decimal = Decimal("0")
    unit_cost: Decimal = Decimal("0")


class ProductRead(ProductCreate):
    id: int
    active: bool = True


class ProductUpdate(SQLModel):
    name: str | None = None
    series: str | None = None
    list_price: Decimal | None = None
    unit_cost: Decimal | None = None
    active: bool | None = None


class Stage(SQLModel, table=True):
    """Pipeline stage; ``kind`` won/lost closes the deal; ``stall_days`` without activity
    marks a deal red."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    sequence: int = 10
    probability: int = 10  # percent
    kind: str = Field(default="open", max_length=8)
    stall_days: int = 14
    guidance: str | None = text_field()
    active: bool = True


class StageCreate(SQLModel):
    name: str
    sequence: int = 10
    probability: int = 10
    kind: str = "open"
    stall_days: int = 14
    guidance: str | None = None


class StageRead(StageCreate):
    id: int
    active: bool = True


class StageUpdate(SQLModel):
    name: str | None = None
    sequence: int | None = None
    probability: int | None = None
    kind: str | None = None
    stall_days: int | None = None
    guidance: str | None = None
    active: bool | None = None


class LostReason(SQLModel, table=True):
    __tablename__ = "lost_reason"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    active: bool = True


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
        # the pipeline board: per stage (and owner) count / sum / stalled from the index
        # alone, and the largest deals of a stage in amount order
        Index("ix_deal_owner_stage_board", "owner_id", "stage_id", "amount", "expected_close", "last_activity_at",
              "created_at"),
        Index("ix_deal_stage_board", "stage_id", "amount", "owner_id", "expected_close", "last_activity_at",
              "created_at"),
        Index("ix_deal_customer", "customer_id"),
        Index("ix_deal_closed_on", "closed_on"),
        Index("ix_deal_opened_on", "opened_on"),
        Index("ix_deal_expected_close", "expected_close"),
    )
    id: int | None = Field(default=None, primary_key=True)
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
    __table_args__ = (Index("ix_deal_history_deal_at", "deal_id", "changed_at"),)
    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id")
    field: str = Field(max_length=20)  # stage | amount | expected_close | owner
    old_value: str | None = Field(default=None, max_length=60)
    new_value: str | None = Field(default=None, max_length=60)
    changed_by: int | None = Field(default=None, foreign_key="user.id")
    changed_at: datetime = Field(default_factory=utcnow, index=True)


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
        Index("ix_activity_done", "done_at"),
        # the agenda reads only open (planned, not done) activities
        Index("ix_activity_owner_open_planned", "owner_id", "planned_at",
              sqlite_where=text("done_at IS NULL"), postgresql_where=text("done_at IS NULL")),
        Index("ix_activity_open_planned", "planned_at",
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
    deal_id: int | None = Field(default=None, foreign_key="deal.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    owner_id: int = Field(foreign_key="user.id", index=True)
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
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=40, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    version: int = 1


class ContractCreate(ContractBase):
    number: str | None = None


class ContractRead(ContractBase):
    id: int
    number: str
    version: int = 1


class PaymentPlan(SQLModel, table=True):
    """回款计划 installment. Status is derived (pending / partially paid / paid / overdue)
    from payments and the due date, so it is never stale."""

    __tablename__ = "payment_plan"
    __table_args__ = (
        UniqueConstraint("contract_id", "installment"),
        Index("ix_payment_plan_due", "due_on"),
    )
    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    installment: int = 1
    due_on: date
    amount: Decimal = money_field()
    note: str | None = Field(default=None, max_length=200)


class PaymentPlanCreate(SQLModel):
    contract_id: int
    installment: int | None = None
    due_on: date
    amount: Decimal
    note: str | None = None


class Payment(SQLModel, table=True):
    """回款: money received, against an installment (partial payments allowed)."""

    __table_args__ = (Index("ix_payment_received", "received_on"),)
    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    plan_id: int | None = Field(default=None, foreign_key="payment_plan.id", index=True)
    received_on: date
    amount: Decimal = money_field()
    method: str | None = Field(default=None, max_length=30)
    note: str | None = Field(default=None, max_length=200)
    recorded_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class PaymentCreate(SQLModel):
    contract_id: int
    plan_id: int | None = None
    received_on: date
    amount: Decimal
    method: str | None = None
    note: str | None = None
