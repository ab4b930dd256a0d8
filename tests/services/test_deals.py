"""Deals: create / update / move rules, history rows, optimistic locking, the pipeline
board and access — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from services.activities import log_activity
from services.db import session_scope
from services.deals import (
    create_deal,
    deal_history,
    get_deal,
    list_customer_deals,
    list_deals,
    move_deal,
    pipeline_board,
    reopen_deal,
    update_deal,
)
from services.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from services.models import Activity, AuditLog, Deal, DealHistory, LostReason, Product
from tests.services.test_activities import NOW, TODAY, make_customer, make_deal


def history_rows(engine, deal_id=None):
    with session_scope(engine) as s:
        stmt = select(DealHistory.field, DealHistory.old_value, DealHistory.new_value, DealHistory.changed_by)
        if deal_id:
            stmt = stmt.where(DealHistory.deal_id == deal_id)
        return [tuple(r) for r in s.execute(stmt.order_by(DealHistory.id)).all()]


def deal_count(engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(Deal))


def lost_reason(engine, name="Price") -> int:
    with session_scope(engine) as s:
        r = LostReason(name=name)
        s.add(r)
        s.flush()
        return r.id


def test_create_deal_defaults_probability_and_writes_history(engine, org):
    cid = make_customer(engine, org.rep_n1)
    with session_scope(engine) as s:
        p = Product(name="Widget", list_price=Decimal("10"))
        s.add(p)
        s.flush()
        pid = p.id
    with session_scope(engine) as s:
        d = create_deal(s, org.rep_n1, data={"name": "  Big one ", "customer_id": cid, "stage_id": org.stages["Proposal"],
                                              "amount": "25000.50", "product_id": pid,
                                              "expected_close": TODAY + timedelta(days=30)}, now=NOW)
    assert d.name == "Big one" and d.owner_id == org.rep_n1.id
    assert d.probability == 50 and d.amount == Decimal("25000.50") and d.opened_on == TODAY
    assert history_rows(engine, d.id) == [("stage", None, str(org.stages["Proposal"]), org.rep_n1.id)]
    with session_scope(engine) as s:
        explicit = create_deal(s, org.rep_n1, data={"name": "x", "customer_id": cid, "stage_id": org.stages["Proposal"],
                                                     "probability": 30}, now=NOW)
    assert explicit.probability == 30 and explicit.amount is None  # early stage: amount may be empty


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "100000000000.01"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"probability": 120}, "probability"),
        ({"name": "  "}, "name"),
        ({"expected_close": date(2026, 9, 1), "opened_on": date(2026, 10, 1)}, "expected_close"),
        ({"stage_id": None}, "stage_id"),
        ({"stage_id": "Won"}, "stage_id"),
        ({"product_id": 9999}, "product_id"),
    ],
)
def test_create_rejects_bad_input(engine, org, change, field):
    cid = make_customer(engine, org.rep_n1)
    data = {"name": "D", "customer_id": cid, "stage_id": org.stages["Qualify"], "amount": "100"}
    if change.get("stage_id") == "Won":
        change = {"stage_id": org.stages["Won"]}
    data.update(change)
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        create_deal(s, org.rep_n1, data=data, now=NOW)
    assert exc.value.errors.get(field)
    assert deal_count(engine) == 0


def test_create_access(engine, org):
    theirs = make_customer(engine, org.rep_n2)
    mine = make_customer(engine, org.rep_n1)
    with session_scope(engine) as s, pytest.raises(NotFound):
        create_deal(s, org.rep_n1, data={"name": "D", "customer_id": theirs, "stage_id": org.stages["Qualify"]})
    with session_scope(engine) as s, pytest.raises(PermissionDenied):
        create_deal(s, org.rep_n1, data={"name": "D", "customer_id": mine, "stage_id": org.stages["Qualify"],
                                         "owner_id": org.rep_n2.id})
    assert deal_count(engine) == 0


def test_update_writes_history_and_detects_conflicts(engine, org):
    cid = make_customer(engine, org.rep_n1)
    did = make_deal(engine, org, org.rep_n1, cid, expected_close=date(2026, 12, 15))
    with session_scope(engine) as s:
        d = update_deal(s, org.manager_n, deal_id=did, version=1,
                        changes={"amount": "2000", "expected_close": date(2027, 1, 31), "owner_id": org.rep_n2.id,
                                 "next_step": "call CFO"}, now=NOW)
    assert d.version == 2 and d.owner_id == org.rep_n2.id
    assert sorted(history_rows(engine, did)) == sorted([
        ("amount", "1000.00", "2000.00", org.manager_n.id),
        ("expected_close", "2026-12-15", "2027-01-31", org.manager_n.id),
        ("owner", str(org.rep_n1.id), str(org.rep_n2.id), org.manager_n.id),
    ])
    with session_scope(engine) as s, pytest.raises(ConflictError) as exc:
        update_deal(s, org.manager_n, deal_id=did, version=1, changes={"amount": "3000"})
    assert exc.value.conflicts[did]["amount"] == (Decimal("2000.00"), Decimal("3000.00"))
    with session_scope(engine) as s:
        labels = deal_history(s, org.manager_n, deal_id=did)
        owner_row = labels[labels["field"] == "owner"].iloc[0]
        assert (owner_row["old_label"], owner_row["new_label"]) == ("Rep_N1", "Rep_N2")


def test_update_rejects_and_writes_nothing(engine, org):
    cid = make_customer(engine, org.rep_n1)
    did = make_deal(engine, org, org.rep_n1, cid)
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        update_deal(s, org.rep_n1, deal_id=did, version=1,
                    changes={"amount": "-5", "expected_close": date(2026, 1, 1)})
    assert "amount" in exc.value.errors
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        update_deal(s, org.rep_n1, deal_id=did, version=1, changes={"expected_close": date(2026, 1, 1)})
    assert "expected_close" in exc.value.errors
    with session_scope(engine) as s, pytest.raises(NotFound):
        update_deal(s, org.rep_n2, deal_id=did, version=1, changes={"amount": "5"})
    assert history_rows(engine, did) == []
    with session_scope(engine) as s:
        assert s.get(Deal, did).version == 1


def test_move_through_stages_to_won(engine, org):
    cid = make_customer(engine, org.rep_n1)
    did = make_deal(engine, org, org.rep_n1, cid)
    with session_scope(engine) as s:
        r = move_deal(s, org.rep_n1, deal_id=did, stage_id=org.stages["Negotiation"], version=1, now=NOW)
    assert r.deal.probability == 75 and not r.offer_contract
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        move_deal(s, org.rep_n1, deal_id=did, stage_id=org.stages["Won"], version=2, now=NOW)
    assert set(exc.value.errors) == {"final_amount", "closed_on"}
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        move_deal(s, org.rep_n1, deal_id=did, stage_id=org.stages["Won"], version=2, final_amount="900",
                  closed_on=date(2026, 9, 30), now=NOW)
    assert "closed_on" in exc.value.errors  # before the deal opened (2026-10-01)
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        move_deal(s, org.rep_n1, deal_id=did, stage_id=org.stages["Won"], version=2, final_amount="-900",
                  closed_on=TODAY, now=NOW)
    assert "final_amount" in exc.value.errors
    with session_scope(engine) as s:
        r = move_deal(s, org.rep_n1, deal_id=did, stage_id=org.stages["Won"], version=2, final_amount="950",
                      closed_on=TODAY, now=NOW)
    assert r.offer_contract and r.hint and r.deal.closed_on == TODAY and r.deal.probability == 100
    assert history_rows(engine, did) == [
        ("stage", str(org.stages["Qualify"]), str(org.stages["Negotiation"]), org.rep_n1.id),
        ("stage", str(org.stages["Negotiation"]), str(org.stages["Won"]), org.rep_n1.id),
        ("amount", "1000.00", "950.00", org.rep_n1.id),
    ]
    # a closed deal cannot move without being reopened
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        move_deal(s, org.rep_n1, deal_id=did, stage_id=org.stages["Proposal"], version=3, now=NOW)
    assert "stage_id" in exc.value.errors
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        update_deal(s, org.rep_n1, deal_id=did, version=3, changes={"amount": "5"})
    assert "amount" in exc.value.errors
    assert len(history_rows(engine, did)) == 3
    with session_scope(engine) as s:
        back = reopen_deal(s, org.rep_n1, deal_id=did, version=3, now=NOW)
    assert back.stage_id == org.stages["Negotiation"] and back.closed_on is None
    with session_scope(engine) as s:
        move_deal(s, org.rep_n1, deal_id=did, stage_id=org.stages["Proposal"], version=4, now=NOW)


def test_lost_requires_reason(engine, org):
    cid = make_customer(engine, org.rep_n1)
    did = make_deal(engine, org, org.rep_n1, cid)
    reason = lost_reason(engine)
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        move_deal(s, org.rep_n1, deal_id=did, stage_id=org.stages["Lost"], version=1, now=NOW)
    assert "lost_reason_id" in exc.value.errors
    assert history_rows(engine, did) == []
    with session_scope(engine) as s:
        r = move_deal(s, org.rep_n1, deal_id=did, stage_id=org.stages["Lost"], version=1,
                      lost_reason_id=reason, lost_note="too expensive", now=NOW)
    assert r.deal.lost_reason_id == reason and r.deal.closed_on == TODAY and r.deal.probability == 0


def test_move_access_and_version(engine, org):
    cid = make_customer(engine, org.rep_n1)
    did = make_deal(engine, org, org.rep_n1, cid)
    with session_scope(engine) as s, pytest.raises(NotFound):
        move_deal(s, org.rep_n2, deal_id=did, stage_id=org.stages["Needs"], version=1)
    with session_scope(engine) as s, pytest.raises(NotFound):
        move_deal(s, org.manager_s, deal_id=did, stage_id=org.stages["Needs"], version=1)
    with session_scope(engine) as s, pytest.raises(NotFound):
        get_deal(s, org.rep_n2, deal_id=did)
    with session_scope(engine) as s, pytest.raises(ConflictError):
        move_deal(s, org.rep_n1, deal_id=did, stage_id=org.stages["Needs"], version=7)
    with session_scope(engine) as s:
        move_deal(s, org.manager_n, deal_id=did, stage_id=org.stages["Needs"], version=1)
    with session_scope(engine) as s:
        assert list_customer_deals(s, org.rep_n1, customer_id=cid)["stage_name"].tolist() == ["Needs"]
        with pytest.raises(NotFound):
            list_customer_deals(s, org.rep_n2, customer_id=cid)
        moves = s.scalars(select(AuditLog.action).where(AuditLog.entity == "deal")).all()
        assert moves == ["move"]


def test_demo_logged_as_activity_of_the_deal(engine, org):
    cid = make_customer(engine, org.rep_n1)
    did = make_deal(engine, org, org.rep_n1, cid)
    with session_scope(engine) as s:
        log_activity(s, org.rep_n1, data={"kind": "demo", "customer_id": cid, "deal_id": did,
                                           "done_at": NOW, "next_contact_on": TODAY}, now=NOW)
    with session_scope(engine) as s:
        assert s.scalar(select(Activity.kind).where(Activity.deal_id == did)) == "demo"
        assert s.get(Deal, did).last_activity_at == NOW


def test_deal_list_pages_and_counts_with_its_filters(engine, org):
    """A page of the deal list says how many match in all, with a status, a search (deal or
    customer name) and a rep; a rep counts only their own."""
    acme = make_customer(engine, org.rep_n1, name="Acme")
    other = make_customer(engine, org.rep_n2, name="Other")
    for i in range(3):
        make_deal(engine, org, org.rep_n1, acme, name=f"Open {i}", amount=Decimal("10"))
    make_deal(engine, org, org.rep_n1, acme, name="Big win", stage="Won", amount=Decimal("99"))
    make_deal(engine, org, org.rep_n2, other, name="Acme expansion", amount=Decimal("5"))
    make_deal(engine, org, org.rep_n2, other, name="Second", amount=Decimal("5"))
    make_deal(engine, org, org.rep_s1, make_customer(engine, org.rep_s1, name="South"), name="South one")
    with session_scope(engine) as s:
        def total(actor, **kw):
            page = list_deals(s, actor, limit=1, **kw)
            assert len(page) == 1
            return page.attrs["total"]

        assert total(org.manager_n) == 6
        assert total(org.director) == 7
        assert total(org.manager_n, status="open") == 5
        assert total(org.manager_n, search="acme") == 5  # four deals of customer Acme, one named "Acme …"
        assert total(org.manager_n, status="open", search="ACME") == 4
        assert total(org.manager_n, owner_id=org.rep_n2.id) == 2
        assert total(org.rep_n1) == 4
        assert list(list_deals(s, org.rep_n1, status="won")["name"]) == ["Big win"]


def test_pipeline_board_counts_sums_and_stall_flags(engine, org):
    c1 = make_customer(engine, org.rep_n1)
    c2 = make_customer(engine, org.rep_n2, name="Two")
    c3 = make_customer(engine, org.rep_s1, name="South")
    fresh = make_deal(engine, org, org.rep_n1, c1, amount=Decimal("100"), last_activity_at=NOW - timedelta(days=2))
    quiet = make_deal(engine, org, org.rep_n1, c1, amount=Decimal("300"), last_activity_at=NOW - timedelta(days=20))
    late = make_deal(engine, org, org.rep_n2, c2, stage="Proposal", amount=Decimal("50"),
                     last_activity_at=NOW - timedelta(days=1), expected_close=TODAY - timedelta(days=1))
    make_deal(engine, org, org.rep_s1, c3, amount=Decimal("7"))
    make_deal(engine, org, org.rep_n1, c1, stage="Won", amount=Decimal("999"))
    with session_scope(engine) as s:
        board = pipeline_board(s, org.manager_n, today=TODAY, now=NOW)
        cols = {c.name: c for c in board.columns}
        assert list(cols) == ["Qualify", "Needs", "Proposal", "Negotiation"]
        assert (cols["Qualify"].count, cols["Qualify"].amount, cols["Qualify"].stalled) == (2, Decimal("400"), 1)
        cards = cols["Qualify"].cards.set_index("id")
        assert not cards.loc[fresh, "stalled"] and cards.loc[quiet, "stalled"]
        assert cards.loc[quiet, "stall_reason"] == "no_activity" and cards.loc[quiet, "days_in_stage"] == 10
        assert cols["Proposal"].cards.set_index("id").loc[late, "stall_reason"] == "expected_close_passed"
        assert board.total_count == 3 and board.total_amount == Decimal("450")
        rep = pipeline_board(s, org.rep_n1, today=TODAY, now=NOW)
        assert rep.total_count == 2
        assert pipeline_board(s, org.director, today=TODAY, now=NOW).total_count == 4
        only = pipeline_board(s, org.manager_n, owner_id=org.rep_n2.id, today=TODAY, now=NOW)
        assert only.total_count == 1
        with pytest.raises(PermissionDenied):
            pipeline_board(s, org.rep_n1, owner_id=org.rep_n2.id, today=TODAY, now=NOW)
        limited = pipeline_board(s, org.manager_n, today=TODAY, now=NOW, cards_per_stage=1)
        assert limited.columns[0].cards["id"].tolist() == [quiet]  # largest first
