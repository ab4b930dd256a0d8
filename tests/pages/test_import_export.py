"""AppTest of the import page: role gate, upload → suggested mapping → preview → check
(nothing written, report shown) → import (rows written, summary) → second run idempotent."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from services.db import make_engine, migrate, session_scope
from services.models import Customer
from tests.conftest import build_org

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "import_export.py")
MIXED = (ROOT / "tests" / "data" / "customers_mixed.csv").read_bytes()


@contextmanager
def database(url):
    old = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = old


@pytest.fixture
def company(tmp_path):
    url = f"sqlite:///{tmp_path / 'import.db'}"
    eng = make_engine(url)
    migrate(eng)
    org = build_org(eng)
    yield url, eng, org
    eng.dispose()


def run(url, at: AppTest, element=None) -> AppTest:
    with database(url):
        (element.click() if element is not None else at).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def start(url, actor, locale="en") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["actor"] = actor
    at.session_state["locale"] = locale
    return run(url, at)


def count(eng) -> int:
    with session_scope(eng) as s:
        return s.scalar(select(func.count()).select_from(Customer))


def test_reps_are_turned_away(company):
    url, eng, org = company
    at = start(url, org.rep_n1)
    assert at.error and not at.get("file_uploader")


def test_upload_check_import_and_rerun(company):
    url, eng, org = company
    at = start(url, org.manager_n)
    assert at.title[0].value == "Import"
    at.get("file_uploader")[0].set_value(("customers.csv", MIXED, "text/csv"))
    run(url, at)
    # the mapping is suggested from the Chinese headers
    mapped = {sb.label: sb.value for sb in at.selectbox if sb.key and sb.key.startswith("import_map_")}
    assert mapped["客户名称"] == "name" and mapped["邮箱"] == "email" and mapped["外部ID"] == "external_id"
    assert at.dataframe  # the preview
    run(url, at, at.button(key="import_check"))
    assert "Check only: 3 would be created" in at.info[-1].value
    assert count(eng) == 0
    report = at.dataframe[-1].value
    assert report["Row"].tolist() == [4, 5, 6, 9]
    assert at.get("download_button")
    run(url, at, at.button(key="import_run"))
    assert "3 created" in at.success[-1].value
    assert count(eng) == 3
    run(url, at, at.button(key="import_run"))
    assert "0 created, 0 updated, 3 skipped" in at.success[-1].value
    assert count(eng) == 3


def test_remapping_a_column_in_the_page(company):
    url, eng, org = company
    at = start(url, org.admin, locale="zh_CN")
    data = "公司,备用名称\n甲公司,乙公司\n".encode()
    at.get("file_uploader")[0].set_value(("c.csv", data, "text/csv"))
    run(url, at)
    at.selectbox(key="import_map_customers_0").set_value("")
    at.selectbox(key="import_map_customers_1").set_value("name")
    run(url, at)
    run(url, at, at.button(key="import_run"))
    with session_scope(eng) as s:
        assert s.scalars(select(Customer.name)).all() == ["乙公司"]
    # keep both and create missing are offered to an admin
    assert len(at.radio(key="import_policy").options) == 3
    assert at.checkbox(key="import_create_missing")


def test_bad_mapping_is_explained(company):
    url, eng, org = company
    at = start(url, org.manager_n)
    at.get("file_uploader")[0].set_value(("c.csv", b"foo,bar\n1,2\n", "text/csv"))
    run(url, at)
    run(url, at, at.button(key="import_check"))
    assert at.error and "name" in at.error[-1].value
    assert count(eng) == 0
