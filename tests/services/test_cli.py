"""``salesops`` CLI on a temporary SQLite file: init, demo, users, backup, reports, pool,
import; errors exit non-zero with one line and no traceback."""

from __future__ import annotations

import json
import sqlite3

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from services.access import SYSTEM
from services.cli import app, main
from services.db import make_engine, session_scope
from services.models import Customer, User
from services.passwords import verify_password


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def run(db):
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, url: str | None = None):
        return runner.invoke(app, list(args), input=input,
                             env={"DATABASE_URL": url or db, "LANG": "en_US.UTF-8", "SALESOPS_LANG": "en"})

    return invoke


@pytest.fixture
def demo_db(run, db):
    res = run("demo", "--scale", "tiny", "--lang", "en", "--seed", "5")
    assert res.exit_code == 0, res.output
    return db


def one_line_error(res) -> str:
    assert res.exit_code != 0
    assert "Traceback" not in res.output
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


def test_init_creates_the_schema(run, db, tmp_path):
    res = run("init")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "cli.db").exists()
    assert "salesops demo" in res.output  # tells what to do next on an empty database
    assert run("init").exit_code == 0  # idempotent


def test_commands_need_a_database(run, tmp_path):
    res = run("report", "kpi", url=f"sqlite:///{tmp_path / 'missing.db'}")
    assert "salesops init" in one_line_error(res)
    assert not (tmp_path / "missing.db").exists()


def test_demo_loads_once(run, demo_db):
    res = run("demo", "--scale", "tiny", "--json")
    assert "empty database" in one_line_error(res)
    with session_scope(make_engine(demo_db)) as s:
        assert s.scalar(select(User.id).where(User.username == "rep1")) is not None


def test_demo_json_summary(run):
    res = run("demo", "--scale", "tiny", "--lang", "zh", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["password"] == "demo1234" and out["counts"]["customer"] == 120
    assert ["admin", "admin"] in out["logins"]


def test_user_add_passwd_disable(run, demo_db):
    res = run("user", "add", "carol", "--role", "manager", "--team", "1", "--name", "Carol C", "--password", "secret-123")
    assert res.exit_code == 0, res.output
    eng = make_engine(demo_db)
    with session_scope(eng) as s:
        carol = s.scalars(select(User).where(User.username == "carol")).one()
        assert (carol.role, carol.display_name, carol.team_id) == ("manager", "Carol C", 1)
        assert verify_password(carol.password_hash, "secret-123")

    assert "already" in one_line_error(run("user", "add", "carol", "--password", "another-123"))
    assert "password" in one_line_error(run("user", "add", "dave", "--password", "short"))
    assert "team" in one_line_error(run("user", "add", "dave", "--team", "No such team", "--password", "secret-123"))

    res = run("user", "passwd", "carol", input="new-secret-9\nnew-secret-9\n")  # prompted twice, hidden
    assert res.exit_code == 0, res.output
    assert "new-secret-9" not in res.output
    res = run("user", "disable", "carol")
    assert res.exit_code == 0, res.output
    with session_scope(eng) as s:
        carol = s.scalars(select(User).where(User.username == "carol")).one()
        assert verify_password(carol.password_hash, "new-secret-9")
        assert carol.active is False
    one_line_error(run("user", "disable", "nobody"))


def test_backup(run, demo_db, tmp_path):
    target = tmp_path / "copy" / "backup.db"
    res = run("backup", str(target))
    assert res.exit_code == 0, res.output
    with sqlite3.connect(target) as con:
        assert con.execute("select count(*) from customer").fetchone()[0] == 120
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert "--force" in one_line_error(run("backup", str(target)))
    assert run("backup", str(target), "--force").exit_code == 0


def test_backup_refuses_postgresql(run, tmp_path):
    res = run("backup", str(tmp_path / "x.db"), url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert res.exit_code == 2
    assert "pg_dump" in one_line_error(res)


def test_report_kpi_matches_the_service(run, demo_db):
    from datetime import date

    from services.analytics import kpi_report

    res = run("report", "kpi", "--from", "2025-01-01", "--to", "2026-12-31", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    with session_scope(make_engine(demo_db)) as s:
        expected = kpi_report(s, SYSTEM, start=date(2025, 1, 1), end=date(2027, 1, 1))
    assert rows == json.loads(json.dumps(expected, default=str))
    assert rows[0]["won_count"] > 0

    res = run("report", "kpi", "--from", "2025-01-01", "--to", "2026-12-31", "--by", "owner", "--json")
    owners = json.loads(res.stdout)
    assert {r["username"] for r in owners} >= {"rep1", "rep2"}
    res = run("report", "kpi", "--from", "2025-01-01", "--by", "team")
    assert res.exit_code == 0 and "won_amount" in res.stdout  # a table without --json

    assert "--from" in one_line_error(run("report", "kpi", "--from", "yesterday"))
    one_line_error(run("report", "kpi", "--from", "2026-02-01", "--to", "2026-01-01"))
    assert run("report", "kpi", "--by", "region").exit_code == 2  # usage error from the parser


def test_pool_reclaim_is_idempotent(run, demo_db):
    """A tier-C customer silent for 100 days (the rule: 15) goes to the pool once."""
    from datetime import UTC, datetime, timedelta

    engine = make_engine(demo_db)
    silent = datetime.now(UTC) - timedelta(days=100)
    with session_scope(engine) as s:
        rep = s.scalar(select(User.id).where(User.username == "rep1"))
        s.add(Customer(name="Silent Stale Ltd", tier="C", owner_id=rep, created_at=silent, last_contact_at=silent))
    first = run("pool", "reclaim", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["reclaimed"] >= 1
    with session_scope(engine) as s:
        assert s.scalar(select(Customer.owner_id).where(Customer.name == "Silent Stale Ltd")) is None
    engine.dispose()
    second = run("pool", "reclaim", "--json")
    assert json.loads(second.stdout) == {"reclaimed": 0}


def test_import_help_lists_the_fields(run):
    res = run("import", "deals", "--help")
    assert res.exit_code == 0
    for fld in ("external_id", "amount", "stage", "closed_on"):
        assert fld in res.output


def test_import_customers_dry_run_then_real(run, demo_db, tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("公司名称,电话\n杭州测试导入科技有限公司,13912345678\n,13900000000\n", encoding="utf-8")
    res = run("import", "customers", str(csv), "--map", "公司名称=name", "--map", "电话=phone", "--dry-run", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["dry_run"] is True and out["created"] == 1 and out["error_rows"] == 1
    eng = make_engine(demo_db)
    with session_scope(eng) as s:
        assert s.scalar(select(Customer.id).where(Customer.name == "杭州测试导入科技有限公司")) is None
    res = run("import", "customers", str(csv), "--map", "公司名称=name", "--map", "电话=phone", "--json")
    out = json.loads(res.stdout)
    assert out["created"] == 1 and out["errors"][0]["row"]
    with session_scope(eng) as s:
        assert s.scalar(select(Customer.id).where(Customer.name == "杭州测试导入科技有限公司")) is not None
    again = json.loads(run("import", "customers", str(csv), "--map", "公司名称=name", "--map", "电话=phone",
                           "--json").stdout)
    assert again["created"] == 0  # re-running creates no duplicate
    assert "--map" in one_line_error(run("import", "customers", str(csv), "--map", "nonsense"))
    one_line_error(run("import", "customers", str(tmp_path / "missing.csv")))


def test_main_exits_with_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("SALESOPS_LANG", "en")
    with pytest.raises(SystemExit) as exc:
        main(["--database-url", f"sqlite:///{tmp_path / 'none.db'}", "pool", "reclaim"])
    assert exc.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
    with pytest.raises(SystemExit) as exc:
        main(["--database-url", f"sqlite:///{tmp_path / 'new.db'}", "init"])
    assert exc.value.code == 0
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
