"""Drawing and cached loading for the Performance page (pages/performance.py): KPI cards with
their formulas, 同比 / 环比, the rows behind a number, target vs actual, leaderboards, the
forecast and slippage, findings and the review."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.analytics_widgets import NO_VALUE, ratio_text
from dashboard.i18n import choose_placeholder, current_locale, money, number, percent, tr
from dashboard.runner import read, run_service, show_outcome
from dashboard.state import data_version, db_key, get_engine
from dashboard.widgets import choice, data_table, date_field
from services.access import Actor
from services.analytics.filters import DealFilter
from services.analytics.findings import findings
from services.analytics.forecast import close_date_slippage, forecast, forecast_accuracy
from services.analytics.funnel import stage_conversions
from services.analytics.kpis import DRILLABLE, KPIS, LOWER_IS_BETTER, kpi_comparison, kpi_rows
from services.analytics.leaderboard import METRICS, leaderboard, target_vs_actual
from services.db import read_scope
from services.periods import Period

MONEY_KPIS = ("won_revenue", "collections", "avg_won_deal", "cac", "clv")
RATIO_KPIS = ("win_rate", "retention_rate", "churn_rate")


#: What the page reads, each once per data version and then from the cache (every click in
#: the review form or the drill-down's picker reruns the page): the KPIs with 环比 / 同比,
#: the cohort's stage conversions (the strip, and the weakest-stage finding), the findings,
#: and one entry per lazy tab.
READS = ("kpis", "conversions", "findings", "targets", "ranking", "forecast")


@st.cache_data(ttl=300, show_spinner=False)
def _read(db: str, name: str, actor: Actor, period: Period, flt: DealFilter, version: int):
    conversions = load("conversions", actor, period, flt) if name == "findings" else None
    with read_scope(get_engine()) as s:
        if name == "kpis":
            return kpi_comparison(s, actor, period=period, flt=flt)
        if name == "conversions":
            return stage_conversions(s, actor, period=period, flt=flt)
        if name == "findings":
            return findings(s, actor, period=period, flt=flt, conversions=conversions)
        if name == "targets":
            return {"targets": target_vs_actual(s, actor, period=period, flt=flt)}
        if name == "ranking":
            return {"leaderboards": {m: leaderboard(s, actor, period=period, metric=m, flt=flt) for m in METRICS}}
        if name == "forecast":
            return {"forecast": forecast(s, actor, months=3, flt=flt),
                    "accuracy": forecast_accuracy(s, actor, period=period),
                    "slippage": close_date_slippage(s, actor, period=period, flt=flt)}
    raise ValueError(f"unknown read {name!r}")


def load(name: str, actor: Actor, period: Period, flt: DealFilter):
    """One of ``READS`` for the actor, period and filter (cached per data version)."""
    return _read(db_key(), name, actor, period, flt, data_version())


def kpi_value(key: str, value) -> str:
    """A KPI as shown on its card ("–" when it has no value)."""
    if value is None:
        return NO_VALUE
    if key in MONEY_KPIS:
        return money(value)
    if key in RATIO_KPIS:
        return percent(value)
    if isinstance(value, float):
        return number(value, 2 if value < 10 else 1)
    return number(value)


def mom_delta(mom: float | None, locale: str | None = None) -> str | None:
    """The card's 环比 text, starting with the signed percentage: Streamlit draws the arrow
    (and its colour) from the first character of the delta."""
    from services.i18n import format_percent, t

    loc = locale or current_locale()
    return None if mom is None else t("analytics.mom", loc, pct=format_percent(mom, loc))


def kpi_cards(cmp: dict) -> None:
    """Four cards a row; the delta is 环比 (green when better, red when worse — reversed for
    costs and cycle times; the text starts with the signed percentage, which is how Streamlit
    picks the arrow), the caption 同比; the help is the KPI's formula."""
    st.subheader(tr("analytics.kpis"))
    keys = list(KPIS)
    for start in range(0, len(keys), 4):
        cols = st.columns(4)
        for col, key in zip(cols, keys[start:start + 4], strict=False):
            card = cmp["cards"][key]
            help_key = "help_kpi_win_rate" if key == "win_rate" else f"help_{key}"
            mom = card["mom"]
            col.metric(tr(f"analytics.kpi_{key}"), kpi_value(key, card["value"]),
                       delta=mom_delta(mom),
                       # no change: no arrow and no colour (an up arrow on 0.0 % read as a rise)
                       delta_color="off" if mom == 0 else "inverse" if key in LOWER_IS_BETTER else "normal",
                       delta_arrow="off" if mom == 0 else "auto",
                       border=True, help=tr(f"analytics.{help_key}"))
            col.caption(tr("analytics.yoy", pct=NO_VALUE if card["yoy"] is None else
                           ("▲ " if card["yoy"] > 0 else "▼ " if card["yoy"] < 0 else "") + percent(card["yoy"])))


def stage_conversion(actor: Actor, period: Period, flt: DealFilter) -> None:
    """Stage conversion of the deals opened in the period (the Funnel page's numbers, from
    ``stage_conversions``: the funnel's tally without its amounts, days and cohorts)."""
    rep = load("conversions", actor, period, flt)
    rows = rep.stages
    if not rows:
        return
    # what the strip measures said once above it: the stage names alone fit as labels
    st.markdown(f"**{tr('analytics.strip_title')}**")
    cols = st.columns(len(rows) + 1)
    for col, r in zip(cols, rows, strict=False):
        col.metric(r["stage"], ratio_text(r["conversion_next"]), help=tr("analytics.help_conversion"))
    cols[-1].metric(tr("analytics.cohort_win_rate"), ratio_text(rep.win_rate), help=tr("analytics.help_win_rate"))


def drill_down(actor: Actor, period: Period, flt: DealFilter) -> None:
    """The rows behind a KPI, read only while the expander is open (opening it reruns)."""
    with st.expander(tr("analytics.drill"), key="perf_drill_open", on_change="rerun") as box:
        if not box.open:
            return
        key = choice(st.selectbox, tr("analytics.drill_pick"), DRILLABLE,
                     {k: tr(f"analytics.kpi_{k}") for k in DRILLABLE}, key="perf_drill")
        rows = read(lambda s: kpi_rows(s, actor, kpi=key, period=period, flt=flt))
        frame = pd.DataFrame(rows)
        for col in frame.columns:
            if frame[col].map(lambda v: isinstance(v, Decimal)).any():
                frame[col] = frame[col].map(money)
        if "kind" in frame:  # an activity's kind in the reader's language
            from dashboard.activity_views import kind_label

            frame["kind"] = frame["kind"].map(kind_label)
        data_table(frame.rename(columns={c: tr(f"analytics.drill_col.{c}") for c in frame.columns}))


def targets_section(actor: Actor, period: Period, flt: DealFilter) -> None:
    rows = [r for r in load("targets", actor, period, flt)["targets"] if r["target"]]
    if not rows:
        st.caption(tr("analytics.no_targets"))
        return
    # one chart for the teams, one for the reps (each on its own money axis): a chart per
    # rep meant 60 charts to build for a director
    cols = st.columns(2)
    for col, kind in zip(cols, ("team", "rep"), strict=True):
        part = [(str(r["name"]), float(r["won"]), float(r["target"])) for r in rows if r["kind"] == kind]
        if part:
            col.altair_chart(charts.bullet_rows(part, actual_label=tr("charts.won"), target_label=tr("charts.target"),
                                                locale=current_locale()), width="stretch")


def leaderboards(actor: Actor, period: Period, flt: DealFilter) -> None:
    boards = load("ranking", actor, period, flt)["leaderboards"]
    tabs = st.tabs([tr(f"analytics.metric_{m}") for m in METRICS])
    for tab, metric in zip(tabs, METRICS, strict=True):
        with tab:
            rows = boards[metric]
            shown = [{tr("analytics.col_rank"): r["rank"], tr("analytics.col_name"): r["name"],
                      tr("analytics.col_team"): r["team"],
                      tr("analytics.col_value"): (ratio_text(r["value"]) if metric == "win_rate" else
                                                  money(r["value"]) if metric in ("revenue", "collections")
                                                  else number(r["value"]))} for r in rows]
            data_table(pd.DataFrame(shown))


def forecast_section(actor: Actor, flt: DealFilter, period: Period) -> None:
    sections = load("forecast", actor, period, flt)
    rows = sections["forecast"]
    data_table(pd.DataFrame([{tr("analytics.col_close_month"): r["month"].strftime("%Y-%m"),
                              tr("analytics.col_open_count"): r["open_count"],
                              **{tr(f"analytics.col_{k}"): money(r[k]) for k in
                                 ("pipeline", "weighted", "won", "commit", "best_case", "target")}} for r in rows]))
    acc = sections["accuracy"]
    if acc:
        st.markdown(f"**{tr('analytics.accuracy')}**")
        data_table(pd.DataFrame([{tr("analytics.col_name"): r["name"], tr("analytics.col_forecast_month"): r["month"].strftime("%Y-%m"),
                                  tr("analytics.col_forecast"): money(r["forecast"]), tr("analytics.col_won"): money(r["won"]),
                                  tr("analytics.col_accuracy"): ratio_text(r["accuracy"])} for r in acc]))
    slip = sections["slippage"]
    if slip:
        st.markdown(f"**{tr('analytics.slippage')}**")
        data_table(pd.DataFrame([{tr("analytics.col_name"): r["name"], tr("analytics.col_moves"): r["moves"],
                                  tr("analytics.col_moved_deals"): r["deals"],
                                  tr("analytics.col_moved_days"): r["avg_days"],
                                  tr("analytics.col_pulled_in"): r["pulled_in"]} for r in slip]))


def _review_scope(actor: Actor) -> dict | None:
    if actor.sees_all:
        return {"scope": "company"}
    if actor.role == "manager" and actor.team_id is not None:
        return {"scope": "team", "team_id": actor.team_id}
    return None


def review_section(actor: Actor, period: Period, flt: DealFilter) -> None:
    """Findings of the period and, for managers and directors, the review form: chosen and
    written findings, one new action item, and the check-off of earlier open actions."""
    from services.analytics.filters import filter_choices
    from services.reviews import actions_to_check, create_review

    loc = current_locale()
    found = load("findings", actor, period, flt)
    texts = [f["text"].get(loc) or f["text"]["en"] for f in found]
    st.markdown(f"**{tr('analytics.findings')}**")
    if texts:
        st.markdown("\n".join(f"- {t}" for t in texts))
    else:
        st.caption(tr("analytics.no_findings"))
    scope = _review_scope(actor)
    if scope is None:
        return
    pending = read(lambda s: actions_to_check(s, actor, **scope))
    owners = read(lambda s: filter_choices(s, actor))["reps"]
    with st.form("review_form"):
        chosen_texts = st.multiselect(tr("analytics.review_findings"), texts, default=texts, key="review_findings",
                                      placeholder=choose_placeholder(texts, many=True))
        own = st.text_area(tr("analytics.review_own"), key="review_own", max_chars=2000)
        c1, c2, c3 = st.columns([3, 2, 1])
        title = c1.text_input(tr("analytics.review_action"), key="review_action_title", max_chars=200)
        owner_ids = [i for i, _ in owners]
        with c2:
            owner = choice(st.selectbox, tr("analytics.review_owner"), owner_ids, dict(owners), key="review_owner")
        with c3:
            due = date_field(tr("analytics.review_due"), "review_due", value=period.end + timedelta(days=6))
        done = st.multiselect(tr("analytics.review_check_off"), [a.id for a in pending],
                              format_func={a.id: f"{a.title} · {a.owner}" for a in pending}.__getitem__,
                              key="review_done", placeholder=choose_placeholder(pending, many=True))
        submitted = st.form_submit_button(tr("analytics.review_save"), type="primary")
    st.caption(tr("analytics.review_scope_note"))
    if submitted:
        actions = [{"title": title, "owner_id": owner, "due_on": due}] if title and title.strip() else []
        outcome = run_service(lambda s: create_review(
            s, actor, period_start=period.start, period_end=period.end, findings=[*chosen_texts, own], actions=actions,
            check_off={i: "done" for i in done}, **scope))
        show_outcome(outcome, {"title": tr("analytics.review_action"), "owner_id": tr("analytics.review_owner")},
                     success=tr("analytics.review_saved"))
