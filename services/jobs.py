"""Once-a-day jobs: each runs at most once per company day across every app server that
shares the database (the day is claimed with ``settings.claim_once`` before it runs), outside
any user's request (the dashboard starts them in a background thread after the page is
drawn; ``salesops`` commands run them on demand), and in short batches (the transaction
rule in ``services.db``), so the team keeps working while a job runs.

Today: the public-pool reclaim, the weekly forecast snapshot (checked daily; it writes at
most once a week per scope, so only the first run of a week adds rows), then fresh planner
statistics (``db.optimize_statistics``: SQLite ``PRAGMA optimize``, PostgreSQL ``ANALYZE``) so
query plans follow the data. A job is a function ``(engine, now) -> result`` listed in
``DAILY_JOBS`` with the setting that records its last day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from services import settings
from services.access import SYSTEM
from services.clock import as_utc, company_today
from services.customers import reclaim_stale_customers, stale_customers
from services.db import optimize_statistics, run_in_transaction
from services.models import utcnow

#: Customers moved to the pool per transaction by the daily reclaim.
RECLAIM_BATCH = 200
_log = logging.getLogger("salesops.jobs")


def reclaim_in_batches(engine: Engine, now: datetime) -> int:
    """The pool reclaim (``customers.reclaim_stale_customers``): the customers it would move
    read once (``stale_customers``), then moved in transactions of at most ``RECLAIM_BATCH``
    (each move checks the rule again); returns how many moved. Reading them again for every
    batch cost 0.6 s a batch at 100k customers."""
    candidates = run_in_transaction(engine, lambda s: stale_customers(s, SYSTEM, now=now), write=False)
    moved = 0
    for start in range(0, len(candidates), RECLAIM_BATCH):
        batch = candidates[start : start + RECLAIM_BATCH]
        moved += run_in_transaction(engine, lambda s, b=batch: reclaim_stale_customers(s, SYSTEM, now=now,
                                                                                       candidates=b))
    return moved


def forecast_snapshot(engine: Engine, now: datetime) -> int:
    """This week's forecast snapshot for every scope (``analytics.forecast.take_snapshot``)."""
    from services.analytics.forecast import take_snapshot

    return run_in_transaction(engine, lambda s: take_snapshot(s, SYSTEM, today=company_today(s, now)))


def planner_statistics(engine: Engine, now: datetime) -> bool:
    """The daily statistics refresh (``services.db.optimize_statistics``); True when done."""
    optimize_statistics(engine)
    return True


DAILY_JOBS: dict[str, tuple[str, Callable[[Engine, datetime], Any]]] = {
    "pool_reclaim": ("pool_last_reclaim_on", reclaim_in_batches),
    "forecast_snapshot": ("forecast_last_snapshot_on", forecast_snapshot),
    # after the reclaim and the snapshot, which write many rows at once
    "planner_statistics": ("statistics_last_run_on", planner_statistics),
}


def run_daily_jobs(engine: Engine, *, now: datetime | None = None) -> dict[str, Any]:
    """Run every daily job not yet run today (company day) by any server; returns
    ``{job: result}`` for the jobs this call ran. A failing job is logged and the others
    still run."""
    now = as_utc(now) or utcnow()
    today = run_in_transaction(engine, lambda s: company_today(s, now), write=False).isoformat()
    done: dict[str, Any] = {}
    for name, (day_key, job) in DAILY_JOBS.items():
        if not run_in_transaction(engine, lambda s, key=day_key: settings.claim_once(s, key, today)):
            continue
        try:
            done[name] = job(engine, now)
        except Exception:  # a job must never take the app down; the next day retries
            _log.exception("daily job %s failed", name)
    return done
