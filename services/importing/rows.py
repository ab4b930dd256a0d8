"""What every kind's importer shares: reading a row's cells through the mapping, recording
row errors (row number and column as the user sees them), counting outcomes, the file's own
duplicate keys, and writing new rows in batches (each kind writes its queued rows through
the app's own write functions)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlmodel import Session

from services import access
from services import settings as settings_service
from services.access import Actor
from services.i18n import t
from services.importing.parsing import ParseError, cell_text, infer_day_first, parse_date, parse_datetime
from services.importing.reading import Table
from services.importing.references import References, RowFailed
from services.importing.results import ImportResult, ImportRowError, RowOutcome, quoted
from services.models import utcnow
from services.models.fields import LONG_TEXT

FLUSH_EVERY = 500  # new rows are written (and audited) in groups of this size
_DATE_FIELDS = ("expected_close", "opened_on", "closed_on", "done_at", "planned_at", "next_contact_on")


class RowImporter:
    """One import of one kind. ``handle(values)`` does one row; ``write_queued(items)``
    writes the new rows queued with ``queue`` (ids come back onto their placeholders)."""

    kind: ClassVar[str]
    #: text fields of this kind → longest value (free text: ``LONG_TEXT``)
    text_limits: ClassVar[dict[str, int]] = {}

    def __init__(self, actor: Actor, table: Table, mapping: dict[str, str], *, on_duplicate: str, dry_run: bool,
                 create_missing: bool) -> None:
        self.actor = actor
        self.locale = actor.locale
        self.table = table
        self.on_duplicate = on_duplicate
        self.dry_run = dry_run
        self.create_missing = create_missing
        self.result = ImportResult(kind=self.kind, dry_run=dry_run, total_rows=len(table.rows))
        self.col_of: dict[str, int] = {}
        self.header_of: dict[str, str] = {}
        for i, h in enumerate(table.headers):
            fld = mapping.get(h, "")
            if fld:
                self.col_of[fld] = i
                self.header_of[fld] = h
        self.refs = References(self)
        self.seen: dict[tuple, Any] = {}  # the file's own duplicate keys → (row, entity id or placeholder)
        self.row_errors: list[ImportRowError] = []
        self.current_row = 0
        self._queued: list[Any] = []
        self.s: Session = None  # type: ignore[assignment]  # the batch's session, set by ``use``
        self.tz = "Asia/Shanghai"
        self.visible: set[int] | None = None
        self.today: date = utcnow().date()
        self.day_first = {f: infer_day_first(self._column(f)) for f in _DATE_FIELDS if f in self.col_of}

    def prepare(self, session: Session) -> None:
        """Read what every row needs once: the company time zone, whom the actor sees."""
        self.s = session
        self.tz = settings_service.get(session, "timezone") or "Asia/Shanghai"
        self.visible = access.visible_user_ids(session, self.actor)
        self.today = utcnow().astimezone(ZoneInfo(self.tz)).date()

    # -- cells -------------------------------------------------------------------
    def _column(self, fld: str) -> list[Any]:
        i = self.col_of[fld]
        return [vals[i] if i < len(vals) else None for _, vals in self.table.rows]

    def raw(self, values: list[Any], fld: str) -> Any:
        i = self.col_of.get(fld)
        if i is None or i >= len(values):
            return None
        return values[i]

    def text(self, values: list[Any], fld: str) -> str | None:
        """The cell as text under the text rule; None when empty."""
        return cell_text(self.raw(values, fld)) or None

    def texts(self, values: list[Any], fields: tuple[str, ...]) -> dict[str, str | None]:
        """Text fields of the row, each within its limit (else a row error)."""
        out: dict[str, str | None] = {}
        for fld in fields:
            value = self.text(values, fld)
            limit = self.text_limits.get(fld, LONG_TEXT)
            if value is not None and len(value) > limit:
                self.error(fld, value, t("err.too_long", self.locale, max=limit))
            out[fld] = value
        return out

    def error(self, fld: str | None, value: Any, reason: str) -> None:
        self.row_errors.append(ImportRowError(row=self.current_row, column=self.header_of.get(fld or "", fld or ""),
                                              value=quoted(cell_text(value)), reason=reason))

    def parse(self, values: list[Any], fld: str, parser: Callable[..., Any], **kw) -> Any:
        raw = self.raw(values, fld)
        try:
            return parser(raw, **kw)
        except ParseError as exc:
            self.error(fld, raw, exc.message(self.locale))
            return None

    def date_of(self, values: list[Any], fld: str) -> date | None:
        if fld not in self.col_of:
            return None
        return self.parse(values, fld, parse_date, day_first=self.day_first.get(fld))

    def datetime_of(self, values: list[Any], fld: str) -> datetime | None:
        if fld not in self.col_of:
            return None
        return self.parse(values, fld, parse_datetime, tz=self.tz, day_first=self.day_first.get(fld))

    def msg(self, key: str, **params: Any) -> str:
        return t(f"importing.{key}", self.locale, **params)

    def fail_if_errors(self) -> None:
        if self.row_errors:
            raise RowFailed

    def outcome(self, action: str, entity_id: Any = None, note: str = "") -> RowOutcome:
        setattr(self.result, action, getattr(self.result, action) + 1)
        outcome = RowOutcome(self.current_row, action, entity_id if isinstance(entity_id, int) else None, note)
        self.result.outcomes.append(outcome)
        return outcome

    def _cell_issues(self, values: list[Any]) -> None:
        """Cells the reader flagged (merged, formula without a value, …): an error on the
        row when the column is imported, or always when the cell broke the row."""
        issues = self.table.cell_issues
        if not issues:
            return
        mapped = set(self.col_of.values())
        for col in range(max(len(values), len(self.table.headers))):
            issue = issues.get((self.current_row, col))
            if issue is None or not (issue.always or col in mapped):
                continue
            header = self.table.headers[col] if col < len(self.table.headers) else f"column {col + 1}"
            value = values[col] if col < len(values) else None
            self.row_errors.append(ImportRowError(row=self.current_row, column=header,
                                                  value=quoted(cell_text(value)), reason=issue.message(self.locale)))

    # -- rows --------------------------------------------------------------------
    def handle(self, values: list[Any]) -> None:  # pragma: no cover - each kind has its own
        raise NotImplementedError

    def run_rows(self, session: Session, rows: list[tuple[int, list[Any]]], *,
                 progress: Callable[[int, int], None] | None = None, done_before: int = 0,
                 deadline: float | None = None) -> int:
        """Import ``rows`` in ``session`` (one transaction) — or, with a ``deadline``
        (``time.monotonic()``), as many as fit before it (at least one); returns how many.
        New rows are written in groups of ``FLUSH_EVERY`` and at the end."""
        self.s = session
        total = self.result.total_rows
        count = 0
        # rows of this file are matched through ``self.seen``, so queries need not flush
        # every new row first
        with session.no_autoflush:
            for n, (number, values) in enumerate(rows, start=done_before + 1):
                if deadline is not None and count and time.monotonic() > deadline:
                    break
                count += 1
                self.current_row = number
                self.row_errors = []
                self._cell_issues(values)
                if not self.row_errors:
                    with contextlib.suppress(RowFailed):
                        self.handle(values)
                if self.row_errors:
                    self.result.errors.extend(self.row_errors)
                if len(self._queued) >= FLUSH_EVERY:
                    self.flush()
                if progress and (n % 50 == 0 or n == total):
                    progress(n, total)
        self.flush()
        return count

    def queue(self, item: Any) -> None:
        """A new row to write with the next group (nothing is written in a dry run)."""
        if not self.dry_run:
            self._queued.append(item)

    def flush(self) -> None:
        if self._queued:
            items, self._queued = self._queued, []
            self.write_queued(items)
            self.s.flush()

    def write_queued(self, items: list[Any]) -> None:  # pragma: no cover - kinds that queue override it
        raise NotImplementedError
