"""What the Funnel, Performance and Weekly meeting pages share: the deal filters, charts as
PNG downloads, and the "–" of a ratio that has no value."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard.i18n import percent, tr
from dashboard.runner import read
from dashboard.widgets import choice, scope_picker
from services.access import Actor
from services.analytics.filters import DealFilter, filter_choices

NO_VALUE = "–"


def ratio_text(value: float | None) -> str:
    """A ratio as a percentage, "–" when it has no value (e.g. no closed deals)."""
    return NO_VALUE if value is None else percent(value)


def deal_filter(actor: Actor, key: str) -> DealFilter:
    """Scope picker plus team / rep / product / channel / tier filters (in an expander)."""
    scope = scope_picker(actor, key)
    options = read(lambda s: filter_choices(s, actor))
    picked = {}
    with st.expander(tr("analytics.filters")):
        cols = st.columns(5)
        for col, (name, field) in zip(cols, (("teams", "team_id"), ("reps", "owner_id"), ("products", "product_id"),
                                             ("channels", "channel_id"), ("tiers", "tier")), strict=True):
            rows = options[name]
            ids = [None, *[i for i, _ in rows]]
            labels = {None: tr("analytics.filter_any"), **{i: str(n) for i, n in rows}}
            with col:
                picked[field] = choice(st.selectbox, tr(f"analytics.filter_{field.removesuffix('_id').replace('owner', 'rep')}"),
                                       ids, labels, key=f"{key}_{field}")
    return DealFilter(scope=scope, **picked)


def png_download(chart: alt.TopLevelMixin, name: str, key: str) -> None:
    """A download button with the chart as PNG (vl-convert, no browser needed), drawn on
    click."""
    from services.reports_pdf import chart_png

    spec = chart.to_dict()
    spec["width"] = 720 if spec.get("width") in (None, "container") else spec["width"]

    def data() -> bytes:  # drawn when the button is clicked, not on every run of the page
        return chart_png(spec)

    st.download_button(tr("analytics.download_png"), data, file_name=f"{name}.png", mime="image/png", key=key,
                       icon=":material/image:")
