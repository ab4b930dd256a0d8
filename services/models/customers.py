"""Customers (客户关系管理): channels, customers, contacts, marketing spend, service tickets."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import field_validator
from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from services.models.fields import (
    CUSTOMER_STATUSES,
    LONG_TEXT,
    TIERS,
    Editable,
    FieldRuleError,
    as_text,
    cell_date,
    cell_int,
    is_missing,
    money_field,
    text_field,
    utcnow,
    valid_email,
    valid_phone,
)


class ChannelBase(Editable):
    """A customer acquisition channel: name 1–80 characters (unique, ignoring case)."""

    name: str = Field(min_length=1, max_length=80, unique=True)


class Channel(ChannelBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    active: bool = True


class ChannelCreate(ChannelBase):
    pass


class ChannelUpdate(SQLModel):
    """Rename and/or (de)activate (checked against ``ChannelBase``)."""

    name: Any = None
    active: bool | None = None


class ChannelRead(SQLModel):
    id: int
    name: str
    active: bool = True


#: What a new customer is when nothing else is said (grid, form, import): tier C, a lead.
DEFAULT_TIER = "C"
DEFAULT_STATUS = "lead"
# a customer due for a follow-up of its own: a next contact date and no open activity (which
# would already be the follow-up); the partial follow-up indexes are built on this very text
# and the agenda's reads repeat it
FOLLOW_UP_DUE = "open_activities = 0 AND next_contact_on IS NOT NULL"


def _cell_text(value: Any) -> str | None:
    """A text-like cell (numbers written out), empty → None; anything else is refused."""
    if is_missing(value):
        return None
    text = as_text(value)
    if text is None:
        raise FieldRuleError("customers.err_text")
    return text or None


_TEXT_FIELDS = ("name", "credit_code", "industry", "region", "phone", "email", "address", "notes")


class CustomerRules(Editable):
    """The rules of a customer's fields, shared by the new-customer model and the update
    model (the lengths are on the fields): text-like cells (numbers written out) with empty
    → None; email address format; phone 7–20 digits (+ - spaces brackets); credit code 18
    characters of GB 32100 with its check character; tier and status from their lists
    (case-insensitive); ids whole numbers > 0; next contact a date in 1900–2200."""

    @field_validator(*_TEXT_FIELDS, mode="before", check_fields=False)
    @classmethod
    def _cell_text(cls, value: Any) -> Any:
        return _cell_text(value)

    @field_validator("email", check_fields=False)
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not valid_email(value):
            raise FieldRuleError("err.email_format")
        return value

    @field_validator("phone", check_fields=False)
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = unicodedata.normalize("NFKC", value)
        if not valid_phone(value):
            raise FieldRuleError("err.phone_format")
        return value

    @field_validator("credit_code", mode="before", check_fields=False)
    @classmethod
    def _credit_code(cls, value: Any) -> Any:
        from services.dedupe import CREDIT_CHARS, credit_code_check_char, normalize_credit_code

        text = _cell_text(value)
        if text is None:
            return None
        code = normalize_credit_code(text)
        if code is None or len(code) != 18 or any(ch not in CREDIT_CHARS for ch in code):
            raise FieldRuleError("err.credit_code")
        if credit_code_check_char(code[:17]) != code[17]:
            raise FieldRuleError("customers.err_credit_checksum")
        return code

    @field_validator("tier", "status", mode="before", check_fields=False)
    @classmethod
    def _vocabulary(cls, value: Any, info) -> Any:
        if is_missing(value):
            return cls._missing_vocabulary(info.field_name)
        text = as_text(value)
        vocab = TIERS if info.field_name == "tier" else CUSTOMER_STATUSES
        norm = (text or "").upper() if info.field_name == "tier" else (text or "").lower()
        if norm not in vocab:
            raise FieldRuleError("err.not_in_list", options=", ".join(vocab))
        return norm

    @classmethod
    def _missing_vocabulary(cls, name: str) -> Any:
        return {"tier": DEFAULT_TIER, "status": DEFAULT_STATUS}[name]  # a new customer's defaults

    @field_validator("owner_id", "channel_id", mode="before", check_fields=False)
    @classmethod
    def _id(cls, value: Any) -> Any:
        if is_missing(value):
            return None
        number = cell_int(value)
        if number is None or not 0 < number < 2**31:
            raise FieldRuleError("err.integer")
        return number

    @field_validator("next_contact_on", mode="before", check_fields=False)
    @classmethod
    def _day(cls, value: Any) -> Any:
        if is_missing(value):
            return None
        day = cell_date(value)
        if day is None:
            raise FieldRuleError("err.date_format")
        if not 1900 <= day.year <= 2200:
            raise FieldRuleError("err.range", min="1900-01-01", max="2200-12-31")
        return day


class CustomerBase(CustomerRules):
    name: str = Field(max_length=200)
    credit_code: str | None = Field(default=None, max_length=18)  # 统一社会信用代码
    industry: str | None = Field(default=None, max_length=60)
    region: str | None = Field(default=None, max_length=60)
    tier: str = Field(default=DEFAULT_TIER, max_length=1)
    status: str = Field(default=DEFAULT_STATUS, max_length=16)
    channel_id: int | None = Field(default=None, foreign_key="channel.id")
    owner_id: int | None = Field(default=None, foreign_key="user.id")
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    notes: str | None = text_field(max_length=LONG_TEXT)


class Customer(CustomerBase, table=True):
    """``owner_id`` null means the customer is in the public pool (公海)."""

    __table_args__ = (
        # the grid: owner (or all) + archived, in name order (the pinyin sort key), covering the usual filters
        # (tier, status, no contact since) so counts and page ids need no table rows; id
        # last because PostgreSQL indexes do not carry the key (SQLite's carry the rowid)
        Index("ix_customer_owner_grid", "owner_id", "archived", "name_sort", "name_norm", "tier", "status",
              "last_contact_at", "id"),
        Index("ix_customer_name_grid", "name_sort", "archived", "name_norm", "tier", "status", "last_contact_at", "id"),
        Index("ix_customer_credit_code", "credit_code"),
        Index("ix_customer_phone_norm", "phone_norm"),
        Index("ix_customer_email_norm", "email_norm"),
        Index("ix_customer_last_contact_archived", "last_contact_at", "archived"),  # "no contact since"
        # new customers of a period, by owner (and by channel: the CAC) from the index alone
        Index("ix_customer_created_owner", "created_at", "owner_id", "channel_id"),
        Index("ix_customer_owner_next_contact", "owner_id", "next_contact_on", "archived"),  # Overview: overdue
        # the agenda's follow-ups: customers due for contact without an open activity (migration 0016)
        Index("ix_customer_follow_up", "next_contact_on", "archived", "owner_id",
              sqlite_where=text(FOLLOW_UP_DUE), postgresql_where=text(FOLLOW_UP_DUE)),
        Index("ix_customer_owner_follow_up", "owner_id", "next_contact_on", "archived",
              sqlite_where=text(FOLLOW_UP_DUE), postgresql_where=text(FOLLOW_UP_DUE)),
    )
    id: int | None = Field(default=None, primary_key=True)
    name_norm: str = Field(default="", max_length=200)  # normalised for 查重
    name_sort: str = Field(default="", max_length=200)  # sort key: pinyin for Chinese (services.collation)
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
    # how many of its activities are open (planned, not done): kept by database triggers
    # (migration 0016) with every activity written, never by a service; recomputed only after
    # a bulk load that ran with the triggers off (services.customer_facts.refresh)
    open_activities: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class CustomerCreate(CustomerBase):
    next_contact_on: date | None = None


class CustomerUpdate(CustomerRules):
    """The fields an edit may change; only those given are checked. Tier and status may not
    be emptied (there is no default for an existing customer)."""

    name: str | None = Field(default=None, max_length=200)
    credit_code: str | None = Field(default=None, max_length=18)
    industry: str | None = Field(default=None, max_length=60)
    region: str | None = Field(default=None, max_length=60)
    tier: str | None = Field(default=None, max_length=1)
    status: str | None = Field(default=None, max_length=16)
    channel_id: int | None = None
    owner_id: int | None = None
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    notes: str | None = Field(default=None, max_length=LONG_TEXT)
    next_contact_on: date | None = None

    @classmethod
    def _missing_vocabulary(cls, name: str) -> Any:
        raise FieldRuleError("err.required")


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


class ServiceTicketRead(ServiceTicketBase):
    id: int
    status: str
    opened_at: datetime
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    satisfaction: int | None = None
    resolution: str | None = None
