"""Findings for the review (反馈调整): sentences generated from the period's data, each with
its numbers, in English and Chinese (rules in docs/KPIS.md, "Findings").

- behind pace: a rep whose won revenue is below their base target × the share of the period
  gone, by more than 10 points;
- weakest stage: a rep's stage whose onward conversion is furthest below the team's (at
  least 15 points, at least 2 deals reaching it);
- rising lost reason: a reason with more lost deals than in the period before (at least 2);
- stalled: open deals in a stage longer than its stall days;
- CAC rising: a channel whose CAC rose more than 10 % on the period before;
- overdue collections: installments past due and not fully paid.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, bindparam, func, or_, select, union_all
from sqlmodel import Session

from services.access import Actor, owner_params, owner_scope_term, owner_shape
from services.analytics.actuals import metric_actuals_by_user
from services.analytics.common import dialect_of, float2, money, stage_ids, stage_in_bound, stage_rows
from services.analytics.filters import DealFilter, deal_conditions_bound, deal_filter_shape, filter_owner_ids
from services.analytics.funnel import StageConversions, stage_conversions
from services.analytics.kpis import cac_by_channel
from services.analytics.targets import user_targets
from services.clock import company_today
from services.db import read_once, shaped
from services.i18n import format_money, format_percent, t
from services.models import Deal, LostReason, Stage, User
from services.periods import Period, previous

LOCALES = ("en", "zh_CN")
KINDS = ("behind_pace", "weakest_stage", "rising_lost_reason", "stalled", "cac_rising", "overdue_collections")


def _finding(kind: str, numbers: dict, **params) -> dict:
    """One finding: its kind, numbers and sentence in each language (money and percentages
    formatted per language)."""
    texts = {}
    for loc in LOCALES:
        shown = {k: (format_money(v, loc, compact=False) if k.endswith("amount") or k in ("won", "target", "cac",
                                                                                              "before")
                     else format_percent(v, loc, 0) if k.endswith("pct") else v) for k, v in params.items()}
        texts[loc] = t(f"analytics.finding_{kind}", loc, **shown)
    return {"kind": kind, "numbers": {k: float2(v) if hasattr(v, "quantize") else v for k, v in numbers.items()},
            "text": texts}


def _reps(session: Session, ids: set[int] | None) -> list[tuple[int, str, int | None]]:
    owners = owner_shape(ids)
    return read_once(session, ("finding_reps", None if ids is None else tuple(sorted(ids))), lambda: [
        tuple(r) for r in session.execute(shaped(("findings.reps", owners), lambda: (
            select(User.id, User.display_name, User.team_id)
            .where(User.role == "rep", User.active.is_(True), owner_scope_term(User.id, owners))
            .order_by(User.display_name))), owner_params(ids)).all()])


def _behind_pace(session: Session, actor: Actor, *, period: Period, flt: DealFilter, today: date) -> list[dict]:
    ids = filter_owner_ids(session, actor, flt)
    elapsed = max(0, min((today - period.start).days, period.days)) / period.days
    if elapsed <= 0:
        return []
    won_by = metric_actuals_by_user(session, actor, metric="contract_amount", start=period.start, end=period.end,
                                    owner_ids=ids)
    out = []
    reps = _reps(session, ids)
    targets = user_targets(session, [uid for uid, _name, _team in reps], period=period)
    for uid, name, _team in reps:
        target = targets[uid]
        if not target:
            continue
        achieved = won_by.get(uid, money(0))
        share = float(achieved / target)
        if share < elapsed - 0.10:
            out.append(_finding("behind_pace", {"user_id": uid, "won": achieved, "target": target, "attainment": share,
                                                "elapsed": elapsed},
                                name=name, won=achieved, target=target, attainment_pct=share, elapsed_pct=elapsed))
    return out


def _weakest_stage(session: Session, actor: Actor, *, period: Period, flt: DealFilter,
                   conversions: StageConversions | None) -> list[dict]:
    by_owner = (conversions or stage_conversions(session, actor, period=period, flt=flt)).by_owner
    stages = {sid: name for sid, name, kind, _active, _seq in stage_rows(session) if kind == "open"}
    reps = _reps(session, filter_owner_ids(session, actor, flt))
    out = []
    for uid, name, team in reps:
        mates = [u for u, _, tm in reps if tm == team]
        best = None
        for sid, (reached, advanced) in by_owner.get(uid, {}).items():
            if sid not in stages or reached < 2:
                continue
            team_reached = sum(by_owner.get(m, {}).get(sid, (0, 0))[0] for m in mates)
            team_adv = sum(by_owner.get(m, {}).get(sid, (0, 0))[1] for m in mates)
            if not team_reached:
                continue
            mine, theirs = advanced / reached, team_adv / team_reached
            if theirs - mine >= 0.15 and (best is None or theirs - mine > best[0]):
                best = (theirs - mine, sid, mine, theirs, reached)
        if best:
            gap, sid, mine, theirs, reached = best
            out.append(_finding("weakest_stage", {"user_id": uid, "stage_id": sid, "conversion": mine,
                                                  "team_conversion": theirs, "reached": reached},
                                name=name, stage=stages[sid], mine_pct=mine, team_pct=theirs, reached=reached))
    return out


def _rising_lost_reasons(session: Session, actor: Actor, *, period: Period, flt: DealFilter) -> list[dict]:
    shape, params = deal_filter_shape(session, actor, flt)
    before = previous(period)
    lost = stage_ids(session, "lost")
    # grouped by reason id from the closed-deals index alone, named after (joining the reasons
    # first made SQLite read the two years' lost deals once per reason: 1.4 s at 110k of them)
    counts = session.execute(shaped(("findings.lost_reasons", shape), lambda: _lost_reason_counts(shape)), {
        **params, "lost": lost, "before": before.start, "start": period.start, "end": period.end}).all() \
        if lost else []
    names = dict(session.execute(shaped(("findings.lost_reason_names",),
                                        lambda: select(LostReason.id, LostReason.name))).all())
    rows = sorted((names[rid], n, b) for rid, n, b in counts if rid in names)
    return [_finding("rising_lost_reason", {"reason": r, "now": int(n), "before": int(b)}, reason=r, now=int(n),
                     count_before=int(b))
            for r, n, b in rows if n >= 2 and n > b]


def _lost_reason_counts(shape: tuple):
    """Lost deals per reason closed in [start, end) and in [before, start)."""
    return (select(Deal.lost_reason_id,
                   func.count().filter(Deal.closed_on >= bindparam("start")),
                   func.count().filter(Deal.closed_on < bindparam("start")))
            .where(stage_in_bound("lost"), Deal.lost_reason_id.is_not(None), *deal_conditions_bound(shape),
                   Deal.closed_on >= bindparam("before"), Deal.closed_on < bindparam("end"))
            .group_by(Deal.lost_reason_id))


def _stalled_deals(session: Session, actor: Actor, *, flt: DealFilter, now: datetime) -> list[dict]:
    stages = session.execute(shaped(("findings.stall_stages",), lambda: (
        select(Stage.id, Stage.name, Stage.stall_days)
        .where(Stage.kind == "open", Stage.stall_days > 0).order_by(Stage.sequence)))).all()
    if not stages:
        return []
    shape, params = deal_filter_shape(session, actor, flt)
    dialect = dialect_of(session)
    stmt = shaped(("findings.stalled", shape, dialect, len(stages)), lambda: _stalled_statement(shape, dialect, len(stages)))
    for i, (sid, _name, days) in enumerate(stages):
        params.update({f"stage{i}": sid, f"since{i}": now - timedelta(days=days)})
    counts = {sid: (int(n), money(a)) for sid, n, a in session.execute(stmt, params).all()}
    return [_finding("stalled", {"stage_id": sid, "deals": counts[sid][0], "amount": counts[sid][1],
                                 "stall_days": days},
                     stage=name, deals=counts[sid][0], amount=counts[sid][1], days=days)
            for sid, name, days in stages if sid in counts]


def _stalled_statement(shape: tuple, dialect: str, stages: int):
    """Open deals (count, amount) per stage of those in ``stage{i}`` since before ``since{i}``."""
    conds = deal_conditions_bound(shape)
    since = [and_(Deal.stage_id == bindparam(f"stage{i}"), Deal.stage_changed_at < bindparam(f"since{i}"))
             for i in range(stages)]
    if dialect == "sqlite":
        # one range of the (stage, since) index per stage: an OR of the stages made SQLite
        # scan the whole index (48 ms at 300k deals; 1 ms this way)
        return union_all(*[select(Deal.stage_id, func.count(), func.sum(Deal.amount)).where(cond, *conds)
                           .group_by(Deal.stage_id) for cond in since])
    # PostgreSQL reads the OR as one scan of each range; the union of four tiny ranges got
    # parallel workers whose start cost more than the reads (a team: 5.1 → 2.9 ms)
    return select(Deal.stage_id, func.count(), func.sum(Deal.amount)).where(or_(*since), *conds) \
        .group_by(Deal.stage_id)


def _cac_rising(session: Session, actor: Actor, *, period: Period, flt: DealFilter) -> list[dict]:
    now = {r["channel_id"]: r for r in cac_by_channel(session, actor, period=period, flt=flt)}
    before = {r["channel_id"]: r for r in cac_by_channel(session, actor, period=previous(period), flt=flt)}
    out = []
    for cid, row in now.items():
        old = before.get(cid, {}).get("cac")
        if row["cac"] is not None and old and row["cac"] > old * money("1.1"):
            rise = float((row["cac"] - old) / old)
            out.append(_finding("cac_rising", {"channel_id": cid, "cac": row["cac"], "before": old, "rise": rise},
                                channel=row["channel"], cac=row["cac"], before=old, rise_pct=rise))
    return out


def _overdue_collections(session: Session, actor: Actor, *, flt: DealFilter, today: date) -> list[dict]:
    from services.contracts import overdue_summary

    overdue = overdue_summary(session, actor, today=today, owner_ids=filter_owner_ids(session, actor, flt), limit=0)
    count, remaining = overdue["count"], overdue["remaining"]
    if not count:
        return []
    return [_finding("overdue_collections", {"installments": count, "amount": remaining}, count=count,
                     amount=remaining)]


def findings(session: Session, actor: Actor, *, period: Period, flt: DealFilter | None = None,
             today: date | None = None, now: datetime | None = None,
             conversions: StageConversions | None = None) -> list[dict]:
    """Every finding of the period for the scope, in the order of ``KINDS`` (module
    docstring): ``kind``, ``numbers`` and ``text`` (``{"en": …, "zh_CN": …}``).
    ``conversions``: the same actor's, period's and filter's ``stage_conversions`` when the
    caller has read them already (the Performance page's strip)."""
    flt = flt or DealFilter()
    today = today or company_today(session)
    now = now or datetime.now(UTC)
    return [*_behind_pace(session, actor, period=period, flt=flt, today=today),
            *_weakest_stage(session, actor, period=period, flt=flt, conversions=conversions),
            *_rising_lost_reasons(session, actor, period=period, flt=flt),
            *_stalled_deals(session, actor, flt=flt, now=now),
            *_cac_rising(session, actor, period=period, flt=flt),
            *_overdue_collections(session, actor, flt=flt, today=today)]


__all__ = ["KINDS", "findings"]
