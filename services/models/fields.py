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

import math
import re
import unicodedata
from datetime import UTC, date, datetime
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


class FieldRuleError(ValueError):
    """Raised by a model's own validator to give a translated message: ``key`` in the
    catalog with ``params`` (``services.validation`` words it in the user's language)."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key, self.params = key, params

    def message(self, locale: str) -> str:
        from services.i18n import t

        return t(self.key, locale, **self.params)


def is_missing(value: Any) -> bool:
    """An empty value: None, NaN, NaT, pd.NA or blank text."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, Decimal):
        return value.is_nan()
    # pandas' missing markers, recognised without importing pandas here
    return type(value).__name__ in ("NAType", "NaTType")


def as_text(value: Any) -> str | None:
    """A cell value as clean text (the text rule applied; finite numbers written out).
    ``None`` when the value is not text-like (bool, date, containers, unencodable)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, (float, Decimal)):
        try:
            if not math.isfinite(float(value)):
                return None
            text = str(int(value)) if abs(value) < 10**15 and value == int(value) else str(value)
        except (ValueError, ArithmeticError):
            return None
    else:
        return None
    text = clean_text(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return text


def cell_int(value: Any) -> int | None:
    """A whole number from int / integral float or Decimal / digit text (what grids and
    spreadsheets send for an id); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,12}\s*", value):
        return int(value)
    if hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu":  # numpy / pandas integers
        return int(value)
    return None


def cell_date(value: Any) -> date | None:
    """A calendar date from a date / datetime (pandas Timestamps too) / "YYYY-MM-DD" text
    (also with / or . and a time after it); None when it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?", text)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_PHONE_CHARS = re.compile(r"^\+?[0-9\s\-()]+$")


def valid_email(text: str) -> bool:
    return len(text) <= 200 and bool(_EMAIL.match(text))


def valid_phone(text: str) -> bool:
    """+, digits, spaces, dashes and brackets; 7–20 digits."""
    if len(text) > 40 or not _PHONE_CHARS.match(text):
        return False
    digits = sum(ch.isdigit() for ch in text)
    return 7 <= digits <= 20


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
MILESTONE_STATUSES = ("planned", "in_progress", "done")
BASIS_KINDS = ("history", "market", "capacity", "blend", "manual", "split")
REVIEW_ACTION_STATUSES = ("open", "in_progress", "done", "dropped")
COURSE_CATEGORIES = ("product_knowledge", "sales_skills", "market_analysis", "other")
ENROLLMENT_STATUSES = ("assigned", "in_progress", "completed", "failed")
SCHEME_BASES = ("won_amount", "collections", "margin")
SCHEME_KINDS = ("tiered_full", "tiered_excess", "attainment_bonus", "contest")
AWARD_KINDS = ("badge", "contest")
SCHEME_MODES = ("whole", "marginal")  # 全额累进 | 超额累进
SCHEME_PERIODS = ("month", "quarter", "year")
CONTEST_RULES = ("most_activities", "first_close")
CASE_OUTCOMES = ("won", "lost")
CASE_STATUSES = ("draft", "submitted", "published")
EVENT_KINDS = ("team_building", "celebration", "offsite", "kickoff", "other")

MONEY = Numeric(14, 2)


def utcnow() -> datetime:
    """Aware UTC now. Timestamp columns store UTC (SQLModel's UTCDateTime refuses naive values)."""
    return datetime.now(UTC)


def money_field(default: Decimal | None = Decimal("0"), nullable: bool = False, **kw) -> Decimal:
    return Field(default=default, sa_type=MONEY, nullable=nullable, **kw)


def text_field(default: str | None = None, **kw) -> str:
    return Field(default=default, sa_column=Column(Text, nullable=True), **kw)
