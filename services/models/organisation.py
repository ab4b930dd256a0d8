"""Organisation: teams, users, sign-in sessions, settings and the audit trail."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from services.models.fields import money_field, text_field, utcnow


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
    locked_until: datetime | None = None  # while sign-in from unknown browsers is locked (login_throttle)
    last_login_at: datetime | None = None


class UserSession(SQLModel, table=True):
    """A sign-in. The browser keeps a token, signed with the installation's secret, that
    names a random session id; only the id's SHA-256 is stored here, so the rows of a
    database copy name no session. Logout revokes the row."""

    __tablename__ = "user_session"
    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None


class LoginThrottle(SQLModel, table=True):
    """Wrong sign-ins per username and client (``services.auth``): ``client_key`` is the
    hash of a browser's device id for a browser the user signed in from before, or ``""``
    for every other client together. Keys are SHA-256 hashes, so a typed username (or a
    password typed into the username field) is never stored as text."""

    __tablename__ = "login_throttle"
    username_key: str = Field(primary_key=True, max_length=64)
    client_key: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    last_failure_at: datetime | None = None
    locked_until: datetime | None = None


class Setting(SQLModel, table=True):
    """Key → JSON value (base currency, fiscal year start, pool rules, …)."""

    key: str = Field(primary_key=True, max_length=80)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class NumberSequence(SQLModel, table=True):
    """A named counter (e.g. the contract numbers of one day): taken with one conditional
    UPDATE under the row's lock, so concurrent writers never get the same value."""

    __tablename__ = "number_sequence"
    name: str = Field(primary_key=True, max_length=60)
    value: int = 0


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
