"""Time the Activities and Deals services against the same work as hand-written SQL.

On one database (the large demo company: `salesops demo --scale large`, or one this script
builds with ``--build large``) it times, for a rep, a manager and the director:
  log      services.activities.log_activity — one done call on a deal with a next contact
           date, committed (validation, access checks, insert, customer / deal updates,
           audit) vs the same writes as hand-written SQL (insert + two updates + audit row);
  agenda   services.activities.agenda (overdue / today / rest of the week) vs the same
           questions as hand-written SQL statements;
  board    services.deals.pipeline_board (count, sum, stalled per open stage + top cards) vs
           hand-written SQL (one GROUP BY, then the largest deals of each stage in amount
           order, blank amounts after) — the same query shapes as ours.
It prints p50 / p95 milliseconds, ours / sql ratios, whether both give the same numbers, row
counts and the machine. It asserts nothing. Writes go to the database given: use a copy.

    python benchmarks/activities_deals.py --build large            # temp SQLite file, ~1–2 min to build
    DATABASE_URL=sqlite:///copy-of-demo.db python benchmarks/activities_deals.py
    python benchmarks/activities_deals.py --url postgresql+psycopg://…  (a demo database)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from services import settings  # noqa: E402
from services.access import Actor, visible_user_ids  # noqa: E402
from services.activities import agenda, log_activity
from services.clock import day_start_utc, local_tz
from services.db import make_engine, migrate, session_scope  # noqa: E402
from services.deals import pipeline_board  # noqa: E402
from services.models import Activity, Customer, Deal, Stage, User  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timed_pair(ours, sql, runs: int, warmup: int = 3) -> tuple[list[float], list[float], object, object]:
    """Time both alternately (ours, sql, ours, sql, …) so both see the same machine load."""
    out_a = out_b = None
    for _ in range(warmup):
        out_a, out_b = ours(), sql()
    t_a, t_b = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        out_a = ours()
        t1 = time.perf_counter()
        out_b = sql()
        t2 = time.perf_counter()
        t_a.append((t1 - t0) * 1000)
        t_b.append((t2 - t1) * 1000)
    return t_a, t_b, out_a, out_b


def ts(engine: Engine, value: datetime):
    """A UTC timestamp as the column stores it (naive text on SQLite)."""
    if engine.dialect.name == "sqlite":
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def owners_sql(ids: set[int] | None) -> str:
    return "1=1" if ids is None else f"{{col}} IN ({','.join(str(i) for i in sorted(ids)) or 'NULL'})"


# ---------------------------------------------------------------------------
# hand-written SQL


def sql_agenda(engine: Engine, ids, today, tz, limit: int = 200) -> dict[str, int]:
    """Per bucket: planned activities and due follow-ups (limit each), counted when full; then
    the shown customers' contacts."""
    start = day_start_utc(today, tz)
    tomorrow_day = today + timedelta(days=1)
    week_end_day = today + timedelta(days=7 - today.weekday())
    own_a = owners_sql(ids).format(col="a.owner_id")
    own_c = owners_sql(ids).format(col="c.owner_id")
    planned_from = ("FROM activity a JOIN customer c ON c.id = a.customer_id JOIN \"user\" u ON u.id = a.owner_id "
                    "LEFT JOIN deal d ON d.id = a.deal_id")
    planned_cols = ("SELECT a.id, a.kind, a.customer_id, c.name, a.deal_id, d.name, a.owner_id, u.display_name, "
                    "a.planned_at, a.next_step, a.notes")
    # likely(): the same shape as ours on SQLite (keeps the planner on the partial open-planned indexes)
    open_a = "likely(a.done_at IS NULL)" if engine.dialect.name == "sqlite" else "a.done_at IS NULL"
    planned_where = f"WHERE {open_a} AND {own_a}"
    follow_where = (f"WHERE c.owner_id IS NOT NULL AND {own_c} AND c.archived = false")
    # the kept count of open activities (migration 0016) and its partial indexes' condition
    no_plan = "c.open_activities = 0 AND c.next_contact_on IS NOT NULL"
    # the owner's name as a scalar subquery (as ours): the planner walks the due-date index
    follow_cols = 'SELECT c.id, c.name, c.owner_id, (SELECT u.display_name FROM "user" u WHERE u.id = c.owner_id), ' \
                  'c.next_contact_on'
    follow_from = "FROM customer c"
    p = {"s": ts(engine, start), "m": ts(engine, day_start_utc(tomorrow_day, tz)),
         "w": ts(engine, day_start_utc(week_end_day, tz)), "t": today, "t1": tomorrow_day, "we": week_end_day,
         "n": limit}
    buckets = {
        "overdue": ("a.planned_at < :s", "c.next_contact_on < :t", "DESC"),
        "today": ("a.planned_at >= :s AND a.planned_at < :m", "c.next_contact_on = :t", "ASC"),
        "this_week": ("a.planned_at >= :m AND a.planned_at < :w", "c.next_contact_on >= :t1 AND c.next_contact_on < :we",
                      "ASC"),
    }
    totals = {}
    shown: set[int] = set()
    with engine.connect() as c:
        for name, (pr, fr, order) in buckets.items():
            # the shown ids from the open-planned index alone, then their rows and names
            a = c.execute(text(f"{planned_cols} {planned_from} WHERE a.id IN (SELECT a.id FROM activity a "
                               f"{planned_where} AND {pr} ORDER BY a.planned_at {order}, a.id LIMIT :n) "
                               f"ORDER BY a.planned_at {order}, a.id"), p).all()
            f = c.execute(text(f"{follow_cols} {follow_from} {follow_where} AND {fr} AND {no_plan} "
                               f"ORDER BY c.next_contact_on {order}, c.id LIMIT :n"), p).all()
            total = len(a) + len(f)
            if len(a) == limit or len(f) == limit:
                total = c.execute(text(f"SELECT (SELECT count(*) FROM activity a {planned_where} AND {pr}) + "
                                       f"(SELECT count(*) FROM customer c {follow_where} AND {fr} AND {no_plan})"),
                                  p).scalar()
            totals[name] = int(total)
            shown |= {r[2] for r in a} | {r[0] for r in f}
        if shown:  # who to call: the shown customers' contacts, primary first
            c.execute(text(f"SELECT id, customer_id, name, phone FROM contact WHERE customer_id IN "
                           f"({', '.join(str(i) for i in sorted(shown))}) ORDER BY customer_id, is_primary DESC, id")).all()
    return totals


def sql_board(engine: Engine, ids, today, now, cards: int = 12) -> dict[int, tuple[int, float, int]]:
    """Count / sum / stalled per open stage (grouped by owner too when filtered by owners, so
    SQLite walks ix_deal_owner_stage_board), then the largest deals of each stage."""
    with engine.connect() as c:
        stages = c.execute(text("SELECT id, stall_days FROM stage WHERE kind = 'open' AND active = true "
                                "ORDER BY sequence, id")).all()
        stall_cases = " OR ".join(
            f"(d.stage_id = {sid} AND COALESCE(d.last_activity_at, d.created_at) < :c{sid})"
            for sid, days in stages if days) or "1=0"
        params = {f"c{sid}": ts(engine, now - timedelta(days=days)) for sid, days in stages if days}
        params["t"] = today
        stalled = f"(d.expected_close < :t OR {stall_cases})"
        own = owners_sql(ids).format(col="d.owner_id")
        in_stages = f"d.stage_id IN ({','.join(str(s[0]) for s in stages)})"
        group = "d.stage_id" if ids is None else "d.owner_id, d.stage_id"
        out: dict[int, list] = {}
        for sid, n, amount, stalled_n in c.execute(text(
                f"SELECT d.stage_id, count(*), COALESCE(sum(d.amount), 0), "
                f"COALESCE(sum(CASE WHEN {stalled} THEN 1 ELSE 0 END), 0) FROM deal d "
                f"WHERE {in_stages} AND {own} GROUP BY {group}"), params).all():
            acc = out.setdefault(int(sid), [0, 0.0, 0])
            acc[0] += int(n)
            acc[1] += float(amount)
            acc[2] += int(stalled_n)
        card_sql = (f"SELECT d.id, d.name, d.customer_id, cu.name, d.amount, d.owner_id, u.display_name, d.stage_id, "
                    f"d.probability, d.expected_close, d.next_step, d.stage_changed_at, "
                    f"CASE WHEN {stalled} THEN 1 ELSE 0 END, d.version FROM deal d "
                    f"LEFT JOIN customer cu ON cu.id = d.customer_id JOIN \"user\" u ON u.id = d.owner_id "
                    f"WHERE {own} AND d.stage_id = {{sid}} AND d.amount {{amount}} ORDER BY {{order}} LIMIT {{n}}")
        for sid in out:  # largest amounts first (down the stage / amount index), blank amounts after
            got = c.execute(text(card_sql.format(sid=sid, amount="IS NOT NULL", order="d.amount DESC, d.id", n=cards)),
                            params).all()
            if len(got) < cards:
                c.execute(text(card_sql.format(sid=sid, amount="IS NULL", order="d.id", n=cards - len(got))),
                          params).all()
    return {sid: (v[0], round(v[1], 2), v[2]) for sid, v in out.items()}


def sql_log(engine: Engine, actor: Actor, customer_id: int, deal_id: int, now: datetime, next_on) -> None:
    """The writes of one logged call, by hand: insert, customer and deal updates, audit row."""
    with engine.begin() as c:
        owner = c.execute(text("SELECT owner_id FROM customer WHERE id = :c AND archived = false"),
                          {"c": customer_id}).scalar()
        assert owner == actor.id
        c.execute(text("INSERT INTO activity (kind, customer_id, deal_id, owner_id, done_at, outcome, next_step, "
                       "next_contact_on, created_at) VALUES ('call', :c, :d, :o, :n, 'bench', 'bench step', :nx, :n)"),
                  {"c": customer_id, "d": deal_id, "o": actor.id, "n": ts(engine, now), "nx": next_on})
        c.execute(text("UPDATE customer SET last_contact_at = :n, next_contact_on = :nx WHERE id = :c"),
                  {"c": customer_id, "n": ts(engine, now), "nx": next_on})
        c.execute(text("UPDATE deal SET next_step = 'bench step', last_activity_at = :n, version = version + 1 "
                       "WHERE id = :d"), {"d": deal_id, "n": ts(engine, now)})
        c.execute(text("INSERT INTO audit_log (at, actor_id, entity, entity_id, action) "
                       "VALUES (:n, :a, 'activity', '0', 'create')"), {"n": ts(engine, now), "a": actor.id})


# ---------------------------------------------------------------------------


def actors(engine: Engine) -> dict[str, Actor]:
    out = {}
    with session_scope(engine) as s:
        for label, role in (("rep", "rep"), ("manager", "manager"), ("director", "director")):
            user = s.scalars(select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)).first()
            if user is not None:
                out[label] = Actor.from_user(user)
    return out


def row_counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in (Customer, Deal, Activity)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default=os.environ.get("DATABASE_URL"))
    ap.add_argument("--build", choices=("small", "large"), help="build the demo company into a temp SQLite file")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--log-runs", type=int, default=100)
    ap.add_argument("--agenda-limit", type=int, default=10, help="rows per bucket (the page asks for 10)")
    args = ap.parse_args()
    if args.build or not args.url:
        from services.demo import build_demo

        path = Path(tempfile.mkdtemp()) / f"bench-{args.build or 'large'}.db"
        args.url = f"sqlite:///{path}"
        engine = make_engine(args.url)
        migrate(engine)
        t0 = time.perf_counter()
        build_demo(engine, scale=args.build or "large", seed=42, lang="en")
        print(f"built demo ({args.build or 'large'}) in {time.perf_counter() - t0:.1f} s → {path}")
    engine = make_engine(args.url)

    print(f"database: {engine.dialect.name}   rows: {row_counts(engine)}")
    print(f"machine: {platform.platform()} · {platform.processor() or platform.machine()} · "
          f"{os.cpu_count()} CPUs · Python {platform.python_version()}")
    with session_scope(engine) as s:
        tz = local_tz(s)
        tz_name = settings.get(s, "timezone")
    now = datetime.now(UTC)
    today = now.astimezone(tz).date()
    people = actors(engine)
    print(f"today {today} ({tz_name}); runs {args.runs} (log: {args.log_runs}); agenda rows per bucket "
          f"{args.agenda_limit}; board cards per stage 12\n")
    header = f"{'what':<9}{'who':<10}{'ours p50':>10}{'p95':>8}{'sql p50':>10}{'p95':>8}{'ratio':>8}  same"
    print(header)
    print("-" * len(header))

    def line(what, who, ours, sql, same):
        print(f"{what:<9}{who:<10}{statistics.median(ours):>10.2f}{pct(ours, .95):>8.2f}"
              f"{statistics.median(sql):>10.2f}{pct(sql, .95):>8.2f}"
              f"{statistics.median(ours) / statistics.median(sql):>8.2f}  {same}")

    for who, actor in people.items():
        with session_scope(engine) as s:
            ids = visible_user_ids(s, actor)

        def ours_agenda(actor=actor):
            with session_scope(engine) as s:
                return agenda(s, actor, today=today, limit=args.agenda_limit)

        t_ours, t_sql, res, raw = timed_pair(ours_agenda, lambda ids=ids: sql_agenda(engine, ids, today, tz, args.agenda_limit),
                                             args.runs)
        same = all(res[b].attrs["total"] == raw[b] for b in raw)
        line("agenda", who, t_ours, t_sql, same)

        def ours_board(actor=actor):
            with session_scope(engine) as s:
                return pipeline_board(s, actor, today=today, now=now, cards_per_stage=12)

        t_ours, t_sql, board, raw = timed_pair(ours_board, lambda ids=ids: sql_board(engine, ids, today, now),
                                               args.runs)
        same = all(raw.get(c.stage_id, (0, 0.0, 0)) == (c.count, round(float(c.amount), 2), c.stalled)
                   for c in board.columns)
        line("board", who, t_ours, t_sql, same)

    # writes: a rep logs calls on their own customers' open deals
    rep = people["rep"]
    with session_scope(engine) as s:
        targets = s.execute(
            select(Deal.id, Deal.customer_id).join(Stage, Stage.id == Deal.stage_id)
            .join(Customer, Customer.id == Deal.customer_id)
            .where(Deal.owner_id == rep.id, Stage.kind == "open", Customer.owner_id == rep.id,
                   Customer.archived.is_(False)).order_by(Deal.id).limit(20)).all()
    if not targets:
        print("(no open deal on an owned customer for the rep: log timing skipped)")
        return
    i = {"n": 0}

    def ours_log():
        deal_id, customer_id = targets[i["n"] % len(targets)]
        i["n"] += 1
        with session_scope(engine) as s:
            return log_activity(s, rep, data={"kind": "call", "customer_id": customer_id, "deal_id": deal_id,
                                              "outcome": "bench", "next_step": "bench step",
                                              "next_contact_on": today + timedelta(days=7)})

    def hand_log():
        deal_id, customer_id = targets[i["n"] % len(targets)]
        i["n"] += 1
        sql_log(engine, rep, customer_id, deal_id, datetime.now(UTC), today + timedelta(days=7))

    t_ours, t_sql, _, _ = timed_pair(ours_log, hand_log, args.log_runs)
    line("log", "rep", t_ours, t_sql, "n/a (writes)")
    print("\nratio = ours p50 / sql p50. Goal: reads ≤ 20 ms p50 on SQLite and ≤ 1.5× the hand-written SQL.")


if __name__ == "__main__":
    main()
