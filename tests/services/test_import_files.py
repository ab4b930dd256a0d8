"""Files that used to lose rows or stall the server: each gets a clear answer — the whole
file refused with one line saying why and what to do, or an error naming row and column —
on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from services.db import session_scope
from services.dedupe import normalize_name
from services.importing import FileRefused, import_file, read_table
from services.models import Activity, Contact, Customer, Deal, Product

NUL = "\x00"


def _csv(rows, encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def _xlsx(build) -> bytes:
    wb = Workbook()
    build(wb.active)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _names(engine) -> list[str]:
    with session_scope(engine) as s:
        return sorted(s.scalars(select(Customer.name)))


# ---------------------------------------------------------------------------
# CSV


def test_a_cell_longer_than_the_csv_field_limit_is_an_error_on_its_row(engine, org):
    long_notes = "很长的备注" * 30_000  # 150,000 characters, past csv's 131,072 default
    data = _csv([["name", "notes"], ["Before Ltd", "ok"], ["Huge Notes Ltd", long_notes], ["After Ltd", "ok"]])
    res = import_file(engine, org.admin, kind="customers", path=data)
    assert res.failure is None and res.created == 2
    [err] = res.errors
    assert (err.row, err.column) == (3, "notes") and "5000" in err.reason
    assert len(err.value) < 300  # the report quotes a runaway cell, it does not carry it
    assert _names(engine) == ["After Ltd", "Before Ltd"]


def test_an_unclosed_quote_refuses_the_file_at_its_line(engine, org):
    lines = ["name,phone,region", '"Acme Ltd,13800000000,North']
    lines += [f"Customer {i},1380000{i:04d},South" for i in range(11)]
    lines += ['"Other, Inc",13900000000,East', "Last Ltd,13900000001,West"]
    data = ("\n".join(lines) + "\n").encode()
    with pytest.raises(FileRefused) as exc:
        read_table(data)
    assert "line 14" in exc.value.errors["file"] and "quote" in exc.value.errors["file"]
    with pytest.raises(FileRefused):
        import_file(engine, org.admin, kind="customers", path=data)
    assert _names(engine) == []


def test_a_cell_that_swallowed_rows_is_an_error_on_its_row(engine, org):
    # the stray quote happens to close right before a comma: the file parses, but one cell
    # now holds two rows — that row is refused, naming the lines, never imported as a name
    data = (b'name,phone,region\nGood Ltd,13800000000,North\n"Acme Ltd,13800000001,North\n'
            b'Beta Ltd,13800000002,South\nGamma Ltd",13800000003,East\nLast Ltd,13800000004,West\n')
    res = import_file(engine, org.admin, kind="customers", path=data)
    assert res.created == 2 and _names(engine) == ["Good Ltd", "Last Ltd"]
    [err] = res.errors
    assert (err.row, err.column) == (3, "name") and "3–5" in err.reason


def test_a_row_with_more_cells_than_the_header_is_refused(engine, org):
    data = b"name,phone\nAcme, Inc,13800000000\nGood Ltd,13800000001\n"
    res = import_file(engine, org.admin, kind="customers", path=data)
    assert res.created == 1 and [(e.row, e.column) for e in res.errors] == [(2, "phone")]


def test_shift_jis_and_big5_are_refused_not_imported_as_garbled_chinese(engine, org):
    sjis = _csv([["会社名", "電話", "業種"], ["株式会社サンプル", "03-1234-5678", "製造業"],
                 ["東京トレーディング株式会社", "03-8765-4321", "商社"]], "shift_jis")
    big5 = _csv([["客戶名稱", "電話", "行業"], ["台北科技股份有限公司", "02-1234-5678", "科技"],
                 ["高雄貿易有限公司", "07-8765-4321", "貿易"]], "big5")
    sjis.decode("gb18030")  # the old reader's fallback "succeeded": this is the garbling
    for data in (sjis, big5):
        with pytest.raises(FileRefused) as exc:
            import_file(engine, org.admin, kind="customers", path=data, mapping={"会社名": "name"}
                        if data is sjis else {"客戶名稱": "name"})
        message = exc.value.errors["file"]
        assert "UTF-8" in message and ("Shift-JIS" in message if data is sjis else "Big5" in message)
    assert _names(engine) == []
    # told the encoding, the same Shift-JIS file imports correctly
    res = import_file(engine, org.admin, kind="customers", path=sjis, mapping={"会社名": "name"},
                      encoding="shift_jis")
    assert res.created == 2 and "株式会社サンプル" in _names(engine)


def test_utf8_with_and_without_bom_and_gbk_keep_working(engine, org):
    rows = [["客户名称", "电话"], ["杭州西湖茶业有限公司", "0571-8765 4321"]]
    for i, data in enumerate((_csv(rows, "utf-8-sig"), _csv(rows, "utf-8"), _csv(rows, "gbk"),
                              _csv([["客户名称"], ["𠀀生僻字测试公司"]], "gb18030"))):
        table = read_table(data)
        assert table.headers[0] == "客户名称", i
        assert table.rows[0][1][0] in ("杭州西湖茶业有限公司", "𠀀生僻字测试公司"), i
    assert import_file(engine, org.admin, kind="customers", path=_csv(rows, "gbk")).created == 1


# ---------------------------------------------------------------------------
# XLSX


def test_a_workbook_with_a_far_away_cell_is_refused_fast():
    def build(ws):
        ws.append(["name", "phone"])
        ws.append(["Acme Ltd", "13800000000"])
        ws["XFD1048576"] = "x"

    data = _xlsx(build)
    assert len(data) < 10_000
    started = time.monotonic()
    with pytest.raises(FileRefused) as exc:
        read_table(data)
    assert time.monotonic() - started < 5
    assert "XFD1048576" in exc.value.errors["file"] and "far outside" in exc.value.errors["file"]


def test_a_styled_but_empty_far_away_cell_costs_nothing():
    from openpyxl.styles import Font

    def build(ws):
        ws.append(["name"])
        ws.append(["Acme Ltd"])
        ws["XFD1048576"].font = Font(bold=True)  # stored, no value; the sheet claims A1:XFD1048576

    started = time.monotonic()
    table = read_table(_xlsx(build))
    assert time.monotonic() - started < 5
    assert [v for _, v in table.rows] == [["Acme Ltd"]]


def test_merged_cells_and_formulas_without_a_value_are_reported_per_cell(engine, org):
    def build(ws):
        ws.append(["name", "region", "notes"])
        ws.append(["Merged Region Ltd", "North", "a"])
        ws.append(["Below The Merge Ltd", None, "b"])
        ws.append(["Formula Ltd", "South", "=A4&\" note\""])
        ws.append(["Plain Ltd", "East", "c"])
        ws.merge_cells("B2:B3")

    data = _xlsx(build)  # openpyxl saves formulas without a cached result, as some tools do
    res = import_file(engine, org.admin, kind="customers", path=data)
    assert res.created == 2
    errors = {(e.row, e.column): e.reason for e in res.errors}
    assert set(errors) == {(3, "region"), (4, "notes")}
    assert "B2" in errors[(3, "region")] and "North" in errors[(3, "region")]
    assert '=A4&" note"' in errors[(4, "notes")]
    assert _names(engine) == ["Merged Region Ltd", "Plain Ltd"]
    # a merged cell in a column that is not imported does not stop the row
    res = import_file(engine, org.admin, kind="customers", path=data, mapping={"region": "", "notes": ""},
                      on_duplicate="skip")
    assert (3, "region") not in {(e.row, e.column) for e in res.errors}


# ---------------------------------------------------------------------------
# NUL and other control characters, in every text column of every kind


def test_nul_in_every_text_column_is_removed_on_both_databases(engine, org):
    with session_scope(engine) as s:
        s.add(Product(name="CRM专业版"))
    n = NUL
    done = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    customers = _csv([["name", "external_id", "credit_code", "industry", "region", "phone", "email", "address",
                       "notes", "owner", "channel"],
                      [f"Nul{n} Co", f"C{n}-1", "", f"Soft{n}ware", f"No{n}rth", f"1380{n}0000000",
                       f"a{n}@b.cn", f"Road{n} 1", f"line{n}\x07 one", f"rep{n}_n1", ""]])
    res = import_file(engine, org.admin, kind="customers", path=customers)
    assert (res.created, res.errors, res.failure) == (1, [], None)
    contacts = _csv([["customer", "name", "title", "phone", "email", "notes"],
                     [f"Nul{n} Co", f"Zhang{n} Wei", f"CT{n}O", f"139{n}00000000", f"z{n}@b.cn", f"n{n}otes"]])
    assert import_file(engine, org.admin, kind="contacts", path=contacts).created == 1
    deals = _csv([["external_id", "name", "customer", "owner", "product", "amount", "stage", "next_step",
                   "lost_reason", "channel"],
                  [f"D{n}-1", f"Big{n} deal", f"Nul{n} Co", f"rep_n1{n}", f"CRM{n}专业版", "100", f"Qual{n}ify",
                   f"call{n} back", "", ""]])
    res = import_file(engine, org.admin, kind="deals", path=deals)
    assert (res.created, res.errors, res.failure) == (1, [], None)
    activities = _csv([["external_id", "customer", "kind", "done_at", "owner", "deal", "contact", "outcome", "notes",
                        "next_step", "location"],
                       [f"A{n}-1", f"Nul{n} Co", f"ca{n}ll", done, "rep_n1", f"Big deal{n}", f"Zhang Wei{n}",
                        f"good{n}", f"talked{n} a lot", f"send{n} quote", f"Shang{n}hai"]])
    res = import_file(engine, org.admin, kind="activities", path=activities)
    assert (res.created, res.errors, res.failure) == (1, [], None)
    with session_scope(engine) as s:
        c = s.scalars(select(Customer)).one()
        assert (c.name, c.external_id, c.industry, c.notes, c.owner_id) == ("Nul Co", "C-1", "Software",
                                                                            "line one", org.rep_n1.id)
        assert s.scalars(select(Contact.title)).one() == "CTO"
        d = s.scalars(select(Deal)).one()
        assert (d.name, d.external_id, d.next_step, d.customer_id) == ("Big deal", "D-1", "call back", c.id)
        a = s.scalars(select(Activity)).one()
        assert (a.kind, a.notes, a.location, a.deal_id) == ("call", "talked a lot", "Shanghai", d.id)
        texts = [*s.scalars(select(Customer.name)), *s.scalars(select(Activity.outcome))]
        assert not any(NUL in t for t in texts)


def test_long_free_text_has_one_limit_for_every_kind(engine, org):
    with session_scope(engine) as s:
        s.add(Customer(name="Long Notes Co", name_norm=normalize_name("Long Notes Co"), owner_id=org.rep_n1.id))
    done = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    data = _csv([["customer", "done_at", "notes"], ["Long Notes Co", done, "x" * 5001],
                 ["Long Notes Co", done, "y" * 5000]])
    res = import_file(engine, org.rep_n1, kind="activities", path=data)
    assert res.created == 1 and [(e.row, e.column) for e in res.errors] == [(2, "notes")]
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == 1
