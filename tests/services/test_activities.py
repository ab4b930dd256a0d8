"""Activities: logging rules, effects on customer and deal, agenda, calendar, forgotten
customers, timeline and access — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from services import settings
from services.activities import (
    agenda,
    complete_activity,
    forgotten_customers,
    list_customer_activities,
    log_activity,
    week_calendar,
)
from services.db import session_scope
from services.errors import NotFound, PermissionDenied, ValidationError
from services.models import Activity, AuditLog, Contact, Customer, Deal

# Frozen clock: Friday 2026-11-27 10:00 Asia/Shanghai (the default company zone).
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)


def make_customer(engine, owner, name="Acme Ltd", **kw) -> int:
    with session_scope(engine) as s:
        c = Customer(name=name, name_norm=name.lower(), owner_id=owner.id if owner else None,
                     created_at=kw.pop("created_at", NOW - timedelta(days=400)), **kw)
        s.add(c)
        s.flush()
        return c.id


def make_deal(engine, org, owner, customer_id, stage="Qualify", **kw) -> int:
    with session_scope(engine) as s:
        d = Deal(name=kw.pop("name", "Deal"), customer_id=customer_id, owner_id=owner.id,
                 stage_id=org.stages[stage], amount=kw.pop("amount", Decimal("1000")),
                 opened_on=kw.pop("opened_on", date(2026, 10, 1)), created_at=NOW - timedelta(days=30),
                 stage_changed_at=NOW - timedelta(days=10), **kw)
        s.add(d)
        s.flush()
        return d.id


def count(engine, model) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(model))


def done_call(cid, **kw):
    data = {"kind": "call", "customer_id": cid, "done_at": NOW - timedelta(hours=1),
            "outcome": "Talked to buyer", "next_contact_on": TODAY + timedelta(days=3)}
    data.update(kw)
    return data


def test_log_done_activity_updates_customer_and_deal(engine, org):
    cid = make_customer(engine, org.rep_n1)
    did = make_deal(engine, org, org.rep_n1, cid)
    with session_scope(engine) as s:
        read = log_activity(s, org.rep_n1, data=done_call(cid, deal_id=did, next_step="Send quote"), now=NOW)
    assert read.id and read.owner_id == org.rep_n1.id
    with session_scope(engine) as s:
        c = s.get(Customer, cid)
        d = s.get(Deal, did)
        assert c.last_contact_at == NOW - timedelta(hours=1)
        assert c.next_contact_on == TODAY + timedelta(days=3)
        assert d.next_step == "Send quote"
        assert d.last_activity_at == NOW - timedelta(hours=1)
        assert d.version == 2
        audit = s.scalars(select(AuditLog).where(AuditLog.entity == "activity")).all()
        assert [a.action for a in audit] == ["create"]


def test_older_activity_does_not_move_last_contact_back(engine, org):
    cid = make_customer(engine, org.rep_n1, last_contact_at=NOW - timedelta(days=1))
    with session_scope(engine) as s:
        log_activity(s, org.rep_n1, data=done_call(cid, done_at=NOW - timedelta(days=5),
                                                   next_contact_on=TODAY), now=NOW)
    with session_scope(engine) as s:
        assert s.get(Customer, cid).last_contact_at == NOW - timedelta(days=1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "fax"}, "kind"),
        ({"duration_minutes": -5}, "duration_minutes"),
        ({"duration_minutes": 5000}, "duration_minutes"),
        ({"next_contact_on": None}, "next_contact_on"),
        ({"next_contact_on": TODAY - timedelta(days=2)}, "next_contact_on"),
        ({"done_at": NOW + timedelta(days=1)}, "done_at"),
        ({"outcome": "x" * 301}, "outcome"),
        ({"customer_id": None}, "customer_id"),
    ],
)
def test_bad_input_is_rejected_with_field_message(engine, org, change, field):
    cid = make_customer(engine, org.rep_n1)
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        log_activity(s, org.rep_n1, data=done_call(cid, **change), now=NOW)
    assert field in exc.value.errors and exc.value.errors[field]
    assert count(engine, Activity) == 0


def test_next_contact_setting_can_be_relaxed(engine, org):
    cid = make_customer(engine, org.rep_n1)
    with session_scope(engine) as s:
        settings.put(s, "activity_next_contact_required", False)
    with session_scope(engine) as s:
        log_activity(s, org.rep_n1, data=done_call(cid, next_contact_on=None), now=NOW)
    assert count(engine, Activity) == 1


def test_planned_activity_needs_no_next_contact(engine, org):
    cid = make_customer(engine, org.rep_n1)
    with session_scope(engine) as s:
        read = log_activity(s, org.rep_n1, data={"kind": "visit", "customer_id": cid,
                                                  "planned_at": NOW + timedelta(days=1)}, now=NOW)
    assert read.done_at is None
    with session_scope(engine) as s:
        assert s.get(Customer, cid).last_contact_at is None


def test_activity_for_invisible_customer_is_rejected(engine, org):
    other = make_customer(engine, org.rep_n2, name="Not yours")
    pool = make_customer(engine, None, name="Pool Co")
    with session_scope(engine) as s, pytest.raises(NotFound) as exc:
        log_activity(s, org.rep_n1, data=done_call(other), now=NOW)
    assert "customer_id" in exc.value.errors  # field message for the form
    with session_scope(engine) as s, pytest.raises(PermissionDenied) as exc:
        log_activity(s, org.rep_n1, data=done_call(pool), now=NOW)
    assert "customer_id" in exc.value.errors
    with session_scope(engine) as s, pytest.raises(NotFound):
        log_activity(s, org.manager_s, data=done_call(other), now=NOW)
    assert count(engine, Activity) == 0
    # the rep's manager may log on it
    with session_scope(engine) as s:
        log_activity(s, org.manager_n, data=done_call(other, owner_id=org.manager_n.id), now=NOW)


def test_rep_cannot_log_on_another_reps_deal_or_for_another_owner(engine, org):
    mine = make_customer(engine, org.rep_n1)
    theirs = make_customer(engine, org.rep_n2)
    their_deal = make_deal(engine, org, org.rep_n2, theirs)
    other_deal_same_owner = make_deal(engine, org, org.rep_n1, make_customer(engine, org.rep_n1, name="B"))
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        log_activity(s, org.rep_n1, data=done_call(mine, deal_id=their_deal), now=NOW)
    assert "deal_id" in exc.value.errors
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        log_activity(s, org.rep_n1, data=done_call(mine, deal_id=other_deal_same_owner), now=NOW)
    assert "deal_id" in exc.value.errors
    with session_scope(engine) as s, pytest.raises(PermissionDenied) as exc:
        log_activity(s, org.rep_n1, data=done_call(mine, owner_id=org.rep_n2.id), now=NOW)
    assert "owner_id" in exc.value.errors
    assert count(engine, Activity) == 0


def test_contact_must_belong_to_customer(engine, org):
    mine = make_customer(engine, org.rep_n1)
    other = make_customer(engine, org.rep_n1, name="Other")
    with session_scope(engine) as s:
        contact = Contact(customer_id=other, name="Li Lei")
        s.add(contact)
        s.flush()
        contact_id = contact.id
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        log_activity(s, org.rep_n1, data=done_call(mine, contact_id=contact_id), now=NOW)
    assert "contact_id" in exc.value.errors


def test_complete_planned_activity(engine, org):
    cid = make_customer(engine, org.rep_n1)
    with session_scope(engine) as s:
        planned = log_activity(s, org.rep_n1, data={"kind": "visit", "customer_id": cid,
                                                     "planned_at": NOW - timedelta(hours=2)}, now=NOW)
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        complete_activity(s, org.rep_n1, activity_id=planned.id, outcome="ok", next_contact_on=None, now=NOW)
    assert "next_contact_on" in exc.value.errors
    with session_scope(engine) as s, pytest.raises(NotFound):
        complete_activity(s, org.rep_n2, activity_id=planned.id, outcome="ok",
                          next_contact_on=TODAY + timedelta(days=7), now=NOW)
    with session_scope(engine) as s:
        done = complete_activity(s, org.rep_n1, activity_id=planned.id, outcome="Signed NDA",
                                 next_contact_on=TODAY + timedelta(days=7), now=NOW)
    assert done.done_at == NOW and done.outcome == "Signed NDA"
    with session_scope(engine) as s:
        c = s.get(Customer, cid)
        assert c.last_contact_at == NOW and c.next_contact_on == TODAY + timedelta(days=7)
    with session_scope(engine) as s, pytest.raises(ValidationError):
        complete_activity(s, org.rep_n1, activity_id=planned.id, outcome="again",
                          next_contact_on=TODAY + timedelta(days=7), now=NOW)


def test_agenda_buckets_and_team_filter(engine, org):
    a = make_customer(engine, org.rep_n1, name="A")
    b = make_customer(engine, org.rep_n1, name="B", next_contact_on=TODAY - timedelta(days=2))
    c = make_customer(engine, org.rep_n2, name="C", next_contact_on=TODAY)
    make_customer(engine, org.rep_s1, name="D", next_contact_on=TODAY)
    with session_scope(engine) as s:
        # 2026-11-27 is a Friday: this week = Sat 28 and Sun 29
        log_activity(s, org.rep_n1, data={"kind": "call", "customer_id": a, "planned_at": NOW + timedelta(hours=3)})
        log_activity(s, org.rep_n1, data={"kind": "visit", "customer_id": a,
                                           "planned_at": NOW + timedelta(days=1)}, now=NOW)
        log_activity(s, org.rep_n1, data={"kind": "visit", "customer_id": a,
                                           "planned_at": NOW + timedelta(days=3)}, now=NOW)  # next week
        log_activity(s, org.rep_n1, data={"kind": "email", "customer_id": a,
                                           "planned_at": NOW - timedelta(days=3)}, now=NOW)
    with session_scope(engine) as s:
        mine = agenda(s, org.rep_n1, today=TODAY)
        assert len(mine["today"]) == 1 and mine["today"].iloc[0]["kind"] == "call"
        assert len(mine["this_week"]) == 1 and mine["this_week"].iloc[0]["kind"] == "visit"
        assert set(mine["overdue"]["item"]) == {"activity", "follow_up"}
        assert mine["overdue"].attrs["total"] == 2
        assert set(mine["overdue"]["customer_id"]) == {a, b}
        team = agenda(s, org.manager_n, today=TODAY)
        assert set(team["today"]["customer_id"]) == {a, c}  # not rep_s1's customer D
        only_n2 = agenda(s, org.manager_n, today=TODAY, owner_id=org.rep_n2.id)
        assert list(only_n2["today"]["customer_id"]) == [c]
        with pytest.raises(PermissionDenied):
            agenda(s, org.manager_n, today=TODAY, owner_id=org.rep_s1.id)
        with pytest.raises(PermissionDenied):
            agenda(s, org.rep_n1, today=TODAY, owner_id=org.rep_n2.id)


def test_week_calendar(engine, org):
    a = make_customer(engine, org.rep_n1)
    with session_scope(engine) as s:
        log_activity(s, org.rep_n1, data=done_call(a, done_at=NOW - timedelta(days=1)), now=NOW)
        log_activity(s, org.rep_n1, data={"kind": "visit", "customer_id": a, "planned_at": NOW + timedelta(days=1)})
        log_activity(s, org.rep_n1, data={"kind": "visit", "customer_id": a, "planned_at": NOW + timedelta(days=5)})
    with session_scope(engine) as s:
        cal = week_calendar(s, org.rep_n1, week_start=date(2026, 11, 23))
        assert list(cal["status"]) == ["done", "planned"]
        assert list(cal["day"]) == [date(2026, 11, 26), date(2026, 11, 28)]
        assert week_calendar(s, org.rep_n2, week_start=date(2026, 11, 23)).empty


def test_week_calendar_interleaves_done_and_planned_and_counts_past_the_limit(engine, org):
    """Done and planned activities in one time order; with a small limit the first rows of the
    week are shown, whichever kind they are, and the total counts the whole week."""
    a = make_customer(engine, org.rep_n1)
    monday = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    with session_scope(engine) as s:
        for h in (0, 2, 4, 6):  # done at 09:00, 11:00, 13:00, 15:00 on Monday
            log_activity(s, org.rep_n1, data=done_call(a, done_at=monday + timedelta(hours=h)), now=NOW)
        for h in (1, 3, 30):  # planned 10:00, 12:00 Monday and 15:00 Tuesday
            log_activity(s, org.rep_n1, data={"kind": "visit", "customer_id": a,
                                              "planned_at": monday + timedelta(hours=h)})
    with session_scope(engine) as s:
        full = week_calendar(s, org.rep_n1, week_start=date(2026, 11, 23))
        assert list(full["time"]) == ["09:00", "10:00", "11:00", "12:00", "13:00", "15:00", "15:00"]
        assert list(full["status"]) == ["done", "planned", "done", "planned", "done", "done", "planned"]
        assert full.attrs["total"] == 7
        for limit in (1, 2, 3, 4, 5):
            cal = week_calendar(s, org.rep_n1, week_start=date(2026, 11, 23), limit=limit)
            assert list(cal["id"]) == list(full["id"])[:limit] and cal.attrs["total"] == 7, limit


def test_forgotten_customer_buckets(engine, org):
    for days in (3, 10, 20, 100, 200):
        make_customer(engine, org.rep_n1, name=f"C{days}", last_contact_at=NOW - timedelta(days=days))
    make_customer(engine, org.rep_n1, name="Never", created_at=NOW - timedelta(days=40))
    make_customer(engine, org.rep_n2, name="Other", last_contact_at=NOW - timedelta(days=400))
    with session_scope(engine) as s:
        res = forgotten_customers(s, org.rep_n1, today=TODAY, bucket=30)
        assert res.counts == {7: 5, 15: 4, 30: 3, 90: 2, 180: 1}
        assert list(res.rows["name"]) == ["C200", "C100", "Never"]
        page2 = forgotten_customers(s, org.rep_n1, today=TODAY, bucket=7, page=1, page_size=2)
        assert list(page2.rows["name"]) == ["Never", "C20"]
        assert forgotten_customers(s, org.manager_n, today=TODAY, bucket=180).counts[180] == 2
        with pytest.raises(ValidationError):
            forgotten_customers(s, org.rep_n1, today=TODAY, bucket=8)


def test_customer_timeline_and_access(engine, org):
    a = make_customer(engine, org.rep_n1)
    with session_scope(engine) as s:
        log_activity(s, org.rep_n1, data=done_call(a, done_at=NOW - timedelta(days=2), outcome="first"), now=NOW)
        log_activity(s, org.rep_n1, data=done_call(a, outcome="second"), now=NOW)
    with session_scope(engine) as s:
        tl = list_customer_activities(s, org.rep_n1, customer_id=a)
        assert list(tl["outcome"]) == ["second", "first"]
        assert len(list_customer_activities(s, org.manager_n, customer_id=a)) == 2
        with pytest.raises(NotFound):
            list_customer_activities(s, org.rep_n2, customer_id=a)
        with pytest.raises(NotFound):
            list_customer_activities(s, org.manager_s, customer_id=a)


def test_agenda_rows_name_who_to_call(engine, org):
    """A follow-up shows the customer's primary contact; a planned activity its own contact."""
    cid = make_customer(engine, org.rep_n1, name="Callme Co", next_contact_on=TODAY)
    other = make_customer(engine, org.rep_n1, name="Visit Co")
    with session_scope(engine) as s:
        s.add_all([Contact(customer_id=cid, name="Second", phone="111"),
                   Contact(customer_id=cid, name="Boss", phone="13800000001", is_primary=True)])
        buyer = Contact(customer_id=other, name="Buyer", phone="13900000002")
        s.add(buyer)
        s.flush()
        s.add(Activity(customer_id=other, owner_id=org.rep_n1.id, contact_id=buyer.id, kind="visit",
                       planned_at=NOW + timedelta(hours=1)))
    with session_scope(engine) as s:
        today = agenda(s, org.rep_n1, today=TODAY)["today"].set_index("customer_name")
    assert (today.loc["Callme Co", "contact_name"], today.loc["Callme Co", "contact_phone"]) == ("Boss", "13800000001")
    assert (today.loc["Visit Co", "contact_name"], today.loc["Visit Co", "contact_phone"]) == ("Buyer", "13900000002")


def test_customer_picker_in_the_grids_name_order(engine, org):
    """The log form's customer picker lists Chinese names in pinyin order (as the grid sorts
    them), only customers the actor may log on, narrowed by a fragment."""
    from services.activities import customer_choices
    from services.collation import name_sort_key

    for name in ("北京科技", "安徽贸易", "Zeta", "成都物流"):
        make_customer(engine, org.rep_n1, name=name, name_sort=name_sort_key(name))
    make_customer(engine, org.rep_s1, name="阿里南方", name_sort=name_sort_key("阿里南方"))
    with session_scope(engine) as s:
        assert [n for _i, n in customer_choices(s, org.rep_n1)] == ["安徽贸易", "北京科技", "成都物流", "Zeta"]
        assert [n for _i, n in customer_choices(s, org.director)][:2] == ["阿里南方", "安徽贸易"]
        assert [n for _i, n in customer_choices(s, org.rep_n1, search="科技")] == ["北京科技"]
