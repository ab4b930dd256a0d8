"""Team (培训与激励): courses, enrollments, incentive schemes, payouts, awards, team events."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Column, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.models.fields import money_field, text_field


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
