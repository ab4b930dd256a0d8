"""Charts checked through their Vega-Lite dict: the right fields, encodings and data."""

from __future__ import annotations

import json
from datetime import date

import altair as alt
import pandas as pd

from dashboard import charts


def spec(chart) -> dict:
    d = chart.to_dict()
    json.dumps(d)  # must be serialisable as sent to the browser
    return d


def rows(d: dict, layer: int | None = None) -> list[dict]:
    """The data rows a (layer of a) chart draws."""
    part = d["layer"][layer] if layer is not None else d
    data = part.get("data") or d.get("data")
    return d["datasets"][data["name"]]


def layers(d: dict) -> list[dict]:
    return d.get("layer", [d])


def trend_df():
    return pd.DataFrame({
        "month": [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)],
        "won_amount": [0.0, 7000.0, 73000.5],
        "won_count": [0, 1, 4],
        "target_amount": [float("nan"), 30000.0, 70000.0],
    })


def test_theme_is_registered_and_enabled_with_chinese_fonts():
    assert alt.theme.active == charts.THEME
    d = spec(charts.stage_bar(pd.DataFrame({"stage": ["A"], "sequence": [1], "count": [3]})))
    assert "Microsoft YaHei" in d["config"]["font"] and "Noto Sans CJK SC" in d["config"]["axis"]["labelFont"]


def test_trend_chart_bars_and_target_line():
    d = spec(charts.trend_chart(trend_df(), amount_label="赢单金额", target_label="目标", title="月度赢单"))
    assert d["title"] == "月度赢单"
    bars, line = layers(d)
    assert bars["mark"]["type"] == "bar" and line["mark"]["type"] == "line"
    # month bands as YYYY-MM text so the target points sit on the bars
    assert bars["encoding"]["x"]["field"] == "month" and bars["encoding"]["x"]["type"] == "ordinal"
    assert bars["encoding"]["x"]["sort"] == ["2026-09", "2026-10", "2026-11"] == [r["month"] for r in rows(d)]
    assert line["encoding"]["x"] == bars["encoding"]["x"]
    assert bars["encoding"]["y"]["field"] == "won_amount"
    assert line["encoding"]["y"]["field"] == "target_amount"
    assert bars["encoding"]["color"]["scale"]["domain"] == ["赢单金额", "目标"]
    data = rows(d)
    assert [r["won_amount"] for r in data] == [0.0, 7000.0, 73000.5]
    assert data[0]["target_amount"] is None and data[2]["target_amount"] == 70000.0
    # months without a target are filtered out of the line instead of drawn at zero
    assert any("isValid" in t.get("filter", "") for t in line["transform"])


def test_trend_chart_without_target_is_bars_only():
    d = spec(charts.trend_chart(trend_df().drop(columns="target_amount"), title="x"))
    assert "layer" not in d and d["mark"]["type"] == "bar"


def test_funnel_chart_orders_stages_by_sequence():
    df = pd.DataFrame({"stage": ["Proposal", "Qualify", "Needs"], "sequence": [30, 10, 20],
                       "count": [1, 5, 2], "amount": [20000.0, 1000.0, 0.0]})
    d = spec(charts.funnel_chart(df, value_title="金额"))
    bars, labels = layers(d)
    assert bars["encoding"]["y"]["sort"] == ["Qualify", "Needs", "Proposal"]
    assert bars["encoding"]["x"]["field"] == "amount" and bars["encoding"]["x"]["stack"] == "center"
    assert labels["encoding"]["text"]["field"] == "count"
    assert labels["encoding"]["x"] == {"datum": 10000.0}  # the middle of the widest bar
    assert [r["count"] for r in rows(d)] == [5, 2, 1]


def test_bullet_chart_bands_actual_and_target():
    d = spec(charts.bullet_chart(80.0, 100.0, label="赢单"))
    band, bar, tick = layers(d)
    assert [r["band"] for r in rows(d, 0)] == [120.0, 90.0, 60.0]
    assert rows(d, 1) == [{"label": "赢单", "actual": 80.0, "target": 100.0, "reached": False}]  # blue: below
    colour = bar["encoding"]["color"]
    assert colour["condition"] == {"test": "datum.reached", "value": charts.GOOD} and colour["value"] == charts.PRIMARY
    assert tick["mark"]["type"] == "tick" and tick["encoding"]["x"]["field"] == "target"
    reached = spec(charts.bullet_chart(120.0, 100.0))
    assert rows(reached, 1)[0]["reached"] is True  # green
    no_target = spec(charts.bullet_chart(5.0, None))
    assert len(layers(no_target)) == 1


def test_bullet_rows_draw_every_rep_in_one_chart():
    d = spec(charts.bullet_rows([("甲", 50.0, 100.0), ("乙", 30.0, None), ("丙", 250.0, 200.0)]))
    band, bar, tick = layers(d)
    assert bar["encoding"]["y"]["sort"] == ["甲", "乙", "丙"]
    assert [(r["label"], r["band"]) for r in rows(d, 0)] == [("甲", 120.0), ("甲", 90.0), ("甲", 60.0),
                                                             ("丙", 240.0), ("丙", 180.0), ("丙", 120.0)]
    assert [(r["label"], r["reached"]) for r in rows(d, 1)] == [("甲", False), ("乙", False), ("丙", True)]
    assert d["height"] == {"step": 34}


def test_leaderboard_ranks_highest_first_and_limits_rows():
    df = pd.DataFrame({"display_name": ["甲", "乙", "丙", "丁"], "won_amount": [10.0, 40.0, 20.0, 30.0]})
    d = spec(charts.leaderboard_chart(df, top=3))
    bars = layers(d)[0]
    assert bars["encoding"]["y"]["sort"] == ["乙", "丁", "丙"]
    assert [r["display_name"] for r in rows(d)] == ["乙", "丁", "丙"]


def test_gantt_chart_start_end_and_today_rule():
    df = pd.DataFrame({"title": ["调研", "签约"], "start_on": [date(2026, 1, 5), date(2026, 2, 1)],
                       "due_on": [date(2026, 1, 31), date(2026, 3, 1)], "owner": ["甲", "乙"]})
    d = spec(charts.gantt_chart(df, group="owner", today=date(2026, 2, 10)))
    bars, rule = layers(d)
    assert bars["encoding"]["x"]["field"] == "start_on" and bars["encoding"]["x2"]["field"] == "due_on"
    assert bars["encoding"]["y"]["sort"] == ["调研", "签约"]
    assert bars["encoding"]["color"]["field"] == "owner"
    assert rows(d, 0)[0]["start_on"] == "2026-01-05"
    assert rows(d, 1) == [{"today": "2026-02-10"}] and rule["mark"]["type"] == "rule"


def test_stage_bar():
    df = pd.DataFrame({"stage": ["B", "A"], "sequence": [2, 1], "count": [4, 7]})
    d = spec(charts.stage_bar(df, value_title="商机数"))
    assert d["encoding"]["x"]["sort"] == ["A", "B"] and d["encoding"]["y"]["title"] == "商机数"
    assert [r["count"] for r in rows(d)] == [7, 4]


def test_money_axis_reads_wan_in_chinese_and_si_in_english():
    import pandas as pd

    from dashboard.charts import money_axis, trend_chart

    zh = money_axis("zh_CN").to_dict()
    assert "万" in zh["labelExpr"] and "亿" in zh["labelExpr"]
    en = money_axis("en").to_dict()
    # K / M like the cards (format_money), never d3's "~s" (which read "0M"-style ticks)
    assert "'M'" in en["labelExpr"] and "'K'" in en["labelExpr"] and "format" not in en
    df = pd.DataFrame({"month": pd.to_datetime(["2026-10-01", "2026-11-01"]).date,
                       "won_amount": [1_200_000.0, 800_000.0], "won_count": [3, 2],
                       "target_amount": [1_000_000.0, 1_000_000.0]})
    spec = trend_chart(df, locale="zh_CN").to_dict()
    assert "万" in str(spec)


def test_money_reads_one_way_with_separators():
    from decimal import Decimal

    from services.i18n import format_money

    assert format_money(Decimal("61360600"), "zh_CN") == "¥6,136.06万"
    assert format_money(Decimal("268000"), "zh_CN", compact=False) == "¥268,000.00"
    assert format_money(Decimal("1234567890"), "zh_CN") == "¥12.35亿"
    assert format_money(Decimal("1250000000"), "en") == "¥1,250.00M"
    assert format_money(Decimal("0"), "en") == "¥0.00"


def test_pipeline_funnel_names_what_the_bar_measures():
    import pandas as pd

    from dashboard.charts import funnel_chart

    df = pd.DataFrame({"stage": ["Qualify", "Proposal"], "sequence": [10, 30], "amount": [900.0, 100.0],
                       "count": [7, 8], "label": ["Qualify · ¥900.00 · 7 deals", "Proposal · ¥100.00 · 8 deals"]})
    spec = funnel_chart(df, label="label").to_dict()
    assert spec["encoding"]["y"]["field"] == "label"  # the axis says amount and count of each bar
    assert spec["mark"]["type"] == "bar" and "layer" not in spec  # no bare count drawn inside the bar
