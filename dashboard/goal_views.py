"""Drawing for the Goals page (pages/goals.py): the target list with attainment, one
target's bullet chart, pace alert, work-back table and tree (with its split dialog and
part editing), the suggestions side by side with the history chart, and the team's
reps × months grid with its XLSX export and import.

Every number comes from ``services.goals`` through ``dashboard.runner``; nothing here
computes a target, an actual or a rate.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import charts, forms
from dashboard.i18n import current_locale, money, number, percent, tr
from dashboard.runner import read, show_outcome, try_read
from dashboard.text import plain
from dashboard.widgets import choice, data_table, to_money
from services import goals
from services.access import Actor
from services.models import TARGET_METRICS, TARGET_TIERS

FLASH = "goals_flash"
SPLIT = "goals_split"
NEW = "goals_new"
PARTS = "goals_parts"
GRID = "goals_grid"


def can_set(actor: Actor) -> bool:
    return actor.role in ("manager", "director", "admin")


def _value(metric: str, value: Any) -> str:
    return goals.common.shown_value(metric, value, current_locale())


def _short(metric: str, value: Any) -> str:
    """A target value for a metric card: money compact (¥58.03M), counts in full."""
    if value is None or metric in goals.common.COUNT_METRICS:
        return _value(metric, value)
    return money(value)


def _ratio(value: float | None) -> str:
    return "—" if value is None else percent(value)


# ---------------------------------------------------------------------------
# pickers


def pickers(actor: Actor, today: date) -> tuple[str, str, str]:
    """Metric, fiscal year (this one, last, next) and tier: the page's choice."""
    fiscal = read(lambda s: goals.common.fiscal_start_month(s))
    this_year = int(goals.period_label("year", today.replace(day=1), fiscal))
    c1, c2, c3 = st.columns([2, 1, 1])
    with c1:
        metric = choice(st.selectbox, tr("goals.metric"), TARGET_METRICS,
                        {m: tr(f"goals.metric_name.{m}") for m in TARGET_METRICS}, key="goals_metric")
    with c2:
        years = [str(y) for y in (this_year - 1, this_year, this_year + 1)]
        year = choice(st.selectbox, tr("goals.grid_year"), years, {y: y for y in years}, key="goals_year",
                      default=str(this_year))
    with c3:
        tier = choice(st.selectbox, tr("goals.tier"), TARGET_TIERS,
                      {t_: tr(f"goals.tier_name.{t_}") for t_ in TARGET_TIERS}, key="goals_tier")
    return metric, year, tier


def period_choice(year: str) -> str:
    """The year, one of its quarters or months (fiscal), as written for the services."""
    fiscal = read(lambda s: goals.common.fiscal_start_month(s))
    _, start = goals.parse_period(year, fiscal, "en")
    options = [year] + [f"{year}-Q{q}" for q in range(1, 5)] + [
        goals.period_label("month", s, fiscal) for _, s in goals.common.sub_periods("year", start, "month")]
    return choice(st.selectbox, tr("goals.period"), options, {o: o for o in options}, key="goals_period")


# ---------------------------------------------------------------------------
# tracking


def track_section(actor: Actor, metric: str, period: str, tier: str, today: date) -> None:
    """Targets of the period with attainment; the chosen one in detail."""
    forms.messages(FLASH)
    rows = read(lambda s: goals.attainment_report(s, actor, period=period, metric=metric, tier=tier, today=today))
    if not rows:
        st.info(tr("goals.no_targets"))
        return
    if not can_set(actor):
        st.caption(tr("goals.read_only"))
    table = pd.DataFrame([{
        tr("goals.scope"): tr(f"goals.scope_name.{r['scope']}"), tr("goals.holder"): r["holder"] or "—",
        tr("goals.value"): _value(metric, r["value"]), tr("goals.actual"): _value(metric, r["actual"]),
        tr("goals.attainment"): _ratio(r["attainment"]), tr("goals.projection"): _value(metric, r["projection"]),
        tr("goals.yoy"): _ratio(r["yoy"]), tr("goals.mom"): _ratio(r["mom"]),
    } for r in rows])
    data_table(table)
    labels = {r["id"]: " · ".join((tr("goals.scope_name." + r["scope"]), r["holder"] or "—", r["period"],
                                   _value(metric, r["value"]))) for r in rows}
    chosen = choice(st.selectbox, tr("goals.value"), list(labels), labels, key="goals_target")
    row = next(r for r in rows if r["id"] == chosen)
    target_detail(actor, row, today)


def target_detail(actor: Actor, row: dict[str, Any], today: date) -> None:
    """Bullet chart, key numbers and pace alert on the left; the work-back table beside."""
    metric = row["metric"]
    left, right = st.columns([3, 2])
    with left:
        st.altair_chart(charts.bullet_chart(
            float(row["actual"]), float(row["value"]) if row["value"] else None, label=row["period"],
            actual_label=tr("goals.actual"), target_label=tr("goals.value"), locale=current_locale()),
            width="stretch")
        c1, c2, c3 = st.columns(3)
        c1.metric(tr("goals.attainment"), _ratio(row["attainment"]))
        # compact on the card (the full amount was cut at 1280 px), in full on hover
        c2.metric(tr("goals.projection"), _short(metric, row["projection"]), help=_value(metric, row["projection"]))
        c3.metric(tr("goals.elapsed"), _ratio(row["elapsed"]))
        alert = row["pace_alert"]
        if alert:
            st.warning(tr("goals.pace_alert", checkpoint=alert["checkpoint"],
                          projection=_value(metric, alert["projection"]),
                          shortfall=_value(metric, alert["shortfall"])))
        elif row["elapsed"]:
            st.caption(f":green[{tr('goals.on_pace')}]")
    with right:
        workback_table(actor, row["id"], today)
    tree_section(actor, row["id"], metric)


def workback_table(actor: Actor, target_id: int, today: date) -> None:
    outcome = try_read(lambda s: goals.workback(s, actor, target_id=target_id, today=today))
    st.markdown(f"**{tr('goals.workback')}**")
    if not outcome.ok:
        st.caption(plain(outcome.message or "; ".join(outcome.field_errors.values())))
        return
    wb = outcome.value
    needs = pd.DataFrame({
        " ": [tr(f"goals.need.{k}") for k in wb["needed"]],
        tr("goals.needed"): [number(v, 1) if v is not None else "—" for v in wb["needed"].values()],
        tr("goals.per_rep_week"): [number(v, 2) if v is not None else "—" for v in wb["per_rep_per_week"].values()],
    })
    data_table(needs)
    rates = wb["rates"]
    st.caption(" · ".join([
        f"{tr('goals.avg_won_deal')} {money(rates['avg_won_deal'], compact=False) if rates['avg_won_deal'] else '—'}",
        f"{tr('goals.win_rate')} {_ratio(float(rates['win_rate'])) if rates['win_rate'] is not None else '—'}",
        f"{tr('goals.reps')} {wb['reps']}", f"{tr('goals.weeks_left')} {number(wb['weeks_left'], 1)}"]))
    conv = [f"{plain(c['from'])}→{plain(c['to'])} {_ratio(float(c['rate'])) if c['rate'] is not None else '—'}"
            for c in rates["conversions"]]
    if conv:
        st.caption(f"{tr('goals.conversion')}: " + " · ".join(conv))


# ---------------------------------------------------------------------------
# the tree: parts, mismatch, split and re-total


def _split(actor: Actor, target_id: int) -> None:
    ss = st.session_state
    weights = forms.value(SPLIT, "weights")
    if weights == "custom":
        weights = ss.get(forms.widget_key(SPLIT, "custom")) or ""
    into = forms.value(SPLIT, "into")
    done = forms.submit(SPLIT, lambda s: goals.split_target(s, actor, target_id=target_id, into=into,
                                                            weights=weights), fields=("custom",))
    if done.ok:
        forms.flash(FLASH, tr("goals.split_done", count=len(done.value)))


def _save_parts(actor: Actor, originals: dict[int, Decimal], key: str) -> None:
    edited = st.session_state.get(key) or {}
    frame_rows = edited.get("edited_rows", {}) if isinstance(edited, dict) else {}
    ids = list(originals)
    changes = {}
    for pos, values in frame_rows.items():
        if "value" in values:
            changes[ids[int(pos)]] = values["value"]
    if not changes:
        return
    retotal = bool(st.session_state.get(forms.widget_key(PARTS, "retotal")))
    shown = {i: originals[i] for i in changes}  # what this page showed: a stale change is refused
    forms.submit(PARTS, lambda s: goals.update_targets(s, actor, changes=changes, retotal_parent=retotal, shown=shown),
                 success=tr("goals.saved"))


def tree_section(actor: Actor, target_id: int, metric: str) -> None:
    tree = read(lambda s: goals.target_tree(s, actor, target_id=target_id))
    st.markdown(f"**{tr('goals.tree')}**")
    frame = pd.DataFrame({
        "period": [("\u2003" * r["depth"]) + r["period"] for r in tree],
        "holder": [r["holder"] or tr(f"goals.scope_name.{r['scope']}") for r in tree],
        "value": [float(r["value"]) for r in tree],
        "parts": [" · ".join(_value(metric, v) for v in r["parts"].values()) or "—" for r in tree],
        "mismatch": [_value(metric, r["mismatch"]) if r["mismatch"] else "" for r in tree],
    })
    editable = can_set(actor)
    forms.messages(PARTS, {f"value[{r['id']}]": " · ".join(
        x for x in (r["period"], plain(r["holder"] or tr(f"goals.scope_name.{r['scope']}")), tr("goals.value")) if x)
        for r in tree})
    key = f"{PARTS}_editor_{target_id}"
    st.data_editor(frame, key=key, hide_index=True, disabled=not editable or ["period", "holder", "parts", "mismatch"],
                   column_config={"period": tr("goals.period"), "holder": tr("goals.holder"),
                                  "value": st.column_config.NumberColumn(tr("goals.value"), format="localized"),
                                  "parts": tr("goals.parts_sum"), "mismatch": tr("goals.mismatch")},
                   width="stretch")
    if not editable:
        return
    originals = {r["id"]: r["value"] for r in tree}
    c1, c2 = st.columns([2, 1])
    c1.checkbox(tr("goals.retotal"), key=forms.widget_key(PARTS, "retotal"))
    c2.button(tr("common.save"), key=f"{PARTS}_save", on_click=_save_parts, args=(actor, originals, key))
    with st.expander(tr("goals.split")), st.form(f"{SPLIT}_form_{target_id}"):
        c1, c2, c3 = st.columns(3)
        with c1:
            choice(st.selectbox, tr("goals.split_into"), goals.split.SPLIT_INTO,
                   {k: tr(f"goals.into_name.{k}") for k in goals.split.SPLIT_INTO}, key=forms.widget_key(SPLIT, "into"),
                   default="months")
        with c2:
            kinds = ("seasonal", "equal", "capacity", "history", "custom")
            choice(st.selectbox, tr("goals.weights"), kinds, {k: tr(f"goals.weights_name.{k}") for k in kinds},
                   key=forms.widget_key(SPLIT, "weights"))
        with c3:
            st.text_input(tr("goals.custom_weights"), key=forms.widget_key(SPLIT, "custom"), placeholder="3,3,4")
        forms.messages(SPLIT, {"weights": tr("goals.weights"), "into": tr("goals.split_into"),
                               "user_ids": tr("goals.reps")})
        st.form_submit_button(tr("goals.split"), type="primary", on_click=_split, args=(actor, target_id))


# ---------------------------------------------------------------------------
# setting a target: suggestions side by side


def _holders(actor: Actor) -> tuple[dict[str, str], dict[int, str], dict[int, str]]:
    """Scopes, teams and people the actor may set targets for."""
    found = read(lambda s: goals.target_holders(s, actor))
    scopes = {"team": tr("goals.scope_name.team"), "user": tr("goals.scope_name.user")}
    if actor.role in ("director", "admin"):
        scopes = {"company": tr("goals.scope_name.company"), **scopes}
    return scopes, dict(found["teams"]), dict(found["users"])


def _create(actor: Actor, metric: str, tier: str, holder: dict[str, Any], basis: dict[str, Any] | None) -> None:
    ss = st.session_state
    kind = forms.value(NEW, "basis_kind")
    data = dict(metric=metric, tier=tier, scope=holder["scope"], team_id=holder["team_id"], user_id=holder["user_id"],
                period=holder["period"], value=to_money(ss.get(forms.widget_key(NEW, "value"))), basis_kind=kind,
                basis=(basis or {}).get(kind), basis_notes=ss.get(forms.widget_key(NEW, "notes")))
    forms.submit(NEW, lambda s: goals.create_target(s, actor, data=data), fields=("value", "notes"),
                 success=lambda row: tr("goals.created", id=row["id"]))


def _use(value: Any, kind: str) -> None:
    st.session_state[forms.widget_key(NEW, "value")] = float(value)
    st.session_state[forms.widget_key(NEW, "basis_kind")] = kind


def set_section(actor: Actor, metric: str, year: str, tier: str, today: date) -> None:
    """Holder and period → the three suggestions beside the history chart → the target form."""
    scopes, teams, people = _holders(actor)
    c1, c2, c3 = st.columns(3)
    with c1:
        scope = choice(st.selectbox, tr("goals.scope"), list(scopes), scopes, key="goals_new_scope")
    team_id = user_id = None
    with c2:
        if scope == "team" and teams:
            team_id = choice(st.selectbox, tr("goals.grid_team"), list(teams), teams, key="goals_new_team")
        elif scope == "user" and people:
            user_id = choice(st.selectbox, tr("goals.scope_name.user"), list(people), people, key="goals_new_user")
    with c3:
        period = st.text_input(tr("goals.period"), value=year, key="goals_new_period")
    m1, m2, m3 = st.columns(3)
    size = m1.text_input(tr("goals.market_size"), key="goals_market_size")
    share = m2.text_input(tr("goals.market_share"), key="goals_market_share")
    growth = m3.text_input(tr("goals.growth_rate"), key="goals_growth")
    outcome = try_read(lambda s: goals.suggest_targets(
        s, actor, metric=metric, scope=scope, team_id=team_id, user_id=user_id, period=period,
        market_size=size or None, market_share=share or None, growth_rate=growth or None, today=today))
    basis = None
    if not outcome.ok:
        show_outcome(outcome, {"period": tr("goals.period"), "market_size": tr("goals.market_size"),
                               "market_share": tr("goals.market_share"), "growth_rate": tr("goals.growth_rate")})
    else:
        basis = suggestions(outcome.value, metric)
    holder = dict(scope=scope, team_id=team_id, user_id=user_id, period=period)
    forms.messages(NEW, {"value": tr("goals.value"), "period": tr("goals.period"), "scope": tr("goals.scope")},
                   fields=("value",))
    with st.form(f"{NEW}_form"):
        st.markdown(f"**{tr('goals.new_target')}**")
        c1, c2 = st.columns(2)
        with c1:
            st.number_input(tr("goals.value"), value=None, step=1000.0, format="%.2f",
                            key=forms.widget_key(NEW, "value"))
            forms.field_error(NEW, "value")
        with c2:
            kinds = ("history", "market", "capacity", "blend", "manual")
            choice(st.selectbox, tr("goals.basis"), kinds, {k: tr(f"goals.{k}") for k in kinds},
                   key=forms.widget_key(NEW, "basis_kind"), default="manual")
        st.text_area(tr("goals.basis_notes"), key=forms.widget_key(NEW, "notes"), max_chars=5000, height=80)
        st.form_submit_button(tr("goals.new_target"), type="primary", on_click=_create,
                              args=(actor, metric, tier, holder, basis))


def _market_basis(metric: str, sug: dict[str, Any]) -> str:
    """How the market suggestion was reached, in words: size × share, or last year × growth."""
    if sug.get("method") == "size_share":
        return (f"{tr('goals.market_size')} {money(sug['market_size'], compact=False)} × "
                f"{percent(sug['market_share'])}")
    return f"{tr('goals.last_year')} {_value(metric, sug['last_year'])} × (1 + {percent(sug['growth_rate'])})"


def suggestions(out: dict[str, Any], metric: str) -> dict[str, Any]:
    """The three suggestions in columns (value, how, "use this"), the history chart under them."""
    cols = st.columns(4)
    for col, kind in zip(cols, ("history", "market", "capacity", "blend"), strict=True):
        sug = out[kind]
        with col, st.container(border=True):
            st.markdown(f"**{tr(f'goals.{kind}')}**")
            if sug["value"] is None:
                st.caption(tr("goals.no_value", reason=tr(f"goals.reason.{sug.get('reason', 'needs_inputs')}")))
                continue
            st.metric(tr("goals.value"), _value(metric, sug["value"]))
            if kind == "history":
                st.caption(f"{tr('goals.years')}: " + " · ".join(_value(metric, y["value"]) for y in sug["years"]))
            elif kind == "blend":
                st.caption(" + ".join(tr(f"goals.{k}") for k in sug["of"]))
            elif kind == "market":
                st.caption(_market_basis(metric, sug))
            else:
                st.caption(" · ".join(f"{plain(r['name'])}{' (' + tr('goals.new') + ')' if r['new'] else ''} "
                                      f"{_value(metric, r['value'])}" for r in sug["reps"]))
            st.button(tr("goals.use_suggestion"), key=f"goals_use_{kind}", on_click=_use, args=(sug["value"], kind))
    monthly = out["history"].get("monthly") or []
    if monthly:
        frame = pd.DataFrame({"month": [m["month"] for m in monthly], "won_amount": [float(m["value"]) for m in monthly]})
        st.altair_chart(charts.trend_chart(frame, target=None, amount_label=tr("goals.actual"),
                                           title=tr("goals.trend"), locale=current_locale()), width="stretch")
    return {k: {x: y for x, y in out[k].items() if x not in ("monthly",)}
            for k in ("history", "market", "capacity", "blend")}


# ---------------------------------------------------------------------------
# the reps × months grid


ROW_PX, HEADER_PX = 32, 36


def grid_section(actor: Actor, metric: str, year: str, tier: str) -> None:
    """The team's year in one grid with row and column totals; save, XLSX out and in."""
    from st_aggrid import AgGrid

    from dashboard import grid as aggrid
    from services.exporting import dataframe_to_xlsx
    from services.importing.target_grid import grid_frame, read_target_grid

    _, teams, _ = _holders(actor)
    if not teams:
        st.info(tr("goals.no_targets"))
        return
    team_id = choice(st.selectbox, tr("goals.grid_team"), list(teams), teams, key="goals_grid_team")
    outcome = try_read(lambda s: goals.team_grid(s, actor, team_id=team_id, year=year, metric=metric, tier=tier))
    if not outcome.ok:
        show_outcome(outcome)
        return
    data = outcome.value
    forms.messages(GRID, {"value": tr("goals.value"), **{
        f"value[{r['user_id']}][{i + 1}]": f"{plain(r['name'])} · {m}"
        for r in data["rows"] for i, m in enumerate(data["months"])}})
    frame = grid_frame(data)
    st.caption(f"{tr('goals.grid')} · {tr('goals.value')}: {_value(metric, data['team_target'])} · "
               f"{tr('goals.grid_total')}: {_value(metric, data['total'])}")
    prefilled = [r["name"] for r in data["rows"] if r["prefilled"]]
    if prefilled:
        st.caption(tr("goals.grid_prefilled", names=", ".join(plain(n) for n in prefilled)))
    body, totals = frame.iloc[:-1].copy(), frame.iloc[-1:].copy()
    columns = [aggrid.text_column("Name", tr("goals.holder"), width=140, pinned="left"),
               *[aggrid.number_column(m, m, editable=True, width=96) for m in data["months"]],
               aggrid.number_column("Total", tr("goals.grid_total"), editable=False, width=110)]
    opts = aggrid.grid_options(columns, selectable=False, locale=current_locale(), row_height=ROW_PX)
    opts["headerHeight"] = HEADER_PX
    totals["Name"] = tr("goals.grid_total")  # the pinned row says what it is
    opts["pinnedBottomRowData"] = aggrid._plain(totals.fillna(0).to_dict("records"))
    generation = st.session_state.get("goals_grid_gen", 0)
    # header, the reps, the totals row and the horizontal scroll bar: no empty band
    response = AgGrid(body, gridOptions=opts, height=min(HEADER_PX + ROW_PX * (len(body) + 1) + 10, 480),
                      key=aggrid.grid_key(f"goals_grid_{team_id}_{year}_{metric}_{tier}", generation),
                      **aggrid.GRID_KWARGS)
    edited = response.data if response is not None and isinstance(response.data, pd.DataFrame) else body
    cells = {r["user_id"]: [aggrid.clean_cell(edited.iloc[i][m]) if m in edited else None for m in data["months"]]
             for i, r in enumerate(data["rows"])}
    retotal = st.checkbox(tr("goals.retotal"), key="goals_grid_retotal")
    c1, c2, _ = st.columns([1, 2, 2])
    if c1.button(tr("common.save"), key="goals_grid_save", type="primary"):
        shown = {r["user_id"]: r["values"] for r in data["rows"]}  # what this page showed: a stale save is refused
        done = forms.submit(GRID, lambda s: goals.save_team_grid(s, actor, team_id=team_id, year=year, cells=cells,
                                                                 metric=metric, tier=tier, retotal_parent=retotal,
                                                                 shown=shown))
        if done.ok:
            forms.flash(GRID, tr("goals.grid_saved", count=done.value["written"]))
            st.session_state["goals_grid_gen"] = generation + 1
        st.rerun()
    # the workbook is written when the button is clicked, not on every run of the page (~100 ms)
    c2.download_button(tr("goals.export_grid"), lambda: dataframe_to_xlsx(frame, sheet_name=year),
                       file_name=f"targets-{year}.xlsx", key="goals_grid_export",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    upload = st.file_uploader(tr("goals.import_grid"), type=["xlsx"], key=f"goals_grid_upload_{generation}")
    if upload is not None:
        reps = {r["username"]: r["user_id"] for r in data["rows"]}
        done = forms.submit(GRID, lambda s: goals.save_team_grid(
            s, actor, team_id=team_id, year=year, metric=metric, tier=tier, retotal_parent=retotal,
            cells=read_target_grid(upload.getvalue(), months=data["months"], reps=reps, locale=actor.locale)))
        if done.ok:
            forms.flash(GRID, tr("goals.grid_saved", count=done.value["written"]))
            st.session_state["goals_grid_gen"] = generation + 1
            st.rerun()
