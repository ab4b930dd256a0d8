"""Real-browser fixtures: a `streamlit run` server on a free localhost port over a demo
company in a temporary SQLite file, and Debian's Chromium driven by Playwright.

Chromium: ``SALESOPS_CHROMIUM`` or /usr/bin/chromium (Debian's package; .ci/run installs it).
When no Chromium is found the e2e tests skip with a message (CI always has it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
_TMP_SHOTS = Path(tempfile.gettempdir()) / "salesops-screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
DEMO_PASSWORD = "demo1234"


def _chromium_path() -> str | None:
    return os.environ.get("SALESOPS_CHROMIUM") or shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.3)
    raise TimeoutError(url)


@pytest.fixture(scope="session")
def e2e_db_url(tmp_path_factory) -> str:
    """A demo company (English, seed 7) in a fresh SQLite file."""
    from services.db import make_engine, migrate
    from services.demo import build_demo

    path = tmp_path_factory.mktemp("e2e") / "salesops-e2e.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    build_demo(engine, scale="small", seed=7, lang="en")
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def app_url(e2e_db_url, tmp_path_factory):
    """Base URL of a running `streamlit run streamlit_app.py` on the demo database."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("e2e-log") / "streamlit.log").open("w")
    env = dict(os.environ, DATABASE_URL=e2e_db_url, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--server.runOnSave", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + "/_stcore/health", proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser():
    path = _chromium_path()
    if not path:
        if os.environ.get("CI"):
            pytest.fail("Chromium not found: install Debian's chromium (apt-get install -y chromium)")
        pytest.skip("Chromium not found: apt-get install -y chromium, or set SALESOPS_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 1000})
    p = ctx.new_page()
    p.set_default_timeout(30_000)
    yield p
    ctx.close()


def wait_for_app(page) -> None:
    """Wait until the Streamlit app is connected and its script finished running."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=60_000)
    # a rerun may start right after connecting: require "notRunning" twice with a pause between
    for _ in range(2):
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
        page.wait_for_timeout(400)


def login(page, app_url: str, username: str, password: str = DEMO_PASSWORD, path: str = "") -> None:
    """Open the app and sign in through the sign-in form."""
    page.goto(app_url + "/" + path.lstrip("/"))
    wait_for_app(page)
    page.locator("input[type='password']").first.wait_for()
    page.locator("[data-testid='stTextInput'] input:not([type='password'])").first.fill(username)
    page.locator("input[type='password']").first.fill(password)
    page.locator("[data-testid='stFormSubmitButton'] button, [data-testid='stBaseButton-secondaryFormSubmit'], [data-testid='stBaseButton-primaryFormSubmit']").first.click()
    page.wait_for_selector("[data-testid='stSidebarNav'], [data-testid='stSidebar']", timeout=60_000)
    wait_for_app(page)


def screenshot(page, name: str) -> Path:
    """A full-page PNG: into docs/screenshots/ when ``SALESOPS_REFRESH_SCREENSHOTS=1`` asks to
    refresh them, else into a temporary folder (tests never write into tracked files)."""
    folder = SHOTS if os.environ.get("SALESOPS_REFRESH_SCREENSHOTS") == "1" else _TMP_SHOTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    return path
