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

from importlib import import_module

# Loaded on first use (PEP 562): ``salesops report kpi`` needs ``report`` only and starts
# without pandas, which the frame-returning modules import.
_EXPORTS = {
    "metric_actuals": "actuals", "metric_total": "actuals", "metric_totals": "actuals",
    "SCOPES": "common", "scope_user_ids": "common",
    "OverviewKPIs": "overview", "monthly_won_trend": "overview", "overview_kpis": "overview",
    "pipeline_by_stage": "overview",
    "kpi_report": "report",
    "monthly_scope_targets": "targets", "scope_target": "targets",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
