"""Reading an import file into a ``Table``: CSV in a detected encoding, or the first sheet
of an XLSX workbook, within a size and time budget.

Every way a file can go wrong gets a clear answer, never a traceback or a silent loss:
- the whole file is refused (``FileRefused``, one line saying why and what to do) when it
  cannot be read as a table: an encoding that is not UTF-8 / GBK (Shift-JIS, Big5 … would
  import as garbled Chinese), a broken quote that would swallow the lines after it, a
  workbook with cells far outside its data or too big to read in the budget;
- a cell that cannot be imported as it looks in the spreadsheet is flagged per cell
  (``Table.cell_issues``) and reported on its row by the importer: merged cells (read as
  empty), formulas without a saved result, error values (#N/A), a CSV cell that runs over
  lines that look like rows of their own, cells past the header.
"""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from services.errors import ValidationError
from services.i18n import t
from services.models.fields import clean_text

MAX_ROWS = 200_000  # a file larger than this is refused (split it)
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_COLUMNS = 1_000  # a value further right is "far outside the data"
MAX_EMPTY_GAP = 10_000  # empty rows between data and a lone far-away row
XLSX_MAX_UNPACKED = 1024 * 1024 * 1024  # the workbook's parts, unzipped
XLSX_MAX_CELLS = 20_000_000
XLSX_SECONDS = 60.0
MAX_CELL_ISSUES = 50_000
_SAMPLE_BYTES = 64 * 1024
_GB_CODECS = {"gb18030", "gbk", "gb2312", "cp936", "hz", "euc_cn"}
_KOREAN_CODECS = {"cp949", "euc_kr", "johab", "iso2022_kr"}
# what a user recognises (Excel's own names for these encodings)
_ENCODING_NAMES = {"cp932": "Shift-JIS (Japanese)", "shift_jis": "Shift-JIS (Japanese)",
                   "shift_jis_2004": "Shift-JIS (Japanese)", "euc_jp": "EUC-JP (Japanese)",
                   "euc_jis_2004": "EUC-JP (Japanese)", "big5": "Big5 (Traditional Chinese)",
                   "big5hkscs": "Big5-HKSCS (Traditional Chinese)", "cp950": "Big5 (Traditional Chinese)",
                   "cp1252": "Windows-1252 (Western European)", "latin_1": "ISO-8859-1 (Western European)"}


class FileRefused(ValidationError):
    """The file as a whole cannot be imported; ``errors["file"]`` says why and what to do."""

    def __init__(self, locale: str | None, key: str, **params: Any) -> None:
        self.key = key
        super().__init__({"file": t(f"importing.file.{key}", locale, **params)})


@dataclass(frozen=True)
class CellIssue:
    """Why one cell cannot be imported as the spreadsheet shows it (a catalog key under
    ``importing.cell``). ``always``: the row is refused even when the column is not mapped
    (the cell swallowed or shifted other cells)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    always: bool = False

    def message(self, locale: str | None) -> str:
        return t(f"importing.cell.{self.key}", locale, **self.params)


@dataclass
class Table:
    """A sheet: the header texts and the data rows as (spreadsheet row number, values);
    ``cell_issues`` maps (row number, column index) to what is wrong with that cell."""

    headers: list[str]
    rows: list[tuple[int, list[Any]]]
    header_row: int = 1
    cell_issues: dict[tuple[int, int], CellIssue] = field(default_factory=dict)
    encoding: str | None = None


def _read_bytes(source: str | Path | BinaryIO | bytes, locale: str | None) -> bytes:
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
    elif isinstance(source, str | Path):
        path = Path(source)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise FileRefused(locale, "too_big", mb=MAX_FILE_BYTES // 1_048_576)
        data = path.read_bytes()
    else:
        data = source.read(MAX_FILE_BYTES + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused(locale, "too_big", mb=MAX_FILE_BYTES // 1_048_576)
    return data


# ---------------------------------------------------------------------------
# encodings


def _detection_sample(data: bytes) -> bytes:
    """The lines that hold non-ASCII bytes (up to 64 KB): what tells encodings apart."""
    out, size = [], 0
    for line in data.splitlines():
        if max(line, default=0) >= 0x80:
            out.append(line)
            size += len(line) + 1
            if size >= _SAMPLE_BYTES:
                break
    return b"\n".join(out)


def detect_encoding(data: bytes) -> str | None:
    """The encoding of text that is not UTF-8: ``gb18030`` (GBK's superset, what Chinese
    Excel writes) when the detector ranks a GB codec first (or ties it with the first), else
    the detector's best guess (``cp932``, ``big5``, ``cp1252`` …), or None when it cannot
    tell. charset-normalizer judges the decoded text by its languages' letter statistics,
    which is what tells Shift-JIS or Big5 bytes — that GB18030 also decodes, into
    nonsense — from real GBK."""
    from charset_normalizer import from_bytes

    sample = _detection_sample(data)
    if not sample:
        return None
    matches = list(from_bytes(sample))
    if not matches:
        return None
    best = matches[0]
    gb = [m for m in matches if m.encoding in _GB_CODECS]
    if gb and (gb[0].chaos <= best.chaos or best.encoding in _KOREAN_CODECS):
        # EUC-KR uses exactly GB2312's byte range, so short GBK text often ranks Korean
        # first; for a Chinese company's file GBK is by far the likelier writer
        return "gb18030"
    return best.encoding


def decode_csv_bytes(data: bytes, locale: str | None = "en", encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding). UTF-8 (with or without BOM) and UTF-16 with a BOM are read as
    such; other text is read as GB18030 when it is GBK / GB18030, and refused otherwise —
    naming what it looks like and asking for UTF-8 — unless ``encoding`` is given."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise FileRefused(locale, "unknown_encoding", encoding=encoding) from None
        except UnicodeDecodeError:
            raise FileRefused(locale, "not_this_encoding", encoding=encoding) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and not data.startswith(b"\xff\xfe\x00\x00"):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise FileRefused(locale, "not_text") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = detect_encoding(data)
    if guess is None:
        raise FileRefused(locale, "unsure_encoding")
    if guess != "gb18030":
        raise FileRefused(locale, "other_encoding", encoding=_ENCODING_NAMES.get(guess, guess))
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise FileRefused(locale, "unsure_encoding") from None


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _check_text(text: str, locale: str | None) -> None:
    """Refuse binary data that happened to decode (a spreadsheet of another format, …)."""
    sample = text[:100_000]
    if sample and len(_CONTROL.findall(sample)) > max(8, len(sample) // 3):
        raise FileRefused(locale, "not_text")


# ---------------------------------------------------------------------------
# CSV


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    if first_line.count(",") == 0:
        if first_line.count("\t") > 0:
            return "\t"
        if first_line.count(";") > 0:
            return ";"
    return ","


def _csv_records(text: str, locale: str | None) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, cells) per record. Strict quoting: a quote that is never
    closed, or text right after a closing quote, refuses the file at its line instead of
    running on into the rows after it."""
    if csv.field_size_limit() < MAX_FILE_BYTES:
        # the module's default (131,072) is a safety net we keep by the file size bound;
        # a long cell is then reported on its row against its field's own limit
        csv.field_size_limit(MAX_FILE_BYTES)
    reader = csv.reader(io.StringIO(text.replace("\x00", ""), newline=""), delimiter=_delimiter(text),
                        strict=True)
    last = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise FileRefused(locale, "broken_quote", line=reader.line_num) from None
        yield last + 1, reader.line_num, cells
        last = reader.line_num


def _looks_like_rows(cell: str, width: int, delimiter: str) -> bool:
    """A cell spanning lines of which one splits into exactly ``width`` cells (the header's
    width, at least 3): a row that a stray quote pulled into it."""
    if width < 3:
        return False
    return any(len(next(csv.reader([ln], delimiter=delimiter), [])) == width
               for ln in cell.split("\n") if ln.count(delimiter) == width - 1)


def _read_csv(data: bytes, locale: str | None, encoding: str | None, max_rows: int) -> Table:
    text, used = decode_csv_bytes(data, locale, encoding)
    _check_text(text, locale)
    delimiter = _delimiter(text)
    table = Table(headers=[], rows=[], encoding=used)
    for number, (first, last, raw) in enumerate(_csv_records(text, locale), start=1):
        values = [_cell(v) for v in raw]
        if all(v is None for v in values):
            continue
        if not table.headers:
            _set_header(table, number, values)
            continue
        width = len(table.headers)
        if last > first:
            for col, v in enumerate(raw):
                if "\n" in v and _looks_like_rows(v, width, delimiter):
                    _flag(table, locale, number, col, CellIssue("swallowed_rows", {"first": first, "last": last},
                                                                always=True))
        extra = [i for i, v in enumerate(values) if i >= width and v is not None]
        if extra:
            _flag(table, locale, number, width - 1, CellIssue("extra_cells", {"cells": len(values), "width": width},
                                                              always=True))
        _add_row(table, locale, number, values, max_rows)
    return _finish(table, locale)


# ---------------------------------------------------------------------------
# XLSX


def _check_parts(archive: zipfile.ZipFile, locale: str | None) -> None:
    """The size budget, checked before anything is unzipped (a small file can unpack huge)."""
    total = sum(info.file_size for info in archive.infolist())
    if total > XLSX_MAX_UNPACKED:
        raise FileRefused(locale, "xlsx_too_big", mb=XLSX_MAX_UNPACKED // 1_048_576)


def _xlsx_parser(src, ws, wb, issues: list):
    """openpyxl's own sheet parser, streaming the sheet's rows as they are stored (only
    cells that exist), noting cells whose value is not what the spreadsheet shows."""
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            # no saved result: no <v>, or an empty one that is not an empty text result
            if cell["value"] is None and element.find(FORMULA_TAG) is not None \
                    and (element.find(VALUE_TAG) is None or element.get("t") != "str"):
                issues.append((cell["row"], cell["column"], "formula_no_value",
                               {"formula": "=" + (element.findtext(FORMULA_TAG) or "")[:60]}))
            elif cell["data_type"] == "e":
                issues.append((cell["row"], cell["column"], "error_value", {"value": str(cell["value"])[:20]}))
                cell["value"] = None
            return cell

    # ReadOnlyWorksheet's own row iteration pads every row to the sheet's stated dimension
    # and yields the missing rows in between — billions of empty cells for one far-away
    # cell; the parser underneath yields only the rows that are stored.
    return Parser(src, ws._shared_strings, data_only=True, epoch=wb.epoch, date_formats=wb._date_formats,
                  timedelta_formats=wb._timedelta_formats)


def _read_xlsx(data: bytes, locale: str | None, max_rows: int) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter, range_boundaries

    started = time.monotonic()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_parts(archive, locale)
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except FileRefused:
        raise
    except Exception as exc:
        raise FileRefused(locale, "bad_workbook", detail=type(exc).__name__) from exc
    table = Table(headers=[], rows=[], encoding=None)
    issues: list[tuple[int, int, str, dict]] = []
    cells = 0
    last_row = 0
    try:
        ws = wb.worksheets[0]
        with ws._get_source() as src:
            parser = _xlsx_parser(src, ws, wb, issues)
            for number, stored in parser.parse():
                if time.monotonic() - started > XLSX_SECONDS:
                    raise FileRefused(locale, "xlsx_too_slow", seconds=int(XLSX_SECONDS))
                present = [c for c in stored if c["value"] is not None]
                if not present:
                    continue
                far = max(c["column"] for c in present)
                if far > MAX_COLUMNS:
                    raise FileRefused(locale, "far_cells", cell=f"{get_column_letter(far)}{number}",
                                      end=f"{get_column_letter(len(table.headers) or 1)}{last_row or 1}")
                if last_row and number - last_row > MAX_EMPTY_GAP:
                    raise FileRefused(locale, "far_cells", cell=f"{get_column_letter(present[0]['column'])}{number}",
                                      end=f"{get_column_letter(len(table.headers) or 1)}{last_row}")
                cells += len(present)
                if cells > XLSX_MAX_CELLS:
                    raise FileRefused(locale, "xlsx_too_big", mb=XLSX_MAX_UNPACKED // 1_048_576)
                values: list[Any] = [None] * far
                for c in present:
                    values[c["column"] - 1] = _cell(c["value"])
                if all(v is None for v in values):
                    continue
                last_row = number
                if not table.headers:
                    _set_header(table, number, values)
                else:
                    _add_row(table, locale, number, values, max_rows)
            merges = [m.ref if hasattr(m, "ref") else str(m) for m in
                      (parser.merged_cells.mergeCell if parser.merged_cells is not None else [])]
    finally:
        wb.close()
    table = _finish(table, locale)
    for row, col, key, params in issues:
        _flag(table, locale, row, col - 1, CellIssue(key, params))
    _flag_merged(table, locale, merges, range_boundaries, get_column_letter)
    return table


def _flag_merged(table: Table, locale: str | None, merges: list[str], bounds, letter) -> None:
    """Every data cell of a merged range but its first reads as empty: flag each one."""
    numbers = [n for n, _ in table.rows]
    by_number = dict(table.rows)
    width = len(table.headers)
    for ref in merges:
        min_col, min_row, max_col, max_row = bounds(ref)
        anchor = f"{letter(min_col)}{min_row}"
        anchor_values = by_number.get(min_row) or []
        shown = anchor_values[min_col - 1] if min_col - 1 < len(anchor_values) else None
        params = {"anchor": anchor, "value": "" if shown is None else str(shown)[:40]}
        for i in range(bisect_left(numbers, min_row), len(numbers)):
            number = numbers[i]
            if number > max_row:
                break
            for col in range(min_col - 1, min(max_col, width)):
                if (number, col) != (min_row, min_col - 1):
                    _flag(table, locale, number, col, CellIssue("merged", params))


# ---------------------------------------------------------------------------
# shared


def _cell(value: Any) -> Any:
    """The text rule on every text cell as it is read; empty text is no value."""
    if isinstance(value, str):
        v = clean_text(value)
        return v if v else None
    return value


def _set_header(table: Table, number: int, values: list[Any]) -> None:
    headers = [str(v) if v is not None else "" for v in values]
    while headers and headers[-1] == "":
        headers.pop()
    table.headers, table.header_row = headers, number


def _add_row(table: Table, locale: str | None, number: int, values: list[Any], max_rows: int) -> None:
    table.rows.append((number, values))
    if len(table.rows) > max_rows:
        raise FileRefused(locale, "too_many_rows", max=f"{max_rows:,}")


def _flag(table: Table, locale: str | None, row: int, col: int, issue: CellIssue) -> None:
    if col < 0 or (not issue.always and col >= len(table.headers)):
        return
    table.cell_issues.setdefault((row, col), issue)
    if len(table.cell_issues) > MAX_CELL_ISSUES:
        raise FileRefused(locale, "too_many_issues", max=f"{MAX_CELL_ISSUES:,}")


def _finish(table: Table, locale: str | None) -> Table:
    if not table.headers:
        raise FileRefused(locale, "no_header")
    # blank header cells get a name so they can be mapped or ignored
    table.headers = [h or f"column {i + 1}" for i, h in enumerate(table.headers)]
    return table


def read_table(source: str | Path | BinaryIO | bytes, *, max_rows: int = MAX_ROWS, locale: str | None = "en",
               encoding: str | None = None) -> Table:
    """Read the first sheet of an XLSX workbook or a CSV file (``,`` ``;`` or tab
    separated; ``encoding`` overrides the detection). Blank rows are skipped but keep their
    numbers, so row numbers match the spreadsheet. Raises ``FileRefused`` (a
    ``ValidationError`` on ``file``) when the file cannot be read as a table."""
    data = _read_bytes(source, locale)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # the binary .xls of Excel 97–2003
        raise FileRefused(locale, "old_xls")
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data, locale, max_rows)
    return _read_csv(data, locale, encoding, max_rows)
