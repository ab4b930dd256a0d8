"""Drawing helpers for the Admin page: users, teams, reference tables and settings.

Every save is one transaction: a table of edits either saves whole or not at all, and on a
validation error the edits stay on screen with the row and field named.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.i18n import LANGUAGE_NAMES, current_locale, tr
from dashboard.state import bump_data_version, data_version, get_engine
from dashboard.text import plain
from dashboard.widgets import data_table
from services import reference, users
from services import settings as company_settings
from services.access import Actor
from services.db import session_scope
from services.errors import DomainError, ValidationError
from services.i18n import LOCALES
from services.models import (
    ROLES,
    STAGE_KINDS,
    TEAM_KINDS,
    ChannelCreate,
    ProductCreate,
    StageCreate,
    TeamCreate,
    TeamUpdate,
    UserCreate,
    UserUpdate,
)

CURRENCIES = ("CNY", "USD", "EUR", "HKD", "JPY", "GBP")
TIMEZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "Asia/Tokyo", "Europe/London",
             "Europe/Berlin", "America/New_York", "America/Los_Angeles", "UTC")


# ---------------------------------------------------------------------------
# shared


def _blank(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _same(a: Any, b: Any) -> bool:
    if _blank(a) and _blank(b):
        return True
    if _blank(a) or _blank(b):
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    if isinstance(a, (int, float, Decimal)) and isinstance(b, (int, float, Decimal)):
        return math.isclose(float(a), float(b), abs_tol=1e-9)
    return str(a).strip() == str(b).strip()


def table_changes(original: list[dict[str, Any]], edited: pd.DataFrame, fields: list[str]
                  ) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:
    """Diff an edited table against the rows sent, by ``id``: (updates as (id, changed
    fields), new rows). Rows without an id are new; blank new rows are ignored."""
    before = {row["id"]: row for row in original}
    updates: list[tuple[int, dict[str, Any]]] = []
    creates: list[dict[str, Any]] = []
    for rec in edited.to_dict("records"):
        values = {f: (None if _blank(rec.get(f)) else rec.get(f)) for f in fields}
        row_id = rec.get("id")
        if _blank(row_id):
            if any(v is not None and v != "" for v in values.values()):
                creates.append(values)
            continue
        old = before.get(int(row_id))
        if old is None:
            continue
        changed = {f: values[f] for f in fields if not _same(old.get(f), values[f])}
        if changed:
            updates.append((int(row_id), changed))
    return updates, creates


def show_errors(err: ValidationError, labels: dict[str, str]) -> None:
    """One line per field (and per row for tables), naming the field and the rule."""
    for field, message in err.errors.items():
        st.error(f"{labels.get(field, field)}: {plain(message)}")
    for row, errs in err.row_errors.items():
        for field, message in errs.items():
            st.error(f"{plain(tr('admin.row', row=row))} · {labels.get(field, field)}: {plain(message)}")


def _run(action: Callable[[Any], Any], labels: dict[str, str], success: str | None = None) -> bool:
    """Run ``action(session)`` in one transaction; show its errors or the success message."""
    try:
        with session_scope(get_engine()) as s:
            action(s)
    except ValidationError as err:
        show_errors(err, labels)
        return False
    except DomainError as err:
        st.error(plain(str(err)))
        return False
    bump_data_version()
    st.toast(success or tr("common.saved"), icon=":material/check:")
    return True


def _read(fn: Callable[[Any], Any]) -> Any:
    with session_scope(get_engine()) as s:
        return fn(s)


def _lk(key: str) -> str:
    """Widget key per language: a select box with translated options is rebuilt when the
    language changes (Streamlit would keep showing the old labels)."""
    return f"{key}_{current_locale()}"


def _int(v: Any, default: int | None = None) -> Any:
    """Whole floats from the grid back to int (so pydantic accepts them); anything else is
    passed on for the service to reject with its message."""
    if _blank(v):
        return default
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


# ---------------------------------------------------------------------------
# users


def _user_labels() -> dict[str, str]:
    return {f: tr(f"admin.user_{f}") for f in
            ("username", "display_name", "password", "role", "team_id", "email", "locale", "capacity", "active")}


def users_tab(actor: Actor, read_only: bool) -> None:
    people = _read(lambda s: users.list_users(s, actor))
    teams = _read(lambda s: users.team_tree(s, actor))
    team_names = {tm["id"]: tm["path"] for tm in teams}
    table = pd.DataFrame([{
        tr("admin.user_username"): u.username,
        tr("admin.user_display_name"): u.display_name,
        tr("admin.user_role"): tr(f"auth.role_{u.role}"),
        tr("admin.user_team_id"): team_names.get(u.team_id, ""),
        tr("admin.user_active"): u.active,
        tr("admin.user_locked_until"): u.locked_until,
        tr("admin.user_last_login"): u.last_login_at,
    } for u in people])
    data_table(table, width="stretch")
    if read_only:
        return
    team_ids = [None, *team_names]
    # format_func gets plain dict lookups: AppTest calls it outside the script run
    fmt_team = {None: tr("common.none"), **team_names}.get
    fmt_role = {r: tr(f"auth.role_{r}") for r in ROLES}.get
    labels = _user_labels()

    with st.expander(tr("admin.user_create"), icon=":material/person_add:"), st.form("user_create"):
        c1, c2 = st.columns(2)
        username = c1.text_input(labels["username"], key="uc_username")
        display_name = c2.text_input(labels["display_name"], key="uc_display_name")
        password = c1.text_input(labels["password"], type="password", key="uc_password")
        role = c2.selectbox(labels["role"], ROLES, index=ROLES.index("rep"), format_func=fmt_role, key=_lk("uc_role"))
        team_id = c1.selectbox(labels["team_id"], team_ids, format_func=fmt_team, key="uc_team")
        email = c2.text_input(labels["email"], key="uc_email")
        capacity = c1.number_input(labels["capacity"], min_value=0.0, step=10000.0, key="uc_capacity")
        if st.form_submit_button(tr("common.create"), type="primary", key="uc_submit"):
            data = UserCreate(username=username, display_name=display_name, password=password, role=role,
                              team_id=team_id, email=email or None, capacity=Decimal(str(capacity)))
            if _run(lambda s: users.create_user(s, actor, data=data), labels):
                st.rerun()

    if not people:
        return
    names = [u.username for u in people]
    picked = st.selectbox(tr("admin.user_pick"), names, key="ue_pick",
                          format_func={u.username: f"{u.display_name} ({u.username})" for u in people}.get)
    user = next(u for u in people if u.username == picked)
    with st.form(f"user_edit_{user.id}"):
        st.markdown(f"**{tr('admin.user_edit')}: {plain(user.display_name)}**")
        c1, c2 = st.columns(2)
        k = f"ue_{user.id}"
        display_name = c1.text_input(labels["display_name"], value=user.display_name, key=f"{k}_display_name")
        role = c2.selectbox(labels["role"], ROLES, index=ROLES.index(user.role), format_func=fmt_role, key=_lk(f"{k}_role"))
        team_id = c1.selectbox(labels["team_id"], team_ids, index=team_ids.index(user.team_id) if user.team_id in team_ids else 0,
                               format_func=fmt_team, key=f"{k}_team")
        email = c2.text_input(labels["email"], value=user.email or "", key=f"{k}_email")
        capacity = c1.number_input(labels["capacity"], min_value=0.0, step=10000.0, value=float(user.capacity or 0),
                                   key=f"{k}_capacity")
        active = c2.checkbox(labels["active"], value=user.active, key=f"{k}_active")
        if st.form_submit_button(tr("common.save"), type="primary", key=f"{k}_submit"):
            data = UserUpdate(display_name=display_name, role=role, team_id=team_id, email=email or None,
                              capacity=Decimal(str(capacity)), active=active)
            if _run(lambda s: users.update_user(s, actor, username=user.username, data=data), labels):
                st.rerun()
    c1, c2 = st.columns(2)
    with c1, st.form(f"user_password_{user.id}"):
        new_password = st.text_input(tr("admin.user_new_password"), type="password", key=f"up_{user.id}_password")
        if st.form_submit_button(tr("admin.user_reset_password"), key=f"up_{user.id}_submit"):
            _run(lambda s: users.set_password(s, actor, username=user.username, password=new_password),
                 {"password": tr("admin.user_new_password")}, tr("admin.password_reset_done"))
    with c2:
        unlock = user.locked_until is not None and st.button(tr("admin.user_unlock"), key=f"unlock_{user.id}")
        if unlock and _run(lambda s: users.unlock_user(s, actor, username=user.username), labels):
            st.rerun()


# ---------------------------------------------------------------------------
# teams


def teams_tab(actor: Actor, read_only: bool) -> None:
    tree = _read(lambda s: users.team_tree(s, actor, include_inactive=True))
    managers = [u for u in _read(lambda s: users.list_users(s, actor, include_inactive=False))
                if u.role in users.MANAGER_ROLES]
    manager_names = {u.id: u.display_name for u in managers}
    if tree:
        data_table(pd.DataFrame([{
            tr("admin.team_name"): "\u2003" * tm["depth"] + tm["name"],
            tr("admin.team_kind"): tr(f"admin.kind_{tm['kind']}"),
            tr("admin.team_manager_id"): tm["manager_name"] or "",
            tr("admin.team_members"): tm["members"],
            tr("admin.team_active"): tm["active"],
        } for tm in tree]), width="stretch")
    else:
        st.info(tr("common.nothing_here"))
    if read_only:
        return
    labels = {f: tr(f"admin.team_{f}") for f in ("name", "kind", "parent_id", "manager_id", "region", "active")}
    active = [tm for tm in tree if tm["active"]]
    parents = [None, *[tm["id"] for tm in active]]
    paths = {tm["id"]: tm["path"] for tm in tree}
    fmt_parent = {None: tr("common.none"), **paths}.get
    mgr_ids = [None, *manager_names]
    fmt_mgr = {None: tr("common.none"), **manager_names}.get
    fmt_kind = {k: tr(f"admin.kind_{k}") for k in TEAM_KINDS}.get

    with st.expander(tr("admin.team_create"), icon=":material/add:"), st.form("team_create"):
        c1, c2 = st.columns(2)
        name = c1.text_input(labels["name"], key="tc_name")
        kind = c2.selectbox(labels["kind"], TEAM_KINDS, index=2, format_func=fmt_kind, key=_lk("tc_kind"))
        parent_id = c1.selectbox(labels["parent_id"], parents, format_func=fmt_parent, key="tc_parent")
        manager_id = c2.selectbox(labels["manager_id"], mgr_ids, format_func=fmt_mgr, key="tc_manager")
        region = c1.text_input(labels["region"], key="tc_region")
        if st.form_submit_button(tr("common.create"), type="primary", key="tc_submit"):
            data = TeamCreate(name=name, kind=kind, parent_id=parent_id, manager_id=manager_id, region=region or None)
            if _run(lambda s: users.create_team(s, actor, data=data), labels):
                st.rerun()
    if not tree:
        return
    picked = st.selectbox(tr("admin.team_pick"), [tm["id"] for tm in tree], format_func=paths.get, key="te_pick")
    team = next(tm for tm in tree if tm["id"] == picked)
    with st.form(f"team_edit_{team['id']}"):
        c1, c2 = st.columns(2)
        k = f"te_{team['id']}"
        name = c1.text_input(labels["name"], value=team["name"], key=f"{k}_name")
        kind = c2.selectbox(labels["kind"], TEAM_KINDS, index=TEAM_KINDS.index(team["kind"]), format_func=fmt_kind,
                            key=_lk(f"{k}_kind"))
        own_parents = [p for p in parents if p != team["id"]]
        parent_id = c1.selectbox(labels["parent_id"], own_parents, format_func=fmt_parent, key=f"{k}_parent",
                                 index=own_parents.index(team["parent_id"]) if team["parent_id"] in own_parents else 0)
        manager_id = c2.selectbox(labels["manager_id"], mgr_ids, format_func=fmt_mgr, key=f"{k}_manager",
                                  index=mgr_ids.index(team["manager_id"]) if team["manager_id"] in mgr_ids else 0)
        region = c1.text_input(labels["region"], value=team["region"] or "", key=f"{k}_region")
        is_active = c2.checkbox(labels["active"], value=team["active"], key=f"{k}_active")
        if st.form_submit_button(tr("common.save"), type="primary", key=f"{k}_submit"):
            data = TeamUpdate(name=name, kind=kind, parent_id=parent_id, manager_id=manager_id,
                              region=region or None, active=is_active)
            if _run(lambda s: users.update_team(s, actor, team_id=team["id"], data=data), labels):
                st.rerun()


# ---------------------------------------------------------------------------
# reference tables (stages, lost reasons, channels, products)


def _save_table(actor: Actor, key: str, rows: list[dict[str, Any]], edited: pd.DataFrame, fields: list[str],
                create: Callable[[Any, dict[str, Any]], Any], update: Callable[[Any, int, dict[str, Any]], Any],
                labels: dict[str, str]) -> bool:
    updates, creates = table_changes(rows, edited, fields)
    if not updates and not creates:
        st.info(tr("admin.no_changes"))
        return False

    def action(s) -> None:
        row_errors: dict[Any, dict[str, str]] = {}
        for row_id, changes in updates:
            try:
                update(s, row_id, changes)
            except ValidationError as err:
                row_errors[f"#{row_id}"] = err.errors
        for i, values in enumerate(creates, start=1):
            try:
                create(s, values)
            except ValidationError as err:
                row_errors[tr("admin.new_row", n=i)] = err.errors
        if row_errors:
            raise ValidationError(row_errors=row_errors)  # rolls back the whole table

    if _run(action, labels):
        st.session_state[f"{key}_gen"] = st.session_state.get(f"{key}_gen", 0) + 1
        return True
    return False


def _editor(key: str, rows: list[dict[str, Any]], fields: list[str], column_config: dict[str, Any],
            read_only: bool) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["id", *fields])
    gen = st.session_state.get(f"{key}_gen", 0)
    return st.data_editor(
        frame,
        key=f"{key}_editor_{gen}_{data_version()}" if read_only else f"{key}_editor_{gen}",
        width="stretch",
        num_rows="fixed" if read_only else "add",
        disabled=True if read_only else ["id"],
        column_config={"id": st.column_config.NumberColumn("#", disabled=True, width="small"), **column_config},
    )


def _table_section(actor: Actor, read_only: bool, key: str, rows: list[dict[str, Any]], fields: list[str],
                   column_config: dict[str, Any], create, update, labels: dict[str, str], hint: str | None = None) -> None:
    if hint:
        st.caption(hint)
    edited = _editor(key, rows, fields, column_config, read_only)
    save = not read_only and st.button(tr("common.save"), key=f"{key}_save", type="primary")
    if save and _save_table(actor, key, rows, edited, fields, create, update, labels):
        st.rerun()


def stages_tab(actor: Actor, read_only: bool) -> None:
    rows = [s.model_dump() for s in _read(lambda s: reference.list_stages(s, actor, include_inactive=True))]
    fields = ["name", "sequence", "probability", "kind", "stall_days", "guidance", "active"]
    labels = {f: tr(f"admin.stage_{f}") for f in fields}
    config = {
        "name": st.column_config.TextColumn(labels["name"], required=True, max_chars=60),
        "sequence": st.column_config.NumberColumn(labels["sequence"], step=1, min_value=0, max_value=10000),
        "probability": st.column_config.NumberColumn(labels["probability"], step=1, min_value=0, max_value=100, format="%d%%"),
        "kind": st.column_config.SelectboxColumn(labels["kind"], options=list(STAGE_KINDS), required=True,
                                                 format_func={k: tr(f"deals.status_{k}") for k in STAGE_KINDS}.get),
        "stall_days": st.column_config.NumberColumn(labels["stall_days"], step=1, min_value=0, max_value=3650),
        "guidance": st.column_config.TextColumn(labels["guidance"], width="large"),
        "active": st.column_config.CheckboxColumn(labels["active"]),
    }

    def create(s, v):
        data = StageCreate(name=v["name"] or "", sequence=_int(v["sequence"], 10), probability=_int(v["probability"], 10),
                           kind=v["kind"] or "open", stall_days=_int(v["stall_days"], 14), guidance=v["guidance"])
        return reference.create_stage(s, actor, data=data)

    def update(s, row_id, changes):
        clean = {k: (_int(v) if k in ("sequence", "probability", "stall_days") else v) for k, v in changes.items()}
        return reference.update_stage(s, actor, stage_id=row_id, data=reference.StageUpdate(**clean))

    _table_section(actor, read_only, "stages", rows, fields, config, create, update, labels, tr("admin.stages_hint"))


def _named_tab(actor: Actor, read_only: bool, key: str, rows: list[dict[str, Any]], create, update) -> None:
    fields = ["name", "active"]
    labels = {"name": tr("common.name"), "active": tr("admin.active")}
    config = {"name": st.column_config.TextColumn(labels["name"], required=True),
              "active": st.column_config.CheckboxColumn(labels["active"], default=True)}
    _table_section(actor, read_only, key, rows, fields, config, create, update, labels, tr("admin.deactivate_hint"))


def lost_reasons_tab(actor: Actor, read_only: bool) -> None:
    rows = [r.model_dump() for r in _read(lambda s: reference.list_lost_reasons(s, actor, include_inactive=True))]

    def create(s, v):
        row = reference.create_lost_reason(s, actor, name=v["name"] or "")
        if v.get("active") is False:
            reference.update_lost_reason(s, actor, reason_id=row.id, data=reference.NameUpdate(active=False))

    _named_tab(actor, read_only, "lost_reasons", rows, create,
               lambda s, i, c: reference.update_lost_reason(s, actor, reason_id=i, data=reference.NameUpdate(**c)))


def channels_tab(actor: Actor, read_only: bool) -> None:
    rows = [r.model_dump() for r in _read(lambda s: reference.list_channels(s, actor, include_inactive=True))]

    def create(s, v):
        row = reference.create_channel(s, actor, data=ChannelCreate(name=v["name"] or ""))
        if v.get("active") is False:
            reference.update_channel(s, actor, channel_id=row.id, data=reference.NameUpdate(active=False))

    _named_tab(actor, read_only, "channels", rows, create,
               lambda s, i, c: reference.update_channel(s, actor, channel_id=i, data=reference.NameUpdate(**c)))


def products_tab(actor: Actor, read_only: bool) -> None:
    rows = [{**p.model_dump(), "list_price": float(p.list_price), "unit_cost": float(p.unit_cost)}
            for p in _read(lambda s: reference.list_products(s, actor, include_inactive=True))]
    fields = ["name", "series", "list_price", "unit_cost", "active"]
    labels = {f: tr(f"admin.product_{f}") for f in fields}
    config = {
        "name": st.column_config.TextColumn(labels["name"], required=True, max_chars=120),
        "series": st.column_config.TextColumn(labels["series"], max_chars=60),
        "list_price": st.column_config.NumberColumn(labels["list_price"], min_value=0, format="%.2f"),
        "unit_cost": st.column_config.NumberColumn(labels["unit_cost"], min_value=0, format="%.2f"),
        "active": st.column_config.CheckboxColumn(labels["active"], default=True),
    }

    def money(v):
        return Decimal("0") if _blank(v) else Decimal(str(v))

    def create(s, v):
        data = ProductCreate(name=v["name"] or "", series=v["series"], list_price=money(v["list_price"]),
                             unit_cost=money(v["unit_cost"]))
        return reference.create_product(s, actor, data=data)

    def update(s, row_id, changes):
        clean = {k: (money(v) if k in ("list_price", "unit_cost") else v) for k, v in changes.items()}
        return reference.update_product(s, actor, product_id=row_id, data=reference.ProductUpdate(**clean))

    _table_section(actor, read_only, "products", rows, fields, config, create, update, labels, tr("admin.deactivate_hint"))


# ---------------------------------------------------------------------------
# settings


def settings_tab(actor: Actor, read_only: bool) -> None:
    values = _read(company_settings.get_all)
    labels = {k: tr(f"admin.setting_{k}") for k in company_settings.VALIDATORS}
    reclaim = dict(values.get("pool_reclaim_days") or {})
    tz_options = list(TIMEZONES) if values["timezone"] in TIMEZONES else [values["timezone"], *TIMEZONES]
    with st.form("settings"):
        st.markdown(f"**{tr('admin.settings_company')}**")
        c1, c2 = st.columns(2)
        currency = c1.selectbox(labels["base_currency"], CURRENCIES, index=_index(CURRENCIES, values["base_currency"]))
        fy_month = c2.number_input(labels["fiscal_year_start_month"], min_value=1, max_value=12, step=1,
                                   value=int(values["fiscal_year_start_month"]), key="set_fy_month")
        timezone = c1.selectbox(labels["timezone"], tz_options, index=_index(tz_options, values["timezone"]))
        language = c2.selectbox(labels["default_language"], LOCALES, index=_index(LOCALES, values["default_language"]),
                                format_func=LANGUAGE_NAMES.get)
        session_days = c1.number_input(labels["session_days"], min_value=1, max_value=90, step=1,
                                       value=int(values["session_days"]))
        st.markdown(f"**{tr('admin.settings_pool')}**")
        cols = st.columns(3)
        days = {tier: cols[i].number_input(tr("admin.setting_reclaim_tier", tier=tier), min_value=0, max_value=3650,
                                           step=1, value=int(reclaim.get(tier, 30)))
                for i, tier in enumerate(("A", "B", "C"))}
        c1, c2 = st.columns(2)
        cap = c1.number_input(labels["pool_rep_cap"], min_value=0, max_value=1_000_000, step=10, value=int(values["pool_rep_cap"]))
        cooldown = c2.number_input(labels["pool_claim_cooldown_days"], min_value=0, max_value=3650, step=1,
                                   value=int(values["pool_claim_cooldown_days"]))
        exempt = st.checkbox(labels["pool_exempt_open_deals"], value=bool(values["pool_exempt_open_deals"]))
        st.markdown(f"**{tr('admin.settings_activities')}**")
        next_required = st.checkbox(labels["activity_next_contact_required"],
                                    value=bool(values["activity_next_contact_required"]))
        saved = st.form_submit_button(tr("common.save"), type="primary", disabled=read_only, key="set_submit")
    if saved and not read_only:
        new = {"base_currency": currency, "fiscal_year_start_month": int(fy_month), "timezone": timezone,
               "default_language": language, "session_days": int(session_days),
               "pool_reclaim_days": {k: int(v) for k, v in days.items()}, "pool_rep_cap": int(cap),
               "pool_claim_cooldown_days": int(cooldown), "pool_exempt_open_deals": bool(exempt),
               "activity_next_contact_required": bool(next_required)}
        _run(lambda s: company_settings.update_settings(s, actor, values=new), labels)


def _index(options, value) -> int:
    options = list(options)
    return options.index(value) if value in options else 0
