"""The weekly meeting report and its PDF (dataset: tests/services/analytics_data.py), on
SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from services.analytics.meeting import meeting_report, parse_week, week_of
from services.db import read_scope
from services.reports_pdf import meeting_pdf
from tests.services.analytics_data import TODAY, build_deals

D = Decimal


@pytest.fixture
def deals(engine, org):
    return build_deals(engine, org)


def test_week_parsing():
    week = parse_week("2026-W47")
    assert (week.start, week.end) == (date(2026, 11, 16), date(2026, 11, 23))
    assert week_of(date(2026, 11, 22)) == "2026-W47"
    with pytest.raises(ValueError):
        parse_week("2026-47")


def test_meeting_numbers(engine, org, deals):
    with read_scope(engine) as s:
        rep = meeting_report(s, org.director, week=parse_week("2026-W47"), today=TODAY)
    won = rep["numbers"]["contract_amount"]
    # no company target for November: rep n1's 20,000 counts, prorated 7 of 30 days
    assert (won["this_week"], won["last_week"], won["target"]) == (D("10000.00"), D("0.00"), D("4666.67"))
    assert rep["numbers"]["won_deals"] == {"this_week": 1, "last_week": 0}
    assert [d["deal"] for d in rep["won"]] == ["D1"] and rep["lost"] == []
    assert [d["deal"] for d in rep["top_deals"]] == ["D4", "D6", "D5", "D3"]
    assert rep["leaderboard"][0]["name"] == "Rep_N1" and rep["leaderboard"][0]["value"] == D("10000.00")
    assert rep["funnel"].deals == 4
    with read_scope(engine) as s:
        before = meeting_report(s, org.director, week=parse_week("2026-W46"), today=TODAY)
    assert [d["deal"] for d in before["lost"]] == ["D2"]


@pytest.mark.parametrize("locale,titles", [("zh_CN", ["销售漏斗", "本周赢单", "排行榜", "逾期回款"]),
                                           ("en", ["Sales funnel", "Deals won this week", "Leaderboard"])])
def test_meeting_pdf_text(engine, org, deals, locale, titles):
    with read_scope(engine) as s:
        rep = meeting_report(s, org.director, week=parse_week("2026-W47"), today=TODAY)
    pdf = meeting_pdf(rep, locale=locale)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height  # landscape
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "10,000.00" in text
    for title in titles:
        assert title in text
