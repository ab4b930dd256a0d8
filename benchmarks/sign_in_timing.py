"""Time ``services.auth.authenticate`` for each kind of refusal, to see that a refusal does
not tell whether the username exists.

On a fresh database (a temporary SQLite file, or ``--url`` for PostgreSQL: it creates and
drops its own schema) with one active and one disabled user, it times, interleaved:
  right     the right password (signs in);
  wrong     an existing user, a wrong password;
  unknown   a username that does not exist;
  disabled  a disabled account, with its right password.
Each try comes from a fresh client with a count of zero (a new username per round for the
unknown case; the counts are cleared between rounds), so no try is refused unchecked by
the lock-out. It prints p50 / p95 milliseconds, the ratio of each refusal to "wrong", and
the machine. It asserts nothing.

    python benchmarks/sign_in_timing.py --rounds 40
    python benchmarks/sign_in_timing.py --url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("SALESOPS_SECRET_KEY", "benchmark-" + uuid.uuid4().hex + uuid.uuid4().hex)

import contextlib

from sqlalchemy import delete, text  # noqa: E402

from services import auth  # noqa: E402
from services.db import make_engine, migrate, session_scope  # noqa: E402
from services.errors import PermissionDenied  # noqa: E402
from services.models import LoginThrottle, User  # noqa: E402
from services.passwords import hash_password  # noqa: E402

PASSWORD = "the-right-one-1"


def engine_for(url: str | None):
    if not url:
        folder = tempfile.mkdtemp(prefix="salesops-sign-in-")
        return make_engine(f"sqlite:///{folder}/bench.db"), None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as c:
        c.execute(text(f'create schema "{schema}"'))
    return make_engine(url, connect_args={"options": f"-csearch_path={schema}"}), (admin, schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--url", default=None, help="PostgreSQL URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    engine, cleanup = engine_for(args.url)
    migrate(engine)
    hashed = hash_password(PASSWORD)
    with session_scope(engine) as s:
        s.add(User(username="alice", display_name="Alice", role="rep", password_hash=hashed))
        s.add(User(username="bob", display_name="Bob", role="rep", password_hash=hashed, active=False))

    cases = {
        "right": lambda i: ("alice", PASSWORD),
        "wrong": lambda i: ("alice", f"wrong-{i}"),
        "unknown": lambda i: (f"nobody-{i}", f"wrong-{i}"),
        "disabled": lambda i: ("bob", PASSWORD),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    with contextlib.suppress(PermissionDenied):
        auth.authenticate(engine, username="warm-up", password="x", locale="en")
    for i in range(args.rounds):
        for name, make in cases.items():
            with session_scope(engine) as s:
                s.execute(delete(LoginThrottle))
            username, password = make(i)
            start = time.perf_counter()
            with contextlib.suppress(PermissionDenied):
                auth.authenticate(engine, username=username, password=password, locale="en")
            times[name].append((time.perf_counter() - start) * 1000)

    def p(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]

    print(f"sign-in timing on {engine.dialect.name}, {args.rounds} rounds, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'case':<10}{'p50 ms':>10}{'p95 ms':>10}{'p50 / wrong':>14}")
    wrong50 = p(times["wrong"], 50)
    for name, values in times.items():
        print(f"{name:<10}{p(values, 50):>10.1f}{p(values, 95):>10.1f}{p(values, 50) / wrong50:>14.2f}")
    engine.dispose()
    if cleanup:
        admin, schema = cleanup
        with admin.begin() as c:
            c.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()


if __name__ == "__main__":
    main()
