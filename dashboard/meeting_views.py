"""Drawing for the Weekly meeting page (pages/meeting.py): a screen for screen-sharing at
1280×720 — large type, colours from the theme (readable light and dark), a presenter mode
that hides the sidebar and steps through the sections, the PDF and chart PNG downloads."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.analytics_widgets import png_download, ratio_text
from dashboard.i18n import current_locale, money, number, tr
from dashboard.state import data_version, db_key, get_engine
from dashboard.widgets import data_table
from services.access import Actor
from services.analytics.funnel import stage_now
from services.analytics.meeting import meeting_report, week_of
from services.db import read_scope
from services.periods import Period

SECTIONS = ("numbers", "funnel", "top_deals", "won", "lost", "overdue", "actions", "leaderboard")
STEP = "meeting_step"


@st.cache_data(ttl=300, show_spinner=False)
def _report(db: str, actor: Actor, week: Period, version: int) -> dict:
    with read_scope(get_engine()) as s:
        return meeting_report(s, actor, week=week)


def load_report(actor: Actor, week: Period) -> dict:
    return _report(db_key(), actor, week, data_version())


def week_picker(today: date) -> Period:
    day = st.date_input(tr("analytics.meeting_week"), value=today, key="meeting_day", format="YYYY-MM-DD")
    monday = (day or today) - timedelta(days=(day or today).weekday())
    week = Period(monday, monday + timedelta(days=7), "week")
    st.caption(f"{week_of(monday)} · {week.start.isoformat()} – {week.last_day.isoformat()}")
    return week


def large_type(presenter: bool) -> None:
    """Bigger type for a shared screen; in presenter mode no sidebar and no page header.
    Fixed rules only (no data), colours left to the theme so light and dark both read."""
    hide = """
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] { display: none; }
.block-container { padding-top: 1rem; }""" if presenter else ""
    st.html(f"""<style>
[data-testid="stMetricValue"] {{ font-size: 2.1rem; }}
[data-testid="stMetricLabel"] p {{ font-size: 1.05rem; }}
.stMarkdown p, .stMarkdown li {{ font-size: 1.1rem; }}
{hide}
</style>""")


def _step(delta: int) -> None:
    st.session_state[STEP] = (st.session_state.get(STEP, 0) + delta) % len(SECTIONS)


def presenter_nav() -> list[str]:
    """In presenter mode the one section to show, with back / next; else every section."""
    index = st.session_state.get(STEP, 0) % len(SECTIONS)
    cols = st.columns([1, 6, 1])
    cols[0].button(tr("analytics.presenter_prev"), on_click=_step, args=(-1,), key="meeting_prev",
                   icon=":material/arrow_back:")
    cols[1].markdown(f"**{index + 1} / {len(SECTIONS)} · {tr(f'analytics.meeting_section_{SECTIONS[index]}')}**")
    cols[2].button(tr("analytics.presenter_next"), on_click=_step, args=(1,), key="meeting_next",
                   icon=":material/arrow_forward:")
    return [SECTIONS[index]]


def _table(frame: pd.DataFrame) -> None:
    """A section's rows; "None" when it has none (as the PDF says)."""
    data_table(frame, empty=tr("analytics.meeting_none"))


def _deals_frame(items: list[dict], closed: bool) -> pd.DataFrame:
    return pd.DataFrame([{tr("analytics.meeting_deal"): d["deal"], tr("analytics.meeting_customer"): d["customer"],
                          tr("analytics.meeting_owner"): d["owner"],
                          tr("analytics.meeting_stage"): (d["lost_reason"] or d["stage"]) if closed else d["stage"],
                          tr("analytics.meeting_amount"): money(d["amount"]),
                          (tr("analytics.meeting_closed_on") if closed else tr("analytics.meeting_expected_close")):
                              d["closed_on"] if closed else d["expected_close"]} for d in items])


def section(name: str, rep: dict) -> None:
    st.subheader(tr(f"analytics.meeting_section_{name}"))
    if name == "numbers":
        n = rep["numbers"]
        # money in two wide cards, counts in three: at 1280 px five cards in a row cut the
        # amounts ("¥56.3…") at the meeting's large type
        cols = [*st.columns(2), *st.columns(3)]
        for col, metric in zip(cols, ("contract_amount", "collections", "won_deals", "activities", "new_customers"),
                               strict=True):
            v = n[metric]
            show = money if metric in ("contract_amount", "collections") else number
            delta = v["this_week"] - v["last_week"]
            col.metric(tr(f"analytics.meeting_metric_{metric}"), show(v["this_week"]),
                       delta=show(delta) if delta else None, border=True,
                       help=f"{tr('analytics.meeting_last_week')}: {show(v['last_week'])}")
        target = n["contract_amount"].get("target")
        if target:
            st.altair_chart(charts.bullet_chart(float(n["contract_amount"]["this_week"]), float(target),
                                                label=tr("analytics.meeting_metric_contract_amount"),
                                                actual_label=tr("charts.won"), target_label=tr("charts.target"),
                                                locale=current_locale()), width="stretch")
    elif name == "funnel":
        fun = rep["funnel"]
        # the open stages as they stand now: the deals in each and their amount
        now = [(i, r, *stage_now(r)) for i, r in enumerate(fun.stages) if r["kind"] == "open"]
        df = pd.DataFrame([{"stage": r["stage"], "count": n, "amount": float(amount), "sequence": i,
                            "label": tr("analytics.funnel_bar", stage=r["stage"], n=n, amount=money(amount))}
                           for i, r, n, amount in now])
        if not df.empty and df["count"].sum():
            chart = charts.funnel_chart(df, value="count", label="label", value_title=tr("analytics.deals"))
            st.altair_chart(chart, width="stretch")
            png_download(chart, "meeting-funnel", "meeting_funnel_png")
        wr = rep["win_rate"]
        st.caption(tr("analytics.meeting_win_rate", rate=ratio_text(wr["value"]), won=wr["won"], lost=wr["lost"]))
    elif name in ("top_deals", "won", "lost"):
        _table(_deals_frame(rep[name], closed=name != "top_deals"))
    elif name == "overdue":
        od = rep["overdue"]
        st.markdown(tr("analytics.meeting_overdue_total", count=od["count"], amount=money(od["remaining"])))
        _table(pd.DataFrame([{tr("analytics.meeting_contract"): r.get("number"),
                                  tr("analytics.meeting_customer"): r.get("customer_name"),
                                  tr("analytics.meeting_owner"): r.get("owner_name"),
                                  tr("analytics.meeting_due_on"): r.get("due_on"),
                                  tr("analytics.meeting_remaining"): money(r.get("remaining"))} for r in od["rows"]]))
    elif name == "actions":
        _table(pd.DataFrame([{tr("analytics.meeting_action"): a.title, tr("analytics.meeting_owner"): a.owner,
                                  tr("analytics.meeting_due_on"): a.due_on,
                                  tr("analytics.meeting_status"): tr(f"analytics.action_{a.status}")}
                                 for a in rep["actions"]]))
    elif name == "leaderboard":
        rows = rep["leaderboard"]
        if not any(r["value"] for r in rows):  # nobody won anything this week: no chart of zeros
            st.caption(tr("analytics.meeting_none"))
        else:
            df = pd.DataFrame([{"name": r["name"], "value": float(r["value"] or 0)} for r in rows])
            chart = charts.leaderboard_chart(df, name="name", value="value", value_title=tr("analytics.meeting_won"))
            st.altair_chart(chart, width="stretch")
            png_download(chart, "meeting-leaderboard", "meeting_board_png")


@st.cache_data(ttl=300, show_spinner=False, max_entries=8)
def _pdf(db: str, actor: Actor, week: Period, locale: str, version: int) -> bytes:
    from services.reports_pdf import meeting_pdf

    return meeting_pdf(_report(db, actor, week, version), locale=locale)


def pdf_downloads(actor: Actor, week: Period) -> None:
    """The report as PDF, in Chinese and in English (for whoever missed the meeting)."""
    db, version = db_key(), data_version()
    for loc, label in (("zh_CN", "PDF 中文"), ("en", "PDF English")):
        # written when the button is clicked (in Streamlit's download thread), not on every
        # view of the page: two PDFs with their charts took ~2 s of each run
        def data(loc=loc) -> bytes:
            return _pdf(db, actor, week, loc, version)

        st.download_button(label, data, help=tr("analytics.download_pdf"),
                           file_name=f"meeting-{week_of(week.start)}-{loc}.pdf", mime="application/pdf",
                           key=f"meeting_pdf_{loc}", icon=":material/picture_as_pdf:")
