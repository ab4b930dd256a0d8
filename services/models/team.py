"""Team (培训与激励): courses and their sessions, enrollments, the case library, incentive
schemes, payouts, awards, team events and who took part.

JSON columns hold small lists whose shape the owning service documents and validates
(``services.incentives.rules``, ``services.training``); money inside them is written as
decimal strings so no float ever touches an amount."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Numeric, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from services.models.fields import money_field, text_field, utcnow


class Course(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    category: str = Field(default="sales_skills", max_length=20)
    duration_hours: Decimal = Field(default=Decimal("1"), sa_type=Numeric(6, 1))
    passing_score: int = 60
    max_score: int = Field(default=100, sa_column_kwargs={"server_default": text("100")})
    material_url: str | None = Field(default=None, max_length=500)
    description: str | None = text_field()  # notes / outline of the material
    active: bool = True


class CourseSession(SQLModel, table=True):
    """One held session of a course: date, trainer, who attended (JSON list of user ids)."""

    __tablename__ = "course_session"
    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    held_on: date
    trainer: str = Field(max_length=120)
    attendees: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    notes: str | None = Field(default=None, max_length=300)


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
    progress: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})  # percent, as the rep reports it
    certified_on: date | None = None


class SalesCase(SQLModel, table=True):
    """A written-up won (or instructively lost) deal for the case library (案例库); draft →
    submitted → published after the manager's review."""

    __tablename__ = "sales_case"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    deal_id: int | None = Field(default=None, foreign_key="deal.id", index=True)
    product_id: int | None = Field(default=None, foreign_key="product.id", index=True)
    stage_id: int | None = Field(default=None, foreign_key="stage.id")
    outcome: str = Field(default="won", max_length=8)
    situation: str | None = text_field()
    what_worked: str | None = text_field()
    objections: str | None = text_field()
    author_id: int = Field(foreign_key="user.id", index=True)
    status: str = Field(default="draft", max_length=10)
    reviewed_by: int | None = Field(default=None, foreign_key="user.id")
    published_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow)


class CourseCase(SQLModel, table=True):
    """A case a course includes."""

    __tablename__ = "course_case"
    course_id: int = Field(foreign_key="course.id", primary_key=True)
    case_id: int = Field(foreign_key="sales_case.id", primary_key=True)


class IncentiveScheme(SQLModel, table=True):
    """Commission / bonus / contest rule. ``tiers``: [{"from": "0", "rate": "0.02"}, …] (lower
    bounds ascending from 0, rate a fraction); ``mode`` whole (全额累进) | marginal (超额累进);
    ``bonus``: [{"attainment": "1.00", "bonus": "5000.00"}, …]; ``team_ids`` / ``user_ids``:
    who it applies to (everyone when both are empty); ``contest``: {"rule": …, "prizes": […]}
    for kind contest. Older rows may say kind tiered_full / tiered_excess / attainment_bonus
    (read as whole / marginal / bonus-only)."""

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
    mode: str = Field(default="whole", max_length=10, sa_column_kwargs={"server_default": "whole"})
    bonus: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    team_ids: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    user_ids: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    contest: str | None = text_field()


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
    # the parts of ``amount`` (= commission + bonus + adjustment) and the calculation's lines;
    # status is draft → approved → paid, and a paid row is locked
    commission: Decimal = money_field(sa_column_kwargs={"server_default": text("0")})
    bonus: Decimal = money_field(sa_column_kwargs={"server_default": text("0")})
    adjustment: Decimal = money_field(sa_column_kwargs={"server_default": text("0")})
    lines: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))


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
    kind: str = Field(default="team_building", max_length=20, sa_column_kwargs={"server_default": "team_building"})
    plan_id: int | None = Field(default=None, foreign_key="sales_plan.id", index=True)


class TeamEventParticipant(SQLModel, table=True):
    """Who took part in a team event."""

    __tablename__ = "team_event_participant"
    event_id: int = Field(foreign_key="team_event.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True)
