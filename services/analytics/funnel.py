"""The funnel: deals and amount reaching each stage, conversion, win rate, leakage, time in
stage, the cohort table and the bottleneck (formulas in docs/KPIS.md, "Funnel").

A deal *reaches* an open stage when it was in it: it is there now, or a stage ``DealHistory``
row moved it into or out of it. So a deal that skipped a stage is not counted in it, and a deal
that moved back is counted in every stage it really was in, once. Won and lost are where a deal
is *now*: a reopened deal counts in the open stages it passed through, not as won. Two deal
sets: the *cohort* (deals opened in the period) and the *pipeline* (deals in an open stage
now, whenever opened). Everything is read from the stage facts the database keeps per deal
and per visit (services.deal_facts), never from each deal's history rows.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, bindparam, case, func, literal_column, null, select, text
from sqlmodel import Session

from services.access import Actor, owner_scope_term
from services.analytics.common import (
    days_between,
    dialect_of,
    float2,
    in_period,
    in_period_bound,
    money,
    ratio,
    stage_ids,
    stage_rows,
)
from services.analytics.filters import DealFilter, deal_conditions_bound, deal_filter_shape
from services.db import shaped
from services.deal_facts import reached, reached_ids, reached_pattern
from services.models import Deal, DealHistory, LostReason, Stage, User
from services.models.sales import ENDED_VISIT
from services.periods import Period

MODES = ("cohort", "pipeline")
# up to this many ended visits of a stage, its median visit is sorted out of them; above it all
# the stage's visits are walked in length order (ix_deal_history_visit_days) instead
WALK_FROM = 10_000
COHORT_DAYS = (30, 60, 90)


@dataclass
class FunnelReport:
    """One funnel: ``stages`` in sequence (open stages, then won), each a dict with
    ``stage_id, stage, kind, reached, amount, without_amount, conversion_next, lost_at,
    lost_amount, avg_days, median_days, in_stage_now, in_stage_amount`` (the
    deals in an open stage now and their amount); money as Decimal."""

    mode: str
    period: Period
    deals: int
    won: int
    lost: int
    won_amount: Decimal
    win_rate: float | None
    stages: list[dict] = field(default_factory=list)
    leakage: list[dict] = field(default_factory=list)
    cohorts: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-friendly: money as float with 2 decimals, dates as ISO strings."""
        out = asdict(self)
        out["period"] = {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()}
        out["won_amount"] = float2(self.won_amount)
        for rows in (out["stages"], out["leakage"], out["cohorts"]):
            for row in rows:
                for k, v in row.items():
                    if isinstance(v, Decimal):
                        row[k] = float2(v)
                    elif isinstance(v, date):
                        row[k] = v.isoformat()
        return out


def _deal_set(mode: str, shape: tuple):
    """CTE of the funnel's deals for a filter shape (``filters.deal_filter_shape``) on bound
    parameters (``_set_params``): ``id, amount, stage_id, owner_id, lost_reason_id,
    opened_on, closed_on`` and the kept stage facts ``stages_reached, stage_entered_from``."""
    return _deal_select(mode, shape).cte("deals")


def _funnel_params(session: Session, actor: Actor, mode: str, period: Period, flt: DealFilter) -> tuple[tuple, dict]:
    """(the filter's shape, every parameter of the funnel's statements)."""
    shape, params = deal_filter_shape(session, actor, flt)
    return shape, _set_params(session, mode, period, params)


def _set_params(session: Session, mode: str, period: Period, params: dict) -> dict:
    """The deal set's parameters: the filter's, the cohort's opening range or the open stages."""
    if mode not in MODES:
        raise ValueError(f"unknown funnel mode {mode!r}")
    if mode == "cohort":
        return {**params, "lo": period.start, "hi": period.end}
    # the open stages' ids as literals (with a join to stage neither planner can tell how
    # few deals are open)
    return {**params, "open_ids": stage_ids(session, "open") or [-1]}


def _deal_select(mode: str, shape: tuple, params: dict | None = None):
    """The deal set's SELECT for a filter shape (``filters.deal_filter_shape``): on bound
    ``lo`` / ``hi`` (cohort: opened in the period) or ``open_ids`` (pipeline), or with
    ``params``' values in (anonymous parameters, for a set read in several statements)."""
    conds = deal_conditions_bound(shape, params)
    if mode == "cohort":
        opened = ((Deal.opened_on >= params["lo"], Deal.opened_on < params["hi"]) if params is not None
                  else in_period_bound(Deal.opened_on))
        return select(Deal.id, Deal.amount, Deal.stage_id, Deal.owner_id, Deal.lost_reason_id, Deal.opened_on,
                      Deal.closed_on, Deal.stages_reached, Deal.stage_entered_from).where(*conds, *opened)
    # open deals are neither lost nor in the cohort table: what the stage board index holds,
    # so the set is read from it alone
    open_ids = bindparam("open_ids", params["open_ids"] if params is not None else None, expanding=True,
                         literal_execute=True)
    return (select(Deal.id, Deal.amount, Deal.stage_id, Deal.owner_id, null().label("lost_reason_id"),
                   null().label("opened_on"), null().label("closed_on"), Deal.stages_reached,
                   null().label("stage_entered_from"))
            .where(*conds, Deal.stage_id.in_(open_ids)))


def _tally(groups, stages) -> dict[int, tuple[int, Decimal, int, int]]:
    """Per open stage: (deals that reached it, their amount, those without amount, those that
    went further — reached an open stage of higher sequence, or are won now, so skipping a
    stage never gives more than 100 % and a reopened deal's old won stage does not count),
    from ``groups`` of (stages_reached, current stage, deals, amount, without amount); only
    stages some deal reached."""
    seq = {sid: sq for sid, _name, kind, _active, sq in stages if kind == "open"}
    won = {sid for sid, _name, kind, _active, _sq in stages if kind == "won"}
    out: dict[int, list] = {}
    for pattern, stage_id, n, total, blank in groups:
        hit = [sid for sid in reached_ids(pattern) if sid in seq]
        top = max((seq[sid] for sid in hit), default=None)
        for sid in hit:
            agg = out.setdefault(sid, [0, money(0), 0, 0])
            agg[0] += int(n)
            if total is not None:  # None: counts only (stage_conversions)
                agg[1] += money(total)
            agg[2] += int(blank)
            if stage_id in won or seq[sid] < top:
                agg[3] += int(n)
    return {sid: tuple(v) for sid, v in out.items()}


def _days_in_stage(session: Session, shape: tuple, params: dict, mode: str, period: Period, flt: DealFilter,
                   open_ids: list[int]) -> dict[int, tuple[float | None, float | None, int]]:
    """Per open stage: (mean days, median days, visits) over the visits of it that ended — a
    stage history row to the deal's next stage row, kept as ``deal_history.days``; a deal
    still in a stage counts there once it moves on. Read from the partial visit indexes: the
    cohort and owner on the rows themselves; the deal set only for the pipeline and for
    product / channel / tier filters."""
    if not open_ids:
        return {}
    # who and which deals (every read below), and the cohort's opening range when there is one
    by_deal = mode != "cohort" or flt.product_id is not None or flt.channel_id is not None or bool(flt.tier)
    out: dict[int, tuple[float | None, float | None, int]] = {}

    def put(sid, n, mean, median) -> None:
        out[int(sid)] = (None if mean is None else round(float(mean), 1),
                         None if median is None else round(float(median), 1), int(n))

    # the middle visit (mean of the two middle ones). A cohort on SQLite: counted first; a
    # stage of more than WALK_FROM visits then walked in length order down
    # ix_deal_history_visit_days — its planner would take the cohort range and sort (40–110 ms
    # a stage at 100k visits here), so the range is written as ``+col``, which no index
    # serves — and the smaller stages' lengths read in one statement. Otherwise counted,
    # averaged and ranked in one statement: one read of the visits.
    params = {**params, "visit_stages": [str(sid) for sid in open_ids]}
    if dialect_of(session) == "sqlite" and mode == "cohort" and not by_deal:
        counts = session.execute(shaped(("funnel.visit_counts", mode, shape, by_deal),
                                        lambda: _visits_statement("counts", mode, shape, by_deal)), params).all()
        small = {value: (n, mean) for value, n, mean in counts if n <= WALK_FROM}
        if small:
            # the smaller stages' visit lengths as plain values, middle ones found here: the
            # counts and means are known, and SQLite's ranking window over them cost 5–6 ms
            # for a rep's year (3k visits), the values 1
            lengths: dict[str, list[float]] = {}
            stmt = shaped(("funnel.visit_lengths", mode, shape, by_deal),
                          lambda: _visits_statement("lengths", mode, shape, by_deal))
            for value, days in session.execute(stmt, {**params, "visit_stages": sorted(small)}).all():
                lengths.setdefault(value, []).append(days)
            for value, (n, mean) in small.items():  # the same transaction: the n lengths counted
                put(value, n, mean, statistics.median(lengths[value]))
        for value, n, mean in counts:
            if n <= WALK_FROM:
                continue
            middle = session.scalars(
                select(DealHistory.days).where(text(ENDED_VISIT), DealHistory.new_value == value,
                                               in_period(literal_column("+deal_history.deal_opened_on"), period),
                                               *_visit_scope(mode, shape, by_deal, params, cohort=False))
                .order_by(DealHistory.days).offset((n - 1) // 2).limit(2 - n % 2)).all()
            put(value, n, mean, sum(middle) / len(middle) if middle else None)
        return out
    for value, n, mean, median in session.execute(
            shaped(("funnel.visit_ranks", mode, shape, by_deal), lambda: _visits_statement("ranks", mode, shape, by_deal)),
            params).all():
        put(value, n, mean, median)
    return out


def _visit_scope(mode: str, shape: tuple, by_deal: bool, params: dict | None = None, cohort: bool = True) -> list:
    """The ended visits' owner (or deal set) and cohort conditions, bound (or ``params``' values
    in); without the cohort's range when ``cohort`` is false."""
    # the deal set holds only the filter's owners' deals (a visit carries its deal's owner):
    # with the owners named again PostgreSQL read every ended visit of a team's deals (68k)
    # and hashed them against the set, 50 ms, instead of the set's visits by deal, 35
    if by_deal:
        scope = [DealHistory.deal_id.in_(select(_deal_select(mode, shape, params).subquery().c.id))]
    else:
        scope = [owner_scope_term(DealHistory.deal_owner_id, shape[0], params)]
    if mode == "cohort" and cohort:
        scope += ([DealHistory.deal_opened_on >= params["lo"], DealHistory.deal_opened_on < params["hi"]]
                  if params is not None else list(in_period_bound(DealHistory.deal_opened_on)))
    return scope


def _visits_statement(what: str, mode: str, shape: tuple, by_deal: bool):
    """The ended visits of the stages ``visit_stages`` (expanding): ``counts`` (stage, visits,
    mean days), ``lengths`` (stage, days) or ``ranks`` (stage, visits, mean, median)."""
    where = [text(ENDED_VISIT), DealHistory.new_value.in_(bindparam("visit_stages", expanding=True)),
             *_visit_scope(mode, shape, by_deal)]
    if what == "counts":
        return (select(DealHistory.new_value, func.count(), func.avg(DealHistory.days)).where(*where)
                .group_by(DealHistory.new_value))
    if what == "lengths":
        return select(DealHistory.new_value, DealHistory.days).where(*where)
    ranked = select(DealHistory.new_value.label("stage"), DealHistory.days.label("days"),
                    func.row_number().over(partition_by=DealHistory.new_value,
                                           order_by=DealHistory.days).label("rn"),
                    func.count().over(partition_by=DealHistory.new_value).label("cnt")) \
        .where(*where).subquery("ranked")
    middle = and_(ranked.c.rn >= (ranked.c.cnt + 1) // 2, ranked.c.rn <= (ranked.c.cnt + 2) // 2)
    return (select(ranked.c.stage, func.count(), func.avg(ranked.c.days), func.avg(case((middle, ranked.c.days))))
            .group_by(ranked.c.stage))


def stage_now(row: dict) -> tuple[int, Decimal]:
    """What the pipeline's bar of a stage row shows (weekly meeting, screen and PDF): the
    deals in an open stage now and their amount; for won / lost, those that reached it and
    their amount."""
    if row["kind"] == "open":
        return row["in_stage_now"], row["in_stage_amount"]
    return row["reached"], row["amount"]


def funnel(session: Session, actor: Actor, *, period: Period, mode: str = "cohort",
           flt: DealFilter | None = None) -> FunnelReport:
    """The funnel of the cohort (deals opened in ``period``) or of the pipeline now. Per stage:
    deals reaching it and their amount (deals without amount counted, amount as 0),
    conversion = share of the deals reaching it that went further (reached an open stage of
    higher sequence, or are won now — so skipping a stage never gives more than 100 %), deals
    lost from it, mean / median days of its ended visits. Win rate = won ÷ (won + lost) of the
    set; ``None`` with nothing closed (shown as "–")."""
    flt = flt or DealFilter()
    shape, params = _funnel_params(session, actor, mode, period, flt)
    stages = stage_rows(session)
    kinds = {sid: kind for sid, _, kind, _, _ in stages}
    open_ids = [sid for sid, kind in kinds.items() if kind == "open"]
    lost_stage_ids = {sid for sid, kind in kinds.items() if kind == "lost"}
    # one grouped pass over the set: by the stages each deal reached (kept on the deal, see
    # services.deal_facts), where it is now, and — for the lost — the stage it was lost from
    # (the old value of its last stage row into where it is now) and the reason; a few
    # hundred groups at most, tallied per stage below
    groups = session.execute(shaped(("funnel.groups", mode, shape), lambda: _groups_statement(mode, shape)),
                             params).all()
    per_stage = _tally([(p, sid, n, total, blank) for p, sid, _f, _r, n, total, blank in groups], stages)
    current: dict[int, tuple[int, Decimal, int]] = {}
    leak: dict[tuple, list] = {}
    for _p, sid, frm, reason_id, n, total, blank in groups:
        n0, t0, b0 = current.get(sid, (0, money(0), 0))
        current[sid] = (n0 + int(n), t0 + money(total), b0 + int(blank))
        if sid in lost_stage_ids:
            agg = leak.setdefault((frm, reason_id), [0, money(0)])
            agg[0] += int(n)
            agg[1] += money(total)
    reasons = dict(session.execute(select(LostReason.id, LostReason.name)).all())
    names = {sid: name for sid, name, _, _, _ in stages}
    leakage, lost_at = [], {}
    for (frm, reason_id), (n, total) in leak.items():
        sid = int(frm) if frm is not None and str(frm).isdigit() else None
        leakage.append({"stage_id": sid, "stage": names.get(sid), "lost_reason_id": reason_id,
                        "lost_reason": reasons.get(reason_id), "deals": int(n), "amount": money(total)})
        agg = lost_at.setdefault(sid, [0, money(0)])
        agg[0] += int(n)
        agg[1] += money(total)
    leakage.sort(key=lambda r: (-r["deals"], r["stage"] or "", r["lost_reason"] or ""))

    durations = _days_in_stage(session, shape, params, mode, period, flt, open_ids)
    shown = [(sid, name, kind) for sid, name, kind, active, _ in stages
             if (kind == "open" and (active or sid in per_stage)) or (kind == "won" and (active or sid in current))]
    rows = []
    for sid, name, kind in shown:
        if kind == "won":
            n, total, blank = current.get(sid, (0, money(0), 0))
        else:
            n, total, blank, _ = per_stage.get(sid, (0, money(0), 0, 0))
        mean, median, _ = durations.get(sid, (None, None, 0))
        rows.append({"stage_id": sid, "stage": name, "kind": kind, "reached": n, "amount": total,
                     "without_amount": blank,
                     "conversion_next": None if kind == "won" else ratio(per_stage.get(sid, (0, 0, 0, 0))[3], n),
                     "lost_at": lost_at.get(sid, [0])[0], "lost_amount": lost_at.get(sid, [0, money(0)])[1],
                     "avg_days": mean, "median_days": median,
                     "in_stage_now": current.get(sid, (0,))[0] if kind == "open" else None,
                     "in_stage_amount": current.get(sid, (0, money(0)))[1] if kind == "open" else None})
    won = sum(current.get(sid, (0,))[0] for sid, k in kinds.items() if k == "won")
    won_amount = sum((current.get(sid, (0, money(0)))[1] for sid, k in kinds.items() if k == "won"), money(0))
    lost = sum(current.get(sid, (0,))[0] for sid, k in kinds.items() if k == "lost")
    total_deals = sum(v[0] for v in current.values())
    cohorts = cohort_table(session, shape, params, kinds) if mode == "cohort" else []
    return FunnelReport(mode, period, total_deals, won, lost, won_amount, ratio(won, won + lost), rows, leakage,
                        cohorts)


def _groups_statement(mode: str, shape: tuple):
    deals = _deal_set(mode, shape)
    return (select(deals.c.stages_reached, deals.c.stage_id, deals.c.stage_entered_from, deals.c.lost_reason_id,
                   func.count(), func.sum(deals.c.amount), func.count(case((deals.c.amount.is_(None), 1))))
            .group_by(deals.c.stages_reached, deals.c.stage_id, deals.c.stage_entered_from, deals.c.lost_reason_id))


def cohort_table(session: Session, shape: tuple, params: dict, kinds: dict[int, str]) -> list[dict]:
    """Per month opened: deals, and how many were won / lost within 30, 60 and 90 days of
    opening (closed_on − opened_on ≤ N); open = the rest — of the cohort of the filter
    ``shape`` (``_funnel_params``)."""
    dialect = dialect_of(session)
    params = {**params, "won_ids": [sid for sid, k in kinds.items() if k == "won"] or [-1],
              "lost_ids": [sid for sid, k in kinds.items() if k == "lost"] or [-1]}
    months: dict[date, list[int]] = {}
    stmt = shaped(("funnel.cohorts", shape, dialect), lambda: _cohort_statement(shape, dialect))
    for day, *counts in session.execute(stmt, params).all():
        day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
        acc = months.setdefault(day.replace(day=1), [0] * len(counts))
        for i, v in enumerate(counts):
            acc[i] += int(v)
    out = []
    for month in sorted(months):
        total, *closed = months[month]
        item = {"month": month, "deals": total}
        for i, n in enumerate(COHORT_DAYS):
            won_n, lost_n = closed[2 * i], closed[2 * i + 1]
            item[f"won_{n}"], item[f"lost_{n}"], item[f"open_{n}"] = won_n, lost_n, total - won_n - lost_n
        out.append(item)
    return out


def _cohort_statement(shape: tuple, dialect: str):
    deals = _deal_set("cohort", shape)
    age = days_between(deals.c.closed_on, deals.c.opened_on, dialect)
    won, lost = bindparam("won_ids", expanding=True), bindparam("lost_ids", expanding=True)
    # per day opened (the cohort index's order: no sort), folded into months by the caller
    cols = [deals.c.opened_on, func.count()]
    for n in COHORT_DAYS:
        cols.append(func.count(case((and_(deals.c.stage_id.in_(won), age <= n), 1))))
        cols.append(func.count(case((and_(deals.c.stage_id.in_(lost), age <= n), 1))))
    return select(*cols).group_by(deals.c.opened_on)


def stage_deals(session: Session, actor: Actor, *, period: Period, stage_id: int, mode: str = "cohort",
                flt: DealFilter | None = None, limit: int = 200) -> list[dict]:
    """The funnel's deals that reached ``stage_id`` (for a won stage: that are won), largest
    first: ``id, name, owner, amount, stage, expected_close``."""
    flt = flt or DealFilter()
    shape, params = _funnel_params(session, actor, mode, period, flt)
    kind = {sid: k for sid, _name, k, _active, _seq in stage_rows(session)}.get(stage_id)
    params = {**params, "stage_id": stage_id,
              "pattern": reached_pattern(stage_id)}
    rows = session.execute(shaped(("funnel.stage_deals", mode, shape, kind == "open", limit),
                                  lambda: _stage_deals_statement(mode, shape, kind == "open", limit)), params).all()
    return [{"id": i, "name": n, "owner": o, "amount": None if a is None else money(a), "stage": s,
             "expected_close": e} for i, n, o, a, s, e in rows]


def _stage_deals_statement(mode: str, shape: tuple, open_stage: bool, limit: int):
    deals = _deal_set(mode, shape)
    hit = reached(deals.c.stages_reached, bindparam("pattern")) if open_stage else deals.c.stage_id == bindparam("stage_id")
    # the largest ``limit`` first, from the deal set's own columns (the cohort index holds
    # them), then only those joined to their names: joining every deal of the set before the
    # sort cost a director's first stage (100k deals a year) 129 ms
    top = (select(deals.c.id, deals.c.amount).where(hit)
           .order_by(deals.c.amount.desc().nulls_last(), deals.c.id).limit(limit).subquery("top"))
    return (select(Deal.id, Deal.name, User.display_name, Deal.amount, Stage.name, Deal.expected_close)
            .join(top, top.c.id == Deal.id).join(User, User.id == Deal.owner_id).join(Stage, Stage.id == Deal.stage_id)
            .order_by(top.c.amount.desc().nulls_last(), Deal.id))


@dataclass
class StageConversions:
    """The cohort's onward conversion per open stage — the funnel's ``reached`` and
    ``conversion_next`` (the same ``_tally``), shown for the same stages — in total
    (``stages``: ``stage_id, stage, reached, conversion_next``) and per owner (``by_owner``:
    owner → stage → (reached, went further)), with the cohort's won, lost and win rate."""

    stages: list[dict]
    by_owner: dict[int, dict[int, tuple[int, int]]]
    won: int
    lost: int
    win_rate: float | None


def stage_conversions(session: Session, actor: Actor, *, period: Period,
                      flt: DealFilter | None = None) -> StageConversions:
    """The funnel's conversions of the deals opened in ``period`` without its amounts, days
    in stage, leakage and cohort table: one grouped read by owner (counts only: 850 groups for
    a director's year), for the Performance page's strip and the weakest-stage finding."""
    flt = flt or DealFilter()
    shape, params = _funnel_params(session, actor, "cohort", period, flt)
    stages = stage_rows(session)
    kinds = {sid: kind for sid, _name, kind, _active, _sq in stages}
    groups: dict[int, list] = {}
    for owner, pattern, sid, n in session.execute(
            shaped(("funnel.conversions", shape), lambda: _conversions_statement(shape)), params).all():
        groups.setdefault(owner, []).append((pattern, sid, n, None, 0))
    by_owner: dict[int, dict[int, tuple[int, int]]] = {}
    for owner, rows in groups.items():
        per = _tally(rows, stages)
        if per:
            by_owner[owner] = {sid: (n, advanced) for sid, (n, _total, _blank, advanced) in per.items()}
    every = [g for rows in groups.values() for g in rows]
    total = _tally(every, stages)
    shown = [{"stage_id": sid, "stage": name, "reached": total.get(sid, (0,))[0],
              "conversion_next": ratio(total.get(sid, (0, 0, 0, 0))[3], total.get(sid, (0,))[0])}
             for sid, name, kind, active, _sq in stages if kind == "open" and (active or sid in total)]
    won = sum(int(n) for _p, sid, n, _t, _b in every if kinds.get(sid) == "won")
    lost = sum(int(n) for _p, sid, n, _t, _b in every if kinds.get(sid) == "lost")
    return StageConversions(shown, by_owner, won, lost, ratio(won, won + lost))


def _conversions_statement(shape: tuple):
    deals = _deal_set("cohort", shape)
    return (select(deals.c.owner_id, deals.c.stages_reached, deals.c.stage_id, func.count())
            .group_by(deals.c.owner_id, deals.c.stages_reached, deals.c.stage_id))


def bottleneck(session: Session, actor: Actor, *, period: Period, flt: DealFilter | None = None,
               baseline: DealFilter | None = None, report: FunnelReport | None = None) -> dict | None:
    """The stage whose conversion to the next is furthest below the baseline's: the wider
    group's funnel (a rep's team, a team's company — within what the actor sees) when
    ``baseline`` is given, else the mean conversion over the stages. ``None`` when no stage
    has a conversion."""
    flt = flt or DealFilter()
    report = report or funnel(session, actor, period=period, flt=flt)
    base = {}
    if baseline is not None:
        wider = funnel(session, actor, period=period, flt=baseline)
        base = {r["stage_id"]: r["conversion_next"] for r in wider.stages}
    convs = [r["conversion_next"] for r in report.stages if r["conversion_next"] is not None]
    if not convs:
        return None
    mean = sum(convs) / len(convs)
    worst = None
    for r in report.stages:
        conv = r["conversion_next"]
        if conv is None:
            continue
        ref = base.get(r["stage_id"]) if base.get(r["stage_id"]) is not None else mean
        gap = ref - conv
        if worst is None or gap > worst["gap"]:
            worst = {"stage_id": r["stage_id"], "stage": r["stage"], "conversion": conv, "baseline": ref, "gap": gap,
                     "reached": r["reached"], "against": "group" if base else "mean"}
    return worst


__all__ = ["COHORT_DAYS", "MODES", "FunnelReport", "StageConversions", "bottleneck", "cohort_table", "funnel",
           "stage_conversions", "stage_deals"]
