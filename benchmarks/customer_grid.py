"""Customer grid page query at scale: ours vs the same question as hand-written SQL
(vs loading the table into pandas, for one case).

"Ours" is the whole service call the grid makes, ``services.customers.list_customers_page``
(access filter, total count, one sorted page with owner and channel names, private fields
masked, a DataFrame out). "Hand-written" is the same count + page as raw SQL text on the
DB-API cursor in one transaction per load, with the visible owner ids already known (so
it skips the access lookup ours does on every call). Both pick the page's ids from the
customer indexes first and read only those rows (a deferred join: ``ix_customer_owner_grid``
/ ``ix_customer_name_grid`` cover the filters and sorts the cases use). Each case runs warm; we report
p50 / p95 milliseconds and the ratio ours / hand-written. Asserts nothing.

    python3 -m benchmarks.customer_grid                       # builds the large demo in a temp SQLite file
    python3 -m benchmarks.customer_grid --db sqlite:///big.db # an existing large demo (salesops demo --scale large)
    python3 -m benchmarks.customer_grid --db postgresql+psycopg://…   # same on PostgreSQL
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta

from sqlalchemy import func, select, text

from services import customers as cs
from services.access import Actor, visible_user_ids
from services.db import make_engine, migrate, session_scope
from services.models import Customer, User, utcnow

PAGE_SQL = """
SELECT c.id, c.name, c.credit_code, c.industry, c.region, c.tier, c.status, c.channel_id, ch.name,
       c.owner_id, u.display_name, c.phone, c.email, c.address, c.notes, c.next_contact_on,
       c.last_contact_at, c.pool_entered_at, c.archived, c.version, c.created_at, c.updated_at
FROM customer c
JOIN (SELECT c.id FROM customer c WHERE {where} ORDER BY {order} LIMIT {limit} OFFSET {offset}) p ON p.id = c.id
LEFT JOIN "user" u ON u.id = c.owner_id
LEFT JOIN channel ch ON ch.id = c.channel_id
ORDER BY {order}
"""
COUNT_SQL = "SELECT count(*) FROM customer c WHERE {where}"
NOW = utcnow()  # one clock for both sides (the "no contact for 30 days" cut-off)


@dataclass
class Case:
    name: str
    actor: Actor
    filters: cs.CustomerFilter
    sort: list[tuple[str, str]]
    page: int
    size: int
    where: str  # the hand-written WHERE (owner ids filled in at run time: {owners})
    order: str
    params: dict


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(q * (len(values) - 1))))
    return values[k]


def _time(fn: Callable[[], object], n: int) -> list[float]:
    for _ in range(3):
        fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _actors(engine) -> dict[str, Actor]:
    with session_scope(engine) as s:
        def first(role):
            u = s.scalars(select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)).first()
            return Actor.from_user(u)

        # the rep with the most customers (the heaviest grid)
        rep_id = s.execute(
            select(Customer.owner_id, func.count()).where(Customer.owner_id.is_not(None))
            .join(User, User.id == Customer.owner_id).where(User.role == "rep")
            .group_by(Customer.owner_id).order_by(func.count().desc()).limit(1)
        ).first()[0]
        return {"rep": Actor.from_user(s.get(User, rep_id)), "manager": first("manager"), "director": first("director")}


def _cases(engine) -> list[Case]:
    a = _actors(engine)
    cutoff = NOW - timedelta(days=30)
    with session_scope(engine) as s:
        some = s.scalar(select(Customer.name_norm).where(Customer.owner_id == a["rep"].id).limit(1)) or "a"
    probe = some[1:4] if len(some) > 4 else some
    owned = "c.owner_id IN ({owners}) AND c.archived = {false}"
    return [
        Case("rep: tier B, by name, page 1", a["rep"], cs.CustomerFilter(tier="B", in_pool=False),
             [("name", "asc")], 1, 100,
             owned + " AND c.owner_id IS NOT NULL AND c.tier = :tier", "c.name_norm ASC, c.id ASC", {"tier": "B"}),
        Case("rep: search name contains, page 1", a["rep"], cs.CustomerFilter(search=probe, in_pool=False),
             [("name", "asc")], 1, 100,
             owned + " AND c.owner_id IS NOT NULL AND c.name_norm LIKE :q ESCAPE '\\'",
             "c.name_norm ASC, c.id ASC", {"q": f"%{probe}%"}),
        Case("manager: active, last contact desc, page 3", a["manager"],
             cs.CustomerFilter(status="active", in_pool=False), [("last_contact_at", "desc")], 3, 100,
             owned + " AND c.owner_id IS NOT NULL AND c.status = :status", "c.last_contact_at DESC, c.id ASC",
             {"status": "active"}),
        Case("director: no contact 30 d, by name, page 10", a["director"],
             cs.CustomerFilter(no_contact_days=30), [("name", "asc")], 10, 100,
             "c.archived = {false} AND (c.last_contact_at IS NULL OR c.last_contact_at < :cutoff)",
             "c.name_norm ASC, c.id ASC", {"cutoff": cutoff}),
        Case("rep: public pool, by name, page 1", a["rep"], cs.CustomerFilter(in_pool=True),
             [("name", "asc")], 1, 100,
             "(c.owner_id IN ({owners}) OR c.owner_id IS NULL) AND c.archived = {false} AND c.owner_id IS NULL",
             "c.name_norm ASC, c.id ASC", {}),
    ]


def run(url: str, n: int) -> None:
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    false = "0" if sqlite else "false"
    with session_scope(engine) as s:
        total = s.scalar(select(func.count()).select_from(Customer))
    print(f"# customer grid page query — {engine.dialect.name}, {total:,} customers")
    print(f"# machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}; {n} runs per case, warm\n")
    print(f"{'case':46} {'ours p50':>9} {'p95':>7} {'hand p50':>9} {'p95':>7} {'ratio':>6} {'rows':>5} {'total':>7}")
    for case in _cases(engine):
        with session_scope(engine) as s:
            owners = visible_user_ids(s, case.actor)
        owners_sql = ",".join(str(i) for i in sorted(owners)) if owners else "NULL"
        where = case.where.format(owners=owners_sql, false=false)
        if owners is None:
            where = where.replace("c.owner_id IN (NULL) AND ", "")
        page_sql = PAGE_SQL.format(where=where, order=case.order, limit=case.size, offset=(case.page - 1) * case.size)
        count_sql = COUNT_SQL.format(where=where)

        def ours(case=case):
            with session_scope(engine) as s:
                return cs.list_customers_page(s, case.actor, filters=case.filters, sort=case.sort, page=case.page,
                                              page_size=case.size, now=NOW)

        raw = engine.raw_connection()
        cur = raw.cursor()
        page_stmt = text(page_sql).compile(engine)
        count_stmt = text(count_sql).compile(engine)
        bind = dict(case.params)
        if sqlite and "cutoff" in bind:  # SQLAlchemy's SQLite storage format (naive UTC text)
            bind["cutoff"] = bind["cutoff"].astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

        def positional(stmt, bind=bind):
            return [bind[k] for k in stmt.positiontup] if stmt.positiontup else bind

        def hand(raw=raw, cur=cur, page_stmt=page_stmt, count_stmt=count_stmt):
            cur.execute(str(count_stmt), positional(count_stmt))
            cnt = cur.fetchone()[0]
            cur.execute(str(page_stmt), positional(page_stmt))
            rows = cur.fetchall()
            raw.commit()  # one transaction per grid load, as the app does
            return rows, cnt

        df, got_total = ours()
        rows, hand_total = hand()
        ours_t = _time(ours, n)
        hand_t = _time(hand, n)
        raw.close()
        o50, o95, h50, h95 = _pct(ours_t, .5), _pct(ours_t, .95), _pct(hand_t, .5), _pct(hand_t, .95)
        same = "" if (got_total == hand_total and len(df) == len(rows)) else "  (!) results differ"
        print(f"{case.name:46} {o50:9.2f} {o95:7.2f} {h50:9.2f} {h95:7.2f} {o50 / h50:6.2f} {len(df):5} "
              f"{got_total:7,}{same}")

    # the same question answered by loading the table into pandas (what we avoid)
    import pandas as pd

    rep_case = _cases(engine)[0]

    def pandas_way():
        with engine.connect() as c:
            df = pd.read_sql("SELECT * FROM customer", c)
        sub = df[(df.owner_id == rep_case.actor.id) & (~df.archived.astype(bool)) & (df.tier == "B")]
        return sub.sort_values(["name_norm", "id"]).head(100), len(sub)

    p = _time(pandas_way, max(3, n // 40))
    o = _time(lambda: ours_for(engine, rep_case), max(3, n // 40))
    print(f"\n{'rep tier B via pandas (load table, filter)':46} {_pct(p, .5):9.2f} ms p50 — ours {_pct(o, .5):.2f} ms, "
          f"pandas / ours = {_pct(p, .5) / _pct(o, .5):.0f}×")
    engine.dispose()


def ours_for(engine, case: Case):
    with session_scope(engine) as s:
        return cs.list_customers_page(s, case.actor, filters=case.filters, sort=case.sort, page=case.page,
                                      page_size=case.size)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="database URL of a large demo company (default: build one in a temp SQLite file)")
    ap.add_argument("-n", type=int, default=200, help="runs per case")
    args = ap.parse_args()
    url = args.db
    if not url:
        from services.demo import build_demo

        path = os.path.join(tempfile.mkdtemp(prefix="salesops-bench-"), "large.db")
        url = f"sqlite:///{path}"
        eng = make_engine(url)
        migrate(eng)
        print(f"# building the large demo company in {path} …")
        build_demo(eng, scale="large", seed=42, lang="zh")
        eng.dispose()
    run(url, args.n)


if __name__ == "__main__":
    main()
