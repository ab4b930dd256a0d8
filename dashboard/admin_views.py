"""Drawing helpers for the Admin page: users, teams, reference tables and settings.

Every save runs through ``dashboard.runner`` (forms through ``dashboard.forms``): one
transaction, a table of edits saves whole or not at all, and on a refusal the edits stay on
screen with the row and field named; a form that saved clears and confirms.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import forms
from dashboard.i18n import LANGUAGE_NAMES, tr
from dashboard.runner import read, run_service, show_outcome
from dashboard.state import data_version
from dashboard.text import plain
from dashboard.widgets import choice, data_table, fit_columns, number_field
from services import reference, users
from services import settings as company_settings
from services.access import Actor
from services.errors import ValidationError
from services.i18n import LOCALES
from services.models import ROLES, STAGE_KINDS, TEAM_KINDS
from services.validation import is_missing

CURRENCIES = ("CNY", "USD", "EUR", "HKD", "JPY", "GBP")
TIMEZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "Asia/Tokyo", "Europe/London",
             "Europe/Berlin", "America/New_York", "America/Los_Angeles", "UTC")


# ---------------------------------------------------------------------------
# shared


def _same(a: Any, b: Any) -> bool:
    if is_missing(a) and is_missing(b):
        return True
    if is_missing(a) or is_missing(b):
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
        values = {f: (None if is_missing(rec.get(f)) else rec.get(f)) for f in fields}
        row_id = rec.get("id")
        if is_missing(row_id):
            if any(v is not None for v in values.values()):
                creates.append(values)
            continue
        old = before.get(int(row_id))
        if old is None:
            continue
        changed = {f: values[f] for f in fields if not _same(old.get(f), values[f])}
        if changed:
            updates.append((int(row_id), changed))
    return updates, creates


def _whole(v: Any) -> Any:
    """Whole floats from a table back to int (so the model accepts them); anything else is
    passed on for the service to refuse with its message."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _submit(form: str, work: Callable[[Any], Any], fields: tuple[str, ...], success: str) -> None:
    forms.submit(form, work, fields=fields, success=success)


# ---------------------------------------------------------------------------
# users


def _user_labels() -> dict[str, str]:
    return {f: tr(f"admin.user_{f}") for f in
            ("username", "display_name", "password", "role", "team_id", "email", "locale", "capacity", "active")}


USER_NEW = ("username", "display_name", "password", "role", "team", "email", "capacity")
USER_EDIT = ("display_name", "role", "team", "email", "capacity", "active")


def _create_user(actor: Actor) -> None:
    v = {f: forms.value("uc", f) for f in USER_NEW}
    data = {"username": v["username"] or "", "display_name": v["display_name"] or "", "password": v["password"],
            "role": v["role"], "team_id": v["team"], "email": v["email"] or None, "capacity": v["capacity"]}
    _submit("uc", lambda s: users.create_user(s, actor, data=data), USER_NEW,
            tr("admin.user_created", name=data["display_name"]))


def _update_user(actor: Actor, username: str, form: str) -> None:
    v = {f: forms.value(form, f) for f in USER_EDIT}
    data = {"display_name": v["display_name"] or "", "role": v["role"], "team_id": v["team"],
            "email": v["email"] or None, "capacity": v["capacity"], "active": v["active"]}
    forms.submit(form, lambda s: users.update_user(s, actor, username=username, data=data), success=tr("common.saved"))


def _reset_password(actor: Actor, username: str, form: str) -> None:
    password = st.session_state.get(forms.widget_key(form, "password"))
    forms.submit(form, lambda s: users.set_password(s, actor, username=username, password=password),
                 fields=("password",), success=tr("admin.password_reset_done"))


def _unlock(actor: Actor, username: str, form: str) -> None:
    forms.submit(form, lambda s: users.unlock_user(s, actor, username=username), success=tr("common.saved"))


def _user_labels() -> dict[str, str]:
    return {f: tr(f"admin.user_{f}") for f in
            ("username", "display_name", "password", "role", "team_id", "email", "locale", "capacity", "active")}


def users_tab(actor: Actor, read_only: bool) -> None:
    people = read(lambda s: users.list_users(s, actor))
    teams = read(lambda s: users.team_tree(s, actor))
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
    data_table(table, width="stretch", column_config=fit_columns({
        "admin.user_username": 90, "admin.user_display_name": 110, "admin.user_role": 80, "admin.user_team_id": 250,
        "admin.user_active": 50, "admin.user_locked_until": 110, "admin.user_last_login": 110}))
    if read_only:
        return
    team_ids = [None, *team_names]
    # format_func gets plain dict lookups: AppTest calls it outside the script run
    fmt_team = {None: tr("common.none"), **team_names}.get
    roles = {r: tr(f"auth.role_{r}") for r in ROLES}
    labels = _user_labels()
    labels["team"] = labels["team_id"]

    forms.messages("uc", labels)
    with st.expander(tr("admin.user_create"), icon=":material/person_add:",
                     expanded=forms.outcome("uc") is not None), st.form("user_create"):
        c1, c2 = st.columns(2)
        c1.text_input(labels["username"], key="uc_username")
        c2.text_input(labels["display_name"], key="uc_display_name")
        c1.text_input(labels["password"], type="password", key="uc_password")
        with c2:
            choice(st.selectbox, labels["role"], ROLES, roles, key="uc_role", default="rep")
        c1.selectbox(labels["team_id"], team_ids, format_func=fmt_team, key="uc_team")
        c2.text_input(labels["email"], key="uc_email")
        with c1:
            number_field(labels["capacity"], "uc_capacity", value=0, step=10000, places=2)
        st.form_submit_button(tr("common.create"), type="primary", key="uc_submit", on_click=_create_user,
                              args=(actor,))

    if not people:
        return
    names = [u.username for u in people]
    picked = st.selectbox(tr("admin.user_pick"), names, key="ue_pick",
                          format_func={u.username: f"{u.display_name} ({u.username})" for u in people}.get)
    user = next(u for u in people if u.username == picked)
    k = f"ue_{user.id}"
    forms.messages(k, labels)
    with st.form(f"user_edit_{user.id}"):
        st.markdown(f"**{tr('admin.user_edit')}: {plain(user.display_name)}**")
        c1, c2 = st.columns(2)
        c1.text_input(labels["display_name"], value=user.display_name, key=f"{k}_display_name")
        with c2:
            choice(st.selectbox, labels["role"], ROLES, roles, key=f"{k}_role", default=user.role)
        c1.selectbox(labels["team_id"], team_ids, index=team_ids.index(user.team_id) if user.team_id in team_ids else 0,
                     format_func=fmt_team, key=f"{k}_team")
        c2.text_input(labels["email"], value=user.email or "", key=f"{k}_email")
        with c1:
            number_field(labels["capacity"], f"{k}_capacity", value=float(user.capacity or 0), step=10000, places=2)
        c2.checkbox(labels["active"], value=user.active, key=f"{k}_active")
        st.form_submit_button(tr("common.save"), type="primary", key=f"{k}_submit", on_click=_update_user,
                              args=(actor, user.username, k))
    c1, c2 = st.columns(2)
    pw = f"up_{user.id}"
    with c1:
        forms.messages(pw, {"password": tr("admin.user_new_password")})
        with st.form(f"user_password_{user.id}"):
            st.text_input(tr("admin.user_new_password"), type="password", key=f"{pw}_password")
            st.form_submit_button(tr("admin.user_reset_password"), key=f"{pw}_submit", on_click=_reset_password,
                                  args=(actor, user.username, pw))
    with c2:
        forms.messages(f"unlock_{user.id}", labels)
        if user.locked_until is not None:
            st.button(tr("admin.user_unlock"), key=f"unlock_{user.id}", on_click=_unlock,
                      args=(actor, user.username, f"unlock_{user.id}"))


# ---------------------------------------------------------------------------
# teams


TEAM_NEW = ("name", "kind", "parent", "manager", "region")


def _create_team(actor: Actor) -> None:
    v = {f: forms.value("tc", f) for f in TEAM_NEW}
    data = {"name": v["name"] or "", "kind": v["kind"], "parent_id": v["parent"], "manager_id": v["manager"],
            "region": v["region"] or None}
    _submit("tc", lambda s: users.create_team(s, actor, data=data), TEAM_NEW,
            tr("admin.team_created", name=data["name"].strip()))


def _update_team(actor: Actor, team_id: int, form: str) -> None:
    v = {f: forms.value(form, f) for f in (*TEAM_NEW, "active")}
    data = {"name": v["name"] or "", "kind": v["kind"], "parent_id": v["parent"], "manager_id": v["manager"],
            "region": v["region"] or None, "active": v["active"]}
    forms.submit(form, lambda s: users.update_team(s, actor, team_id=team_id, data=data), success=tr("common.saved"))


def teams_tab(actor: Actor, read_only: bool) -> None:
    tree = read(lambda s: users.team_tree(s, actor, include_inactive=True))
    managers = [u for u in read(lambda s: users.list_users(s, actor, include_inactive=False))
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
    kinds = {k: tr(f"admin.kind_{k}") for k in TEAM_KINDS}

    forms.messages("tc", labels)
    with st.expander(tr("admin.team_create"), icon=":material/add:", expanded=forms.outcome("tc") is not None), \
            st.form("team_create"):
        c1, c2 = st.columns(2)
        c1.text_input(labels["name"], key="tc_name")
        with c2:
            choice(st.selectbox, labels["kind"], TEAM_KINDS, kinds, key="tc_kind", default="team")
        c1.selectbox(labels["parent_id"], parents, format_func=fmt_parent, key="tc_parent")
        c2.selectbox(labels["manager_id"], mgr_ids, format_func=fmt_mgr, key="tc_manager")
        c1.text_input(labels["region"], key="tc_region")
        st.form_submit_button(tr("common.create"), type="primary", key="tc_submit", on_click=_create_team,
                              args=(actor,))
    if not tree:
        return
    picked = st.selectbox(tr("admin.team_pick"), [tm["id"] for tm in tree], format_func=paths.get, key="te_pick")
    team = next(tm for tm in tree if tm["id"] == picked)
    k = f"te_{team['id']}"
    forms.messages(k, labels)
    with st.form(f"team_edit_{team['id']}"):
        c1, c2 = st.columns(2)
        c1.text_input(labels["name"], value=team["name"], key=f"{k}_name")
        with c2:
            choice(st.selectbox, labels["kind"], TEAM_KINDS, kinds, key=f"{k}_kind", default=team["kind"])
        own_parents = [p for p in parents if p != team["id"]]
        c1.selectbox(labels["parent_id"], own_parents, format_func=fmt_parent, key=f"{k}_parent",
                     index=own_parents.index(team["parent_id"]) if team["parent_id"] in own_parents else 0)
        c2.selectbox(labels["manager_id"], mgr_ids, format_func=fmt_mgr, key=f"{k}_manager",
                     index=mgr_ids.index(team["manager_id"]) if team["manager_id"] in mgr_ids else 0)
        c1.text_input(labels["region"], value=team["region"] or "", key=f"{k}_region")
        c2.checkbox(labels["active"], value=team["active"], key=f"{k}_active")
        st.form_submit_button(tr("common.save"), type="primary", key=f"{k}_submit", on_click=_update_team,
                              args=(actor, team["id"], k))


# ---------------------------------------------------------------------------
# reference tables (stages, lost reasons, channels, products)


def _save_table(actor: Actor, key: str, rows: list[dict[str, Any]], edited: pd.DataFrame, fields: list[str],
                create: Callable[[Any, dict[str, Any]], Any], update: Callable[[Any, int, dict[str, Any]], Any],
                labels: dict[str, str]) -> bool:
    """Save a table's edits in one transaction: every row is checked, a refused row names its
    field and rule, and nothing is saved unless every row passes."""
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

    done = run_service(action)
    show_outcome(done, labels)
    if done.ok:
        st.session_state[f"{key}_gen"] = st.session_state.get(f"{key}_gen", 0) + 1
        st.toast(tr("common.saved"), icon=":material/check:")
    return done.ok


def _editor(key: str, rows: list[dict[str, Any]], fields: list[str], column_config: dict[str, Any],
            read_only: bool) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["id", *fields])
    gen = st.session_state.get(f"{key}_gen", 0)
    return st.data_editor(
        frame,
        key=f"{key}_editor_{gen}_{data_version()}" if read_only else f"{key}_editor_{gen}",
        width="stretch",
        hide_index=True,
        num_rows="fixed" if read_only else "add",
        disabled=True if read_only else ["id"],
        column_config={"id": st.column_config.NumberColumn("#", disabled=True, width="small"), **column_config},
    )


def _table_section(actor: Actor, read_only: bool, key: str, rows: list[dict[str, Any]], fields: list[str],
                   column_config: dict[str, Any], create, update, labels: dict[str, str], hint: str | None = None) -> None:
    if hint and not read_only:
        st.caption(hint)
    edited = _editor(key, rows, fields, column_config, read_only)
    save = not read_only and st.button(tr("common.save"), key=f"{key}_save", type="primary")
    if save and _save_table(actor, key, rows, edited, fields, create, update, labels):
        st.rerun()


def stages_tab(actor: Actor, read_only: bool) -> None:
    rows = [s.model_dump() for s in read(lambda s: reference.list_stages(s, actor, include_inactive=True))]
    fields = ["name", "sequence", "probability", "kind", "stall_days", "guidance", "active"]
    labels = {f: tr(f"admin.stage_{f}") for f in fields}
    # no min / max on the number columns: the editor would clamp 150 to 100 without a word;
    # the stage model refuses out-of-range values with their rule instead
    config = {
        "name": st.column_config.TextColumn(labels["name"], required=True),
        "sequence": st.column_config.NumberColumn(labels["sequence"], step=1),
        "probability": st.column_config.NumberColumn(labels["probability"], step=1, format="%d%%"),
        "kind": st.column_config.SelectboxColumn(labels["kind"], options=list(STAGE_KINDS), required=True,
                                                 format_func={k: tr(f"deals.status_{k}") for k in STAGE_KINDS}.get),
        "stall_days": st.column_config.NumberColumn(labels["stall_days"], step=1),
        "guidance": st.column_config.TextColumn(labels["guidance"], width="large"),
        "active": st.column_config.CheckboxColumn(labels["active"]),
    }

    def create(s, v):
        data = {k: _whole(x) for k, x in v.items() if x is not None}
        return reference.create_stage(s, actor, data=data)

    def update(s, row_id, changes):
        return reference.update_stage(s, actor, stage_id=row_id, data={k: _whole(v) for k, v in changes.items()})

    _table_section(actor, read_only, "stages", rows, fields, config, create, update, labels, tr("admin.stages_hint"))


def _named_tab(actor: Actor, read_only: bool, key: str, rows: list[dict[str, Any]], create, update) -> None:
    fields = ["name", "active"]
    labels = {"name": tr("common.name"), "active": tr("admin.active")}
    config = {"name": st.column_config.TextColumn(labels["name"], required=True),
              "active": st.column_config.CheckboxColumn(labels["active"], default=True)}
    _table_section(actor, read_only, key, rows, fields, config, create, update, labels, tr("admin.deactivate_hint"))


def lost_reasons_tab(actor: Actor, read_only: bool) -> None:
    rows = [r.model_dump() for r in read(lambda s: reference.list_lost_reasons(s, actor, include_inactive=True))]
    _named_tab(actor, read_only, "lost_reasons", rows,
               lambda s, v: reference.create_lost_reason(s, actor, data=v),
               lambda s, i, c: reference.update_lost_reason(s, actor, reason_id=i, data=c))


def channels_tab(actor: Actor, read_only: bool) -> None:
    rows = [r.model_dump() for r in read(lambda s: reference.list_channels(s, actor, include_inactive=True))]
    _named_tab(actor, read_only, "channels", rows,
               lambda s, v: reference.create_channel(s, actor, data=v),
               lambda s, i, c: reference.update_channel(s, actor, channel_id=i, data=c))


def products_tab(actor: Actor, read_only: bool) -> None:
    rows = [{**p.model_dump(), "list_price": float(p.list_price), "unit_cost": float(p.unit_cost)}
            for p in read(lambda s: reference.list_products(s, actor, include_inactive=True))]
    fields = ["name", "series", "list_price", "unit_cost", "active"]
    labels = {f: tr(f"admin.product_{f}") for f in fields}
    config = {
        "name": st.column_config.TextColumn(labels["name"], required=True),
        "series": st.column_config.TextColumn(labels["series"]),
        "list_price": st.column_config.NumberColumn(labels["list_price"], format="localized"),
        "unit_cost": st.column_config.NumberColumn(labels["unit_cost"], format="localized"),
        "active": st.column_config.CheckboxColumn(labels["active"], default=True),
    }

    def money(v):
        return v if is_missing(v) else Decimal(str(v))

    def create(s, v):
        data = {k: (money(x) if k in ("list_price", "unit_cost") else x) for k, x in v.items() if x is not None}
        return reference.create_product(s, actor, data=data)

    def update(s, row_id, changes):
        clean = {k: (money(v) if k in ("list_price", "unit_cost") else v) for k, v in changes.items()}
        return reference.update_product(s, actor, product_id=row_id, data=clean)

    _table_section(actor, read_only, "products", rows, fields, config, create, update, labels, tr("admin.deactivate_hint"))


# ---------------------------------------------------------------------------
# settings

SETTINGS_FORM = "set"


def _save_settings(actor: Actor) -> None:

    def v(name: str) -> Any:
        return forms.value(SETTINGS_FORM, name)

    def whole(value: Any) -> Any:
        return int(value) if isinstance(value, float) and value.is_integer() else value

    new = {"base_currency": v("currency"), "fiscal_year_start_month": whole(v("fy_month")), "timezone": v("timezone"),
           "default_language": v("language"), "session_days": whole(v("session_days")),
           "pool_reclaim_days": {tier: whole(v(f"reclaim_{tier}")) for tier in ("A", "B", "C")},
           "pool_rep_cap": whole(v("cap")), "pool_claim_cooldown_days": whole(v("cooldown")),
           "pool_exempt_open_deals": bool(v("exempt")), "activity_next_contact_required": bool(v("next_required")),
           "forecast_commit_probability": whole(v("commit_probability"))}
    forms.submit(SETTINGS_FORM, lambda s: company_settings.update_settings(s, actor, values=new),
                 success=tr("common.saved"))


def settings_tab(actor: Actor, read_only: bool) -> None:
    values = read(company_settings.get_all)
    labels = {k: tr(f"admin.setting_{k}") for k in company_settings.VALIDATORS}
    reclaim = dict(values.get("pool_reclaim_days") or {})
    tz_options = list(TIMEZONES) if values["timezone"] in TIMEZONES else [values["timezone"], *TIMEZONES]
    key = lambda name: forms.widget_key(SETTINGS_FORM, name)  # noqa: E731
    forms.messages(SETTINGS_FORM, labels)
    with st.form("settings"):
        st.markdown(f"**{tr('admin.settings_company')}**")
        c1, c2 = st.columns(2)
        c1.selectbox(labels["base_currency"], CURRENCIES, index=_index(CURRENCIES, values["base_currency"]),
                     key=key("currency"))
        with c2:
            number_field(labels["fiscal_year_start_month"], key("fy_month"), value=int(values["fiscal_year_start_month"]))
        c1.selectbox(labels["timezone"], tz_options, index=_index(tz_options, values["timezone"]), key=key("timezone"))
        with c2:
            choice(st.selectbox, labels["default_language"], LOCALES, LANGUAGE_NAMES, key=key("language"),
                   default=values["default_language"])
        with c1:
            number_field(labels["session_days"], key("session_days"), value=int(values["session_days"]))
        st.markdown(f"**{tr('admin.settings_pool')}**")
        cols = st.columns(3)
        for i, tier in enumerate(("A", "B", "C")):
            with cols[i]:
                number_field(tr("admin.setting_reclaim_tier", tier=tier), key(f"reclaim_{tier}"),
                             value=int(reclaim.get(tier, 30)))
        c1, c2 = st.columns(2)
        with c1:
            number_field(labels["pool_rep_cap"], key("cap"), value=int(values["pool_rep_cap"]), step=10)
        with c2:
            number_field(labels["pool_claim_cooldown_days"], key("cooldown"), value=int(values["pool_claim_cooldown_days"]))
        st.checkbox(labels["pool_exempt_open_deals"], value=bool(values["pool_exempt_open_deals"]), key=key("exempt"))
        st.markdown(f"**{tr('admin.settings_activities')}**")
        st.checkbox(labels["activity_next_contact_required"], value=bool(values["activity_next_contact_required"]),
                    key=key("next_required"))
        st.markdown(f"**{tr('admin.settings_forecast')}**")
        number_field(labels["forecast_commit_probability"], key("commit_probability"),
                     value=int(values.get("forecast_commit_probability") or 75))
        st.form_submit_button(tr("common.save"), type="primary", disabled=read_only, key="set_submit",
                              on_click=None if read_only else _save_settings, args=(actor,))


def _index(options, value) -> int:
    options = list(options)
    return options.index(value) if value in options else 0
