"""The page registry: a role sees only its pages, and only pages whose file exists; the daily
pool reclaim runs at most once a day."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from dashboard.nav import APP_DIR, PAGES, SECTIONS, _jobs_box, start_daily_jobs, visible_pages
from services import settings
from services.db import session_scope
from services.i18n import t
from services.models import Customer, utcnow


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


def test_daily_jobs_start_in_the_background_once_a_day(engine, org):
    """A customer silent for longer than its tier's reclaim days goes to the pool when the
    day's jobs run; the same day they do not start again, the next day they do."""
    stale_since = utcnow() - timedelta(days=100)
    with session_scope(engine) as s:
        s.add(Customer(name="Stale", tier="C", owner_id=org.rep_n1.id, created_at=stale_since,
                       last_contact_at=stale_since))
    _jobs_box().clear()
    today = date(2026, 6, 1)
    first = start_daily_jobs(engine, today=today)
    assert first is not None
    first.join(timeout=30)
    with session_scope(engine) as s:
        assert s.scalar(select(Customer.owner_id).where(Customer.name == "Stale")) is None
        s.add(Customer(name="Stale too", tier="C", owner_id=org.rep_n1.id, created_at=stale_since,
                       last_contact_at=stale_since))
    assert start_daily_jobs(engine, today=today) is None  # same day: not started again
    with session_scope(engine) as s:
        assert s.scalar(select(Customer.owner_id).where(Customer.name == "Stale too")) == org.rep_n1.id
    _jobs_box().clear()
    with session_scope(engine) as s:  # the next company day (another server ran nothing yet)
        settings.put(s, "pool_last_reclaim_on", "2000-01-01")
    second = start_daily_jobs(engine, today=today + timedelta(days=1))
    assert second is not None
    second.join(timeout=30)
    with session_scope(engine) as s:
        assert s.scalar(select(Customer.owner_id).where(Customer.name == "Stale too")) is None


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


def test_another_servers_write_changes_the_data_version(engine, org, monkeypatch):
    """Cached reads refresh when another app server (or the CLI) writes: the version follows
    the newest audit row, read at most every POLL_SECONDS."""
    from dashboard import state
    from services.audit import record

    monkeypatch.setattr(state, "get_engine", lambda: engine)
    monkeypatch.setattr(state, "POLL_SECONDS", 0.0)
    state._version_box().update(v=0, seen=0, checked=float("-inf"))
    before = state.data_version()
    assert state.data_version() == before  # nothing happened: the same key
    with session_scope(engine) as s:  # a write elsewhere: not through this process's bump
        record(s, org.admin, "customer", 1, "update", {"notes": ["a", "b"]})
    assert state.data_version() > before
