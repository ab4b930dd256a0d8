"""The Performance page's KPIs for any scope and period, their 同比 (same period a year
before) and 环比 (the period before), and the rows behind each number (formulas in
docs/KPIS.md, "Performance KPIs"; each function's docstring repeats its rule).

Won revenue, collections, new customers and activities come from ``actuals.metric_total``
(the one computation of a target metric's achieved value); the rest are SQL aggregations
here. Timestamps (activities, customers, tickets) compare with the company's local midnights.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from sqlalchemy import Integer, bindparam, case, cast, func, select, true
from sqlmodel import Session

from services.access import Actor, owner_in, owner_params, owner_scope_term, owner_shape
from services.analytics.actuals import metric_total
from services.analytics.common import (
    CENT,
    days_between,
    dialect_of,
    float2,
    in_period,
    in_period_bound,
    money,
    ratio,
    stage_ids,
    stage_in_bound,
)
from services.analytics.filters import DealFilter, filter_owner_ids
from services.clock import day_start_utc, local_tz
from services.db import read_once, shaped
from services.models import (
    Activity,
    Channel,
    Contract,
    Customer,
    Deal,
    MarketingSpend,
    Payment,
    Product,
    ServiceTicket,
    Stage,
    User,
)
from services.periods import Period, add_months, month_start, previous

#: KPI keys in display order; the ones compared 同比 / 环比 on the cards.
KPIS = ("won_revenue", "collections", "win_rate", "avg_won_deal", "sales_cycle_mean", "sales_cycle_median",
        "activities_per_rep_week", "new_customers", "cac", "clv", "retention_rate", "churn_rate",
        "avg_satisfaction")
#: KPIs where a lower value is better (their arrows colour the other way).
LOWER_IS_BETTER = ("sales_cycle_mean", "sales_cycle_median", "cac", "churn_rate")
#: The KPIs whose rows can be listed (drill-down).
DRILLABLE = ("won_revenue", "collections", "win_rate", "avg_won_deal", "sales_cycle_mean", "sales_cycle_median",
             "activities_per_rep_week", "new_customers", "cac", "clv", "avg_satisfaction")
CLV_MAX_YEARS = 10


def _bounds(session: Session, period: Period):
    tz = local_tz(session)
    return day_start_utc(period.start, tz), day_start_utc(period.end, tz)


def _won_in_period(owners: str) -> tuple:
    """Deals of the won stages (``won``) closed in [lo, hi) owned by ``owners``."""
    return (stage_in_bound("won"), *in_period_bound(Deal.closed_on), owner_scope_term(Deal.owner_id, owners))


def _won_params(session: Session, ids: set[int] | None, period: Period) -> dict:
    return {"won": stage_ids(session, "won"), "lo": period.start, "hi": period.end, **owner_params(ids)}


def closed_statement(owners: str, by_owner: bool = False):
    """Won and lost deals (the ``won`` / ``lost`` stages of ``closed``) closed in [lo, hi)
    owned by ``owners`` — the win rate's counts, from the closed-deal index (the stage ids
    known beforehand: see ``common.stage_in_bound``); per owner
    (``owner_id, won, lost``) when ``by_owner``. Parameters: ``closed_params``."""
    def build():
        counts = (func.count(case((stage_in_bound("won"), 1))), func.count(case((stage_in_bound("lost"), 1))))
        stmt = select(*([Deal.owner_id] if by_owner else []), *counts).where(
            stage_in_bound("closed"), *in_period_bound(Deal.closed_on), owner_scope_term(Deal.owner_id, owners))
        return stmt.group_by(Deal.owner_id) if by_owner else stmt

    return shaped(("kpi.closed", owners, by_owner), build)


def closed_params(session: Session, ids: set[int] | None, period: Period) -> dict:
    return {**_won_params(session, ids, period), "lost": stage_ids(session, "lost"),
            "closed": stage_ids(session, "won", "lost")}


def closed_counts(session: Session, ids: set[int] | None, period: Period) -> tuple[int, int]:
    """(won, lost) deals closed in the period owned by ``ids`` (``None`` = anyone)."""
    won, lost = session.execute(closed_statement(owner_shape(ids)), closed_params(session, ids, period)).one()
    return int(won), int(lost)


def sales_cycle(session: Session, ids: set[int] | None, period: Period) -> tuple[float | None, float | None]:
    """Mean and median days from opened to won (closed_on − opened_on) of deals won in the
    period; median = middle value (mean of the two middle ones). One read of the closed-deal
    index: how many deals took each number of days (a few hundred groups), from which count,
    mean and median follow — sorting every won deal by its length for the middle one and a
    second pass for the mean took twice as long (30k won deals a year for a director)."""
    dialect, owners = dialect_of(session), owner_shape(ids)

    def build():
        days = days_between(Deal.closed_on, Deal.opened_on, dialect)
        if dialect == "sqlite":  # whole days (both are dates): integer groups
            days = cast(days, Integer)
        days = days.label("days")
        return select(days, func.count()).where(*_won_in_period(owners)).group_by(days)

    stmt = shaped(("kpi.cycle", dialect, owners), build)
    histogram = sorted((int(d), int(n)) for d, n in session.execute(stmt, _won_params(session, ids, period)).all()
                       if d is not None)
    count = sum(n for _d, n in histogram)
    if not count:
        return None, None
    mean = sum(d * n for d, n in histogram) / count
    wanted = [(count - 1) // 2, count // 2]  # positions of the middle one or two, in length order
    middle, seen = [], 0
    for d, n in histogram:
        while wanted and wanted[0] < seen + n:
            middle.append(d)
            wanted.pop(0)
        seen += n
    median = sum(middle) / len(middle)
    return round(mean, 1), round(median, 1)


def cac_by_channel(session: Session, actor: Actor, *, period: Period, flt: DealFilter | None = None) -> list[dict]:
    """Per channel: marketing spend of the months the period touches ÷ customers from that
    channel created in the period (owned within the scope; the public pool counts for whoever
    sees everything). ``cac`` None when no new customer came from it."""
    ids = filter_owner_ids(session, actor, flt or DealFilter())
    lo, hi = _bounds(session, period)
    spend = dict(session.execute(shaped(("kpi.spend",), lambda: (
        select(MarketingSpend.channel_id, func.sum(MarketingSpend.amount))
        .where(MarketingSpend.month >= bindparam("lo"), MarketingSpend.month < bindparam("hi"))
        .group_by(MarketingSpend.channel_id))), {"lo": month_start(period.start), "hi": period.end}).all())
    owners = owner_shape(ids)
    new = dict(session.execute(shaped(("kpi.channel_customers", owners), lambda: (
        select(Customer.channel_id, func.count())
        .where(Customer.channel_id.is_not(None), Customer.created_at >= bindparam("lo"),
               Customer.created_at < bindparam("hi"), owner_scope_term(Customer.owner_id, owners))
        .group_by(Customer.channel_id))), {"lo": lo, "hi": hi, **owner_params(ids)}).all())
    names = read_once(session, ("channel_names",), lambda: MappingProxyType(dict(
        session.execute(shaped(("kpi.channel_names",), lambda: select(Channel.id, Channel.name))).all())))
    out = []
    for cid in sorted(set(spend) | set(new), key=lambda c: names.get(c) or ""):
        amount, count = money(spend.get(cid)), int(new.get(cid, 0))
        out.append({"channel_id": cid, "channel": names.get(cid), "spend": amount, "new_customers": count,
                    "cac": (amount / count).quantize(CENT, rounding=ROUND_HALF_UP) if count else None})
    return out


def _margin():
    """A won deal's gross margin: amount × (1 − unit cost ÷ list price) of its product; the
    whole amount when it has no product with a list price."""
    rate = case((Product.list_price > 0, 1 - Product.unit_cost * 1.0 / Product.list_price), else_=1)
    return Deal.amount * rate


def customer_states(session: Session, ids: set[int] | None) -> tuple[int, int]:
    """(active, churned) customers owned in the scope now (not archived): the churn rate's
    counts, the same for every period."""
    owners = owner_shape(ids)
    active, churned = session.execute(shaped(("kpi.customer_states", owners), lambda: (
        select(func.count(case((Customer.status == "active", 1))), func.count(case((Customer.status == "churned", 1))))
        .where(Customer.owner_id.is_not(None), owner_scope_term(Customer.owner_id, owners),
               Customer.archived.is_(False)))), owner_params(ids)).one()
    return int(active), int(churned)


def clv(session: Session, ids: set[int] | None, period: Period, states: tuple[int, int] | None = None) -> dict:
    """Customer lifetime value = average yearly gross margin per customer (won deals closed
    in the 12 months up to the period's end ÷ customers with such a deal) × expected
    lifetime in years (1 ÷ churn rate, at most ``CLV_MAX_YEARS``); churn rate = churned ÷
    (active + churned) customers owned in the scope (``customer_states``; passed in when
    already read)."""
    window = Period(add_months(period.end, -12), period.end)
    owners = owner_shape(ids)
    margin, customers = session.execute(shaped(("kpi.margin", owners), lambda: (
        select(func.sum(_margin()), func.count(func.distinct(Deal.customer_id)))
        .select_from(Deal).outerjoin(Product, Product.id == Deal.product_id)
        .where(*_won_in_period(owners)))), _won_params(session, ids, window)).one()
    active, churned = states if states is not None else customer_states(session, ids)
    churn = ratio(churned, active + churned)
    years = None if churn is None else (CLV_MAX_YEARS if churn == 0 else min(CLV_MAX_YEARS, 1 / churn))
    per_customer = (money(margin) / customers).quantize(CENT, rounding=ROUND_HALF_UP) if customers else None
    value = None if per_customer is None or years is None else \
        (per_customer * Decimal(str(years))).quantize(CENT, rounding=ROUND_HALF_UP)
    return {"yearly_margin_per_customer": per_customer, "lifetime_years": None if years is None else round(years, 2),
            "clv": value, "churn_rate": churn, "retention_rate": None if churn is None else 1 - churn,
            "active_customers": int(active), "churned_customers": int(churned)}


def _rated(owners: str):
    """Mean and count of the satisfaction scores of tickets resolved in [lo, hi) on the
    owners' customers."""
    rated = select(func.avg(ServiceTicket.satisfaction), func.count(ServiceTicket.satisfaction)).where(
        ServiceTicket.resolved_at >= bindparam("lo"), ServiceTicket.resolved_at < bindparam("hi"),
        ServiceTicket.satisfaction.is_not(None))
    if owners != "all":  # every ticket has its customer (a non-null foreign key): joined only to filter owners
        rated = rated.join(Customer, Customer.id == ServiceTicket.customer_id).where(
            owner_scope_term(Customer.owner_id, owners))
    return rated


def kpis(session: Session, actor: Actor, *, period: Period, flt: DealFilter | None = None,
         states: tuple[int, int] | None = None) -> dict:
    """Every KPI of the scope and period (keys ``KPIS`` plus the counts behind them). Win
    rate = won ÷ (won + lost) deals closed in the period (None when none closed); average
    won deal = won revenue ÷ won deals; activities per rep per week = activities done ÷ active
    reps of the scope ÷ (days ÷ 7); CAC = spend of all channels ÷ their new customers;
    satisfaction = mean score of tickets resolved in the period on the scope's customers."""
    flt = flt or DealFilter()
    ids = filter_owner_ids(session, actor, flt)
    lo, hi = _bounds(session, period)
    won_revenue = metric_total(session, actor, metric="contract_amount", start=period.start, end=period.end,
                               owner_ids=ids)
    owners = owner_shape(ids)
    won, lost = closed_counts(session, ids, period)
    mean, median = sales_cycle(session, ids, period)
    activities = int(metric_total(session, actor, metric="activities", start=period.start, end=period.end,
                                  owner_ids=ids))
    reps = session.scalar(shaped(("kpi.reps", owners), lambda: (
        select(func.count()).select_from(User).where(User.role == "rep", User.active.is_(True),
                                                     owner_scope_term(User.id, owners)))), owner_params(ids)) or 0
    cac_rows = cac_by_channel(session, actor, period=period, flt=flt)
    spend = sum((r["spend"] for r in cac_rows), money(0))
    channel_new = sum(r["new_customers"] for r in cac_rows)
    life = clv(session, ids, period, states)
    satisfaction, tickets = session.execute(shaped(("kpi.satisfaction", owners), lambda: _rated(owners)),
                                            {"lo": lo, "hi": hi, **owner_params(ids)}).one()
    return {
        "won_revenue": won_revenue, "won_deals": int(won), "lost_deals": int(lost),
        "collections": metric_total(session, actor, metric="collections", start=period.start, end=period.end,
                                    owner_ids=ids),
        "win_rate": ratio(won, won + lost),
        "avg_won_deal": (won_revenue / won).quantize(CENT, rounding=ROUND_HALF_UP) if won else None,
        "sales_cycle_mean": mean, "sales_cycle_median": median,
        "activities": activities, "reps": int(reps),
        "activities_per_rep_week": round(activities / reps / (period.days / 7), 2) if reps else None,
        "new_customers": int(metric_total(session, actor, metric="new_customers", start=period.start, end=period.end,
                                          owner_ids=ids)),
        "marketing_spend": spend, "channel_customers": channel_new,
        "cac": (spend / channel_new).quantize(CENT, rounding=ROUND_HALF_UP) if channel_new else None,
        "cac_by_channel": cac_rows,
        "clv": life["clv"], "yearly_margin_per_customer": life["yearly_margin_per_customer"],
        "lifetime_years": life["lifetime_years"], "retention_rate": life["retention_rate"],
        "churn_rate": life["churn_rate"],
        "avg_satisfaction": None if satisfaction is None else round(float(satisfaction), 2), "rated_tickets": int(tickets),
    }


def last_year(period: Period) -> Period:
    """The same period one year before (同比)."""
    return Period(add_months(period.start, -12), add_months(period.end, -12), period.kind)


def change(now, before) -> float | None:
    """Relative change (now − before) ÷ before; None when either is missing or before is 0."""
    if now is None or before is None or not before:
        return None
    return float((Decimal(str(now)) - Decimal(str(before))) / abs(Decimal(str(before))))


def kpi_comparison(session: Session, actor: Actor, *, period: Period, flt: DealFilter | None = None) -> dict:
    """``kpis`` of the period with 环比 (vs ``periods.previous``) and 同比 (vs the same period
    a year before): per KPI ``value, previous, last_year, mom, yoy`` (relative changes) and
    ``better`` (+1 / −1 / 0 for the 环比 direction, reversed for lower-is-better KPIs)."""
    flt = flt or DealFilter()
    states = customer_states(session, filter_owner_ids(session, actor, flt))
    now = kpis(session, actor, period=period, flt=flt, states=states)
    before, a_year_ago = previous(period), last_year(period)
    prev = kpis(session, actor, period=before, flt=flt, states=states)
    # a year's period before is the same year a year ago: read once
    year = prev if (before.start, before.end) == (a_year_ago.start, a_year_ago.end) else \
        kpis(session, actor, period=a_year_ago, flt=flt, states=states)
    out = {"period": period, "values": now}
    cards = {}
    for key in KPIS:
        mom = change(now[key], prev[key])
        sign = 0 if not mom else (1 if mom > 0 else -1)
        cards[key] = {"value": now[key], "previous": prev[key], "last_year": year[key], "mom": mom,
                      "yoy": change(now[key], year[key]), "better": -sign if key in LOWER_IS_BETTER else sign}
    out["cards"] = cards
    return out


def kpi_json(value):
    """A KPI value for JSON: Decimal → float (2 places), dates → ISO, nested rows too."""
    if isinstance(value, Decimal):
        return float2(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: kpi_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [kpi_json(v) for v in value]
    if isinstance(value, Period):
        return {"start": value.start.isoformat(), "end": value.end.isoformat()}
    return value


def kpi_rows(session: Session, actor: Actor, *, kpi: str, period: Period, flt: DealFilter | None = None,
             limit: int = 500) -> list[dict]:
    """The rows a KPI counts, so any number can be checked: won deals (revenue, average,
    cycle, CLV: the 12-month window), closed deals (win rate), payments (collections),
    activities, new customers (new customers, CAC), rated tickets (satisfaction)."""
    if kpi not in DRILLABLE:
        raise ValueError(f"no rows for KPI {kpi!r}")
    ids = filter_owner_ids(session, actor, flt or DealFilter())
    lo, hi = _bounds(session, period)
    if kpi in ("won_revenue", "avg_won_deal", "sales_cycle_mean", "sales_cycle_median", "win_rate", "clv"):
        kinds = ("won", "lost") if kpi == "win_rate" else ("won",)
        window = Period(add_months(period.end, -12), period.end) if kpi == "clv" else period
        days = days_between(Deal.closed_on, Deal.opened_on, dialect_of(session))
        rows = session.execute(
            select(Deal.id, Deal.name, User.display_name, Stage.name, Deal.amount, Deal.opened_on, Deal.closed_on, days)
            .join(Stage, Stage.id == Deal.stage_id).join(User, User.id == Deal.owner_id)
            .where(Stage.kind.in_(kinds), in_period(Deal.closed_on, window), owner_in(Deal.owner_id, ids))
            .order_by(Deal.closed_on, Deal.id).limit(limit)).all()
        return [{"id": i, "deal": n, "owner": o, "stage": s, "amount": None if a is None else money(a), "opened_on": op,
                 "closed_on": cl, "days": None if d is None else int(round(float(d)))}
                for i, n, o, s, a, op, cl, d in rows]
    if kpi == "collections":
        rows = session.execute(
            select(Payment.id, Contract.number, User.display_name, Payment.received_on, Payment.amount)
            .join(Contract, Contract.id == Payment.contract_id).join(User, User.id == Contract.owner_id)
            .where(in_period(Payment.received_on, period), owner_in(Contract.owner_id, ids))
            .order_by(Payment.received_on, Payment.id).limit(limit)).all()
        return [{"id": i, "contract": n, "owner": o, "received_on": r, "amount": money(a)} for i, n, o, r, a in rows]
    if kpi == "activities_per_rep_week":
        rows = session.execute(
            select(Activity.id, Activity.kind, User.display_name, Activity.done_at, Activity.outcome)
            .join(User, User.id == Activity.owner_id)
            .where(Activity.done_at >= lo, Activity.done_at < hi, owner_in(Activity.owner_id, ids))
            .order_by(Activity.done_at, Activity.id).limit(limit)).all()
        return [{"id": i, "kind": k, "owner": o, "done_at": d, "outcome": oc} for i, k, o, d, oc in rows]
    if kpi in ("new_customers", "cac"):
        stmt = (select(Customer.id, Customer.name, User.display_name, Channel.name, Customer.created_at)
                .outerjoin(User, User.id == Customer.owner_id).outerjoin(Channel, Channel.id == Customer.channel_id)
                .where(Customer.created_at >= lo, Customer.created_at < hi))
        if kpi == "new_customers":
            stmt = stmt.where(Customer.owner_id.is_not(None), owner_in(Customer.owner_id, ids))
        else:
            stmt = stmt.where(Customer.channel_id.is_not(None), true() if ids is None else owner_in(Customer.owner_id, ids))
        rows = session.execute(stmt.order_by(Customer.created_at, Customer.id).limit(limit)).all()
        return [{"id": i, "customer": n, "owner": o, "channel": c, "created_at": t} for i, n, o, c, t in rows]
    rows = session.execute(
        select(ServiceTicket.id, ServiceTicket.title, Customer.name, ServiceTicket.resolved_at, ServiceTicket.satisfaction)
        .join(Customer, Customer.id == ServiceTicket.customer_id)
        .where(ServiceTicket.resolved_at >= lo, ServiceTicket.resolved_at < hi, ServiceTicket.satisfaction.is_not(None),
               owner_in(Customer.owner_id, ids))
        .order_by(ServiceTicket.resolved_at, ServiceTicket.id).limit(limit)).all()
    return [{"id": i, "ticket": ti, "customer": c, "resolved_at": r, "satisfaction": sc} for i, ti, c, r, sc in rows]


__all__ = ["DRILLABLE", "KPIS", "LOWER_IS_BETTER", "cac_by_channel", "change", "clv", "kpi_comparison", "kpi_json",
           "kpi_rows", "kpis", "last_year", "sales_cycle"]
