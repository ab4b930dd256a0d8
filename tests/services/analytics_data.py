"""The small hand-built company the funnel, forecast, KPI, findings and review tests share.

Company time zone Asia/Shanghai (the default); "now" 2026-11-27 00:00 UTC. Stages: Qualify 10,
Needs 20, Proposal 30, Negotiation 40, Won, Lost. November cohort (opened in November):
  D1 n1 10,000  Qualify 11-02 → Needs 11-05 → Proposal 11-10 → Won 11-20
  D2 n1  5,000  Qualify 11-03 → Proposal 11-08 (skips Needs) → Lost 11-15 (reason Price)
  D3 n1  (none) Qualify 11-04 → Needs 11-06 → Proposal 11-10 → back to Needs 11-12 (open)
  D4 n1  8,000  Qualify 11-05 → Negotiation 11-07 → Won 11-12 → reopened to Negotiation 11-14
  D5 n2  2,000  Qualify 11-06 (open)
Outside the cohort: D6 n1 3,000 Proposal since 10-20 (open, opened in October).
Expected close / probability of the open deals: D3 12-15 25 %, D4 12-10 80 %, D5 2027-01-20 10 %,
D6 10-15 50 % (late). Targets: company 30,000 for December; rep n1 20,000 for November.
History rows at 00:00 UTC, so days in a stage are whole numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from services.db import session_scope
from services.models import Customer, Deal, DealHistory, LostReason, Target

NOW = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)


def utc(y, m, d, h=0):
    return datetime(y, m, d, h, tzinfo=UTC)


@dataclass
class Deals:
    ids: dict[str, int]
    price: int
    customer: int


def build_deals(engine, org) -> Deals:
    st = org.stages
    with session_scope(engine) as s:
        price = LostReason(name="Price")
        cust = Customer(name="Acme Buyer", owner_id=org.rep_n1.id, created_at=utc(2026, 10, 1))
        s.add_all([price, cust])
        s.flush()

        def deal(key, owner, amount, path, *, opened, closed=None, prob=None, expected=None, reason=None):
            final = path[-1][0]
            d = Deal(name=key, owner_id=owner, customer_id=cust.id, stage_id=st[final],
                     amount=None if amount is None else Decimal(amount), opened_on=opened, closed_on=closed,
                     probability=prob if prob is not None else {"Won": 100, "Lost": 0}.get(final, 10),
                     expected_close=expected, lost_reason_id=reason, stage_changed_at=path[-1][1])
            s.add(d)
            s.flush()
            prev = None
            for stage, at in path:
                s.add(DealHistory(deal_id=d.id, field="stage", old_value=None if prev is None else str(st[prev]),
                                  new_value=str(st[stage]), changed_at=at))
                prev = stage
            return d.id

        n1, n2 = org.rep_n1.id, org.rep_n2.id
        ids = {
            "D1": deal("D1", n1, "10000", [("Qualify", utc(2026, 11, 2)), ("Needs", utc(2026, 11, 5)),
                                           ("Proposal", utc(2026, 11, 10)), ("Won", utc(2026, 11, 20))],
                       opened=date(2026, 11, 2), closed=date(2026, 11, 20)),
            "D2": deal("D2", n1, "5000", [("Qualify", utc(2026, 11, 3)), ("Proposal", utc(2026, 11, 8)),
                                          ("Lost", utc(2026, 11, 15))],
                       opened=date(2026, 11, 3), closed=date(2026, 11, 15), reason=price.id),
            "D3": deal("D3", n1, None, [("Qualify", utc(2026, 11, 4)), ("Needs", utc(2026, 11, 6)),
                                        ("Proposal", utc(2026, 11, 10)), ("Needs", utc(2026, 11, 12))],
                       opened=date(2026, 11, 4), prob=25, expected=date(2026, 12, 15)),
            "D4": deal("D4", n1, "8000", [("Qualify", utc(2026, 11, 5)), ("Negotiation", utc(2026, 11, 7)),
                                          ("Won", utc(2026, 11, 12)), ("Negotiation", utc(2026, 11, 14))],
                       opened=date(2026, 11, 5), prob=80, expected=date(2026, 12, 10)),
            "D5": deal("D5", n2, "2000", [("Qualify", utc(2026, 11, 6))], opened=date(2026, 11, 6), prob=10,
                       expected=date(2027, 1, 20)),
            "D6": deal("D6", n1, "3000", [("Proposal", utc(2026, 10, 20))], opened=date(2026, 10, 20), prob=50,
                       expected=date(2026, 10, 15)),  # already late: counts in November
        }
        # base contract-amount targets: the company 30,000 for December, rep n1 20,000 for November
        s.add(Target(metric="contract_amount", scope="company", period_kind="month", period_start=date(2026, 12, 1),
                     value=Decimal("30000")))
        s.add(Target(metric="contract_amount", scope="user", user_id=n1, team_id=org.team_n, period_kind="month",
                     period_start=date(2026, 11, 1), value=Decimal("20000")))
        return Deals(ids, price.id, cust.id)
