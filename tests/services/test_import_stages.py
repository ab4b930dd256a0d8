"""A fresh ``salesops init`` works like the first-run screen, and a CRM export's won and lost
deals stay won and lost: defaults created by init, won/lost stages recognised or created
by name in both languages, a close date that cannot be stored reported on its row
(SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from services import settings as company_settings
from services.access import Actor
from services.cli import app
from services.db import session_scope
from services.importing import import_file, stage_kind_named
from services.models import Channel, Deal, LostReason, Stage, User
from services.reference import DEFAULT_CHANNELS, DEFAULT_LOST_REASONS, DEFAULT_STAGES
from tests.conftest import cli_url


def _cli(engine, *args: str):
    res = CliRunner().invoke(app, list(args), env={"DATABASE_URL": cli_url(engine), "SALESOPS_LANG": "en"})
    return res


def _csv(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


@pytest.mark.parametrize("lang, locale", [("en", "en"), ("zh", "zh_CN")])
def test_init_creates_the_first_run_defaults(engine, lang, locale):
    res = _cli(engine, "init", "--lang", lang)
    assert res.exit_code == 0, res.output
    assert "6 stages" in res.output
    assert _cli(engine, "init").exit_code == 0  # again: nothing added twice
    name = 0 if locale == "zh_CN" else 1
    with session_scope(engine) as s:
        stages = s.execute(select(Stage.name, Stage.kind, Stage.probability).order_by(Stage.sequence)).all()
        assert [tuple(r) for r in stages] == [(st[name], st[4], st[3]) for st in DEFAULT_STAGES]
        assert sorted(s.scalars(select(LostReason.name))) == sorted(r[name] for r in DEFAULT_LOST_REASONS)
        assert sorted(s.scalars(select(Channel.name))) == sorted(c[name] for c in DEFAULT_CHANNELS)
        assert company_settings.get(s, "default_language") == locale


def test_init_without_lang_uses_the_default_language(engine):
    assert _cli(engine, "init").exit_code == 0
    with session_scope(engine) as s:
        assert s.scalar(select(Stage.name).where(Stage.kind == "won")) == "赢单"  # the company default: zh_CN


CRM_EXPORT = [["Opportunity ID", "Opportunity Name", "Account Name", "Stage", "Amount", "Close Date", "Closed On",
               "Owner"],
              ["O-1", "Pilot", "Acme", "Prospecting", "1000", "2026-12-31", "", "admin"],
              ["O-2", "Rollout", "Acme", "Engaging", "5000", "2027-01-31", "", "admin"],
              ["O-3", "Renewal", "Acme", "Won", "8000", "2026-10-15", "2026-10-20", "admin"],
              ["O-4", "Expansion", "Acme", "Lost", "3000", "2026-09-30", "", "admin"]]


def test_a_crm_export_on_a_fresh_init_keeps_won_and_lost_deals_closed(engine, tmp_path):
    assert _cli(engine, "init", "--lang", "en").exit_code == 0
    res = _cli(engine, "user", "add", "admin", "--role", "admin", "--password", "correct horse battery")
    assert res.exit_code == 0, res.output
    path = tmp_path / "crm.csv"
    path.write_bytes(_csv(CRM_EXPORT))
    res = _cli(engine, "import", "deals", str(path), "--create-missing", "--as", "admin", "--json",
               "--map", "Close Date=expected_close", "--map", "Closed On=closed_on")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert (summary["created"], summary["errors"], summary["written"]) == (4, [], 4)
    assert summary["created_refs"] == {"stage": 2, "customer": 1}  # Prospecting, Engaging; Won / Lost exist
    with session_scope(engine) as s:
        deals = {d.external_id: d for d in s.scalars(select(Deal))}
        kinds = dict(s.execute(select(Stage.id, Stage.kind)).all())
        assert [kinds[deals[x].stage_id] for x in ("O-1", "O-2", "O-3", "O-4")] == ["open", "open", "won", "lost"]
        assert deals["O-3"].closed_on == date(2026, 10, 20) and deals["O-3"].probability == 100
        assert deals["O-4"].closed_on == date(2026, 9, 30) and deals["O-4"].probability == 0
        assert deals["O-1"].closed_on is None
        new = s.execute(select(Stage.name, Stage.kind, Stage.sequence).where(Stage.name.in_(["Prospecting",
                                                                                            "Engaging"]))).all()
        won_seq = s.scalar(select(Stage.sequence).where(Stage.kind == "won"))
        assert {r.kind for r in new} == {"open"} and all(r.sequence < won_seq for r in new)


def _bare_admin(engine) -> Actor:
    """A database with a user and no stages at all (made before init created defaults)."""
    with session_scope(engine) as s:
        u = User(username="admin", display_name="Admin", role="admin", password_hash="!", locale="en")
        s.add(u)
        s.flush()
        return Actor.from_user(u)


def test_create_missing_makes_won_and_lost_stages_by_name_in_both_languages(engine):
    admin = _bare_admin(engine)
    data = _csv([["external_id", "name", "stage", "amount", "closed_on", "customer"],
                 ["X1", "Early", "Engaging", "100", "", ""],
                 ["X2", "Signed", "Closed Won", "200", "2026-10-01", "Acme"],
                 ["X3", "Signed too", "赢单", "300", "2026-10-02", "Acme"],
                 ["X4", "Gone", "closed-lost", "", "2026-10-03", ""],
                 ["X5", "Gone too", "丢单", "", "2026-10-04", ""]])
    res = import_file(engine, admin, kind="deals", path=data, create_missing=True)
    assert (res.created, res.errors) == (5, [])
    assert res.created_refs == {"stage": 3, "customer": 1}  # one won and one lost stage, not four
    with session_scope(engine) as s:
        stages = {r.name: r for r in s.execute(select(Stage.name, Stage.kind, Stage.probability, Stage.sequence))}
        assert (stages["Closed Won"].kind, stages["Closed Won"].probability) == ("won", 100)
        assert (stages["closed-lost"].kind, stages["closed-lost"].probability) == ("lost", 0)
        assert stages["Engaging"].kind == "open" and stages["Engaging"].sequence < stages["Closed Won"].sequence
        closed = s.execute(select(Deal.external_id, Deal.closed_on).where(Deal.closed_on.is_not(None))).all()
        assert sorted(x for x, _ in closed) == ["X2", "X3", "X4", "X5"]
        assert s.scalar(select(func.count()).select_from(Stage)) == 3


def test_a_close_date_on_a_deal_in_an_open_stage_is_reported_not_dropped(engine, org):
    data = _csv([["Name", "Customer", "Stage", "Closed On", "Amount"],
                 ["Still open", "Acme", "Proposal", "2026-10-01", "100"],
                 ["Really won", "Acme", "Won", "2026-10-01", "100"]])
    res = import_file(engine, org.admin, kind="deals", path=data, mapping={"Closed On": "closed_on"},
                      create_missing=True)
    assert res.created == 1 and [(e.row, e.column) for e in res.errors] == [(2, "Closed On")]
    assert "open" in res.errors[0].reason
    with session_scope(engine) as s:
        assert s.scalars(select(Deal.name)).all() == ["Really won"]


@pytest.mark.parametrize("name, kind", [("won", "won"), ("Closed Won", "won"), ("closed_won", "won"),
                                        ("赢单", "won"), ("成交", "won"), (" WON ", "won"), ("lost", "lost"),
                                        ("Closed Lost", "lost"), ("输单", "lost"), ("丢单", "lost"),
                                        ("Closed-Lost", "lost"), ("Prospecting", None), ("Won back", None)])
def test_won_and_lost_stage_names(name, kind):
    assert stage_kind_named(name) == kind
