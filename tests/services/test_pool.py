"""Public pool (公海) rules with a frozen clock: reclaim per tier, open-deal exemption,
rep cap, cooldown for the previous owner, idempotence — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services import customers as cs
from services import jobs, settings
from services.access import SYSTEM
from services.db import session_scope
from services.errors import NotFound, PermissionDenied, ValidationError
from services.models import AuditLog, Customer, Deal

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def add(engine, owner_id, name, *, tier="C", last_contact_days=None, created_days=400) -> int:
    with session_scope(engine) as s:
        c = Customer(
            name=name, name_norm=name.casefold(), owner_id=owner_id, tier=tier,
            created_at=NOW - timedelta(days=created_days),
            last_contact_at=None if last_contact_days is None else NOW - timedelta(days=last_contact_days),
        )
        s.add(c)
        s.flush()
        return c.id


def row(engine, cid) -> Customer:
    with session_scope(engine) as s:
        return s.get(Customer, cid)


def test_reclaim_per_tier_from_last_contact(engine, org):
    # defaults: A 60, B 30, C 15 days
    a_fresh = add(engine, org.rep_n1.id, "A fresh", tier="A", last_contact_days=59)
    a_stale = add(engine, org.rep_n1.id, "A stale", tier="A", last_contact_days=61)
    b_stale = add(engine, org.rep_n1.id, "B stale", tier="B", last_contact_days=31)
    c_fresh = add(engine, org.rep_n2.id, "C fresh", tier="C", last_contact_days=14)
    c_never = add(engine, org.rep_n2.id, "C never contacted, old", tier="C")
    c_new = add(engine, org.rep_n2.id, "C never contacted, new", tier="C", created_days=3)
    with session_scope(engine) as s:
        assert cs.reclaim_stale_customers(s, SYSTEM, now=NOW) == 3
    for cid in (a_stale, b_stale, c_never):
        r = row(engine, cid)
        assert r.owner_id is None and r.pool_entered_at == NOW and r.released_at == NOW and r.previous_owner_id
        assert r.version == 2
    for cid in (a_fresh, c_fresh, c_new):
        assert row(engine, cid).owner_id is not None
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "reclaim")) == 3
    # idempotent: the same instant again moves nothing and writes no audit rows
    with session_scope(engine) as s:
        assert cs.reclaim_stale_customers(s, SYSTEM, now=NOW) == 0
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "reclaim")) == 3


def test_reclaim_settings_zero_days_and_open_deal_exemption(engine, org):
    stale_with_deal = add(engine, org.rep_n1.id, "deal", tier="C", last_contact_days=100)
    stale_with_won_deal = add(engine, org.rep_n1.id, "won", tier="C", last_contact_days=100)
    stale_a = add(engine, org.rep_n1.id, "A", tier="A", last_contact_days=100)
    with session_scope(engine) as s:
        s.add(Deal(name="d1", customer_id=stale_with_deal, owner_id=org.rep_n1.id, stage_id=org.stages["Proposal"]))
        s.add(Deal(name="d2", customer_id=stale_with_won_deal, owner_id=org.rep_n1.id, stage_id=org.stages["Won"]))
        settings.put(s, "pool_reclaim_days", {"A": 0, "B": 30, "C": 15})
    with session_scope(engine) as s:
        assert cs.reclaim_stale_customers(s, now=NOW) == 1
    assert row(engine, stale_with_deal).owner_id == org.rep_n1.id
    assert row(engine, stale_with_won_deal).owner_id is None
    assert row(engine, stale_a).owner_id == org.rep_n1.id  # 0 days = never
    with session_scope(engine) as s:
        settings.put(s, "pool_exempt_open_deals", False)
    with session_scope(engine) as s:
        assert cs.reclaim_stale_customers(s, now=NOW) == 1
    assert row(engine, stale_with_deal).owner_id is None


def test_recent_claim_restarts_the_clock(engine, org):
    cid = add(engine, None, "old lead", tier="C", last_contact_days=200)
    with session_scope(engine) as s:
        cs.claim_from_pool(s, org.rep_n1, ids=[cid], now=NOW - timedelta(days=5))
    # the audit row is written at real time; freeze it to the claim instant
    with session_scope(engine) as s:
        for a in s.scalars(select(AuditLog).where(AuditLog.action == "claim")).all():
            a.at = NOW - timedelta(days=5)
    with session_scope(engine) as s:
        assert cs.reclaim_stale_customers(s, now=NOW) == 0
    with session_scope(engine) as s:
        assert cs.reclaim_stale_customers(s, now=NOW + timedelta(days=11)) == 1


def test_reclaim_is_admin_only_and_the_daily_job_runs_once_a_day(engine, org):
    add(engine, org.rep_n1.id, "stale", tier="C", last_contact_days=100)
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        cs.reclaim_stale_customers(s, org.manager_n, now=NOW)
    first = jobs.run_daily_jobs(engine, now=NOW)
    assert first["pool_reclaim"] == 1 and first["forecast_snapshot"] > 0  # the week's first snapshot
    assert first["planner_statistics"] is True
    add(engine, org.rep_n1.id, "stale 2", tier="C", last_contact_days=100)
    assert jobs.run_daily_jobs(engine, now=NOW + timedelta(hours=1)) == {}  # the same company day
    again = jobs.run_daily_jobs(engine, now=NOW + timedelta(days=7))
    assert again["pool_reclaim"] == 1 and again["forecast_snapshot"] == first["forecast_snapshot"]  # a new week


def test_daily_reclaim_works_in_batches(engine, org, monkeypatch):
    for i in range(7):
        add(engine, org.rep_n1.id, f"stale {i}", tier="C", last_contact_days=100)
    monkeypatch.setattr(jobs, "RECLAIM_BATCH", 3)
    assert jobs.reclaim_in_batches(engine, NOW) == 7
    with session_scope(engine) as s:
        moves = s.scalars(select(AuditLog.entity_id).where(AuditLog.action == "reclaim")).all()
        assert len(moves) == len(set(moves)) == 7  # each customer moved once
    assert jobs.reclaim_in_batches(engine, NOW) == 0  # idempotent


def test_customers_read_for_the_reclaim_are_checked_again_when_moved(engine, org):
    """The daily job reads the stale customers once and moves them in later transactions:
    one contacted, one handed to another rep and one given an open deal in between stay
    where they are; the untouched one moves."""
    ids = [add(engine, org.rep_n1.id, f"stale {i}", tier="C", last_contact_days=100) for i in range(4)]
    with session_scope(engine) as s:
        settings_on = settings.get(s, "pool_exempt_open_deals")
        found = cs.stale_customers(s, SYSTEM, now=NOW)
    assert sorted(c[0] for c in found) == sorted(ids)
    assert {(c[2], c[3]) for c in found} == {("C", 15)}
    with session_scope(engine) as s:
        s.get(Customer, ids[0]).last_contact_at = NOW - timedelta(days=1)
        s.get(Customer, ids[1]).owner_id = org.rep_n2.id
        s.add(Deal(name="new", customer_id=ids[2], owner_id=org.rep_n1.id, stage_id=org.stages["Proposal"]))
    with session_scope(engine) as s:
        moved = cs.reclaim_stale_customers(s, SYSTEM, now=NOW, candidates=found)
    owners = {cid: row(engine, cid).owner_id for cid in ids}
    assert owners[ids[0]] == org.rep_n1.id and owners[ids[1]] == org.rep_n2.id and owners[ids[3]] is None
    assert owners[ids[2]] == (org.rep_n1.id if settings_on else None)
    assert moved == (1 if settings_on else 2)


def test_release_and_claim_with_cooldown(engine, org):
    cid = add(engine, org.rep_n1.id, "Cool")
    with pytest.raises((NotFound, PermissionDenied)), session_scope(engine) as s:  # invisible to them
        cs.release_to_pool(s, org.rep_s1, ids=[cid])
    with session_scope(engine) as s:
        assert cs.release_to_pool(s, org.rep_n1, ids=[cid], now=NOW) == 1
    r = row(engine, cid)
    assert r.owner_id is None and r.previous_owner_id == org.rep_n1.id and r.released_at == NOW
    # default cooldown 7 days for the previous owner
    with pytest.raises(ValidationError) as exc, session_scope(engine) as s:
        cs.claim_from_pool(s, org.rep_n1, ids=[cid], now=NOW + timedelta(days=6))
    assert "owner_id" in exc.value.row_errors[cid]
    # another rep may claim at once
    with session_scope(engine) as s:
        assert cs.claim_from_pool(s, org.rep_s1, ids=[cid], now=NOW + timedelta(days=1)) == 1
    assert row(engine, cid).owner_id == org.rep_s1.id
    # claiming an owned customer is refused
    with pytest.raises((ValidationError, PermissionDenied, NotFound)), session_scope(engine) as s:
        cs.claim_from_pool(s, org.rep_n2, ids=[cid], now=NOW)


def test_previous_owner_may_claim_after_cooldown(engine, org):
    cid = add(engine, org.rep_n1.id, "Back")
    with session_scope(engine) as s:
        cs.release_to_pool(s, org.rep_n1, ids=[cid], now=NOW)
    with session_scope(engine) as s:
        assert cs.claim_from_pool(s, org.rep_n1, ids=[cid], now=NOW + timedelta(days=8)) == 1


def test_rep_cap_is_all_or_nothing(engine, org):
    with session_scope(engine) as s:
        settings.put(s, "pool_rep_cap", 3)
    add(engine, org.rep_n1.id, "own 1")
    add(engine, org.rep_n1.id, "own 2")
    p1, p2 = add(engine, None, "pool 1"), add(engine, None, "pool 2")
    with pytest.raises(ValidationError), session_scope(engine) as s:
        cs.claim_from_pool(s, org.rep_n1, ids=[p1, p2], now=NOW)
    assert row(engine, p1).owner_id is None and row(engine, p2).owner_id is None
    with session_scope(engine) as s:
        assert cs.claim_from_pool(s, org.rep_n1, ids=[p1], now=NOW) == 1
    # archived customers do not count against the cap
    with session_scope(engine) as s:
        cs.archive_customers(s, org.rep_n1, ids=[p1])
    with session_scope(engine) as s:
        assert cs.claim_from_pool(s, org.rep_n1, ids=[p2], now=NOW) == 1


def test_pool_rows_hide_private_details_from_reps_until_claimed(engine, org):
    with session_scope(engine) as s:
        s.add(Customer(name="Secretive", name_norm="secretive", phone="13800000000", email="a@b.com",
                       address="1 Road", notes="call after 5"))
    with session_scope(engine) as s:
        df, _ = cs.list_customers_page(s, org.rep_n1, filters=cs.CustomerFilter(in_pool=True))
        rec = df.iloc[0]
        assert rec["phone"] is None and rec["email"] is None and rec["address"] is None and rec["notes"] is None
        cid = int(rec["id"])
        cs.claim_from_pool(s, org.rep_n1, ids=[cid], now=NOW)
    with session_scope(engine) as s:
        assert cs.get_customer(s, org.rep_n1, customer_id=cid)["phone"] == "13800000000"
