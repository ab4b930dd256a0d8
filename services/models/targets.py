"""Targets and plans (目标 / 计划)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, Numeric, text
from sqlmodel import Field, SQLModel

from services.models.fields import money_field, text_field, utcnow


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
    basis_kind: str | None = Field(default=None, max_length=10)
    basis_notes: str | None = text_field()


class Target(TargetBase, table=True):
    """One target; at most one per metric × scope holder × period × tier
    (``ux_target_slot``). ``basis_kind`` names the suggestion chosen (history | market |
    capacity | blend | manual | split) and ``basis_<kind>`` holds its numbers as JSON."""

    __table_args__ = (
        Index("ux_target_slot", "metric", "scope", text("coalesce(team_id, 0)"), text("coalesce(user_id, 0)"),
              "period_kind", "period_start", "tier", unique=True),
        Index("ix_target_lookup", "metric", "period_kind", "period_start", "scope"),
        # the analytics' "target of a scope" reads, index-only in holder order (migration 0017)
        Index("ix_target_holder", "metric", "tier", "scope", "team_id", "user_id", "period_start", "period_kind",
              "value"),
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
    # rows written without a status (older writers) read as planned, or done once done_on is set
    status: str = Field(default="planned", max_length=12, sa_column_kwargs={"server_default": "planned"})


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


SHARE = Numeric(5, 4)


class PlanCampaign(SQLModel, table=True):
    """A promotion campaign of a plan: dates (inside the plan period), channel, budget."""

    __tablename__ = "plan_campaign"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="sales_plan.id", index=True)
    name: str = Field(max_length=200)
    channel_id: int | None = Field(default=None, foreign_key="channel.id")
    starts_on: date
    ends_on: date
    budget: Decimal = money_field()


class PlanChannelShare(SQLModel, table=True):
    """The share of the plan's revenue a channel is expected to bring (0…1; Σ ≤ 1)."""

    __tablename__ = "plan_channel_share"
    plan_id: int = Field(foreign_key="sales_plan.id", primary_key=True)
    channel_id: int = Field(foreign_key="channel.id", primary_key=True)
    share: Decimal = Field(default=Decimal("0"), sa_type=SHARE)


class PlanDiscountLimit(SQLModel, table=True):
    """The largest discount off list price a role may give while the plan is active (0…1)."""

    __tablename__ = "plan_discount_limit"
    plan_id: int = Field(foreign_key="sales_plan.id", primary_key=True)
    role: str = Field(max_length=16, primary_key=True)
    max_discount: Decimal = Field(default=Decimal("0"), sa_type=SHARE)
