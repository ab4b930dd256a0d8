"""Weekly forecast snapshots for the last 26 weeks per company, team and rep, shaped as
``analytics.forecast.take_snapshot`` writes them: each company week, the month it falls in and
the next two, one row per scope key ("company", "team:<id>", "user:<id>") and month."""

from __future__ import annotations

import bisect
from datetime import date

from services.analytics.forecast import SNAPSHOT_MONTHS
from services.periods import add_months

from .context import Demo


def build(demo: Demo) -> None:
    r = demo.rng
    cols = ["id", "taken_on", "week_start", "scope_key", "period_start", "period_end", "scope", "team_id",
            "user_id", "weighted_amount", "commit_amount", "best_case_amount", "won_to_date"]
    rows = []
    scopes: list[tuple[str, str, int | None, int | None, set[int] | None]] = [
        ("company", "company", None, None, None)]
    scopes += [("team", f"team:{tm}", tm, None, set(demo.team_reps[tm])) for tm in demo.teams]
    scopes += [("user", f"user:{u}", None, u, {u}) for u in demo.reps]
    # won amounts per scope as sorted (day, cumulative) for quick "won to date"
    by_owner: dict[int, list[tuple[int, int]]] = {}
    for owner, closed, amount, _ci in demo.won:
        by_owner.setdefault(owner, []).append((closed, amount))
    days: dict[int, list[int]] = {}
    sums: dict[int, list[int]] = {}
    for u, items in by_owner.items():
        items.sort()
        days[u] = [d for d, _a in items]
        acc, cum = 0, [0]
        for _d, a in items:
            acc += a
            cum.append(acc)
        sums[u] = cum

    def won_between(owners, lo, hi):
        total = 0
        for u in owners if owners is not None else demo.reps:
            if u in days:
                total += sums[u][bisect.bisect_left(days[u], hi)] - sums[u][bisect.bisect_left(days[u], lo)]
        return total

    monday = demo.a - date.fromordinal(demo.a).weekday()
    for w in range(26):
        taken = monday - 7 * w
        td = date.fromordinal(taken)
        for i in range(SNAPSHOT_MONTHS):
            ms = add_months(date(td.year, td.month, 1), i)
            me = add_months(ms, 1)
            for scope, key, team, user, owners in scopes:
                wtd = won_between(owners, ms.toordinal(), taken) if i == 0 else 0
                final = won_between(owners, ms.toordinal(), min(me.toordinal(), demo.a + 1))
                if me.toordinal() > demo.a:  # a month not over yet: the rest is still pipeline
                    final = int(final * (me.toordinal() - ms.toordinal()) / max(1, demo.a - ms.toordinal() + 1))
                rest = max(0, final - wtd)
                weighted = wtd + int(rest * r.uniform(0.8, 1.25))
                commit = wtd + int(rest * r.uniform(0.55, 0.85))
                best = wtd + int(rest * r.uniform(1.3, 1.7))
                rows.append((demo.ids("forecast_snapshot", 1)[0], td.isoformat(), td.isoformat(), key, ms.isoformat(),
                             me.isoformat(), scope, team, user, weighted, commit, best, wtd))
    demo.rows.add("forecast_snapshot", cols, rows)

