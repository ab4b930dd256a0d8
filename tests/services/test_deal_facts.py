"""The funnel's stage facts (services.deal_facts) are kept by the database with every deal and
stage-history row written — by the deal service, by another writer, out of time order, while
someone else writes the same deal — and equal what ``refresh`` recomputes from the history
(SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, inspect, select, update

from services import deal_facts
from services.db import migrate, session_scope
from services.deals import move_deal, reopen_deal, update_deal
from services.models import Deal, DealHistory
from tests.conftest import build_org, downgrade_to
from tests.services.analytics_data import build_deals
from tests.services.test_activities import NOW, make_customer, make_deal
from tests.services.test_deals import lost_reason


def _facts(engine, deal_id: int) -> tuple[set[int], str | None, list[tuple]]:
    """(stages reached, entered from, [(new value, days rounded to 0.01, opened on, owner)] in
    time order) of one deal."""
    with session_scope(engine) as s:
        reached, frm = s.execute(select(Deal.stages_reached, Deal.stage_entered_from).where(Deal.id == deal_id)).one()
        visits = s.execute(select(DealHistory.new_value, DealHistory.days, DealHistory.deal_opened_on,
                                  DealHistory.deal_owner_id)
                           .where(DealHistory.deal_id == deal_id, DealHistory.field == "stage")
                           .order_by(DealHistory.changed_at, DealHistory.id)).all()
    ids = {int(x) for x in reached.split(",") if x}
    return ids, frm, [(v, None if d is None else round(d, 2), o, w) for v, d, o, w in visits]


def _all_facts(engine) -> tuple[list, list]:
    with session_scope(engine) as s:
        deals = s.execute(select(Deal.id, Deal.stages_reached, Deal.stage_entered_from).order_by(Deal.id)).all()
        rows = s.execute(select(DealHistory.id, DealHistory.days, DealHistory.deal_opened_on, DealHistory.deal_owner_id)
                         .where(DealHistory.field == "stage").order_by(DealHistory.id)).all()
    return ([(i, sorted(int(x) for x in r.split(",") if x), f) for i, r, f in deals],
            [(i, None if d is None else round(d, 6), o, w) for i, d, o, w in rows])


def _refreshed(engine) -> tuple[list, list]:
    """What ``refresh`` computes from the history, read inside its transaction and rolled back."""
    with engine.connect() as conn:
        trans = conn.begin()
        deal_facts.refresh(conn)
        deals = conn.execute(select(Deal.id, Deal.stages_reached, Deal.stage_entered_from).order_by(Deal.id)).all()
        rows = conn.execute(select(DealHistory.id, DealHistory.days, DealHistory.deal_opened_on,
                                   DealHistory.deal_owner_id)
                            .where(DealHistory.field == "stage").order_by(DealHistory.id)).all()
        trans.rollback()
    return ([(i, sorted(int(x) for x in r.split(",") if x), f) for i, r, f in deals],
            [(i, None if d is None else round(d, 6), o, w) for i, d, o, w in rows])


def test_facts_follow_the_deal_service(engine, org):
    st = org.stages
    cid = make_customer(engine, org.rep_n1)
    did = make_deal(engine, org, org.rep_n1, cid)  # created in Qualify (its first stage row)
    reason = lost_reason(engine)
    t0 = NOW - timedelta(days=20)
    with session_scope(engine) as s:
        move_deal(s, org.rep_n1, deal_id=did, stage_id=st["Proposal"], version=1, now=t0)
    with session_scope(engine) as s:
        move_deal(s, org.rep_n1, deal_id=did, stage_id=st["Lost"], version=2, lost_reason_id=reason,
                  closed_on=(t0 + timedelta(days=3)).date(), now=t0 + timedelta(days=3))
    reached, frm, visits = _facts(engine, did)
    assert reached == {st["Qualify"], st["Proposal"], st["Lost"]}  # Needs skipped: not reached
    assert frm == str(st["Proposal"])  # lost from Proposal
    assert [v for v, *_ in visits] == [str(st["Proposal"]), str(st["Lost"])]  # Qualify: no row, current then
    assert visits[0][1] == 3.0 and visits[1][1] is None  # Proposal lasted 3 days; Lost still runs
    assert {(o, w) for _v, _d, o, w in visits} == {(date(2026, 10, 1), org.rep_n1.id)}

    with session_scope(engine) as s:  # reopened into Negotiation 2 days later, then handed over
        reopen_deal(s, org.rep_n1, deal_id=did, version=3, stage_id=st["Negotiation"], now=t0 + timedelta(days=5))
    with session_scope(engine) as s:
        update_deal(s, org.manager_n, deal_id=did, version=4, changes={"owner_id": org.rep_n2.id})
    reached, frm, visits = _facts(engine, did)
    assert reached == {st["Qualify"], st["Proposal"], st["Lost"], st["Negotiation"]}
    assert frm == str(st["Lost"])
    assert visits[1][1] == 2.0 and visits[2][1] is None
    assert {w for *_, w in visits} == {org.rep_n2.id}  # every visit follows the new owner
    assert _all_facts(engine) == _refreshed(engine)


def test_facts_kept_for_other_writers_and_out_of_order_history(engine, org):
    """A script or an import writes deals and history rows directly, an older row after a
    newer one, and moves the opening date."""
    st = org.stages
    cid = make_customer(engine, org.rep_n1)
    day = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        did = s.execute(insert(Deal).values(name="Direct", customer_id=cid, owner_id=org.rep_s1.id,
                                            stage_id=st["Negotiation"], probability=75, opened_on=date(2026, 10, 30))
                        .returning(Deal.id)).scalar_one()
        for new, at in ((st["Qualify"], day), (st["Negotiation"], day + timedelta(days=10))):
            s.execute(insert(DealHistory).values(deal_id=did, field="stage", new_value=str(new), changed_at=at))
        s.execute(insert(DealHistory).values(deal_id=did, field="amount", new_value="100", changed_at=day))
        s.execute(insert(DealHistory).values(deal_id=did, field="stage", new_value="not a stage",
                                             changed_at=day + timedelta(days=1)))
    with session_scope(engine) as s:  # the Needs row of day 4 arrives late
        s.execute(insert(DealHistory).values(deal_id=did, field="stage", old_value=str(st["Qualify"]),
                                             new_value=str(st["Needs"]), changed_at=day + timedelta(days=4)))
        s.execute(update(Deal).where(Deal.id == did).values(opened_on=date(2026, 10, 29)))
    reached, frm, visits = _facts(engine, did)
    assert reached == {st["Qualify"], st["Needs"], st["Negotiation"]}  # "not a stage" named no stage
    assert [(v, d) for v, d, _o, _w in visits] == [
        (str(st["Qualify"]), 1.0), ("not a stage", 3.0), (str(st["Needs"]), 6.0), (str(st["Negotiation"]), None)]
    assert {(o, w) for _v, _d, o, w in visits} == {(date(2026, 10, 29), org.rep_s1.id)}
    assert frm is None  # its row into Negotiation names no old value
    assert _all_facts(engine) == _refreshed(engine)


def test_facts_kept_while_six_writers_add_stage_rows_to_one_deal(engine, org):
    """Six writers each add a stage row to the same deal at once (each in its own
    transaction): every visit's length still runs to the next row, whoever committed first."""
    st = org.stages
    cid = make_customer(engine, org.rep_n1)
    did = make_deal(engine, org, org.rep_n1, cid)
    start = NOW - timedelta(days=30)
    stages = [st["Needs"], st["Proposal"], st["Negotiation"], st["Needs"], st["Proposal"], st["Negotiation"]]
    barrier = threading.Barrier(len(stages))
    errors: list[BaseException] = []

    def write(i: int, stage: int) -> None:
        try:
            barrier.wait(timeout=10)
            with session_scope(engine) as s:
                s.execute(insert(DealHistory).values(deal_id=did, field="stage", new_value=str(stage),
                                                     changed_at=start + timedelta(days=2 * i + 1)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i, sid)) for i, sid in enumerate(stages)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    _reached, _frm, visits = _facts(engine, did)
    days = [d for _v, d, _o, _w in visits]
    assert days[:-1] == [2.0] * (len(stages) - 1) and days[-1] is None
    assert _all_facts(engine) == _refreshed(engine)


def test_migration_fills_the_facts_of_existing_deals_and_goes_back(own_engine):
    """A company with deals upgrades to 0014: every existing deal and stage row gets the
    facts the triggers would have kept; a downgrade removes them cleanly."""
    engine = own_engine
    org = build_org(engine)
    build_deals(engine, org)
    kept = _all_facts(engine)
    assert any(len(reached) > 1 for _i, reached, _f in kept[0])
    downgrade_to(engine, "0013")
    cols = {c["name"] for c in inspect(engine).get_columns("deal")}
    assert "stages_reached" not in cols and "stage_entered_from" not in cols
    migrate(engine)
    assert _all_facts(engine) == kept
