"""The target grid (reps × months) as a spreadsheet: the layout the Goals page exports —
``Username``, ``Name``, one column per month (``YYYY-MM``), ``Total``; one row per rep and a
last ``Total`` row — read back into cells.

All or nothing: every bad cell (not a number, negative, a rep not in the team, a month
column missing) is reported with its spreadsheet row and column header, and then nothing
is returned to write. ``Name`` and the totals are ignored on the way in (they are sums the
app computes again).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd

from services.errors import ValidationError
from services.i18n import t
from services.importing.parsing import ParseError, cell_text, parse_amount
from services.importing.reading import read_table

USERNAME, NAME, TOTAL = "Username", "Name", "Total"


def grid_frame(grid: dict[str, Any]) -> pd.DataFrame:
    """The export layout of ``goals.team_grid``'s result (values as numbers, empty cells
    empty), with the totals row last."""
    rows = [{USERNAME: r["username"], NAME: r["name"],
             **{m: (float(v) if v is not None else None) for m, v in zip(grid["months"], r["values"], strict=True)},
             TOTAL: float(r["total"])} for r in grid["rows"]]
    rows.append({USERNAME: TOTAL, NAME: "", **{m: float(v) for m, v in zip(grid["months"], grid["column_totals"],
                                                                            strict=True)},
                 TOTAL: float(grid["total"])})
    return pd.DataFrame(rows, columns=[USERNAME, NAME, *grid["months"], TOTAL])


def read_target_grid(source: Any, *, months: list[str], reps: dict[str, int], locale: str = "en") -> dict[int, list]:
    """Cells of a filled grid file: user id → 12 month values (Decimal, empty → None).
    ``reps`` maps the team's usernames to user ids. Raises ``ValidationError`` with one
    entry per bad cell (key "row N, column C") and writes nothing."""
    table = read_table(source, locale=locale)
    headers = [cell_text(h) for h in table.headers]
    missing = [c for c in (USERNAME, *months) if c not in headers]
    if missing:
        raise ValidationError({"file": t("goals.err.grid_layout", locale)})
    col = {h: i for i, h in enumerate(headers)}
    errors: dict[str, str] = {}
    out: dict[int, list] = {}
    for number, values in table.rows:
        def cell(name: str, values: list[Any] = values) -> Any:
            i = col[name]
            return values[i] if i < len(values) else None

        def where(column: str, number: int = number) -> str:
            return t("goals.err.grid_where", locale, row=number, column=column)

        username = cell_text(cell(USERNAME))
        if not username or username == TOTAL:
            continue
        if username not in reps:
            errors[where(USERNAME)] = t("goals.err.grid_unknown_rep", locale, value=username)
            continue
        row = []
        for m in months:
            raw = cell(m)
            issue = table.cell_issues.get((number, col[m]))
            text = cell_text(raw)
            value = None
            if issue is not None:
                errors[where(m)] = issue.message(locale)
            elif text:
                try:
                    value = parse_amount(raw)
                except ParseError as exc:
                    errors[where(m)] = exc.message(locale)
            row.append(Decimal(value) if value is not None else None)
        out[reps[username]] = row
    if errors:
        raise ValidationError(errors)
    return out
