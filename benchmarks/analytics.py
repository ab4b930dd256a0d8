"""Time the Overview analytics against the same questions asked two other ways.

For a director (scope all), a manager (team) and a rep (me) it times, on one database:
  ours    services.analytics.overview_kpis (period: this year) and monthly_won_trend
          (last 12 months), as the Overview page calls them;
  sql     the same questions as hand-written SQL (one statement per number, no ORM);
  pandas  loading the tables involved into pandas (read_sql) and answering there.
It prints p50 / p95 milliseconds, the ratios ours/sql and pandas/ours, whether the three
give the same numbers, the row counts and the machine. It asserts nothing.

    DATABASE_URL=... python benchmarks/analytics.py              # e.g. after `salesops demo --scale large`
    python benchmarks/analytics.py --synthetic large             # builds its own data in a temp SQLite file
    python benchmarks/analytics.py --synthetic small --url postgresql+psycopg://…  (empty database)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from services import settings  # noqa: E402
from services.access import Actor  # noqa: E402
from services.analytics import monthly_won_trend, overview_kpis, scope_user_ids  # noqa: E402
from services.db import make_engine, migrate, session_scope  # noqa: E402
from services.models import (  # noqa: E402
    Activity,
    Contract,
    Customer,
    Deal,
    Payment,
    Stage,
    Target,
    Team,
    User,
)
from services.periods import last_months, local_today, month_starts, period_for  # noqa: E402

SCALES = {
    "small": {"reps": 10, "customers": 1_000, "deals": 3_000, "activities": 20_000, "months": 24},
    "large": {"reps": 50, "customers": 100_000, "deals": 300_000, "activities": 1_000_000, "months": 36},
}
STAGES = [("Qualify", 10, 10, "open"), ("Needs", 20, 25, "open"), ("Proposal", 30, 50, "open"),
          ("Negotiation", 40, 75, "open"), ("Won", 90, 100, "won"), ("Lost", 99, 0, "lost")]


# ---------------------------------------------------------------------------
# synthetic data (only when no populated database is given)


def build_synthetic(engine, scale: str, seed: int = 42) -> None:
    cfg = SCALES[scale]
    rng = np.random.default_rng(seed)
    today = date.today()
    first_day = today - timedelta(days=30 * cfg["months"])
    days = (today - first_day).days
    t0 = time.perf_counter()
    with engine.begin() as c:
        company = c.execute(insert(Team).values(name="Bench Co", kind="company").returning(Team.id)).scalar_one()
        n_teams = max(1, cfg["reps"] // 10)
        teams = [c.execute(insert(Team).values(name=f"Team {i}", kind="team", parent_id=company).returning(Team.id))
                 .scalar_one() for i in range(n_teams)]
        c.execute(insert(User), [{"username": "admin", "display_name": "Admin", "role": "admin", "team_id": company},
                                 {"username": "director", "display_name": "Director", "role": "director",
                                  "team_id": company}])
        c.execute(insert(User), [{"username": f"manager{i + 1}", "display_name": f"Manager {i + 1}", "role": "manager",
                                  "team_id": t} for i, t in enumerate(teams)])
        c.execute(insert(User), [{"username": f"rep{i + 1}", "display_name": f"Rep {i + 1}", "role": "rep",
                                  "team_id": teams[i % n_teams]} for i in range(cfg["reps"])])
        users = dict(c.execute(select(User.username, User.id)).all())
        for i, t in enumerate(teams):
            c.execute(Team.__table__.update().where(Team.id == t).values(manager_id=users[f"manager{i + 1}"]))
        c.execute(insert(Stage), [{"name": n, "sequence": s, "probability": p, "kind": k} for n, s, p, k in STAGES])
        stage_ids = dict(c.execute(select(Stage.name, Stage.id)).all())
        reps = np.array([users[f"rep{i + 1}"] for i in range(cfg["reps"])])

        def chunks(rows_fn, n, size=50_000):
            for lo in range(0, n, size):
                yield rows_fn(lo, min(n, lo + size))

        def ts(day_offsets, seconds):
            return [datetime.combine(first_day + timedelta(days=int(d)), datetime.min.time(), UTC) + timedelta(seconds=int(s))
                    for d, s in zip(day_offsets, seconds, strict=True)]

        nc = cfg["customers"]
        c_owner = rng.choice(reps, nc)
        c_created = rng.integers(0, days, nc)
        c_next = rng.integers(-30, 60, nc)
        for rows in chunks(lambda lo, hi: [
            {"name": f"Customer {i}", "name_norm": f"customer {i}", "owner_id": int(c_owner[i]) if i % 20 else None,
             "created_at": t, "updated_at": t, "next_contact_on": today + timedelta(days=int(c_next[i])),
             "archived": False, "tier": "C", "status": "active", "version": 1}
            for i, t in zip(range(lo, hi), ts(c_created[lo:hi], rng.integers(0, 86400, hi - lo)), strict=True)], nc):
            c.execute(insert(Customer), rows)
        cust_lo = c.execute(select(func.min(Customer.id))).scalar_one()

        nd = cfg["deals"]
        d_owner = rng.choice(reps, nd)
        d_stage = rng.choice(["Qualify", "Needs", "Proposal", "Negotiation", "Won", "Lost"], nd,
                             p=[0.08, 0.06, 0.05, 0.04, 0.32, 0.45])
        d_amount = np.round(rng.lognormal(11, 0.8, nd), 2)
        d_open = rng.integers(0, days - 1, nd)
        d_len = rng.integers(1, 120, nd)
        prob = {n: p for n, _, p, _ in STAGES}

        def deal_rows(lo, hi):
            out = []
            for i in range(lo, hi):
                opened = first_day + timedelta(days=int(d_open[i]))
                closed = min(today, opened + timedelta(days=int(d_len[i]))) if d_stage[i] in ("Won", "Lost") else None
                out.append({"name": f"Deal {i}", "owner_id": int(d_owner[i]), "stage_id": stage_ids[d_stage[i]],
                            "amount": Decimal(str(d_amount[i])), "probability": prob[d_stage[i]],
                            "customer_id": cust_lo + int(i % nc), "opened_on": opened, "closed_on": closed,
                            "stage_changed_at": datetime.now(UTC), "created_at": datetime.now(UTC),
                            "updated_at": datetime.now(UTC), "version": 1})
            return out

        for rows in chunks(deal_rows, nd):
            c.execute(insert(Deal), rows)

        na = cfg["activities"]
        a_owner = rng.choice(reps, na)
        a_day = rng.integers(0, days + 14, na)
        a_sec = rng.integers(0, 86400, na)
        a_done = rng.random(na) < 0.92
        now = datetime.now(UTC)

        def activity_rows(lo, hi):
            stamps = ts(a_day[lo:hi], a_sec[lo:hi])
            return [{"kind": "call", "customer_id": cust_lo + int(i % nc), "owner_id": int(a_owner[i]),
                     "done_at": st if a_done[i] and st <= now else None,
                     "planned_at": None if a_done[i] and st <= now else st, "created_at": now}
                    for i, st in zip(range(lo, hi), stamps, strict=True)]

        for rows in chunks(activity_rows, na):
            c.execute(insert(Activity), rows)

        won = [(int(d_owner[i]), i) for i in range(nd) if d_stage[i] == "Won"][: nd // 5]
        deal_lo = c.execute(select(func.min(Deal.id))).scalar_one()
        c.execute(insert(Contract), [{"number": f"HT-{i}", "deal_id": deal_lo + i, "customer_id": cust_lo + i % nc,
                                      "owner_id": o, "amount": Decimal(str(d_amount[i])), "status": "signed",
                                      "created_at": now, "version": 1} for o, i in won])
        k_lo = c.execute(select(func.min(Contract.id))).scalar_one()
        c.execute(insert(Payment), [{"contract_id": k_lo + j, "amount": Decimal(str(round(d_amount[i] / 2, 2))),
                                     "received_on": first_day + timedelta(days=int(d_open[i] + d_len[i])),
                                     "created_at": now} for j, (_o, i) in enumerate(won)])
        months = month_starts(last_months(today, cfg["months"]))
        c.execute(insert(Target), [{"metric": "contract_amount", "scope": "user", "user_id": int(r), "period_kind": "month",
                                    "period_start": m, "tier": "base", "value": Decimal("800000"), "created_at": now}
                                   for r in reps for m in months])
        c.execute(insert(Target), [{"metric": "contract_amount", "scope": "team", "team_id": t, "period_kind": "month",
                                    "period_start": m, "tier": "base", "value": Decimal("8000000"), "created_at": now}
                                   for t in teams for m in months])
    with engine.begin() as c:
        c.execute(text("ANALYZE"))  # planner statistics, as a long-running database would have
    print(f"built synthetic '{scale}' data in {time.perf_counter() - t0:.1f} s")


# ---------------------------------------------------------------------------
# the same questions, hand-written SQL


def _owner_sql(col: str, ids) -> str:
    return "" if ids is None else (f" AND {col} IN ({','.join(str(i) for i in sorted(ids))})" if ids else " AND 1=0")


def _ts(engine, value: datetime):
    # SQLite keeps UTC timestamps as naive text; PostgreSQL takes the aware value
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if engine.dialect.name == "sqlite" else value


def sql_overview(engine, ids, period, tz, today, now) -> dict:
    lo, hi = period.utc_bounds(tz)
    p = {"a": period.start, "b": period.end, "lo": _ts(engine, lo), "hi": _ts(engine, hi), "now": _ts(engine, now),
         "today": today}
    div = "100.0" if engine.dialect.name == "sqlite" else "100"
    with engine.connect() as c:
        won_amount, won, lost = c.execute(text(
            "SELECT sum(CASE WHEN s.kind='won' THEN d.amount ELSE 0 END), count(CASE WHEN s.kind='won' THEN 1 END),"
            " count(CASE WHEN s.kind='lost' THEN 1 END) FROM deal d JOIN stage s ON s.id=d.stage_id"
            " WHERE d.closed_on >= :a AND d.closed_on < :b AND s.kind IN ('won','lost')" + _owner_sql("d.owner_id", ids)),
            p).one()
        n_open, pipe, weighted = c.execute(text(
            f"SELECT count(d.id), sum(d.amount), sum(d.amount*d.probability/{div}) FROM deal d JOIN stage s ON s.id=d.stage_id"
            " WHERE s.kind='open'" + _owner_sql("d.owner_id", ids)), p).one()
        done = c.execute(text("SELECT count(*) FROM activity WHERE done_at >= :lo AND done_at < :hi"
                              + _owner_sql("owner_id", ids)), p).scalar()
        overdue = c.execute(text("SELECT count(*) FROM activity WHERE done_at IS NULL AND planned_at < :now"
                                 + _owner_sql("owner_id", ids)), p).scalar()
        own = " AND owner_id IS NOT NULL" if ids is None else _owner_sql("owner_id", ids)
        overdue_c = c.execute(text("SELECT count(*) FROM customer WHERE archived = false AND next_contact_on < :today"
                                   + own), p).scalar()
        new_c = c.execute(text("SELECT count(*) FROM customer WHERE created_at >= :lo AND created_at < :hi"
                               + _owner_sql("owner_id", ids)), p).scalar()
        coll = c.execute(text("SELECT sum(p.amount) FROM payment p JOIN contract k ON k.id=p.contract_id"
                              " WHERE p.received_on >= :a AND p.received_on < :b" + _owner_sql("k.owner_id", ids)), p).scalar()
    return {"won_amount": _m(won_amount), "won_count": won, "lost_count": lost, "open_deal_count": n_open,
            "open_pipeline": _m(pipe), "weighted_pipeline": _m(weighted), "activities_done": done,
            "overdue_activities": overdue, "overdue_customers": overdue_c, "new_customers": new_c,
            "collections": _m(coll)}


def sql_trend(engine, ids, start, end) -> dict:
    bucket = "strftime('%Y-%m-01', d.closed_on)" if engine.dialect.name == "sqlite" else "date_trunc('month', d.closed_on)::date"
    with engine.connect() as c:
        rows = c.execute(text(
            f"SELECT {bucket} AS m, sum(d.amount), count(*) FROM deal d JOIN stage s ON s.id=d.stage_id"
            " WHERE s.kind='won' AND d.closed_on >= :a AND d.closed_on < :b" + _owner_sql("d.owner_id", ids)
            + " GROUP BY m ORDER BY m"), {"a": start, "b": end}).all()
    return {str(m)[:10]: (_m(a), n) for m, a, n in rows}


# ---------------------------------------------------------------------------
# the same questions, pandas


def pandas_overview(engine, ids, period, tz, today, now) -> dict:
    lo, hi = period.utc_bounds(tz)
    with engine.connect() as c:
        deals = pd.read_sql(text("SELECT owner_id, stage_id, amount, probability, closed_on FROM deal"), c)
        stages = pd.read_sql(text("SELECT id AS stage_id, kind FROM stage"), c)
        acts = pd.read_sql(text("SELECT owner_id, done_at, planned_at FROM activity"), c)
        custs = pd.read_sql(text("SELECT owner_id, created_at, next_contact_on, archived FROM customer"), c)
        pays = pd.read_sql(text("SELECT p.amount, p.received_on, k.owner_id FROM payment p JOIN contract k"
                                " ON k.id = p.contract_id"), c)

    def scoped(df):
        return df if ids is None else df[df["owner_id"].isin(ids)]

    deals = scoped(deals.merge(stages, on="stage_id"))
    deals["amount"] = deals["amount"].astype(float)
    closed_on = pd.to_datetime(deals["closed_on"])
    in_p = (closed_on >= pd.Timestamp(period.start)) & (closed_on < pd.Timestamp(period.end))
    won, lost = deals[in_p & (deals["kind"] == "won")], deals[in_p & (deals["kind"] == "lost")]
    open_ = deals[deals["kind"] == "open"]
    acts = scoped(acts)
    done_at = pd.to_datetime(acts["done_at"], utc=True, format="mixed")
    planned_at = pd.to_datetime(acts["planned_at"], utc=True, format="mixed")
    custs_own = custs[custs["owner_id"].notna()] if ids is None else scoped(custs)
    next_on = pd.to_datetime(custs_own["next_contact_on"])
    created = pd.to_datetime(custs_own["created_at"], utc=True, format="mixed")  # owned customers only
    pays = scoped(pays)
    rec = pd.to_datetime(pays["received_on"])
    return {
        "won_amount": _m(won["amount"].sum()), "won_count": len(won), "lost_count": len(lost),
        "open_deal_count": len(open_), "open_pipeline": _m(open_["amount"].sum()),
        "weighted_pipeline": _m((open_["amount"] * open_["probability"] / 100).sum()),
        "activities_done": int(((done_at >= lo) & (done_at < hi)).sum()),
        "overdue_activities": int((done_at.isna() & (planned_at < now)).sum()),
        "overdue_customers": int(((~custs_own["archived"].astype(bool)) & (next_on < pd.Timestamp(today))).sum()),
        "new_customers": int(((created >= lo) & (created < hi)).sum()),
        "collections": _m(pays.loc[(rec >= pd.Timestamp(period.start)) & (rec < pd.Timestamp(period.end)), "amount"]
                          .astype(float).sum()),
    }


def pandas_trend(engine, ids, start, end) -> dict:
    with engine.connect() as c:
        deals = pd.read_sql(text("SELECT d.owner_id, d.amount, d.closed_on FROM deal d JOIN stage s ON s.id=d.stage_id"
                                 " WHERE s.kind='won'"), c)
    if ids is not None:
        deals = deals[deals["owner_id"].isin(ids)]
    closed = pd.to_datetime(deals["closed_on"])
    deals = deals[(closed >= pd.Timestamp(start)) & (closed < pd.Timestamp(end))]
    month = pd.to_datetime(deals["closed_on"]).dt.to_period("M").dt.start_time.dt.strftime("%Y-%m-%d")
    g = deals.assign(m=month, amount=deals["amount"].astype(float)).groupby("m").agg(a=("amount", "sum"), n=("amount", "size"))
    return {m: (_m(r.a), int(r.n)) for m, r in g.iterrows()}


def _m(v) -> Decimal:
    return Decimal(str(v or 0)).quantize(Decimal("0.01"))


# ---------------------------------------------------------------------------


def timed(fns, repeat: int) -> list[tuple[list[float], object]]:
    """Run the functions in turn ``repeat`` times (interleaved, so background load hits
    them alike); per function its timings in ms and its last result."""
    times: list[list[float]] = [[] for _ in fns]
    results: list[object] = [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            results[i] = fn()
            times[i].append((time.perf_counter() - t0) * 1000)
    return list(zip(times, results, strict=True))


def pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def same(a: dict, b: dict) -> bool:
    return all(abs(Decimal(str(a[k])) - Decimal(str(b[k]))) <= Decimal("0.05") for k in a)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default=os.environ.get("DATABASE_URL"))
    ap.add_argument("--synthetic", choices=list(SCALES), help="build synthetic data first (empty database)")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--pandas-repeat", type=int, default=3)
    args = ap.parse_args()
    url = args.url
    if not url:
        args.synthetic = args.synthetic or "large"
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    engine = make_engine(url)
    migrate(engine)
    if args.synthetic:
        with session_scope(engine) as s:
            if s.scalar(select(func.count()).select_from(Deal)):
                sys.exit("--synthetic needs an empty database")
        build_synthetic(engine, args.synthetic)

    with session_scope(engine) as s:
        counts = {t.__tablename__: s.scalar(select(func.count()).select_from(t))
                  for t in (User, Customer, Deal, Activity, Payment, Target)}
        tz = settings.get(s, "timezone")
        fy = settings.get(s, "fiscal_year_start_month")
        picks = {}
        for role, scope in (("director", "all"), ("manager", "team"), ("rep", "me")):
            user = s.scalars(select(User).where(User.role == role).order_by(User.id)).first()
            if user is not None:
                picks[role] = (Actor.from_user(user), scope)
    today = local_today(tz)
    now = datetime.now(UTC)
    year = period_for("year", today, fy)
    window = last_months(today, 12)

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    print(f"database: {engine.dialect.name}; rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print(f"questions: overview KPIs for {year.start}..{year.last_day} (this year); won trend {window.start}..{window.last_day}")
    print(f"repeats: ours/sql {args.repeat}, pandas {args.pandas_repeat}\n")
    header = f"{'question':<28}{'ours p50/p95 ms':>18}{'sql p50/p95 ms':>18}{'pandas p50/p95 ms':>20}{'ours/sql':>10}{'pandas/ours':>12}  same"
    print(header)
    print("-" * len(header))
    for role, (actor, scope) in picks.items():
        with session_scope(engine) as s:
            ids = scope_user_ids(s, actor, scope)

        def ours_kpis(actor=actor, scope=scope):
            with session_scope(engine) as s:
                return overview_kpis(s, actor, period=year, scope=scope, today=today, now=now)

        def ours_trend(actor=actor, scope=scope):
            with session_scope(engine) as s:
                return monthly_won_trend(s, actor, start=window.start, end=window.end, scope=scope)

        for name, ours, raw, pdf in (
            (f"overview {role}/{scope}", ours_kpis, lambda ids=ids: sql_overview(engine, ids, year, tz, today, now),
             lambda ids=ids: pandas_overview(engine, ids, year, tz, today, now)),
            (f"trend {role}/{scope}", ours_trend, lambda ids=ids: sql_trend(engine, ids, window.start, window.end),
             lambda ids=ids: pandas_trend(engine, ids, window.start, window.end)),
        ):
            ours()  # warm-up (statement cache, page cache)
            (t_ours, r_ours), (t_sql, r_sql) = timed([ours, raw], args.repeat)
            [(t_pd, r_pd)] = timed([pdf], args.pandas_repeat)
            if isinstance(r_ours, pd.DataFrame):
                mine = {m.isoformat(): (_m(a), int(n)) for m, a, n in zip(r_ours["month"], r_ours["won_amount"],
                                                                           r_ours["won_count"], strict=True) if n}
                agree = mine == r_sql == r_pd
            else:
                d = {k: getattr(r_ours, k) for k in r_sql}
                agree = same(d, r_sql) and same(d, r_pd)
            p50 = [pct(t, 50) for t in (t_ours, t_sql, t_pd)]
            p95 = [pct(t, 95) for t in (t_ours, t_sql, t_pd)]
            print(f"{name:<28}{p50[0]:>9.1f}/{p95[0]:<8.1f}{p50[1]:>9.1f}/{p95[1]:<8.1f}{p50[2]:>10.1f}/{p95[2]:<9.1f}"
                  f"{p50[0] / p50[1]:>10.2f}{p50[2] / p50[0]:>12.1f}  {'yes' if agree else 'NO'}")


if __name__ == "__main__":
    main()
