"""Customers — the grid reps live in, and the public pool (公海).

Storyboard: title → view toggle (customers / public pool), search and filters → total,
rows per page, page → the editable grid (one page from SQL) with a problem column after a
failed save → add row · save · discard and the messages → bulk actions on selected rows
(claim / release / archive / restore / reassign / export / open customer 360).
"""

import streamlit as st

from dashboard import customer_views as views
from dashboard.auth import require_actor
from dashboard.i18n import tr

actor = require_actor()

st.title(tr("customers.title"))
st.caption(tr("customers.caption"))

choices = views.choices(actor)
flt, sort = views.filter_bar(actor, choices)
pool_view = flt.in_pool is True
if pool_view:
    views.pool_rules_caption(choices)

total = views.load_rows(actor, flt, sort)
views.paging_controls(total)

current, selected = views.draw_grid(actor, choices, pool_view=pool_view)
views.save_bar(actor, current)
views.bulk_actions(actor, selected, current, choices, pool_view=pool_view, archived_view=bool(flt.archived), flt=flt)
