"""Inputs and tables shared by pages: period picker, scope picker, money input, data table.

Labels come from the ``widgets.*`` catalog keys. The period picker reads the company's fiscal
year start month and time zone from settings (cached, refreshed with the data version), so
"this quarter" and "today" mean the same on every page and in the services.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from dashboard.i18n import tr
from dashboard.state import data_version, db_key, get_engine
from services import settings
from services.access import Actor
from services.db import session_scope
from services.periods import PERIOD_KINDS, Period, custom, local_today, period_for

SCOPE_CHOICES = {
    "rep": ("me",),
    "manager": ("team", "me"),
    "director": ("all", "me"),
    "admin": ("all", "me"),
}


@st.cache_data(ttl=600, show_spinner=False)
def _calendar(db: str, version: int) -> tuple[int, str]:
    """(fiscal_year_start_month, timezone) from the company settings of database ``db``."""
    with session_scope(get_engine()) as s:
        return int(settings.get(s, "fiscal_year_start_month") or 1), str(settings.get(s, "timezone") or "UTC")


def company_calendar() -> tuple[int, str]:
    """The fiscal year start month and the time zone periods are computed in."""
    return _calendar(db_key(), data_version())


def company_tz() -> ZoneInfo:
    """The company time zone (times are stored in UTC and shown in it)."""
    return ZoneInfo(company_calendar()[1])


def company_today() -> date:
    """Today in the company time zone."""
    return local_today(company_calendar()[1])


def period_picker(key: str, *, default: str = "month", kinds: tuple[str, ...] = PERIOD_KINDS) -> Period:
    """今天 / 本周 / 本月 / 本季度 / 本年 / custom range → ``Period`` (end exclusive), with
    quarters and years following the fiscal year start month. Shows the dates it means."""
    fiscal_month, _tz = company_calendar()
    today = company_today()
    # labels resolved now, not in format_func: widgets may be re-serialised outside a run
    labels = {k: tr(f"widgets.period_{k}") for k in kinds}
    kind = st.radio(
        tr("widgets.period"),
        list(kinds),
        index=list(kinds).index(default) if default in kinds else 0,
        format_func=labels.__getitem__,
        horizontal=True,
        key=f"{key}_kind",
        label_visibility="collapsed",
    )
    if kind == "custom":
        month = period_for("month", today, fiscal_month)
        picked = st.date_input(
            tr("widgets.date_range"),
            value=(month.start, today),
            max_value=date(today.year + 5, 12, 31),
            key=f"{key}_range",
            format="YYYY-MM-DD",
        )
        dates = [d for d in (picked if isinstance(picked, (list, tuple)) else [picked]) if d]
        period = custom(dates[0], dates[-1]) if dates else period_for("today", today)
    else:
        period = period_for(kind, today, fiscal_month)
    st.caption(tr("widgets.period_range", start=period.start.isoformat(), end=period.last_day.isoformat()))
    return period


def scope_choices(actor: Actor) -> tuple[str, ...]:
    """Scopes a role may pick, default first: rep → me; manager → team, me; director and
    admin → all, me."""
    return SCOPE_CHOICES.get(actor.role, ("me",))


def scope_picker(actor: Actor, key: str) -> str:
    """"me" | "team" | "all" limited by role (a rep gets "me" without a control)."""
    choices = scope_choices(actor)
    if len(choices) == 1:
        return choices[0]
    labels = {c: tr(f"widgets.scope_{c}") for c in choices}
    return st.radio(
        tr("widgets.scope"),
        list(choices),
        format_func=labels.__getitem__,
        horizontal=True,
        key=f"{key}_scope",
        label_visibility="collapsed",
    )


def to_money(value) -> Decimal | None:
    """A number input's float as Decimal with 2 places (None stays None)."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def money_input(
    label: str,
    key: str,
    *,
    value: Decimal | float | None = None,
    min_value: float = 0.0,
    step: float = 1000.0,
    help: str | None = None,
    disabled: bool = False,
) -> Decimal | None:
    """A money field (2 decimals, not negative by default) returning ``Decimal``."""
    raw = st.number_input(
        label,
        value=None if value is None else float(value),
        min_value=min_value,
        step=step,
        format="%.2f",
        key=key,
        help=help,
        disabled=disabled,
    )
    return to_money(raw)


def dash_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with missing cells as "—": Streamlit's tables print the English word "None"
    for them, whatever the language."""
    shown = frame.copy()
    for col in shown.columns:
        missing = shown[col].isna()
        if missing.any():
            shown[col] = shown[col].astype(object).where(~missing, "—")
    return shown


def data_table(frame: pd.DataFrame, **kwargs) -> None:
    """``st.dataframe`` without the index and with missing cells as "—"."""
    st.dataframe(dash_missing(frame), hide_index=True, **kwargs)
