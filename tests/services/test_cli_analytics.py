"""``salesops report funnel | forecast | leaderboard | findings | meeting`` and ``salesops
forecast snapshot``: the ``--json`` output is the services' numbers, on SQLite and
PostgreSQL (the dataset of tests/services/analytics_data.py)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from services.access import SYSTEM
from services.analytics.findings import findings
from services.analytics.forecast import forecast, forecast_json
from services.analytics.funnel import funnel
from services.analytics.leaderboard import leaderboard, leaderboard_json
from services.cli import app
from services.cli.analytics import funnel_rows
from services.db import read_scope
from services.periods import Period
from tests.conftest import build_org, cli_url
from tests.services.analytics_data import build_deals

NOV = Period(date(2026, 11, 1), date(2026, 12, 1))


@pytest.fixture
def run(engine):
    org = build_org(engine)
    build_deals(engine, org)
    url = cli_url(engine)
    runner = CliRunner()

    def invoke(*args: str):
        res = runner.invoke(app, list(args), env={"DATABASE_URL": url, "SALESOPS_LANG": "en"})
        assert res.exit_code == 0, res.output
        return res.output

    return invoke


def test_funnel_json_is_the_service(run, engine):
    out = json.loads(run("report", "funnel", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "stage", "--json"))
    with read_scope(engine) as s:
        assert out == json.loads(json.dumps(funnel_rows(funnel(s, SYSTEM, period=NOV)), default=str))
    assert [(r["stage"], r["deals"]) for r in out] == [("Qualify", 5), ("Needs", 2), ("Proposal", 3),
                                                       ("Negotiation", 1), ("Won", 1)]


def test_forecast_leaderboard_findings_json(run, engine):
    fc = json.loads(run("report", "forecast", "--months", "3", "--json"))
    board = json.loads(run("report", "leaderboard", "--from", "2026-11-01", "--to", "2026-11-30", "--metric",
                           "win_rate", "--json"))
    found = json.loads(run("report", "findings", "--from", "2026-11-01", "--to", "2026-11-30", "--json"))
    with read_scope(engine) as s:
        assert fc == json.loads(json.dumps(forecast_json(forecast(s, SYSTEM, months=3)), default=str))
        assert board == leaderboard_json(leaderboard(s, SYSTEM, period=NOV, metric="win_rate"))
        assert found == json.loads(json.dumps(findings(s, SYSTEM, period=NOV), default=str))
    assert board[0]["name"] == "Rep_N1" and board[0]["value"] == 0.5


def test_meeting_pdf_and_snapshot(run, tmp_path):
    out = tmp_path / "week.pdf"
    assert "Wrote" in run("report", "meeting", "--week", "2026-W47", "--pdf", str(out), "--lang", "zh")
    text = "".join(p.extract_text() for p in PdfReader(out).pages)
    assert "10,000.00" in text and "本周赢单" in text
    assert json.loads(run("forecast", "snapshot", "--json")) == {"written": 24}
    assert json.loads(run("forecast", "snapshot", "--json")) == {"written": 0}


def test_bad_week_is_one_line(sqlite_engine, tmp_path):
    build_org(sqlite_engine)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    res = CliRunner().invoke(app, ["report", "meeting", "--week", "48", "--pdf", str(tmp_path / "x.pdf")],
                             env={"DATABASE_URL": url, "SALESOPS_LANG": "en"})
    assert res.exit_code == 1
    assert res.output.strip().splitlines() == ["error: --week must look like 2026-W48, not 48"]
    assert not (tmp_path / "x.pdf").exists()
