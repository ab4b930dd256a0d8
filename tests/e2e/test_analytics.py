"""Funnel and Weekly meeting in a real browser at 1280×720, in the light theme and the dark
one: the charts render; the meeting's PDF downloads and holds the week's won amount and the
Chinese section titles."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from services.access import Actor
from services.analytics.meeting import meeting_report
from services.clock import company_today
from services.db import make_engine, read_scope
from services.i18n import format_money
from services.models import User
from services.periods import period_for
from tests.e2e.conftest import ROOT, _free_port, _wait_http, login, screenshot, wait_for_app

pytestmark = pytest.mark.e2e
CHARTS = "[data-testid='stVegaLiteChart'], [data-testid='stArrowVegaLiteChart']"
DARK = ["--theme.base", "dark", "--theme.backgroundColor", "#0E1117", "--theme.secondaryBackgroundColor", "#262730",
        "--theme.textColor", "#FAFAFA"]


@pytest.fixture(scope="module")
def dark_app_url(e2e_db_url, tmp_path_factory):
    """The same app and database served with Streamlit's dark theme."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("e2e-dark") / "streamlit.log").open("w")
    env = dict(os.environ, DATABASE_URL=e2e_db_url, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none", *DARK],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + "/_stcore/health", proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def _charts_drawn(page, at_least: int) -> None:
    page.locator(CHARTS).first.wait_for(timeout=60_000)
    page.locator("canvas, svg.marks").first.wait_for(timeout=60_000)
    assert page.locator(CHARTS).count() >= at_least


def _week_won(e2e_db_url):
    engine = make_engine(e2e_db_url)
    with read_scope(engine) as s:
        director = Actor.from_user(s.scalar(select(User).where(User.username == "director")))
        week = period_for("week", company_today(s))
        won = meeting_report(s, director, week=week)["numbers"]["contract_amount"]["this_week"]
    engine.dispose()
    return won


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_funnel_and_meeting_render_at_1280x720(page, app_url, dark_app_url, e2e_db_url, theme):
    base = app_url if theme == "light" else dark_app_url
    page.set_viewport_size({"width": 1280, "height": 720})
    login(page, base, "director")
    page.goto(base + "/funnel")
    wait_for_app(page)
    _charts_drawn(page, 1)
    screenshot(page, f"funnel-{theme}.png")
    page.goto(base + "/meeting")
    wait_for_app(page)
    _charts_drawn(page, 1)
    assert page.locator("[data-testid='stMetric']").count() >= 5
    screenshot(page, f"meeting-{theme}.png")
    if theme == "light":
        with page.expect_download() as info:
            page.get_by_role("button", name="PDF 中文", exact=True).click()
        with open(info.value.path(), "rb") as f:
            data = f.read()
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
        assert format_money(_week_won(e2e_db_url), "zh_CN", compact=False) in text
        for title in ("本周对比上周与目标", "销售漏斗", "本周赢单", "排行榜"):
            assert title in text
        folder = screenshot(page, "meeting-light.png").parent
        (folder / "meeting.pdf").write_bytes(data)
