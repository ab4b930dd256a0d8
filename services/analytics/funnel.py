"""The funnel: deals and amount reaching each stage, conversion, win rate, leakage, time in
stage, the cohort table and the bottleneck (formulas in docs/KPIS.md, "Funnel").

A deal *reaches* an open stage when its ``DealHistory`` has a stage row into it, or it is in
it now (deals created before history was kept). So a deal that skipped a stage is not
counted in it, and a deal that moved back is counted in every stage it really was in, once.
Won and lost are where a deal is *now*: a reopened deal counts in the open stages it passed
through, not as won. Two deal sets: the *cohort* (deals opened in the period) and the
*pipeline* (deals in an open stage now, whenever opened).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    extract,
    func,
    or_,
    select,
    union,
)
from sqlmodel import Session

from services.access import Actor
from services.analytics.common import days_between, dialect_of, float2, in_period, money, month_bucket, ratio
from services.analytics.filters import DealFilter, deal_conditions
from services.models import Deal, DealHistory, LostReason, Stage, User
from services.periods import Period

MODES = ("cohort", "pipeline")
COHORT_DAYS = (30, 60, 90)


@dataclass
class FunnelReport:
    """One funnel: ``stages`` in sequence (open stages, then won), each a dict with
    ``stage_id, stage, kind, reached, amount, without_amount, conversion_next, lost_at,
    lost_amount, avg_days, median_days, in_stage_now``; money as Decimal."""

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


def _deal_set(session: Session, actor: Actor, mode: str, period: Period, flt: DealFilter):
    """Subquery of the funnel's deals: ``id, amount, stage_id, owner_id, lost_reason_id``."""
    if mode not in MODES:
        raise ValueError(f"unknown funnel mode {mode!r}")
    conds = deal_conditions(session, actor, flt)
    stmt = select(Deal.id, Deal.amount, Deal.stage_id, Deal.owner_id, Deal.lost_reason_id, Deal.opened_on,
                  Deal.closed_on).where(*conds)
    if mode == "cohort":
        stmt = stmt.where(in_period(Deal.opened_on, period))
    else:
        stmt = stmt.join(Stage, Stage.id == Deal.stage_id).where(Stage.kind == "open")
    # CTEs, not subqueries: the set is read several times per statement, and PostgreSQL
    # materialises a CTE used more than once (a subquery is planned again at every use)
    return stmt.cte("deals")


def _reached(deals):
    """(deal_id, stage_id) for every stage a deal of ``deals`` was in: stage history rows
    plus its current stage."""
    # the stage ids as text, matched without a join: a join to ``stage`` lets SQLite start
    # from the stages and index all of deal_history by value, instead of reading each deal's
    # rows from its index range; only rows naming a stage are cast, so the cast cannot fail
    stage_ids = select(cast(Stage.id, String))
    into = (select(DealHistory.deal_id.label("deal_id"), cast(DealHistory.new_value, Integer).label("stage_id"))
            .where(DealHistory.field == "stage", DealHistory.deal_id.in_(select(deals.c.id)),
                   DealHistory.new_value.in_(stage_ids)))
    now = select(deals.c.id.label("deal_id"), deals.c.stage_id.label("stage_id"))
    return union(into, now).cte("reached")


def _eligible(deals):
    """The stages a deal counts in: every open stage it was in, and its won stage if it is
    won now (a reopened deal's old won row does not count); with the stage's sequence, the
    deal's amount and owner, and ``furthest`` — the highest sequence the deal counts in (one
    window over the rows, so the set is read once)."""
    reached = _reached(deals)
    furthest = func.max(Stage.sequence).over(partition_by=reached.c.deal_id)
    return (select(reached.c.deal_id, reached.c.stage_id, Stage.sequence, deals.c.amount, deals.c.owner_id,
                   furthest.label("furthest"))
            .join(Stage, Stage.id == reached.c.stage_id).join(deals, deals.c.id == reached.c.deal_id)
            .where(or_(Stage.kind == "open", and_(Stage.kind == "won", reached.c.stage_id == deals.c.stage_id)))
            .subquery("eligible"))


def _seconds_to_days(later, earlier, dialect: str):
    if dialect == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return extract("epoch", later - earlier) / 86400.0


def _days_in_stage(session: Session, deals, now: datetime) -> dict[int, tuple[float | None, float | None, int]]:
    """Per open stage: (mean days, median days, visits). A visit lasts from its stage history
    row to the deal's next stage row, or to ``now`` while the deal is still there."""
    dialect = dialect_of(session)
    nxt = func.lead(DealHistory.changed_at).over(partition_by=DealHistory.deal_id,
                                                 order_by=(DealHistory.changed_at, DealHistory.id))
    visits = (select(DealHistory.deal_id, DealHistory.new_value.label("stage_txt"),
                     DealHistory.changed_at.label("entered"), nxt.label("left_at"))
              .where(DealHistory.field == "stage", DealHistory.deal_id.in_(select(deals.c.id)))
              .subquery("visits"))
    if dialect == "sqlite":
        now_value = bindparam("now", now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "), type_=String)
    else:
        now_value = bindparam("now", now, type_=DateTime(timezone=True))
    days = _seconds_to_days(func.coalesce(visits.c.left_at, now_value), visits.c.entered, dialect)
    # open stages as a list of their ids as text (no join: see ``_reached``)
    open_ids = select(cast(Stage.id, String)).where(Stage.kind == "open")
    spans = (select(cast(visits.c.stage_txt, Integer).label("stage_id"), days.label("days"))
             .where(visits.c.stage_txt.in_(open_ids)).subquery("spans"))
    ranked = select(spans.c.stage_id, spans.c.days,
                    func.row_number().over(partition_by=spans.c.stage_id, order_by=spans.c.days).label("rn"),
                    func.count().over(partition_by=spans.c.stage_id).label("cnt")).subquery("ranked")
    middle = and_(ranked.c.rn >= (ranked.c.cnt + 1) // 2, ranked.c.rn <= (ranked.c.cnt + 2) // 2)
    rows = session.execute(
        select(ranked.c.stage_id, func.avg(ranked.c.days), func.avg(case((middle, ranked.c.days))), func.count())
        .group_by(ranked.c.stage_id)).all()
    return {sid: (None if m is None else round(float(m), 1), None if md is None else round(float(md), 1), int(n))
            for sid, m, md, n in rows}


def funnel(session: Session, actor: Actor, *, period: Period, mode: str = "cohort", flt: DealFilter | None = None,
           now: datetime | None = None) -> FunnelReport:
    """The funnel of the cohort (deals opened in ``period``) or of the pipeline now. Per stage:
    deals reaching it and their amount (deals without amount counted, amount as 0),
    conversion = share of the deals reaching it that went further (reached an open stage of
    higher sequence, or are won now — so skipping a stage never gives more than 100 %), deals lost from it, mean /
    median days in it. Win rate = won ÷ (won + lost) of the set; ``None`` with nothing
    closed (shown as "–")."""
    flt = flt or DealFilter()
    now = now or datetime.now(UTC)
    deals = _deal_set(session, actor, mode, period, flt)
    stages = session.execute(select(Stage.id, Stage.name, Stage.kind, Stage.active)
                             .order_by(Stage.sequence, Stage.id)).all()
    kinds = {sid: kind for sid, _, kind, _ in stages}
    e = _eligible(deals)
    per_stage = {
        sid: (int(n), money(total), int(blank), int(advanced))
        for sid, n, total, blank, advanced in session.execute(
            select(e.c.stage_id, func.count(), func.sum(e.c.amount), func.count(case((e.c.amount.is_(None), 1))),
                   func.count(case((e.c.furthest > e.c.sequence, 1))))
            .group_by(e.c.stage_id)).all()
    }
    now_rows = session.execute(
        select(deals.c.stage_id, func.count(), func.sum(deals.c.amount), func.count(case((deals.c.amount.is_(None), 1))))
        .group_by(deals.c.stage_id)).all()
    current = {sid: (int(n), money(total), int(blank)) for sid, n, total, blank in now_rows}

    # the stage each lost deal was lost from: the old value of its last stage row into where it is
    from_stage = (select(DealHistory.old_value).where(DealHistory.deal_id == deals.c.id, DealHistory.field == "stage",
                                                      DealHistory.new_value == cast(deals.c.stage_id, String))
                  .order_by(DealHistory.changed_at.desc(), DealHistory.id.desc()).limit(1).scalar_subquery())
    lost_stage_ids = [sid for sid, kind in kinds.items() if kind == "lost"]
    # the lost deals with their from-stage first, then grouped: grouping on the correlated
    # subquery itself makes SQLite run it twice per deal
    lost = (select(from_stage.label("from_stage"), deals.c.lost_reason_id, deals.c.amount)
            .where(deals.c.stage_id.in_(lost_stage_ids or [-1])).subquery("lost"))
    leak_rows = session.execute(
        select(lost.c.from_stage, lost.c.lost_reason_id, func.count(), func.sum(lost.c.amount))
        .group_by(lost.c.from_stage, lost.c.lost_reason_id)).all() if lost_stage_ids else []
    reasons = dict(session.execute(select(LostReason.id, LostReason.name)).all())
    names = {sid: name for sid, name, _, _ in stages}
    leakage, lost_at = [], {}
    for frm, reason_id, n, total in leak_rows:
        sid = int(frm) if frm is not None and str(frm).isdigit() else None
        leakage.append({"stage_id": sid, "stage": names.get(sid), "lost_reason_id": reason_id,
                        "lost_reason": reasons.get(reason_id), "deals": int(n), "amount": money(total)})
        agg = lost_at.setdefault(sid, [0, money(0)])
        agg[0] += int(n)
        agg[1] += money(total)
    leakage.sort(key=lambda r: (-r["deals"], r["stage"] or "", r["lost_reason"] or ""))

    durations = _days_in_stage(session, deals, now)
    shown = [(sid, name, kind) for sid, name, kind, active in stages
             if kind in ("open", "won") and (active or sid in per_stage)]
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
                     "in_stage_now": current.get(sid, (0,))[0] if kind == "open" else None})
    won = sum(current.get(sid, (0,))[0] for sid, k in kinds.items() if k == "won")
    won_amount = sum((current.get(sid, (0, money(0)))[1] for sid, k in kinds.items() if k == "won"), money(0))
    lost = sum(current.get(sid, (0,))[0] for sid, k in kinds.items() if k == "lost")
    total_deals = sum(v[0] for v in current.values())
    cohorts = cohort_table(session, deals, kinds) if mode == "cohort" else []
    return FunnelReport(mode, period, total_deals, won, lost, won_amount, ratio(won, won + lost), rows, leakage,
                        cohorts)


def cohort_table(session: Session, deals, kinds: dict[int, str]) -> list[dict]:
    """Per month opened: deals, and how many were won / lost within 30, 60 and 90 days of
    opening (closed_on − opened_on ≤ N); open = the rest."""
    dialect = dialect_of(session)
    won_ids = [sid for sid, k in kinds.items() if k == "won"] or [-1]
    lost_ids = [sid for sid, k in kinds.items() if k == "lost"] or [-1]
    age = days_between(deals.c.closed_on, deals.c.opened_on, dialect)
    bucket = month_bucket(deals.c.opened_on, dialect).label("month")
    cols = [bucket, func.count()]
    for n in COHORT_DAYS:
        cols.append(func.count(case((and_(deals.c.stage_id.in_(won_ids), age <= n), 1))))
        cols.append(func.count(case((and_(deals.c.stage_id.in_(lost_ids), age <= n), 1))))
    out = []
    for row in session.execute(select(*cols).group_by(bucket).order_by(bucket)).all():
        month = row[0] if isinstance(row[0], date) else date.fromisoformat(str(row[0])[:10])
        item = {"month": month, "deals": int(row[1])}
        for i, n in enumerate(COHORT_DAYS):
            won_n, lost_n = int(row[2 + 2 * i]), int(row[3 + 2 * i])
            item[f"won_{n}"], item[f"lost_{n}"], item[f"open_{n}"] = won_n, lost_n, int(row[1]) - won_n - lost_n
        out.append(item)
    return out


def stage_deals(session: Session, actor: Actor, *, period: Period, stage_id: int, mode: str = "cohort",
                flt: DealFilter | None = None, limit: int = 200) -> list[dict]:
    """The funnel's deals that reached ``stage_id`` (for a won stage: that are won), largest
    first: ``id, name, owner, amount, stage, expected_close``."""
    flt = flt or DealFilter()
    deals = _deal_set(session, actor, mode, period, flt)
    kind = session.scalar(select(Stage.kind).where(Stage.id == stage_id))
    if kind == "open":
        reached = _reached(deals)
        ids = select(reached.c.deal_id).where(reached.c.stage_id == stage_id)
    else:
        ids = select(deals.c.id).where(deals.c.stage_id == stage_id)
    rows = session.execute(
        select(Deal.id, Deal.name, User.display_name, Deal.amount, Stage.name, Deal.expected_close)
        .join(User, User.id == Deal.owner_id).join(Stage, Stage.id == Deal.stage_id)
        .where(Deal.id.in_(ids)).order_by(Deal.amount.desc().nulls_last(), Deal.id).limit(limit)).all()
    return [{"id": i, "name": n, "owner": o, "amount": None if a is None else money(a), "stage": s,
             "expected_close": e} for i, n, o, a, s, e in rows]


def stage_conversions_by_owner(session: Session, actor: Actor, *, period: Period,
                               flt: DealFilter | None = None) -> dict[int, dict[int, tuple[int, int]]]:
    """owner → stage → (deals of the cohort that reached it, of those went further)."""
    flt = flt or DealFilter()
    deals = _deal_set(session, actor, "cohort", period, flt)
    e = _eligible(deals)
    out: dict[int, dict[int, tuple[int, int]]] = {}
    rows = session.execute(
        select(e.c.owner_id, e.c.stage_id, func.count(), func.count(case((e.c.furthest > e.c.sequence, 1))))
        .group_by(e.c.owner_id, e.c.stage_id)).all()
    for owner, sid, n, advanced in rows:
        out.setdefault(owner, {})[sid] = (int(n), int(advanced))
    return out


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


__all__ = ["COHORT_DAYS", "MODES", "FunnelReport", "bottleneck", "cohort_table", "funnel", "stage_conversions_by_owner",
           "stage_deals"]
