"""The weekly meeting (周会): this week vs last week vs target, the pipeline funnel, top open
deals, deals won and lost this week, overdue collections, open action items and the
leaderboard — one call, for the screen and for the PDF (docs/KPIS.md, "Weekly meeting")."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, select
from sqlmodel import Session

from services.access import Actor
from services.analytics.actuals import metric_totals
from services.analytics.common import money, ratio, stage_ids, stage_in_bound
from services.analytics.filters import DealFilter, deal_conditions_bound, deal_filter_shape, filter_owner_ids
from services.analytics.funnel import funnel
from services.analytics.kpis import closed_counts
from services.analytics.leaderboard import leaderboard
from services.analytics.targets import scope_target
from services.clock import company_today
from services.db import shaped
from services.models import Customer, Deal, LostReason, Stage, User
from services.periods import Period

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
NUMBERS = ("contract_amount", "won_deals", "collections", "activities", "new_customers")
TOP_DEALS = 10


def parse_week(text: str) -> Period:
    """ISO week ``YYYY-Www`` (e.g. 2026-W48) as its Monday-to-Monday period."""
    match = WEEK.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError("week must look like 2026-W48")
    monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    return Period(monday, monday + timedelta(days=7), "week")


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _deal_list(session: Session, shape: tuple, params: dict, kind: str, week: Period | None, limit: int) -> list[dict]:
    """The largest deals of the filter (``filters.deal_filter_shape``) in the stages of
    ``kind``, closed in ``week`` when given."""
    stmt = shaped(("meeting.deals", shape, kind, week is not None, limit),
                  lambda: _deal_list_statement(shape, week is not None, limit))
    params = {**params, "stages": stage_ids(session, kind)}
    if week is not None:
        params.update(lo=week.start, hi=week.end)
    rows = session.execute(stmt, params).all()
    return [{"id": r[0], "deal": r[1], "customer": r[2], "owner": r[3], "stage": r[4],
             "amount": None if r[5] is None else money(r[5]), "probability": r[6], "expected_close": r[7],
             "closed_on": r[8], "lost_reason": r[9]} for r in rows]


def _deal_list_statement(shape: tuple, closed_in_week: bool, limit: int):
    # the ids first, from the deal indexes alone, then the rows of just those: picking the
    # largest of the whole pipeline with every column read each open deal's row (~100 ms at
    # 38k open deals)
    conds = [*deal_conditions_bound(shape), stage_in_bound("stages")]
    if closed_in_week:
        conds += [Deal.closed_on >= bindparam("lo"), Deal.closed_on < bindparam("hi")]
    order = (Deal.amount.desc().nulls_last(), Deal.id)
    ids = select(Deal.id).where(*conds).order_by(*order).limit(limit)
    return (select(Deal.id, Deal.name, Customer.name, User.display_name, Stage.name, Deal.amount, Deal.probability,
                   Deal.expected_close, Deal.closed_on, LostReason.name)
            .join(Stage, Stage.id == Deal.stage_id).join(User, User.id == Deal.owner_id)
            .outerjoin(Customer, Customer.id == Deal.customer_id)
            .outerjoin(LostReason, LostReason.id == Deal.lost_reason_id)
            .where(Deal.id.in_(ids)).order_by(*order))


def meeting_report(session: Session, actor: Actor, *, week: Period, flt: DealFilter | None = None,
                   today: date | None = None) -> dict:
    """Everything the weekly meeting shows for ``week`` (a Monday-to-Monday period):
    ``numbers`` (per metric: this week, last week, and the target of the week for won
    revenue — the base target prorated by days), ``funnel`` (pipeline now), ``top_deals``
    (largest open deals), ``won`` / ``lost`` (closed this week, at most 50 each),
    ``win_rate`` (won ÷ (won + lost) deals closed this week by the filter's owners — all of
    them, like the numbers; the lists also narrow by product, channel and tier), ``overdue`` (installments
    past due as of the week's last day or today, whichever is earlier, on the filter's
    owners' contracts), ``actions`` (open
    action items) and ``leaderboard`` (won revenue this week)."""
    from services.contracts import overdue_summary
    from services.reviews import scope_open_actions

    flt = flt or DealFilter()
    today = today or company_today(session)
    last = Period(week.start - timedelta(days=7), week.start, "week")
    ids = filter_owner_ids(session, actor, flt)
    numbers = {}
    for metric in NUMBERS:
        this_week, last_week = metric_totals(session, actor, metric=metric, spans=[(week.start, week.end),
                                                                                   (last.start, last.end)],
                                             owner_ids=ids)
        numbers[metric] = {"this_week": this_week, "last_week": last_week}
    numbers["contract_amount"]["target"] = scope_target(session, actor, scope=flt.scope, period=week)
    shape, params = deal_filter_shape(session, actor, flt)
    as_of = min(today, week.last_day)
    # the same owners as every other number of the report: scope, team subtree, rep
    overdue = overdue_summary(session, actor, today=as_of, owner_ids=ids, limit=10)
    won, lost = closed_counts(session, ids, week)
    return {
        "week": week,
        "numbers": numbers,
        "funnel": funnel(session, actor, period=week, mode="pipeline", flt=flt),
        "win_rate": {"won": won, "lost": lost, "value": ratio(won, won + lost)},
        "top_deals": _deal_list(session, shape, params, "open", None, TOP_DEALS),
        "won": _deal_list(session, shape, params, "won", week, 50),
        "lost": _deal_list(session, shape, params, "lost", week, 50),
        "overdue": overdue,
        "actions": scope_open_actions(session, actor),
        "leaderboard": leaderboard(session, actor, period=week, metric="revenue", flt=flt),
    }


def won_amount(report: dict) -> Decimal:
    """The week's won revenue of a ``meeting_report``."""
    return report["numbers"]["contract_amount"]["this_week"]


__all__ = ["NUMBERS", "meeting_report", "parse_week", "week_of", "won_amount"]
