"""Targets: contract amount (base and stretch), collections and activities, per year, quarter
and month, for the company, each team and each rep — set the way the Goals page does it:
the company's year in round numbers, split with the goals split rule to the teams (by their
reps' expected share), each team to its reps, each rep's year to its months (by their
seasonal pattern); quarters, team months and company months are the sums of those parts, so
every parent is exactly the sum of its parts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.goals.split import split_amount
from services.periods import add_months

from .context import MONTH_SEASON, Demo


def _months(demo: Demo) -> list[date]:
    out, m = [], demo.year_first
    while m.year <= demo.anchor.year:
        out.append(m)
        m = add_months(m, 1)
    return out


def build(demo: Demo) -> None:
    r, v = demo.rng, demo.v
    months = _months(demo)
    mi = {m: i for i, m in enumerate(months)}
    won = {u: [0] * len(months) for u in demo.reps}
    acts = {u: [0] * len(months) for u in demo.reps}
    for owner, closed, amount, _ci in demo.won:
        d = date.fromordinal(closed)
        k = mi.get(date(d.year, d.month, 1))
        if k is not None and owner in won:
            won[owner][k] += amount
    act_cols = demo.rows.tables["activity"][0]
    i_owner, i_done = act_cols.index("owner_id"), act_cols.index("done_at")
    for row in demo.rows.tables["activity"][1]:
        done = row[i_done]
        if done and row[i_owner] in acts:
            k = mi.get(date(int(done[:4]), int(done[5:7]), 1))
            if k is not None:
                acts[row[i_owner]][k] += 1
    this_month = demo.anchor.replace(day=1)
    cols = ["id", "metric", "scope", "team_id", "user_id", "period_kind", "period_start", "tier", "value",
            "parent_id", "basis_market", "basis_history", "basis_capacity", "created_at"]
    rows: list[tuple] = []
    created = demo.clock.ts(demo.clock.minute(demo.year_first.toordinal() - 20, 600))
    demo.target_ids = {}

    def rep_month_values(u: int, metric: str) -> list[int]:
        series = won[u] if metric != "activities" else acts[u]
        known = [x for m, x in zip(months, series, strict=True) if demo.start <= m < this_month]
        avg = sum(known) / len(known) if known else 0
        out = []
        for m, x in zip(months, series, strict=True):
            base = x if demo.start <= m < this_month else avg * MONTH_SEASON[m.month] * 1.1
            if metric == "activities":
                out.append(int(max(base, avg * 0.8) * r.uniform(1.0, 1.2) / 10 + 1) * 10)
            else:
                val = max(base, avg * 0.6) * r.uniform(0.9, 1.25)
                if metric == "collections":
                    val *= 0.85
                out.append(int(val / 10_000 + 1) * 10_000)
        return out

    def emit(metric, tier, scope, team, user, kind, start, value, parent, basis=False) -> int:
        tid = demo.ids("target", 1)[0]
        rows.append((tid, metric, scope, team, user, kind, start.isoformat(), tier, value, parent,
                     v["basis_market"] if basis else None, v["basis_history"] if basis else None,
                     v["basis_capacity"] if basis else None, created))
        demo.target_ids[(metric, tier, scope, team or user or 0, kind, start)] = tid
        return tid

    plan = [("contract_amount", "base", 1.0), ("contract_amount", "stretch", 1.2), ("collections", "base", 1.0),
            ("activities", "base", 1.0)]
    base_values = {(u, m): rep_month_values(u, m) for u in demo.reps for m in ("contract_amount", "collections",
                                                                                 "activities")}
    years = sorted({m.year for m in months})
    split_values: dict[int, list[int]] = {u: [0] * len(months) for u in demo.reps}
    for metric, tier, factor in plan:
        for year in years:
            idx = [i for i, m in enumerate(months) if m.year == year]

            def val(u, i, metric=metric, factor=factor):
                x = base_values[(u, metric)][i]
                return int(x * factor / 1000) * 1000 if factor != 1.0 else x

            ystart = date(year, 1, 1)
            estimate = {u: {i: val(u, i) for i in idx} for u in demo.reps}
            # as a director sets it: the company's year in round numbers, then split down the
            # tree with the goals split rule (team → its reps' share, rep → their months)
            company_total = _round_up(sum(sum(d.values()) for d in estimate.values()), metric)
            teams = [tm for tm in demo.teams if demo.team_reps[tm]]
            team_totals = dict(zip(teams, _split(company_total, [sum(sum(estimate[u].values())
                                                                   for u in demo.team_reps[tm]) for tm in teams]),
                                   strict=True))
            per_month: dict[int, dict[int, int]] = {}
            for tm in teams:
                reps = demo.team_reps[tm]
                for u, total in zip(reps, _split(team_totals[tm], [sum(estimate[u].values()) for u in reps]),
                                    strict=True):
                    per_month[u] = dict(zip(idx, _split(total, [estimate[u][i] for i in idx]), strict=True))
            if (metric, tier) == ("contract_amount", "base"):
                for u, values in per_month.items():
                    for i, x in values.items():
                        split_values[u][i] = x
            cy = emit(metric, tier, "company", demo.company_id, None, "year", ystart, company_total, None, True)
            _periods(emit, metric, tier, "company", demo.company_id, None, year, idx, months,
                     {i: sum(per_month[u][i] for u in per_month) for i in idx}, cy)
            for team in teams:
                reps = demo.team_reps[team]
                ty = emit(metric, tier, "team", team, None, "year", ystart, team_totals[team], cy, True)
                _periods(emit, metric, tier, "team", team, None, year, idx, months,
                         {i: sum(per_month[u][i] for u in reps) for i in idx}, ty)
                for u in reps:
                    uy = emit(metric, tier, "user", None, u, "year", ystart, sum(per_month[u].values()), ty)
                    _periods(emit, metric, tier, "user", None, u, year, idx, months, per_month[u], uy)
    # team ids on user targets stay null: the user's team can change, the target is theirs
    demo.rep_month_target = split_values
    demo.months = months
    demo.rows.add("target", cols, rows)


def _round_up(total: int, metric: str) -> int:
    """A year target as people write it: up to the next 100,000 (activities: the next 100)."""
    step = 100 if metric == "activities" else 100_000
    return -(-total // step) * step


def _split(whole: int, weights: list[int]) -> list[int]:
    """``whole`` (currency units or counts) split by ``weights`` with the goals split rule
    (``services.goals.split.split_amount``: parts add up exactly); equal without weights."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    return [int(p) for p in split_amount(Decimal(whole), weights, unit=Decimal(1))]


def _periods(emit, metric, tier, scope, team, user, year, idx, months, per_month, year_id) -> None:
    for q in range(4):
        q_idx = [i for i in idx if (months[i].month - 1) // 3 == q]
        if not q_idx:
            continue
        qid = emit(metric, tier, scope, team, user, "quarter", date(year, q * 3 + 1, 1),
                   sum(per_month[i] for i in q_idx), year_id)
        for i in q_idx:
            emit(metric, tier, scope, team, user, "month", months[i], per_month[i], qid)
