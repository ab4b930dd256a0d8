"""Time ``build_demo`` — by default the ``large`` company on a fresh SQLite file.

    python benchmarks/demo_build.py                     # large, SQLite (temp file)
    python benchmarks/demo_build.py --scale small
    python benchmarks/demo_build.py --postgres          # also PostgreSQL (scratch schema, dropped after)

Prints the total, the phases (generation, bulk insert per table with rows/s, index and
constraint rebuild, commit, ANALYZE) and the database size. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from services.db import make_engine, migrate  # noqa: E402
from services.demo import build_demo  # noqa: E402

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def load() -> str:
    try:
        return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return ""


def report(label: str, summary, wall: float, cpu: float, size_mb: float | None) -> None:
    total_rows = sum(summary.counts.values())
    print(f"\n== {label}: {wall:.1f} s wall ({cpu:.1f} s CPU in this process), {total_rows:,} rows "
          f"({total_rows / wall:,.0f} rows/s overall)" + (f", database {size_mb:,.1f} MB" if size_mb is not None else ""))
    print(f"   {load()} (other work on the machine stretches the wall time)")
    print(f"{'phase':<34}{'rows':>12}{'seconds':>10}{'rows/s':>12}")
    for phase, seconds in summary.timings.items():
        rows = summary.counts.get(phase.removeprefix("insert "), 0) if phase.startswith("insert ") else 0
        if phase.startswith("insert ") and rows < 1_000:
            continue  # small tables: noise
        rate = f"{rows / seconds:,.0f}" if rows and seconds > 0 else ""
        print(f"{phase:<34}{(f'{rows:,}' if rows else ''):>12}{seconds:>10.2f}{rate:>12}")
    small = sum(s for p, s in summary.timings.items()
                if p.startswith("insert ") and summary.counts.get(p.removeprefix("insert "), 0) < 1_000)
    print(f"{'insert (tables < 1,000 rows)':<34}{'':>12}{small:>10.2f}")


def on_sqlite(scale: str, seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate(engine)
        started, cpu = time.perf_counter(), time.process_time()
        summary = build_demo(engine, scale=scale, seed=seed, lang="zh_CN")
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        engine.dispose()
        size = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1_048_576
        report(f"SQLite, scale={scale}", summary, wall, cpu, size)


def on_postgres(scale: str, seed: int) -> None:
    schema = f"bench_demo_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
        migrate(engine)
        started, cpu = time.perf_counter(), time.process_time()
        summary = build_demo(engine, scale=scale, seed=seed, lang="zh_CN")
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        with engine.connect() as c:
            size = c.execute(text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = :s AND c.relkind = 'r'"), {"s": schema}).scalar()
        engine.dispose()
        report(f"PostgreSQL, scale={scale}", summary, wall, cpu, (size or 0) / 1_048_576)
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="large", choices=("tiny", "small", "large"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--postgres", action="store_true", help="also build on PostgreSQL (TEST_POSTGRES_URL)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    if not args.no_sqlite:
        on_sqlite(args.scale, args.seed)
    if args.postgres:
        on_postgres(args.scale, args.seed)


if __name__ == "__main__":
    main()
