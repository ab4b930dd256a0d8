"""Exports: formula neutralisation (CSV and XLSX), the grid's filter and access rules, and
a round trip back through the import."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from services.customers import CustomerFilter, _norm_columns
from services.db import session_scope
from services.exporting import dataframe_to_csv, dataframe_to_xlsx, export_customers, neutralize
from services.importing import import_file
from services.models import AuditLog, Customer

NASTY = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=y", '=HYPERLINK("http://evil","x")', "plain", "a=b"]


def test_neutralize():
    assert [neutralize(v) for v in NASTY] == ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\t=x", "'\r=y",
                                            '\'=HYPERLINK("http://evil","x")', "plain", "a=b"]
    assert neutralize(-5) == -5 and neutralize(None) is None and neutralize(Decimal("-1.5")) == Decimal("-1.5")


def test_csv_cells_are_neutralised():
    df = pd.DataFrame({"name": NASTY, "n": range(len(NASTY))})
    data = dataframe_to_csv(df)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["name", "n"]
    assert all(not r[0].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows[1:])
    assert rows[-1] == ["a=b", "8"]


def test_xlsx_has_no_formulas_and_keeps_numbers():
    df = pd.DataFrame({"=name": NASTY + ["bad\x01char"], "amount": [Decimal("-1.5")] * (len(NASTY) + 1)})
    wb = load_workbook(io.BytesIO(dataframe_to_xlsx(df, sheet_name="Customers")))
    ws = wb["Customers"]
    cells = [c for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert ws["A1"].value == "'=name" and ws["A2"].value == "'=1+1" and ws["A11"].value == "badchar"
    assert ws["B2"].value == -1.5 and ws["B2"].data_type == "n"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=20), min_size=1, max_size=5))
def test_no_exported_text_can_start_a_formula(values):
    df = pd.DataFrame({"v": values})
    rows = list(csv.reader(io.StringIO(dataframe_to_csv(df).decode("utf-8-sig"), newline="")))
    for cell in (r[0] for r in rows[1:] if r):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    ws = load_workbook(io.BytesIO(dataframe_to_xlsx(df))).active
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def _seed(engine, org):
    with session_scope(engine) as s:
        for i, (name, owner, tier) in enumerate([
            ("=HYPERLINK(\"http://x\")", org.rep_n1.id, "A"), ("北方客户", org.rep_n1.id, "B"),
            ("Team mate's", org.rep_n2.id, "A"), ("South Co", org.rep_s1.id, "A"), ("Pool Co", None, "C"),
        ]):
            s.add(Customer(name=name, owner_id=owner, tier=tier, phone=f"010-1234567{i}",
                           notes="@secret" if i == 0 else None,
                           **_norm_columns({"name": name, "phone": f"010-1234567{i}"})))


def test_export_follows_filter_and_access(engine, org):
    _seed(engine, org)
    with session_scope(engine) as s:
        data = export_customers(s, org.rep_n1, filters=CustomerFilter(tier="A"), fmt="csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0][:3] == ["ID", "Name", "Credit code"]
    assert [r[1] for r in rows[1:]] == ["'=HYPERLINK(\"http://x\")"]
    assert rows[1][-1] == "'@secret"
    with session_scope(engine) as s:
        data = export_customers(s, org.rep_n1, filters={"search": None}, fmt="xlsx")
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "export")) == 2
    ws = load_workbook(io.BytesIO(data)).active
    names = [r[1] for r in ws.iter_rows(min_row=2, values_only=True)]
    phones = {r[1]: r[9] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert sorted(names) == sorted(["'=HYPERLINK(\"http://x\")", "北方客户", "Pool Co"])
    assert phones["Pool Co"] is None and phones["北方客户"] == "010-12345671"  # pool: private hidden
    owners = {r[1]: r[7] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert owners["Pool Co"] == "public pool"


def test_export_walks_every_page(engine, org):
    with session_scope(engine) as s:
        s.add_all([Customer(name=f"C{i:04d}", name_norm=f"c{i:04d}", owner_id=org.rep_n1.id) for i in range(1203)])
    with session_scope(engine) as s:
        rows = export_customers(s, org.manager_n, fmt="csv").decode("utf-8-sig").strip().split("\r\n")
    assert len(rows) == 1204


def test_export_then_import_round_trip(engine, org):
    _seed(engine, org)
    with session_scope(engine) as s:
        data = export_customers(s, org.manager_n, fmt="xlsx")
    with session_scope(engine) as s:
        res = import_file(s, org.manager_n, kind="customers", path=data)
    # every exported customer is recognised as already there
    assert res.created == 0 and res.skipped == 4
