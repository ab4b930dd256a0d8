"""After-sales tickets: lifecycle, validation, age, access (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services import tickets
from services.db import session_scope
from services.errors import NotFound, PermissionDenied, ValidationError
from services.models import AuditLog, Customer, ServiceTicket

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _customer(engine, owner_id, name="Acme"):
    with session_scope(engine) as s:
        c = Customer(name=name, name_norm=name.lower(), owner_id=owner_id)
        s.add(c)
        s.flush()
        return c.id


def _open(engine, actor, customer_id, **kw):
    with session_scope(engine) as s:
        return tickets.open_ticket(s, actor, data={"customer_id": customer_id, "title": "Printer jams", **kw},
                                   now=kw.pop("now", T0))


def test_lifecycle_with_satisfaction_and_audit(engine, org):
    cid = _customer(engine, org.rep_n1.id)
    tk = _open(engine, org.rep_n1, cid, category="defect", priority="high")
    assert (tk.status, tk.category, tk.priority, tk.assignee_id) == ("open", "defect", "high", None)
    with session_scope(engine) as s:
        tk = tickets.assign_ticket(s, org.manager_n, ticket_id=tk.id, assignee_id=org.rep_n2.id)
    assert (tk.status, tk.assignee_id) == ("assigned", org.rep_n2.id)
    with session_scope(engine) as s:  # the assignee resolves it
        tk = tickets.resolve_ticket(s, org.rep_n2, ticket_id=tk.id, resolution="Replaced the roller",
                                    satisfaction=4, now=T0 + timedelta(days=2, hours=12))
    assert (tk.status, tk.satisfaction) == ("resolved", 4)
    with session_scope(engine) as s:
        tk = tickets.close_ticket(s, org.rep_n1, ticket_id=tk.id)
    assert tk.status == "closed" and tk.closed_at is not None
    with session_scope(engine) as s:
        tk = tickets.reopen_ticket(s, org.rep_n1, ticket_id=tk.id)
    assert (tk.status, tk.satisfaction, tk.resolution, tk.resolved_at) == ("assigned", None, None, None)
    with session_scope(engine) as s:
        actions = s.scalars(select(AuditLog.action).where(AuditLog.entity == "service_ticket")
                            .order_by(AuditLog.id)).all()
    assert actions == ["create", "assign", "resolve", "close", "reopen"]


@pytest.mark.parametrize("satisfaction", [0, 6, None, "5", 4.5, True])
def test_resolve_needs_satisfaction_1_to_5(engine, org, satisfaction):
    cid = _customer(engine, org.rep_n1.id)
    tk = _open(engine, org.rep_n1, cid)
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        tickets.resolve_ticket(s, org.rep_n1, ticket_id=tk.id, resolution="done", satisfaction=satisfaction)
    assert set(exc.value.errors) == {"satisfaction"}
    with session_scope(engine) as s:
        assert s.get(ServiceTicket, tk.id).status == "open"


def test_open_validation_messages(engine, org):
    cid = _customer(engine, org.rep_n1.id)
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        tickets.open_ticket(s, org.rep_n1, data={"customer_id": cid, "title": "  ", "category": "x",
                                                  "priority": "asap", "assignee_id": org.rep_n2.id})
    assert set(exc.value.errors) == {"title", "category", "priority", "assignee_id"}
    ticket_id = _open(engine, org.rep_n1, cid).id
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        tickets.resolve_ticket(s, org.rep_n1, ticket_id=ticket_id, resolution="", satisfaction=3)
    assert set(exc.value.errors) == {"resolution"}
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(ServiceTicket)) == 1


def test_wrong_transitions_are_refused(engine, org):
    cid = _customer(engine, org.rep_n1.id)
    tk = _open(engine, org.rep_n1, cid)
    with session_scope(engine) as s, pytest.raises(ValidationError):
        tickets.close_ticket(s, org.rep_n1, ticket_id=tk.id)
    with session_scope(engine) as s, pytest.raises(ValidationError):
        tickets.reopen_ticket(s, org.rep_n1, ticket_id=tk.id)
    with session_scope(engine) as s:
        tickets.resolve_ticket(s, org.rep_n1, ticket_id=tk.id, resolution="ok", satisfaction=5)
    with session_scope(engine) as s, pytest.raises(ValidationError):
        tickets.resolve_ticket(s, org.rep_n1, ticket_id=tk.id, resolution="again", satisfaction=5)
    with session_scope(engine) as s, pytest.raises(ValidationError):
        tickets.assign_ticket(s, org.rep_n1, ticket_id=tk.id, assignee_id=org.rep_n1.id)


def test_other_reps_cannot_see_or_touch_tickets(engine, org):
    cid = _customer(engine, org.rep_n1.id)
    tk = _open(engine, org.rep_n1, cid)
    for actor in (org.rep_n2, org.rep_s1, org.manager_s):
        with session_scope(engine) as s, pytest.raises(NotFound):
            tickets.resolve_ticket(s, actor, ticket_id=tk.id, resolution="x", satisfaction=3)
        with session_scope(engine) as s, pytest.raises(NotFound):
            tickets.list_customer_tickets(s, actor, customer_id=cid)
        with session_scope(engine) as s:
            assert tickets.list_open_tickets_by_age(s, actor).empty
        with session_scope(engine) as s, pytest.raises((NotFound, PermissionDenied)):
            tickets.open_ticket(s, actor, data={"customer_id": cid, "title": "x"})
    with session_scope(engine) as s:
        assert len(tickets.list_customer_tickets(s, org.manager_n, customer_id=cid)) == 1
        assert len(tickets.list_open_tickets_by_age(s, org.director)) == 1


def test_open_tickets_by_age_oldest_first(engine, org):
    c1 = _customer(engine, org.rep_n1.id, "A")
    c2 = _customer(engine, org.rep_n2.id, "B")
    old = _open(engine, org.rep_n1, c1, now=T0)
    new = _open(engine, org.rep_n2, c2, now=T0 + timedelta(days=5))
    done = _open(engine, org.rep_n2, c2, now=T0 - timedelta(days=30))
    with session_scope(engine) as s:
        tickets.resolve_ticket(s, org.rep_n2, ticket_id=done.id, resolution="ok", satisfaction=2,
                               now=T0 - timedelta(days=27))
    now = T0 + timedelta(days=10, hours=6)
    with session_scope(engine) as s:
        df = tickets.list_open_tickets_by_age(s, org.manager_n, now=now)
        assert df["id"].tolist() == [old.id, new.id]
        assert df["age_days"].tolist() == [10.2, 5.2]
        assert df["customer_name"].tolist() == ["A", "B"]
        mine = tickets.list_open_tickets_by_age(s, org.rep_n1, now=now)
        assert mine["id"].tolist() == [old.id]
        hist = tickets.list_customer_tickets(s, org.rep_n2, customer_id=c2, now=now)
        assert hist["id"].tolist() == [new.id, done.id]
        assert hist.loc[hist["id"] == done.id, "age_days"].item() == 3.0
        assert tickets.count_open_tickets(s, org.manager_n) == 2


def test_pool_customer_ticket_needs_claim_for_a_rep(engine, org):
    cid = _customer(engine, None, "Pool Co")
    with session_scope(engine) as s, pytest.raises(PermissionDenied):
        tickets.open_ticket(s, org.rep_n1, data={"customer_id": cid, "title": "Help"})
    assert _open(engine, org.manager_n, cid).status == "open"
