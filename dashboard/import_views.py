"""Drawing and state for the import page: upload (a file that cannot be read is refused in
one message; an encoding that is not UTF-8 / GBK is asked for) → mapping → preview → check
(dry run, downloadable report) → duplicate policy → import in committed batches with a
progress bar → summary (and, if it stopped, how many rows were written).

All the rules live in ``services.importing``; this module only keeps the user's choices in
session state (plain values: bytes, dicts) and shows results.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.i18n import current_locale, tr
from dashboard.state import bump_data_version, get_engine
from dashboard.text import plain
from dashboard.widgets import data_table
from services import importing
from services.access import Actor
from services.errors import DomainError, ValidationError
from services.importing import FileRefused

K = "import_"


def _ss() -> Any:
    return st.session_state


ENCODINGS = ("", "gb18030", "shift_jis", "big5", "euc_kr", "cp1252", "latin-1", "utf-16")
_ASK_ENCODING = ("other_encoding", "unsure_encoding", "not_this_encoding", "unknown_encoding")


@st.cache_data(show_spinner=False, max_entries=4)
def _read(digest: str, _data: bytes, encoding: str | None, locale: str) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """Read a file once per content (the digest keys the cache; the leading underscore
    keeps Streamlit from hashing the bytes a second time)."""
    table = importing.read_table(_data, locale=locale, encoding=encoding)
    return table.headers, table.rows


def _encoding_choice() -> str | None:
    """The encoding the user chose for a CSV the detection refused ("" = detect)."""
    labels = {e: e or tr("importing.encoding_auto") for e in ENCODINGS}
    return st.selectbox(tr("importing.encoding"), ENCODINGS, format_func=labels.get, key=K + "encoding") or None


def upload(kind: str) -> tuple[str, bytes, list[str], list[tuple[int, list[Any]]], str | None] | None:
    """The uploaded file (name, bytes, headers, rows, chosen encoding) or None. A new file or
    kind clears the previous results."""
    f = st.file_uploader(tr("importing.upload"), type=["csv", "xlsx", "txt"], key=K + "file")
    if f is None:
        return None
    data = f.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    if _ss().get(K + "digest") != (digest, kind):
        if _ss().get(K + "digest", (None,))[0] != digest:
            _ss().pop(K + "encoding", None)
        _ss()[K + "digest"] = (digest, kind)
        _ss().pop(K + "result", None)
    encoding = _encoding_choice() if _ss().get(K + "encoding") else None
    try:
        headers, rows = _read(digest, data, encoding, current_locale())
    except FileRefused as exc:
        st.error(plain(tr("importing.cannot_read", detail=exc.errors["file"])))
        if exc.key in _ASK_ENCODING and not encoding:
            _encoding_choice()
        return None
    except ValidationError as exc:
        st.error(plain(tr("importing.cannot_read", detail="; ".join(exc.errors.values()))))
        return None
    return f.name, data, headers, rows, encoding


def mapping_editor(kind: str, headers: list[str]) -> dict[str, str]:
    """One select box per column, preselected with the suggestion; returns header → field
    ("" = ignore)."""
    st.subheader(tr("importing.step_mapping"))
    st.caption(tr("importing.mapping_help"))
    suggested = importing.suggest_mapping(headers, kind)
    options = [""] + list(importing.FIELDS[kind])

    labels = {f: tr("importing.ignore") if not f else f"{tr(f'importing.fields.{f}')} ({f})" for f in options}

    mapping: dict[str, str] = {}
    cols = st.columns(3)
    for i, header in enumerate(headers):
        default = suggested.get(header, "")
        mapping[header] = cols[i % 3].selectbox(plain(header), options, index=options.index(default), format_func=labels.get,
                                                key=f"{K}map_{kind}_{i}") or ""
    with st.expander(tr("importing.fields_help")):
        data_table(pd.DataFrame({"field": list(importing.FIELDS[kind]),
                                   tr("importing.field"): [tr(f"importing.fields.{f}") for f in importing.FIELDS[kind]],
                                   "": list(importing.FIELDS[kind].values())}), width="stretch")
    return mapping


def preview(headers: list[str], rows: list[tuple[int, list[Any]]], mapping: dict[str, str], n: int = 20) -> None:
    """The first rows as the spreadsheet shows them, with the row numbers used in the report."""
    st.subheader(tr("importing.step_preview"))
    st.caption(tr("importing.preview_rows", n=min(n, len(rows)), total=len(rows)))
    names = [f"{h} → {mapping[h]}" if mapping.get(h) else h for h in headers]
    records = [[number] + [str(v) if v is not None else "" for v in (vals + [None] * len(headers))[: len(headers)]]
               for number, vals in rows[:n]]
    data_table(pd.DataFrame(records, columns=[tr("importing.report_cols.row")] + names, dtype=object), width="stretch")


def options(actor: Actor) -> tuple[str, bool]:
    """Duplicate policy (keep both only for managers) and create-missing (directors/admins)."""
    policies = ["skip", "update"] + (["keep_both"] if actor.is_manager else [])
    labels = {p: tr(f"importing.policy.{p}") for p in policies}
    policy = st.radio(tr("importing.on_duplicate"), policies, format_func=labels.get, key=K + "policy")
    create_missing = False
    if actor.sees_all:
        create_missing = st.checkbox(tr("importing.create_missing"), help=tr("importing.create_missing_help"),
                                     key=K + "create_missing")
    return policy or "skip", create_missing


def run(actor: Actor, kind: str, data: bytes, mapping: dict[str, str], policy: str, create_missing: bool,
        *, dry_run: bool, encoding: str | None = None) -> None:
    """Run the import (or the check) in committed batches with a progress bar; keep the
    result for the summary."""
    bar = st.progress(0.0, text=tr("importing.checking" if dry_run else "importing.running"))

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=tr("importing.progress", done=done, total=total))

    try:
        result = importing.run_import(get_engine(), actor, kind=kind, path=data, mapping=mapping,
                                      on_duplicate=policy, dry_run=dry_run, create_missing=create_missing,
                                      progress=progress, encoding=encoding)
    except ValidationError as exc:
        bar.empty()
        for field, message in exc.errors.items():
            st.error(plain(f"{field.removeprefix('mapping:')}: {message}"))
        return
    except DomainError as exc:
        bar.empty()
        st.error(plain(str(exc)))
        return
    bar.progress(1.0, text=tr("importing.progress", done=result.total_rows, total=result.total_rows))
    if result.written:
        bump_data_version()
    _ss()[K + "result"] = {"summary": result.to_dict(), "report": result.errors_csv()}


def summary() -> None:
    """The last check / import: counts, rows with errors, the downloadable report."""
    stored = _ss().get(K + "result")
    if not stored:
        return
    res = stored["summary"]
    key = "importing.dry_summary" if res["dry_run"] else "importing.summary"
    text = tr(key, created=res["created"], updated=res["updated"], skipped=res["skipped"],
              errors=res["error_rows"], total=res["total_rows"])
    # green only when every row went through; a warning when some had errors or the import
    # stopped part way, red when no row went in
    went_in = res["created"] or res["updated"] or res["skipped"]
    if (res["error_rows"] or res["failure"]) and not went_in:
        box = st.error
    elif res["error_rows"] or res["failure"]:
        box = st.warning
    else:
        box = st.info if res["dry_run"] else st.success
    box(text)
    if res["failure"]:
        first, last = res["failed_rows"] or (0, 0)
        st.error(plain(tr("importing.stopped", first=first, last=last, reason=res["failure"], written=res["written"])))
    if res["created_refs"]:
        st.caption(tr("importing.refs_created", refs=", ".join(f"{k} {v}" for k, v in res["created_refs"].items())))
    st.subheader(tr("importing.report"))
    if not res["errors"]:
        st.caption(tr("importing.no_errors"))
        return
    df = pd.DataFrame(res["errors"], columns=["row", "column", "value", "reason"], dtype=object)
    df.columns = [tr(f"importing.report_cols.{c}") for c in df.columns]
    data_table(df, width="stretch")
    st.download_button(tr("importing.download_report"), data=stored["report"], file_name="import-errors.csv",
                       mime="text/csv", on_click="ignore", key=K + "download")
