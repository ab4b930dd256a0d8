"""Customer and contact import: mixed good/bad rows, idempotent re-runs, encodings, XLSX,
header suggestions, duplicate policies and who may import what (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from services import importing
from services.db import session_scope
from services.errors import PermissionDenied, ValidationError
from services.importing import import_file, read_table, suggest_mapping
from services.models import AuditLog, Contact, Customer, User

DATA = Path(__file__).resolve().parent.parent / "data"
MIXED = DATA / "customers_mixed.csv"


def _count(engine, model=Customer, *where):
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _run(engine, actor, **kw):
    with session_scope(engine) as s:
        return import_file(s, actor, **kw)


def _csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def test_mixed_rows_report_every_bad_row_and_write_the_good_ones(engine, org):
    res = _run(engine, org.manager_n, kind="customers", path=MIXED)
    assert (res.created, res.updated, res.skipped) == (3, 0, 0)
    by_row = {e.row: e for e in res.errors}
    # row numbers as in the spreadsheet: header = 1, the blank line (row 7) keeps its number
    assert sorted(by_row) == [4, 5, 6, 9]
    assert (by_row[4].column, by_row[4].value) == ("客户名称", "")
    assert (by_row[5].column, by_row[5].value) == ("邮箱", "not-an-email")
    assert (by_row[6].column, by_row[6].value) == ("等级", "Z")
    assert (by_row[9].column, by_row[9].value) == ("负责人", "rep_s1")  # outside manager_n's teams
    assert all(e.reason for e in res.errors)
    assert res.to_dict()["error_rows"] == 4
    with session_scope(engine) as s:
        rows = {c.name: c for c in s.scalars(select(Customer))}
        assert set(rows) == {"上海星辰科技有限公司", "北京远航贸易有限公司", "Acme Robotics Co."}
        xc = rows["上海星辰科技有限公司"]
        assert (xc.tier, xc.status, xc.owner_id, xc.external_id) == ("A", "active", org.rep_n1.id, "EXT-001")
        assert xc.credit_code == "91310115MA1H000024" and xc.name_norm == "上海星辰科技"
        yh = rows["北京远航贸易有限公司"]
        assert (yh.tier, yh.status, yh.owner_id) == ("B", "prospect", org.manager_n.id)  # empty owner → importer
        assert rows["Acme Robotics Co."].owner_id == org.rep_n2.id  # username matched case-insensitively
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.entity == "customer")) == 3

    again = _run(engine, org.manager_n, kind="customers", path=MIXED)
    assert (again.created, again.updated, again.skipped) == (0, 0, 3)
    assert sorted({e.row for e in again.errors}) == [4, 5, 6, 9]
    assert _count(engine) == 3


def test_errors_csv_is_downloadable_and_formula_safe(engine, org):
    data = _csv_bytes([["name", "email"], ["Good Ltd", "a@b.cn"], ["=cmd|' /C calc'!A0", "bad"]])
    res = _run(engine, org.admin, kind="customers", path=data)
    report = res.errors_csv()
    assert report.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(report.decode("utf-8-sig"))))
    assert rows[0] == ["row", "column", "value", "reason"]
    assert rows[1][:3] == ["3", "email", "bad"]
    assert res.created == 1


def test_gbk_csv(engine, org):
    data = _csv_bytes([["客户名称", "电话", "行业"], ["杭州西湖茶业有限公司", "0571-8765 4321", "茶叶"],
                       ["苏州园林设计院", "0512-1234 5678", "设计"]], "gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    res = _run(engine, org.rep_n1, kind="customers", path=data)
    assert (res.created, res.errors) == (2, [])
    with session_scope(engine) as s:
        names = set(s.scalars(select(Customer.name)))
        assert names == {"杭州西湖茶业有限公司", "苏州园林设计院"}
        assert set(s.scalars(select(Customer.owner_id))) == {org.rep_n1.id}


def test_utf8_without_bom_and_semicolons(engine, org):
    data = b"Company name;Phone;Email\nNordwind GmbH;+49 30 1234567;info@nordwind.de\n"
    res = _run(engine, org.admin, kind="customers", path=io.BytesIO(data))
    assert res.created == 1 and res.errors == []


def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_xlsx_with_numeric_phone_and_date_cells(engine, org):
    data = _xlsx([
        ["客户名称", "手机", "下次联系日期", "等级"],
        ["成都熊猫文旅有限公司", 13912345678, datetime(2026, 12, 3), "B"],
        [None, None, None, None],
        ["重庆山城火锅", 13800001111, "2026年12月5日", "c"],
        ["", 13800002222, None, "A"],
    ])
    res = _run(engine, org.rep_n1, kind="customers", path=data)
    assert res.created == 2
    assert [(e.row, e.column) for e in res.errors] == [(5, "客户名称")]
    with session_scope(engine) as s:
        c = s.scalars(select(Customer).where(Customer.name == "成都熊猫文旅有限公司")).one()
        assert c.phone == "13912345678" and c.next_contact_on == date(2026, 12, 3) and c.tier == "B"
        c2 = s.scalars(select(Customer).where(Customer.name == "重庆山城火锅")).one()
        assert c2.next_contact_on == date(2026, 12, 5) and c2.tier == "C"


def test_header_suggestions_in_chinese_and_english():
    zh = suggest_mapping(["客户名称", "手机号", "电子邮箱", "统一社会信用代码", "所属行业", "地区", "客户等级",
                          "客户状态", "负责人", "客户来源", "备注", "外部ID", "随便一列"], "customers")
    assert zh == {"客户名称": "name", "手机号": "phone", "电子邮箱": "email", "统一社会信用代码": "credit_code",
                  "所属行业": "industry", "地区": "region", "客户等级": "tier", "客户状态": "status",
                  "负责人": "owner", "客户来源": "channel", "备注": "notes", "外部ID": "external_id", "随便一列": ""}
    en = suggest_mapping(["Company Name", "Mobile", "E-mail", "Credit Code", "Industry", "Region", "Tier",
                          "Status", "Account Owner", "Lead Source", "Notes", "External ID"], "customers")
    assert list(en.values()) == ["name", "phone", "email", "credit_code", "industry", "region", "tier", "status",
                                 "owner", "channel", "notes", "external_id"]
    # full-width characters, required markers and a second phone column
    assert suggest_mapping(["客户名称（必填）", "ＥＭＡＩＬ", "电话", "手机"], "customers") == {
        "客户名称（必填）": "name", "ＥＭＡＩＬ": "email", "电话": "phone", "手机": ""}
    # the same header means different fields for different kinds
    assert suggest_mapping(["客户名称"], "deals") == {"客户名称": "customer"}
    assert suggest_mapping(["联系人", "职位", "客户名称"], "contacts") == {
        "联系人": "name", "职位": "title", "客户名称": "customer"}


def test_explicit_mapping_overrides_and_is_checked(engine, org):
    data = _csv_bytes([["公司", "备用名", "X"], ["甲公司", "乙公司", "x@y.cn"]])
    res = _run(engine, org.admin, kind="customers", path=data, mapping={"备用名": "name", "X": "email"})
    assert res.created == 1
    with session_scope(engine) as s:
        assert s.scalars(select(Customer.name)).all() == ["乙公司"]
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        import_file(s, org.admin, kind="customers", path=data, mapping={"X": "no_such_field"})
    assert "mapping:X" in exc.value.errors
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        import_file(s, org.admin, kind="customers", path=data, mapping={"公司": "", "备用名": ""})
    assert "name" in exc.value.errors
    with session_scope(engine) as s, pytest.raises(ValidationError):
        import_file(s, org.admin, kind="customers", path=data, mapping={"Nope": "name"})


def test_dry_run_writes_nothing(engine, org):
    res = _run(engine, org.manager_n, kind="customers", path=MIXED, dry_run=True)
    assert res.dry_run and res.created == 3 and len({e.row for e in res.errors}) == 4
    assert _count(engine) == 0
    assert _count(engine, AuditLog) == 0


def test_rep_imports_only_for_themselves(engine, org):
    data = _csv_bytes([["客户名称", "负责人"], ["自己的客户", ""], ["同事的客户", "rep_n2"], ["也是自己的", "Rep_N1"]])
    res = _run(engine, org.rep_n1, kind="customers", path=data)
    assert res.created == 2 and [(e.row, e.column) for e in res.errors] == [(3, "负责人")]
    assert _count(engine, Customer, Customer.owner_id == org.rep_n1.id) == 2
    with session_scope(engine) as s, pytest.raises(PermissionDenied):
        import_file(s, org.rep_n1, kind="customers", path=data, on_duplicate="keep_both")
    with session_scope(engine) as s, pytest.raises(PermissionDenied):
        import_file(s, org.manager_n, kind="deals", path=data, create_missing=True)


def test_duplicates_of_a_colleagues_customer_are_skipped_without_details(engine, org):
    with session_scope(engine) as s:
        s.add(Customer(name="华东机电有限公司", name_norm="华东机电", owner_id=org.rep_s1.id, phone="021-66668888",
                       phone_norm="02166668888"))
    data = _csv_bytes([["客户名称", "电话"], ["华东机电", "13000000000"], ["新客户", "021 6666 8888"],
                       ["华东机电股份有限公司", ""]])
    res = _run(engine, org.rep_n1, kind="customers", path=data)
    assert (res.created, res.skipped) == (0, 3)
    notes = [o.note for o in res.outcomes]
    assert all("Rep_S1" in n and "#" not in n for n in notes[:2])  # owner named, no id of an invisible row
    assert notes[2] == "same record as row 2"
    assert _count(engine) == 1
    # updating a colleague's customer is refused row by row
    res = _run(engine, org.rep_n1, kind="customers", path=data, on_duplicate="update")
    assert res.updated == 0 and len(res.errors) == 3


def test_rows_repeated_within_one_file_are_one_customer(engine, org):
    data = _csv_bytes([["name", "phone"], ["Contoso Ltd", "010-12345678"], ["CONTOSO", ""],
                       ["Another", "+86 10 1234 5678"]])
    res = _run(engine, org.admin, kind="customers", path=data)
    assert (res.created, res.skipped) == (1, 2)
    assert {o.note for o in res.outcomes if o.action == "skipped"} == {"same record as row 2"}


def test_update_policy_overwrites_given_cells_and_is_idempotent(engine, org):
    _run(engine, org.manager_n, kind="customers", path=MIXED)
    data = _csv_bytes([["外部ID", "客户名称", "等级", "备注", "电话"],
                       ["EXT-001", "上海星辰科技", "B", "升级为 B", ""],
                       ["", "北京远航贸易", "A", "", ""]])
    res = _run(engine, org.manager_n, kind="customers", path=data, on_duplicate="update")
    assert (res.created, res.updated, res.errors) == (0, 2, [])
    with session_scope(engine) as s:
        xc = s.scalars(select(Customer).where(Customer.external_id == "EXT-001")).one()
        assert (xc.tier, xc.notes, xc.phone, xc.version) == ("B", "升级为 B", "021-5555 1234", 2)
        assert xc.name == "上海星辰科技有限公司"  # a spelling variant does not rename
        yh = s.scalars(select(Customer).where(Customer.name == "北京远航贸易有限公司")).one()
        assert (yh.tier, yh.version) == ("A", 2)
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "update")) == 2
    again = _run(engine, org.manager_n, kind="customers", path=data, on_duplicate="update")
    assert (again.updated, again.skipped) == (0, 2)


def test_keep_both_creates_a_second_record_once(engine, org):
    with session_scope(engine) as s:
        s.add(Customer(name="Globex", name_norm="globex", owner_id=org.rep_n1.id, region="North"))
    data = _csv_bytes([["name", "region"], ["Globex", "South"]])
    res = _run(engine, org.manager_n, kind="customers", path=data, on_duplicate="keep_both")
    assert res.created == 1
    again = _run(engine, org.manager_n, kind="customers", path=data, on_duplicate="keep_both")
    assert (again.created, again.skipped) == (0, 1)
    assert _count(engine) == 2


def test_progress_is_reported(engine, org):
    rows = [["name"]] + [[f"Customer {i}"] for i in range(120)]
    seen = []
    res = _run(engine, org.admin, kind="customers", path=_csv_bytes(rows), progress=lambda d, t: seen.append((d, t)))
    assert res.created == 120
    assert seen[-1] == (120, 120) and seen[0] == (50, 120)


def test_contacts_import(engine, org):
    _run(engine, org.manager_n, kind="customers", path=MIXED)
    data = _csv_bytes([["客户名称", "联系人", "职位", "手机", "邮箱", "主要联系人"],
                       ["上海星辰科技有限公司", "张伟", "采购经理", "13811112222", "zw@xingchen.cn", "是"],
                       ["上海星辰科技", "李娜", "CTO", "", "", "否"],
                       ["不存在的公司", "王五", "", "", "", ""],
                       ["北京远航贸易有限公司", "赵六", "", "123", "", ""],
                       ["上海星辰科技有限公司", "张伟", "", "", "", ""]])
    res = _run(engine, org.manager_n, kind="contacts", path=data)
    assert (res.created, res.skipped) == (2, 1)
    assert [(e.row, e.column) for e in res.errors] == [(4, "客户名称"), (5, "手机")]
    with session_scope(engine) as s:
        contacts = {c.name: c for c in s.scalars(select(Contact))}
        assert contacts["张伟"].is_primary and not contacts["李娜"].is_primary
    first = _csv_bytes([["客户名称", "联系人", "主要联系人"], ["北京远航贸易有限公司", "钱七", "否"]])
    assert _run(engine, org.manager_n, kind="contacts", path=first).created == 1
    with session_scope(engine) as s:  # a customer's first contact is its primary one, as in the app
        assert s.scalars(select(Contact).where(Contact.name == "钱七")).one().is_primary
    again = _run(engine, org.manager_n, kind="contacts", path=data)
    assert again.created == 0 and _count(engine, Contact) == 3
    # a rep cannot add contacts to a customer that is not theirs
    res = _run(engine, org.rep_n2, kind="contacts", path=data)
    assert res.created == 0 and {e.column for e in res.errors} >= {"客户名称"}


def test_create_missing_channel_for_customers(engine, org):
    data = _csv_bytes([["name", "source"], ["Initech", "Trade show"], ["Umbrella", "trade  show"]])
    res = _run(engine, org.admin, kind="customers", path=data)
    assert res.created == 0 and len(res.errors) == 2
    res = _run(engine, org.admin, kind="customers", path=data, create_missing=True)
    assert res.created == 2 and res.created_refs == {"channel": 1}


def test_read_table_keeps_spreadsheet_row_numbers():
    table = read_table(b"\n\nname,phone\n\nA,1\nB,2\n")
    assert table.header_row == 3 and [n for n, _ in table.rows] == [5, 6]


def test_unreadable_file_is_a_validation_error():
    with pytest.raises(ValidationError):
        importing.read_table(b"\xff\xfe\x00\x00" * 10 + bytes(range(128, 256)) * 3)
    with pytest.raises(ValidationError):
        importing.read_table(b"PK\x03\x04 not really a workbook")


def test_customers_need_an_active_owner(engine, org):
    with session_scope(engine) as s:
        s.add(User(username="gone", display_name="Gone Person", role="rep", team_id=org.team_n, active=False))
    data = _csv_bytes([["name", "owner"], ["Hooli", "Gone Person"], ["Pied Piper", "Gavin Belson"]])
    res = _run(engine, org.admin, kind="customers", path=data, create_missing=True)
    assert res.created == 0 and [e.column for e in res.errors] == ["owner", "owner"]
    assert res.created_refs == {}
