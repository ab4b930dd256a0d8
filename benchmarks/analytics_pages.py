"""Time the Funnel, Performance and Weekly meeting services against the same questions asked
two other ways, on the demo company.

For a director (whole company) and a rep (own records), period = the last 12 months:
  ours    funnel, kpis, forecast, leaderboard, findings, meeting_report, as the pages call them;
  sql     the same question as hand-written SQL (funnel: stages reached and went further from
          deal_history; kpis: won revenue / won / lost; forecast: open pipeline by expected
          month; leaderboard: won revenue per owner);
  pandas  the tables involved loaded with read_sql and answered in pandas.
Prints p50 / p95 ms, ours ÷ sql and pandas ÷ ours, and the machine. Asserts nothing.

    python benchmarks/analytics_pages.py                         # builds the small demo in a temp SQLite file
    python benchmarks/analytics_pages.py --scale large           # the large demo (about 35 s to build)
    python benchmarks/analytics_pages.py --scale large --db F.db # build into F.db once, reuse it after
    DATABASE_URL=... python benchmarks/analytics_pages.py --url-from-env   # an existing demo database
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from services.access import Actor  # noqa: E402
from services.analytics.filters import DealFilter  # noqa: E402
from services.analytics.findings import findings  # noqa: E402
from services.analytics.forecast import forecast  # noqa: E402
from services.analytics.funnel import funnel  # noqa: E402
from services.analytics.kpis import kpis  # noqa: E402
from services.analytics.leaderboard import leaderboard  # noqa: E402
from services.analytics.meeting import meeting_report  # noqa: E402
from services.clock import company_today, day_start_utc  # noqa: E402
from services.db import make_engine, migrate, read_scope  # noqa: E402
from services.models import User  # noqa: E402
from services.periods import Period, add_months, month_start, period_for, previous  # noqa: E402


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()  # warm caches and prepared statements
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]


# ---------------------------------------------------------------------------
# the same questions by hand


def owner_clause(ids: set[int] | None, col: str) -> str:
    return "" if ids is None else f" AND {col} IN ({','.join(str(i) for i in sorted(ids)) or '-1'})"


def sql_funnel(conn, ids, period: Period):
    return conn.execute(text(f"""
WITH d AS (SELECT id, amount, stage_id FROM deal WHERE opened_on >= :lo AND opened_on < :hi{owner_clause(ids, 'owner_id')}),
r AS (SELECT h.deal_id, s.id AS stage_id FROM deal_history h JOIN stage s ON CAST(s.id AS VARCHAR) = h.new_value
      WHERE h.field = 'stage' AND h.deal_id IN (SELECT id FROM d)
      UNION SELECT id, stage_id FROM d),
e AS (SELECT r.deal_id, r.stage_id, s.sequence FROM r JOIN stage s ON s.id = r.stage_id JOIN d ON d.id = r.deal_id
      WHERE s.kind = 'open' OR (s.kind = 'won' AND r.stage_id = d.stage_id)),
f AS (SELECT deal_id, MAX(sequence) AS furthest FROM e GROUP BY deal_id)
SELECT e.stage_id, COUNT(*), SUM(d.amount), COUNT(CASE WHEN f.furthest > e.sequence THEN 1 END)
FROM e JOIN d ON d.id = e.deal_id JOIN f ON f.deal_id = e.deal_id GROUP BY e.stage_id"""),
        {"lo": period.start, "hi": period.end}).all()


def sql_kpis(conn, ids, period: Period):
    return conn.execute(text(f"""
SELECT SUM(CASE WHEN s.kind = 'won' THEN d.amount END), COUNT(CASE WHEN s.kind = 'won' THEN 1 END),
       COUNT(CASE WHEN s.kind = 'lost' THEN 1 END)
FROM deal d JOIN stage s ON s.id = d.stage_id
WHERE d.closed_on >= :lo AND d.closed_on < :hi AND s.kind IN ('won', 'lost'){owner_clause(ids, 'd.owner_id')}"""),
        {"lo": period.start, "hi": period.end}).all()


def sql_forecast(conn, ids, first, end, dialect):
    month = "strftime('%Y-%m-01', CASE WHEN d.expected_close < :first THEN :first ELSE d.expected_close END)" \
        if dialect == "sqlite" else \
        "date_trunc('month', CASE WHEN d.expected_close < :first THEN CAST(:first AS date) ELSE d.expected_close END)"
    return conn.execute(text(f"""
SELECT {month} AS m, COUNT(*), SUM(d.amount), SUM(d.amount * d.probability / 100.0)
FROM deal d JOIN stage s ON s.id = d.stage_id
WHERE s.kind = 'open' AND d.expected_close IS NOT NULL AND d.expected_close < :end{owner_clause(ids, 'd.owner_id')}
GROUP BY m"""), {"first": first, "end": end}).all()


def sql_leaderboard(conn, ids, period: Period):
    return conn.execute(text(f"""
SELECT d.owner_id, SUM(d.amount) AS v FROM deal d JOIN stage s ON s.id = d.stage_id
WHERE s.kind = 'won' AND d.closed_on >= :lo AND d.closed_on < :hi{owner_clause(ids, 'd.owner_id')}
GROUP BY d.owner_id ORDER BY v DESC"""), {"lo": period.start, "hi": period.end}).all()


def pandas_tables(conn, ids):
    where = "" if ids is None else f" WHERE owner_id IN ({','.join(str(i) for i in sorted(ids))})"
    deals = pd.read_sql(text(f"SELECT id, owner_id, amount, stage_id, probability, opened_on, closed_on, "
                             f"expected_close FROM deal{where}"), conn)
    stages = pd.read_sql(text("SELECT id, kind, sequence FROM stage"), conn)
    return deals, stages


def pandas_funnel(conn, ids, period: Period):
    deals, stages = pandas_tables(conn, ids)
    hist = pd.read_sql(text("SELECT deal_id, new_value FROM deal_history WHERE field = 'stage'"), conn)
    opened = pd.to_datetime(deals["opened_on"])
    d = deals[(opened >= pd.Timestamp(period.start)) & (opened < pd.Timestamp(period.end))]
    hist = hist[hist["deal_id"].isin(d["id"])]
    hist["stage_id"] = pd.to_numeric(hist["new_value"], errors="coerce")
    reached = pd.concat([hist[["deal_id", "stage_id"]], d.rename(columns={"id": "deal_id"})[["deal_id", "stage_id"]]])
    reached = reached.drop_duplicates().merge(stages, left_on="stage_id", right_on="id")
    reached = reached.merge(d[["id", "stage_id"]].rename(columns={"id": "deal_id", "stage_id": "now"}), on="deal_id")
    e = reached[(reached["kind"] == "open") | ((reached["kind"] == "won") & (reached["stage_id"] == reached["now"]))]
    e = e.merge(e.groupby("deal_id")["sequence"].max().rename("furthest"), on="deal_id")
    e["further"] = e["furthest"] > e["sequence"]
    return e.groupby("stage_id").agg(reached=("deal_id", "count"), further=("further", "sum"))


def pandas_kpis(conn, ids, period: Period):
    deals, stages = pandas_tables(conn, ids)
    d = deals.merge(stages, left_on="stage_id", right_on="id", suffixes=("", "_s"))
    closed = pd.to_datetime(d["closed_on"])
    d = d[(closed >= pd.Timestamp(period.start)) & (closed < pd.Timestamp(period.end))]
    return d[d["kind"] == "won"]["amount"].sum(), (d["kind"] == "won").sum(), (d["kind"] == "lost").sum()


def pandas_kpi_block(conn, ids, period: Period, tz) -> dict:
    """The Performance page's KPI block the pandas way, for the period and the period before
    (the same numbers the service and the hand-written SQL give): the tables involved loaded
    (owner-filtered where they have an owner) — deals with their product's margin, payments
    with their contract's owner, activities, customers, tickets, marketing spend, reps — and
    every KPI answered in pandas."""
    own = "" if ids is None else f" IN ({','.join(str(i) for i in sorted(ids)) or '-1'})"

    def where(col: str) -> str:
        return "" if ids is None else f" WHERE {col}{own}"

    deals, stages = pandas_tables(conn, ids)
    deals = deals.merge(pd.read_sql(text(f"SELECT id, customer_id, product_id FROM deal{where('owner_id')}"), conn),
                        on="id")
    products = pd.read_sql(text("SELECT id AS product_id, list_price, unit_cost FROM product"), conn)
    pays = pd.read_sql(text("SELECT p.received_on, p.amount, c.owner_id FROM payment p JOIN contract c "
                            f"ON c.id = p.contract_id{where('c.owner_id')}"), conn)
    acts = pd.read_sql(text(f"SELECT owner_id, done_at FROM activity{where('owner_id')}"), conn)
    custs = pd.read_sql(text("SELECT id, owner_id, channel_id, created_at, status, archived FROM customer"
                             f"{where('owner_id')}"), conn)
    tickets = pd.read_sql(text("SELECT customer_id, resolved_at, satisfaction FROM service_ticket"), conn)
    if ids is not None:  # the scope's customers' tickets
        tickets = tickets.merge(custs[["id"]], left_on="customer_id", right_on="id")
    spend = pd.read_sql(text("SELECT channel_id, month, amount FROM marketing_spend"), conn)
    users = pd.read_sql(text("SELECT id, role, active FROM \"user\""), conn)
    d = deals.merge(stages, left_on="stage_id", right_on="id", suffixes=("", "_s"))
    d = d.merge(products, on="product_id", how="left")
    closed, opened = pd.to_datetime(d["closed_on"]), pd.to_datetime(d["opened_on"])
    rate = (1 - d["unit_cost"].astype(float) / d["list_price"].astype(float)).where(d["list_price"] > 0, 1.0).fillna(1.0)
    d["margin"] = d["amount"].astype(float) * rate
    d["days"] = (closed - opened).dt.days
    received = pd.to_datetime(pays["received_on"])
    done = pd.to_datetime(acts["done_at"], utc=True, format="mixed")
    created = pd.to_datetime(custs["created_at"], utc=True, format="mixed")
    resolved = pd.to_datetime(tickets["resolved_at"], utc=True, format="mixed")
    month = pd.to_datetime(spend["month"])
    owned = custs[custs["owner_id"].notna() & ~custs["archived"].astype(bool)]
    churn_n, active_n = (owned["status"] == "churned").sum(), (owned["status"] == "active").sum()
    reps = users[(users["role"] == "rep") & users["active"].astype(bool)]
    if ids is not None:
        reps = reps[reps["id"].isin(ids)]
    out = {}
    for per in (period, previous(period)):
        lo, hi = pd.Timestamp(per.start), pd.Timestamp(per.end)
        lo_t = pd.Timestamp(day_start_utc(per.start, tz))
        hi_t = pd.Timestamp(day_start_utc(per.end, tz))
        in_p = (closed >= lo) & (closed < hi)
        won = d[in_p & (d["kind"] == "won")]
        window = d[(closed >= pd.Timestamp(add_months(per.end, -12))) & (closed < hi) & (d["kind"] == "won")]
        new = custs[(created >= lo_t) & (created < hi_t)]
        by_channel = new[new["channel_id"].notna()].groupby("channel_id").size()
        spent = spend[(month >= pd.Timestamp(month_start(per.start))) & (month < hi)].groupby("channel_id")["amount"].sum()
        rated = tickets[(resolved >= lo_t) & (resolved < hi_t) & tickets["satisfaction"].notna()]
        out[per.start] = {
            "won_revenue": won["amount"].sum(), "won": len(won), "lost": int((in_p & (d["kind"] == "lost")).sum()),
            "cycle_mean": won["days"].mean(), "cycle_median": won["days"].median(),
            "collections": pays[(received >= lo) & (received < hi)]["amount"].sum(),
            "activities": int(((done >= lo_t) & (done < hi_t)).sum()), "reps": len(reps),
            "new_customers": int(new["owner_id"].notna().sum()),
            "cac": spent.sum() / by_channel.sum() if by_channel.sum() else None,
            "clv_margin": window["margin"].sum(), "clv_customers": window["customer_id"].nunique(),
            "churn": churn_n / (churn_n + active_n) if churn_n + active_n else None,
            "satisfaction": rated["satisfaction"].mean(),
        }
    return out


def pandas_leaderboard(conn, ids, period: Period):
    deals, stages = pandas_tables(conn, ids)
    d = deals.merge(stages, left_on="stage_id", right_on="id", suffixes=("", "_s"))
    closed = pd.to_datetime(d["closed_on"])
    d = d[(d["kind"] == "won") & (closed >= pd.Timestamp(period.start)) & (closed < pd.Timestamp(period.end))]
    return d.groupby("owner_id")["amount"].sum().sort_values(ascending=False)


def pandas_forecast(conn, ids, first, end):
    deals, stages = pandas_tables(conn, ids)
    d = deals.merge(stages, left_on="stage_id", right_on="id", suffixes=("", "_s"))
    d = d[(d["kind"] == "open") & d["expected_close"].notna()]
    exp = pd.to_datetime(d["expected_close"]).clip(lower=pd.Timestamp(first))
    d = d[exp < pd.Timestamp(end)].assign(month=exp.dt.to_period("M"))
    d["weighted"] = d["amount"].astype(float) * d["probability"] / 100
    return d.groupby("month").agg(n=("id", "count"), pipeline=("amount", "sum"), weighted=("weighted", "sum"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="small", choices=("small", "large"))
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--url-from-env", action="store_true", help="use DATABASE_URL (an existing demo database)")
    ap.add_argument("--db", type=Path, help="SQLite file to build the demo in (kept; reused when it exists)")
    args = ap.parse_args()
    if args.url_from_env:
        url = os.environ["DATABASE_URL"]
        engine = make_engine(url)
    else:
        from services.demo import build_demo

        path = args.db or Path(tempfile.mkdtemp()) / "bench-analytics.db"
        reuse = path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(f"sqlite:///{path}")
        migrate(engine)
        if not reuse:
            t0 = time.perf_counter()
            build_demo(engine, scale=args.scale, seed=42, lang="en")
            print(f"built the {args.scale} demo in {time.perf_counter() - t0:.1f} s")
    dialect = engine.dialect.name
    with read_scope(engine) as s:
        today = company_today(s)
        director = Actor.from_user(s.scalar(select(User).where(User.role == "director").order_by(User.id)))
        rep = Actor.from_user(s.scalar(select(User).where(User.role == "rep", User.active.is_(True)).order_by(User.id)))
        counts = {t: s.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in ("deal", "deal_history", "activity")}
    year = Period(add_months(month_start(today), -11), add_months(month_start(today), 1))
    week = period_for("week", today)
    first, end = month_start(today), add_months(month_start(today), 3)
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {dialect}; rows {counts}; "
          f"period {year.start} – {year.last_day}; {args.runs} runs")
    print(f"{'service':<14}{'who':<10}{'ours p50':>10}{'p95':>9}{'sql p50':>10}{'pandas p50':>12}{'ours/sql':>10}"
          f"{'pandas/ours':>13}")
    for who, actor in (("director", director), ("rep", rep)):
        bench(engine, who, actor, args.runs, year=year, week=week, first=first, end=end, today=today, dialect=dialect)


def bench(engine, who: str, actor: Actor, runs: int, *, year: Period, week: Period, first, end, today,
          dialect: str) -> None:
    """Print one line per service for one user (the closures below run within this call)."""
    scope = "all" if who == "director" else "me"
    ids = None if who == "director" else {actor.id}
    flt = DealFilter(scope=scope)

    def ours(fn):
        def run():
            with read_scope(engine) as s:
                return fn(s)
        return run

    def raw(fn):
        def run():
            with engine.connect() as c:
                return fn(c)
        return run

    cases = [
        ("funnel", ours(lambda s: funnel(s, actor, period=year, flt=flt)),
         raw(lambda c: sql_funnel(c, ids, year)), raw(lambda c: pandas_funnel(c, ids, year))),
        ("kpis", ours(lambda s: kpis(s, actor, period=year, flt=flt)),
         raw(lambda c: sql_kpis(c, ids, year)), raw(lambda c: pandas_kpis(c, ids, year))),
        ("forecast", ours(lambda s: forecast(s, actor, months=3, flt=flt, today=today)),
         raw(lambda c: sql_forecast(c, ids, first, end, dialect)), raw(lambda c: pandas_forecast(c, ids, first, end))),
        ("leaderboard", ours(lambda s: leaderboard(s, actor, period=year, metric="revenue", flt=flt)),
         raw(lambda c: sql_leaderboard(c, ids, year)), raw(lambda c: pandas_leaderboard(c, ids, year))),
        ("findings", ours(lambda s: findings(s, actor, period=year, flt=flt, today=today,
                                             now=datetime.now(UTC))), None, None),
        ("meeting", ours(lambda s: meeting_report(s, actor, week=week, flt=flt, today=today)), None, None),
    ]
    for name, mine, sql, pdx in cases:
        p50, p95 = timed(mine, runs)
        s50 = timed(sql, runs)[0] if sql else None
        x50 = timed(pdx, max(3, runs // 3))[0] if pdx else None
        ratio = f"{p50 / s50:.2f}" if s50 else "—"
        faster = f"{x50 / p50:.1f}" if x50 else "—"
        print(f"{name:<14}{who:<10}{p50:>10.1f}{p95:>9.1f}{(f'{s50:.1f}' if s50 else '—'):>10}"
              f"{(f'{x50:.1f}' if x50 else '—'):>12}{ratio:>10}{faster:>13}")



if __name__ == "__main__":
    main()
