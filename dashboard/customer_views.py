"""Drawing and state for the customer grid page (pages/customers.py).

Every session key the page uses is listed once, in ``KEYS`` (``GridKeys``); the state is
plain data only — never a Session or ORM row.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import grid
from dashboard.i18n import choose_placeholder, current_locale, tr
from dashboard.runner import run_service
from dashboard.state import data_version, db_key, get_engine
from dashboard.text import plain
from services import customers as cs
from services import exporting
from services import settings as company_settings
from services.access import Actor
from services.db import read_scope
from services.models import CUSTOMER_STATUSES, DEFAULT_STATUS, DEFAULT_TIER, TIERS

GRID_FIELDS = ("name", "tier", "status", "owner_id", "industry", "region", "channel_id", "phone", "email",
               "next_contact_on", "credit_code", "notes")
PAGE_SIZES = (50, 100, 200, 500)
DETAIL_PAGE = "pages/customer_detail.py"
@dataclass(frozen=True)
class GridKeys:
    """The customer grid's session keys, in one place.

    Data: ``fsig`` the filters + sort + actor the grid shows (a change goes back to page 1);
    ``sig`` the whole query (filters, page, size, data version); ``sent`` the rows of that
    page as loaded (the base of the diff); ``total`` their count over all pages; ``work`` the
    user's rows to re-feed after a failed save or "add row" (else absent); ``gen`` the grid
    generation, bumped whenever the grid must remount with new rows (streamlit-aggrid keeps
    its own edits otherwise: server_sync_strategy "client_wins"); ``errors`` / ``conflicts``
    / ``dupes`` / ``pending`` the outcome of the last failed save, shown beside the rows and
    under the grid; ``new_n`` the number of rows added so far (their temporary keys);
    ``dirty`` whether the grid held unsaved edits on the last run; ``seen`` the grid's value
    as the browser had sent it by the end of the last run (a different value now means the
    user touched the grid since);
    ``flash`` a (kind, message) to show after the rerun.
    Widgets: the filter bar (``view`` … ``archived``), paging (``page``, ``size``), the grid
    (``grid`` + generation), the buttons of the save bar and of the bulk actions."""

    fsig: str = "cust_fsig"
    sig: str = "cust_sig"
    sent: str = "cust_sent"
    total: str = "cust_total"
    work: str = "cust_work"
    gen: str = "cust_gen"
    errors: str = "cust_errors"
    conflicts: str = "cust_conflicts"
    dupes: str = "cust_dupes"
    pending: str = "cust_pending"
    new_n: str = "cust_new_n"
    dirty: str = "cust_dirty"
    seen: str = "cust_grid_seen"
    flash: str = "cust_flash"
    # widgets
    view: str = "cust_view"
    search: str = "cust_search"
    owner: str = "cust_owner"
    tier: str = "cust_tier"
    status: str = "cust_status"
    region: str = "cust_region"
    industry: str = "cust_industry"
    channel: str = "cust_channel"
    no_contact: str = "cust_no_contact"
    sort: str = "cust_sort"
    archived: str = "cust_archived"
    page: str = "cust_page"
    size: str = "cust_size"
    grid: str = "cust_grid"
    add: str = "cust_add"
    save: str = "cust_save"
    discard: str = "cust_discard"
    keep_mine: str = "cust_keep_mine"
    take_theirs: str = "cust_take_theirs"
    override: str = "cust_override"
    claim: str = "cust_claim"
    release: str = "cust_release"
    restore: str = "cust_restore"
    archive: str = "cust_archive"
    open: str = "cust_open"
    to: str = "cust_to"
    reassign: str = "cust_reassign"
    export: str = "cust_export"

    def edits(self) -> tuple[str, ...]:
        """The keys of unsaved edits and the last failed save's outcome."""
        return (self.work, self.errors, self.conflicts, self.dupes, self.pending, self.dirty)


KEYS = GridKeys()


def _ss() -> Any:
    return st.session_state


# ---------------------------------------------------------------------------
# cached reads (keyed on the data version so saves elsewhere refresh them)


@st.cache_data(ttl=600, show_spinner=False, max_entries=200)
def _load_page(db: str, actor: Actor, filters: dict, sort: tuple, page: int, size: int, version: int) -> tuple[list, int]:
    with read_scope(get_engine()) as s:
        df, total = cs.list_customers_page(s, actor, filters=cs.CustomerFilter(**filters), sort=list(sort),
                                           page=page, page_size=size)
    return grid.records(df), total


@st.cache_data(ttl=600, show_spinner=False)
def _choices(db: str, actor: Actor, version: int) -> dict[str, Any]:
    with read_scope(get_engine()) as s:
        rules = company_settings.get_all(s)
        return {
            "owners": cs.assignable_owners(s, actor),
            "channels": cs.list_channels(s),
            "regions": cs.distinct_values(s, actor, field_name="region"),
            "industries": cs.distinct_values(s, actor, field_name="industry"),
            "pool_rules": {k: rules.get(k) for k in ("pool_reclaim_days", "pool_rep_cap", "pool_claim_cooldown_days")},
        }


def choices(actor: Actor) -> dict[str, Any]:
    return _choices(db_key(), actor, data_version())


# ---------------------------------------------------------------------------
# filters and paging


def filter_bar(actor: Actor, ch: dict[str, Any]) -> tuple[cs.CustomerFilter, list[tuple[str, str]]]:
    """View toggle (customers / public pool), search and filters → (CustomerFilter, sort)."""
    views = {"mine": tr("customers.view_mine"), "pool": tr("customers.view_pool")}
    view = st.segmented_control(tr("customers.view"), list(views), format_func=views.get, default="mine",
                                key=KEYS.view, label_visibility="collapsed") or "mine"
    any_ = tr("customers.any")
    show_owner = actor.role != "rep" and view == "mine"
    # without the owner filter the search box takes its place (no empty column)
    row = st.columns([3, 2, 1, 1] if show_owner else [5, 1, 1])
    search = row[0].text_input(tr("customers.search"), key=KEYS.search)
    owners = {o["id"]: o["display_name"] for o in ch["owners"]}
    owner_id = None
    if show_owner:
        owner_id = row[1].selectbox(tr("customers.owner"), [None, *owners],
                                    format_func=lambda v: any_ if v is None else owners[v], key=KEYS.owner)
    tier_labels = {None: any_, **{v: tr(f"customers.tier_label.{v}") for v in TIERS}}
    tier = row[-2].selectbox(tr("customers.tier"), list(tier_labels), format_func=tier_labels.get, key=KEYS.tier)
    status_labels = {None: any_, **{v: tr(f"customers.status_label.{v}") for v in CUSTOMER_STATUSES}}
    status = row[-1].selectbox(tr("customers.status"), list(status_labels), format_func=status_labels.get,
                               key=KEYS.status)
    d1, d2, d3, d4, d5 = st.columns([1, 1, 1, 1, 1])
    region = d1.selectbox(tr("customers.region"), [None, *ch["regions"]], format_func=lambda v: any_ if v is None else v,
                          key=KEYS.region)
    industry = d2.selectbox(tr("customers.industry"), [None, *ch["industries"]],
                            format_func=lambda v: any_ if v is None else v, key=KEYS.industry)
    channels = {c["id"]: c["name"] for c in ch["channels"]}
    channel_id = d3.selectbox(tr("customers.channel"), [None, *channels],
                              format_func=lambda v: any_ if v is None else channels[v], key=KEYS.channel)
    no_contact = d4.number_input(tr("customers.no_contact_days"), min_value=0, max_value=3650, value=None, step=1,
                                 key=KEYS.no_contact)
    sorts = {"name": ("name", "asc"), "updated": ("updated_at", "desc"), "next": ("next_contact_on", "asc"),
             "last": ("last_contact_at", "desc")}
    # labels resolved now: a format_func may also be called outside this run (AppTest)
    sort_labels = {k: tr(f"customers.sort_{k}") for k in sorts}
    sort_key = d5.selectbox(tr("customers.sort"), list(sorts), format_func=sort_labels.get, key=KEYS.sort)
    archived = st.toggle(tr("customers.show_archived"), key=KEYS.archived)
    flt = cs.CustomerFilter(
        search=search or None, owner_id=owner_id, tier=tier, status=status, region=region, industry=industry,
        channel_id=channel_id, no_contact_days=int(no_contact) if no_contact is not None else None,
        in_pool=view == "pool", archived=bool(archived),
    )
    return flt, [sorts.get(sort_key or "name", sorts["name"])]


def _grid_key() -> str:
    return grid.grid_key(KEYS.grid, _ss().get(KEYS.gen, 0))


def _grid_touched() -> bool:
    """Whether the browser sent the grid a new value with this run (an edit committed by a
    cell losing focus, e.g. on the Save click), compared with what it had sent by the end of
    the last run. The value is read before the grid is drawn: a reload decided before the
    grid's own answer would otherwise drop that edit."""
    try:
        value = st.session_state.get(_grid_key())
    except Exception:  # noqa: BLE001 — no value for this grid yet
        return False
    return value is not None and value != _ss().get(KEYS.seen)


def page_and_size() -> tuple[int, int]:
    """The page number and rows per page chosen (read before the query runs)."""
    size = int(_ss().get(KEYS.size, PAGE_SIZES[1]))
    return int(_ss().get(KEYS.page, 1) or 1), size if size in PAGE_SIZES else PAGE_SIZES[1]


def paging_controls(total: int) -> None:
    """Total count, rows per page (≤ 500) and page number (changes rerun the page)."""
    page, size = page_and_size()
    pages = max(1, math.ceil(total / size))
    if page > pages:
        _ss()[KEYS.page] = pages
    c1, c2, c3 = st.columns([3, 1, 1])
    c1.markdown(f"**{tr('customers.total', n=f'{total:,}')}** · {tr('customers.page_of', page=min(page, pages), pages=pages)}")
    c2.selectbox(tr("customers.page_size"), PAGE_SIZES, index=PAGE_SIZES.index(size), key=KEYS.size)
    c3.number_input(tr("customers.page"), min_value=1, max_value=pages, step=1, key=KEYS.page)


def load_rows(actor: Actor, flt: cs.CustomerFilter, sort: list[tuple[str, str]]) -> int:
    """Load the page when the query changed (new filters, page, size or data version);
    returns the total. New filters go back to page 1. A changed query drops unsaved grid
    state and remounts the grid; a newer data version alone does not while the user has
    unsaved edits."""
    version = data_version()
    fsig = (tuple(sorted(asdict(flt).items())), tuple(sort), actor)
    if _ss().get(KEYS.fsig) != fsig:
        _ss()[KEYS.fsig] = fsig
        _ss()[KEYS.page] = 1
    page, size = page_and_size()
    sig = (fsig, page, size, version)
    old = _ss().get(KEYS.sig)
    if old is not None and old[:3] == sig[:3] and (_ss().get(KEYS.work) or _ss().get(KEYS.dirty)
                                                   or _grid_touched()):
        # only the data version moved (someone saved something) while this user has unsaved
        # edits — kept from an earlier run, or arriving with this very run (a cell edit or the
        # Save click that committed it): keep their rows; a save checks each row's version
        # and reports a conflict
        return int(_ss().get(KEYS.total, 0))
    if old != sig:
        rows, total = _load_page(db_key(), actor, asdict(flt), tuple(sort), page, size, version)
        _ss()[KEYS.sig] = sig
        _ss()[KEYS.sent] = rows
        _ss()[KEYS.total] = total
        reset_edits()
    return int(_ss().get(KEYS.total, 0))


def reset_edits() -> None:
    for key in KEYS.edits():
        _ss().pop(key, None)
    _ss()[KEYS.gen] = _ss().get(KEYS.gen, 0) + 1


# ---------------------------------------------------------------------------
# the grid


def _label(field: str) -> str:
    return tr({"owner_id": "customers.col_owner", "channel_id": "customers.col_channel",
               "next_contact_on": "customers.col_next_contact"}.get(field, f"customers.col_{field}"))


def _row_key(row: dict[str, Any]) -> Any:
    rid = grid.clean_cell(row.get("id"))
    return int(rid) if rid is not None else row.get(grid.KEY_FIELD)


def error_text(problems: dict[str, str]) -> str:
    return "; ".join(f"{_label(f) if f in GRID_FIELDS else ''} {msg}".strip() for f, msg in problems.items())


def grid_frame(rows: list[dict[str, Any]], errors: dict[Any, str]) -> pd.DataFrame:
    """The rows as the grid gets them: ids as nullable ints, dates as ISO text, the error
    column filled for rows that failed."""
    cols = ["id", "version", grid.KEY_FIELD, *GRID_FIELDS, "owner_name", "last_contact_at", "private_hidden"]
    out = []
    for r in rows:
        rec = {c: r.get(c) for c in cols}
        for c in ("next_contact_on",):
            v = grid.clean_cell(rec[c])
            rec[c] = v.isoformat() if isinstance(v, (date, datetime)) else v
        v = grid.clean_cell(rec["last_contact_at"])
        rec["last_contact_at"] = v.strftime("%Y-%m-%d") if isinstance(v, datetime) else (str(v) if v else None)
        rec[grid.ERROR_FIELD] = errors.get(_row_key(r))
        out.append(rec)
    df = pd.DataFrame(out, columns=[*cols, grid.ERROR_FIELD])
    for c in ("id", "version", "owner_id", "channel_id"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int64")
    for c in df.columns:
        if c not in ("id", "version", "owner_id", "channel_id", "private_hidden"):
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    df["private_hidden"] = df["private_hidden"].fillna(False).astype(bool)
    return df


def grid_options_for(actor: Actor, rows: list[dict[str, Any]], ch: dict[str, Any], *, pool_view: bool,
                     has_errors: bool) -> dict:
    editable = not (pool_view and actor.role == "rep")
    owner_labels = {r["owner_id"]: r["owner_name"] for r in rows if r.get("owner_id") is not None and r.get("owner_name")}
    owner_labels.update({o["id"]: o["display_name"] for o in ch["owners"]})
    channel_labels = {c["id"]: c["name"] for c in ch["channels"]}
    cols = []
    if has_errors:
        cols.append(grid.text_column(grid.ERROR_FIELD, tr("customers.error_col"), pinned="left", width=260,
                                     cellStyle={"color": "#b42318"}))
    cols += [
        grid.text_column("name", _label("name"), editable=editable, pinned="left", width=240),
        grid.select_column("tier", _label("tier"), values=list(TIERS), editable=editable, width=90,
                           labels={t: tr(f"customers.tier_label.{t}") for t in TIERS}),
        grid.select_column("status", _label("status"), values=list(CUSTOMER_STATUSES), editable=editable, width=120,
                           labels={s: tr(f"customers.status_label.{s}") for s in CUSTOMER_STATUSES}),
        grid.select_column("owner_id", _label("owner_id"), values=[o["id"] for o in ch["owners"]],
                           labels=owner_labels, editable=editable and actor.is_manager, width=130),
        grid.text_column("industry", _label("industry"), editable=editable, width=120),
        grid.text_column("region", _label("region"), editable=editable, width=110),
        grid.select_column("channel_id", _label("channel_id"), values=list(channel_labels), labels=channel_labels,
                           editable=editable, width=120),
        grid.text_column("phone", _label("phone"), editable=editable, width=150),
        grid.text_column("email", _label("email"), editable=editable, width=200),
        grid.date_column("next_contact_on", _label("next_contact_on"), editable=editable, width=140),
        grid.text_column("last_contact_at", tr("customers.col_last_contact"), width=120),
        grid.text_column("credit_code", _label("credit_code"), editable=editable, width=190),
        grid.text_column("notes", _label("notes"), editable=editable, width=260),
        grid.text_column("id", tr("customers.col_id"), width=80),
    ]
    return grid.grid_options(cols, locale=current_locale())


def current_errors() -> dict[Any, str]:
    return dict(_ss().get(KEYS.errors) or {})


def draw_grid(actor: Actor, ch: dict[str, Any], *, pool_view: bool) -> tuple[pd.DataFrame, list[int]]:
    """The editable grid; returns (rows as the user sees them now, selected ids)."""
    from st_aggrid import AgGrid

    rows = _ss().get(KEYS.work) or _ss().get(KEYS.sent) or []
    errors = current_errors()
    frame = grid_frame(rows, errors)
    opts = grid_options_for(actor, rows, ch, pool_view=pool_view, has_errors=bool(errors))
    height = min(620, 90 + 34 * max(len(frame), 3))
    key = _grid_key()
    response = AgGrid(frame.copy(), gridOptions=opts, height=height, key=key, **grid.GRID_KWARGS)
    data = response.data if response is not None else None
    current = data if isinstance(data, pd.DataFrame) else frame
    # dirty first, then what the browser has sent so far (see _grid_touched): a run cut short
    # by the next one (the Save click) between the two must not leave the edit unprotected
    _ss()[KEYS.dirty] = not _pending(current).is_empty()
    with contextlib.suppress(Exception):
        _ss()[KEYS.seen] = st.session_state.get(key)
    selected: list[int] = []
    try:
        sel = response.selected_rows
    except Exception:
        sel = None
    if isinstance(sel, pd.DataFrame) and "id" in sel.columns:
        selected = [int(v) for v in (grid.clean_cell(x) for x in sel["id"]) if isinstance(v, int)]
    return current, selected


# ---------------------------------------------------------------------------
# saving


def _pending(current: pd.DataFrame) -> cs.GridChanges:
    """The user's unsaved changes: the rows on screen against the page as loaded."""
    return grid.diff_rows(_ss().get(KEYS.sent) or [], current, editable_fields=GRID_FIELDS, archive_missing=False)


def add_row(actor: Actor, current: pd.DataFrame) -> None:
    """Keep the user's rows, put an empty new row (owned by ``actor``) on top and remount
    the grid."""
    rows = grid.records(current)
    n = _ss().get(KEYS.new_n, 0) + 1
    _ss()[KEYS.new_n] = n
    blank = {c: None for c in (rows[0].keys() if rows else ["id", *GRID_FIELDS])}
    blank.update({"id": None, grid.KEY_FIELD: f"new-{n}", "tier": DEFAULT_TIER, "status": DEFAULT_STATUS,
                  "owner_id": actor.id})
    _ss()[KEYS.work] = [blank, *rows]
    _ss()[KEYS.gen] = _ss().get(KEYS.gen, 0) + 1


def discard() -> None:
    reset_edits()


def _keep_edits(current: pd.DataFrame, errors: dict[Any, str]) -> None:
    _ss()[KEYS.work] = grid.records(current)
    _ss()[KEYS.errors] = errors
    _ss()[KEYS.gen] = _ss().get(KEYS.gen, 0) + 1


def save(actor: Actor, current: pd.DataFrame, *, override_duplicate: bool = False,
         changes: cs.GridChanges | None = None) -> None:
    """Diff → update_many in one transaction (``runner.run_service``). Success: flash a
    message. Failure: keep the user's rows, mark each bad row, remember the outcome.

    An edit still open in a cell is committed by the grid when it loses focus, on the
    mouse-down of the Save click, so it arrives with the click; nothing is saved later
    without a click."""
    if changes is None:
        changes = _pending(current)
    if changes.is_empty():
        _ss()[KEYS.flash] = ("info", tr("customers.nothing_to_save"))
        return
    for key in (KEYS.conflicts, KEYS.dupes, KEYS.pending):
        _ss().pop(key, None)
    labels = {f: _label(f) for f in GRID_FIELDS}
    done = run_service(lambda s: cs.update_many(s, actor, changes=changes, override_duplicate=override_duplicate),
                       labels=labels)
    if done.ok:
        res = done.value
        reset_edits()
        _ss()[KEYS.flash] = ("success", tr("customers.saved", created=len(res.created), updated=len(res.updated),
                                           archived=len(res.archived)))
    elif done.conflict is not None:
        errors = {rid: "; ".join(tr("customers.conflict_field", field=_label(f), theirs=_show(v[0]), yours=_show(v[1]))
                                 for f, v in fields.items() if f != "version") or tr("customers.conflict", n=1)
                  for rid, fields in done.conflict.conflicts.items()}
        _keep_edits(current, errors)
        _ss()[KEYS.conflicts] = {rid: {f: list(v) for f, v in fields.items()}
                                 for rid, fields in done.conflict.conflicts.items()}
        _ss()[KEYS.pending] = asdict(changes)
        _ss()[KEYS.flash] = ("error", tr("customers.conflict_title"))
    elif done.duplicate is not None:
        errors: dict[Any, str] = {}
        for m in done.duplicate.matches:
            errors[m.get("row")] = "; ".join(filter(None, [errors.get(m.get("row")), duplicate_text(m)]))
        _keep_edits(current, errors)
        _ss()[KEYS.dupes] = done.duplicate.matches
        _ss()[KEYS.pending] = asdict(changes)
        _ss()[KEYS.flash] = ("error", tr("customers.duplicate_title"))
    elif done.row_errors or done.field_errors:
        errors = {k: error_text(v) for k, v in done.row_errors.items()}
        if done.field_errors:
            errors["_all"] = error_text(done.field_errors)
        if done.message:
            errors["_all"] = "; ".join(filter(None, [errors.get("_all"), done.message]))
        _keep_edits(current, errors)
        _ss()[KEYS.flash] = ("error", tr("customers.fix_rows"))
    else:  # the whole call was refused (busy, not allowed, …): one sentence
        _keep_edits(current, {"_all": done.message})
        _ss()[KEYS.flash] = ("error", done.message)


def _show(value: Any) -> str:
    value = grid.clean_cell(value)
    return "—" if value is None else str(value)


def duplicate_text(m: dict[str, Any]) -> str:
    fields = ", ".join(_label(f) for f in m.get("matched_on") or [])
    if m.get("same_batch_row") is not None:
        return tr("customers.duplicate_batch", fields=fields)
    if m.get("hidden"):
        return tr("customers.duplicate_hidden", owner=m.get("owner_name") or "?", fields=fields)
    return tr("customers.duplicate_visible", name=m.get("name"), id=m.get("customer_id"),
              owner=m.get("owner_name") or tr("customers.duplicate_pool"), fields=fields)


def save_bar(actor: Actor, current: pd.DataFrame) -> None:
    """Add row · Save · Discard, then the messages of the last save."""
    pending = _pending(current)
    c1, c2, c3, c4 = st.columns([1, 1.35, 1.1, 2.55])  # "Save changes" with its icon fits at 1280 px
    if c1.button(tr("customers.add_row"), icon=":material/add:", key=KEYS.add):
        add_row(actor, current)
        st.rerun()
    if c2.button(tr("customers.save"), type="primary", icon=":material/save:", key=KEYS.save):
        save(actor, current)
        st.rerun()
    if c3.button(tr("customers.discard"), key=KEYS.discard):
        discard()
        st.rerun()
    n = grid.count_edits(pending)
    if n:
        c4.caption(tr("grid.edited", n=n))
    flash = _ss().pop(KEYS.flash, None)
    if flash:  # messages may quote customer names: shown as text, never as markdown
        getattr(st, flash[0])(plain(flash[1]))
    errors = current_errors()
    if errors:
        sent_names = {grid.clean_cell(r.get("id")): r.get("name") for r in (_ss().get(KEYS.work) or [])}
        for key, msg in errors.items():
            label = key if isinstance(key, str) else f"#{key} {sent_names.get(key) or ''}".strip()
            st.markdown(f"- **{plain(str(label))}**: {plain(msg)}")
    if _ss().get(KEYS.conflicts):
        conflict_actions(actor, current)
    if (_ss().get(KEYS.dupes) and actor.is_manager and _ss().get(KEYS.pending)
            and st.button(tr("customers.save_anyway"), key=KEYS.override)):
        save(actor, current, override_duplicate=True, changes=cs.GridChanges(**_ss()[KEYS.pending]))
        st.rerun()


def conflict_actions(actor: Actor, current: pd.DataFrame) -> None:
    """Resolve a version conflict: save mine over theirs (with their version) or reload."""
    conflicts = _ss()[KEYS.conflicts]
    c1, c2 = st.columns(2)
    if c1.button(tr("customers.keep_mine"), key=KEYS.keep_mine):
        pending = cs.GridChanges(**_ss()[KEYS.pending])
        for u in pending.update:
            if u["id"] in conflicts and conflicts[u["id"]].get("version"):
                u["version"] = conflicts[u["id"]]["version"][0]
        save(actor, current, changes=pending)
        st.rerun()
    if c2.button(tr("customers.take_theirs"), key=KEYS.take_theirs):
        _ss().pop(KEYS.sig, None)
        reset_edits()
        st.rerun()


# ---------------------------------------------------------------------------
# bulk actions


def _run_bulk(fn, actor: Actor, **kw) -> None:
    done = run_service(lambda s: fn(s, actor, **kw))
    if done.ok:
        _ss()[KEYS.flash] = ("success", tr("customers.done", n=done.value))
        return
    msgs = [error_text(v) for v in done.row_errors.values()]
    msgs += [error_text(done.field_errors)] if done.field_errors else []
    msgs += [done.message] if done.message else []
    _ss()[KEYS.flash] = ("error", "; ".join(msgs))


def bulk_actions(actor: Actor, selected: list[int], current: pd.DataFrame, ch: dict[str, Any], *,
                 pool_view: bool, archived_view: bool, flt: cs.CustomerFilter) -> None:
    """Actions on the selected rows, limited to what the role may do."""
    with st.expander(f"{tr('customers.bulk')} · {tr('customers.selected', n=len(selected))}", expanded=bool(selected)):
        if not selected:
            st.caption(tr("customers.select_first"))
        cols = st.columns(5)
        disabled = not selected
        if pool_view:
            if cols[0].button(tr("customers.claim"), disabled=disabled, key=KEYS.claim):
                _run_bulk(cs.claim_from_pool, actor, ids=selected)
                st.rerun()
        elif not archived_view and cols[0].button(tr("customers.release"), disabled=disabled, key=KEYS.release):
            _run_bulk(cs.release_to_pool, actor, ids=selected)
            st.rerun()
        if archived_view:
            if actor.is_manager and cols[1].button(tr("customers.restore"), disabled=disabled, key=KEYS.restore):
                _run_bulk(cs.restore_customers, actor, ids=selected)
                st.rerun()
        elif cols[1].button(tr("customers.archive"), disabled=disabled, key=KEYS.archive):
            _run_bulk(cs.archive_customers, actor, ids=selected)
            st.rerun()
        if len(selected) == 1 and Path(DETAIL_PAGE).exists() and cols[2].button(tr("customers.open_detail"),
                                                                                 key=KEYS.open):
            open_detail(selected[0])
        export_button(cols[3], actor, selected, current, flt)
        if actor.is_manager:
            owners = {o["id"]: o["display_name"] for o in ch["owners"]}
            r1, r2 = st.columns([2, 1])
            target = r1.selectbox(tr("customers.reassign_to"), list(owners), format_func=owners.get, key=KEYS.to,
                                  placeholder=choose_placeholder(owners))
            if r2.button(tr("customers.reassign"), disabled=disabled or target is None, key=KEYS.reassign):
                _run_bulk(cs.reassign_owner, actor, ids=selected, owner_id=target)
                st.rerun()


def open_detail(customer_id: int) -> None:
    """Open the customer 360 page for one customer."""
    st.session_state["customer_id"] = int(customer_id)
    st.switch_page(DETAIL_PAGE)


def export_button(container, actor: Actor, selected: list[int], current: pd.DataFrame,
                  flt: cs.CustomerFilter) -> None:
    """Download the selected rows (or, with none selected, the whole current filter) as
    XLSX through services.exporting (formula-safe)."""
    engine = get_engine()
    ids = list(selected)
    locale = current_locale()

    def build() -> bytes:
        with read_scope(engine) as s:
            if not ids:
                return exporting.export_customers(s, actor, filters=flt, fmt="xlsx")
            df = exporting.customers_frame(s, actor, filters=flt)
            id_col = df.columns[0]
            return exporting.to_bytes(df[df[id_col].isin(ids)], "xlsx",
                                      sheet_name=tr("customers.title") if locale else "Customers")

    container.download_button(tr("customers.export"), data=build, file_name="customers.xlsx",
                              mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                              on_click="ignore", key=KEYS.export)


def pool_rules_caption(ch: dict[str, Any]) -> None:
    rules = ch["pool_rules"]
    days = rules.get("pool_reclaim_days") or {}
    st.caption(tr("pool.rules", a=days.get("A"), b=days.get("B"), c=days.get("C"), cap=rules.get("pool_rep_cap"),
                  cooldown=rules.get("pool_claim_cooldown_days")))
