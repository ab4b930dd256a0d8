"""The company's clock: its time zone (setting ``timezone``), today in it, and the
conversions between local days and the UTC instants timestamp columns store.

Every "today" the app shows or defaults to is the company's (``company_today``), never the
server's UTC date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session

from services import settings


def local_tz(session: Session, tz: str | ZoneInfo | None = None) -> ZoneInfo:
    """The given zone, else the company setting ``timezone`` (its default when unset)."""
    if isinstance(tz, ZoneInfo):
        return tz
    return ZoneInfo(tz or settings.get(session, "timezone") or settings.DEFAULTS["timezone"])


def company_today(session: Session, now: datetime | None = None) -> date:
    """Today's date in the company time zone."""
    return (as_utc(now) or datetime.now(UTC)).astimezone(local_tz(session)).date()


def day_start_utc(day: date, tz: ZoneInfo) -> datetime:
    """Midnight of ``day`` in ``tz`` as an aware UTC datetime (for index-friendly ranges)."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def local_date(value: datetime | None, tz: ZoneInfo) -> date | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz).date()


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
