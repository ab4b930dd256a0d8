"""AppTest of the Activities page as rep and manager on a small company built here:
no exception, the quick log form keeps the input on a validation error and clears on
success, the agenda shows the service's items and marks one done in place, the manager's
rep filter narrows the agenda."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from services import settings
from services.activities import agenda
from services.db import make_engine, migrate, session_scope
from services.models import Activity, Contact, Customer, Deal, LostReason, Product, utcnow
from services.periods import local_today
from tests.conftest import build_org

ROOT = Path(__file__).resolve().parents[2]


def build_small_company(url: str):
    """Three reps' customers with contacts, open and won deals, a planned activity each and
    follow-ups due; returns {role: Actor} (rep = rep_n1, manager = manager_n)."""
    eng = make_engine(url)
    migrate(eng)
    org = build_org(eng)
    now = utcnow()
    with session_scope(eng) as s:
        today = local_today(settings.get(s, "timezone"))
        s.add_all([LostReason(name="Price"), LostReason(name="Timing"), Product(name="Widget")])
        for i, rep in enumerate([org.rep_n1, org.rep_n2, org.rep_s1]):
            for j in range(3):
                c = Customer(name=f"Cust {rep.username} {j}", name_norm=f"cust {rep.username} {j}", owner_id=rep.id,
                             next_contact_on=today - timedelta(days=j), last_contact_at=now - timedelta(days=20 * j),
                             created_at=now - timedelta(days=300))
                s.add(c)
                s.flush()
                s.add(Contact(customer_id=c.id, name=f"Contact {rep.username} {j}"))
                for k, stage in enumerate(["Qualify", "Proposal", "Won"]):
                    s.add(Deal(name=f"Deal {i}{j}{k}", customer_id=c.id, owner_id=rep.id, stage_id=org.stages[stage],
                               amount=Decimal(1000 * (k + 1) + j), opened_on=date(2026, 1, 1),
                               probability={"Qualify": 10, "Proposal": 50, "Won": 100}[stage],
                               closed_on=today - timedelta(days=3) if stage == "Won" else None,
                               last_activity_at=now - timedelta(days=30 * j), created_at=now - timedelta(days=60),
                               stage_changed_at=now - timedelta(days=5)))
                if j == 0:
                    s.add(Activity(customer_id=c.id, owner_id=rep.id, kind="visit",
                                   planned_at=now - timedelta(days=2), next_step=f"Visit plan {rep.username}"))
    eng.dispose()
    return {"rep": org.rep_n1, "manager": org.manager_n, "director": org.director, "admin": org.admin,
            "other_rep": org.rep_n2}


@pytest.fixture(scope="module")
def company_db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('activities_page') / 'company.db'}"
    return url, build_small_company(url)


@pytest.fixture
def company(company_db, monkeypatch):
    """The small company as ``DATABASE_URL`` for this test only."""
    monkeypatch.setenv("DATABASE_URL", company_db[0])
    return company_db


def run_page(actor, page: str = "pages/activities.py") -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.session_state["actor"] = actor
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def by_label(widgets, label):
    return next(w for w in widgets if w.label == label)


@pytest.mark.parametrize("role", ["rep", "manager", "director", "admin"])
def test_page_runs_for_every_role(company, role):
    at = run_page(company[1][role])
    assert at.title[0].value == "Activities"
    assert [s.value for s in at.subheader][:3] == ["Overdue", "Today", "Rest of the week"]
    assert bool([s for s in at.selectbox if s.label == "Rep"]) == (role != "rep")


def test_agenda_numbers_are_the_services(company):
    url, actors = company
    eng = make_engine(url)
    with session_scope(eng) as s:
        today = local_today(settings.get(s, "timezone"))
        expected = agenda(s, actors["manager"], today=today)
    at = run_page(actors["manager"])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Overdue"] == str(expected["overdue"].attrs["total"])
    assert metrics["Today"] == str(expected["today"].attrs["total"])
    # the manager narrows to one rep
    by_label(at.selectbox, "Rep").set_value(actors["other_rep"].id).run()
    with session_scope(eng) as s:
        only = agenda(s, actors["manager"], today=today, owner_id=actors["other_rep"].id)
    assert {m.label: m.value for m in at.metric}["Overdue"] == str(only["overdue"].attrs["total"])


def test_log_form_keeps_input_on_error_and_clears_on_success(company):
    url, actors = company
    rep = actors["rep"]
    at = run_page(rep)
    customer = by_label(at.selectbox, "Customer")
    target = next(o for o in customer.options if o.endswith(" 1"))
    customer.select(target).run()
    eng = make_engine(url)
    with session_scope(eng) as s:
        cid = s.scalar(select(Customer.id).where(Customer.name == target))
        before = len(s.scalars(select(Activity).where(Activity.customer_id == cid)).all())
    by_label(at.text_input, "Outcome").input("Talked about pricing")
    by_label(at.text_input, "Next step").input("Send proposal")
    submit = next(b for b in at.button if b.label == "Save activity")
    submit.click().run()  # next contact date missing → rejected
    assert not at.exception
    assert any("correct" in e.value for e in at.error)
    assert by_label(at.text_input, "Outcome").value == "Talked about pricing"  # input kept
    with session_scope(eng) as s:
        assert len(s.scalars(select(Activity).where(Activity.customer_id == cid)).all()) == before
    next_day = local_today() + timedelta(days=5)
    by_label(at.date_input, "Next contact date").set_value(next_day)
    next(b for b in at.button if b.label == "Save activity").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Activity saved"]
    assert by_label(at.text_input, "Outcome").value == ""  # cleared
    with session_scope(eng) as s:
        rows = s.scalars(select(Activity).where(Activity.customer_id == cid).order_by(Activity.id)).all()
        assert len(rows) == before + 1 and rows[-1].outcome == "Talked about pricing"
        assert rows[-1].next_contact_on == next_day and rows[-1].owner_id == rep.id
    # the timeline under the form shows it
    assert any("Talked about pricing" in tb.value.to_string() for tb in at.table)


def test_mark_done_in_place(company):
    url, actors = company
    rep = actors["rep"]
    at = run_page(rep)
    eng = make_engine(url)
    with session_scope(eng) as s:
        planned = s.scalars(select(Activity).where(Activity.owner_id == rep.id, Activity.done_at.is_(None))).first()
        planned_id = planned.id
    key = f"agenda_activity_{planned_id}"
    at.text_input(key=f"{key}_outcome").input("Met the buyer")
    at.date_input(key=f"{key}_next").set_value(local_today() + timedelta(days=7))
    form_buttons = [b for b in at.button if b.label == "Mark done" and b.form_id == f"{key}_form"]
    form_buttons[0].click().run()
    assert not at.exception
    assert "Marked done" in [s.value for s in at.success]
    with session_scope(eng) as s:
        row = s.get(Activity, planned_id)
        assert row.done_at is not None and row.outcome == "Met the buyer"


@pytest.mark.parametrize("role", ["rep", "manager", "director"])
def test_demo_company_agenda_matches_service(demo_db_url, demo_actors, monkeypatch, role):
    monkeypatch.setenv("DATABASE_URL", demo_db_url)
    actor = demo_actors[role]
    at = run_page(actor)
    with session_scope(make_engine(demo_db_url)) as s:
        today = local_today(settings.get(s, "timezone"))
        expected = agenda(s, actor, today=today)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Overdue"] == str(expected["overdue"].attrs["total"])
    assert metrics["Rest of the week"] == str(expected["this_week"].attrs["total"])
