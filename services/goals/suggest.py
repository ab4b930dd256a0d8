"""Suggested targets for a holder × metric × period, each with how it was computed.

- history: the same period's actuals in each of the past three years (years with nothing
  are left out), the least-squares line through them (value = a + b·x, x = −3 … −1) read at
  x = 0 (one year: that year's value); the monthly seasonality (share of each calendar
  month in the past 36 months' actuals) and the monthly series for the chart;
- market: market size × target share, or last year's actual × (1 + growth rate), from the
  manager's inputs;
- capacity: Σ over the holder's active reps of recent productivity (actuals per month in
  the six months before the period, or before today if earlier) × months in the period ×
  ramp-up × (1 − planned leave days / period days). A rep with less than six months'
  tenure at the start of the look-back gets the experienced reps' average instead, ramped
  25 % / 50 % / 75 % in their first three months.
A blend is the plain average of the suggestions that could be computed. Values are cut to
the metric's unit (cent / one).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session

from services.access import Actor
from services.analytics.actuals import metric_actuals, metric_actuals_by_user, metric_total
from services.clock import company_today, local_date, local_tz
from services.errors import ValidationError
from services.goals.common import (
    ensure_may_edit,
    fiscal_start_month,
    holder_reps,
    holder_user_ids,
    parse_period,
    period_label,
    period_of,
    unit_of,
)
from services.i18n import t
from services.models import TARGET_METRICS, TARGET_SCOPES
from services.periods import add_months

HISTORY_YEARS = 3
LOOKBACK_MONTHS = 6
RAMP = (Decimal("0.25"), Decimal("0.5"), Decimal("0.75"))


def _q(value: Decimal, metric: str) -> Decimal:
    return max(Decimal(value), Decimal(0)).quantize(unit_of(metric), rounding=ROUND_HALF_UP)


def linear_trend(points: list[tuple[int, Decimal]]) -> tuple[Decimal, Decimal]:
    """Least squares ``(a, b)`` of value = a + b·x; one point → (its value, 0)."""
    if len(points) == 1:
        return Decimal(points[0][1]), Decimal(0)
    n = Decimal(len(points))
    sx = sum(Decimal(x) for x, _ in points)
    sy = sum(Decimal(y) for _, y in points)
    sxx = sum(Decimal(x) * x for x, _ in points)
    sxy = sum(Decimal(x) * Decimal(y) for x, y in points)
    b = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    return (sy - b * sx) / n, b


def history_suggestion(session: Session, actor: Actor, *, metric: str, owners: set[int] | None,
                       kind: str, start: date) -> dict[str, Any]:
    period = period_of(kind, start)
    years = []
    for k in range(HISTORY_YEARS, 0, -1):
        lo = add_months(period.start, -12 * k)
        value = Decimal(metric_total(session, actor, metric=metric, start=lo, end=add_months(period.end, -12 * k),
                                     owner_ids=owners))
        if value > 0:
            years.append({"x": -k, "start": lo, "value": value})
    frame = metric_actuals(session, actor, metric=metric, start=add_months(period.start, -36), end=period.start,
                           owner_ids=owners, monthly=True)
    monthly = sorted(((m, Decimal(v)) for m, v in zip(frame.get("month", []), frame["value"], strict=False)))
    total = sum((v for _, v in monthly), Decimal(0))
    by_month = {m: Decimal(0) for m in range(1, 13)}
    for m, v in monthly:
        by_month[m.month] += v
    seasonality = {m: (v / total).quantize(Decimal("0.0001")) if total else None for m, v in by_month.items()}
    if not years:
        return {"value": None, "reason": "no_history", "years": [], "trend": None, "seasonality": seasonality,
                "monthly": [{"month": m, "value": v} for m, v in monthly]}
    a, b = linear_trend([(y["x"], y["value"]) for y in years])
    return {"value": _q(a, metric), "years": years, "trend": {"intercept": a.quantize(Decimal("0.01")),
                                                              "slope": b.quantize(Decimal("0.01"))},
            "seasonality": seasonality, "monthly": [{"month": m, "value": v} for m, v in monthly]}


def market_suggestion(session: Session, actor: Actor, *, metric: str, owners: set[int] | None, kind: str,
                      start: date, market_size: Any = None, market_share: Any = None,
                      growth_rate: Any = None) -> dict[str, Any]:
    loc = actor.locale
    period = period_of(kind, start)
    errors: dict[str, str] = {}

    def number(value: Any, field: str) -> Decimal | None:
        if value is None or value == "":
            return None
        try:
            return Decimal(str(value))
        except Exception:
            errors[field] = t("err.number", loc)
            return None

    size, share, growth = number(market_size, "market_size"), number(market_share, "market_share"), \
        number(growth_rate, "growth_rate")
    if size is not None and size < 0:
        errors["market_size"] = t("err.not_negative", loc)
    if share is not None and not 0 <= share <= 1:
        errors["market_share"] = t("err.range", loc, min=0, max=1)
    if growth is not None and growth <= -1:
        errors["growth_rate"] = t("err.above", loc, min=-1)
    if errors:
        raise ValidationError(errors)
    if size is not None and share is not None:
        return {"value": _q(size * share, metric), "method": "size_share", "market_size": size, "market_share": share}
    if growth is not None:
        last = Decimal(metric_total(session, actor, metric=metric, start=add_months(period.start, -12),
                                    end=add_months(period.end, -12), owner_ids=owners))
        return {"value": _q(last * (1 + growth), metric), "method": "growth", "last_year": last,
                "growth_rate": growth}
    return {"value": None, "reason": "needs_inputs"}


def capacity_suggestion(session: Session, actor: Actor, *, metric: str, scope: str, team_id: int | None,
                        user_id: int | None, kind: str, start: date, today: date,
                        leave_days: dict[int, int] | None = None) -> dict[str, Any]:
    period = period_of(kind, start)
    reps = holder_reps(session, scope, team_id, user_id)
    look_end = min(period.start, today.replace(day=1))
    look_start = add_months(look_end, -LOOKBACK_MONTHS)
    found = {u: Decimal(v) for u, v in metric_actuals_by_user(
        session, actor, metric=metric, start=look_start, end=look_end, owner_ids={u.id for u in reps}).items()}
    tz = local_tz(session)
    joined = {u.id: (local_date(u.created_at, tz) or look_start).replace(day=1) for u in reps}
    experienced = [u for u in reps if joined[u.id] <= look_start]
    avg = (sum((found.get(u.id, Decimal(0)) for u in experienced), Decimal(0)) / LOOKBACK_MONTHS
           / len(experienced)) if experienced else Decimal(0)
    months = [add_months(period.start, i) for i in range({"year": 12, "quarter": 3, "month": 1}[kind])]
    rows, total = [], Decimal(0)
    for u in reps:
        is_new = joined[u.id] > look_start
        base = avg if is_new else found.get(u.id, Decimal(0)) / LOOKBACK_MONTHS
        ramp_sum = Decimal(0)
        for m in months:
            tenure = (m.year - joined[u.id].year) * 12 + m.month - joined[u.id].month
            ramp_sum += (RAMP[tenure] if 0 <= tenure < len(RAMP) else Decimal(0) if tenure < 0 else Decimal(1)) \
                if is_new else Decimal(1)
        leave = int((leave_days or {}).get(u.id, 0) or 0)
        factor = max(Decimal(1) - Decimal(leave) / period.days, Decimal(0))
        value = base * ramp_sum * factor
        total += value
        rows.append({"user_id": u.id, "name": u.display_name, "new": is_new,
                     "productivity": base.quantize(Decimal("0.01")), "ramped_months": ramp_sum,
                     "leave_days": leave, "value": _q(value, metric)})
    return {"value": _q(total, metric), "reps": rows, "lookback": {"start": look_start, "end": look_end},
            "months": len(months)}


def suggest_targets(session: Session, actor: Actor, *, metric: str, scope: str, period: str,
                    team_id: int | None = None, user_id: int | None = None, market_size: Any = None,
                    market_share: Any = None, growth_rate: Any = None,
                    leave_days: dict[int, int] | None = None, today: date | None = None) -> dict[str, Any]:
    """The history, market and capacity suggestions and their blend (module docstring) for a
    holder the actor may set targets for, each a dict with ``value`` (None when it cannot be
    computed, with a ``reason``) and its inputs."""
    loc = actor.locale
    errors: dict[str, str] = {}
    if metric not in TARGET_METRICS:
        errors["metric"] = t("err.not_in_list", loc, options=", ".join(TARGET_METRICS))
    if scope not in TARGET_SCOPES:
        errors["scope"] = t("err.not_in_list", loc, options=", ".join(TARGET_SCOPES))
    if errors:
        raise ValidationError(errors)
    fiscal = fiscal_start_month(session)
    kind, start = parse_period(period, fiscal, loc)
    if scope == "team" and team_id is None:
        raise ValidationError({"team_id": t("err.required", loc)})
    if scope == "user" and user_id is None:
        raise ValidationError({"user_id": t("err.required", loc)})
    team_id = team_id if scope == "team" else None
    user_id = user_id if scope == "user" else None
    ensure_may_edit(session, actor, scope=scope, team_id=team_id, user_id=user_id)
    owners = holder_user_ids(session, scope, team_id, user_id)
    today = today or company_today(session)
    out = {
        "metric": metric, "scope": scope, "team_id": team_id, "user_id": user_id,
        "period": period_label(kind, start, fiscal),
        "history": history_suggestion(session, actor, metric=metric, owners=owners, kind=kind, start=start),
        "market": market_suggestion(session, actor, metric=metric, owners=owners, kind=kind, start=start,
                                    market_size=market_size, market_share=market_share, growth_rate=growth_rate),
        "capacity": capacity_suggestion(session, actor, metric=metric, scope=scope, team_id=team_id,
                                        user_id=user_id, kind=kind, start=start, today=today,
                                        leave_days=leave_days),
    }
    # the blend: the plain average of the suggestions that could be computed
    found = {k: out[k]["value"] for k in ("history", "market", "capacity") if out[k]["value"] is not None}
    out["blend"] = ({"value": _q(sum(found.values(), Decimal(0)) / len(found), metric), "of": sorted(found)}
                    if found else {"value": None, "reason": "needs_inputs", "of": []})
    return out
