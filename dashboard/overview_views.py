"""Drawing and cached loading for the Overview page (pages/overview.py).

Loaders are ``st.cache_data`` functions keyed on (actor, period, scope, today, data
version): a write anywhere bumps the version and the Overview refreshes on its next run.
They return plain dataclasses / DataFrames from services.analytics, never ORM rows. The
database URL is part of the key too (one process may serve several databases, e.g. tests).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboard import charts
from dashboard.i18n import current_locale, money, number, percent, tr
from dashboard.state import data_version, db_key, get_engine
from services import analytics
from services.access import Actor
from services.db import read_scope
from services.periods import Period, last_months

TREND_MONTHS = 12


@st.cache_data(ttl=300, show_spinner=False)
def _kpis(db: str, actor: Actor, period: Period, scope: str, today: date, version: int) -> analytics.OverviewKPIs:
    with read_scope(get_engine()) as s:
        return analytics.overview_kpis(s, actor, period=period, scope=scope, today=today)


@st.cache_data(ttl=300, show_spinner=False)
def _trend(db: str, actor: Actor, scope: str, today: date, version: int) -> pd.DataFrame:
    window = last_months(today, TREND_MONTHS)
    with read_scope(get_engine()) as s:
        return analytics.monthly_won_trend(s, actor, start=window.start, end=window.end, scope=scope)


@st.cache_data(ttl=300, show_spinner=False)
def _pipeline(db: str, actor: Actor, scope: str, version: int) -> pd.DataFrame:
    with read_scope(get_engine()) as s:
        return analytics.pipeline_by_stage(s, actor, scope=scope)


def load_kpis(actor: Actor, period: Period, scope: str, today: date) -> analytics.OverviewKPIs:
    return _kpis(db_key(), actor, period, scope, today, data_version())


def load_trend(actor: Actor, scope: str, today: date) -> pd.DataFrame:
    return _trend(db_key(), actor, scope, today, data_version())


def load_pipeline(actor: Actor, scope: str) -> pd.DataFrame:
    return _pipeline(db_key(), actor, scope, data_version())


def getting_started(actor: Actor) -> None:
    """On a new company's Overview, tell the admin what to do next: add teams and users,
    import customers, or load the demo company."""
    from dashboard.runner import read
    from services import users

    have = read(lambda s: users.getting_started(s, actor))
    if not have or all(have.values()):
        return
    with st.container(border=True):
        st.markdown(f"**{tr('overview.start_title')}**")
        steps = [("teams", "pages/admin.py", "overview.start_teams"), ("users", "pages/admin.py", "overview.start_users"),
                 ("customers", "pages/import_export.py", "overview.start_import")]
        for what, target, label in steps:
            if not have[what]:
                try:
                    st.page_link(target, label=tr(label), icon=":material/arrow_forward:")
                except StreamlitAPIException:  # the page is not registered (e.g. run on its own)
                    st.markdown(f"- {tr(label)}")
        st.caption(tr("overview.start_demo"))


def kpi_cards(k: analytics.OverviewKPIs) -> None:
    """Two rows of metric cards: results (won, target, win rate, won/lost) and work
    (pipeline, weighted pipeline, activities, overdue follow-ups)."""
    row1 = st.columns(4)
    row1[0].metric(tr("overview.won_amount"), money(k.won_amount), border=True, help=tr("overview.help_won"))
    row1[1].metric(
        tr("overview.target"),
        money(k.target_amount) if k.target_amount is not None else tr("overview.no_target"),
        delta=tr("overview.attainment", pct=percent(k.attainment)) if k.attainment is not None else None,
        delta_color="normal" if (k.attainment or 0) >= 1 else "off",
        delta_arrow="off",
        border=True,
        help=tr("overview.help_target"),
    )
    row1[2].metric(tr("overview.win_rate"), percent(k.win_rate), border=True, help=tr("overview.help_win_rate"))
    row1[3].metric(
        tr("overview.won_lost"),
        f"{number(k.won_count)} / {number(k.lost_count)}",
        border=True,
        help=tr("overview.help_won_lost"),
    )
    row2 = st.columns(4)
    row2[0].metric(
        tr("overview.open_pipeline"),
        money(k.open_pipeline),
        delta=tr("overview.deal_count", n=number(k.open_deal_count)),
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=tr("overview.help_pipeline"),
    )
    row2[1].metric(tr("overview.weighted_pipeline"), money(k.weighted_pipeline), border=True,
                   help=tr("overview.help_weighted"))
    row2[2].metric(tr("overview.activities_done"), number(k.activities_done), border=True,
                   help=tr("overview.help_activities"))
    row2[3].metric(
        tr("overview.overdue"),
        number(k.overdue_followups),
        delta=tr("overview.overdue_split", activities=number(k.overdue_activities), customers=number(k.overdue_customers)),
        delta_color="inverse" if k.overdue_followups else "off",
        delta_arrow="off",
        border=True,
        help=tr("overview.help_overdue"),
    )


def target_bullet(k: analytics.OverviewKPIs) -> None:
    """Won vs target as a bullet bar (only when the scope has a target)."""
    if k.target_amount is None:
        return
    chart = charts.bullet_chart(
        float(k.won_amount), float(k.target_amount), label=tr("overview.won_amount"),
        actual_label=tr("charts.won"), target_label=tr("charts.target"), locale=current_locale(),
    )
    st.altair_chart(chart, width="stretch")


def trend_section(df: pd.DataFrame) -> None:
    st.subheader(tr("overview.trend_title", n=TREND_MONTHS))
    if df["won_count"].sum() == 0 and df["target_amount"].isna().all():
        st.info(tr("overview.no_data"))
        return
    chart = charts.trend_chart(
        df, amount_label=tr("charts.won"), target_label=tr("charts.target"),
        month_title=tr("charts.month"), value_title=tr("charts.amount"), locale=current_locale(),
    )
    st.altair_chart(chart, width="stretch")


def pipeline_section(df: pd.DataFrame) -> None:
    st.subheader(tr("overview.pipeline_title"))
    if df.empty or df["count"].sum() == 0:
        st.info(tr("overview.no_data"))
        return
    shown = df.assign(label=[tr("overview.pipeline_bar", stage=stage, amount=money(amount), n=number(n))
                             for stage, amount, n in zip(df["stage"], df["amount"], df["count"], strict=True)])
    chart = charts.funnel_chart(
        shown, label="label", value_title=tr("charts.amount"), count_title=tr("charts.deals"),
        stage_title=tr("charts.stage"),
    )
    st.altair_chart(chart, width="stretch")
