"""Vocabularies and the column helpers every table module uses (money, long text, UTC now)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Column, Numeric, Text
from sqlmodel import Field

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
