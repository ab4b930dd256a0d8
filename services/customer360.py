"""Customer 360: everything about one customer on one screen, through the same access
rules as every other read (the customer must be visible; deals, activities and contracts
are filtered by their owner; a rep sees a pool customer without private details).

Customer lifetime value (CLV) — the simple, explainable estimate sales teams use:

    CLV = average annual won revenue × gross margin rate × expected lifetime (years)

- average annual won revenue = Σ won deal amounts ÷ years since the first won deal
  (at least 1 year, so a new customer is not extrapolated from a few weeks);
- gross margin rate = the won revenue-weighted margin of the products sold,
  Σ(amountᵢ × (list priceᵢ − unit costᵢ) ÷ list priceᵢ) ÷ Σ amountᵢ over won deals whose
  product has a list price; when no won deal has a priced product the margin is unknown
  and the estimate is on revenue (margin 100%), which the screen says;
- expected lifetime: ``DEFAULT_LIFETIME_YEARS`` (3) unless given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import and_, func, select
from sqlmodel import Session

from services import settings as settings_service
from services.access import (
    Actor,
    ensure_can_edit_customer,
    get_visible_customer,
    owner_filter,
)
from services.activities import list_customer_activities
from services.clock import company_today
from services.contacts import list_contacts
from services.contracts import list_customer_contracts
from services.customers import CustomerFilter, get_customer, list_customers_page
from services.deals import list_customer_deals
from services.errors import PermissionDenied
from services.i18n import format_money, format_percent, t
from services.models import ContactRead, Customer, Deal, Product, Stage, utcnow
from services.tickets import OPEN_STATUSES, list_customer_tickets

DEFAULT_LIFETIME_YEARS = 3
DAYS_PER_YEAR = Decimal("365.25")
CENT = Decimal("0.01")

PURCHASE_COLUMNS = ["product_id", "product", "deals", "amount", "last_won_on"]
FEEDBACK_COLUMNS = ["at", "source", "text", "satisfaction", "by"]


@dataclass
class ClvEstimate:
    """The CLV and every number that went into it (shown next to the formula)."""

    value: Decimal
    total_won: Decimal
    won_deals: int
    first_won_on: date | None
    years_observed: Decimal
    avg_annual_revenue: Decimal
    margin_rate: Decimal | None  # None: no priced product among the won deals
    lifetime_years: Decimal

    def formula(self, locale: str | None) -> str:
        margin = format_percent(self.margin_rate, locale) if self.margin_rate is not None else t(
            "customer360.clv_margin_unknown", locale)
        return t("customer360.clv_formula", locale,
                 annual=format_money(self.avg_annual_revenue, locale, compact=False),
                 total=format_money(self.total_won, locale, compact=False),
                 years=f"{self.years_observed:.2f}", margin=margin, lifetime=f"{self.lifetime_years:g}",
                 clv=format_money(self.value, locale, compact=False))


@dataclass
class CustomerProfile:
    """Customer 360. DataFrames are display-ready; ``customer`` is the grid row dict (private
    fields None when ``private_hidden``)."""

    customer: dict[str, Any]
    can_edit: bool
    private_hidden: bool
    contacts: list[ContactRead]
    timeline: pd.DataFrame
    deals: pd.DataFrame
    contracts: pd.DataFrame
    tickets: pd.DataFrame
    purchase_history: pd.DataFrame
    feedback: pd.DataFrame
    clv: ClvEstimate
    last_contact_at: datetime | None
    next_follow_up: date | None
    totals: dict[str, Any] = field(default_factory=dict)


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _won_deals(session: Session, actor: Actor, customer_id: int):
    return session.execute(
        select(Deal.id, Deal.amount, Deal.closed_on, Deal.product_id, Product.name.label("product"),
               Product.list_price, Product.unit_cost)
        .join(Stage, Stage.id == Deal.stage_id)
        .outerjoin(Product, Product.id == Deal.product_id)
        .where(Deal.customer_id == customer_id, Stage.kind == "won", owner_filter(session, actor, Deal.owner_id))
    ).all()


def clv_estimate(session: Session, actor: Actor, *, customer_id: int, today: date | None = None,
                 lifetime_years: Decimal | int | float = DEFAULT_LIFETIME_YEARS) -> ClvEstimate:
    """CLV = average annual won revenue × gross margin rate × expected lifetime (module
    docstring has each term). Only won deals the actor may see count."""
    get_visible_customer(session, actor, customer_id)
    return _clv(_won_deals(session, actor, customer_id), today or company_today(session), lifetime_years)


def _clv(rows, today: date, lifetime_years: Decimal | int | float) -> ClvEstimate:
    total = sum((r.amount or Decimal(0) for r in rows), Decimal(0))
    closed = [r.closed_on for r in rows if r.closed_on is not None]
    first = min(closed) if closed else None
    years = max(Decimal(1), Decimal((today - first).days) / DAYS_PER_YEAR) if first else Decimal(1)
    annual = total / years
    priced = [r for r in rows if r.list_price and r.list_price > 0 and r.amount]
    weight = sum((r.amount for r in priced), Decimal(0))
    margin = (sum((r.amount * (r.list_price - r.unit_cost) / r.list_price for r in priced), Decimal(0)) / weight
              if weight > 0 else None)
    life = Decimal(str(lifetime_years))
    value = annual * (margin if margin is not None else Decimal(1)) * life if rows else Decimal(0)
    return ClvEstimate(value=_q(value), total_won=_q(total), won_deals=len(rows), first_won_on=first,
                       years_observed=years.quantize(CENT), avg_annual_revenue=_q(annual),
                       margin_rate=margin.quantize(Decimal("0.0001")) if margin is not None else None,
                       lifetime_years=life)


def purchase_history(session: Session, actor: Actor, *, customer_id: int) -> pd.DataFrame:
    """Won deals grouped by product (SQL group by): deals, amount, last won date; biggest
    amount first. Deals without a product form one row with product None."""
    get_visible_customer(session, actor, customer_id)
    return _purchase_history(session, actor, customer_id)


def _purchase_history(session: Session, actor: Actor, customer_id: int) -> pd.DataFrame:
    amount = func.coalesce(func.sum(Deal.amount), 0)
    rows = session.execute(
        select(Deal.product_id, Product.name.label("product"), func.count(Deal.id).label("deals"),
               amount.label("amount"), func.max(Deal.closed_on).label("last_won_on"))
        .join(Stage, Stage.id == Deal.stage_id)
        .outerjoin(Product, Product.id == Deal.product_id)
        .where(and_(Deal.customer_id == customer_id, Stage.kind == "won",
                    owner_filter(session, actor, Deal.owner_id)))
        .group_by(Deal.product_id, Product.name)
        .order_by(amount.desc())
    ).all()
    records = [{**dict(r._mapping), "amount": _q(Decimal(str(r.amount)))} for r in rows]
    return pd.DataFrame.from_records(records, columns=PURCHASE_COLUMNS)


def _present(value: Any) -> bool:
    """Not None / NaN / NaT / empty text (pandas 3 turns missing text into NaN)."""
    if value is None:
        return False
    try:
        if pd.isna(value):
            return False
    except (TypeError, ValueError):
        return True
    return not (isinstance(value, str) and not value.strip())


def _feedback(timeline: pd.DataFrame, tickets: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    """Service activities with an outcome or notes, and resolved tickets (resolution and
    satisfaction), newest first."""
    records: list[dict[str, Any]] = []
    if not timeline.empty:
        for r in timeline[timeline["kind"] == "service"].to_dict("records"):
            text = " — ".join(str(x) for x in (r.get("outcome"), r.get("notes")) if _present(x))
            if text:
                records.append({"at": r["at"] if _present(r["at"]) else None, "source": "activity", "text": text,
                                "satisfaction": None, "by": r.get("owner_name")})
    if not tickets.empty:
        for r in tickets.to_dict("records"):
            if _present(r.get("resolution")) or _present(r.get("satisfaction")):
                at = r.get("resolved_at")
                text = f"{r['title']}: {r['resolution']}" if _present(r.get("resolution")) else str(r["title"])
                records.append({"at": pd.Timestamp(at).tz_convert(tz).to_pydatetime() if _present(at) else None,
                                "source": "ticket", "text": text,
                                "satisfaction": int(r["satisfaction"]) if _present(r.get("satisfaction")) else None,
                                "by": r.get("assignee_name") if _present(r.get("assignee_name")) else None})
    records.sort(key=lambda x: x["at"] or datetime.min.replace(tzinfo=UTC), reverse=True)
    return pd.DataFrame.from_records(records, columns=FEEDBACK_COLUMNS)


def _sum(frame: pd.DataFrame, column: str) -> Decimal:
    """Σ of a money column, missing values as 0."""
    return sum((Decimal(str(v)) for v in frame[column] if _present(v)), Decimal(0))


def customer_profile(session: Session, actor: Actor, *, customer_id: int, today: date | None = None,
                     lifetime_years: Decimal | int | float = DEFAULT_LIFETIME_YEARS,
                     timeline_limit: int = 100) -> CustomerProfile:
    """The customer 360 for a visible customer (``NotFound`` otherwise). Contacts are empty
    when private details are hidden (a rep on a pool customer). Totals: won amount, open
    pipeline (Σ amount of open deals, empty amounts as 0), contract amount, collected, due
    to date, outstanding (contract amount − collected), open tickets, average satisfaction."""
    tz = ZoneInfo(settings_service.get(session, "timezone") or "Asia/Shanghai")
    today = today or utcnow().astimezone(tz).date()
    customer = get_customer(session, actor, customer_id=customer_id)  # NotFound unless visible
    private_ok = not customer["private_hidden"]
    try:
        ensure_can_edit_customer(session, actor, session.get(Customer, customer_id))
        can_edit = True
    except PermissionDenied:
        can_edit = False
    contacts = list_contacts(session, actor, customer_id=customer_id) if private_ok else []
    timeline = list_customer_activities(session, actor, customer_id=customer_id, limit=timeline_limit, tz=tz)
    deals = list_customer_deals(session, actor, customer_id=customer_id)
    contracts = list_customer_contracts(session, actor, customer_id=customer_id, today=today)
    tickets = list_customer_tickets(session, actor, customer_id=customer_id)
    history = _purchase_history(session, actor, customer_id)
    clv = _clv(_won_deals(session, actor, customer_id), today, lifetime_years)

    planned = timeline[timeline["status"] == "planned"]["at"] if not timeline.empty else pd.Series([], dtype=object)
    candidates = [d for d in [customer.get("next_contact_on")] if _present(d)]
    candidates += [pd.Timestamp(a).date() for a in planned if _present(a)]
    next_follow_up = min(candidates) if candidates else None

    open_deals = deals[deals["stage_kind"] == "open"] if not deals.empty else deals
    sat = tickets["satisfaction"].dropna() if not tickets.empty else pd.Series([], dtype=float)
    contract_amount, collected = _sum(contracts, "amount"), _sum(contracts, "collected")
    totals = {
        "won_amount": clv.total_won,
        "won_deals": clv.won_deals,
        "open_deals": len(open_deals),
        "open_pipeline": _q(_sum(open_deals, "amount")),
        "contract_amount": _q(contract_amount),
        "collected": _q(collected),
        "due_to_date": _q(_sum(contracts, "due_to_date")),
        "outstanding": _q(contract_amount - collected),
        "open_tickets": int(tickets["status"].isin(OPEN_STATUSES).sum()) if not tickets.empty else 0,
        "avg_satisfaction": round(float(sat.astype(float).mean()), 2) if len(sat) else None,
    }
    last = customer.get("last_contact_at") if _present(customer.get("last_contact_at")) else None
    return CustomerProfile(
        customer=customer, can_edit=can_edit, private_hidden=not private_ok, contacts=contacts, timeline=timeline,
        deals=deals, contracts=contracts, tickets=tickets, purchase_history=history,
        feedback=_feedback(timeline, tickets, tz), clv=clv,
        last_contact_at=None if last is None else (last if last.tzinfo else last.replace(tzinfo=UTC)),
        next_follow_up=next_follow_up, totals=totals,
    )


def find_customers(session: Session, actor: Actor, *, search: str = "", limit: int = 20) -> list[tuple[int, str]]:
    """(id, name) of visible, live customers matching a search (name, phone, email, credit
    code — the grid's search), for the customer picker."""
    df, _ = list_customers_page(session, actor, filters=CustomerFilter(search=search or None), page_size=limit)
    return [(int(i), str(n)) for i, n in zip(df["id"], df["name"], strict=True)]
