"""Reporting periods: today / week / month / quarter / year (fiscal) / custom.

A ``Period`` is a half-open date range ``[start, end)``: ``end`` is the first day *after* the
period, so consecutive periods never overlap and SQL filters read ``start <= d < end``.
Weeks start on Monday. Quarters and years follow the company's fiscal year start month
(setting ``fiscal_year_start_month``; 4 → the year runs April–March, Q1 = Apr–Jun).
Pure functions: "today" is always passed in (the dashboard derives it from the company
time zone with ``local_today``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIOD_KINDS = ("today", "week", "month", "quarter", "year", "custom")


@dataclass(frozen=True)
class Period:
    """``[start, end)`` — ``end`` is exclusive."""

    start: date
    end: date
    kind: str = "custom"

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"period end {self.end} must be after start {self.start}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        """The last day inside the period (inclusive end, for display)."""
        return self.end - timedelta(days=1)

    def __contains__(self, day: date) -> bool:
        return self.start <= day < self.end

    def utc_bounds(self, tz: str = "UTC") -> tuple[datetime, datetime]:
        """The period as aware UTC instants: local midnight of ``start`` and of ``end`` in
        time zone ``tz`` (for timestamp columns such as ``Activity.done_at``)."""
        zone = ZoneInfo(tz)
        lo = datetime.combine(self.start, time.min, zone).astimezone(UTC)
        hi = datetime.combine(self.end, time.min, zone).astimezone(UTC)
        return lo, hi


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the month's last day (Jan 31 + 1 → Feb 28)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    first = date(year, month0 + 1, 1)
    next_first = date(year + (month0 + 1) // 12, (month0 + 1) % 12 + 1, 1)
    return first.replace(day=min(day.day, (next_first - first).days))


def month_start(day: date) -> date:
    return day.replace(day=1)


def _fiscal_year_start(day: date, fiscal_year_start_month: int) -> date:
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError("fiscal_year_start_month must be 1..12")
    year = day.year if day.month >= fiscal_year_start_month else day.year - 1
    return date(year, fiscal_year_start_month, 1)


def period_for(kind: str, today: date, fiscal_year_start_month: int = 1) -> Period:
    """The period of ``kind`` that contains ``today``."""
    if kind == "today":
        return Period(today, today + timedelta(days=1), kind)
    if kind == "week":
        monday = today - timedelta(days=today.weekday())
        return Period(monday, monday + timedelta(days=7), kind)
    if kind == "month":
        first = month_start(today)
        return Period(first, add_months(first, 1), kind)
    fy = _fiscal_year_start(today, fiscal_year_start_month)
    if kind == "quarter":
        months_in = (today.year - fy.year) * 12 + today.month - fy.month
        q_start = add_months(fy, months_in // 3 * 3)
        return Period(q_start, add_months(q_start, 3), kind)
    if kind == "year":
        return Period(fy, add_months(fy, 12), kind)
    raise ValueError(f"unknown period kind {kind!r}")


def custom(start: date, last_day: date) -> Period:
    """A custom period from ``start`` to ``last_day`` *inclusive* (what a date-range input
    gives); swapped when given backwards."""
    if last_day < start:
        start, last_day = last_day, start
    return Period(start, last_day + timedelta(days=1), "custom")


def previous(period: Period) -> Period:
    """The period just before: the previous week / month / quarter / year; for today and
    custom periods the same number of days before."""
    if period.kind in ("month", "quarter", "year"):
        span = {"month": 1, "quarter": 3, "year": 12}[period.kind]
        return Period(add_months(period.start, -span), period.start, period.kind)
    return Period(period.start - timedelta(days=period.days), period.start, period.kind)


def month_starts(period: Period) -> list[date]:
    """First day of every calendar month that overlaps the period, in order."""
    out = []
    m = month_start(period.start)
    while m < period.end:
        out.append(m)
        m = add_months(m, 1)
    return out


def last_months(today: date, n: int = 12) -> Period:
    """The ``n`` calendar months ending with the current one (for trend charts)."""
    first = add_months(month_start(today), -(n - 1))
    return Period(first, add_months(month_start(today), 1), "custom")


def local_today(tz: str = "Asia/Shanghai", now: datetime | None = None) -> date:
    """Today's date in the company time zone."""
    now = now or datetime.now(UTC)
    return now.astimezone(ZoneInfo(tz)).date()
