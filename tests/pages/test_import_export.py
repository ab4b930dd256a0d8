"""AppTest of the import page: role gate, upload → suggested mapping → preview → check
(nothing written, report shown) → import (rows written, summary) → second run idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from services.db import session_scope
from services.models import Customer
from tests.pages.conftest import ROOT, open_page, rerun

PAGE = "pages/import_export.py"
MIXED = (ROOT / "tests" / "data" / "customers_mixed.csv").read_bytes()


def count(eng) -> int:
    with session_scope(eng) as s:
        return s.scalar(select(func.count()).select_from(Customer))


def test_reps_are_turned_away(org_company):
    _, eng, org = org_company
    at = open_page(PAGE, org.rep_n1)
    assert at.error and not at.get("file_uploader")


def test_upload_check_import_and_rerun(org_company):
    _, eng, org = org_company
    at = open_page(PAGE, org.manager_n)
    assert at.title[0].value == "Import"
    at.get("file_uploader")[0].set_value(("customers.csv", MIXED, "text/csv"))
    rerun(at)
    # the mapping is suggested from the Chinese headers
    mapped = {sb.label: sb.value for sb in at.selectbox if sb.key and sb.key.startswith("import_map_")}
    assert mapped["客户名称"] == "name" and mapped["邮箱"] == "email" and mapped["外部ID"] == "external_id"
    assert at.dataframe  # the preview
    rerun(at, at.button(key="import_check"))
    assert "Check only: 3 would be created" in at.warning[-1].value
    assert count(eng) == 0
    report = at.dataframe[-1].value
    assert report["Row"].tolist() == [4, 5, 6, 9]
    assert at.get("download_button")
    rerun(at, at.button(key="import_run"))
    assert "3 created" in at.warning[-1].value and not at.success  # rows with errors: not a green box
    assert count(eng) == 3
    rerun(at, at.button(key="import_run"))
    assert "0 created, 0 updated, 3 skipped" in at.warning[-1].value
    assert count(eng) == 3


def test_an_import_where_every_row_failed_is_shown_in_red(org_company):
    _, eng, org = org_company
    at = open_page(PAGE, org.manager_n)
    bad = b"name,email\n,a@x.com\n,b@x.com\n,c@x.com\n"
    at.get("file_uploader")[0].set_value(("c.csv", bad, "text/csv"))
    rerun(at)
    rerun(at, at.button(key="import_run"))
    assert not at.success and "3 rows with errors" in at.error[-1].value
    assert count(eng) == 0


def test_remapping_a_column_in_the_page(org_company):
    _, eng, org = org_company
    at = open_page(PAGE, org.admin, locale="zh_CN")
    data = "公司,备用名称\n甲公司,乙公司\n".encode()
    at.get("file_uploader")[0].set_value(("c.csv", data, "text/csv"))
    rerun(at)
    at.selectbox(key="import_map_customers_0").set_value("")
    at.selectbox(key="import_map_customers_1").set_value("name")
    rerun(at)
    rerun(at, at.button(key="import_run"))
    with session_scope(eng) as s:
        assert s.scalars(select(Customer.name)).all() == ["乙公司"]
    # keep both and create missing are offered to an admin
    assert len(at.radio(key="import_policy").options) == 3
    assert at.checkbox(key="import_create_missing")


def test_bad_mapping_is_explained(org_company):
    _, eng, org = org_company
    at = open_page(PAGE, org.manager_n)
    at.get("file_uploader")[0].set_value(("c.csv", b"foo,bar\n1,2\n", "text/csv"))
    rerun(at)
    rerun(at, at.button(key="import_check"))
    assert at.error and "name" in at.error[-1].value
    assert count(eng) == 0


def test_a_file_in_another_encoding_is_refused_then_read_as_chosen(org_company):
    _, eng, org = org_company
    at = open_page(PAGE, org.admin)
    sjis = "会社名,電話\n株式会社サンプル,03-1234-5678\n東京トレーディング株式会社,03-8765-4321\n".encode("shift_jis")
    at.get("file_uploader")[0].set_value(("jp.csv", sjis, "text/csv"))
    rerun(at)
    assert len(at.error) == 1 and "Shift" in at.error[0].value and "CSV UTF" in at.error[0].value
    assert not at.dataframe  # no preview of garbled text
    at.selectbox(key="import_encoding").set_value("shift_jis")
    rerun(at)
    assert not at.error and at.dataframe
    at.selectbox(key="import_map_customers_0").set_value("name")
    rerun(at)
    rerun(at, at.button(key="import_run"))
    assert "2 created" in at.success[-1].value
    with session_scope(eng) as s:
        assert "株式会社サンプル" in s.scalars(select(Customer.name)).all()


def test_a_workbook_with_far_away_cells_is_refused_in_one_message(org_company):
    import io

    from openpyxl import Workbook

    _, eng, org = org_company
    wb = Workbook()
    wb.active.append(["客户名称"])
    wb.active.append(["远方公司"])
    wb.active["XFD1048576"] = "x"
    out = io.BytesIO()
    wb.save(out)
    at = open_page(PAGE, org.manager_n)
    at.get("file_uploader")[0].set_value(("far.xlsx", out.getvalue(), "application/octet-stream"))
    rerun(at)
    assert len(at.error) == 1 and "XFD1048576" in at.error[0].value
    assert count(eng) == 0
