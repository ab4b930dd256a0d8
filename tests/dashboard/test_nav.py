"""The page registry: a role sees only its pages, and only pages whose file exists; the daily
pool reclaim runs at most once a day."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from dashboard.nav import APP_DIR, PAGES, SECTIONS, run_daily_jobs, visible_pages
from services import settings
from services.db import session_scope
from services.i18n import t
from services.models import Customer


@pytest.fixture
def app_dir(tmp_path):
    (tmp_path / "pages").mkdir()
    for name in ("overview", "customers", "customer_detail", "admin"):
        (tmp_path / "pages" / f"{name}.py").write_text("")
    return tmp_path


def test_only_existing_files_are_registered(app_dir):
    assert [p.key for p in visible_pages("admin", app_dir)] == ["overview", "customers", "customer_detail", "admin"]
    (app_dir / "pages" / "customers.py").unlink()
    assert "customers" not in [p.key for p in visible_pages("admin", app_dir)]


@pytest.mark.parametrize(("role", "admin"), [("admin", True), ("director", True), ("manager", False), ("rep", False)])
def test_admin_page_only_for_admin_and_director(app_dir, role, admin):
    assert ("admin" in [p.key for p in visible_pages(role, app_dir)]) is admin


def test_registry_is_consistent():
    keys = [p.key for p in PAGES]
    assert len(keys) == len(set(keys))
    assert [p.key for p in PAGES if p.default] == ["overview"]
    assert all(p.section in SECTIONS and p.file == f"pages/{p.key}.py" for p in PAGES)
    assert [p.key for p in PAGES if p.hidden] == ["customer_detail"]


def test_daily_reclaim_runs_once_a_day(engine, org):
    pytest.importorskip("services.customers").reclaim_stale_customers  # noqa: B018
    today = date(2026, 6, 1)
    with session_scope(engine) as s:
        s.add(Customer(name="Stale", tier="C", owner_id=org.rep_n1.id))
    first = run_daily_jobs(engine, today=today)
    assert isinstance(first, int)
    assert run_daily_jobs(engine, today=today) is None  # same day: skipped
    with session_scope(engine) as s:
        assert settings.get(s, "pool_last_reclaim_on") == "2026-06-01"
    assert isinstance(run_daily_jobs(engine, today=today + timedelta(days=1)), int)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_menu_label_is_the_page_title(locale):
    """The menu entry a user clicks and the title of the page it opens say the same."""
    checked = 0
    for page in PAGES:
        path = APP_DIR / page.file
        if not path.exists():
            continue
        titles = re.findall(r"st\.title\(tr\(\"([\w.]+)\"\)\)", path.read_text(encoding="utf-8"))
        assert titles, f"{page.file} has no st.title(tr(...))"
        assert {t(key, locale) for key in titles} == {t(page.title_key, locale)}, page.file
        checked += 1
    assert checked >= 8
