"""Import — customers, contacts, deals or activities from CSV / XLSX (managers and up).

Storyboard: title and intro → what to import → upload → column mapping (suggested from the
headers) → preview → duplicate policy → "Check" (dry run: the validation report, downloadable)
→ "Import" in committed batches with a progress bar → summary and report. Export lives on the customer grid.
"""

import streamlit as st

from dashboard import import_views as views
from dashboard.auth import require_actor
from dashboard.i18n import tr
from services.importing import KINDS

actor = require_actor(("admin", "director", "manager"))

st.title(tr("importing.title"))
st.caption(tr("importing.intro"))

kind_labels = {k: tr(f"importing.kinds.{k}") for k in KINDS}
kind = st.selectbox(tr("importing.kind"), KINDS, format_func=kind_labels.get, key="import_kind")
uploaded = views.upload(kind)
if uploaded is None:
    st.stop()
name, data, headers, rows, encoding = uploaded

mapping = views.mapping_editor(kind, headers)
views.preview(headers, rows, mapping)

st.subheader(tr("importing.step_import"))
policy, create_missing = views.options(actor)
check_col, run_col = st.columns(2)
if check_col.button(tr("importing.check"), key="import_check"):
    views.run(actor, kind, data, mapping, policy, create_missing, dry_run=True, encoding=encoding)
if run_col.button(tr("importing.run"), type="primary", key="import_run"):
    views.run(actor, kind, data, mapping, policy, create_missing, dry_run=False, encoding=encoding)
views.summary()
