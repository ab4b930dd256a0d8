"""Inputs and tables shared by pages: period picker, scope picker, choices that survive a
language switch, tabs that stay, number / date / money inputs that never block a submit, and
the data table.

Labels come from the ``widgets.*`` catalog keys. The period picker reads the company's fiscal
year start month and time zone from settings (cached, refreshed with the data version), so
"this quarter" and "today" mean the same on every page and in the services.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime
from datetime import time as dt_time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from dashboard.i18n import choose_placeholder, current_locale, tr
from dashboard.state import data_version, db_key, get_engine
from services import settings
from services.access import Actor
from services.db import read_scope
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
    with read_scope(get_engine()) as s:
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
    kind = choice(st.radio, tr("widgets.period"), kinds, labels, key=f"{key}_kind", default=default,
                  horizontal=True, label_visibility="collapsed")
    if kind == "custom":
        month = period_for("month", today, fiscal_month)
        picked = st.date_input(
            tr("widgets.date_range"),
            value=(month.start, today),
            min_value=EARLIEST,
            max_value=LATEST,
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
    return choice(st.radio, tr("widgets.scope"), choices, labels, key=f"{key}_scope", horizontal=True,
                  label_visibility="collapsed")


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
    step: float = 1000.0,
    help: str | None = None,
    disabled: bool = False,
) -> Decimal | None:
    """A money field (2 decimals) returning ``Decimal``; like every number field it lets any
    value through to the service, whose rule (not negative, at most ``MAX_AMOUNT``) answers."""
    raw = number_field(label, key, value=None if value is None else float(value), step=step, places=2, help=help,
                       disabled=disabled)
    return to_money(raw)


def _css_text(text: str) -> str:
    """A catalog string as a CSS string literal (quotes and backslashes escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def page_style() -> None:
    """The app's few style rules, once per run (a style-only ``st.html`` takes no space):

    - metric cards' values a size that fits four cards a row at 1280 px wide (the meeting
      screen) without cutting "¥6,136.06万";
    - the file uploader's own English words ("Upload", "200MB per file • …") replaced by the
      catalog's, in the user's language (Streamlit has no option for them). Only fixed
      catalog strings go into the rules, never data."""
    button, limits = _css_text(tr("widgets.upload_button")), _css_text(tr("widgets.upload_limits"))
    st.html(f"""<style>
[data-testid="stMetricValue"] {{ font-size: 1.7rem; }}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {{ font-size: 0; }}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {{
  content: {button}; font-size: 0.875rem; }}
[data-testid="stFileUploaderDropzoneInstructions"] span {{ font-size: 0; }}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {{ content: {limits}; font-size: 0.75rem; }}
</style>""")


@st.cache_resource(show_spinner=False)
def app_icon() -> Any:
    """The page icon, drawn here (a rising bar chart on the theme's blue): a Material or
    emoji icon would make the browser fetch it from a font host on the internet, and the
    app must work with no internet."""
    from PIL import Image, ImageDraw

    size = 64
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=14, fill=(31, 90, 166, 255))
    for i, height in enumerate((18, 30, 42)):
        x = 12 + i * 15
        draw.rounded_rectangle((x, 52 - height, x + 10, 52), radius=2, fill=(255, 255, 255, 255))
    return img


def _cell_text(value: Any) -> str:
    """A cell as the table prints it: text as is, a midnight timestamp as its date."""
    if isinstance(value, str):
        return value
    if value is pd.NaT:
        return "—"
    if isinstance(value, datetime) and value.time() == dt_time(0) and value.tzinfo is None:
        return value.date().isoformat()  # pd.Timestamp is a datetime too
    return str(value)


def _whole_text(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value == value else _cell_text(value)  # NaN: masked


def dash_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with missing cells as "—": Streamlit's tables print the English word "None"
    for them, whatever the language."""
    shown = frame.copy()
    for col in shown.columns:
        missing = shown[col].isna()
        if missing.any():
            # the other cells as text too (as Streamlit would make them after a failed Arrow
            # conversion of a column mixing "—" with dates or numbers, logging a traceback); a
            # count column that pandas made float for its missing cells stays whole ("12", not
            # "12.0")
            present = shown[col][~missing]
            whole = pd.api.types.is_float_dtype(shown[col]) and bool((present % 1 == 0).all())
            text = shown[col].astype(object).map(_whole_text if whole else _cell_text)
            shown[col] = text.where(~missing, "—")
    return shown


def fit_columns(widths: Mapping[str, int]) -> dict[str, Any]:
    """``column_config`` giving each column (by its label's catalog key) a width in px, so a
    wide list keeps every column on screen at 1280 px, the meeting screen (long names are
    cut inside their column instead of pushing the last columns off)."""
    return {tr(key): st.column_config.Column(width=px) for key, px in widths.items()}


def data_table(frame: pd.DataFrame, *, empty: str | None = None, **kwargs) -> None:
    """``st.dataframe`` without the index and with missing cells as "—"; a frame without
    rows is a line saying so (``empty``, by default "Nothing here yet") — Streamlit's empty
    grid says "empty" in English on every language."""
    if frame.empty:
        st.caption(empty or tr("common.nothing_here"))
        return
    st.dataframe(dash_missing(frame), hide_index=True, **kwargs)


# ---------------------------------------------------------------------------
# choices, tabs, numbers and dates that behave the same in every form

#: The widest dates a date field accepts from the browser: anything between is sent on to
#: the service, whose rule answers in the user's language (Streamlit's own bounds would clear
#: a typed date, or answer in English).
EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)


def choice(widget: Callable[..., Any], label: str, options: Sequence[Any], labels: Mapping[Any, str], *, key: str,
           default: Any = None, **kwargs: Any) -> Any:
    """A radio / selectbox / segmented control over stable ``options`` (codes, ids) shown
    with ``labels``, whose value survives a change of its labels.

    Streamlit keeps such a widget's value as the label the user saw; after a language switch
    (or a count in a label changing) that label matches nothing, and a page that read the
    value got the old label itself. So the option chosen is kept under ``key`` (the stable
    key pages and services read), the widget itself lives under ``<key>__<locale>``
    (``widget_key``), and whenever it is drawn anew it starts at the kept option."""
    options = list(options)
    ss = st.session_state
    kept = chosen(key)
    if kept not in options:
        kept = default if default in options else (
            options[0] if options and widget is not st.segmented_control and kwargs.get("index", 0) is not None
            else None)
    if widget is st.segmented_control:
        kwargs["default"] = kept
    else:
        kwargs["index"] = options.index(kept) if kept in options else None
        if kwargs["index"] is None and widget is st.selectbox:  # Streamlit's own placeholder is English
            kwargs.setdefault("placeholder", choose_placeholder(options))
    shown = {o: labels.get(o, str(o)) for o in options}
    value = widget(label, options, format_func=shown.__getitem__, key=widget_key(key), **kwargs)
    ss[key] = value
    return value


def widget_key(key: str) -> str:
    """The key of the widget ``choice`` draws for ``key`` in the current language."""
    return f"{key}__{current_locale()}"


def chosen(key: str) -> Any:
    """The option chosen in ``choice(key=…)`` — read this in callbacks (they run before the
    page, so the widget holds the newest choice); any other field's value as stored."""
    ss = st.session_state
    live = widget_key(key)
    return ss[live] if live in ss else ss.get(key)


def keep_tabs(key: str, tabs: Mapping[str, str]) -> dict[str, Any]:
    """``st.tabs`` that stays on the tab the user chose across reruns (a save, a refused
    form) and across a language switch: ``tabs`` maps a stable tab code to its label; the
    chosen code is kept in ``st.session_state[key]``. Returns code → tab container."""
    ss = st.session_state
    codes = list(tabs)
    widget = f"{key}__{current_locale()}"
    chosen = ss.get(key) if ss.get(key) in codes else codes[0]
    by_label = {label: code for code, label in tabs.items()}

    def remember() -> None:
        ss[key] = by_label.get(ss.get(widget), chosen)

    if ss.get(widget) not in by_label or by_label[ss[widget]] != chosen:
        ss[widget] = tabs[chosen]
    containers = st.tabs(list(tabs.values()), key=widget, on_change=remember)
    return dict(zip(codes, containers, strict=True))


def tab_sections(tabs: Mapping[str, Any], sections: Mapping[str, Callable[[], Any]], *,
                 lazy: Collection[str] = ()) -> None:
    """Draw each section in its tab (``tabs`` from ``keep_tabs``); a ``lazy`` one only while
    its tab is open — its reads and its elements are then made only for who looks at it (a
    tab switch reruns the page: ``keep_tabs`` tracks the choice). Tabs with forms stay eager:
    Streamlit forgets the typed values of the widgets a run does not draw."""
    for code, draw in sections.items():
        tab = tabs.get(code)
        if tab is None:
            continue
        with tab:
            if code not in lazy or tab.open:
                draw()


def number_field(label: str, key: str, *, value: float | int | None = None, step: float | int = 1, places: int = 0,
                 help: str | None = None, disabled: bool = False, **kwargs: Any) -> Any:
    """A number input without browser-side bounds: the browser would block the submit with
    an English tooltip and leave the old messages on screen; every value goes to the
    service instead, which names the field and its rule in the user's language. ``places``
    0 gives whole numbers."""
    if places:
        step_value: float | int = float(step)
        shown = None if value is None else float(value)
        fmt = f"%.{places}f"
    else:
        step_value, shown, fmt = int(step), None if value is None else int(value), "%d"
    return st.number_input(label, value=shown, step=step_value, format=fmt, key=key, help=help, disabled=disabled,
                           **kwargs)


def date_field(label: str, key: str, *, value: Any = None, **kwargs: Any) -> Any:
    """A date input that accepts every date from ``EARLIEST`` to ``LATEST`` (ISO format);
    the service's rule decides what is allowed, in the user's language."""
    return st.date_input(label, value=value, min_value=EARLIEST, max_value=LATEST, key=key, format="YYYY-MM-DD",
                         **kwargs)
