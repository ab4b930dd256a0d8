"""Customers (客户关系管理): channels, customers, contacts, marketing spend, service tickets."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.models.fields import Editable, money_field, text_field, utcnow


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
        Index("ix_customer_created", "created_at"),
        Index("ix_customer_owner_next_contact", "owner_id", "next_contact_on"),
        Index("ix_customer_next_contact_owner", "next_contact_on", "archived", "owner_id"),  # agenda follow-ups
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


class ServiceTicketRead(ServiceTicketBase):
    id: int
    status: str
    opened_at: datetime
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    satisfaction: int | None = None
    resolution: str | None = None
