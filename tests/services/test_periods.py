from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.periods import (
    Period,
    add_months,
    custom,
    last_months,
    local_today,
    month_starts,
    period_for,
    previous,
)

FRI = date(2026, 11, 27)  # a Friday


def test_today_and_week_start_monday():
    assert period_for("today", FRI) == Period(FRI, date(2026, 11, 28), "today")
    week = period_for("week", FRI)
    assert (week.start, week.end) == (date(2026, 11, 23), date(2026, 11, 30))
    assert week.start.weekday() == 0
    # a Sunday belongs to the week that started the Monday before
    assert period_for("week", date(2026, 11, 29)).start == date(2026, 11, 23)
    # a week across the year boundary
    w = period_for("week", date(2027, 1, 1))
    assert (w.start, w.end) == (date(2026, 12, 28), date(2027, 1, 4))


def test_month_end_is_exclusive_and_crosses_year():
    dec = period_for("month", date(2026, 12, 31))
    assert (dec.start, dec.end) == (date(2026, 12, 1), date(2027, 1, 1))
    assert date(2026, 12, 31) in dec and date(2027, 1, 1) not in dec
    assert period_for("month", date(2028, 2, 10)).days == 29  # leap year


def test_calendar_quarter_and_year():
    q = period_for("quarter", FRI)
    assert (q.start, q.end) == (date(2026, 10, 1), date(2027, 1, 1))
    y = period_for("year", FRI)
    assert (y.start, y.end) == (date(2026, 1, 1), date(2027, 1, 1))


def test_fiscal_year_starting_in_april():
    # FY2026 runs 2026-04-01 .. 2027-03-31; Q1 = Apr–Jun, Q3 = Oct–Dec, Q4 = Jan–Mar
    assert period_for("year", FRI, 4) == Period(date(2026, 4, 1), date(2027, 4, 1), "year")
    assert period_for("quarter", FRI, 4) == Period(date(2026, 10, 1), date(2027, 1, 1), "quarter")
    jan = date(2027, 1, 15)
    assert period_for("year", jan, 4) == Period(date(2026, 4, 1), date(2027, 4, 1), "year")
    assert period_for("quarter", jan, 4) == Period(date(2027, 1, 1), date(2027, 4, 1), "quarter")
    march_end = date(2027, 3, 31)
    assert period_for("year", march_end, 4).end == date(2027, 4, 1)
    assert period_for("year", date(2027, 4, 1), 4).start == date(2027, 4, 1)


def test_fiscal_quarters_not_aligned_to_calendar_quarters():
    # fiscal year starting in February: quarters Feb–Apr, May–Jul, Aug–Oct, Nov–Jan
    assert period_for("quarter", FRI, 2) == Period(date(2026, 11, 1), date(2027, 2, 1), "quarter")
    assert period_for("quarter", date(2027, 1, 31), 2) == Period(date(2026, 11, 1), date(2027, 2, 1), "quarter")
    assert period_for("year", date(2027, 1, 31), 2) == Period(date(2026, 2, 1), date(2027, 2, 1), "year")


def test_invalid_inputs():
    with pytest.raises(ValueError):
        period_for("decade", FRI)
    with pytest.raises(ValueError):
        period_for("year", FRI, 13)
    with pytest.raises(ValueError):
        Period(FRI, FRI)


def test_custom_inclusive_input_and_previous():
    p = custom(date(2026, 11, 10), date(2026, 11, 19))
    assert (p.start, p.end, p.days, p.last_day) == (date(2026, 11, 10), date(2026, 11, 20), 10, date(2026, 11, 19))
    assert custom(date(2026, 11, 19), date(2026, 11, 10)) == p  # backwards is swapped
    assert previous(p) == Period(date(2026, 10, 31), date(2026, 11, 10), "custom")
    assert previous(period_for("month", date(2026, 3, 31))) == Period(date(2026, 2, 1), date(2026, 3, 1), "month")
    assert previous(period_for("quarter", date(2026, 1, 5))) == Period(date(2025, 10, 1), date(2026, 1, 1), "quarter")
    assert previous(period_for("year", FRI, 4)) == Period(date(2025, 4, 1), date(2026, 4, 1), "year")
    assert previous(period_for("week", date(2027, 1, 1))).start == date(2026, 12, 21)
    assert previous(period_for("today", date(2027, 1, 1))).start == date(2026, 12, 31)


def test_month_starts_and_last_months():
    assert month_starts(Period(date(2026, 11, 15), date(2027, 2, 2))) == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    assert month_starts(period_for("week", FRI)) == [date(2026, 11, 1)]
    trend = last_months(FRI, 12)
    assert (trend.start, trend.end) == (date(2025, 12, 1), date(2026, 12, 1))
    assert len(month_starts(trend)) == 12


def test_add_months_clamps_day():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 15)


def test_local_today_and_utc_bounds_use_company_time_zone():
    late_utc = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 01:00 on Dec 1 in Shanghai
    assert local_today("Asia/Shanghai", late_utc) == date(2026, 12, 1)
    assert local_today("UTC", late_utc) == date(2026, 11, 30)
    lo, hi = period_for("month", FRI).utc_bounds("Asia/Shanghai")
    assert lo == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert hi == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)), st.integers(1, 12),
       st.sampled_from(["today", "week", "month", "quarter", "year"]))
def test_period_contains_today_and_previous_adjoins(day, fy_month, kind):
    p = period_for(kind, day, fy_month)
    assert day in p
    prev = previous(p)
    assert prev.end == p.start and prev.kind == kind
    # the previous period of the same kind is exactly the period containing the day before
    assert prev == period_for(kind, p.start - timedelta(days=1), fy_month)
