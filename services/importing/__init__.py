"""Import customers, contacts, deals and activities from CSV (UTF-8 or GBK) or XLSX files.

How an import works (the same for the page, the CLI and scripts):

1. The file is read (``reading``): XLSX through openpyxl's streaming parser (first sheet,
   within a size and time budget), CSV decoded as UTF-8 (with or without BOM), else as
   GB18030 (GBK's superset, what Excel writes on a Chinese Windows) when charset-normalizer
   ranks it GB, else refused with what it looks like (Shift-JIS, Big5, …) and "save it as
   UTF-8". The first non-empty row is the header. A file that cannot be read as a table is
   refused whole with one line saying why; a cell that cannot be read as it looks (merged,
   a formula without a saved result, …) is an error on its row.
2. Columns are mapped to fields: ``suggest_mapping`` recognises Chinese and English
   headers (客户名称 / Company name → ``name``); an explicit ``mapping`` (source header →
   field, ``""`` to ignore a column) overrides the suggestions.
3. Every row is validated. A bad row is reported (row number as the user sees it in the
   spreadsheet — the header is row 1 —, column, value, reason) and skipped; every good row
   is written, through the app's own write paths (``services.customers.insert_customers``,
   ``services.deals.insert_deals``). Bad rows come back in ``ImportResult.errors`` and as a
   downloadable CSV (``errors_csv()``), so nothing valid is lost because a neighbour was bad.
   Given an engine, the import commits in batches of ``BATCH_ROWS`` rows, each one short
   transaction, so the team's saves go through between batches; if a batch fails, the
   batches before it stay written, the result says how many rows that was
   (``written``, ``failure``), and running the same import again finishes the job (rule 4).
   Given a session, every row is written in the caller's one transaction.
   A dry run reads in read-only transactions and writes nothing.
4. Re-running the same file creates no duplicates: a row is matched to an existing record
   by its external id column when there is one, else by the duplicate check (customers:
   normalised name, phone, email, credit code; contacts: same customer and name, phone or
   email; deals: same customer and normalised deal name; activities: same customer, kind
   and time). ``on_duplicate`` decides what happens to a matched row: ``skip`` (default),
   ``update`` (non-empty cells overwrite the existing record; empty cells never erase) or
   ``keep_both`` (managers only: create a new record anyway — unless the match is the same
   external id or identical in every imported field, which is the same row imported again).

Who may import what: a rep imports only records owned by themselves (an empty owner cell
means "me"); a manager for the users of their teams; directors and admins for anyone.
``create_missing`` (directors and admins) creates unknown owners (as inactive users who
cannot sign in), customers, products, stages, channels and lost reasons, so a whole pipeline
export from another CRM can be brought in.

Messy data — what a sales team gets (decided here, tested in tests/services/test_import_deals.py):
- Amounts: ``¥1,234.50``, ``12万``, ``1.5亿``, ``30k``, ``RMB 5000元`` and full-width digits are
  read; negative or larger than 999,999,999,999.99 is an error. An open or lost deal may
  have no amount (early-stage deals often do; it is stored empty and counts as 0 in
  pipeline sums); a won deal must have one (won revenue would silently be understated).
- Deals without a customer: open and lost deals are kept without a customer (early-stage
  opportunities often have none; inventing an "unknown customer" would pollute the customer
  list, the duplicate check and the public pool). A won deal must name its customer
  (revenue, contracts and CLV belong to a customer).
- One product spelled two ways (``CRM 专业版`` / ``crm专业版``) matches one product through
  ``dedupe.normalize_name`` (case, spaces, full-width characters).
- Dates: ``2026-11-27``, ``2026/11/27``, ``2026.11.27``, ``20261127``, ``2026年11月27日``,
  ``27.11.2026`` (dotted = day first), Excel date cells and serial numbers. Slash dates with
  the year last (``11/27/2026``) are read month- or day-first when the column itself shows
  which (some value has a part above 12); a column where every such date is ambiguous
  (``03/04/2026``) is rejected row by row with "ambiguous date, write it as YYYY-MM-DD".
  A date without a time (activities) is taken as 12:00 in the company time zone.
- A won or lost deal without a close date takes its expected close date; with neither it
  is an error (closing dates drive revenue periods). A lost deal without a reason is
  kept (dropping it would inflate the win rate).
- An empty stage means the first open stage; ``won`` / ``赢单`` / ``lost`` / ``输单`` name the
  won and lost stages whatever they are called. ``create_missing`` creates a missing stage
  whose name says won or lost as a won / lost stage (see ``references``). A close date on a
  deal that lands in an open stage is an error on its row, never dropped.
- Text: the one text rule (control characters such as NUL removed, whitespace stripped)
  applies to every cell as it is read; free text is at most ``LONG_TEXT`` characters.
- Activities: an activity date in the future is imported as planned (not done).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from services.access import Actor
from services.db import is_sqlite, refresh_statistics, session_scope
from services.errors import BusyError, DomainError, PermissionDenied, ValidationError
from services.i18n import t
from services.importing.activities import ActivityImporter
from services.importing.contacts import ContactImporter
from services.importing.customers import CustomerImporter
from services.importing.deals import DealImporter
from services.importing.fields import (
    DUPLICATE_POLICIES,
    FIELDS,
    KINDS,
    REQUIRED,
    resolve_mapping,
    suggest_mapping,
)
from services.importing.parsing import (
    MAX_AMOUNT,
    ParseError,
    cell_text,
    infer_day_first,
    parse_activity_kind,
    parse_amount,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_int,
    parse_status,
    parse_tier,
    stage_kind_named,
)
from services.importing.reading import (
    MAX_ROWS,
    CellIssue,
    FileRefused,
    Table,
    decode_csv_bytes,
    detect_encoding,
    read_table,
)
from services.importing.results import ImportResult, ImportRowError, RowOutcome
from services.importing.rows import FLUSH_EVERY, RowImporter

__all__ = [
    "BATCH_ROWS", "BATCH_SECONDS", "DUPLICATE_POLICIES", "FIELDS", "FLUSH_EVERY", "KINDS", "MAX_AMOUNT", "MAX_ROWS", "REQUIRED",
    "CellIssue", "FileRefused", "ImportResult", "ImportRowError", "ParseError", "RowImporter", "RowOutcome",
    "Table", "cell_text", "decode_csv_bytes", "detect_encoding", "import_file", "infer_day_first",
    "parse_activity_kind", "parse_amount", "parse_bool", "parse_date", "parse_datetime", "parse_int",
    "parse_status", "parse_tier", "read_table", "resolve_mapping", "run_import", "stage_kind_named",
    "suggest_mapping",
]

log = logging.getLogger(__name__)

#: A committed batch ends after this many rows or this many seconds, whichever comes first:
#: one short write transaction each, however loaded the machine or slow the kind of row.
BATCH_ROWS = 500
#: An import that writes at least this many rows refreshes the statistics of its tables.
LARGE_IMPORT_ROWS = 5_000
#: The tables each kind of import writes to (activities move customers' contact dates too).
IMPORT_TABLES = {"customers": ("customer",), "contacts": ("contact",), "deals": ("deal", "deal_history"),
                 "activities": ("activity", "customer")}
BATCH_SECONDS = 0.25
#: SQLite: the pause between batches. A writer waiting in SQLite's busy handler retries
#: every 50–100 ms; without a gap the next batch would take the lock back before it looks.
SQLITE_PAUSE_S = 0.1

IMPORTERS: dict[str, type[RowImporter]] = {
    "customers": CustomerImporter,
    "contacts": ContactImporter,
    "deals": DealImporter,
    "activities": ActivityImporter,
}

Progress = Callable[[int, int], None]
Source = str | Path | BinaryIO | bytes


def _check_request(actor: Actor, kind: str, on_duplicate: str, create_missing: bool) -> None:
    locale = actor.locale
    if kind not in KINDS:
        raise ValidationError({"kind": t("err.not_in_list", locale, options=", ".join(KINDS))})
    if on_duplicate not in DUPLICATE_POLICIES:
        raise ValidationError({"on_duplicate": t("err.not_in_list", locale, options=", ".join(DUPLICATE_POLICIES))})
    if on_duplicate == "keep_both" and not actor.is_manager:
        raise PermissionDenied(t("importing.err.keep_both_manager", locale))
    if create_missing and not actor.sees_all:
        raise PermissionDenied(t("importing.err.create_missing_role", locale))


def _importer(actor: Actor, kind: str, path: Source, mapping: dict[str, str] | None, on_duplicate: str,
              dry_run: bool, create_missing: bool, encoding: str | None) -> RowImporter:
    _check_request(actor, kind, on_duplicate, create_missing)
    table = read_table(path, locale=actor.locale, encoding=encoding)
    final = resolve_mapping(table.headers, kind, mapping, actor.locale)
    return IMPORTERS[kind](actor, table, final, on_duplicate=on_duplicate, dry_run=dry_run,
                           create_missing=create_missing)


def _failure_text(exc: Exception, locale: str) -> str:
    if isinstance(exc, BusyError):
        return exc.message(locale)
    if isinstance(exc, DomainError):
        return str(exc)
    return t("importing.failed_unexpectedly", locale, error=type(exc).__name__)


def run_import(engine: Engine, actor: Actor, *, kind: str, path: Source, mapping: dict[str, str] | None = None,
               on_duplicate: str = "skip", dry_run: bool = False, create_missing: bool = False,
               progress: Progress | None = None, batch_rows: int = BATCH_ROWS,
               batch_seconds: float = BATCH_SECONDS, encoding: str | None = None) -> ImportResult:
    """Import a file against ``engine`` in batches of at most ``batch_rows`` rows and
    ``batch_seconds``, each committed in its own short transaction (a dry run: read-only
    ones, nothing written), so other users' saves go through between batches. ``progress(done, total)`` is called after each
    batch, outside any transaction. A batch that fails is rolled back and the import stops:
    the result's ``written`` counts the rows committed before it, ``failure`` says why, and
    running the same import again skips what is already there and writes the rest.
    Refusals of the whole file or the mapping raise ``ValidationError`` before any write."""
    importer = _importer(actor, kind, path, mapping, on_duplicate, dry_run, create_missing, encoding)
    with session_scope(engine, write=False) as session:
        importer.prepare(session)
    result = importer.result
    rows = importer.table.rows
    pause = SQLITE_PAUSE_S if is_sqlite(engine) and not dry_run else 0.0
    start = 0
    while start < len(rows):
        batch = rows[start:start + batch_rows]
        mark = result.mark()
        try:
            with session_scope(engine, write=not dry_run) as session:
                done = importer.run_rows(session, batch, done_before=start,
                                         deadline=time.monotonic() + batch_seconds)
        except Exception as exc:  # the batch is rolled back; what came before stays written
            result.roll_back_to(mark)
            result.failure = _failure_text(exc, actor.locale)
            result.failed_rows = (batch[0][0], importer.current_row)
            if isinstance(exc, SQLAlchemyError):
                log.warning("import stopped at rows %s–%s: %s", *result.failed_rows, str(exc)[:300])
            elif not isinstance(exc, DomainError):
                log.exception("import stopped at rows %s–%s", *result.failed_rows)
            break
        result.batches += 1
        start += done
        if progress:
            progress(start, len(rows))
        if pause and start < len(rows):
            time.sleep(pause)
    if result.written >= LARGE_IMPORT_ROWS:
        _refresh_statistics(engine, kind)
    return result


def _refresh_statistics(engine: Engine, kind: str) -> None:
    """Planner statistics of the tables a large import changed (``services.db``): without
    them the planner keeps costing queries on the row counts from before. A failure here is
    logged; the import itself is committed and reported as it is."""
    try:
        refresh_statistics(engine, tables=list(IMPORT_TABLES.get(kind, ())))
    except Exception:
        log.exception("statistics after the %s import were not refreshed", kind)


def import_file(session: Session | Engine, actor: Actor, *, kind: str, path: Source,
                mapping: dict[str, str] | None = None, on_duplicate: str = "skip", dry_run: bool = False,
                create_missing: bool = False, progress: Progress | None = None,
                encoding: str | None = None) -> ImportResult:
    """Import ``kind`` records from a CSV/XLSX file (path, bytes or binary file object).

    Every row is validated; bad rows are reported and skipped (see the module docstring for
    matching, duplicates and messy data). Given an engine, this is ``run_import`` (batches,
    each committed). Given a session, every good row is written in the caller's one
    transaction and ``progress(done, total)`` is called every 50 rows. ``dry_run``
    validates and counts without writing. ``keep_both`` needs a manager; ``create_missing``
    a director or admin.
    """
    if isinstance(session, Engine):
        return run_import(session, actor, kind=kind, path=path, mapping=mapping, on_duplicate=on_duplicate,
                          dry_run=dry_run, create_missing=create_missing, progress=progress, encoding=encoding)
    importer = _importer(actor, kind, path, mapping, on_duplicate, dry_run, create_missing, encoding)
    importer.prepare(session)
    importer.run_rows(session, importer.table.rows, progress=progress)
    importer.result.batches = 1
    return importer.result
