"""``python -m benchmarks`` — every page's reads at the large scale, beside what the database can do.

Builds the large demo company once (or reuses it) on SQLite and, when the server answers, on
PostgreSQL; brings the schema to head and the planner statistics up to date
(``services.db.refresh_statistics``); then for every page's service calls prints p50 / p95 ms
of ours, of the same question as hand-written SQL (written for the best plan on our indexes)
and, for analytics, of loading the tables into pandas, with the ratios and whether the
answers agree. With ``--chromium`` it adds the browser figures (each page's first visit,
the grid edit round trip, server memory after 10 sessions). It writes the tables to
docs/benchmarks.md with the machine and its load. It asserts nothing and is not part of the
test suite.

    python -m benchmarks                                  # SQLite /tmp/salesops-bench/large.db + PostgreSQL if up
    python -m benchmarks --no-postgres --runs 20 --only overview
    python -m benchmarks --sqlite data/large.db --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/salesops_bench
    python -m benchmarks --chromium                       # also the browser figures (SQLite copy)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.pages import Case, page_cases  # noqa: E402
from services.db import make_engine, migrate, read_scope, refresh_statistics  # noqa: E402
from services.models import Activity, Customer, Deal, Payment  # noqa: E402

DEFAULT_SQLITE = Path(tempfile.gettempdir()) / "salesops-bench" / "large.db"
DEFAULT_PG = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/salesops_bench")


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def load() -> str:
    try:
        return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _populated(engine) -> bool:
    try:
        with read_scope(engine) as s:
            return bool(s.scalar(select(func.count()).select_from(Deal)))
    except Exception:
        return False


def prepare(url: str, scale: str, keep_statistics: bool = False) -> tuple[object, str]:
    """The engine of a migrated, populated database with fresh statistics; builds the demo
    company when the database is empty. Returns (engine, what was done)."""
    engine = make_engine(url)
    migrate(engine)
    if _populated(engine):
        done = "reused"
    else:
        from services.demo import build_demo

        t0 = time.perf_counter()
        build_demo(engine, scale=scale, seed=42, lang="zh_CN")
        done = f"built ({scale}) in {time.perf_counter() - t0:.0f} s"
    if keep_statistics:
        return engine, f"{done}; statistics as they were"
    t0 = time.perf_counter()
    refresh_statistics(engine)
    return engine, f"{done}; statistics refreshed in {time.perf_counter() - t0:.1f} s"


def _postgres_url(url: str) -> str | None:
    """``url`` when its server answers (the database is created when missing), else None."""
    u = make_url(url)
    try:
        admin = make_engine(u.set(database="postgres").render_as_string(hide_password=False))
        with admin.connect() as c:
            exists = c.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": u.database}).scalar()
        if not exists:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text(f'CREATE DATABASE "{u.database}"'))
        admin.dispose()
        return url
    except Exception as exc:  # no server: SQLite only
        print(f"PostgreSQL not reachable ({type(exc).__name__}): SQLite only")
        return None


def timed(case: Case, runs: int, pandas_runs: int) -> dict:
    """ours and hand alternately (both see the same load), after warm-up; pandas a few times."""
    for _ in range(2):
        ours, hand = case.ours(), case.hand()
    t_ours, t_hand = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        ours = case.ours()
        t1 = time.perf_counter()
        hand = case.hand()
        t2 = time.perf_counter()
        t_ours.append((t1 - t0) * 1000)
        t_hand.append((t2 - t1) * 1000)
    t_pd: list[float] = []
    answer = None
    if case.pandas is not None:
        for _ in range(pandas_runs):
            t0 = time.perf_counter()
            answer = case.pandas()
            t_pd.append((time.perf_counter() - t0) * 1000)
    try:
        agree = (case.same is None or case.same(ours, hand)) and \
            (case.same_pandas is None or not t_pd or case.same_pandas(ours, answer))
        same = "yes" if agree else "NO"
    except Exception as exc:  # a comparison that cannot be made is reported, not raised
        same = f"? ({type(exc).__name__})"
    row = {"page": case.page, "name": case.name, "tab": case.tab, "ours50": pct(t_ours, .5), "ours95": pct(t_ours, .95),
           "hand50": pct(t_hand, .5), "hand95": pct(t_hand, .95), "same": same}
    row["ratio"] = row["ours50"] / row["hand50"] if row["hand50"] else float("nan")
    if t_pd:
        row["pd50"] = statistics.median(t_pd)
        row["pd_ratio"] = row["pd50"] / row["ours50"]
    return row


def fmt_row(r: dict) -> str:
    pd_cell = f"{r['pd50']:,.0f} ({r['pd_ratio']:,.0f}×)" if "pd50" in r else "–"
    return (f"| {r['page']} | {r['name']} | {r['ours50']:.1f} / {r['ours95']:.1f} | {r['hand50']:.1f} / "
            f"{r['hand95']:.1f} | {r['ratio']:.2f} | {pd_cell} | {r['same']} |")


HEADER = ("| page | read | ours p50 / p95 ms | hand-written SQL p50 / p95 ms | ours ÷ SQL | pandas p50 ms "
          "(÷ ours) | same |\n|---|---|---:|---:|---:|---:|---|")


def page_totals(rows: list[dict]) -> list[str]:
    """Service work per page and role on a first visit: the sum of the p50 of the reads it
    makes before any closed tab is opened."""
    sums: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        role = r["name"].rsplit(", ", 1)[-1]
        acc = sums.setdefault((r["page"], role), [0.0, 0.0])
        if r["tab"]:
            continue
        acc[0] += r["ours50"]
        acc[1] += r["hand50"]
    return [f"| {p} | {role} | {o:.1f} | {h:.1f} | {o / h:.2f} |" for (p, role), (o, h) in sums.items()]


def run_database(label: str, engine, prepared: str, args) -> list[str]:
    with read_scope(engine) as s:
        counts = {m.__tablename__: s.scalar(select(func.count()).select_from(m))
                  for m in (Customer, Deal, Activity, Payment)}
    head = [f"### {label}", "",
            f"{prepared}. Rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
            + f". {args.runs} runs each (ours and SQL alternately), pandas {args.pandas_runs}×. Start: {load()}.", "",
            HEADER]
    print("\n".join(head), flush=True)
    rows = []
    for case in page_cases(engine, with_pandas=not args.no_pandas, only=args.only):
        r = timed(case, args.runs, args.pandas_runs)
        rows.append(r)
        print(fmt_row(r), flush=True)
    tail = ["", f"End: {load()}.", "", "Service work per page on a first visit (Σ p50 of the reads it makes before a closed tab "
            "is opened, ms):", "",
            "| page | role | ours | hand-written SQL | ratio |", "|---|---|---:|---:|---:|", *page_totals(rows), ""]
    print("\n".join(tail), flush=True)
    return head + [fmt_row(r) for r in rows] + tail


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sqlite", default=str(DEFAULT_SQLITE), help="SQLite file (built when missing or empty)")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--pg-url", default=DEFAULT_PG, help="PostgreSQL database (created and built when missing)")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--scale", default="large", choices=("tiny", "small", "large"))
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--pandas-runs", type=int, default=1)
    ap.add_argument("--no-pandas", action="store_true")
    ap.add_argument("--only", help="only pages whose name contains this (overview, contracts, activities, deals, funnel, "
                         "performance, meeting)")
    ap.add_argument("--keep-statistics", action="store_true",
                    help="measure with the statistics the database has (no ANALYZE first)")
    ap.add_argument("--chromium", action="store_true", help="also the browser figures (headless Chromium)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"), help="'-' to write nothing")
    ap.add_argument("--title", default="", help="a label for this run in the written file (e.g. 'before')")
    args = ap.parse_args()

    started = datetime.now(UTC)
    lines = [f"## Run {started:%Y-%m-%d %H:%M} UTC{' — ' + args.title if args.title else ''}", "",
             f"Machine: {machine()}. {load()} at the start (2-core machine shared with other work: compare the "
             "ratios, absolute times move with the load).", ""]
    print("\n".join(lines), flush=True)
    targets = []
    if not args.no_sqlite:
        Path(args.sqlite).parent.mkdir(parents=True, exist_ok=True)
        targets.append(("SQLite", f"sqlite:///{Path(args.sqlite).resolve()}"))
    if not args.no_postgres and (url := _postgres_url(args.pg_url)):
        targets.append(("PostgreSQL", url))
    for label, url in targets:
        engine, prepared = prepare(url, args.scale, args.keep_statistics)
        version = ""
        with engine.connect() as c:
            version = (c.exec_driver_sql("select sqlite_version()").scalar() if label == "SQLite"
                       else c.exec_driver_sql("show server_version").scalar())
        lines += run_database(f"{label} {version}", engine, prepared, args)
        engine.dispose()
    if args.chromium:
        from benchmarks.browser import browser_figures

        lines += browser_figures(args.sqlite)
    if args.out != "-":
        write(Path(args.out), lines)


INTRO = """# Benchmarks: every page at the large scale

Written by `python -m benchmarks` (see `benchmarks/__main__.py`; not part of the test suite).
"ours" is the service call as the page makes it, in its own read transaction; "hand-written
SQL" is the same question as plain SQL on one connection, written for the best plan on our
indexes with the visible owner ids known in advance; "pandas" loads the tables involved into
pandas and answers there. Newest run first.
"""


def write(path: Path, lines: list[str]) -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else INTRO
    head, sep, rest = old.partition("\n## ")
    body = "\n".join(lines).rstrip() + "\n"
    path.write_text(head.rstrip() + "\n\n" + body + ("\n## " + rest if sep else ""), encoding="utf-8")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
