"""Performance reviews (monthly for the company, quarterly per team) with their findings from
the closed deals and follow-up actions."""

from __future__ import annotations

from datetime import date, timedelta

from services.periods import add_months

from .context import Demo


def _closed_by_month(demo: Demo) -> dict[tuple[int, int, int], list[int]]:
    """[won count, lost count, won amount] of the closed deals per (year, month, owner)."""
    agg: dict[tuple[int, int, int], list[int]] = {}
    for _did, _ci, owner, _o, last_day, outcome, amt, _pi in demo.deal_info:
        if outcome == "open":
            continue
        d = date.fromordinal(last_day)
        row = agg.setdefault((d.year, d.month, owner), [0, 0, 0])
        if outcome == "won":
            row[0] += 1
            row[2] += amt
        else:
            row[1] += 1
    return agg


def _closed_stats(by_month: dict[tuple[int, int, int], list[int]], owners: list[int], start: date,
                  months: int) -> tuple[int, int, int]:
    """(won count, lost count, won amount) of deals closed in ``months`` months from ``start``."""
    won = lost = amount = 0
    for k in range(months):
        m = add_months(start, k)
        for owner in owners:
            row = by_month.get((m.year, m.month, owner))
            if row:
                won, lost, amount = won + row[0], lost + row[1], amount + row[2]
    return won, lost, amount


def build(demo: Demo) -> None:
    r, v = demo.rng, demo.v
    from services.i18n import format_money, format_percent

    rv_cols = ["id", "period_start", "period_end", "scope", "team_id", "user_id", "findings", "created_by",
               "created_at"]
    ac_cols = ["id", "review_id", "title", "owner_id", "due_on", "status"]
    reviews, actions = [], []
    reason_names = demo.v["lost_reasons"]
    this_month = demo.anchor.replace(day=1)
    items = []
    for k in range(1, 13):
        ms = add_months(this_month, -k)
        if ms < demo.start:
            break
        items.append(("company", None, ms, 1, demo.director))
    q_start = date(demo.anchor.year, (demo.anchor.month - 1) // 3 * 3 + 1, 1)
    for k in range(1, 5):
        qs = add_months(q_start, -3 * k)
        if qs < demo.start:
            break
        for tm in demo.teams:
            items.append(("team", tm, qs, 3, demo.managers[tm]))
    team_names = {row[0]: row[1] for row in demo.rows.tables["team"][1]}
    by_month = _closed_by_month(demo)
    for scope, team, ps, n_months, author in items:
        pe = add_months(ps, n_months)
        won, lost, amount = _closed_stats(by_month, demo.team_reps[team] if team else demo.reps, ps, n_months)
        rate = format_percent(won / (won + lost) if won + lost else 0, demo.lang)
        money = format_money(amount, demo.lang)
        period = f"{ps.year}-{ps.month:02d}" if scope == "company" else f"{ps.year}Q{(ps.month - 1) // 3 + 1}"
        if scope == "company":
            findings = v["review_company"].format(period=period, won=won, amount=money, rate=rate,
                                                  reason=r.choice(reason_names[:3]))
        else:
            findings = v["review_team"].format(team=team_names[team], period=period, won=won, amount=money,
                                               rate=rate)
        rid = demo.ids("review", 1)[0]
        created_day = pe.toordinal() + r.randrange(1, 5)
        reviews.append((rid, ps.isoformat(), (pe - timedelta(days=1)).isoformat(), scope, team, None, findings,
                        author, demo.clock.ts(demo.business_minute(min(created_day, demo.a)))))
        pool = demo.team_reps[team] if team else [demo.managers[x] for x in demo.teams]
        for title in r.sample(v["review_actions"], r.randrange(2, 4)):
            due = created_day + r.randrange(10, 35)
            if due < demo.a - 7:
                status = r.choices(("done", "dropped", "in_progress"), (8, 1, 1))[0]
            else:
                status = r.choice(("open", "in_progress"))
            actions.append((demo.ids("review_action", 1)[0], rid, title, r.choice(pool),
                            demo.clock.day(due), status))
    demo.rows.add("review", rv_cols, reviews)
    demo.rows.add("review_action", ac_cols, actions)
