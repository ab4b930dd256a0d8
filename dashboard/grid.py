"""AgGrid (streamlit-aggrid 1.2) option builders and the pure diff of an edited grid.

How the grids in this app are wired (see streamlit-aggrid's AgGrid.py / AgGrid.tsx):
- We page, filter and sort in SQL, so the grid gets one page and has client paging,
  sorting and filtering off.
- ``allow_unsafe_jscode`` stays False: no JsCode at all, so nothing from the data (names,
  notes, owner names in select lists) can ever be evaluated as code. Select editors map
  stored codes to labels with ``refData`` (plain data); AG Grid renders cell values as
  text (no cellRenderer, no innerHTML), so "<img onerror=…>" shows as text.
- The component's default ``server_sync_strategy="client_wins"`` ignores new data after
  the first edit, so a grid is re-keyed whenever the page feeds it new rows (new page,
  filter, save, add row, error marks): ``grid_key(base, generation)``.
- ``data_return_mode="AS_INPUT"`` returns every row (with the edits) in input order;
  rows are matched by our ``id`` column, never by position.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from services.customers import GridChanges

KEY_FIELD = "_key"  # temporary key of a row added in the grid (no id yet)
ERROR_FIELD = "_error"  # read-only column with the row's save problem

GRID_KWARGS: dict[str, Any] = {
    "allow_unsafe_jscode": False,
    "data_return_mode": "AS_INPUT",
    "update_on": ["cellValueChanged", "selectionChanged"],
    "enable_enterprise_modules": False,
    "show_toolbar": False,
    "theme": "streamlit",
}


# ---------------------------------------------------------------------------
# column builders (plain dicts: AG Grid colDefs)


def text_column(field: str, header: str, *, editable: bool = False, width: int | None = None,
                pinned: str | None = None, **extra: Any) -> dict[str, Any]:
    col: dict[str, Any] = {"field": field, "headerName": header, "editable": editable, "cellDataType": "text"}
    if width:
        col["width"] = width
    if pinned:
        col["pinned"] = pinned
    col.update(extra)
    return col


def select_column(field: str, header: str, *, values: list[Any], labels: dict[Any, str] | None = None,
                  editable: bool = True, width: int | None = None, **extra: Any) -> dict[str, Any]:
    """A select editor over ``values``; ``labels`` (value → text) is shown instead of the
    stored value in both the cell and the dropdown (AG Grid ``refData``)."""
    col: dict[str, Any] = {
        "field": field,
        "headerName": header,
        "editable": editable,
        "cellEditor": "agSelectCellEditor",
        "cellEditorParams": {"values": list(values)},
        # data type inference would format numbers / booleans and fight refData
        "cellDataType": False,
    }
    if labels is not None:
        col["refData"] = {str(k): str(v) for k, v in labels.items()}
    if width:
        col["width"] = width
    col.update(extra)
    return col


def date_column(field: str, header: str, *, editable: bool = True, width: int | None = None,
                **extra: Any) -> dict[str, Any]:
    """ISO date strings ("2026-11-27") with AG Grid's date-string editor."""
    col: dict[str, Any] = {
        "field": field,
        "headerName": header,
        "editable": editable,
        "cellDataType": "dateString",
        "cellEditor": "agDateStringCellEditor",
    }
    if width:
        col["width"] = width
    col.update(extra)
    return col


def number_column(field: str, header: str, *, editable: bool = True, min_value: float | None = None,
                  max_value: float | None = None, precision: int | None = None, width: int | None = None,
                  **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if min_value is not None:
        params["min"] = min_value
    if max_value is not None:
        params["max"] = max_value
    if precision is not None:
        params["precision"] = precision
    col: dict[str, Any] = {
        "field": field,
        "headerName": header,
        "editable": editable,
        "cellDataType": "number",
        "cellEditor": "agNumberCellEditor",
        "cellEditorParams": params,
        "type": ["numericColumn"],
    }
    if width:
        col["width"] = width
    col.update(extra)
    return col


#: AG Grid's own strings we translate (catalog keys ``grid.ag.<key>``).
AG_LOCALE_KEYS = ("noRowsToShow", "loadingOoo", "loadingError", "noMatches", "blanks", "selectAll", "searchOoo",
                  "ariaChecked", "ariaUnchecked", "ariaRowSelect", "ariaRowDeselect", "ariaRowSelectAll")


def ag_locale_text(locale: str) -> dict[str, str]:
    """AG Grid's ``localeText`` in ``locale`` (its own English otherwise shows, e.g. "No
    Rows To Show" in the Chinese UI)."""
    from services.i18n import t

    return {key: t(f"grid.ag.{key}", locale) for key in AG_LOCALE_KEYS}


def grid_options(columns: list[dict[str, Any]], *, selectable: bool = True, row_height: int | None = None,
                 locale: str | None = None) -> dict:
    """gridOptions for a server-paged editable grid: columns as given, client sorting /
    filtering / paging off, multi-row checkbox selection, edits committed when a cell
    loses focus, AG Grid's own strings in ``locale``."""
    from st_aggrid import GridOptionsBuilder

    gb = GridOptionsBuilder()
    gb.configure_default_column(sortable=False, filter=False, resizable=True, editable=False,
                                suppressHeaderMenuButton=True)
    for col in columns:
        col = dict(col)
        field = col.pop("field")
        header = col.pop("headerName", field)
        gb.configure_column(field, header, **col)
    opts: dict[str, Any] = {
        "stopEditingWhenCellsLoseFocus": True,
        "singleClickEdit": False,
        "undoRedoCellEditing": True,
        "suppressMovableColumns": True,
        "enableCellTextSelection": True,
        "pagination": False,
        "animateRows": False,
        # ≤ 20 columns: render them all (also lets browser tests find off-screen cells)
        "suppressColumnVirtualisation": True,
    }
    if locale:
        opts["localeText"] = ag_locale_text(locale)
    if selectable:
        opts["rowSelection"] = {"mode": "multiRow", "checkboxes": True, "headerCheckbox": True,
                                "enableClickSelection": False}
        opts["selectionColumnDef"] = {"pinned": "left", "width": 44, "maxWidth": 44}
    if row_height:
        opts["rowHeight"] = row_height
    gb.configure_grid_options(**opts)
    built = gb.build()
    if isinstance(built.get("columnDefs"), dict):
        built["columnDefs"] = list(built["columnDefs"].values())
    return _plain(built)


def _plain(obj: Any) -> Any:
    """defaultdicts → dicts (Streamlit serialises gridOptions as JSON)."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


def grid_key(base: str, generation: int) -> str:
    """Widget key of a grid that must remount when it is fed new rows."""
    return f"{base}__g{generation}"


# ---------------------------------------------------------------------------
# the diff


_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_ISO_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?)?$")


def clean_cell(value: Any) -> Any:
    """A grid value as plain Python: NaN / NaT / pd.NA / "" / blanks → None; numpy scalars →
    int / float; integral floats → int; Timestamps → date (midnight) or datetime; text stripped."""
    if value is None or value is pd.NaT:
        return None
    try:
        if value is pd.NA:
            return None
    except Exception:  # pragma: no cover
        pass
    if hasattr(value, "item") and not isinstance(value, (str, bytes)) and type(value).__module__ == "numpy":
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    if isinstance(value, pd.Timestamp):
        if value.tz is None and value == value.normalize():
            return value.date()
        return value.to_pydatetime()
    if isinstance(value, str):
        text = value.strip()
        return text or None
    return value


def _day_text(value: Any) -> str | None:
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        m = _ISO_DAY.match(value)
        return m.group(1) if m else value
    return None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float, Decimal)):
            return Decimal(str(value)).normalize()
        if isinstance(value, str) and _NUMERIC.match(value):
            return Decimal(value).normalize()
    except InvalidOperation:  # pragma: no cover
        return None
    return None


def same_value(a: Any, b: Any) -> bool:
    """Equal as the user sees them: None == NaN == "" == "  "; 3 == 3.0 == "3" when one
    side is a number (two texts compare as text, so "0123" ≠ "123");
    date(2026,1,2) == "2026-01-02" == "2026-01-02T00:00:00"."""
    a, b = clean_cell(a), clean_cell(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    a_num = isinstance(a, (int, float, Decimal))
    b_num = isinstance(b, (int, float, Decimal))
    if a_num or b_num:
        na, nb = _number(a), _number(b)
        return na is not None and na == nb
    da, db = _day_text(a), _day_text(b)
    if da is not None and db is not None:
        return da == db
    return str(a) == str(b)


def records(rows: pd.DataFrame | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """DataFrame / list of dicts → list of dicts with plain Python cell values."""
    if rows is None:
        return []
    if isinstance(rows, pd.DataFrame):
        out = rows.astype(object).to_dict("records")
    else:
        out = [dict(r) for r in rows]
    return [{str(k): clean_cell(v) for k, v in r.items()} for r in out]


def _row_id(row: dict[str, Any], id_field: str) -> int | None:
    value = clean_cell(row.get(id_field))
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def diff_rows(
    rows_sent: pd.DataFrame | list[dict[str, Any]] | None,
    rows_back: pd.DataFrame | list[dict[str, Any]] | None,
    *,
    editable_fields: list[str] | tuple[str, ...],
    id_field: str = "id",
    version_field: str = "version",
    key_field: str = KEY_FIELD,
    archive_missing: bool = True,
) -> GridChanges:
    """Compare the rows a grid returned with the rows it was given, by ``id``.

    - a returned row without an id (or with a temporary ``_key``) → ``create`` with its
      non-empty editable fields (rows left completely empty are dropped);
    - a returned row whose id was sent → ``update`` with only the changed editable fields
      and the version that was SENT (the one the user loaded), when anything changed;
    - a sent row missing from the return → ``archive`` (when ``archive_missing``);
    - a returned id that was never sent is ignored (a grid cannot invent rows).
    Values are compared as the user sees them (see ``same_value``); new values are
    cleaned with ``clean_cell``.
    """
    sent = records(rows_sent)
    back = records(rows_back)
    sent_by_id: dict[int, dict[str, Any]] = {}
    for row in sent:
        rid = _row_id(row, id_field)
        if rid is not None:
            sent_by_id[rid] = row
    changes = GridChanges()
    seen: set[int] = set()
    for i, row in enumerate(back):
        rid = _row_id(row, id_field)
        if rid is None:
            fields = {f: row.get(f) for f in editable_fields if row.get(f) is not None}
            if not fields:
                continue
            key = row.get(key_field) or f"new-{i + 1}"
            changes.create.append({key_field: str(key), **fields})
            continue
        if rid not in sent_by_id or rid in seen:
            continue
        seen.add(rid)
        before = sent_by_id[rid]
        changed = {f: row.get(f) for f in editable_fields if f in row and not same_value(row.get(f), before.get(f))}
        if changed:
            version = clean_cell(before.get(version_field))
            changes.update.append({"id": rid, "version": int(version) if version is not None else None,
                                   "fields": changed})
    if archive_missing:
        changes.archive = [rid for rid in sent_by_id if rid not in seen]
    return changes


def count_edits(changes: GridChanges) -> int:
    """Number of edited cells + new rows + archived rows (for an "unsaved changes" note)."""
    return len(changes.create) + sum(len(u["fields"]) for u in changes.update) + len(changes.archive)
