"""Drawing and cached loading for the Funnel page (pages/funnel.py)."""

from __future__ import annotations

import contextlib

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.analytics_widgets import png_download, ratio_text
from dashboard.i18n import money, number, tr
from dashboard.state import data_version, db_key, get_engine
from dashboard.widgets import choice, data_table
from services.access import Actor
from services.analytics.filters import DealFilter
from services.analytics.funnel import FunnelReport, bottleneck, funnel, stage_deals
from services.db import read_scope
from services.periods import Period


@st.cache_data(ttl=300, show_spinner=False)
def _funnel(db: str, actor: Actor, period: Period, mode: str, flt: DealFilter, version: int) -> FunnelReport:
    with read_scope(get_engine()) as s:
        return funnel(s, actor, period=period, mode=mode, flt=flt)


def load_funnel(actor: Actor, period: Period, mode: str, flt: DealFilter) -> FunnelReport:
    return _funnel(db_key(), actor, period, mode, flt, data_version())


def mode_picker(key: str) -> str:
    modes = ("cohort", "pipeline")
    return choice(st.radio, tr("analytics.funnel_mode"), modes, {m: tr(f"analytics.funnel_mode_{m}") for m in modes},
                  key=f"{key}_mode", horizontal=True)


def summary_cards(rep: FunnelReport) -> None:
    cols = st.columns(4)
    cols[0].metric(tr("analytics.deals"), number(rep.deals), border=True, help=tr("analytics.help_deals"))
    cols[1].metric(tr("analytics.won"), number(rep.won), delta=money(rep.won_amount), delta_color="off",
                   delta_arrow="off", border=True)
    cols[2].metric(tr("analytics.lost"), number(rep.lost), border=True)
    cols[3].metric(tr("analytics.win_rate"), ratio_text(rep.win_rate), border=True, help=tr("analytics.help_win_rate"))


def bottleneck_line(actor: Actor, period: Period, flt: DealFilter, rep: FunnelReport) -> None:
    baseline = None
    if flt.owner_id is not None:
        baseline = DealFilter(scope=flt.scope)
    with read_scope(get_engine()) as s:
        worst = bottleneck(s, actor, period=period, flt=flt, baseline=baseline, report=rep)
    if worst and worst["gap"] > 0:
        st.info(tr("analytics.bottleneck", stage=worst["stage"], conversion=ratio_text(worst["conversion"]),
                   baseline=ratio_text(worst["baseline"]),
                   against=tr(f"analytics.bottleneck_{worst['against']}")), icon=":material/warning:")


def stage_frame(rep: FunnelReport) -> pd.DataFrame:
    return pd.DataFrame([{
        tr("analytics.col_stage"): r["stage"], tr("analytics.col_reached"): r["reached"],
        tr("analytics.col_amount"): money(r["amount"]), tr("analytics.col_without_amount"): r["without_amount"],
        tr("analytics.col_conversion"): ratio_text(r["conversion_next"]) if r["kind"] == "open" else "",
        tr("analytics.col_lost_at"): r["lost_at"], tr("analytics.col_avg_days"): r["avg_days"],
        tr("analytics.col_median_days"): r["median_days"],
        tr("analytics.col_in_stage_now"): r["in_stage_now"] if r["kind"] == "open" else None,
    } for r in rep.stages])


def funnel_chart_section(rep: FunnelReport) -> None:
    st.subheader(tr("analytics.funnel_chart"))
    df = pd.DataFrame([{"stage": r["stage"], "count": r["reached"], "amount": float(r["amount"]), "sequence": i,
                        "label": tr("analytics.funnel_bar", stage=r["stage"], n=r["reached"], amount=money(r["amount"]))}
                       for i, r in enumerate(rep.stages)])
    if df.empty or df["count"].sum() == 0:
        st.caption(tr("overview.no_data"))
        return
    chart = charts.funnel_chart(df, value="count", label="label", stage_title="", value_title=tr("analytics.deals"))
    st.altair_chart(chart, width="stretch")
    png_download(chart, "funnel", "funnel_png")


def tables(rep: FunnelReport) -> None:
    st.subheader(tr("analytics.stage_table"))
    data_table(stage_frame(rep))
    st.caption(tr("analytics.stage_days_note"))
    if rep.leakage:
        st.subheader(tr("analytics.leakage"))
        data_table(pd.DataFrame([{tr("analytics.col_stage"): r["stage"], tr("analytics.col_reason"): r["lost_reason"],
                                  tr("analytics.deals"): r["deals"], tr("analytics.col_amount"): money(r["amount"])}
                                 for r in rep.leakage]))
    if rep.cohorts:
        st.subheader(tr("analytics.cohorts"))
        rows = []
        for c in rep.cohorts:
            row = {tr("analytics.col_month"): c["month"].strftime("%Y-%m"), tr("analytics.deals"): c["deals"]}
            for n in (30, 60, 90):
                row[f"{n}d"] = f"{c[f'won_{n}']} / {c[f'lost_{n}']} / {c[f'open_{n}']}"
            rows.append(row)
        data_table(pd.DataFrame(rows))


def stage_deals_section(actor: Actor, period: Period, mode: str, flt: DealFilter, rep: FunnelReport) -> None:
    st.subheader(tr("analytics.stage_deals"))
    ids = [r["stage_id"] for r in rep.stages]
    if not ids:
        return
    sid = choice(st.selectbox, tr("analytics.pick_stage"), ids, {r["stage_id"]: r["stage"] for r in rep.stages},
                 key="funnel_stage")
    with read_scope(get_engine()) as s:
        rows = stage_deals(s, actor, period=period, stage_id=sid, mode=mode, flt=flt)
    data_table(pd.DataFrame([{"#": d["id"], tr("analytics.meeting_deal"): d["name"],
                              tr("analytics.meeting_owner"): d["owner"], tr("analytics.col_amount"): money(d["amount"]),
                              tr("analytics.col_stage"): d["stage"],
                              tr("analytics.meeting_expected_close"): d["expected_close"]} for d in rows]))
    with contextlib.suppress(Exception):  # run on its own (tests), the page is not registered
        st.page_link("pages/deals.py", label=tr("analytics.open_deals_page"), icon=":material/arrow_forward:")
