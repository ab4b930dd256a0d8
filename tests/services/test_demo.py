"""The demo company: every table filled, consistent rows, deterministic per seed and day,
names in the chosen language — on SQLite and PostgreSQL (``tiny`` scale keeps it quick)."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlmodel import SQLModel

from services.db import make_engine, migrate, session_scope
from services.demo import DEMO_PASSWORD, TIER_RECLAIM, build_demo
from services.errors import ValidationError
from services.models import (
    Activity,
    Contract,
    Customer,
    Deal,
    DealHistory,
    Payment,
    PaymentPlan,
    Stage,
    Target,
    User,
)
from services.passwords import verify_password

TODAY = date(2026, 11, 27)


def build(engine, **kw):
    kw.setdefault("scale", "tiny")
    kw.setdefault("seed", 3)
    kw.setdefault("lang", "en")
    kw.setdefault("today", TODAY)
    return build_demo(engine, **kw)


def fresh_sqlite(tmp_path, name="demo.db"):
    eng = make_engine(f"sqlite:///{tmp_path / name}")
    migrate(eng)
    return eng


def snapshot(engine) -> dict:
    """What a user would see differ between two builds: names, amounts, dates."""
    with session_scope(engine) as s:
        return {
            "customers": s.execute(select(Customer.name, Customer.owner_id, Customer.tier, Customer.last_contact_at)
                                   .order_by(Customer.id)).all(),
            "deals": s.execute(select(Deal.name, Deal.amount, Deal.stage_id, Deal.opened_on, Deal.closed_on)
                               .order_by(Deal.id)).all(),
            "activities": s.scalar(select(func.count()).select_from(Activity)),
            "users": s.execute(select(User.username, User.display_name).order_by(User.id)).all(),
        }


def test_every_table_is_filled_and_counts_match(engine):
    summary = build(engine)
    with engine.connect() as c:
        for table in SQLModel.metadata.sorted_tables:
            # made by signing in / wrong sign-ins / the first new contract of a day
            if table.name in ("user_session", "login_throttle", "number_sequence"):
                continue
            n = c.execute(select(func.count()).select_from(table)).scalar()
            assert n > 0, f"{table.name} is empty"
            if table.name in summary.counts:
                assert summary.counts[table.name] == n, table.name
    assert summary.counts["customer"] == 120 and summary.counts["deal"] == 300
    assert 1_300 <= summary.counts["activity"] <= 1_800


def test_logins_and_shared_password(engine):
    summary = build(engine)
    names = [u for u, _role in summary.logins]
    assert names[:3] == ["admin", "director", "manager1"]
    assert "rep1" in names and dict(summary.logins)["rep1"] == "rep"
    with session_scope(engine) as s:
        users = s.scalars(select(User)).all()
        assert len({u.password_hash for u in users}) == 1  # hashed once, shared
        assert verify_password(users[0].password_hash, DEMO_PASSWORD)
        from services import settings

        assert settings.get(s, "demo_mode") is True


def test_refuses_a_database_with_users(engine):
    build(engine)
    with pytest.raises(ValidationError) as exc:
        build(engine, seed=4)
    assert "database" in exc.value.errors


def test_deals_contracts_payments_are_consistent(engine):
    build(engine)
    with session_scope(engine) as s:
        rows = s.execute(select(Deal, Stage.kind).join(Stage, Stage.id == Deal.stage_id)).all()
        kinds = {k for _d, k in rows}
        assert kinds == {"open", "won", "lost"}
        for deal, kind in rows:
            if kind == "won":
                assert deal.closed_on is not None and deal.probability == 100 and deal.amount > 0
                assert deal.closed_on <= TODAY
            elif kind == "lost":
                assert deal.closed_on is not None and deal.lost_reason_id is not None
            else:
                assert deal.closed_on is None
            assert deal.opened_on <= (deal.closed_on or TODAY)
        won_ids = {d.id for d, k in rows if k == "won"}
        contracts = s.scalars(select(Contract)).all()
        assert {c.deal_id for c in contracts} == won_ids  # one contract per won deal, no other
        amounts = {d.id: d.amount for d, _k in rows}
        plans = s.scalars(select(PaymentPlan)).all()
        by_contract: dict[int, Decimal] = {}
        for p in plans:
            by_contract[p.contract_id] = by_contract.get(p.contract_id, Decimal(0)) + p.amount
        for c in contracts:
            assert c.amount == amounts[c.deal_id]
            assert by_contract[c.id] == c.amount  # installments add up to the whole
        paid: dict[int, Decimal] = {}
        for p in s.scalars(select(Payment)).all():
            paid[p.plan_id] = paid.get(p.plan_id, Decimal(0)) + p.amount
            assert p.received_on <= TODAY
        plan_amount = {p.id: p for p in plans}
        assert all(v <= plan_amount[k].amount for k, v in paid.items())
        due = [p for p in plans if p.due_on < TODAY]
        overdue = [p for p in due if paid.get(p.id, 0) < p.amount]
        assert 0 < len(overdue) < len(due)  # some overdue or partial, most collected
        # every deal's stage path starts with a row from nothing and ends at its current stage
        hist = s.execute(select(DealHistory.deal_id, DealHistory.old_value, DealHistory.new_value)
                         .where(DealHistory.field == "stage")
                         .order_by(DealHistory.deal_id, DealHistory.changed_at, DealHistory.id)).all()
        paths: dict[int, list] = {}
        for deal_id, old, new in hist:
            paths.setdefault(deal_id, []).append((old, new))
        for deal, _kind in rows:
            path = paths[deal.id]
            assert path[0][0] is None
            assert path[-1][1] == str(deal.stage_id)


def test_activities_and_customers_agree(engine):
    build(engine)
    with session_scope(engine) as s:
        last = dict(s.execute(select(Activity.customer_id, func.max(Activity.done_at))
                              .group_by(Activity.customer_id)).all())
        customers = s.scalars(select(Customer)).all()
        for c in customers:
            assert c.last_contact_at == last.get(c.id)
            if c.owner_id is None:
                assert c.pool_entered_at is not None and c.previous_owner_id is not None
        pool = [c for c in customers if c.owner_id is None]
        assert 0.04 <= len(pool) / len(customers) <= 0.2
        now = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)
        owned = [c for c in customers if c.owner_id is not None]
        stale = [c for c in owned if c.last_contact_at < now - timedelta(days=TIER_RECLAIM[c.tier])]
        assert len(stale) <= 0.1 * len(owned)
        planned = s.execute(select(Activity.planned_at).where(Activity.done_at.is_(None))).scalars().all()
        # each customer's open activities, recomputed after the load (its triggers were off)
        open_by = dict(s.execute(select(Activity.customer_id, func.count()).where(Activity.done_at.is_(None))
                                 .group_by(Activity.customer_id)).all())
        assert {c.id: c.open_activities for c in customers} == {c.id: open_by.get(c.id, 0) for c in customers}
        assert any(p > now for p in planned) and any(p < now for p in planned)  # upcoming and overdue
        # won deals had more activities than lost ones
        counts = dict(s.execute(select(Activity.deal_id, func.count()).where(Activity.deal_id.is_not(None))
                                .group_by(Activity.deal_id)).all())
        kinds = dict(s.execute(select(Deal.id, Stage.kind).join(Stage, Stage.id == Deal.stage_id)).all())

        def avg(kind):
            ids = [d for d, k in kinds.items() if k == kind]
            return sum(counts.get(d, 0) for d in ids) / len(ids)

        assert avg("won") > avg("lost")


def test_targets_decompose(engine):
    build(engine)
    with session_scope(engine) as s:
        targets = s.scalars(select(Target).where(Target.metric == "contract_amount", Target.tier == "base")).all()
        by_id = {t.id: t for t in targets}
        children: dict[int, list[Target]] = {}
        for t in targets:
            if t.parent_id:
                children.setdefault(t.parent_id, []).append(t)
        roots = [t for t in targets if t.parent_id is None]
        assert roots and all(t.scope == "company" and t.period_kind == "year" for t in roots)
        assert all(t.basis_market for t in roots)
        for parent_id, kids in children.items():
            parent = by_id[parent_id]
            same_scope = [k for k in kids if k.scope == parent.scope]
            if same_scope:  # year → quarters → months add up
                assert sum(k.value for k in same_scope) == parent.value
            lower = [k for k in kids if k.scope != parent.scope]
            if lower:  # company → teams → reps add up
                assert sum(k.value for k in lower) == parent.value
        assert {t.scope for t in targets} == {"company", "team", "user"}
        incentive = s.execute(text("SELECT tiers FROM incentive_scheme WHERE kind = 'commission' "
                                   "AND period_kind = 'month'")).scalar()
        tiers = json.loads(incentive)
        assert tiers[0] == {"from": "0", "rate": "0.02"}


def test_kept_facts_are_kept_again_after_the_bulk_load(engine):
    """The load ran with the fact triggers off; afterwards they keep the facts again."""
    build(engine)
    with session_scope(engine) as s:
        customer = s.scalars(select(Customer).where(Customer.owner_id.is_not(None)).order_by(Customer.id)).first()
        before = customer.open_activities
        s.add(Activity(kind="call", customer_id=customer.id, owner_id=customer.owner_id,
                       planned_at=datetime(2026, 12, 1, 2, tzinfo=UTC)))
        s.flush()
        assert s.scalar(select(Customer.open_activities).where(Customer.id == customer.id)) == before + 1
        deal = s.scalars(select(Deal).order_by(Deal.id)).first()
        stage = s.scalars(select(Stage.id).where(Stage.id != deal.stage_id).order_by(Stage.id)).first()
        s.add(DealHistory(deal_id=deal.id, field="stage", old_value=str(deal.stage_id), new_value=str(stage),
                          changed_at=datetime(2026, 11, 28, tzinfo=UTC)))
        s.flush()
        assert f",{stage}," in s.scalar(select(Deal.stages_reached).where(Deal.id == deal.id))


def test_ids_continue_after_the_bulk_load(engine):
    """Explicit ids must not break later inserts (PostgreSQL sequences are moved on)."""
    build(engine)
    with session_scope(engine) as s:
        top = s.scalar(select(func.max(Customer.id)))
        c = Customer(name="New after demo", name_norm="new after demo", tier="B")
        s.add(c)
        s.flush()
        assert c.id > top


def test_foreign_keys_hold_on_sqlite(sqlite_engine):
    build(sqlite_engine)
    with sqlite_engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # switched back on
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        n_indexes = c.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type='index'").scalar()
    fresh = make_engine("sqlite://")
    migrate(fresh)
    with fresh.connect() as c:  # the indexes dropped for the load are all back
        assert c.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type='index'").scalar() == n_indexes


def test_a_failed_load_leaves_the_database_empty(engine, monkeypatch):
    from services.demo import load

    def index_names():
        with engine.connect() as c:
            return sorted(name for table in load.BIG_TABLES for name, _ddl in load.secondary_indexes(c, table))

    before = index_names()
    real = load.bulk_insert

    def failing(conn, table, cols, rows, **kw):
        if table == "activity":
            raise RuntimeError("disk full")
        return real(conn, table, cols, rows, **kw)

    monkeypatch.setattr(load, "bulk_insert", failing)
    with pytest.raises(RuntimeError):
        build(engine)
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0
        assert s.scalar(select(func.count()).select_from(Customer)) == 0
    assert index_names() == before and before
    monkeypatch.setattr(load, "bulk_insert", real)
    assert build(engine).counts["activity"] > 0  # and it can be loaded afterwards


def test_same_seed_and_day_give_the_same_company(tmp_path):
    a, b, c = (fresh_sqlite(tmp_path, f"{n}.db") for n in "abc")
    build(a, seed=11)
    build(b, seed=11)
    build(c, seed=12)
    sa, sb, sc = snapshot(a), snapshot(b), snapshot(c)
    assert sa == sb
    assert sa["customers"][:20] != sc["customers"][:20]


def test_languages(tmp_path):
    zh, en = fresh_sqlite(tmp_path, "zh.db"), fresh_sqlite(tmp_path, "en.db")
    build(zh, lang="zh_CN")
    build(en, lang="en")

    def cjk(s: str) -> bool:
        return any(unicodedata.name(ch, "").startswith("CJK") for ch in s)

    with session_scope(zh) as s:
        names = s.scalars(select(Customer.name)).all()
        people = s.scalars(select(User.display_name)).all()
        stages = s.scalars(select(Stage.name)).all()
        codes = [c for c in s.scalars(select(Customer.credit_code)).all() if c]
        assert all(cjk(n) and n.endswith("公司") for n in names)
        assert all(cjk(p) and 2 <= len(p) <= 3 for p in people)
        assert all(cjk(n) for n in stages)
        assert codes and all(len(c) == 18 for c in codes)
        from services.dedupe import credit_code_check_char, normalize_name

        assert all(credit_code_check_char(c[:17]) == c[17] for c in codes)
        row = s.execute(select(Customer.name, Customer.name_norm)).first()
        assert row[1] == normalize_name(row[0])
    with session_scope(en) as s:
        names = s.scalars(select(Customer.name)).all()
        people = s.scalars(select(User.display_name)).all()
        assert not any(cjk(n) for n in names + people)
        assert all(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", p) for p in people)
        assert s.scalar(select(func.count()).select_from(Customer).where(Customer.credit_code.is_not(None))) == 0


def test_small_scale_has_skill_spread_and_season(tmp_path):
    eng = fresh_sqlite(tmp_path)
    summary = build(eng, scale="small", seed=42)
    assert summary.counts["customer"] == 1_000 and summary.counts["deal"] == 3_000
    assert 17_000 <= summary.counts["activity"] <= 23_000
    assert sum(1 for _u, r in summary.logins if r == "rep") == 10
    with session_scope(eng) as s:
        rows = s.execute(
            select(Deal.owner_id, Stage.kind, func.count()).join(Stage, Stage.id == Deal.stage_id)
            .where(Stage.kind.in_(("won", "lost"))).group_by(Deal.owner_id, Stage.kind)).all()
        stats: dict[int, dict[str, int]] = {}
        for owner, kind, n in rows:
            stats.setdefault(owner, {})[kind] = n
        rates = [v.get("won", 0) / (v.get("won", 0) + v.get("lost", 0)) for v in stats.values()]
        assert max(rates) - min(rates) > 0.15  # reps of different skill
        won = s.execute(select(Deal.closed_on, Deal.amount).join(Stage, Stage.id == Deal.stage_id)
                        .where(Stage.kind == "won")).all()
        by_month: dict[int, Decimal] = {}
        for closed, amount in won:
            by_month[closed.month] = by_month.get(closed.month, Decimal(0)) + amount
        assert by_month[12] > by_month[2] and by_month[11] > by_month[2]  # Q4 peak, Spring Festival dip


def test_duplicate_keys_are_unique(tmp_path):
    """Demo customers must not look like duplicates of each other to the 查重 check."""
    eng = fresh_sqlite(tmp_path)
    build(eng, scale="small", lang="en")
    with session_scope(eng) as s:
        for col in (Customer.name_norm, Customer.phone_norm, Customer.email_norm):
            dupes = s.execute(select(col).group_by(col).having(func.count() > 1)).all()
            assert dupes == [], col


def test_nothing_is_done_in_the_future(engine):
    build(engine)
    start_of_today = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)
    with session_scope(engine) as s:
        assert s.scalar(select(func.max(Activity.done_at))) < start_of_today
        assert s.scalar(select(func.max(DealHistory.changed_at))) < start_of_today
        assert s.scalar(select(func.max(Deal.closed_on))) < TODAY
        assert s.scalar(select(func.max(Payment.received_on))) <= TODAY
