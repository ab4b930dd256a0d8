"""Work back from a target to the weekly work it takes (rates from the holder's history).

Rates, over the twelve months before today, for the holder's people:
- average won deal = Σ amount / number of won deals closed;
- win rate = won / (won + lost) deals closed;
- stage conversion s_i → s_{i+1} = deals that reached s_{i+1} or later / deals that reached
  s_i or later, over deals opened in the window (reached = the stages a deal was in, kept on
  it by the database: ``services.deal_facts``; the open stages by sequence, then won);
- demos, visits per new deal = demo / visit activities done ÷ deals opened; leads per new
  deal = customers created (owned by them) ÷ deals opened.
Needed: remaining = max(target − actual so far, 0); won deals = remaining ÷ average won deal
(a won-deals target: remaining itself); new deals = won ÷ win rate; deals reaching stage
s_i = won ÷ Π conversions from s_i to won; demos / visits / leads = new deals × their rate.
Per rep per week = needed ÷ reps ÷ weeks left (days from max(today, start) to the end ÷ 7).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from services.access import Actor, owner_in
from services.analytics.actuals import metric_total
from services.analytics.common import in_period
from services.clock import company_today, day_start_utc, local_tz
from services.deal_facts import reached_ids
from services.errors import ValidationError
from services.goals.common import holder_reps, holder_user_ids, load_target, period_of
from services.i18n import t
from services.models import Activity, Customer, Deal, Stage
from services.periods import Period, add_months

WORKBACK_METRICS = ("contract_amount", "collections", "won_deals")
R2 = Decimal("0.01")
R4 = Decimal("0.0001")


def _div(a: Decimal, b: Decimal) -> Decimal | None:
    return None if not b else Decimal(a) / Decimal(b)


def history_rates(session: Session, actor: Actor, *, owners: set[int] | None, window: Period) -> dict[str, Any]:
    """The rates of the module docstring for ``owners`` over ``window``."""
    won = session.execute(
        select(func.count(Deal.id), func.sum(Deal.amount)).join(Stage, Stage.id == Deal.stage_id)
        .where(Stage.kind == "won", owner_in(Deal.owner_id, owners), in_period(Deal.closed_on, window))).one()
    lost = session.scalar(
        select(func.count(Deal.id)).join(Stage, Stage.id == Deal.stage_id)
        .where(Stage.kind == "lost", owner_in(Deal.owner_id, owners), in_period(Deal.closed_on, window)))
    won_n, won_sum, lost_n = int(won[0] or 0), Decimal(won[1] or 0), int(lost or 0)
    stages = session.execute(select(Stage.id, Stage.name, Stage.sequence, Stage.kind)
                             .where(Stage.kind != "lost").order_by(Stage.sequence)).all()
    ladder = [s for s in stages if s.kind == "open"] + [s for s in stages if s.kind == "won"][:1]
    # the highest open or won stage each opened deal reached: the opened deals grouped by the
    # stages kept on them (a few dozen groups, from the cohort index alone), then per group
    seq_of = {sid: seq for sid, _name, seq, _kind in stages}
    tops: dict[int, int] = {}
    opened_n = 0  # deals opened in the window: the groups' sum
    for pattern, n in session.execute(
            select(Deal.stages_reached, func.count()).where(owner_in(Deal.owner_id, owners),
                                                           in_period(Deal.opened_on, window))
            .group_by(Deal.stages_reached)).all():
        opened_n += int(n)
        top = max((seq_of[sid] for sid in reached_ids(pattern) if sid in seq_of), default=None)
        if top is not None:
            tops[top] = tops.get(top, 0) + int(n)
    if ladder and ladder[-1].kind == "won":
        won_seq = ladder[-1].sequence
        capped: dict[int, int] = {}
        for value, n in tops.items():
            capped[min(value, won_seq)] = capped.get(min(value, won_seq), 0) + n
        tops = capped
    conversions = []
    for lo, hi in zip(ladder, ladder[1:], strict=False):
        at_lo = sum(n for value, n in tops.items() if value >= lo.sequence)
        at_hi = sum(n for value, n in tops.items() if value >= hi.sequence)
        rate = _div(Decimal(at_hi), Decimal(at_lo))
        conversions.append({"from": lo.name, "to": hi.name, "reached": at_lo, "moved_on": at_hi,
                            "rate": rate.quantize(R4) if rate is not None else None})
    tz = local_tz(session)
    lo_t, hi_t = day_start_utc(window.start, tz), day_start_utc(window.end, tz)

    def done(kind: str) -> int:
        return int(session.scalar(select(func.count(Activity.id)).where(
            Activity.kind == kind, owner_in(Activity.owner_id, owners), Activity.done_at >= lo_t,
            Activity.done_at < hi_t)) or 0)

    leads = int(session.scalar(select(func.count(Customer.id)).where(
        Customer.owner_id.is_not(None), owner_in(Customer.owner_id, owners), Customer.created_at >= lo_t,
        Customer.created_at < hi_t)) or 0)
    demos, visits = done("demo"), done("visit")
    avg = _div(won_sum, Decimal(won_n))
    win = _div(Decimal(won_n), Decimal(won_n + lost_n))

    def per_deal(n: int) -> Decimal | None:
        value = _div(Decimal(n), Decimal(opened_n))
        return value.quantize(R4) if value is not None else None

    return {"window": {"start": window.start, "end": window.end}, "won_deals": won_n, "lost_deals": lost_n,
            "opened_deals": opened_n, "avg_won_deal": avg.quantize(R2) if avg is not None else None,
            "win_rate": win.quantize(R4) if win is not None else None, "conversions": conversions,
            "demos_per_deal": per_deal(demos), "visits_per_deal": per_deal(visits),
            "leads_per_deal": per_deal(leads)}


def workback(session: Session, actor: Actor, *, target_id: int, today: date | None = None) -> dict[str, Any]:
    """How many new deals, demos, visits and leads per rep per week it takes to hit a target
    (the formulas in the module docstring); missing rates leave the numbers that need them None."""
    row = load_target(session, actor, target_id)
    if row.metric not in WORKBACK_METRICS:
        raise ValidationError({"metric": t("goals.err.workback_metric", actor.locale)})
    today = today or company_today(session)
    period = period_of(row.period_kind, row.period_start)
    owners = holder_user_ids(session, row.scope, row.team_id, row.user_id)
    rates = history_rates(session, actor, owners=owners, window=Period(add_months(today, -12), today))
    so_far_end = min(max(today, period.start), period.end)
    actual = Decimal(metric_total(session, actor, metric=row.metric, start=period.start,
                                  end=so_far_end, owner_ids=owners)) if so_far_end > period.start else Decimal(0)
    remaining = max(Decimal(row.value) - actual, Decimal(0))
    reps = max(len(holder_reps(session, row.scope, row.team_id, row.user_id)), 1)
    weeks = Decimal((period.end - max(today, period.start)).days) / 7
    won = remaining if row.metric == "won_deals" else _div(remaining, rates["avg_won_deal"] or Decimal(0))
    new = _div(won, rates["win_rate"] or Decimal(0)) if won is not None else None
    stages = []
    chain = won
    for conv in reversed(rates["conversions"]):
        chain = _div(chain, conv["rate"] or Decimal(0)) if chain is not None else None
        stages.append({"stage": conv["from"], "needed": chain.quantize(R2) if chain is not None else None})
    stages.reverse()

    def times(x: Decimal | None, rate: Decimal | None) -> Decimal | None:
        return x * rate if x is not None and rate is not None else None

    needed = {"won_deals": won, "new_deals": new, "demos": times(new, rates["demos_per_deal"]),
              "visits": times(new, rates["visits_per_deal"]), "leads": times(new, rates["leads_per_deal"])}
    weekly = {k: (v / reps / weeks).quantize(R2, rounding=ROUND_HALF_UP) if v is not None and weeks > 0 else None
              for k, v in needed.items()}
    return {"target_id": row.id, "target": row.value, "actual": actual, "remaining": remaining, "reps": reps,
            "weeks_left": weeks.quantize(R2), "rates": rates,
            "needed": {k: v.quantize(R2, rounding=ROUND_HALF_UP) if v is not None else None for k, v in needed.items()},
            "stages": stages, "per_rep_per_week": weekly}
