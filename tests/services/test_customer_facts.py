"""A customer's count of open activities (services.customer_facts) is kept by the database with
every activity written — by the activity service, by another writer, while others write the
same customer's activities at once — equals what ``refresh`` recomputes, and decides who is on
the agenda as a follow-up of its own (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import and_, delete, insert, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite

from services import customer_facts
from services.activities import agenda, complete_activity, log_activity
from services.db import migrate, session_scope
from services.models import Activity, Customer
from services.models.customers import FOLLOW_UP_DUE
from tests.conftest import build_org, downgrade_to
from tests.services.test_activities import NOW, TODAY, make_customer


def _open(engine, customer_id: int) -> int:
    with session_scope(engine, write=False) as s:
        return s.scalar(select(Customer.open_activities).where(Customer.id == customer_id))


def _kept(engine) -> list[tuple[int, int]]:
    with session_scope(engine, write=False) as s:
        return s.execute(select(Customer.id, Customer.open_activities).order_by(Customer.id)).all()


def _refreshed(engine) -> list[tuple[int, int]]:
    """What ``refresh`` computes from the activities, read inside its transaction and rolled back."""
    with engine.connect() as conn:
        trans = conn.begin()
        customer_facts.refresh(conn)
        rows = conn.execute(select(Customer.id, Customer.open_activities).order_by(Customer.id)).all()
        trans.rollback()
    return rows


def _plan(engine, actor, cid: int, hours: int = 3) -> int:
    with session_scope(engine) as s:
        return log_activity(s, actor, data={"kind": "call", "customer_id": cid,
                                            "planned_at": NOW + timedelta(hours=hours)}, now=NOW).id


def test_open_activities_follow_the_activity_service_and_the_agenda(engine, org):
    """A planned activity takes the customer's follow-up off the agenda (the activity is the
    follow-up); completing it puts the customer's next contact date back on."""
    cid = make_customer(engine, org.rep_n1, next_contact_on=TODAY)
    with session_scope(engine, write=False) as s:
        today = agenda(s, org.rep_n1, today=TODAY)["today"]
    assert list(today["item"]) == ["follow_up"] and _open(engine, cid) == 0
    first = _plan(engine, org.rep_n1, cid)
    _plan(engine, org.rep_n1, cid, hours=5)
    with session_scope(engine) as s:  # a done activity is not open
        log_activity(s, org.rep_n1, data={"kind": "visit", "customer_id": cid, "done_at": NOW - timedelta(hours=1),
                                           "outcome": "met", "next_contact_on": TODAY}, now=NOW)
    assert _open(engine, cid) == 2
    with session_scope(engine, write=False) as s:
        today = agenda(s, org.rep_n1, today=TODAY)["today"]
    assert list(today["item"]) == ["activity", "activity"] and today.attrs["total"] == 2
    with session_scope(engine) as s:
        complete_activity(s, org.rep_n1, activity_id=first, outcome="ok", next_contact_on=TODAY, now=NOW)
    assert _open(engine, cid) == 1
    assert _kept(engine) == _refreshed(engine)


def test_the_agenda_repeats_the_partial_indexes_condition():
    """The follow-up terms compile to the partial indexes' very condition on both databases
    (else the planners would no longer pick the indexes: the agenda stays right, only slow)."""
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        sql = str(and_(*customer_facts.follow_up_due()).compile(dialect=dialect))
        assert sql.replace("customer.", "") == FOLLOW_UP_DUE


def test_open_activities_kept_for_other_writers(engine, org):
    """Rows written without the service — inserted, moved to another customer, reopened,
    deleted — keep both customers' counts."""
    a = make_customer(engine, org.rep_n1, name="A")
    b = make_customer(engine, org.rep_n1, name="B")
    with session_scope(engine) as s:
        ids = [s.execute(insert(Activity).values(kind="call", customer_id=a, owner_id=org.rep_n1.id,
                                                 planned_at=NOW + timedelta(hours=i), created_at=NOW)
                         .returning(Activity.id)).scalar_one() for i in range(3)]
        s.execute(insert(Activity).values(kind="call", customer_id=a, owner_id=org.rep_n1.id, done_at=NOW,
                                          created_at=NOW))
    assert (_open(engine, a), _open(engine, b)) == (3, 0)
    with session_scope(engine) as s:
        s.execute(update(Activity).where(Activity.id.in_(ids[:2])).values(customer_id=b))  # moved to B
        s.execute(update(Activity).where(Activity.id == ids[2]).values(notes="no change to the count"))
    assert (_open(engine, a), _open(engine, b)) == (1, 2)
    with session_scope(engine) as s:
        s.execute(update(Activity).where(Activity.id == ids[0]).values(done_at=NOW))  # done
        s.execute(update(Activity).where(Activity.id == ids[2]).values(done_at=NOW, customer_id=b))  # both at once
    assert (_open(engine, a), _open(engine, b)) == (0, 1)
    with session_scope(engine) as s:
        s.execute(update(Activity).where(Activity.id == ids[0]).values(done_at=None))  # reopened
        s.execute(delete(Activity).where(Activity.id == ids[1]))
    assert (_open(engine, a), _open(engine, b)) == (0, 1)
    assert _kept(engine) == _refreshed(engine)


def test_open_activities_kept_while_eight_writers_plan_and_complete_for_one_customer(engine, org):
    """Eight writers at once on one customer, each in its own transaction: four plan an
    activity, four complete one planned before — every change counts, none is lost."""
    cid = make_customer(engine, org.rep_n1, next_contact_on=TODAY)
    planned = [_plan(engine, org.rep_n1, cid, hours=i + 1) for i in range(4)]
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            with session_scope(engine) as s:
                if i < 4:
                    log_activity(s, org.rep_n1, data={"kind": "visit", "customer_id": cid,
                                                       "planned_at": NOW + timedelta(days=1, hours=i)}, now=NOW)
                else:
                    complete_activity(s, org.rep_n1, activity_id=planned[i - 4], outcome="ok",
                                      next_contact_on=TODAY + timedelta(days=7), now=NOW)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert _open(engine, cid) == 4
    assert _kept(engine) == _refreshed(engine)


def test_migration_counts_the_open_activities_of_existing_customers_and_goes_back(own_engine):
    engine = own_engine
    org = build_org(engine)
    a = make_customer(engine, org.rep_n1, name="A")
    make_customer(engine, org.rep_n1, name="B")
    _plan(engine, org.rep_n1, a)
    _plan(engine, org.rep_n1, a, hours=4)
    kept = _kept(engine)
    assert dict(kept)[a] == 2
    downgrade_to(engine, "0015")
    assert "open_activities" not in {c["name"] for c in inspect(engine).get_columns("customer")}
    migrate(engine)
    assert _kept(engine) == kept
    _plan(engine, org.rep_n1, a, hours=6)  # the triggers are back
    assert _open(engine, a) == 3
