"""What every analytics module shares: scopes, money and ratio rounding, month buckets and
day differences per database, the period filter."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Date, and_, bindparam, cast, func, literal_column, select, type_coerce
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from services import settings
from services.access import Actor, managed_team_ids, team_member_ids, visible_user_ids
from services.db import read_once
from services.models import Deal, Stage
from services.periods import Period

SCOPES = ("me", "team", "all")
CENT = Decimal("0.01")
ZERO = Decimal("0")


# ---------------------------------------------------------------------------
# helpers


def money(value) -> Decimal:
    """SQL sums come back as Decimal (PostgreSQL) or float (SQLite REAL): normalise to
    Decimal with 2 places."""
    if value is None:
        return ZERO.quantize(CENT)
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def float2(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def ratio(num, den) -> float | None:
    if not den:
        return None
    return float(Decimal(str(num)) / Decimal(str(den)))


def month_bucket(col, dialect_name: str):
    """SQL expression for the first day of ``col``'s month, typed as a date, for
    ``group_by``: ``strftime`` on SQLite, ``date_trunc`` on PostgreSQL. Literal (not bound)
    arguments so the same expression text appears in SELECT and GROUP BY."""
    if dialect_name == "sqlite":
        return type_coerce(func.strftime(literal_column("'%Y-%m-01'"), col), Date)
    return cast(func.date_trunc(literal_column("'month'"), col), Date)


def days_between(later, earlier, dialect_name: str):
    """SQL expression for ``later − earlier`` in days (both date columns)."""
    if dialect_name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return later - earlier


def weighted_amount(dialect_name: str):
    """amount × probability / 100 (float division on SQLite, where whole amounts are
    stored as integers; exact numeric on PostgreSQL)."""
    return Deal.amount * Deal.probability / (100.0 if dialect_name == "sqlite" else 100)


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def company_tz_name(session: Session) -> str:
    return settings.get(session, "timezone") or "UTC"


def scope_user_ids(session: Session, actor: Actor, scope: str) -> set[int] | None:
    """Owner ids whose records count for ``scope``; ``None`` means every owner. Always
    within what the actor may see."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    visible = visible_user_ids(session, actor)
    if scope == "me" or (scope == "team" and actor.role == "rep"):
        return {actor.id} if actor.id is not None else set()
    if scope == "all" or actor.role == "manager":
        # a manager sees exactly the users of the teams they manage and themselves
        # (access.visible_user_ids): their team scope is what they see, read in one statement
        return visible
    teams = managed_team_ids(session, actor)
    ids = team_member_ids(session, teams)
    if actor.id is not None:
        ids.add(actor.id)
    return ids if visible is None else ids & visible


def stage_rows(session: Session) -> tuple[tuple[int, str, str, bool, int], ...]:
    """(id, name, kind, active, sequence) of every stage, in sequence, read once per read
    transaction (a page asks for four or five sets of kinds, and the funnel for them all)."""
    return read_once(session, ("stage_rows",), lambda: tuple(tuple(r) for r in session.execute(
        select(Stage.id, Stage.name, Stage.kind, Stage.active, Stage.sequence).order_by(Stage.sequence, Stage.id)).all()))


def stage_ids(session: Session, *kinds: str) -> list[int]:
    """Ids of the stages of ``kinds`` (open / won / lost), in id order."""
    return sorted(sid for sid, _name, kind, _active, _seq in stage_rows(session) if kind in kinds)


def stage_in_bound(name: str, col=Deal.stage_id) -> ColumnElement:
    """``Deal.stage_id IN`` the stages of some kinds, for a shaped statement (``db.shaped``):
    the ids are the expanding parameter ``name``, given as ``stage_ids(session, *kinds)`` —
    known beforehand: with a join to ``stage`` (or a subquery) the planner cannot tell how
    few deals are won, say, and walks every deal closed in the period row by row instead of
    the (stage, close date, owner, amount) index's range of the won stages."""
    return col.in_(bindparam(name, expanding=True))


def in_period(col, period: Period) -> ColumnElement:
    return and_(col >= period.start, col < period.end)


def in_period_bound(col) -> tuple[ColumnElement, ColumnElement]:
    """``in_period`` for a shaped statement: [``lo``, ``hi``) as bound parameters."""
    return col >= bindparam("lo"), col < bindparam("hi")
