"""The team programme: courses and enrollments, incentive schemes and monthly payouts, awards
(top seller of the month, million club, champion) and team events."""

from __future__ import annotations

import json
from datetime import date

from services.periods import add_months

from .context import Demo


def build(demo: Demo) -> None:
    _courses(demo)
    best_by_month = _incentives(demo)
    _awards(demo, best_by_month)
    _events(demo)


def _courses(demo: Demo) -> None:
    """Courses, and enrollments of every rep and manager in 3–7 of them."""
    r, v, clock = demo.rng, demo.v, demo.clock
    course_rows, enrol_rows = [], []
    passing = 60
    course_ids = []
    for title, cat, hours in v["courses"]:
        cid = demo.ids("course", 1)[0]
        course_ids.append(cid)
        course_rows.append((cid, title, cat, hours, passing, None, True))
    learners = demo.reps + list(demo.managers.values())
    for u in learners:
        for cid in r.sample(course_ids, r.randrange(3, min(7, len(course_ids)) + 1)):
            assigned = demo.a - r.randrange(0, 365)
            due = assigned + 30
            if due < demo.a:
                score = r.randrange(45, 100)
                status = "completed" if score >= passing else "failed"
                done = clock.day(min(demo.a, due - r.randrange(0, 25)))
            elif r.random() < 0.4:
                score, status, done = None, "in_progress", None
            else:
                score, status, done = None, "assigned", None
            if status == "completed" and r.random() < 0.1:
                score, status, done = None, "assigned", None  # overdue: never finished
            enrol_rows.append((demo.ids("enrollment", 1)[0], cid, u, clock.day(assigned), clock.day(due), status,
                               done, score))
    demo.rows.add("course", ["id", "title", "category", "duration_hours", "passing_score", "description", "active"],
                  course_rows)
    demo.rows.add("enrollment", ["id", "course_id", "user_id", "assigned_on", "due_on", "status", "completed_on",
                                 "score"], enrol_rows)


def _incentives(demo: Demo) -> dict[date, tuple[int, int]]:
    """Incentive schemes (tiers JSON as documented on models.IncentiveScheme) and monthly
    payouts; returns the best rep (and amount) of each paid-out month."""
    v = demo.v
    tiers_full = [{"from": 0, "to": 100000, "rate": 0.02}, {"from": 100000, "to": 300000, "rate": 0.03},
                  {"from": 300000, "to": None, "rate": 0.05}]
    tiers_excess = [{"from": 0, "to": 200000, "rate": 0.01}, {"from": 200000, "to": 500000, "rate": 0.02},
                    {"from": 500000, "to": None, "rate": 0.03}]
    tiers_bonus = [{"attainment": 1.0, "bonus": 5000}, {"attainment": 1.2, "bonus": 10000}]
    tiers_contest = [{"rank": 1, "bonus": 20000}, {"rank": 2, "bonus": 10000}, {"rank": 3, "bonus": 5000}]
    ystart = date(demo.anchor.year, 1, 1).isoformat()
    specs = [("won_amount", "tiered_full", tiers_full, "month"), ("collections", "tiered_excess", tiers_excess,
                                                                    "quarter"),
             ("won_amount", "attainment_bonus", tiers_bonus, "quarter"), ("won_amount", "contest", tiers_contest,
                                                                          "year")]
    schemes, scheme_ids = [], []
    for name, (basis, kind, tiers, period) in zip(v["schemes"], specs, strict=True):
        sid = demo.ids("incentive_scheme", 1)[0]
        scheme_ids.append(sid)
        schemes.append((sid, name, basis, kind, json.dumps(tiers), period, "rep", None,
                        demo.year_first.isoformat() if kind != "contest" else ystart, None, True))
    demo.rows.add("incentive_scheme", ["id", "name", "basis", "kind", "tiers", "period_kind", "applies_role",
                                       "team_id", "starts_on", "ends_on", "active"], schemes)
    # payouts: monthly commission for the last 12 closed months (full progression: the whole
    # amount at the rate of the highest tier reached)
    payouts = []
    this_month = demo.anchor.replace(day=1)
    won_month: dict[tuple[int, date], int] = {}
    for owner, closed, amount, _ci in demo.won:
        d = date.fromordinal(closed)
        key = (owner, date(d.year, d.month, 1))
        won_month[key] = won_month.get(key, 0) + amount
    best_by_month: dict[date, tuple[int, int]] = {}
    for k in range(1, 13):
        ms = add_months(this_month, -k)
        if ms < demo.start:
            break
        for u in demo.reps:
            basis_amt = won_month.get((u, ms), 0)
            rate = next(tr["rate"] for tr in reversed(tiers_full) if basis_amt >= tr["from"])
            amount = int(round(basis_amt * rate))
            approved = k > 1
            paid = k > 2
            payouts.append((demo.ids("payout", 1)[0], scheme_ids[0], u, ms.isoformat(), basis_amt, amount,
                            approved, demo.director if approved else None, paid,
                            add_months(ms, 2).isoformat() if paid else None))
            if basis_amt > best_by_month.get(ms, (0, 0))[1]:
                best_by_month[ms] = (u, basis_amt)
    demo.rows.add("payout", ["id", "scheme_id", "user_id", "period_start", "basis_amount", "amount", "approved",
                             "approved_by", "paid", "paid_on"], payouts)
    return best_by_month


def _awards(demo: Demo, best_by_month: dict[date, tuple[int, int]]) -> None:
    """Top seller of each month, the million club of the last 365 days, and its champion."""
    v = demo.v
    awards = []
    for ms, (u, _amt) in sorted(best_by_month.items()):
        awards.append((demo.ids("award", 1)[0], u, v["awards"]["monthly"], "badge",
                       add_months(ms, 1).isoformat(), ms.strftime("%Y-%m")))
    total_by_rep: dict[int, int] = {}
    for owner, closed, amount, _ci in demo.won:
        if closed >= demo.a - 365:
            total_by_rep[owner] = total_by_rep.get(owner, 0) + amount
    for u, amt in sorted(total_by_rep.items()):
        if amt >= 1_000_000:
            awards.append((demo.ids("award", 1)[0], u, v["awards"]["club"], "badge", demo.clock.day(demo.a - 1),
                           None))
    if total_by_rep:
        champ = max(sorted(total_by_rep), key=lambda u: total_by_rep[u])
        awards.append((demo.ids("award", 1)[0], champ, v["awards"]["quarter"], "contest",
                       demo.clock.day(demo.a - 3), None))
    demo.rows.add("award", ["id", "user_id", "title", "kind", "awarded_on", "note"], awards)


def _events(demo: Demo) -> None:
    """A team event per team in each of the last four quarters (none in the future)."""
    r, v = demo.rng, demo.v
    events = []
    q_start = date(demo.anchor.year, (demo.anchor.month - 1) // 3 * 3 + 1, 1)
    for k in range(0, 4):
        qs = add_months(q_start, -3 * k)
        for tm in demo.teams:
            held = qs.toordinal() + r.randrange(10, 80)
            if held > demo.a:
                continue
            heads = len(demo.team_reps[tm]) + 1
            city = demo.v["regions"][demo.team_region[tm]][2][0]
            events.append((demo.ids("team_event", 1)[0], r.choice(v["events"]).format(place=city),
                           demo.clock.day(held), tm, heads, heads * r.randrange(150, 400), None))
    demo.rows.add("team_event", ["id", "title", "held_on", "team_id", "participants", "cost", "notes"], events)
