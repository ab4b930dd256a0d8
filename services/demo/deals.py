"""Deals and their history: close dates follow the season and 20 %/year growth, reps win at
their own rate, each deal walks the open stages in order (sometimes skipping one) and ends
won or lost as the stage rule says; some open deals slipped, some won ones were re-priced."""

from __future__ import annotations

import bisect
from datetime import date

from services.models import CLOSED_STAGE_PROBABILITY

from .context import MONTH_SEASON, Demo


def _close_day_weights(demo: Demo) -> tuple[list[int], list[float]]:
    """Close-date distribution: season × growth × weekdays, over the window + 4 months ahead
    (days as ordinals and their cumulative weights)."""
    days = list(range(demo.s0, demo.a + 120 + 1))
    cum, acc = [], 0.0
    for o in days:
        d = date.fromordinal(o)
        acc += MONTH_SEASON[d.month] * (1 + 0.2 * (o - demo.s0) / 365) * (1.0 if d.weekday() < 5 else 0.15)
        cum.append(acc)
    return days, cum


def _customer_weights(demo: Demo) -> tuple[list[float], list[float]]:
    """Cumulative deal weights of all customers and of the owned ones: bigger tiers and busier
    owners get more deals."""
    tier_w = {"A": 4.0, "B": 2.0, "C": 1.0}
    cust_cum, acc = [], 0.0
    for c in demo.cust:
        acc += tier_w[c[2]] * (demo.volume[c[3] or c[4]])
        cust_cum.append(acc)
    owned_cum, acc = [], 0.0
    for i in demo.owned_idx:
        c = demo.cust[i]
        acc += tier_w[c[2]] * demo.volume[c[3]]
        owned_cum.append(acc)
    return cust_cum, owned_cum


def build(demo: Demo) -> None:
    s, r, v, clock = demo.s, demo.rng, demo.v, demo.clock
    n = s.deals
    days, cum = _close_day_weights(demo)
    targets = r.choices(days, cum_weights=cum, k=n)
    cust_cum, owned_cum = _customer_weights(demo)
    picks = r.choices(range(len(demo.cust)), cum_weights=cust_cum, k=n)
    products = demo.products
    prod_w = [5, 2, 4, 3, 5, 1, 3, 3, 2][: len(products)] + [2] * max(0, len(products) - 9)
    prod_picks = r.choices(range(len(products)), prod_w, k=n)
    open_stages = demo.open_stages
    n_open = len(open_stages)
    ids = list(demo.ids("deal", n))
    deal_cols = ["id", "name", "customer_id", "owner_id", "product_id", "amount", "stage_id", "probability",
                 "expected_close", "channel_id", "next_step", "opened_on", "closed_on", "lost_reason_id",
                 "lost_note", "stage_changed_at", "last_activity_at", "external_id", "created_at", "updated_at",
                 "version"]
    # kept for activities / contracts: (id, cust_idx, owner, opened, end, outcome, amount, product_idx)
    demo.deal_info = []
    hist: list[tuple] = []
    hist_id = demo.next_ids["deal_history"]
    demo.deal_rows = []
    lost_w = [5, 4, 3, 2, 2, 2, 1][: len(demo.lost_reasons)] + [1] * max(0, len(demo.lost_reasons) - 7)
    lost_picks = r.choices(demo.lost_reasons, lost_w, k=n)
    lost_stage_w = [4, 3, 2, 1][:n_open] + [1] * max(0, n_open - 4)
    lost_reach = r.choices(range(1, n_open + 1), lost_stage_w, k=n)
    qty_picks = r.choices((1, 2, 3), (60, 25, 15), k=n)
    cycle_f = {"A": 1.8, "B": 1.2, "C": 0.8}
    size_f = {"A": 1.5, "B": 1.0, "C": 0.7}
    win_f = {"A": 1.15, "B": 1.0, "C": 0.85}
    rnd = r.random
    suffixes = sorted((sfx for sfx, _w in v["suffixes"]), key=len, reverse=True)

    def short_name(name: str) -> str:
        for sfx in suffixes:
            if name.endswith(sfx):
                return name[: -len(sfx)].rstrip()[:60]
        return name[:60]

    short_names = [short_name(c[1]) for c in demo.cust]
    for k in range(n):
        did = ids[k]
        ci = picks[k]
        c = demo.cust[ci]
        end = targets[k]
        if c[3] is None and end >= c[5] - 5:
            # a pool customer only had deals before it was released: give this deal to an owned one
            ci = demo.owned_idx[bisect.bisect_left(owned_cum, r.random() * owned_cum[-1])]
            c = demo.cust[ci]
        owner = c[3] or c[4]
        tier = c[2]
        cycle = int((15 + 45 * rnd()) * cycle_f[tier])
        opened = max(end - cycle, demo.s0 - 20)
        pi = prod_picks[k]
        pid, pname, price, _cost = products[pi]
        qty = qty_picks[k] if price < 100_000 else 1
        amount = int(float(price) * qty * (0.75 + 0.5 * rnd()) * demo.size_factor[owner] * size_f[tier]) // 100 * 100
        amount = max(amount, 1_000)
        if end < demo.a:
            p_win = demo.skill[owner] * win_f[tier]
            if c[3] is None:
                p_win *= 0.3
            outcome = "won" if r.random() < p_win else "lost"
        else:
            outcome = "open"
            opened = min(opened, demo.a - r.randrange(1, 20))
        # stage path: open stages in order (sometimes one skipped), then won/lost
        if outcome == "won":
            reach = n_open
        elif outcome == "lost":
            reach = lost_reach[k]
        else:
            frac = (demo.a - opened) / max(1, end - opened)
            reach = max(1, min(n_open, int(frac * n_open * r.uniform(0.7, 1.3)) + 1))
        path = [open_stages[i][0] for i in range(reach)]
        if len(path) > 2 and r.random() < 0.2:
            del path[r.randrange(1, len(path) - 1)]
        close = end if outcome != "open" else None
        last_day = close if close is not None else demo.a - 1  # nothing happened later today yet
        span = max(1, last_day - opened)
        steps = len(path) + (1 if close is not None else 0)
        stamps = sorted(opened + (span * j) // steps + (r.randrange(0, max(1, span // steps)) if j else 0)
                        for j in range(steps))
        minutes = [demo.business_minute(min(o, last_day)) for o in stamps]
        minutes.sort()
        prev = None
        for j, stage_id in enumerate(path):
            hist.append((hist_id, did, "stage", prev, str(stage_id), str(owner), clock.ts(minutes[j])))
            hist_id += 1
            prev = str(stage_id)
        if outcome == "won":
            final_stage, prob = demo.won_stage, CLOSED_STAGE_PROBABILITY["won"]
        elif outcome == "lost":
            final_stage, prob = demo.lost_stage, CLOSED_STAGE_PROBABILITY["lost"]
        else:
            final_stage = path[-1]
            prob = next(p for sid, p in open_stages if sid == final_stage)
        if close is not None:
            hist.append((hist_id, did, "stage", prev, str(final_stage), str(owner), clock.ts(minutes[-1])))
            hist_id += 1
        expected = end
        if outcome == "open" and r.random() < 0.25:
            # slipped deals: the expected close moved out once (or is already past: overdue)
            old = end - r.randrange(10, 40)
            hist.append((hist_id, did, "expected_close", clock.day(old), clock.day(end), str(owner),
                         clock.ts(minutes[-1] + 60)))
            hist_id += 1
            if r.random() < 0.3:
                expected = demo.a - r.randrange(1, 20)
        if outcome == "won" and r.random() < 0.3:
            before = amount + r.randrange(1, 10) * 1_000
            hist.append((hist_id, did, "amount", f"{before}.00", f"{amount}.00", str(owner),
                         clock.ts(minutes[-1] - 30)))
            hist_id += 1
        lost_reason = lost_note = None
        if outcome == "lost":
            lost_reason = lost_picks[k]
        # early-stage deals without an amount yet (real pipelines have them)
        amount_out = None if outcome == "open" and len(path) == 1 and r.random() < 0.05 else amount
        deal_name = v["deal_name"].format(customer=short_names[ci], product=pname)[:200]
        created = clock.ts(minutes[0])
        demo.deal_rows.append([
            did, deal_name, c[0], owner, pid, amount_out, final_stage, prob,
            clock.day(expected if close is None else close), c[8],
            r.choice(v["next_steps"]) if outcome == "open" else None,
            clock.day(opened), clock.day(close) if close is not None else None, lost_reason, lost_note,
            clock.ts(minutes[-1]), None, None, created, clock.ts(minutes[-1]), 1])
        demo.deal_info.append((did, ci, owner, opened, close if close is not None else demo.a, outcome,
                               amount, pi))
    demo.next_ids["deal_history"] = hist_id
    demo.deal_cols = deal_cols
    demo.rows.add("deal_history", ["id", "deal_id", "field", "old_value", "new_value", "changed_by", "changed_at"],
                  hist)
