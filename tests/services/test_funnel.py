"""The funnel against hand-computed numbers (dataset: tests/services/analytics_data.py), on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.analytics.filters import DealFilter
from services.analytics.funnel import bottleneck, funnel, stage_conversions, stage_deals
from services.db import read_scope
from services.periods import Period
from tests.services.analytics_data import build_deals

NOV = Period(date(2026, 11, 1), date(2026, 12, 1), "month")


@pytest.fixture
def deals(engine, org):
    return build_deals(engine, org)


def _by_stage(report):
    return {r["stage"]: r for r in report.stages}


def test_cohort_counts_where_deals_really_went(engine, org, deals):
    with read_scope(engine) as s:
        rep = funnel(s, org.director, period=NOV)
    rows = _by_stage(rep)
    assert [r["stage"] for r in rep.stages] == ["Qualify", "Needs", "Proposal", "Negotiation", "Won"]
    # D2 skipped Needs; D3 moved back to Needs (counted once there); D4's old won row does not count as won
    assert {k: r["reached"] for k, r in rows.items()} == {"Qualify": 5, "Needs": 2, "Proposal": 3, "Negotiation": 1,
                                                          "Won": 1}
    assert rows["Qualify"]["amount"] == Decimal("25000.00")
    assert rows["Qualify"]["without_amount"] == 1  # D3 has no amount yet
    assert rows["Proposal"]["amount"] == Decimal("15000.00")
    # went further: Qualify 4 of 5, Needs 2 of 2, Proposal 1 of 3 (only D1), Negotiation 0 of 1
    assert rows["Qualify"]["conversion_next"] == pytest.approx(0.8)
    assert rows["Needs"]["conversion_next"] == pytest.approx(1.0)
    assert rows["Proposal"]["conversion_next"] == pytest.approx(1 / 3)
    assert rows["Negotiation"]["conversion_next"] == 0
    assert rows["Won"]["conversion_next"] is None
    assert (rep.won, rep.lost, rep.win_rate) == (1, 1, 0.5)
    assert rows["Proposal"]["lost_at"] == 1 and rows["Proposal"]["lost_amount"] == Decimal("5000.00")
    assert rep.leakage == [{"stage_id": org.stages["Proposal"], "stage": "Proposal", "lost_reason_id": deals.price,
                            "lost_reason": "Price", "deals": 1, "amount": Decimal("5000.00")}]


def test_days_in_stage_mean_and_median(engine, org, deals):
    with read_scope(engine) as s:
        rows = _by_stage(funnel(s, org.director, period=NOV))
    # ended visits only: Qualify 3, 5, 2, 2 (D5 is still there: not counted until it moves on)
    assert (rows["Qualify"]["avg_days"], rows["Qualify"]["median_days"]) == (3.0, 2.5)
    # Needs: D1 5, D3 4 (D3 is back there since 11-12: not counted)
    assert (rows["Needs"]["avg_days"], rows["Needs"]["median_days"]) == (4.5, 4.5)
    # Proposal: D1 10, D2 7, D3 2
    assert (rows["Proposal"]["avg_days"], rows["Proposal"]["median_days"]) == (6.3, 7.0)
    # Negotiation: D4 5 (Nov 7 → won Nov 12); its visit since the reopening on Nov 14 has not ended
    assert (rows["Negotiation"]["avg_days"], rows["Negotiation"]["median_days"]) == (5.0, 5.0)


@pytest.mark.parametrize("walk_from", [0, 2])
def test_days_in_stage_the_same_when_large_stages_are_walked(engine, org, deals, monkeypatch, walk_from):
    """A stage of more visits than WALK_FROM has its median walked in length order (SQLite's
    cohort path): the same mean and median as the stages sorted out of their lengths, for a
    rep as for everyone."""
    import services.analytics.funnel as funnel_module

    flts = [DealFilter(), DealFilter(owner_id=org.rep_n1.id)]
    with read_scope(engine) as s:
        before = [[(r["avg_days"], r["median_days"]) for r in funnel(s, org.director, period=NOV, flt=f).stages]
                  for f in flts]
    monkeypatch.setattr(funnel_module, "WALK_FROM", walk_from)
    with read_scope(engine) as s:
        after = [[(r["avg_days"], r["median_days"]) for r in funnel(s, org.director, period=NOV, flt=f).stages]
                 for f in flts]
    assert after == before
    assert before[0][:4] == [(3.0, 2.5), (4.5, 4.5), (6.3, 7.0), (5.0, 5.0)]


def test_cohort_table_by_month_opened(engine, org, deals):
    with read_scope(engine) as s:
        rep = funnel(s, org.director, period=Period(date(2026, 10, 1), date(2026, 12, 1)))
    assert rep.cohorts == [
        {"month": date(2026, 10, 1), "deals": 1, "won_30": 0, "lost_30": 0, "open_30": 1, "won_60": 0, "lost_60": 0,
         "open_60": 1, "won_90": 0, "lost_90": 0, "open_90": 1},
        {"month": date(2026, 11, 1), "deals": 5, "won_30": 1, "lost_30": 1, "open_30": 3, "won_60": 1, "lost_60": 1,
         "open_60": 3, "won_90": 1, "lost_90": 1, "open_90": 3},
    ]


def test_no_closed_deals_win_rate_is_none(engine, org, deals):
    with read_scope(engine) as s:
        rep = funnel(s, org.director, period=NOV, flt=DealFilter(owner_id=org.rep_n2.id))
        empty = funnel(s, org.director, period=Period(date(2025, 1, 1), date(2025, 2, 1)))
    assert rep.deals == 1 and rep.win_rate is None
    assert empty.deals == 0 and empty.win_rate is None
    assert all(r["conversion_next"] is None for r in empty.stages)


def test_pipeline_now_and_access(engine, org, deals):
    with read_scope(engine) as s:
        pipe = funnel(s, org.director, period=NOV, mode="pipeline")
        rep_view = funnel(s, org.rep_n2, period=NOV)
        south = funnel(s, org.manager_s, period=NOV)
    rows = _by_stage(pipe)
    assert {k: r["in_stage_now"] for k, r in rows.items() if r["kind"] == "open"} == {
        "Qualify": 1, "Needs": 1, "Proposal": 1, "Negotiation": 1}
    assert pipe.deals == 4 and pipe.win_rate is None
    assert rep_view.deals == 1  # a rep sees only their own deal
    assert south.deals == 0


def test_stage_deals_and_bottleneck(engine, org, deals):
    with read_scope(engine) as s:
        listed = stage_deals(s, org.director, period=NOV, stage_id=org.stages["Proposal"])
        worst = bottleneck(s, org.director, period=NOV)
    assert [d["name"] for d in listed] == ["D1", "D2", "D3"]  # largest first, no amount last
    # mean conversion (0.8 + 1 + 1/3 + 0) / 4 = 0.5333; Negotiation is 0.5333 below it
    assert worst["stage"] == "Negotiation" and worst["baseline"] == pytest.approx(2.1333 / 4, abs=1e-3)


def test_stage_conversions_are_the_funnels_in_total_and_per_owner(engine, org, deals):
    """The Performance strip's and the weakest-stage finding's read: the same hand-computed
    conversions as the funnel above, and each owner's own."""
    with read_scope(engine) as s:
        conv = stage_conversions(s, org.director, period=NOV)
        rep = funnel(s, org.director, period=NOV)
        empty = stage_conversions(s, org.director, period=Period(date(2025, 1, 1), date(2025, 2, 1)))
    assert [(r["stage"], r["reached"]) for r in conv.stages] == [("Qualify", 5), ("Needs", 2), ("Proposal", 3),
                                                                  ("Negotiation", 1)]
    assert [r["conversion_next"] for r in conv.stages] == pytest.approx([0.8, 1.0, 1 / 3, 0])
    assert [(r["stage_id"], r["reached"], r["conversion_next"]) for r in conv.stages] == [
        (r["stage_id"], r["reached"], r["conversion_next"]) for r in rep.stages if r["kind"] == "open"]
    assert (conv.won, conv.lost, conv.win_rate) == (1, 1, 0.5)
    # summed over the owners, each stage's counts are the total's
    for row in conv.stages:
        per = [v[row["stage_id"]] for v in conv.by_owner.values() if row["stage_id"] in v]
        assert sum(n for n, _ in per) == row["reached"]
    assert empty.win_rate is None and all(r["conversion_next"] is None for r in empty.stages)
