"""The browser figures of ``python -m benchmarks --chromium``: a ``streamlit run`` server on a
copy of the SQLite demo database (the runs write: sign-ins, one grid edit), Debian's
Chromium through Playwright, and

- each page's first visit as the director, in a fresh signed-in browser session: chosen in
  the menu (click → the page's script has finished, the last time it went quiet, the 0.5 s
  quiet check after it not counted) and opened by its address (a full page load);
- the customer grid edit round trip as a rep (Save click → the "saved" message is shown and
  the script has finished), median of a few edits;
- the server's resident memory after 10 signed-in sessions have each opened the Overview.

Labels come from the message catalogs in the user's language, so the demo company may be
Chinese or English. Returns Markdown lines; asserts nothing."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SALESOPS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
PASSWORD = "demo1234"
APP = "[data-testid='stApp']"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settled(page, timeout: float = 60_000) -> None:
    page.wait_for_selector(f"{APP}[data-test-connection-state='CONNECTED']", timeout=timeout)
    for _ in range(2):  # a rerun may follow right after: "notRunning" twice, a moment apart
        page.wait_for_selector(f"{APP}[data-test-script-state='notRunning']", timeout=timeout)
        page.wait_for_timeout(150)


def _sign_in(page, url: str, username: str) -> None:
    page.goto(url)
    _settled(page)
    page.locator("input[type='password']").first.wait_for()
    page.locator("[data-testid='stTextInput'] input:not([type='password'])").first.fill(username)
    page.locator("input[type='password']").first.fill(PASSWORD)
    page.locator("[data-testid='stBaseButton-primaryFormSubmit'], [data-testid='stBaseButton-secondaryFormSubmit'], "
                 "[data-testid='stFormSubmitButton'] button").first.click()
    page.wait_for_selector("[data-testid='stSidebarNav']", timeout=60_000)
    _settled(page)


def _script_state(page) -> str | None:
    return page.evaluate(f"document.querySelector(\"{APP}\")?.getAttribute('data-test-script-state')")


def _quiet_after(page, t0: float, *, quiet: float = 0.5, timeout: float = 60) -> float:
    """Milliseconds from ``t0`` to the moment the script last stopped running, once it has run
    (or 3 s passed) and stayed stopped ``quiet`` seconds (a rerun right after counts)."""
    ran, stopped = False, None
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        state, now = _script_state(page), time.perf_counter()
        if state == "notRunning":
            stopped = stopped or now
            if (ran or now - start > 3) and now - stopped >= quiet:
                return (stopped - t0) * 1000
        else:
            ran = ran or state == "running"
            stopped = None
        time.sleep(0.02)
    raise TimeoutError("the page's script did not finish")


def _daily_jobs_done(url_db: str, *, deadline: float) -> float | None:
    """Seconds until the day's jobs (``services.jobs.DAILY_JOBS``) have all been claimed for
    today and the server's job thread let go of the database (the last job, the statistics,
    takes milliseconds); None after ``deadline`` seconds."""
    from services import settings
    from services.clock import company_today
    from services.db import make_engine, read_scope
    from services.jobs import DAILY_JOBS

    engine = make_engine(url_db)
    t0 = time.perf_counter()
    try:
        while time.perf_counter() - t0 < deadline:
            with read_scope(engine) as s:
                today = company_today(s).isoformat()
                if all(settings.get(s, key) == today for key, _job in DAILY_JOBS.values()):
                    time.sleep(1)  # the statistics job itself
                    return time.perf_counter() - t0
            time.sleep(0.25)
        return None
    finally:
        engine.dispose()


def _rss_mb(pid: int) -> float:
    """Resident memory of the server process and its children (MB)."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)], capture_output=True, text=True)
    return sum(int(x) for x in out.stdout.split()) / 1024


def browser_figures(sqlite_path: str, *, pages: bool = True) -> list[str]:
    """The figures as Markdown lines; ``pages=False`` skips the first visits (grid and memory
    only). ``BENCH_BROWSER_SHOT=file.png`` keeps a screenshot of a run that stopped."""
    if not Path(CHROMIUM).exists():
        return ["", "Browser figures: no Chromium found (SALESOPS_CHROMIUM or /usr/bin/chromium)."]
    from playwright.sync_api import sync_playwright
    from sqlalchemy import select

    from services.db import make_engine, read_scope
    from services.i18n import t
    from services.models import User

    tmp = Path(tempfile.mkdtemp(prefix="salesops-browser-"))
    db = tmp / "browser.db"
    db.touch(mode=0o600)  # the copy holds the demo's data: owner-only, as the app's own files
    shutil.copyfile(sqlite_path, db)
    url_db = f"sqlite:///{db}"
    engine = make_engine(url_db)
    with read_scope(engine) as s:
        rep = s.scalars(select(User).where(User.role == "rep", User.active.is_(True)).order_by(User.id)).first()
        director = s.scalars(select(User).where(User.role == "director").order_by(User.id)).first()
    engine.dispose()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp / "streamlit.log").open("w")
    env = dict(os.environ, DATABASE_URL=url_db, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    lines = ["", "### Browser (headless Chromium, SQLite copy of the same database)", ""]
    phase = "start"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                    break
            except Exception:
                time.sleep(0.3)
        from dashboard.nav import visible_pages

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)

            opened: list = []

            def session():
                ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
                p = ctx.new_page()
                p.set_default_timeout(60_000)
                opened.append(p)
                return ctx, p

            try:
                # the day's first sign-in starts the daily jobs (pool reclaim, forecast
                # snapshot, statistics) in a background thread: their time is reported, and
                # the pages are visited after them (a visit during them measures the job too)
                phase = "daily jobs"
                ctx, p = session()
                _sign_in(p, url, director.username)
                ctx.close()
                jobs_s = _daily_jobs_done(url_db, deadline=120)
                lines += ["", (f"The day's first sign-in started the daily jobs (pool reclaim, forecast snapshot, "
                               f"statistics) in the background: done {jobs_s:,.1f} s after it; the first visits "
                               "below were taken after them." if jobs_s is not None else
                               "The daily jobs had not finished 120 s after the day's first sign-in."),
                          ""]
                phase = "first visits"
                # first visit of each page (director), each in a fresh session: from the menu
                # (how a user moves) and by its address (a reload: page, socket, session)
                lines += ["| page (director, first visit) | from the menu, ms | by its address, ms |",
                          "|---|---:|---:|"] if pages else []
                for spec in visible_pages("director") if pages else ():
                    if spec.hidden:
                        continue
                    cells = ["–"] if spec.default else []  # the default page is where sign-in lands
                    for how in ("address",) if spec.default else ("menu", "address"):
                        ctx, p = session()
                        _sign_in(p, url, director.username)
                        t0 = time.perf_counter()
                        if how == "menu":
                            p.locator(f"[data-testid='stSidebarNav'] a[href$='/{spec.key}']").first.click()
                        else:
                            p.goto(f"{url}/{spec.key}")
                        cells.append(f"{_quiet_after(p, t0):,.0f}")
                        ctx.close()
                    lines.append(f"| {spec.key} | {' | '.join(cells)} |")
                # grid edit round trip (rep)
                phase = "grid"
                ctx, p = session()
                _sign_in(p, url, rep.username)
                p.goto(f"{url}/customers")
                _settled(p)
                # the grid remounts after a save: briefly two iframes, the live one is the last
                frame = p.frame_locator("iframe[title='st_aggrid.AgGrid.agGrid']").last
                frame.locator(".ag-row").first.wait_for()
                # the user's language or the browser's: accept either catalog's words
                langs = ("en", "zh_CN")
                save_label = re.compile("|".join(re.escape(t("customers.save", lang)) for lang in langs))
                saved_text = re.compile("|".join(re.escape(t("customers.saved", lang, created=0, updated=1, archived=0))
                                                 for lang in langs))
                trips, shown = [], []
                for i in range(5):
                    target = frame.locator(".ag-row[row-index='0'] [col-id='region']").first
                    target.scroll_into_view_if_needed()
                    target.dblclick()
                    editor = target.locator("input").first
                    editor.wait_for()
                    editor.fill(f"Bench region {i}")
                    t0 = time.perf_counter()
                    p.get_by_role("button", name=save_label).click(delay=150)
                    with contextlib.suppress(Exception):  # the save's run (a fast one may be missed)
                        p.wait_for_selector(f"{APP}[data-test-script-state='running']", timeout=3_000)
                    p.get_by_text(saved_text).first.wait_for()
                    shown.append((time.perf_counter() - t0) * 1000)
                    _settled(p)
                    trips.append((time.perf_counter() - t0) * 1000)
                    frame.locator(".ag-row").first.wait_for()
                ctx.close()
                lines += ["", f"Grid edit round trip (rep, Save click → \"saved\" shown): median "
                          f"{statistics.median(shown):,.0f} ms (min {min(shown):,.0f}, max {max(shown):,.0f}); "
                          f"→ saved and the script finished (two quiet checks 150 ms apart): median "
                          f"{statistics.median(trips):,.0f} ms (min {min(trips):,.0f}, max {max(trips):,.0f}), "
                          f"{len(trips)} edits."]
                # memory after 10 sessions
                phase = "memory"
                contexts = []
                for _ in range(10):
                    ctx, p = session()
                    _sign_in(p, url, director.username)
                    contexts.append(ctx)
                time.sleep(2)
                lines.append(f"Server memory after 10 signed-in sessions: {_rss_mb(proc.pid):,.0f} MB resident.")
                for ctx in contexts:
                    ctx.close()
            except Exception:  # keep what the page showed (the browser closes with this block)
                if os.environ.get("BENCH_BROWSER_SHOT") and opened:
                    with contextlib.suppress(Exception):
                        opened[-1].screenshot(path=os.environ["BENCH_BROWSER_SHOT"], full_page=True)
                raise
            browser.close()
    except Exception as exc:  # a figure that could not be taken is reported, not raised
        lines.append(f"(browser run stopped in {phase}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]})")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(lines), flush=True)
    return lines
