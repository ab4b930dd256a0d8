"""Sales analytics: Overview KPIs, monthly won trend, KPI report, pipeline by stage.

Every number is one SQL aggregation (SQLAlchemy Core ``select … group_by``) filtered by
``services.access``; nothing loads whole tables into Python. The formulas are written out in
docs/KPIS.md; each function's docstring repeats its rule.

Scopes (``scope=``):
- ``"me"``   — records the actor owns;
- ``"team"`` — records owned by the users of the teams the actor manages (their subtree),
  plus the actor's own; for a rep the same as ``"me"``;
- ``"all"``  — everything the actor may see (director / admin: everything; manager: their
  teams; rep: own).
The scope is always intersected with ``access.visible_user_ids``: a scope never widens what
a role may see.

Deal semantics: a deal is won / lost when its stage's ``kind`` is won / lost; ``closed_on``
is its close date. Won revenue of a period = sum of ``amount`` of won deals with
``closed_on`` in the period. Periods are half-open ``[start, end)`` (``end`` exclusive);
timestamp columns (activity ``done_at``, customer ``created_at``) are compared with the
period's local midnights in the company time zone (setting ``timezone``).

One module per concept; this package re-exports the public functions.
"""

from services.analytics.actuals import metric_actuals, metric_total
from services.analytics.common import SCOPES, scope_user_ids
from services.analytics.overview import OverviewKPIs, monthly_won_trend, overview_kpis, pipeline_by_stage
from services.analytics.report import kpi_report
from services.analytics.targets import monthly_scope_targets, scope_target

__all__ = ["SCOPES", "metric_actuals", "metric_total", "OverviewKPIs", "kpi_report", "monthly_won_trend", "overview_kpis", "pipeline_by_stage",
           "scope_user_ids", "monthly_scope_targets", "scope_target"]
