"""dashboard.grid: the pure diff of an edited grid against the rows sent, and the option
builders (no JsCode, plain-text rendering, select editors with labels)."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard import grid
from dashboard.grid import clean_cell, diff_rows, same_value

EDITABLE = ("name", "tier", "owner_id", "email", "next_contact_on", "notes")


def sent_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": pd.array([1, 2, 3], dtype="Int64"),
            "version": [1, 4, 2],
            "name": ["Alpha", "Beta", "Gamma"],
            "tier": ["A", "B", "C"],
            "owner_id": pd.array([10, 11, None], dtype="Int64"),
            "email": ["a@x.com", None, None],
            "next_contact_on": ["2026-12-01", None, None],
            "notes": [None, "n", None],
            "owner_name": ["Ann", "Bob", None],  # not editable: ignored
        }
    )


def test_unchanged_grid_means_no_changes():
    df = sent_frame()
    ch = diff_rows(df, df.copy(), editable_fields=EDITABLE)
    assert ch.is_empty()


def test_grid_returned_types_do_not_count_as_edits():
    """What streamlit-aggrid hands back: object columns, numbers as floats or strings,
    NaN for missing text (pandas 3 str dtype), ISO timestamps for dates."""
    back = pd.DataFrame(
        {
            "id": ["1", 2.0, np.int64(3)],
            "version": ["1", "4", "2"],
            "name": pd.array(["Alpha", "Beta ", "Gamma"], dtype="str"),
            "tier": ["A", "B", "C"],
            "owner_id": [10.0, "11", np.nan],
            "email": ["a@x.com", np.nan, ""],
            "next_contact_on": ["2026-12-01T00:00:00.000Z", pd.NaT, None],
            "notes": [pd.NA, "n", "   "],
        },
        dtype=object,
    )
    assert diff_rows(sent_frame(), back, editable_fields=EDITABLE).is_empty()


def test_changed_cells_become_updates_with_the_sent_version():
    back = sent_frame().astype(object)
    back.loc[0, "name"] = "Alpha Ltd"
    back.loc[1, "email"] = "b@x.com"
    back.loc[1, "version"] = 99  # the grid cannot change the version the user loaded
    back.loc[2, "next_contact_on"] = "2027-01-05"
    back.loc[0, "owner_name"] = "changed but not editable"
    ch = diff_rows(sent_frame(), back, editable_fields=EDITABLE)
    assert ch.update == [
        {"id": 1, "version": 1, "fields": {"name": "Alpha Ltd"}},
        {"id": 2, "version": 4, "fields": {"email": "b@x.com"}},
        {"id": 3, "version": 2, "fields": {"next_contact_on": "2027-01-05"}},
    ]
    assert ch.create == [] and ch.archive == []


def test_clearing_a_cell_is_an_update_to_none():
    back = sent_frame().astype(object)
    back.loc[0, "email"] = ""
    ch = diff_rows(sent_frame(), back, editable_fields=EDITABLE)
    assert ch.update == [{"id": 1, "version": 1, "fields": {"email": None}}]


def test_new_rows_become_creates_and_empty_new_rows_are_dropped():
    back = pd.concat(
        [
            pd.DataFrame([{"_key": "new-1", "id": None, "name": "Delta", "tier": "B", "email": None},
                          {"_key": "new-2", "id": np.nan, "name": None, "tier": None},
                          {"id": None, "name": " Epsilon "}]),
            sent_frame(),
        ],
        ignore_index=True,
    )
    ch = diff_rows(sent_frame(), back, editable_fields=EDITABLE)
    assert ch.create == [{"_key": "new-1", "name": "Delta", "tier": "B"}, {"_key": "new-3", "name": "Epsilon"}]
    assert ch.update == []


def test_missing_rows_are_archived_only_when_asked():
    back = sent_frame().iloc[[0, 2]]
    assert diff_rows(sent_frame(), back, editable_fields=EDITABLE).archive == [2]
    assert diff_rows(sent_frame(), back, editable_fields=EDITABLE, archive_missing=False).archive == []


def test_ids_never_sent_are_ignored_and_list_input_works():
    sent = [{"id": 1, "version": 3, "name": "A"}]
    back = [{"id": 1, "version": 3, "name": "B"}, {"id": 777, "version": 1, "name": "forged"}]
    ch = diff_rows(sent, back, editable_fields=("name",))
    assert ch.update == [{"id": 1, "version": 3, "fields": {"name": "B"}}] and ch.create == []


def test_row_order_does_not_matter():
    back = sent_frame().iloc[::-1].reset_index(drop=True).astype(object)
    back.loc[0, "tier"] = "A"  # row id 3
    ch = diff_rows(sent_frame(), back, editable_fields=EDITABLE)
    assert ch.update == [{"id": 3, "version": 2, "fields": {"tier": "A"}}]


def test_none_inputs():
    assert diff_rows(None, None, editable_fields=EDITABLE).is_empty()
    assert diff_rows(sent_frame(), None, editable_fields=EDITABLE, archive_missing=False).is_empty()


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (None, np.nan, True),
        (None, "", True),
        (pd.NA, None, True),
        (pd.NaT, None, True),
        (3, "3", True),
        (3, 3.0, True),
        ("3.50", 3.5, True),
        (date(2026, 1, 2), "2026-01-02", True),
        (pd.Timestamp("2026-01-02"), "2026-01-02T00:00:00", True),
        ("A", "a", False),
        ("0123", "123", False),  # two texts compare as text (phones keep leading zeros)
        ("11", 11.0, True),  # a number on one side: compare as numbers
        ("x", None, False),
        (True, 1, False),
    ],
)
def test_same_value(a, b, same):
    assert same_value(a, b) is same


def test_clean_cell():
    assert clean_cell(np.int64(5)) == 5 and type(clean_cell(np.int64(5))) is int
    assert clean_cell(7.0) == 7 and type(clean_cell(7.0)) is int
    assert clean_cell(np.float64("nan")) is None
    assert clean_cell(pd.Timestamp("2026-03-04")) == date(2026, 3, 4)
    assert clean_cell("  ") is None and clean_cell(" x ") == "x"


def test_grid_options_are_plain_json_without_code():
    cols = [
        grid.text_column("name", "Name", editable=True),
        grid.select_column("tier", "Tier", values=["A", "B"], labels={"A": "A (key)", "B": "B"}),
        grid.select_column("owner_id", "Owner", values=[1, 2], labels={1: "<b>Ann</b>", 2: "::JSCODE::alert(1)::JSCODE::"}),
        grid.date_column("next_contact_on", "Next"),
        grid.number_column("amount", "Amount", min_value=0),
    ]
    opts = grid.grid_options(cols)
    text = json.dumps(opts)  # serialisable
    defs = {c["field"]: c for c in opts["columnDefs"]}
    assert defs["owner_id"]["refData"] == {"1": "<b>Ann</b>", "2": "::JSCODE::alert(1)::JSCODE::"}
    assert defs["tier"]["cellEditor"] == "agSelectCellEditor" and defs["tier"]["cellEditorParams"]["values"] == ["A", "B"]
    assert defs["next_contact_on"]["cellEditor"] == "agDateStringCellEditor"
    assert defs["amount"]["cellEditor"] == "agNumberCellEditor"
    assert "cellRenderer" not in text and "innerHTML" not in text
    assert opts["pagination"] is False and opts["defaultColDef"]["sortable"] is False
    assert opts["rowSelection"]["mode"] == "multiRow"
    # strings that look like JsCode are harmless only because unsafe JS stays off
    assert grid.GRID_KWARGS["allow_unsafe_jscode"] is False


def test_grid_key_changes_with_generation():
    assert grid.grid_key("customers", 1) != grid.grid_key("customers", 2)


def test_count_edits():
    back = sent_frame().astype(object)
    back.loc[0, "name"] = "x"
    back.loc[0, "tier"] = "B"
    ch = diff_rows(sent_frame(), back, editable_fields=EDITABLE)
    assert grid.count_edits(ch) == 2
