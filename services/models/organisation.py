"""Organisation: teams, users, sign-in sessions, settings and the audit trail."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import field_validator
from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from services.models.fields import (
    MAX_AMOUNT,
    MONEY,
    ROLES,
    TEAM_KINDS,
    Editable,
    FieldRuleError,
    text_field,
    utcnow,
)

NAME_MAX = 120  # names of teams, people, products, lost reasons
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def in_vocabulary(value: Any, vocabulary: tuple[str, ...]) -> Any:
    """A vocabulary rule for a model validator: ``value`` (None passes) must be one of
    ``vocabulary``, else the translated "must be one of" message."""
    if value is not None and value not in vocabulary:
        raise FieldRuleError("err.not_in_list", options=", ".join(vocabulary))
    return value


class TeamBase(Editable):
    """The field rules of a team: name 1–120 characters (unique among its siblings: the
    service checks, and a unique index keeps it), kind company / region / team, region
    ≤ 60. Where it may sit in the tree is the service's rule (it needs the parent)."""

    name: str = Field(min_length=1, max_length=NAME_MAX)
    kind: str = Field(default="team", max_length=16)
    parent_id: int | None = None
    manager_id: int | None = None
    region: str | None = Field(default=None, max_length=60)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        return in_vocabulary(value, TEAM_KINDS)

    @field_validator("region")
    @classmethod
    def _blank_region(cls, value: str | None) -> str | None:
        return value or None


class Team(TeamBase, table=True):
    """Tree: company → region → team. ``manager_id`` is the user who manages the subtree.
    Sibling names are unique ignoring case (``ux_team_parent_name``; the top level counts as
    one parent)."""

    __table_args__ = (
        Index("ux_team_parent_name", text("coalesce(parent_id, 0)"), text("lower(name)"), unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    manager_id: int | None = Field(default=None, index=True)  # user.id (no FK: user ↔ team cycle)
    active: bool = True


class TeamCreate(TeamBase):
    pass


class TeamUpdate(SQLModel):
    """The fields a change may name (checked against ``TeamBase`` merged with the row)."""

    name: Any = None
    kind: Any = None
    parent_id: int | None = None
    manager_id: int | None = None
    region: Any = None
    active: bool | None = None


class TeamRead(SQLModel):
    id: int
    name: str
    kind: str = "team"
    parent_id: int | None = None
    manager_id: int | None = None
    region: str | None = None
    active: bool = True


class UserBase(Editable):
    """The field rules of a person: display name 1–120, email ≤ 200 and well-formed, role
    and language from their vocabularies, capacity (monthly contract amount the rep can
    carry) 0…``MAX_AMOUNT`` with 2 places."""

    display_name: str = Field(min_length=1, max_length=NAME_MAX)
    email: str | None = Field(default=None, max_length=200)
    role: str = Field(default="rep", max_length=16)
    team_id: int | None = None
    locale: str | None = Field(default=None, max_length=10)  # None → browser language
    capacity: Decimal = Field(default=Decimal("0"), ge=0, le=MAX_AMOUNT, decimal_places=2, sa_type=MONEY)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not EMAIL_RE.match(value):
            raise FieldRuleError("err.email_format")
        return value

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        return in_vocabulary(value, ROLES)

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        from services.i18n import LOCALES

        return in_vocabulary(value, LOCALES)

    @field_validator("capacity", mode="before")
    @classmethod
    def _capacity(cls, value: Any) -> Any:
        return Decimal("0") if value is None else value


class User(UserBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=60, unique=True, index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    password_hash: str = Field(default="", max_length=255)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class UserCreate(UserBase):
    username: str
    password: str


class UserUpdate(SQLModel):
    """The fields a change may name (checked against ``UserBase`` merged with the row)."""

    display_name: Any = None
    role: Any = None
    team_id: int | None = None
    email: Any = None
    locale: Any = None
    capacity: Any = None
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
