"""Shared Altair charts: pure ``DataFrame → alt.Chart`` functions and one theme.

Every visible text (titles, axis and legend labels) is passed in already translated by the
caller; these functions never call ``tr``. They do not import streamlit, so tests check
them through ``chart.to_dict()``. Importing this module registers and enables the
``salesops`` theme (fonts that render Chinese, a calm palette, no chart border).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd

THEME = "salesops"
FONT = "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif"
PALETTE = ["#2E6BE6", "#F08C2E", "#2BA471", "#D54941", "#7B61D9", "#12A8B8", "#B5762F", "#8A8F99"]
PRIMARY, TARGET, GOOD, BAD, MUTED = PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[3], "#C9CDD4"
MONEY_FORMAT = ",.0f"
# Axis labels for money: 万 / 亿 in Chinese, SI (120K, 1.2M) otherwise. Fixed Vega expressions,
# nothing built from data.
# The thresholds are those of services.i18n.format_money (the cards'), so an axis and a card
# read the same way; zero is "0".
_ZH_MONEY_LABELS = (
    "abs(datum.value) >= 100000000 ? format(datum.value / 100000000, ',.4~r') + '亿'"
    " : abs(datum.value) >= 10000 ? format(datum.value / 10000, ',.4~r') + '万'"
    " : format(datum.value, ',')"
)
_EN_MONEY_LABELS = (
    "abs(datum.value) >= 1000000 ? format(datum.value / 1000000, ',.4~r') + 'M'"
    " : abs(datum.value) >= 10000 ? format(datum.value / 1000, ',.4~r') + 'K'"
    " : format(datum.value, ',')"
)


def money_axis(locale: str | None = None, **kwargs) -> alt.Axis:
    """An axis whose labels read as money amounts in the user's language (万/亿 in Chinese,
    K/M otherwise — like the cards)."""
    zh = bool(locale and locale.lower().startswith("zh"))
    return alt.Axis(labelExpr=_ZH_MONEY_LABELS if zh else _EN_MONEY_LABELS, **kwargs)


@alt.theme.register(THEME, enable=True)
def salesops_theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "font": FONT,
            "view": {"stroke": None},
            "range": {"category": PALETTE},
            "title": {"font": FONT, "fontSize": 15, "anchor": "start", "fontWeight": 600},
            "axis": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 12, "titleFontSize": 12,
                     "gridColor": "#EEF0F3", "domainColor": "#C9CDD4"},
            "legend": {"labelFont": FONT, "titleFont": FONT, "orient": "bottom"},
            "header": {"labelFont": FONT, "titleFont": FONT},
            "mark": {"font": FONT},
            "text": {"font": FONT},
        }
    }


def _iso_dates(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Date / datetime columns as ``YYYY-MM-DD`` strings: JSON-safe and read by Vega as
    local dates (no time-zone shift in the browser)."""
    out = df.copy()
    for col in columns:
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    return out


def trend_chart(
    df: pd.DataFrame,
    *,
    month: str = "month",
    amount: str = "won_amount",
    target: str | None = "target_amount",
    amount_label: str = "Won",
    target_label: str = "Target",
    month_title: str = "",
    value_title: str = "",
    locale: str | None = None,
    title: str = "",
) -> alt.LayerChart | alt.Chart:
    """Monthly bars of ``amount`` with ``target`` as a line with points over the same
    month bands (months without a target leave a gap); a legend names both. The x axis is
    the month as ``YYYY-MM`` text, in the frame's order."""
    data = df.copy()
    data[month] = pd.to_datetime(data[month]).dt.strftime("%Y-%m")
    months = list(data[month])
    domain, colors = [amount_label], [PRIMARY]
    if target is not None and target in data:
        domain, colors = [amount_label, target_label], [PRIMARY, TARGET]
    color_scale = alt.Scale(domain=domain, range=colors)
    x = alt.X(f"{month}:O", sort=months, title=month_title, axis=alt.Axis(labelAngle=0))
    bars = (
        alt.Chart(data)
        .transform_calculate(series=json.dumps(amount_label))
        .mark_bar(cornerRadiusTopLeft=3, cornerRadiusTopRight=3)
        .encode(
            x=x,
            y=alt.Y(f"{amount}:Q", title=value_title, axis=money_axis(locale)),
            color=alt.Color("series:N", scale=color_scale, title=None),
            tooltip=[alt.Tooltip(f"{month}:O", title=month_title or month),
                     alt.Tooltip(f"{amount}:Q", title=amount_label, format=MONEY_FORMAT)],
        )
    )
    if target is None or target not in data:
        return bars.properties(title=title, width="container")
    line = (
        alt.Chart(data)
        .transform_calculate(series=json.dumps(target_label))
        .transform_filter(f"isValid(datum[{json.dumps(target)}])")
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y(f"{target}:Q"),
            color=alt.Color("series:N", scale=color_scale, title=None),
            tooltip=[alt.Tooltip(f"{month}:O", title=month_title or month),
                     alt.Tooltip(f"{target}:Q", title=target_label, format=MONEY_FORMAT)],
        )
    )
    return alt.layer(bars, line).properties(title=title, width="container")


def funnel_chart(
    df: pd.DataFrame,
    *,
    stage: str = "stage",
    value: str = "amount",
    count: str | None = "count",
    order: str | None = "sequence",
    label: str | None = None,
    value_title: str = "",
    count_title: str = "",
    stage_title: str = "",
    title: str = "",
) -> alt.LayerChart:
    """A centred funnel: one horizontal bar per stage, in ``order``, width = ``value``,
    labelled with the text column ``label`` when given (it should name what the width
    measures, e.g. "¥61.4万 · 7 deals"), else with ``count``."""
    data = df.sort_values(order) if order else df
    tooltip = [alt.Tooltip(f"{stage}:N", title=stage_title or stage),
               alt.Tooltip(f"{value}:Q", title=value_title or value, format=MONEY_FORMAT)]
    if count:
        tooltip.append(alt.Tooltip(f"{count}:Q", title=count_title or count))
    if label:
        # the axis names each bar with what it measures: no number inside the bar to misread
        rows = list(data[label])
        base = alt.Chart(data).encode(y=alt.Y(f"{label}:N", sort=rows, title=stage_title,
                                              axis=alt.Axis(ticks=False, labelLimit=320)))
        bars = base.mark_bar(color=PRIMARY, cornerRadius=2).encode(
            x=alt.X(f"{value}:Q", stack="center", axis=None), tooltip=tooltip)
        return bars.properties(title=title, width="container", height=alt.Step(40))
    stages = list(data[stage])
    base = alt.Chart(data).encode(y=alt.Y(f"{stage}:N", sort=stages, title=stage_title, axis=alt.Axis(ticks=False)))
    bars = base.mark_bar(color=PRIMARY, cornerRadius=2).encode(
        x=alt.X(f"{value}:Q", stack="center", axis=None),
        tooltip=tooltip,
    )
    # centred bars share their middle at half the widest bar: put the labels there
    middle = float(data[value].max() or 0) / 2
    labels = base.mark_text(color="white", align="center", baseline="middle", fontWeight=600).encode(
        text=alt.Text(f"{count or value}:Q", format=",.0f"),
        x=alt.datum(middle),
    )
    return alt.layer(bars, labels).properties(title=title, width="container", height=alt.Step(40))


def bullet_chart(actual: float, target: float | None, *, label: str = "", **options) -> alt.LayerChart:
    """Stephen Few's bullet: grey bands at fractions of the target, the actual as a bar
    (green at or above target, blue below), the target as a tick. Without a target only
    the bar is drawn. ``options`` as ``bullet_rows`` takes them (labels, bands, title, locale)."""
    return bullet_rows([(label, actual, target)], **options)


def bullet_rows(
    rows: Sequence[tuple[str, float, float | None]],
    *,
    actual_label: str = "Actual",
    target_label: str = "Target",
    bands: Sequence[float] = (0.6, 0.9, 1.2),
    title: str = "",
    locale: str | None = None,
) -> alt.LayerChart:
    """Bullets for several (label, actual, target) rows in one chart on one money axis —
    one row per rep or team (one chart instead of one per row: a page with 60 reps drew 60
    charts, ~5 s of chart building). Each row as ``bullet_chart`` draws one."""
    labels = [str(label) for label, _, _ in rows]
    y = alt.Y("label:N", title=None, sort=labels)
    band_rows = [{"label": str(label), "band": float(target) * b, "shade": i}
                 for label, _, target in rows if target
                 for i, b in enumerate(sorted(bands, reverse=True))]
    facts = pd.DataFrame({"label": labels, "actual": [float(a or 0) for _, a, _ in rows],
                          "target": [float(t) if t else None for _, _, t in rows],
                          "reached": [bool(t) and float(a or 0) >= float(t) for _, a, t in rows]})
    has_target = bool(band_rows)
    layers = []
    if has_target:
        layers.append(
            alt.Chart(pd.DataFrame(band_rows)).mark_bar(size=26).encode(
                x=alt.X("band:Q", stack=None, title=None, axis=money_axis(locale)), y=y,
                color=alt.Color("shade:O", legend=None, scale=alt.Scale(range=["#E5E8EC", "#D5D9DF", "#C4C9D1"])),
            )
        )
    layers.append(
        alt.Chart(facts).mark_bar(size=10).encode(
            x=alt.X("actual:Q", title=None, axis=money_axis(locale)), y=y,
            color=alt.condition("datum.reached", alt.value(GOOD), alt.value(PRIMARY)),
            tooltip=[alt.Tooltip("label:N", title=" "), alt.Tooltip("actual:Q", title=actual_label, format=MONEY_FORMAT)]
            + ([alt.Tooltip("target:Q", title=target_label, format=MONEY_FORMAT)] if has_target else []),
        )
    )
    if has_target:
        layers.append(
            alt.Chart(facts).transform_filter("isValid(datum.target)").mark_tick(color="#1F2329", thickness=3,
                                                                                   size=30).encode(
                x="target:Q", y=y, tooltip=[alt.Tooltip("target:Q", title=target_label, format=MONEY_FORMAT)],
            )
        )
    return alt.layer(*layers).properties(title=title, width="container", height=60 if len(rows) == 1 else
                                         alt.Step(34))


def leaderboard_chart(
    df: pd.DataFrame,
    *,
    name: str = "display_name",
    value: str = "won_amount",
    value_title: str = "",
    name_title: str = "",
    top: int | None = 10,
    value_format: str = MONEY_FORMAT,
    title: str = "",
) -> alt.LayerChart:
    """Horizontal bars ranked by ``value`` (highest first, ``top`` rows), value printed at
    the bar's end."""
    data = df.sort_values(value, ascending=False, kind="stable")
    if top:
        data = data.head(top)
    names = list(data[name])
    base = alt.Chart(data).encode(
        y=alt.Y(f"{name}:N", sort=names, title=name_title),
        x=alt.X(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
    )
    bars = base.mark_bar(color=PRIMARY, cornerRadiusTopRight=3, cornerRadiusBottomRight=3).encode(
        tooltip=[alt.Tooltip(f"{name}:N", title=name_title or name),
                 alt.Tooltip(f"{value}:Q", title=value_title or value, format=value_format)]
    )
    text = base.mark_text(align="left", dx=4, color="#1F2329").encode(text=alt.Text(f"{value}:Q", format=value_format))
    return alt.layer(bars, text).properties(title=title, width="container")


def gantt_chart(
    df: pd.DataFrame,
    *,
    task: str = "title",
    start: str = "start_on",
    end: str = "due_on",
    group: str | None = None,
    today: object | None = None,
    task_title: str = "",
    date_title: str = "",
    group_title: str = "",
    colors: Mapping[str, str] | None = None,
    title: str = "",
) -> alt.LayerChart | alt.Chart:
    """One bar per task from ``start`` to ``end`` (rows in the given order), coloured by
    ``group`` (with ``colors``: group value → colour, e.g. overdue in red); a red rule
    marks ``today`` when given."""
    data = _iso_dates(df, [start, end])
    tasks = list(data[task])
    enc = {
        "x": alt.X(f"{start}:T", title=date_title, axis=alt.Axis(format="%Y-%m-%d")),
        "x2": alt.X2(f"{end}:T"),
        "y": alt.Y(f"{task}:N", sort=tasks, title=task_title),
        "tooltip": [alt.Tooltip(f"{task}:N", title=task_title or task),
                    alt.Tooltip(f"{start}:T", format="%Y-%m-%d"), alt.Tooltip(f"{end}:T", format="%Y-%m-%d")],
    }
    if group:
        scale = alt.Scale(domain=list(colors), range=list(colors.values())) if colors else alt.Undefined
        enc["color"] = alt.Color(f"{group}:N", title=group_title, scale=scale)
    bars = alt.Chart(data).mark_bar(cornerRadius=3, **({} if group else {"color": PRIMARY})).encode(**enc)
    if today is None:
        return bars.properties(title=title, width="container")
    rule = alt.Chart(pd.DataFrame({"today": [pd.Timestamp(today).strftime("%Y-%m-%d")]})).mark_rule(
        color=BAD, strokeDash=[4, 3]).encode(x="today:T")
    return alt.layer(bars, rule).properties(title=title, width="container")


def stage_bar(
    df: pd.DataFrame,
    *,
    stage: str = "stage",
    value: str = "count",
    order: str | None = "sequence",
    value_title: str = "",
    stage_title: str = "",
    value_format: str = ",.0f",
    title: str = "",
) -> alt.Chart:
    """Vertical bars of ``value`` per stage, stages in pipeline ``order``."""
    data = df.sort_values(order) if order else df
    return (
        alt.Chart(data)
        .mark_bar(color=PRIMARY, cornerRadiusTopLeft=3, cornerRadiusTopRight=3)
        .encode(
            x=alt.X(f"{stage}:N", sort=list(data[stage]), title=stage_title, axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
            tooltip=[alt.Tooltip(f"{stage}:N", title=stage_title or stage),
                     alt.Tooltip(f"{value}:Q", title=value_title or value, format=value_format)],
        )
        .properties(title=title, width="container")
    )


def budget_chart(
    df: pd.DataFrame,
    *,
    label: str = "label",
    planned: str = "planned",
    spent: str = "spent",
    planned_label: str = "Planned",
    spent_label: str = "Spent",
    over_label: str = "Over budget",
    locale: str | None = None,
    title: str = "",
) -> alt.LayerChart:
    """Planned as a wide grey bar and spent as a narrow bar inside it per row — red when
    spent exceeds planned (over budget), blue otherwise."""
    data = df[[label, planned, spent]].copy()
    data[planned] = data[planned].astype(float)
    data[spent] = data[spent].astype(float)
    data["state"] = [over_label if s > p else spent_label for p, s in zip(data[planned], data[spent], strict=True)]
    names = list(data[label])
    y = alt.Y(f"{label}:N", sort=names, title=None)
    tips = [alt.Tooltip(f"{label}:N", title=" "), alt.Tooltip(f"{planned}:Q", title=planned_label, format=MONEY_FORMAT),
            alt.Tooltip(f"{spent}:Q", title=spent_label, format=MONEY_FORMAT)]
    plan_bars = alt.Chart(data).mark_bar(size=22, color=MUTED).encode(
        x=alt.X(f"{planned}:Q", title=None, axis=money_axis(locale)), y=y, tooltip=tips)
    spent_bars = alt.Chart(data).mark_bar(size=10).encode(
        x=f"{spent}:Q", y=y, tooltip=tips,
        color=alt.Color("state:N", title=None, scale=alt.Scale(domain=[spent_label, over_label],
                                                               range=[PRIMARY, BAD])))
    return alt.layer(plan_bars, spent_bars).properties(title=title, width="container", height=alt.Step(34))
