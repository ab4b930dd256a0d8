"""The forecast, its weekly snapshots, accuracy and slippage against hand-computed numbers
(dataset: tests/services/analytics_data.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from services import settings
from services.access import SYSTEM
from services.analytics.filters import DealFilter
from services.analytics.forecast import close_date_slippage, forecast, forecast_accuracy, take_snapshot
from services.db import read_scope, session_scope
from services.models import DealHistory, ForecastSnapshot
from services.periods import Period
from tests.services.analytics_data import TODAY, build_deals, utc

D = Decimal


@pytest.fixture
def deals(engine, org):
    return build_deals(engine, org)


def test_forecast_by_expected_close_month(engine, org, deals):
    with read_scope(engine) as s:
        rows = forecast(s, org.director, months=3, today=TODAY)
    nov, dec, jan = rows
    # November: D6 is late (expected 10-15) and counts now; D1 10,000 won in November
    assert (nov["month"], nov["open_count"], nov["pipeline"], nov["weighted"]) == (date(2026, 11, 1), 1, D("3000.00"),
                                                                                   D("1500.00"))
    assert (nov["won"], nov["commit"], nov["best_case"], nov["target"]) == (D("10000.00"), D("10000.00"),
                                                                            D("13000.00"), None)
    # December: D3 (no amount, counted) and D4 8,000 at 80 % ≥ the 75 % commit threshold
    assert (dec["open_count"], dec["pipeline"], dec["weighted"], dec["commit"], dec["best_case"], dec["target"]) == (
        2, D("8000.00"), D("6400.00"), D("8000.00"), D("8000.00"), D("30000.00"))
    assert (jan["open_count"], jan["weighted"], jan["commit"], jan["best_case"]) == (1, D("200.00"), D("0.00"),
                                                                                     D("2000.00"))


def test_commit_threshold_is_the_setting(engine, org, deals):
    with session_scope(engine) as s:
        settings.update_settings(s, SYSTEM, values={"forecast_commit_probability": 85})
    with read_scope(engine) as s:
        dec = forecast(s, org.director, months=2, today=TODAY)[1]
        rep = forecast(s, org.rep_n2, months=3, flt=DealFilter(scope="me"), today=TODAY)
    assert dec["commit"] == D("0.00")  # D4's 80 % is now below the threshold
    assert [r["open_count"] for r in rep] == [0, 0, 1]  # rep n2 sees only D5


def test_snapshot_once_a_week_per_scope(engine, org, deals):
    with session_scope(engine) as s:
        first = take_snapshot(s, SYSTEM, today=TODAY)
    with session_scope(engine) as s:
        again = take_snapshot(s, SYSTEM, today=date(2026, 11, 29))  # Sunday of the same week
    with read_scope(engine) as s:
        count = s.scalar(select(func.count()).select_from(ForecastSnapshot))
        company_dec = s.execute(select(ForecastSnapshot.weighted_amount, ForecastSnapshot.commit_amount).where(
            ForecastSnapshot.scope_key == "company", ForecastSnapshot.period_start == date(2026, 12, 1))).one()
    # company + 3 teams (ACME, North, South) + 4 reps, 3 months each
    assert first == count == 8 * 3
    assert again == 0
    assert (money := company_dec) and D(str(money[0])) == D("6400") and D(str(money[1])) == D("8000")
    with session_scope(engine) as s:
        assert take_snapshot(s, SYSTEM, today=date(2026, 11, 30)) == 24  # the next week


def test_accuracy_and_slippage(engine, org, deals):
    with session_scope(engine) as s:
        take_snapshot(s, SYSTEM, today=date(2026, 11, 2))  # before D1 was won: n1's November forecast
        d4 = deals.ids["D4"]
        s.add_all([DealHistory(deal_id=d4, field="expected_close", old_value="2026-11-20", new_value="2026-11-30",
                               changed_at=utc(2026, 11, 10)),
                   DealHistory(deal_id=d4, field="expected_close", old_value="2026-11-30", new_value="2026-12-10",
                               changed_at=utc(2026, 11, 15)),
                   # 2026-10-31 20:00 UTC is November 1st in Shanghai: inside November
                   DealHistory(deal_id=deals.ids["D6"], field="expected_close", old_value="2026-11-30",
                               new_value="2026-10-15", changed_at=utc(2026, 10, 31, 20))])
    nov = Period(date(2026, 11, 1), date(2026, 12, 1))
    with read_scope(engine) as s:
        acc = {(r["name"], r["month"]): r for r in forecast_accuracy(s, org.director, period=nov)}
        slip = close_date_slippage(s, org.director, period=nov)
        mine = close_date_slippage(s, org.rep_n2, period=nov)
    # n1's November forecast as the data stood: won 10,000 + D6 late 3,000 × 50 % = 11,500
    n1 = acc[("Rep_N1", date(2026, 11, 1))]
    assert (n1["forecast"], n1["won"], n1["error"]) == (D("11500.00"), D("10000.00"), D("-1500.00"))
    assert n1["accuracy"] == pytest.approx(10000 / 11500)
    assert slip == [{"user_id": org.rep_n1.id, "name": "Rep_N1", "moves": 2, "deals": 1, "avg_days": 10.0,
                     "pulled_in": 1}]
    assert mine == []
