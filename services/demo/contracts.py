"""Contracts for every won deal with a payment plan of 1–3 installments (parts add up to the
whole, the remainder on the largest) and payments: most on time, some partial, some overdue."""

from __future__ import annotations

from datetime import date

from services.periods import add_months

from .context import Demo, split_whole


def build(demo: Demo) -> None:
    r, v, clock = demo.rng, demo.v, demo.clock
    c_cols = ["id", "number", "deal_id", "customer_id", "owner_id", "amount", "signed_on", "start_on", "end_on",
              "term_months", "status", "created_at", "version"]
    p_cols = ["id", "contract_id", "installment", "due_on", "amount", "note"]
    pay_cols = ["id", "contract_id", "plan_id", "received_on", "amount", "method", "note", "recorded_by",
                "created_at"]
    contracts, plans, payments = [], [], []
    cid = demo.next_ids["contract"]
    plid = demo.next_ids["payment_plan"]
    payid = demo.next_ids["payment"]
    per_day: dict[int, int] = {}
    demo.won = []  # (owner, closed ordinal, amount, customer idx)
    demo.collected = []  # (owner, received ordinal, amount)
    shapes = {1: [1.0], 2: [0.5, 0.5], 3: [0.3, 0.6, 0.1]}
    offsets = {1: [15], 2: [10, 90], 3: [10, 60, 180]}
    for did, ci, owner, _opened, closed, outcome, amount, _pi in demo.deal_info:
        if outcome != "won":
            continue
        demo.won.append((owner, closed, amount, ci))
        per_day[closed] = per_day.get(closed, 0) + 1
        number = f"HT-{clock.day(closed).replace('-', '')}-{per_day[closed]:04d}"
        start = closed + r.randrange(0, 15)
        term = r.choice((12, 12, 24, 36))
        end = add_months(date.fromordinal(start).replace(day=1), term).toordinal() + date.fromordinal(start).day - 2
        n = 1 if amount < 50_000 else r.choice((2, 3, 3))
        parts = split_whole(amount, shapes[n])
        paid_all = True
        for j, (part, off) in enumerate(zip(parts, offsets[n], strict=True)):
            due = closed + off
            plans.append((plid, cid, j + 1, clock.day(due), part, None))
            roll = r.random()
            if due <= demo.a:
                if roll < 0.82:
                    got, when = part, min(demo.a, due + r.randrange(-5, 20))
                elif roll < 0.9:
                    got, when = int(part * r.uniform(0.3, 0.7)), min(demo.a, due + r.randrange(0, 15))
                else:
                    got, when = 0, 0
            elif roll < 0.08:
                got, when = part, max(closed, min(demo.a, due - r.randrange(1, 20)))
            else:
                got, when = 0, 0
            if got:
                payments.append((payid, cid, plid, clock.day(when), got, r.choice(v["pay_methods"]), None, owner,
                                 clock.ts(demo.business_minute(when))))
                demo.collected.append((owner, when, got))
                payid += 1
            if got < part:
                paid_all = False
            plid += 1
        if closed > demo.a - 3 and r.random() < 0.3:
            status = "draft"
        elif end < demo.a and paid_all:
            status = "completed"
        elif start <= demo.a:
            status = "executing"
        else:
            status = "signed"
        contracts.append((cid, number, did, demo.cust[ci][0], owner, amount, clock.day(closed), clock.day(start),
                          clock.day(end), term, status, clock.ts(demo.business_minute(closed)), 1))
        cid += 1
    demo.next_ids.update(contract=cid, payment_plan=plid, payment=payid)
    demo.rows.add("contract", c_cols, contracts)
    demo.rows.add("payment_plan", p_cols, plans)
    demo.rows.add("payment", pay_cols, payments)
