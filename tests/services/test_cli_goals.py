"""``salesops target …`` and ``salesops report attainment`` on a temporary SQLite file:
the created target with its id, parts that add up, suggestions, work-back, attainment;
bad input exits non-zero with one line."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from services.cli import app
from tests.services.test_cli import one_line_error


@pytest.fixture
def run(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), env={"DATABASE_URL": url, "LANG": "en_US.UTF-8", "SALESOPS_LANG": "en"})

    assert invoke("init").exit_code == 0
    with_team = invoke("user", "add", "mgr", "--role", "manager", "--password", "secret-pass-1")
    assert with_team.exit_code == 0, with_team.output
    return invoke


def test_add_split_and_report(run):
    res = run("target", "add", "--metric", "contract_amount", "--scope", "company", "--period", "2027",
              "--value", "1000000.01", "--json")
    assert res.exit_code == 0, res.output
    target = json.loads(res.stdout)
    assert target["id"] and target["value"] == "1000000.01" and target["period"] == "2027"
    res = run("target", "split", str(target["id"]), "--into", "months", "--weights", "equal", "--json")
    assert res.exit_code == 0, res.output
    parts = json.loads(res.stdout)
    assert len(parts) == 12 and sum(Decimal(p["value"]) for p in parts) == Decimal("1000000.01")
    res = run("target", "split", str(parts[0]["id"]), "--into", "months", "--json")
    assert "cannot be split" in one_line_error(res)
    res = run("target", "split", str(target["id"]), "--into", "quarters", "--weights", "3,3,4,x")
    assert "each weight must be a number" in one_line_error(res)
    res = run("report", "attainment", "--period", "2027-01", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [(r["value"], r["actual"], r["attainment"]) for r in rows] == [(parts[0]["value"], "0.00", 0.0)]


def test_suggest_and_workback(run):
    res = run("target", "suggest", "--scope", "company", "--period", "2027-Q2", "--market-size", "5000000",
              "--market-share", "0.1", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["market"]["value"] == "500000.00" and out["history"]["value"] is None
    assert set(out) >= {"history", "market", "capacity"}
    res = run("target", "add", "--scope", "company", "--period", "2027-Q2", "--value", "500000", "--json")
    tid = json.loads(res.stdout)["id"]
    res = run("target", "workback", str(tid), "--json")
    assert res.exit_code == 0, res.output
    wb = json.loads(res.stdout)
    assert wb["remaining"] == "500000.00" and set(wb["per_rep_per_week"]) == {
        "won_deals", "new_deals", "demos", "visits", "leads"}


@pytest.mark.parametrize(("args", "text"), [
    (("--value", "-1"), "value: must not be negative"),
    (("--value", "lots"), "value: must be a number"),
    (("--value", "1", "--period", "2027-Q5"), "period: must be written YYYY, YYYY-Qn or YYYY-MM"),
])
def test_bad_input_is_one_line(run, args, text):
    base = {"--period": "2027", "--value": "1"}
    extra = dict(zip(args[::2], args[1::2], strict=True))
    flat = [x for kv in {**base, **extra}.items() for x in kv]
    res = run("target", "add", "--scope", "company", *flat)
    assert text in one_line_error(res)


def test_duplicate_and_unknown_holder(run):
    assert run("target", "add", "--scope", "company", "--period", "2027", "--value", "5").exit_code == 0
    res = run("target", "add", "--scope", "company", "--period", "2027", "--value", "5")
    assert "already exists" in one_line_error(res)
    res = run("target", "add", "--scope", "user", "--user", "nobody", "--period", "2027", "--value", "5")
    assert "unknown or inactive user: nobody" in one_line_error(res)
