"""Exports to CSV and XLSX that are safe to open in a spreadsheet.

Formula neutralisation (OWASP "CSV injection"): a text cell that starts with ``=`` ``+``
``-`` ``@``, a tab or a carriage return would be run as a formula by Excel / WPS / LibreOffice
(``=HYPERLINK(...)``, ``@SUM(...)``, DDE). Such cells get a leading apostrophe, so the
spreadsheet shows the text as typed and runs nothing. Numbers stay numbers (a negative
amount is a number cell, not text). XLSX cells lose the control characters XML cannot hold.

CSV is UTF-8 with a BOM, so Excel on a Chinese or English Windows opens it correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import fields as dc_fields
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlmodel import Session

from services import audit
from services import settings as settings_service
from services.access import Actor
from services.errors import ValidationError
from services.i18n import t

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORT_FORMATS = ("csv", "xlsx")
PAGE_SIZE = 500

# Customer export columns: headers are the import field labels, so an exported file can be
# imported again with the suggested mapping.
CUSTOMER_COLUMNS = (
    ("id", "ID"),
    ("name", "importing.fields.name"),
    ("credit_code", "importing.fields.credit_code"),
    ("industry", "importing.fields.industry"),
    ("region", "importing.fields.region"),
    ("tier", "importing.fields.tier"),
    ("status", "importing.fields.status"),
    ("owner_name", "importing.fields.owner"),
    ("channel_name", "importing.fields.channel"),
    ("phone", "importing.fields.phone"),
    ("email", "importing.fields.email"),
    ("address", "importing.fields.address"),
    ("next_contact_on", "importing.fields.next_contact_on"),
    ("last_contact_at", "exporting.last_contact_at"),
    ("created_at", "exporting.created_at"),
    ("notes", "importing.fields.notes"),
)


def neutralize(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe; anything
    else is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    """A cell value as a spreadsheet-friendly Python value (None for NaN/NaT/NA)."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | bytes | Decimal):  # numpy scalars
        value = value.item()
    return value


def _rows(df: pd.DataFrame) -> Iterable[list[Any]]:
    for row in df.itertuples(index=False, name=None):
        yield [neutralize(_plain(v)) for v in row]


def dataframe_to_csv(df: pd.DataFrame) -> bytes:
    """The frame as CSV bytes (UTF-8 with BOM), header first, formulas neutralised."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([neutralize(str(c)) for c in df.columns])
    for row in _rows(df):
        w.writerow(["" if v is None else (v.isoformat(sep=" ") if isinstance(v, datetime) else v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def _xlsx_cell(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)  # Excel has no time zones
    if isinstance(value, bool | int | float | Decimal | date):
        return value
    return None if value is None else str(value)


def dataframe_to_xlsx(df: pd.DataFrame, *, sheet_name: str = "Sheet1") -> bytes:
    """The frame as an XLSX workbook (one sheet, bold header, frozen first row), formulas
    neutralised: every text cell is written as text, never as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_name[:31] or "Sheet1")
    ws.freeze_panes = "A2"
    header = []
    for c in df.columns:
        cell = WriteOnlyCell(ws, value=_xlsx_cell(neutralize(str(c))))
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for row in _rows(df):
        cells = []
        for v in row:
            cell = WriteOnlyCell(ws, value=_xlsx_cell(v))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, even when it looks like a formula
            cells.append(cell)
        ws.append(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def to_bytes(df: pd.DataFrame, fmt: str, *, sheet_name: str = "Sheet1") -> bytes:
    if fmt == "csv":
        return dataframe_to_csv(df)
    if fmt == "xlsx":
        return dataframe_to_xlsx(df, sheet_name=sheet_name)
    raise ValidationError({"fmt": t("err.not_in_list", None, options=", ".join(EXPORT_FORMATS))})


def _customer_filter(filters: Any):
    from services.customers import CustomerFilter

    if filters is None:
        return CustomerFilter()
    if isinstance(filters, CustomerFilter):
        return filters
    known = {f.name for f in dc_fields(CustomerFilter)}
    return CustomerFilter(**{k: v for k, v in dict(filters).items() if k in known})


def customers_frame(session: Session, actor: Actor, *, filters: Any = None,
                    sort: Sequence[tuple[str, str]] | None = None, max_rows: int = 1_000_000) -> pd.DataFrame:
    """The customers of the grid's current filter (all pages, same SQL as the grid, so the
    same access rules and the same hidden private fields), with localised headers and times
    in the company time zone."""
    from services.customers import list_customers_page

    flt = _customer_filter(filters)
    tz = ZoneInfo(settings_service.get(session, "timezone") or "Asia/Shanghai")
    pool = t("importing.pool", actor.locale)
    records: list[dict[str, Any]] = []
    page = 1
    while len(records) < max_rows:
        df, total = list_customers_page(session, actor, filters=flt, sort=list(sort) if sort else None,
                                        page=page, page_size=PAGE_SIZE)
        if df.empty:
            break
        for rec in df.to_dict("records"):
            rec = {k: _plain(v) for k, v in rec.items()}
            if rec.get("owner_id") is None:
                rec["owner_name"] = pool
            for k in ("last_contact_at", "created_at"):
                v = rec.get(k)
                if isinstance(v, datetime):
                    aware = v if v.tzinfo else v.replace(tzinfo=UTC)
                    rec[k] = aware.astimezone(tz).replace(tzinfo=None, microsecond=0)
            records.append(rec)
        if page * PAGE_SIZE >= total:
            break
        page += 1
    headers = [h if h == "ID" else t(h, actor.locale) for _, h in CUSTOMER_COLUMNS]
    data = [[r.get(k) for k, _ in CUSTOMER_COLUMNS] for r in records[:max_rows]]
    return pd.DataFrame(data, columns=headers, dtype=object)


def export_customers(session: Session, actor: Actor, *, filters: Any = None, fmt: str = "csv",
                     sort: Sequence[tuple[str, str]] | None = None) -> bytes:
    """The customer grid's current filter as CSV or XLSX bytes (see ``customers_frame``),
    formula-safe. Writes one audit row (what was exported, how many rows)."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationError({"fmt": t("err.not_in_list", actor.locale, options=", ".join(EXPORT_FORMATS))})
    df = customers_frame(session, actor, filters=filters, sort=sort)
    audit.record(session, actor, "customer", "*", "export", {"rows": len(df), "format": fmt})
    return to_bytes(df, fmt, sheet_name=t("exporting.customers_sheet", actor.locale))
