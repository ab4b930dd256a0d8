"""Review (业绩评估): reviews, their action items, forecast snapshots."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.models.fields import money_field, text_field, utcnow


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
    # the later review at which the action was checked off (done or dropped)
    checked_review_id: int | None = Field(default=None, foreign_key="review.id")
    done_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ForecastSnapshot(SQLModel, table=True):
    """Weekly snapshot of the forecast for a period and scope → forecast accuracy."""

    __tablename__ = "forecast_snapshot"
    __table_args__ = (
        Index("ix_forecast_period", "period_start", "scope"),
        # at most one snapshot per scope, month forecast and week (the database says so too)
        UniqueConstraint("scope_key", "week_start", "period_start", name="ux_forecast_snapshot_week"),
    )
    id: int | None = Field(default=None, primary_key=True)
    taken_on: date
    # Monday of the company week the snapshot was taken in; "company", "team:<id>" or "user:<id>"
    week_start: date
    scope_key: str = Field(max_length=30)
    period_start: date
    period_end: date
    scope: str = Field(default="company", max_length=10)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    user_id: int | None = Field(default=None, foreign_key="user.id")
    weighted_amount: Decimal = money_field()
    commit_amount: Decimal = money_field()
    best_case_amount: Decimal = money_field()
    won_to_date: Decimal = money_field()
