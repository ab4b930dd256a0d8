"""Field rules and column helpers every table module uses: vocabularies, money, the text
rule, long-text limits, UTC now, and ``Editable`` — the base of every model a service
validates input with (``XBase`` / ``XCreate`` / ``XUpdate``).

The text rule (one for every text field of every entity and import, on both databases):
NUL and the other control characters except tab, newline and carriage return are removed,
and surrounding whitespace is stripped; what is left must fit the field's ``max_length``.
Long free text (notes, descriptions, strategies, findings) is at most ``LONG_TEXT``
characters.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import field_validator
from sqlalchemy import Column, Numeric, Text
from sqlmodel import Field, SQLModel

#: Money above this is rejected as absurd (1000亿); the columns hold up to 10^12.
MAX_AMOUNT = Decimal("100000000000")
#: Longest free text (notes, descriptions, strategies) in characters.
LONG_TEXT = 5000

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    """The text rule: control characters (NUL included; tab, newline, CR kept) removed,
    surrounding whitespace stripped."""
    return _CONTROL.sub("", value).strip()


class Editable(SQLModel):
    """Base of the models services validate input with: every text value passes the text
    rule before the field's own constraints (length, range, vocabulary) are checked."""

    @field_validator("*", mode="before")
    @classmethod
    def _text_rule(cls, value: Any) -> Any:
        return clean_text(value) if isinstance(value, str) else value

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
