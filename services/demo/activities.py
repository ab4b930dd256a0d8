"""Activities: more on won deals than lost ones, a contract signing at each win, touches
without a deal, owned customers contacted inside their tier's reclaim window (a few stale on
purpose), and planned follow-ups (most in the coming two weeks, some overdue)."""

from __future__ import annotations

from .context import TIER_RECLAIM, Demo


def build(demo: Demo) -> None:
    s, r, v, clock = demo.s, demo.rng, demo.v, demo.clock
    cols = ["id", "kind", "customer_id", "deal_id", "contact_id", "owner_id", "planned_at", "done_at",
            "duration_minutes", "outcome", "notes", "next_step", "next_contact_on", "location", "external_id",
            "created_at"]
    rows: list[tuple] = []
    aid = demo.next_ids["activity"]
    kinds = ["call", "email", "meeting", "visit", "demo", "other"]
    kind_w = [35, 20, 14, 16, 9, 6]
    outcomes = v["outcomes"]
    durations = {"call": 15, "email": 5, "meeting": 60, "visit": 90, "demo": 60, "contract_signing": 60,
                 "service": 30, "other": 10}
    last_contact = [0] * len(demo.cust)  # max done minute per customer
    next_contact = [0] * len(demo.cust)  # earliest planned day per customer
    deal_last: dict[int, int] = {}
    open_deals = [d for d in demo.deal_info if d[5] == "open"]
    planned_budget = int(len(open_deals) * 0.7) + len(demo.owned_idx) // 10
    recent_budget = len(demo.owned_idx)
    remaining = max(0, s.activities - planned_budget - recent_budget)
    weight = {"won": 3.0, "lost": 1.0, "open": 1.4}
    total_w = sum(weight[d[5]] for d in demo.deal_info) or 1
    per_w = 0.8 * remaining / total_w
    cust_budget = remaining - int(per_w * total_w)
    kind_picks = r.choices(kinds, kind_w, k=s.activities + 10)
    n_picks = len(kind_picks)
    kp = 0

    def add(kind, ci, deal_id, owner, done_min, planned_min, note_day=None):
        nonlocal aid, kp
        contacts = demo.contacts[ci]
        contact = contacts[0] if len(contacts) == 1 else r.choice(contacts)
        c = demo.cust[ci]
        outcome = r.choice(outcomes[kind]) if done_min is not None else None
        when = done_min if done_min is not None else planned_min
        rows.append((aid, kind, c[0], deal_id, contact, owner,
                     clock.ts(planned_min) if planned_min is not None else None,
                     clock.ts(done_min) if done_min is not None else None,
                     durations[kind], outcome, None,
                     r.choice(v["next_steps"]) if done_min is not None and r.random() < 0.3 else None,
                     clock.day(note_day) if note_day else None,
                     c[7] if kind == "visit" else None, None, clock.ts(when)))
        aid += 1

    for did, ci, owner, opened, last_day, outcome, _amount, _pi in demo.deal_info:
        k = int(weight[outcome] * per_w + r.random())
        if outcome == "won":
            k = max(k, 2)
        span = max(1, last_day - opened)
        best = 0
        for _ in range(k):
            kind = kind_picks[kp % n_picks]
            kp += 1
            m = demo.business_minute(opened + r.randrange(span))
            add(kind, ci, did, owner, m, None)
            best = max(best, m)
        if outcome == "won":
            m = demo.business_minute(last_day)
            add("contract_signing", ci, did, owner, m, None)
            best = max(best, m)
        if best:
            deal_last[did] = best
            if best > last_contact[ci]:
                last_contact[ci] = best
    # customer-level touches (no deal): spread over each customer's life
    owned = demo.owned_idx
    touch_picks = r.choices(range(len(demo.cust)), k=cust_budget) if cust_budget else []
    for ci in touch_picks:
        c = demo.cust[ci]
        owner = c[3] or c[4]
        hi = c[5] - 1 if c[3] is None else demo.a - 1
        day = hi - r.randrange(0, max(1, min(hi - demo.s0, 700)))
        m = demo.business_minute(day)
        kind = kind_picks[kp % n_picks]
        add(kind if kind != "demo" else "service", ci, None, owner, m, None)
        kp += 1
        if m > last_contact[ci]:
            last_contact[ci] = m
    # every owned customer was contacted inside its tier's reclaim window — except ~2 % left
    # stale on purpose (``salesops pool reclaim`` has something to do)
    for ci in owned:
        c = demo.cust[ci]
        window = TIER_RECLAIM[c[2]]
        stale = r.random() < 0.02
        if not stale and last_contact[ci] >= clock.minute(demo.a - window + 3, 0):
            continue
        day = demo.a - (window + r.randrange(3, 30) if stale else r.randrange(1, window - 3))
        m = demo.business_minute(day)
        if m > last_contact[ci]:
            add(r.choice(("call", "email", "visit")), ci, None, c[3], m, None)
            last_contact[ci] = m
    # planned follow-ups: most in the coming two weeks, some overdue
    for did, ci, owner, _opened, _last, _outcome, _amount, _pi in r.sample(open_deals, int(len(open_deals) * 0.7)):
        day = demo.a + r.randrange(1, 15) if r.random() < 0.8 else demo.a - r.randrange(1, 10)
        m = demo.business_minute(day)
        add(r.choice(("call", "visit", "meeting", "demo")), ci, did, owner, None, m, day)
        if day >= demo.a and (not next_contact[ci] or day < next_contact[ci]):
            next_contact[ci] = day
    for ci in r.sample(owned, len(owned) // 10):
        c = demo.cust[ci]
        day = demo.a + r.randrange(1, 21) if r.random() < 0.8 else demo.a - r.randrange(1, 7)
        add(r.choice(("call", "visit")), ci, None, c[3], None, demo.business_minute(day), day)
        if day >= demo.a and (not next_contact[ci] or day < next_contact[ci]):
            next_contact[ci] = day
    demo.next_ids["activity"] = aid
    demo.last_contact = last_contact
    demo.next_contact = next_contact
    demo.deal_last = deal_last
    demo.rows.add("activity", cols, rows)
    # deals now know their last activity
    for row in demo.deal_rows:
        m = deal_last.get(row[0])
        if m:
            row[16] = clock.ts(m)
    demo.rows.add("deal", demo.deal_cols, [tuple(x) for x in demo.deal_rows])
    del demo.deal_rows
