"""Writing the generated rows: the driver's bulk path in one transaction — ``executemany`` on
SQLite, ``COPY`` on PostgreSQL — with explicit ids, so foreign keys need no round trips.

Secondary indexes of the big tables (and on PostgreSQL their foreign keys) are dropped during
the load and re-created afterwards from their own definitions, read back from the database:
one sort per index and one validation pass per constraint instead of row-by-row maintenance.
SQLite loads with a rollback journal (the new pages are written once instead of WAL +
checkpoint) and foreign-key checks off (the ids are consistent by construction; the tests run
``PRAGMA foreign_key_check``), then returns to WAL. A failure anywhere rolls the load back."""

from __future__ import annotations

import re
import sqlite3
import time

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from services import customer_facts, deal_facts
from services.db import FULL_ANALYSIS, sqlite_outside_transaction
from services.i18n import t

from .context import Demo, DemoSummary, Progress

BIG_TABLES = ("customer", "contact", "deal", "deal_history", "activity", "contract", "payment_plan", "payment",
              "service_ticket", "target")


def secondary_indexes(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the non-constraint indexes of a table."""
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=? AND sql IS NOT NULL", (table,)
        ).all()
        return [(r[0], r[1]) for r in rows if not r[1].upper().startswith("CREATE UNIQUE")]
    rows = conn.execute(
        text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = :t AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname "
            "AND c.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()))"
            " AND i.indexdef NOT LIKE 'CREATE UNIQUE%'"
        ),
        {"t": table},
    ).all()
    return [(r[0], r[1]) for r in rows]


def foreign_keys(conn: Connection) -> list[tuple[str, str, str]]:
    """PostgreSQL: (table, name, definition) of the foreign keys on the big tables. Dropped
    during the load and added back afterwards: one validation pass per constraint instead of
    a trigger call per row."""
    rows = conn.execute(
        text(
            "SELECT cl.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace "
            "WHERE c.contype = 'f' AND n.nspname = current_schema() AND cl.relname = ANY(:tables) "
            "ORDER BY cl.relname, c.conname"
        ),
        {"tables": list(BIG_TABLES)},
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


# the kept facts (their tables, columns and set-based recompute): their triggers are off for a
# bulk load and the facts recomputed once the rows are in
KEPT_FACTS = (deal_facts, customer_facts)
FACT_TABLES = tuple(table for facts in KEPT_FACTS for table in facts.TABLES)
FACT_COLUMNS = tuple(column for facts in KEPT_FACTS for column in facts.COLUMNS)


def fact_triggers_off(conn: Connection) -> list[str]:
    """The triggers that keep the facts (services.deal_facts, services.customer_facts) off for
    the load: SQLite drops them (their CREATE statements are returned, to run again),
    PostgreSQL disables them. The facts are recomputed set-based once the rows are in."""
    if conn.dialect.name == "sqlite":
        tables = ", ".join(f"'{table}'" for table in FACT_TABLES)
        rows = conn.exec_driver_sql(
            f"SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name IN ({tables})").all()
        for name, _sql in rows:
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        return [sql for _name, sql in rows]
    for table in FACT_TABLES:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
    return []


def fact_triggers_on(conn: Connection, dropped: list[str]) -> None:
    for facts in KEPT_FACTS:
        facts.refresh(conn)
    for ddl in dropped:
        conn.exec_driver_sql(ddl)
    if conn.dialect.name == "postgresql":
        for table in FACT_TABLES:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')


def write(conn: Connection, demo: Demo, report: Progress, summary: DemoSummary) -> None:
    dialect = conn.dialect.name
    total = sum(len(rows) for _cols, rows in demo.rows.tables.values()) or 1
    done = 0
    journal = None
    if dialect == "sqlite":
        # The database is empty: with a rollback journal the new pages are written once, straight
        # into the file (pages past the old end need no journal), instead of WAL + checkpoint.
        # Back to WAL afterwards. When another connection holds the file, we simply stay in WAL.
        # these PRAGMAs only take effect outside a transaction: run them on the raw connection
        conn.commit()
        try:
            journal = sqlite_outside_transaction(conn, "PRAGMA journal_mode=DELETE")[0]
        except sqlite3.OperationalError:
            journal = None
        sqlite_outside_transaction(conn, "PRAGMA cache_size=-262144")  # 256 MB page cache for the load
        sqlite_outside_transaction(conn, "PRAGMA foreign_keys=OFF")  # ids generated consistently; checked in tests
        sqlite_outside_transaction(conn, "PRAGMA threads=2")  # CREATE INDEX sorts with a helper thread
    try:
        with conn.begin():
            if dialect == "postgresql":
                conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
            dropped: list[tuple[str, str]] = []
            for table in BIG_TABLES:
                for name, ddl in secondary_indexes(conn, table):
                    conn.exec_driver_sql(f'DROP INDEX "{name}"')
                    dropped.append((name, ddl))
            triggers = fact_triggers_off(conn)
            constraints = foreign_keys(conn) if dialect == "postgresql" else []
            for table, name, _ddl in constraints:
                conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for table, (cols, rows) in demo.rows.tables.items():
                report(0.95 * done / total, t("demo.step_write", demo.lang, table=table, rows=f"{len(rows):,}"))
                mark = time.perf_counter()
                bulk_insert(conn, table, cols, rows)
                summary.timings[f"insert {table}"] = time.perf_counter() - mark
                done += len(rows)
                summary.counts[table] = summary.counts.get(table, 0) + len(rows)
                demo.rows.tables[table] = (cols, [])  # free the memory as we go
            report(0.97, t("demo.step_index", demo.lang))
            mark = time.perf_counter()
            # the indexes on the kept facts once the facts are in (one sort each instead
            # of an index update per recomputed row)
            on_facts = [(n, ddl) for n, ddl in dropped if any(re.search(rf"\b{c}\b", ddl) for c in FACT_COLUMNS)]
            for name, ddl in dropped:
                if (name, ddl) not in on_facts:
                    conn.exec_driver_sql(ddl)
            for table, name, ddl in constraints:  # re-checked here, in one pass per constraint
                conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {ddl}')
            summary.timings["indexes + constraints"] = time.perf_counter() - mark
            mark = time.perf_counter()
            fact_triggers_on(conn, triggers)
            for _name, ddl in on_facts:
                conn.exec_driver_sql(ddl)
            summary.timings["kept facts"] = time.perf_counter() - mark
            mark = time.perf_counter()
            if dialect == "postgresql":
                for table in demo.rows.tables:
                    if "id" in demo.rows.tables[table][0]:
                        conn.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                            f'(SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"), false)'
                        )
            with Session(bind=conn) as session:
                from services import settings

                settings.put(session, "demo_mode", True)
                settings.put(session, "default_language", demo.lang)
                session.flush()
                from .build import AFTER_LOAD

                for step, tables in AFTER_LOAD:
                    step(session, demo)
                    session.flush()
                    for table in tables:
                        summary.counts[table] = session.execute(
                            text(f'SELECT COUNT(*) FROM "{table}"')).scalar() or 0
            summary.timings["after the load"] = time.perf_counter() - mark
            mark = time.perf_counter()
        summary.timings["commit"] = time.perf_counter() - mark
    finally:
        if dialect == "sqlite":
            conn.rollback()  # no-op after the commit above; ends a failed load's transaction
            sqlite_outside_transaction(conn, "PRAGMA foreign_keys=ON")
            sqlite_outside_transaction(conn, "PRAGMA cache_size=-2000")
            sqlite_outside_transaction(conn, "PRAGMA threads=0")
            if journal and journal.lower() != "wal":
                sqlite_outside_transaction(conn, "PRAGMA journal_mode=WAL")
    report(0.99, t("demo.step_analyze", demo.lang))
    mark = time.perf_counter()
    if dialect == "sqlite":
        # full statistics (services.db.FULL_ANALYSIS): a sampled ANALYZE mis-counts skewed
        # columns (deals per stage) and the analytics then read the wrong index
        conn.exec_driver_sql(f"PRAGMA analysis_limit={FULL_ANALYSIS}")
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    else:
        # only our tables (a bare ANALYZE would visit every schema of the database); VACUUM
        # sets the visibility map so the grid/board indexes give index-only scans at once.
        # VACUUM cannot run inside a transaction: autocommit for this statement.
        tables = [tb for tb in demo.rows.tables if summary.counts.get(tb)]
        conn.commit()
        raw = conn.connection.dbapi_connection
        previous, raw.autocommit = raw.autocommit, True
        try:
            raw.execute("VACUUM (ANALYZE) " + ", ".join(f'"{tb}"' for tb in tables))
        finally:
            raw.autocommit = previous
    summary.timings["analyze"] = time.perf_counter() - mark


def bulk_insert(conn: Connection, table: str, cols: list[str], rows: list[tuple], chunk: int = 50_000) -> None:
    if not rows:
        return
    collist = ", ".join(f'"{c}"' for c in cols)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            with cursor.copy(f'COPY "{table}" ({collist}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return
    sql = f'INSERT INTO "{table}" ({collist}) VALUES ({", ".join("?" * len(cols))})'
    for i in range(0, len(rows), chunk):
        conn.exec_driver_sql(sql, rows[i : i + chunk])
