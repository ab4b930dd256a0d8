"""The demo company: a whole, deterministic sales organisation generated for a seed.

``build_demo(engine, scale=…, seed=…, lang=…)`` fills an empty database with a company, its
regions and teams, users (password ``DEMO_PASSWORD``), customers with contacts, deals with
their stage history, activities, contracts with payment plans and payments, service
tickets, marketing spend, targets decomposed company → team → rep and year → quarter →
month, sales plans, reviews, weekly forecast snapshots, courses, incentive schemes,
payouts, awards and team events — every table a page reads.

One module per area (``organisation``, ``customers``, ``deals``, ``activities``,
``contracts``, ``service``, ``marketing``, ``targets``, ``plans``, ``reviews``,
``forecasts``, ``team``) builds on the shared state in ``context``; ``build.STEPS`` is the
build order; ``load`` writes the rows.

Rules the data follows (so pages show believable numbers):
- Deal closings follow a season: Q4 peak (December highest), a February dip (Spring
  Festival), a June half-year bump, and 20 %/year growth.
- Reps differ in skill: each has a win rate between 15 % and 45 % and a deal-size factor.
- Won deals have more activities than lost ones and end with a contract-signing activity;
  lost deals carry a lost reason; each deal has a stage path in ``deal_history`` (values are
  stage ids, like ``services.deals`` writes them).
- Every won deal has a contract, 1–3 installments (parts add up to the whole, the remainder
  on the largest) and payments: most on time, some partial, some overdue.
- About 10 % of customers sit in the public pool; owned customers were contacted within
  their tier's reclaim window (a few are stale on purpose, for ``salesops pool reclaim``).
- Some follow-ups are planned in the next days, some are overdue.

Deterministic: equal ``seed`` + ``today`` give identical rows (``today`` is the anchor date,
default the current UTC date, so the data is always "current"; nothing is dated later than
yesterday except planned follow-ups). The one exception is the password hash: argon2 salts
it randomly, and one hash is shared by every demo login.

Speed: rows are generated as tuples in memory and written with the driver's bulk path in
one transaction (see ``load``). Timestamps are written as UTC text in the form SQLAlchemy
uses on SQLite (on PostgreSQL the load runs with ``TIME ZONE 'UTC'``), dates as ISO text,
money as whole currency units. A failure anywhere rolls the whole load back (only the
default stages, lost reasons, channels and products — what a fresh install gets anyway —
are committed before it).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from services.errors import ValidationError
from services.i18n import t

from . import load
from .build import generate, id_tables
from .context import DEMO_PASSWORD, MONTH_SEASON, TIER_RECLAIM, Demo, DemoSummary, FastRandom, Progress, Scale
from .load import BIG_TABLES
from .organisation import reference

__all__ = ["BIG_TABLES", "DEMO_PASSWORD", "MONTH_SEASON", "SCALES", "SCALE_NAMES", "TIER_RECLAIM", "DemoSummary",
           "Progress", "Scale", "build_demo", "row_counts"]

SCALE_NAMES = ("tiny", "small", "large")

SCALES: dict[str, Scale] = {
    # tiny: for tests (a second or two on either database)
    "tiny": Scale(regions=2, teams=2, reps=4, customers=120, deals=300, activities=1_500, months=12),
    "small": Scale(regions=2, teams=3, reps=10, customers=1_000, deals=3_000, activities=20_000, months=24),
    "large": Scale(regions=3, teams=9, reps=50, customers=100_000, deals=300_000, activities=1_000_000, months=36),
}


def build_demo(
    engine: Engine,
    *,
    scale: str = "small",
    seed: int = 42,
    lang: str = "zh_CN",
    progress: Progress | None = None,
    today: date | None = None,
) -> DemoSummary:
    """Fill an empty database with the demo company (see the module docstring).

    Refuses with ``ValidationError`` when the database already has users. Migrates the schema
    first when it is missing. Everything is written in one transaction: a failure leaves the
    database as it was. Sets ``demo_mode`` so the sign-in page lists the demo logins."""
    from services.db import is_empty, migrate

    started = time.perf_counter()
    lang = "en" if str(lang).lower().startswith("en") else "zh_CN"
    if scale not in SCALES:
        raise ValidationError({"scale": t("err.not_in_list", lang, options=", ".join(SCALE_NAMES))})
    report = progress or (lambda _f, _m: None)
    if not inspect(engine).has_table("user"):
        migrate(engine)
    if not is_empty(engine):
        raise ValidationError({"database": t("demo.err_not_empty", lang)})

    anchor = today or datetime.now(UTC).date()
    report(0.0, t("demo.step_generate", lang))
    demo = Demo(SCALES[scale], FastRandom(seed), lang, anchor)
    # millions of small tuples: the cyclic GC would rescan them again and again for nothing
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with engine.connect() as conn:
            reference(demo, conn, id_tables())
            mark = time.perf_counter()
            generate(demo, lambda f, m: report(0.02 + 0.28 * f, m))
            summary = DemoSummary(logins=demo.logins)
            summary.timings["generate"] = time.perf_counter() - mark
            load.write(conn, demo, lambda f, m: report(0.3 + 0.68 * f, m), summary)
    finally:
        del demo
        if gc_was_enabled:
            gc.enable()
    report(1.0, t("demo.step_done", lang))
    summary.seconds = time.perf_counter() - started
    return summary


def row_counts(engine: Engine, tables: Iterable[str]) -> dict[str, int]:
    """Rows per table (for the CLI summary and tests)."""
    with engine.connect() as conn:
        return {tb: conn.exec_driver_sql(f'SELECT COUNT(*) FROM "{tb}"').scalar() or 0 for tb in tables}
