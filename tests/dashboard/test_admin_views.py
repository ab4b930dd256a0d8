"""The Admin page's table diff: edited grid rows → updates and new rows, by id."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.admin_views import table_changes
from services.db import session_scope

ROWS = [
    {"id": 1, "name": "Qualify", "probability": 10, "guidance": None, "active": True},
    {"id": 2, "name": "Needs", "probability": 25, "guidance": "Call", "active": True},
]
FIELDS = ["name", "probability", "guidance", "active"]


def frame(rows):
    return pd.DataFrame(rows, columns=["id", *FIELDS])


def test_unchanged_grid_gives_nothing():
    # the grid hands numbers back as floats and blanks as NaN
    back = frame([{**r, "probability": float(r["probability"]), "guidance": r["guidance"] or math.nan} for r in ROWS])
    assert table_changes(ROWS, back, FIELDS) == ([], [])


def test_changed_cells_and_new_rows():
    back = frame([
        {**ROWS[0], "probability": 15.0},
        {**ROWS[1], "active": False, "guidance": " Call "},
        {"id": None, "name": "Demo", "probability": 40.0, "guidance": None, "active": True},
        {"id": None, "name": None, "probability": None, "guidance": None, "active": None},  # blank added row
    ])
    updates, creates = table_changes(ROWS, back, FIELDS)
    assert updates == [(1, {"probability": 15.0}), (2, {"active": False})]
    assert creates == [{"name": "Demo", "probability": 40.0, "guidance": None, "active": True}]


def test_cleared_cell_is_a_change_to_none():
    back = frame([ROWS[0], {**ROWS[1], "guidance": None}])
    assert table_changes(ROWS, back, FIELDS) == ([(2, {"guidance": None})], [])


def test_rows_with_unknown_ids_are_ignored():
    back = frame([*ROWS, {"id": 99, "name": "Ghost", "probability": 1, "guidance": None, "active": True}])
    assert table_changes(ROWS, back, FIELDS) == ([], [])


@settings(max_examples=60, deadline=None)
@given(probs=st.lists(st.integers(0, 100), min_size=2, max_size=2), names=st.lists(st.text(min_size=1, max_size=8), min_size=2, max_size=2))
def test_diff_reports_exactly_the_changed_rows(probs, names):
    back = frame([{**r, "probability": float(p), "name": n} for r, p, n in zip(ROWS, probs, names, strict=True)])
    updates, creates = table_changes(ROWS, back, FIELDS)
    expected = []
    for r, p, n in zip(ROWS, probs, names, strict=True):
        ch = {}
        if n.strip() != r["name"]:
            ch["name"] = n if n.strip() else None  # a blank cell is a cleared one (the model then asks for a name)
        if p != r["probability"]:
            ch["probability"] = float(p)
        if ch:
            expected.append((r["id"], ch))
    assert updates == expected and creates == []


def test_saving_a_table_is_all_or_nothing(sqlite_engine, monkeypatch):
    """A bad row rolls back the good ones; a clean table saves every change and new row."""
    from dashboard.admin_views import _save_table
    from services import reference as ref
    from services.models import StageCreate
    from tests.conftest import build_org

    org = build_org(sqlite_engine)

    monkeypatch.setenv("DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    fields = ["name", "sequence", "probability", "kind", "stall_days", "guidance", "active"]
    with session_scope(sqlite_engine) as s:
        rows = [x.model_dump() for x in ref.list_stages(s, org.admin, include_inactive=True)]
    by_name = {r["name"]: r for r in rows}

    def create(s, v):
        return ref.create_stage(s, org.admin, data=StageCreate(**{k: v[k] for k in fields if k != "active"}))

    def update(s, row_id, changes):
        clean = {k: (int(v) if isinstance(v, float) else v) for k, v in changes.items()}
        return ref.update_stage(s, org.admin, stage_id=row_id, data=ref.StageUpdate(**clean))

    new = {"id": None, "name": "Demo", "sequence": 35, "probability": 60, "kind": "open", "stall_days": 10,
           "guidance": None, "active": True}
    bad = pd.DataFrame([{**r, "probability": 90 if r["name"] == "Won" else 30 if r["name"] == "Needs" else r["probability"]}
                        for r in rows] + [new])
    assert _save_table(org.admin, "stages_t", rows, bad, fields, create, update, {}) is False
    with session_scope(sqlite_engine) as s:
        now = {x.name: x.probability for x in ref.list_stages(s, org.admin)}
    assert now["Needs"] == by_name["Needs"]["probability"] and "Demo" not in now  # nothing half saved

    good = pd.DataFrame([{**r, "probability": 30 if r["name"] == "Needs" else r["probability"]} for r in rows] + [new])
    assert _save_table(org.admin, "stages_t", rows, good, fields, create, update, {}) is True
    with session_scope(sqlite_engine) as s:
        now = {x.name: x.probability for x in ref.list_stages(s, org.admin)}
    assert now["Needs"] == 30 and now["Demo"] == 60


def test_stage_table_refuses_out_of_range_values_instead_of_changing_them(sqlite_engine, monkeypatch):
    """150 %, −5 stall days and an open stage at 100 % are refused with their rule; the
    stored stages stay as they were (the editor no longer clamps them silently)."""
    from dashboard.admin_views import _save_table
    from services import reference as ref
    from tests.conftest import build_org

    org = build_org(sqlite_engine)
    monkeypatch.setenv("DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    fields = ["name", "sequence", "probability", "kind", "stall_days", "guidance", "active"]
    with session_scope(sqlite_engine) as s:
        rows = [x.model_dump() for x in ref.list_stages(s, org.admin, include_inactive=True)]
    before = {r["name"]: (r["probability"], r["stall_days"]) for r in rows}

    def create(s, v):
        return ref.create_stage(s, org.admin, data=v)

    def update(s, row_id, changes):
        return ref.update_stage(s, org.admin, stage_id=row_id, data=changes)

    for bad_values in ({"Needs": {"probability": 150.0}}, {"Needs": {"stall_days": -5.0}},
                       {"Qualify": {"probability": 100.0}}):
        edited = pd.DataFrame([{**r, **bad_values.get(r["name"], {})} for r in rows])
        assert _save_table(org.admin, "stages_t", rows, edited, fields, create, update, {}) is False
    with session_scope(sqlite_engine) as s:
        assert {x.name: (x.probability, x.stall_days) for x in ref.list_stages(s, org.admin)} == before
