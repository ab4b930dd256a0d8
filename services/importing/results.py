"""What an import reports: per row (created / updated / skipped, or why it was refused, by
row number and column as the user sees them in the spreadsheet), the totals, and — when the
import stopped part way — how many rows were written before it stopped and why."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

#: Longest cell value quoted back in a report (a runaway cell would bloat it).
REPORT_VALUE_CHARS = 200


def quoted(value: str) -> str:
    """A cell value as the report quotes it: at most ``REPORT_VALUE_CHARS`` characters."""
    if len(value) <= REPORT_VALUE_CHARS:
        return value
    return f"{value[:REPORT_VALUE_CHARS]}… ({len(value):,})"


@dataclass
class ImportRowError:
    """One rejected row: ``row`` as numbered in the spreadsheet (header = row 1)."""

    row: int
    column: str
    value: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass
class RowOutcome:
    """What happened to one row: created / updated / skipped (with the matched record)."""

    row: int
    action: str
    entity_id: int | None = None
    note: str = ""


@dataclass
class ImportResult:
    """Totals and rows of one import. ``written`` counts the rows committed (created or
    updated); when the import stopped part way, ``failure`` says why (one line, in the
    user's language) and ``failed_rows`` gives the first and last row of the batch that
    was rolled back — every row before it is written, every row from it on is not."""

    kind: str
    dry_run: bool = False
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[ImportRowError] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)
    created_refs: dict[str, int] = field(default_factory=dict)  # create_missing: kind → count
    batches: int = 0
    failure: str | None = None
    failed_rows: tuple[int, int] | None = None

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def written(self) -> int:
        return 0 if self.dry_run else self.created + self.updated

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "total_rows": self.total_rows,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "error_rows": self.error_rows,
            "written": self.written,
            "batches": self.batches,
            "failure": self.failure,
            "failed_rows": list(self.failed_rows) if self.failed_rows else None,
            "created_refs": dict(self.created_refs),
            "errors": [e.to_dict() for e in self.errors],
        }

    def errors_csv(self) -> bytes:
        """The validation report as CSV (UTF-8 with BOM so Excel opens it), formula-safe."""
        from services.exporting import neutralize

        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["row", "column", "value", "reason"])
        for e in self.errors:
            w.writerow([e.row, neutralize(e.column), neutralize(e.value), neutralize(e.reason)])
        return buf.getvalue().encode("utf-8-sig")

    # -- batches: what a rolled-back batch must take back ------------------------
    def mark(self) -> tuple:
        return (self.created, self.updated, self.skipped, len(self.errors), len(self.outcomes),
                dict(self.created_refs))

    def roll_back_to(self, mark: tuple) -> None:
        self.created, self.updated, self.skipped, n_errors, n_outcomes, refs = mark
        del self.errors[n_errors:]
        del self.outcomes[n_outcomes:]
        self.created_refs = refs
