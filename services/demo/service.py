"""Service tickets on about a third of the won customers, older ones resolved or closed."""

from __future__ import annotations

from .context import Demo


def build(demo: Demo) -> None:
    r, v, clock = demo.rng, demo.v, demo.clock
    cols = ["id", "customer_id", "title", "category", "priority", "description", "assignee_id", "status",
            "opened_at", "resolved_at", "closed_at", "satisfaction", "resolution"]
    rows = []
    tid = demo.next_ids["service_ticket"]
    cats = list(v["ticket_titles"])
    for owner, closed, _amount, ci in demo.won:
        if r.random() > 0.3:
            continue
        opened = closed + r.randrange(10, 200)
        if opened >= demo.a:
            continue
        cat = r.choices(cats, [2, 5, 3, 1, 1, 1])[0]
        pri = r.choices(("low", "normal", "high", "urgent"), (3, 6, 2, 1))[0]
        age = demo.a - opened
        if age > 30:
            status = r.choices(("closed", "resolved"), (7, 3))[0]
        else:
            status = r.choices(("open", "assigned", "resolved"), (3, 4, 3))[0]
        om = demo.business_minute(opened)
        res = clo = sat = None
        if status in ("resolved", "closed"):
            rd = min(demo.a, opened + r.randrange(0, 10))
            res = clock.ts(max(om + 30, demo.business_minute(rd)))
            sat = r.choices((1, 2, 3, 4, 5), (1, 2, 6, 14, 12))[0]
            if status == "closed":
                clo = clock.ts(max(om + 60, demo.business_minute(min(demo.a, rd + r.randrange(0, 5)))))
        rows.append((tid, demo.cust[ci][0], r.choice(v["ticket_titles"][cat]), cat, pri, None,
                     owner if status != "open" else None, status, clock.ts(om), res, clo, sat, None))
        tid += 1
    demo.next_ids["service_ticket"] = tid
    demo.rows.add("service_ticket", cols, rows)
