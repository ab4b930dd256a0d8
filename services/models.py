"""The SalesOps domain model as SQLModel tables (see DESIGN.md, "Domain model").

Conventions: money is ``Decimal`` in ``Numeric(14, 2)``; timestamps are aware UTC
``datetime`` (``utcnow()``); calendar facts are ``date``. Editable entities have
``XCreate`` / ``XUpdate`` / ``XRead`` models next to the table (full-stack-fastapi-template
pattern): services validate input with the first two and return the third.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Numeric, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

# ---------------------------------------------------------------------------
# vocabularies (stored as short strings; services validate against these)
ROLES = ("admin", "director", "manager", "rep")
TEAM_KINDS = ("company", "region", "team")
TIERS = ("A", "B", "C")
CUSTOMER_STATUSES = ("lead", "prospect", "active", "churned")
ACTIVITY_KINDS = ("call", "email", "meeting", "visit", "demo", "contract_signing", "service", "other")
STAGE_KINDS = ("open", "won", "lost")
CONTRACT_STATUSES = ("draft", "signed", "executing", "completed", "cancelled")
TICKET_STATUSES = ("open", "assigned", "resolved", "closed")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")
TICKET_CATEGORIES = ("installation", "usage", "defect", "billing", "complaint", "other")
TARGET_METRICS = ("contract_amount", "collections", "won_deals", "new_customers", "activities")
TARGET_SCOPES = ("company", "team", "user")
PERIOD_KINDS = ("year", "quarter", "month")
TARGET_TIERS = ("base", "stretch", "challenge")
PLAN_STATUSES = ("draft", "active", "closed")
ALLOCATION_KINDS = ("people", "money")
REVIEW_ACTION_STATUSES = ("open", "in_progress", "done", "dropped")
COURSE_CATEGORIES = ("product_knowledge", "sales_skills", "market_analysis", "other")
ENROLLMENT_STATUSES = ("assigned", "in_progress", "completed", "failed")
SCHEME_BASES = ("won_amount", "collections", "margin")
SCHEME_KINDS = ("tiered_full", "tiered_excess", "attainment_bonus", "contest")
AWARD_KINDS = ("badge", "contest")

MONEY = Numeric(14, 2)


def utcnow() -> datetime:
    """Aware UTC now. Timestamp columns store UTC (SQLModel's UTCDateTime refuses naive values)."""
    return datetime.now(UTC)


def money_field(default: Decimal | None = Decimal("0"), nullable: bool = False, **kw) -> Decimal:
    return Field(default=default, sa_type=MONEY, nullable=nullable, **kw)


def text_field(default: str | None = None, **kw) -> str:
    return Field(default=default, sa_column=Column(Text, nullable=True), **kw)


# ---------------------------------------------------------------------------
# Organisation


class Team(SQLModel, table=True):
    """Tree: company → region → team. ``manager_id`` is the user who manages the subtree."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    kind: str = Field(default="team", max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    manager_id: int | None = Field(default=None, index=True)  # user.id (no FK: user ↔ team cycle)
    region: str | None = Field(default=None, max_length=60)
    active: bool = True


class TeamCreate(SQLModel):
    name: str
    kind: str = "team"
    parent_id: int | None = None
    manager_id: int | None = None
    region: str | None = None


class TeamUpdate(SQLModel):
    name: str | None = None
    kind: str | None = None
    parent_id: int | None = None
    manager_id: int | None = None
    region: str | None = None
    active: bool | None = None


class TeamRead(TeamCreate):
    id: int
    active: bool = True


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=60, unique=True, index=True)
    display_name: str = Field(max_length=120)
    email: str | None = Field(default=None, max_length=200)
    role: str = Field(default="rep", max_length=16)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    password_hash: str = Field(default="", max_length=255)
    locale: str | None = Field(default=None, max_length=10)  # None → browser language
    capacity: Decimal = money_field(Decimal("0"))  # monthly contract amount the rep can carry
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class UserCreate(SQLModel):
    username: str
    display_name: str
    password: str
    role: str = "rep"
    team_id: int | None = None
    email: str | None = None
    locale: str | None = None
    capacity: Decimal = Decimal("0")


class UserUpdate(SQLModel):
    display_name: str | None = None
    role: str | None = None
    team_id: int | None = None
    email: str | None = None
    locale: str | None = None
    capacity: Decimal | None = None
    active: bool | None = None


class UserRead(SQLModel):
    id: int
    username: str
    display_name: str
    email: str | None = None
    role: str
    team_id: int | None = None
    locale: str | None = None
    capacity: Decimal = Decimal("0")
    active: bool = True
    locked_until: datetime | None = None
    last_login_at: datetime | None = None


class UserSession(SQLModel, table=True):
    """A sign-in: the browser keeps a signed token naming this row; logout revokes it."""

    __tablename__ = "user_session"
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None


class Setting(SQLModel, table=True):
    """Key → JSON value (base currency, fiscal year start, pool rules, …)."""

    key: str = Field(primary_key=True, max_length=80)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, index=True)
    entity: str = Field(max_length=40)
    entity_id: str = Field(max_length=40)
    action: str = Field(max_length=20)  # create | update | delete | archive | restore | claim | release | …
    changes: str | None = text_field()  # JSON {field: [old, new]}


# ---------------------------------------------------------------------------
# Customers


class Channel(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    active: bool = True


class ChannelCreate(SQLModel):
    name: str


class ChannelRead(ChannelCreate):
    id: int
    active: bool = True


class NameUpdate(SQLModel):
    """Rename and/or (de)activate a lost reason or channel."""

    name: str | None = None
    active: bool | None = None


class CustomerBase(SQLModel):
    name: str = Field(max_length=200)
    credit_code: str | None = Field(default=None, max_length=18)  # 统一社会信用代码
    industry: str | None = Field(default=None, max_length=60)
    region: str | None = Field(default=None, max_length=60)
    tier: str = Field(default="C", max_length=1)
    status: str = Field(default="lead", max_length=16)
    channel_id: int | None = Field(default=None, foreign_key="channel.id")
    owner_id: int | None = Field(default=None, foreign_key="user.id")
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    notes: str | None = text_field()


class Customer(CustomerBase, table=True):
    """``owner_id`` null means the customer is in the public pool (公海)."""

    __table_args__ = (
        # the grid: owner (or all) + archived, in name order, covering the usual filters
        # (tier, status, no contact since) so counts and page ids need no table rows; id
        # last because PostgreSQL indexes do not carry the key (SQLite's carry the rowid)
        Index("ix_customer_owner_grid", "owner_id", "archived", "name_norm", "tier", "status", "last_contact_at", "id"),
        Index("ix_customer_name_grid", "name_norm", "archived", "tier", "status", "last_contact_at", "id"),
        Index("ix_customer_credit_code", "credit_code"),
        Index("ix_customer_phone_norm", "phone_norm"),
        Index("ix_customer_email_norm", "email_norm"),
        Index("ix_customer_last_contact_archived", "last_contact_at", "archived"),  # "no contact since"
        Index("ix_customer_created", "created_at"),
        Index("ix_customer_owner_next_contact", "owner_id", "next_contact_on"),
        Index("ix_customer_next_contact_owner", "next_contact_on", "archived", "owner_id"),  # agenda follow-ups
    )
    id: int | None = Field(default=None, primary_key=True)
    name_norm: str = Field(default="", max_length=200)  # normalised for 查重
    phone_norm: str | None = Field(default=None, max_length=40)
    email_norm: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(default=None, max_length=80, unique=True)
    pool_entered_at: datetime | None = None
    previous_owner_id: int | None = Field(default=None)
    released_at: datetime | None = None
    last_contact_at: datetime | None = None
    next_contact_on: date | None = None
    archived: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1


class CustomerCreate(CustomerBase):
    pass


class CustomerUpdate(SQLModel):
    name: str | None = None
    credit_code: str | None = None
    industry: str | None = None
    region: str | None = None
    tier: str | None = None
    status: str | None = None
    channel_id: int | None = None
    owner_id: int | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    notes: str | None = None
    next_contact_on: date | None = None


class CustomerRead(CustomerBase):
    id: int
    archived: bool = False
    last_contact_at: datetime | None = None
    next_contact_on: date | None = None
    pool_entered_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1


class ContactBase(SQLModel):
    customer_id: int = Field(foreign_key="customer.id", index=True)
    name: str = Field(max_length=120)
    title: str | None = Field(default=None, max_length=80)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    is_primary: bool = False
    notes: str | None = text_field()


class Contact(ContactBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)


class ContactCreate(ContactBase):
    pass


class ContactUpdate(SQLModel):
    name: str | None = None
    title: str | None = None
    phone: str | None = None
    email: str | None = None
    is_primary: bool | None = None
    notes: str | None = None


class ContactRead(ContactBase):
    id: int


class MarketingSpend(SQLModel, table=True):
    """Spend per channel and month (first day of the month) → CAC."""

    __tablename__ = "marketing_spend"
    __table_args__ = (UniqueConstraint("channel_id", "month"),)
    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="channel.id", index=True)
    month: date = Field(index=True)
    amount: Decimal = money_field()


class ServiceTicketBase(SQLModel):
    customer_id: int = Field(foreign_key="customer.id", index=True)
    title: str = Field(max_length=200)
    category: str = Field(default="usage", max_length=20)
    priority: str = Field(default="normal", max_length=10)
    description: str | None = text_field()
    assignee_id: int | None = Field(default=None, foreign_key="user.id", index=True)


class ServiceTicket(ServiceTicketBase, table=True):
    """After-sales service ticket; satisfaction 1–5 is given on resolve."""

    __tablename__ = "service_ticket"
    __table_args__ = (Index("ix_ticket_status_opened", "status", "opened_at"),)
    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default="open", max_length=10)
    opened_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    satisfaction: int | None = None
    resolution: str | None = text_field()


class ServiceTicketCreate(ServiceTicketBase):
    pass


class ServiceTicketRead(ServiceTicketBase):
    id: int
    status: str
    opened_at: datetime
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    satisfaction: int | None = None
    resolution: str | None = None


# ---------------------------------------------------------------------------
# Execution


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
    """合同; number like HT-20261127-0001."""

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


# ---------------------------------------------------------------------------
# Targets and plans


class TargetBase(SQLModel):
    metric: str = Field(default="contract_amount", max_length=20)
    scope: str = Field(default="company", max_length=10)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    user_id: int | None = Field(default=None, foreign_key="user.id")
    period_kind: str = Field(default="month", max_length=8)
    period_start: date
    tier: str = Field(default="base", max_length=10)
    value: Decimal = money_field()
    parent_id: int | None = Field(default=None, foreign_key="target.id")
    basis_market: str | None = text_field()
    basis_history: str | None = text_field()
    basis_capacity: str | None = text_field()


class Target(TargetBase, table=True):
    __table_args__ = (
        Index("ix_target_lookup", "metric", "period_kind", "period_start", "scope"),
        Index("ix_target_user", "user_id"),
        Index("ix_target_team", "team_id"),
        Index("ix_target_parent", "parent_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)


class TargetCreate(TargetBase):
    pass


class TargetRead(TargetBase):
    id: int


class SalesPlan(SQLModel, table=True):
    __tablename__ = "sales_plan"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    period_start: date
    period_end: date
    owner_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    pricing_strategy: str | None = text_field()
    promotion_strategy: str | None = text_field()
    channel_strategy: str | None = text_field()
    budget: Decimal = money_field()
    status: str = Field(default="draft", max_length=10)
    created_at: datetime = Field(default_factory=utcnow)


class SalesPlanTarget(SQLModel, table=True):
    __tablename__ = "sales_plan_target"
    plan_id: int = Field(foreign_key="sales_plan.id", primary_key=True)
    target_id: int = Field(foreign_key="target.id", primary_key=True)


class PlanMilestone(SQLModel, table=True):
    __tablename__ = "plan_milestone"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="sales_plan.id", index=True)
    title: str = Field(max_length=200)
    owner_id: int | None = Field(default=None, foreign_key="user.id")
    start_on: date | None = None
    due_on: date
    done_on: date | None = None


class PlanAllocation(SQLModel, table=True):
    """People (headcount) or money allocated to a team, channel or region; planned vs spent."""

    __tablename__ = "plan_allocation"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="sales_plan.id", index=True)
    kind: str = Field(default="money", max_length=8)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    channel_id: int | None = Field(default=None, foreign_key="channel.id")
    region: str | None = Field(default=None, max_length=60)
    planned: Decimal = money_field()
    spent: Decimal = money_field()
    note: str | None = Field(default=None, max_length=200)


# ---------------------------------------------------------------------------
# Review


class Review(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    period_start: date
    period_end: date
    scope: str = Field(default="company", max_length=10)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    user_id: int | None = Field(default=None, foreign_key="user.id")
    findings: str | None = text_field()
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class ReviewAction(SQLModel, table=True):
    __tablename__ = "review_action"
    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    title: str = Field(max_length=200)
    owner_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    due_on: date | None = None
    status: str = Field(default="open", max_length=12)


class ForecastSnapshot(SQLModel, table=True):
    """Weekly snapshot of the forecast for a period and scope → forecast accuracy."""

    __tablename__ = "forecast_snapshot"
    __table_args__ = (Index("ix_forecast_period", "period_start", "scope"),)
    id: int | None = Field(default=None, primary_key=True)
    taken_on: date
    period_start: date
    period_end: date
    scope: str = Field(default="company", max_length=10)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    user_id: int | None = Field(default=None, foreign_key="user.id")
    weighted_amount: Decimal = money_field()
    commit_amount: Decimal = money_field()
    best_case_amount: Decimal = money_field()
    won_to_date: Decimal = money_field()


# ---------------------------------------------------------------------------
# Team: training and incentives


class Course(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    category: str = Field(default="sales_skills", max_length=20)
    duration_hours: Decimal = Field(default=Decimal("1"), sa_type=Numeric(6, 1))
    passing_score: int = 60
    description: str | None = text_field()
    active: bool = True


class Enrollment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    assigned_on: date
    due_on: date | None = None
    status: str = Field(default="assigned", max_length=12)
    completed_on: date | None = None
    score: int | None = None


class IncentiveScheme(SQLModel, table=True):
    """Commission / bonus rule. ``tiers`` is JSON: [{"from": 0, "to": 100000, "rate": 0.03}, …]
    for commissions, [{"attainment": 1.0, "bonus": 5000}, …] for attainment bonuses."""

    __tablename__ = "incentive_scheme"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    basis: str = Field(default="won_amount", max_length=12)
    kind: str = Field(default="tiered_full", max_length=20)
    tiers: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    period_kind: str = Field(default="month", max_length=8)
    applies_role: str | None = Field(default="rep", max_length=16)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    starts_on: date | None = None
    ends_on: date | None = None
    active: bool = True


class Payout(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("scheme_id", "user_id", "period_start"),)
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="incentive_scheme.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    period_start: date
    basis_amount: Decimal = money_field()
    amount: Decimal = money_field()
    approved: bool = False
    approved_by: int | None = Field(default=None, foreign_key="user.id")
    paid: bool = False
    paid_on: date | None = None


class Award(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    title: str = Field(max_length=120)
    kind: str = Field(default="badge", max_length=10)
    awarded_on: date
    note: str | None = Field(default=None, max_length=300)


class TeamEvent(SQLModel, table=True):
    """Team building and other team events."""

    __tablename__ = "team_event"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    held_on: date
    team_id: int | None = Field(default=None, foreign_key="team.id")
    participants: int = 0
    cost: Decimal = money_field()
    notes: str | None = text_field()


ALL_TABLES = list(SQLModel.metadata.sorted_tables)
