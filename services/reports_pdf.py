"""The weekly meeting report as a PDF (A4 landscape, Chinese or English) and its charts as
PNG, for the people who missed the meeting.

Libraries: reportlab draws the PDF. Chinese uses reportlab's built-in CID font
``STSong-Light`` (Adobe's standard Chinese font, which every PDF reader maps to its own
Song/Ming face), so nothing has to be installed or shipped for Chinese glyphs: no system font
package, no font file in the repository. Charts are Vega-Lite specs turned into PNG by
vl-convert-python (a self-contained Rust build on PyPI: no browser, no node).
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import vl_convert as vlc
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from services.analytics.funnel import stage_now
from services.i18n import format_money, format_percent, normalize_locale, t

FONT = "STSong-Light"
CHART_FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"
BLUE, GREY = "#2E6BE6", "#8A8F99"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def chart_png(spec: dict, scale: float = 2.0) -> bytes:
    """A Vega-Lite spec (e.g. ``alt.Chart.to_dict()``) as PNG bytes."""
    return vlc.vegalite_to_png(vl_spec=spec, scale=scale)


def funnel_spec(stages: list[dict], locale: str) -> dict:
    """The open pipeline: deals in each open stage now, as horizontal bars (the meeting's funnel)."""
    values = [{"stage": r["stage"], "deals": stage_now(r)[0]} for r in stages if r["kind"] == "open"]
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "width": 520, "height": 34 * max(1, len(values)),
            "data": {"values": values}, "config": {"font": CHART_FONT, "view": {"stroke": None}},
            "layer": [
                {"mark": {"type": "bar", "color": BLUE}, "encoding": {
                    "y": {"field": "stage", "type": "nominal", "sort": None, "title": None},
                    "x": {"field": "deals", "type": "quantitative", "title": t("analytics.meeting_deals", locale)}}},
                {"mark": {"type": "text", "align": "left", "dx": 4}, "encoding": {
                    "y": {"field": "stage", "type": "nominal", "sort": None},
                    "x": {"field": "deals", "type": "quantitative"}, "text": {"field": "deals"}}}]}


def leaderboard_spec(rows: list[dict], locale: str) -> dict:
    """Won revenue per rep, highest first."""
    values = [{"name": r["name"], "value": float(r["value"] or 0)} for r in rows[:10]]
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "width": 520, "height": 30 * max(1, len(values)),
            "data": {"values": values}, "config": {"font": CHART_FONT, "view": {"stroke": None}},
            "mark": {"type": "bar", "color": BLUE},
            "encoding": {"y": {"field": "name", "type": "nominal", "sort": "-x", "title": None},
                         "x": {"field": "value", "type": "quantitative", "title": t("analytics.meeting_won", locale),
                               "axis": {"format": ",.0f"}}}}


def _money(value, locale: str) -> str:
    return "—" if value is None else format_money(value, locale, compact=False)


def _change(now, before, locale: str) -> str:
    if before in (None, 0) or now is None:
        return "—"
    delta = (Decimal(str(now)) - Decimal(str(before))) / abs(Decimal(str(before)))
    return ("▲ " if delta > 0 else "▼ " if delta < 0 else "") + format_percent(delta, locale, 0)


def meeting_pdf(report: dict, *, locale: str = "zh_CN", company: str = "SalesOps") -> bytes:
    """The meeting report (``analytics.meeting.meeting_report``) as an A4 landscape PDF in
    ``locale``: the week's numbers vs last week and target, the funnel (chart and table), top
    open deals, won and lost this week, overdue collections, open actions, the leaderboard
    (chart and table)."""
    loc = normalize_locale(locale)
    font = _font()
    styles = {
        "h1": ParagraphStyle("h1", fontName=font, fontSize=20, leading=26, spaceAfter=4),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=14, leading=20, spaceBefore=8, spaceAfter=4,
                             textColor=colors.HexColor(BLUE)),
        "p": ParagraphStyle("p", fontName=font, fontSize=10, leading=14),
        "small": ParagraphStyle("small", fontName=font, fontSize=9, leading=12, textColor=colors.HexColor(GREY)),
    }

    def tr(key: str, **params) -> str:
        return t(f"analytics.{key}", loc, **params)

    def table(header: list[str], rows: list[list], widths: list[float] | None = None) -> Table:
        cells = [[Paragraph(str(h), styles["p"]) for h in header]] + \
                [[Paragraph("" if c is None else str(c), styles["p"]) for c in row] for row in rows]
        if len(cells) == 1:
            cells.append([Paragraph(tr("meeting_none"), styles["small"])] + [""] * (len(header) - 1))
        tbl = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
        tbl.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEF3FD")),
                                 ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#D5D9DF")),
                                 ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return tbl

    def chart(spec: dict, width_mm: float) -> Image:
        png = chart_png(spec)
        img = Image(io.BytesIO(png))
        ratio = img.imageHeight / img.imageWidth
        img.drawWidth, img.drawHeight = width_mm * mm, width_mm * mm * ratio
        img.hAlign = "LEFT"
        return img

    week = report["week"]
    story: list = [Paragraph(tr("meeting_pdf_title", company=company), styles["h1"]),
                   Paragraph(tr("meeting_pdf_week", start=week.start.isoformat(), end=week.last_day.isoformat()),
                             styles["small"])]
    n = report["numbers"]
    story.append(Paragraph(tr("meeting_section_numbers"), styles["h2"]))
    rows = []
    for metric in ("contract_amount", "won_deals", "collections", "activities", "new_customers"):
        v = n[metric]
        is_money = metric in ("contract_amount", "collections")
        show = (lambda x: _money(x, loc)) if is_money else (lambda x: "—" if x is None else f"{x:,}")
        rows.append([tr(f"meeting_metric_{metric}"), show(v["this_week"]), show(v["last_week"]),
                     _change(v["this_week"], v["last_week"], loc),
                     _money(v.get("target"), loc) if "target" in v else ""])
    story.append(table([tr("meeting_metric"), tr("meeting_this_week"), tr("meeting_last_week"), tr("meeting_change"),
                        tr("meeting_target")], rows, [70 * mm, 45 * mm, 45 * mm, 30 * mm, 45 * mm]))

    fun = report["funnel"]
    story.append(Paragraph(tr("meeting_section_funnel"), styles["h2"]))
    story.append(chart(funnel_spec(fun.stages, loc), 150))
    story.append(table([tr("meeting_stage"), tr("meeting_deals"), tr("meeting_amount"), tr("meeting_conversion"),
                        tr("meeting_avg_days")],
                       [[r["stage"], stage_now(r)[0], _money(stage_now(r)[1], loc),
                         format_percent(r["conversion_next"], loc, 0) if r["conversion_next"] is not None else "—",
                         "—" if r["avg_days"] is None else r["avg_days"]] for r in fun.stages],
                       [60 * mm, 30 * mm, 50 * mm, 40 * mm, 40 * mm]))
    wr = report["win_rate"]
    story.append(Paragraph(tr("meeting_win_rate", won=wr["won"], lost=wr["lost"],
                              rate="–" if wr["value"] is None else format_percent(wr["value"], loc, 0)),
                           styles["p"]))
    story.append(PageBreak())

    def deals(title_key: str, items: list[dict], closed: bool) -> None:
        story.append(Paragraph(tr(title_key), styles["h2"]))
        header = [tr("meeting_deal"), tr("meeting_customer"), tr("meeting_owner"), tr("meeting_stage"),
                  tr("meeting_amount"), tr("meeting_closed_on") if closed else tr("meeting_expected_close")]
        story.append(table(header, [[d["deal"], d["customer"], d["owner"],
                                     d["lost_reason"] or d["stage"] if closed else d["stage"], _money(d["amount"], loc),
                                     _iso(d["closed_on"] if closed else d["expected_close"])] for d in items],
                           [60 * mm, 55 * mm, 35 * mm, 40 * mm, 35 * mm, 30 * mm]))

    deals("meeting_section_top_deals", report["top_deals"], False)
    deals("meeting_section_won", report["won"], True)
    story.append(Paragraph(tr("meeting_won_total", amount=_money(n["contract_amount"]["this_week"], loc)), styles["p"]))
    deals("meeting_section_lost", report["lost"], True)
    story.append(PageBreak())

    od = report["overdue"]
    story.append(Paragraph(tr("meeting_section_overdue"), styles["h2"]))
    story.append(Paragraph(tr("meeting_overdue_total", count=od["count"], amount=_money(od["remaining"], loc)),
                           styles["p"]))
    story.append(table([tr("meeting_contract"), tr("meeting_customer"), tr("meeting_owner"), tr("meeting_due_on"),
                        tr("meeting_remaining")],
                       [[r.get("number"), r.get("customer_name"), r.get("owner_name"), _iso(r.get("due_on")),
                         _money(r.get("remaining"), loc)] for r in od["rows"]],
                       [50 * mm, 70 * mm, 40 * mm, 35 * mm, 45 * mm]))
    story.append(Paragraph(tr("meeting_section_actions"), styles["h2"]))
    story.append(table([tr("meeting_action"), tr("meeting_owner"), tr("meeting_due_on"), tr("meeting_status")],
                       [[a.title, a.owner, _iso(a.due_on), tr(f"action_{a.status}")] for a in report["actions"]],
                       [120 * mm, 45 * mm, 35 * mm, 40 * mm]))
    story.append(Paragraph(tr("meeting_section_leaderboard"), styles["h2"]))
    if report["leaderboard"]:
        story.append(chart(leaderboard_spec(report["leaderboard"], loc), 140))
    story.append(table([tr("meeting_rank"), tr("meeting_owner"), tr("meeting_team"), tr("meeting_won")],
                       [[r["rank"], r["name"], r["team"], _money(r["value"], loc)] for r in report["leaderboard"]],
                       [20 * mm, 60 * mm, 60 * mm, 50 * mm]))
    story.append(Spacer(1, 6 * mm))

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=14 * mm, rightMargin=14 * mm, topMargin=12 * mm,
                            bottomMargin=12 * mm, title=tr("meeting_pdf_title", company=company), author=company)
    doc.build(story)
    return out.getvalue()


def _iso(value) -> str:
    if value is None:
        return "—"
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


__all__ = ["chart_png", "funnel_spec", "leaderboard_spec", "meeting_pdf"]
