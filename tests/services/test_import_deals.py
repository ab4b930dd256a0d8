"""Deals and activities import: messy real-world exports, --create-missing,
idempotent re-runs, and property tests for the date and amount parsers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from services.db import session_scope
from services.errors import PermissionDenied
from services.importing import (
    ParseError,
    import_file,
    infer_day_first,
    parse_amount,
    parse_date,
    parse_datetime,
)
from services.models import Activity, Customer, Deal, DealHistory, LostReason, Product, Stage, User

DATA = Path(__file__).resolve().parent.parent / "data"
MESSY = DATA / "deals_messy.csv"


def _csv(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


def _run(engine, actor, **kw):
    with session_scope(engine) as s:
        return import_file(s, actor, **kw)


def _seed(engine, org):
    with session_scope(engine) as s:
        for name in ("上海星辰科技有限公司", "北京远航贸易有限公司"):
            s.add(Customer(name=name, name_norm=name.replace("有限公司", ""), owner_id=org.rep_n1.id))
        s.add(Product(name="CRM专业版", list_price=Decimal("100000"), unit_cost=Decimal("40000")))
        s.add(LostReason(name="Price"))


def test_messy_deals_export(engine, org):
    _seed(engine, org)
    res = _run(engine, org.manager_n, kind="deals", path=MESSY)
    errors = {(e.row, e.column) for e in res.errors}
    assert errors == {(5, "Account Name"), (6, "Amount"), (8, "Amount"), (9, "Close Date")}
    assert res.created == 4
    with session_scope(engine) as s:
        deals = {d.external_id: d for d in s.scalars(select(Deal))}
        stage_kind = dict(s.execute(select(Stage.id, Stage.kind)).all())
        product_ids = set(s.scalars(select(Product.id)))
        # "¥1,234,567.50", expected close and opened dates in ISO
        d1 = deals["D-1"]
        assert d1.amount == Decimal("1234567.50") and d1.expected_close == date(2026, 12, 15)
        assert d1.opened_on == date(2026, 10, 1) and d1.stage_id == org.stages["Proposal"] and d1.probability == 50
        # "12万", won, "2026/11/20" → closed on the expected close date; "crm专业版" is the same product
        d2 = deals["D-2"]
        assert d2.amount == Decimal("120000.00") and stage_kind[d2.stage_id] == "won"
        assert d2.closed_on == date(2026, 11, 20) and d2.probability == 100
        assert d1.product_id == d2.product_id and product_ids == {d1.product_id}
        # an early-stage deal without customer and amount is kept
        d3 = deals["D-3"]
        assert d3.customer_id is None and d3.amount is None and d3.stage_id == org.stages["Qualify"]
        # "30k", stage "lost", "11/27/2026" (month first: 27 > 12), reason kept
        d6 = deals["D-6"]
        assert d6.amount == Decimal("30000.00") and d6.stage_id == org.stages["Lost"]
        assert d6.closed_on == date(2026, 11, 27) and d6.lost_reason_id is not None
        # one initial stage history row per deal, as the app writes it
        hist = s.execute(select(DealHistory.deal_id, DealHistory.field, DealHistory.old_value,
                                DealHistory.new_value)).all()
        assert sorted(hist) == sorted((d.id, "stage", None, str(d.stage_id)) for d in deals.values())
        assert all(d.owner_id == org.rep_n1.id for d in deals.values())

    again = _run(engine, org.manager_n, kind="deals", path=MESSY)
    assert (again.created, again.skipped) == (0, 4)
    assert len(again.errors) == 4


def test_reimport_with_update_writes_history(engine, org):
    _seed(engine, org)
    _run(engine, org.admin, kind="deals", path=MESSY)
    data = _csv([["Deal ID", "Amount", "Stage", "Close Date"], ["D-1", "130万", "Negotiation", "2027-01-15"],
                 ["D-2", "13万", "", ""]])
    res = _run(engine, org.admin, kind="deals", path=data, on_duplicate="update")
    assert (res.updated, res.errors) == (2, [])
    with session_scope(engine) as s:
        d1 = s.scalars(select(Deal).where(Deal.external_id == "D-1")).one()
        assert d1.amount == Decimal("1300000.00") and d1.stage_id == org.stages["Negotiation"]
        assert d1.expected_close == date(2027, 1, 15) and d1.version == 2
        fields = sorted(s.scalars(select(DealHistory.field).where(DealHistory.deal_id == d1.id)))
        assert fields == ["amount", "expected_close", "stage", "stage"]
        d2 = s.scalars(select(Deal).where(Deal.external_id == "D-2")).one()
        assert d2.amount == Decimal("130000.00") and d2.stage_id == org.stages["Won"]  # empty stage: unchanged


def test_closed_deal_stage_cannot_change_through_import(engine, org):
    _seed(engine, org)
    _run(engine, org.admin, kind="deals", path=MESSY)
    data = _csv([["Deal ID", "Stage"], ["D-2", "Proposal"]])
    res = _run(engine, org.admin, kind="deals", path=data, on_duplicate="update")
    assert res.updated == 0 and [(e.row, e.column) for e in res.errors] == [(2, "Stage")]


def test_unknown_references_are_errors_without_create_missing(engine, org):
    data = _csv([["商机名称", "客户名称", "负责人", "产品", "金额", "阶段", "预计成交日期"],
                 ["新项目", "未知客户", "某某人", "新产品", "1万", "初步接洽", "2026-12-31"]])
    res = _run(engine, org.admin, kind="deals", path=data)
    assert res.created == 0 and [e.column for e in res.errors] == ["负责人"]
    data2 = _csv([["商机名称", "客户名称", "金额", "阶段"], ["新项目", "未知客户", "1万", "Qualify"]])
    res = _run(engine, org.admin, kind="deals", path=data2)
    assert [e.column for e in res.errors] == ["客户名称"]


def test_create_missing_brings_in_a_whole_pipeline(engine, org):
    data = _csv([["外部ID", "商机名称", "客户名称", "负责人", "产品", "金额", "阶段", "预计成交日期"],
                 ["X1", "新项目", "未知客户有限公司", "前同事", "新产品 Pro", "1万", "初步接洽", "2026-12-31"],
                 ["X2", "二期", "未知客户", "前同事", "新产品pro", "2万", "初步接洽", "2027-01-31"],
                 ["X3", "成交单", "另一家", "rep_n1", "", "5000", "Won", "2026-11-01"]])
    res = _run(engine, org.admin, kind="deals", path=data, create_missing=True)
    assert res.errors == [] and res.created == 3
    assert res.created_refs == {"user": 1, "customer": 2, "product": 1, "stage": 1}
    with session_scope(engine) as s:
        u = s.scalars(select(User).where(User.display_name == "前同事")).one()
        assert not u.active and u.password_hash == "!"
        st_new = s.scalars(select(Stage).where(Stage.name == "初步接洽")).one()
        assert st_new.kind == "open" and st_new.sequence > 40
        customers = {c.name: c for c in s.scalars(select(Customer))}
        assert customers["未知客户有限公司"].owner_id == u.id and customers["未知客户有限公司"].status == "prospect"
        assert customers["另一家"].status == "active"
        assert s.scalar(select(func.count()).select_from(Product)) == 1
    again = _run(engine, org.admin, kind="deals", path=data, create_missing=True)
    assert (again.created, again.skipped, again.created_refs) == (0, 3, {})


def test_create_missing_needs_director_or_admin(engine, org):
    with session_scope(engine) as s, pytest.raises(PermissionDenied):
        import_file(s, org.manager_n, kind="deals", path=MESSY, create_missing=True)
    res = _run(engine, org.director, kind="deals", path=MESSY, create_missing=True, dry_run=True)
    assert res.created == 4 and res.created_refs.get("customer") == 2
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Deal)) == 0
        assert s.scalar(select(func.count()).select_from(Customer)) == 0


def test_rep_imports_deals_only_as_owner_and_for_own_customers(engine, org):
    _seed(engine, org)
    data = _csv([["商机名称", "客户名称", "负责人", "金额"], ["A", "上海星辰科技有限公司", "", "100"],
                 ["B", "上海星辰科技有限公司", "rep_n2", "100"]])
    res = _run(engine, org.rep_n1, kind="deals", path=data)
    assert res.created == 1 and [e.column for e in res.errors] == ["负责人"]
    res = _run(engine, org.rep_n2, kind="deals", path=data)
    assert res.created == 0 and [(e.row, e.column) for e in res.errors] == [(2, "客户名称"), (3, "客户名称")]


def test_activities_import(engine, org):
    _seed(engine, org)
    future = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    data = _csv([["客户名称", "跟进方式", "跟进时间", "跟进内容", "下次联系日期"],
                 ["上海星辰科技有限公司", "电话", "2026-11-20 10:30", "确认需求", "2026-12-01"],
                 ["上海星辰科技有限公司", "拜访", "2026/11/25", "上门演示", "2026-12-05"],
                 ["上海星辰科技有限公司", "微信", "2026-11-01", "较早的一次", "2026-11-05"],
                 ["北京远航贸易有限公司", "meeting", future, "计划中的会议", ""],
                 ["北京远航贸易有限公司", "飞鸽传书", "2026-11-02", "", ""],
                 ["", "call", "2026-11-02", "", ""]])
    res = _run(engine, org.rep_n1, kind="activities", path=data)
    assert res.created == 4
    assert [(e.row, e.column) for e in res.errors] == [(6, "跟进方式"), (7, "客户名称")]
    with session_scope(engine) as s:
        c = s.scalars(select(Customer).where(Customer.name == "上海星辰科技有限公司")).one()
        # the latest done activity wins, whatever the order in the file; 12:00 Shanghai for a bare date
        assert c.last_contact_at == datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
        assert c.next_contact_on == date(2026, 12, 5)
        planned = s.scalars(select(Activity).where(Activity.kind == "meeting")).one()
        assert planned.done_at is None and planned.planned_at is not None
        kinds = sorted(s.scalars(select(Activity.kind)))
        assert kinds == ["call", "meeting", "other", "visit"]
        other = s.scalars(select(Customer).where(Customer.name == "北京远航贸易有限公司")).one()
        assert other.last_contact_at is None
    again = _run(engine, org.rep_n1, kind="activities", path=data)
    assert (again.created, again.skipped) == (0, 4)


def test_activities_with_external_ids_and_deals(engine, org):
    _seed(engine, org)
    _run(engine, org.admin, kind="deals", path=MESSY)
    data = _csv([["Activity ID", "Customer", "Deal", "Type", "Date", "Notes"],
                 ["A-1", "上海星辰科技有限公司", "Xingchen ERP rollout", "demo", "2026-11-26T09:00:00+08:00", "Demo"],
                 ["A-2", "上海星辰科技有限公司", "No such deal", "call", "2026-11-26", ""]])
    res = _run(engine, org.admin, kind="activities", path=data)
    assert res.created == 1 and [(e.row, e.column) for e in res.errors] == [(3, "Deal")]
    with session_scope(engine) as s:
        a = s.scalars(select(Activity).where(Activity.external_id == "A-1")).one()
        d = s.scalars(select(Deal).where(Deal.external_id == "D-1")).one()
        assert a.deal_id == d.id and a.done_at == datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
        assert d.last_activity_at == a.done_at
    assert _run(engine, org.admin, kind="activities", path=data).skipped == 1


# ---------------------------------------------------------------------------
# parsers


@pytest.mark.parametrize("text, expected", [
    ("2026-11-27", date(2026, 11, 27)),
    ("2026/11/27", date(2026, 11, 27)),
    ("2026.11.27", date(2026, 11, 27)),
    ("20261127", date(2026, 11, 27)),
    ("2026年11月27日", date(2026, 11, 27)),
    ("2026 年 1 月 5 日", date(2026, 1, 5)),
    ("27.11.2026", date(2026, 11, 27)),
    ("11/27/2026", date(2026, 11, 27)),
    ("27/11/2026", date(2026, 11, 27)),
    ("2026-11-27 18:30:00", date(2026, 11, 27)),
    ("２０２６－１１－２７", date(2026, 11, 27)),
    (46353, date(2026, 11, 27)),  # Excel serial
    (46353.75, date(2026, 11, 27)),
    (datetime(2026, 11, 27, 8, 0), date(2026, 11, 27)),
    ("", None),
    (None, None),
])
def test_parse_date_formats(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["03/04/2026", "2026-02-30", "31/31/2026", "tomorrow", "1800-01-01", "2026-13-01",
                                  True, -5, "2026-11-27 25:00"])
def test_parse_date_rejects(text):
    with pytest.raises(ParseError):
        parse_date(text)


def test_ambiguous_dates_follow_the_column():
    assert infer_day_first(["03/04/2026", "25/04/2026"]) is True
    assert infer_day_first(["03/04/2026", "04/25/2026"]) is False
    assert infer_day_first(["03/04/2026", "2026-01-01"]) is None
    assert parse_date("03/04/2026", day_first=True) == date(2026, 4, 3)
    assert parse_date("03/04/2026", day_first=False) == date(2026, 3, 4)


def test_parse_datetime_zones():
    assert parse_datetime("2026-11-27") == datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
    assert parse_datetime("2026-11-27 09:15") == datetime(2026, 11, 27, 1, 15, tzinfo=UTC)
    assert parse_datetime("2026-11-27T09:15:00Z") == datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
    assert parse_datetime("2026-11-27 09:15", tz="Europe/Berlin") == datetime(2026, 11, 27, 8, 15, tzinfo=UTC)


@pytest.mark.parametrize("text, expected", [
    ("1234.5", "1234.50"), ("¥1,234,567.50", "1234567.50"), ("￥ 99", "99.00"), ("12万", "120000.00"),
    ("1.5亿", "150000000.00"), ("30k", "30000.00"), ("RMB 5000元", "5000.00"), ("１２３４", "1234.00"),
    ("2.5万元", "25000.00"), (1234.567, "1234.57"), (Decimal("10"), "10.00"), ("$1.2M", "1200000.00"),
])
def test_parse_amount_formats(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["-500", "(1,000)", "12,34", "abc", "1.2.3", "1e5", "万", float("nan"),
                                  "1000000000000", True])
def test_parse_amount_rejects(text):
    with pytest.raises(ParseError):
        parse_amount(text)


money = st.decimals(min_value=0, max_value=Decimal("99999999999.99"), places=2, allow_nan=False,
                    allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(money)
def test_amount_round_trips_through_common_spellings(amount):
    assert parse_amount(str(amount)) == amount
    assert parse_amount(f"¥{amount:,}") == amount
    assert parse_amount(f"{amount}元") == amount
    wan = amount / Decimal(10000)
    assert parse_amount(f"{wan}万") == amount


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(), st.none()))
def test_amount_parser_accepts_or_rejects_cleanly(value):
    try:
        result = parse_amount(value)
    except ParseError:
        return
    assert result is None or (Decimal(0) <= result <= Decimal("999999999999.99")
                              and result == result.quantize(Decimal("0.01")))


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_date_round_trips_through_formats(d):
    for text in (d.isoformat(), d.strftime("%Y/%m/%d"), f"{d.year}年{d.month}月{d.day}日", d.strftime("%d.%m.%Y"),
                 d.strftime("%Y%m%d")):
        assert parse_date(text) == d
    us = d.strftime("%m/%d/%Y")
    assert parse_date(us, day_first=False) == d
    if d.day > 12:
        assert parse_date(us) == d


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.datetimes(), st.none()))
def test_date_parser_accepts_or_rejects_cleanly(value):
    try:
        result = parse_date(value)
    except ParseError:
        return
    assert result is None or date(1900, 1, 1) <= result <= date(2100, 12, 31)


def test_system_import_needs_owners_for_deals_and_pools_customers(engine, org):
    from services.access import SYSTEM

    _seed(engine, org)
    data = _csv([["商机名称", "客户名称", "负责人", "金额"], ["A", "上海星辰科技有限公司", "", "100"],
                 ["B", "上海星辰科技有限公司", "rep_n1", "100"]])
    res = _run(engine, SYSTEM, kind="deals", path=data)
    assert res.created == 1 and [(e.row, e.column) for e in res.errors] == [(2, "负责人")]
    res = _run(engine, SYSTEM, kind="customers", path=_csv([["name"], ["Orphan Ltd"]]))
    assert res.created == 1
    with session_scope(engine) as s:
        orphan = s.scalars(select(Customer).where(Customer.name == "Orphan Ltd")).one()
        assert orphan.owner_id is None and orphan.pool_entered_at is not None


def test_history_may_belong_to_former_colleagues(engine, org):
    _seed(engine, org)
    with session_scope(engine) as s:
        s.add(User(username="gone", display_name="Gone Person", role="rep", team_id=org.team_n, active=False))
    data = _csv([["商机名称", "客户名称", "负责人", "金额", "阶段", "预计成交日期"],
                 ["老单", "上海星辰科技有限公司", "Gone Person", "1万", "Lost", "2025-05-01"]])
    res = _run(engine, org.admin, kind="deals", path=data)
    assert res.created == 1 and res.created_refs == {}
