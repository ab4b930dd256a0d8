"""Customers: validation, the page query, all-or-nothing saves, optimistic locking,
bulk actions and access walls — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from services import customers as cs
from services.db import session_scope
from services.errors import ConflictError, DuplicateError, NotFound, PermissionDenied, ValidationError
from services.models import AuditLog, Channel, Customer, User

VALID_CODE = "91350100M000100Y43"


def add_customer(engine, owner_id, name, **kw) -> int:
    from services.customers import _norm_columns

    values = {"name": name, **kw}
    with session_scope(engine) as s:
        c = Customer(owner_id=owner_id, **values, **_norm_columns(values))
        s.add(c)
        s.flush()
        return c.id


def load(engine, cid) -> Customer:
    with session_scope(engine) as s:
        return s.get(Customer, cid)


def audit_count(engine, cid=None) -> int:
    with session_scope(engine) as s:
        q = select(func.count()).select_from(AuditLog).where(AuditLog.entity == "customer")
        if cid is not None:
            q = q.where(AuditLog.entity_id == str(cid))
        return s.scalar(q)


# ---------------------------------------------------------------------------
# validation per field


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("name", "ACME", True),
        ("name", "", False),
        ("name", "   ", False),
        ("name", None, False),
        ("name", "x" * 200, True),
        ("name", "x" * 201, False),
        ("name", 12345, True),
        ("name", True, False),
        ("email", "a@b.co", True),
        ("email", "a@b", False),
        ("email", "not an email", False),
        ("email", "", True),
        ("phone", "+86 138-1234-5678", True),
        ("phone", "(010) 1234 5678", True),
        ("phone", "123", False),
        ("phone", "12345678901234567890123", False),
        ("phone", "call me", False),
        ("phone", "１３８１２３４５６７８", True),
        ("credit_code", VALID_CODE, True),
        ("credit_code", VALID_CODE.lower(), True),
        ("credit_code", "91350100M000100Y44", False),
        ("credit_code", "91350100M000100YI3", False),
        ("credit_code", "123", False),
        ("tier", "A", True),
        ("tier", "a", True),
        ("tier", "D", False),
        ("status", "active", True),
        ("status", "gone", False),
        ("next_contact_on", "2026-12-01", True),
        ("next_contact_on", date(2026, 12, 1), True),
        ("next_contact_on", "2026-13-01", False),
        ("next_contact_on", "tomorrow", False),
        ("next_contact_on", "1200-01-01", False),
        ("owner_id", "12", True),
        ("owner_id", "abc", False),
        ("owner_id", 1.5, False),
        ("notes", "<script>alert(1)</script>", True),
        ("notes", "x" * 5001, False),
    ],
)
def test_validate_each_field(field, value, ok):
    data = {"name": "ACME", field: value}
    clean, errors = cs.validate_customer_fields(data, "en")
    if ok:
        assert field not in errors, errors
    else:
        assert field in errors and errors[field]
        assert field not in clean


def test_validate_messages_follow_locale():
    _, en = cs.validate_customer_fields({"name": ""}, "en")
    _, zh = cs.validate_customer_fields({"name": ""}, "zh_CN")
    assert en["name"] == "is required" and zh["name"] == "必填"


def test_validate_references_need_active_owner_and_known_channel(engine, org):
    with session_scope(engine) as s:
        s.get(User, org.rep_n2.id).active = False
    with session_scope(engine) as s:
        _, errors = cs.validate_customer_fields({"name": "X", "owner_id": org.rep_n2.id, "channel_id": 999}, "en",
                                                session=s)
    assert set(errors) == {"owner_id", "channel_id"}


# ---------------------------------------------------------------------------
# page query


def test_page_query_filters_sorts_pages_and_counts(engine, org):
    for i in range(30):
        add_customer(engine, org.rep_n1.id, f"Cust {i:02d}", tier="ABC"[i % 3], phone=f"1380000{i:04d}")
    add_customer(engine, org.rep_s1.id, "South Only")
    add_customer(engine, None, "Pool One", phone="13999999999", email="pool@x.com")
    with session_scope(engine) as s:
        df, total = cs.list_customers_page(s, org.rep_n1, filters=cs.CustomerFilter(tier="A"),
                                           sort=[("name", "desc")], page=1, page_size=4)
        assert total == 10 and len(df) == 4
        assert list(df["name"]) == ["Cust 27", "Cust 24", "Cust 21", "Cust 18"]
        df2, _ = cs.list_customers_page(s, org.rep_n1, filters=cs.CustomerFilter(tier="A"),
                                        sort=[("name", "desc")], page=3, page_size=4)
        assert list(df2["name"]) == ["Cust 03", "Cust 00"]
        # rep sees own + pool, never another rep's
        df, total = cs.list_customers_page(s, org.rep_n1, page_size=500)
        assert total == 31 and "South Only" not in set(df["name"])
        # search by phone prefix, by name contains
        df, total = cs.list_customers_page(s, org.rep_n1, filters=cs.CustomerFilter(search="+86 138 0000 0012"))
        assert list(df["name"]) == ["Cust 12"]
        df, total = cs.list_customers_page(s, org.rep_n1, filters=cs.CustomerFilter(search="cust 1"))
        assert total == 10
        # pool row: private fields masked for a rep, visible for a manager
        df, _ = cs.list_customers_page(s, org.rep_n1, filters=cs.CustomerFilter(in_pool=True))
        assert df.loc[0, "name"] == "Pool One" and df.loc[0, "phone"] is None and bool(df.loc[0, "private_hidden"])
        df, _ = cs.list_customers_page(s, org.manager_n, filters=cs.CustomerFilter(in_pool=True))
        assert df.loc[0, "phone"] == "13999999999"
        assert cs.list_customers_page(s, org.admin, page_size=1)[1] == 32
        assert cs.list_customers_page(s, org.manager_s, page_size=1)[1] == 2  # South Only + pool


def test_search_escapes_like_wildcards(engine, org):
    add_customer(engine, org.rep_n1.id, "100% Pure")
    add_customer(engine, org.rep_n1.id, "Other")
    with session_scope(engine) as s:
        _, total = cs.list_customers_page(s, org.rep_n1, filters=cs.CustomerFilter(search="%"))
        assert total == 0
        _, total = cs.list_customers_page(s, org.rep_n1, filters=cs.CustomerFilter(search="100%"))
        assert total == 1


# ---------------------------------------------------------------------------
# saving


def test_create_update_archive_in_one_save(engine, org):
    a = add_customer(engine, org.rep_n1.id, "Alpha")
    b = add_customer(engine, org.rep_n1.id, "Beta")
    with session_scope(engine) as s:
        res = cs.update_many(s, org.rep_n1, changes={
            "create": [{"_key": "new-1", "name": "Gamma", "email": "g@gamma.com", "tier": "B"}],
            "update": [{"id": a, "version": 1, "fields": {"status": "active", "phone": "13800000001"}}],
            "archive": [b],
        })
    new_id = res.created["new-1"]
    g, al, be = load(engine, new_id), load(engine, a), load(engine, b)
    assert g.owner_id == org.rep_n1.id and g.email_norm == "g@gamma.com" and g.tier == "B"
    assert al.status == "active" and al.version == 2 and al.phone_norm == "13800000001"
    assert be.archived and be.version == 2
    assert audit_count(engine) == 3


def test_one_bad_row_among_good_writes_nothing(engine, org):
    a = add_customer(engine, org.rep_n1.id, "Alpha")
    b = add_customer(engine, org.rep_n1.id, "Beta")
    with pytest.raises(ValidationError) as exc, session_scope(engine) as s:
        cs.update_many(s, org.rep_n1, changes={
            "create": [{"_key": "new-1", "name": "Gamma"}, {"_key": "new-2", "name": ""}],
            "update": [{"id": a, "version": 1, "fields": {"status": "active"}},
                       {"id": b, "version": 1, "fields": {"email": "broken@"}}],
        })
    assert set(exc.value.row_errors) == {"new-2", b}
    assert "email" in exc.value.row_errors[b] and "name" in exc.value.row_errors["new-2"]
    assert load(engine, a).status == "lead" and load(engine, a).version == 1
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 2
    assert audit_count(engine) == 0


def test_stale_version_is_a_conflict_and_nothing_is_overwritten(engine, org):
    a = add_customer(engine, org.rep_n1.id, "Alpha")
    # the manager saves first
    with session_scope(engine) as s:
        cs.update_many(s, org.manager_n, changes={"update": [{"id": a, "version": 1, "fields": {"region": "East"}}]})
    # the rep still has version 1 on screen
    with pytest.raises(ConflictError) as exc, session_scope(engine) as s:
        cs.update_many(s, org.rep_n1, changes={"update": [{"id": a, "version": 1, "fields": {"region": "West"}}]})
    assert exc.value.conflicts[a]["region"] == ("East", "West")
    assert exc.value.conflicts[a]["version"] == (2, 1)
    row = load(engine, a)
    assert row.region == "East" and row.version == 2
    # retrying with the current version ("save mine anyway") succeeds
    with session_scope(engine) as s:
        cs.update_many(s, org.rep_n1, changes={"update": [{"id": a, "version": 2, "fields": {"region": "West"}}]})
    assert load(engine, a).region == "West"


def test_concurrent_saves_have_no_lost_update(engine, org):
    a = add_customer(engine, org.rep_n1.id, "Alpha")
    results: list[str] = []
    barrier = threading.Barrier(2)

    def save(actor, region):
        barrier.wait(timeout=10)
        try:
            with session_scope(engine) as s:
                cs.update_many(s, actor, changes={"update": [{"id": a, "version": 1, "fields": {"region": region}}]})
            results.append(region)
        except ConflictError:
            results.append("conflict")
        except Exception as exc:  # any other failure is a finding: the second writer must be told, not fail
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=save, args=(org.rep_n1, "West")),
               threading.Thread(target=save, args=(org.manager_n, "East"))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    row = load(engine, a)
    assert row.version == 2  # exactly one save won
    assert sorted(results) == sorted([row.region, "conflict"])


def test_update_with_unchanged_values_keeps_version(engine, org):
    a = add_customer(engine, org.rep_n1.id, "Alpha", tier="A")
    with session_scope(engine) as s:
        res = cs.update_many(s, org.rep_n1, changes={"update": [{"id": a, "version": 1, "fields": {"tier": "a"}}]})
    assert res.updated == [] and load(engine, a).version == 1


def test_duplicate_on_create_needs_manager_override(engine, org):
    add_customer(engine, org.rep_s1.id, "华为技术有限公司", phone="13800000000")
    with pytest.raises(DuplicateError) as exc, session_scope(engine) as s:
        cs.update_many(s, org.rep_n1, changes={"create": [{"_key": "k", "name": "华为技术股份有限公司"}]})
    m = exc.value.matches[0]
    assert m["hidden"] and m["customer_id"] is None and m["name"] is None and m["owner_name"] == "Rep_S1"
    assert m["matched_on"] == ["name"] and m["row"] == "k"
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        cs.update_many(s, org.rep_n1, changes={"create": [{"_key": "k", "name": "华为技术"}]},
                       override_duplicate=True)
    with session_scope(engine) as s:
        res = cs.update_many(s, org.manager_n, changes={"create": [{"_key": "k", "name": "华为技术"}]},
                             override_duplicate=True)
    assert res.created["k"]


def test_duplicate_on_edit_and_within_the_batch(engine, org):
    add_customer(engine, org.rep_n1.id, "Acme Co., Ltd.", email="sales@acme.com")
    b = add_customer(engine, org.rep_n1.id, "Beta")
    with pytest.raises(DuplicateError) as exc, session_scope(engine) as s:
        cs.update_many(s, org.rep_n1, changes={"update": [{"id": b, "version": 1, "fields": {"email": "SALES@acme.com "}}]})
    assert exc.value.matches[0]["matched_on"] == ["email"] and exc.value.matches[0]["name"] == "Acme Co., Ltd."
    with pytest.raises(DuplicateError), session_scope(engine) as s:
        cs.update_many(s, org.rep_n1, changes={"create": [{"_key": "1", "name": "Zeta GmbH"}, {"_key": "2", "name": "ZETA"}]})
    # editing a row without touching dedupe fields does not trip over itself
    with session_scope(engine) as s:
        cs.update_many(s, org.rep_n1, changes={"update": [{"id": b, "version": 1, "fields": {"tier": "A"}}]})


def test_owner_rules_on_save(engine, org):
    a = add_customer(engine, org.rep_n1.id, "Alpha")
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        cs.update_many(s, org.rep_n1, changes={"update": [{"id": a, "version": 1, "fields": {"owner_id": org.rep_n2.id}}]})
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        cs.update_many(s, org.manager_n, changes={"update": [{"id": a, "version": 1, "fields": {"owner_id": org.rep_s1.id}}]})
    with pytest.raises(ValidationError), session_scope(engine) as s:
        cs.update_many(s, org.manager_n, changes={"update": [{"id": a, "version": 1, "fields": {"owner_id": None}}]})
    with session_scope(engine) as s:
        cs.update_many(s, org.manager_n, changes={"update": [{"id": a, "version": 1, "fields": {"owner_id": org.rep_n2.id}}]})
    assert load(engine, a).owner_id == org.rep_n2.id


def test_create_customer_and_update_customer(engine, org):
    with session_scope(engine) as s:
        cid = cs.create_customer(s, org.rep_n1, data={"name": "Solo", "credit_code": VALID_CODE})
    with pytest.raises(ValidationError) as exc, session_scope(engine) as s:
        cs.create_customer(s, org.rep_n1, data={"name": ""})
    assert "name" in exc.value.errors
    with session_scope(engine) as s:
        cs.update_customer(s, org.rep_n1, customer_id=cid, version=1, data={"notes": "hi"})
        assert cs.get_customer(s, org.rep_n1, customer_id=cid)["notes"] == "hi"


# ---------------------------------------------------------------------------
# bulk actions


def test_bulk_actions_and_their_roles(engine, org):
    a = add_customer(engine, org.rep_n1.id, "Alpha")
    b = add_customer(engine, org.rep_n1.id, "Beta")
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        cs.reassign_owner(s, org.rep_n1, ids=[a], owner_id=org.rep_n2.id)
    with session_scope(engine) as s:
        assert cs.reassign_owner(s, org.manager_n, ids=[a, b], owner_id=org.rep_n2.id) == 2
    assert load(engine, a).owner_id == org.rep_n2.id
    with session_scope(engine) as s:
        assert cs.archive_customers(s, org.rep_n2, ids=[a]) == 1
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        cs.restore_customers(s, org.rep_n2, ids=[a])
    with session_scope(engine) as s:
        assert cs.restore_customers(s, org.manager_n, ids=[a]) == 1
    assert not load(engine, a).archived
    with session_scope(engine) as s:
        ch = Channel(name="Web")
        s.add(ch)
        s.flush()
        owners = cs.assignable_owners(s, org.rep_n1)
        assert [o["id"] for o in owners] == [org.rep_n1.id]
        assert {o["id"] for o in cs.assignable_owners(s, org.manager_n)} == {org.manager_n.id, org.rep_n1.id,
                                                                               org.rep_n2.id}
        assert cs.list_channels(s)[0]["name"] == "Web"


# ---------------------------------------------------------------------------
# the wall: a rep cannot read or edit another rep's customer through any service


def test_rep_cannot_touch_another_reps_customer(engine, org):
    theirs = add_customer(engine, org.rep_n2.id, "Theirs", phone="13811112222", email="t@x.com")
    rep = org.rep_n1
    with session_scope(engine) as s:
        df, total = cs.list_customers_page(s, rep, filters=cs.CustomerFilter(search="Theirs"))
        assert total == 0
        assert cs.list_customers_page(s, rep, filters=cs.CustomerFilter(owner_id=org.rep_n2.id))[1] == 0
        assert cs.distinct_values(s, rep, field_name="region") == []
    calls = [
        lambda s: cs.get_customer(s, rep, customer_id=theirs),
        lambda s: cs.update_many(s, rep, changes={"update": [{"id": theirs, "version": 1, "fields": {"tier": "A"}}]}),
        lambda s: cs.update_many(s, rep, changes={"archive": [theirs]}),
        lambda s: cs.update_customer(s, rep, customer_id=theirs, version=1, data={"tier": "A"}),
        lambda s: cs.archive_customers(s, rep, ids=[theirs]),
        lambda s: cs.restore_customers(s, rep, ids=[theirs]),
        lambda s: cs.reassign_owner(s, rep, ids=[theirs], owner_id=rep.id),
        lambda s: cs.release_to_pool(s, rep, ids=[theirs]),
        lambda s: cs.claim_from_pool(s, rep, ids=[theirs]),
        lambda s: cs.reclaim_stale_customers(s, rep),
    ]
    for call in calls:
        with pytest.raises((NotFound, PermissionDenied)), session_scope(engine) as s:
            call(s)
    from services import contacts

    for call in (
        lambda s: contacts.list_contacts(s, rep, customer_id=theirs),
        lambda s: contacts.create_contact(s, rep, data={"customer_id": theirs, "name": "Spy"}),
    ):
        with pytest.raises((NotFound, PermissionDenied)), session_scope(engine) as s:
            call(s)
    row = load(engine, theirs)
    assert row.owner_id == org.rep_n2.id and row.tier == "C" and not row.archived and row.version == 1
    # the other team's manager is walled off too
    with pytest.raises(NotFound), session_scope(engine) as s:
        cs.get_customer(s, org.manager_s, customer_id=theirs)


def test_rep_must_claim_a_pool_customer_before_editing(engine, org):
    pool = add_customer(engine, None, "Pool Co")
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        cs.update_many(s, org.rep_n1, changes={"update": [{"id": pool, "version": 1, "fields": {"tier": "A"}}]})
    with session_scope(engine) as s:
        cs.claim_from_pool(s, org.rep_n1, ids=[pool])
    with session_scope(engine) as s:
        cs.update_many(s, org.rep_n1, changes={"update": [{"id": pool, "version": 2, "fields": {"tier": "A"}}]})
    assert load(engine, pool).tier == "A"


# ---------------------------------------------------------------------------
# contacts


def test_contacts_one_primary_per_customer(engine, org):
    from services import contacts

    cid = add_customer(engine, org.rep_n1.id, "With People")
    with session_scope(engine) as s:
        first = contacts.create_contact(s, org.rep_n1, data={"customer_id": cid, "name": "Ann", "phone": "13800000000"})
        second = contacts.create_contact(s, org.rep_n1, data={"customer_id": cid, "name": "Bob", "is_primary": True})
        third = contacts.create_contact(s, org.rep_n1, data={"customer_id": cid, "name": "Cy"})
    assert first.is_primary and second.is_primary and not third.is_primary
    with session_scope(engine) as s:
        listed = contacts.list_contacts(s, org.rep_n1, customer_id=cid)
        assert [c.name for c in listed if c.is_primary] == ["Bob"] and listed[0].name == "Bob"
        contacts.set_primary_contact(s, org.rep_n1, contact_id=third.id)
    with session_scope(engine) as s:
        assert [c.name for c in contacts.list_contacts(s, org.rep_n1, customer_id=cid) if c.is_primary] == ["Cy"]
        contacts.delete_contact(s, org.rep_n1, contact_id=third.id)
    with session_scope(engine) as s:
        names = [(c.name, c.is_primary) for c in contacts.list_contacts(s, org.manager_n, customer_id=cid)]
    assert names == [("Ann", True), ("Bob", False)]


def test_contact_validation_and_walls(engine, org):
    from services import contacts

    cid = add_customer(engine, org.rep_n1.id, "Walled")
    pool = add_customer(engine, None, "Pool Person Co")
    with pytest.raises(ValidationError) as exc, session_scope(engine) as s:
        contacts.create_contact(s, org.rep_n1, data={"customer_id": cid, "name": "", "email": "bad"})
    assert set(exc.value.errors) == {"name", "email"}
    with session_scope(engine) as s:
        c = contacts.create_contact(s, org.rep_n1, data={"customer_id": cid, "name": "Ann"})
    for call in (
        lambda s: contacts.update_contact(s, org.rep_n2, contact_id=c.id, data={"name": "Hacked"}),
        lambda s: contacts.delete_contact(s, org.rep_s1, contact_id=c.id),
        lambda s: contacts.list_contacts(s, org.rep_n1, customer_id=pool),  # pool: no private details for reps
        lambda s: contacts.create_contact(s, org.rep_n1, data={"customer_id": pool, "name": "X"}),
    ):
        with pytest.raises((NotFound, PermissionDenied)), session_scope(engine) as s:
            call(s)
    with session_scope(engine) as s:
        assert contacts.list_contacts(s, org.manager_n, customer_id=pool) == []
        assert [x.name for x in contacts.list_contacts(s, org.rep_n1, customer_id=cid)] == ["Ann"]


def test_chinese_names_sort_by_pinyin_in_sql(engine, org):
    """上海 / 南京 / 合肥 come back as 合肥 (he fei), 南京 (nan jing), 上海 (shang hai) — the
    stored sort key, also for a row created and renamed through the grid's save."""
    for name in ("上海客户", "南京客户", "合肥客户"):
        add_customer(engine, org.rep_n1.id, name)
    with session_scope(engine) as s:
        res = cs.update_many(s, org.rep_n1, changes=cs.GridChanges(create=[{"_key": "n1", "name": "Acme"}]))
        new_id = res.created["n1"]
    with session_scope(engine) as s:
        version = s.get(Customer, new_id).version
        cs.update_many(s, org.rep_n1, changes=cs.GridChanges(
            update=[{"id": new_id, "version": version, "fields": {"name": "重庆客户"}}]))
    with session_scope(engine) as s:
        df, _ = cs.list_customers_page(s, org.rep_n1, sort=[("name", "asc")], page_size=500)
        names = [n for n in df["name"] if n.endswith("客户")]
        assert names == ["重庆客户", "合肥客户", "南京客户", "上海客户"]  # chong qing < he fei < nan jing < shang hai
        df, _ = cs.list_customers_page(s, org.rep_n1, sort=[("name", "desc")], page_size=500)
        assert [n for n in df["name"] if n.endswith("客户")] == ["上海客户", "南京客户", "合肥客户", "重庆客户"]
