"""The team programme: courses and enrollments, incentive schemes (their payouts computed
after the load by ``services.incentives``, like a manager would), awards (top seller of the
month, million club, champion) and team events."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from services.periods import add_months

from .context import Demo


def build(demo: Demo) -> None:
    _courses(demo)
    _sessions(demo)
    _cases(demo)
    best_by_month = _incentives(demo)
    _awards(demo, best_by_month)
    _events(demo)


_TRAINERS = {"zh_CN": ["王老师", "外部讲师：李明", "产品部：陈工"], "en": ["Ms Wang", "External: Li Ming", "Product team: Chen"]}
_CASES = {
    "zh_CN": [("先试点再推广", "客户财务总监怀疑投资回报", "两周试点，用客户自己的数据算出回报", "太贵了 → 分期授权，首年只买核心模块"),
              ("高层拜访打破僵局", "项目在方案阶段停滞两个月", "约到客户总经理，讲清楚行业标杆案例", "现有系统还能用 → 算出维护成本和停机损失"),
              ("丢单复盘：价格战", "竞争对手报价低 30 %", "（丢单）过晚才让技术团队介入", "你们最贵 → 应更早比较总拥有成本")],
    "en": [("Pilot first, then roll out", "The customer's CFO doubted the ROI", "A two-week pilot on their own data",
            "Too expensive → phased licence, core modules in year one"),
           ("An executive visit broke the deadlock", "The deal stalled at proposal for two months",
            "Met the general manager with an industry reference", "The old system still works → cost of upkeep and outages"),
           ("Lost-deal review: the price war", "A competitor quoted 30 % lower",
            "(lost) our engineers joined too late", "You are the most expensive → compare total cost of ownership earlier")],
}


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
            progress = 100 if done else (10 + (cid * 7 + u) % 8 * 10 if status == "in_progress" else 0)
            enrol_rows.append((demo.ids("enrollment", 1)[0], cid, u, clock.day(assigned), clock.day(due), status,
                               done, score, progress, done if status == "completed" else None))
    demo.rows.add("course", ["id", "title", "category", "duration_hours", "passing_score", "description", "active"],
                  course_rows)
    demo.course_ids = course_ids
    demo.enrolled = {}
    for _eid, cid, u, *_rest in enrol_rows:
        demo.enrolled.setdefault(cid, []).append(u)
    demo.rows.add("enrollment", ["id", "course_id", "user_id", "assigned_on", "due_on", "status", "completed_on",
                                 "score", "progress", "certified_on"], enrol_rows)


def _sessions(demo: Demo) -> None:
    """One or two past sessions per course, attended by some of the enrolled."""
    r = demo.rng
    rows = []
    for cid in demo.course_ids:
        for _ in range(r.randrange(1, 3)):
            people = demo.enrolled.get(cid, [])
            attendees = sorted(r.sample(people, max(1, len(people) * 2 // 3))) if people else []
            rows.append((demo.ids("course_session", 1)[0], cid, demo.clock.day(demo.a - r.randrange(5, 300)),
                         r.choice(_TRAINERS[demo.lang]), json.dumps(attendees), None))
    demo.rows.add("course_session", ["id", "course_id", "held_on", "trainer", "attendees", "notes"], rows)


def _cases(demo: Demo) -> None:
    """The case library: a few published cases from won and lost deals, one awaiting review;
    the first course of each product / skills category includes the published ones."""
    r = demo.rng
    closed = [d for d in demo.deal_info if d[5] in ("won", "lost") and d[7] is not None]
    picks = r.sample(closed, min(len(closed), 6))
    rows, links = [], []
    for i, (deal_id, _ci, owner, _opened, end, outcome, _amount, pi) in enumerate(picks):
        title, situation, worked, objections = _CASES[demo.lang][2 if outcome == "lost" else i % 2]
        stage = demo.open_stages[min(len(demo.open_stages) - 1, 2 + i % 2)][0]
        published = i < len(picks) - 1
        cid = demo.ids("sales_case", 1)[0]
        rows.append((cid, title, deal_id, demo.products[pi][0], stage, outcome, situation, worked, objections, owner,
                     "published" if published else "submitted", demo.director if published else None,
                     demo.clock.day(min(demo.a - 1, end + 7)) if published else None, demo.clock.ts(demo.clock.minute(
                         min(demo.a - 1, end + 3), 10 * 60))))
        if published and demo.course_ids:
            links.append((demo.course_ids[i % min(3, len(demo.course_ids))], cid))
    demo.rows.add("sales_case", ["id", "title", "deal_id", "product_id", "stage_id", "outcome", "situation",
                                 "what_worked", "objections", "author_id", "status", "reviewed_by", "published_on",
                                 "created_at"], rows)
    demo.rows.add("course_case", ["course_id", "case_id"], sorted(set(links)))


def _incentives(demo: Demo) -> dict[date, tuple[int, int]]:
    """Incentive schemes in the form ``services.incentives`` writes (the payouts themselves
    are computed after the load by ``payouts``); returns the best rep (and won amount) of each
    of the last 12 closed months, for the awards."""
    v = demo.v
    whole = json.dumps([{"from": "0", "rate": "0.02"}, {"from": "100000", "rate": "0.03"},
                        {"from": "300000", "rate": "0.05"}])
    marginal = json.dumps([{"from": "0", "rate": "0.01"}, {"from": "200000", "rate": "0.02"},
                           {"from": "500000", "rate": "0.03"}])
    bonus = json.dumps([{"attainment": "1.0", "bonus": "5000"}, {"attainment": "1.2", "bonus": "10000"}])
    contest = json.dumps({"rule": "most_activities", "activity_kind": "demo", "prizes": ["20000", "10000", "5000"]})
    # name, basis, kind, mode, tiers, bonus, contest, period
    specs = [("won_amount", "commission", "whole", whole, "[]", None, "month"),
             ("collections", "commission", "marginal", marginal, "[]", None, "quarter"),
             ("won_amount", "commission", "whole", "[]", bonus, None, "quarter"),
             ("won_amount", "contest", "whole", "[]", "[]", contest, "year")]
    ystart = date(demo.anchor.year, 1, 1).isoformat()
    schemes = []
    for name, (basis, kind, mode, tiers, bonus_, contest_, period) in zip(v["schemes"], specs, strict=True):
        sid = demo.ids("incentive_scheme", 1)[0]
        starts = ystart if kind == "contest" else demo.year_first.isoformat()
        schemes.append((sid, name, basis, kind, mode, tiers, bonus_, contest_, period, "rep", None, starts, None, True,
                        "[]", "[]"))
    demo.rows.add("incentive_scheme", ["id", "name", "basis", "kind", "mode", "tiers", "bonus", "contest", "period_kind",
                                       "applies_role", "team_id", "starts_on", "ends_on", "active", "team_ids",
                                       "user_ids"], schemes)
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
            if basis_amt > best_by_month.get(ms, (0, 0))[1]:
                best_by_month[ms] = (u, basis_amt)
    return best_by_month


def payouts(session: Session, demo: Demo) -> None:
    """After the load: the payouts of every commission scheme, computed by
    ``services.incentives`` from the loaded deals and payments — the last 12 closed months
    and 4 closed quarters, oldest first; all but the latest period approved by the director,
    all but the latest two paid (two months after the period began)."""
    from services.access import Actor
    from services.incentives import approve_payouts, pay_payouts, save_payouts
    from services.models import IncentiveScheme, User
    from services.periods import Period

    director = Actor.from_user(session.get(User, demo.director))
    this_month = demo.anchor.replace(day=1)
    q_first = add_months(date(this_month.year, 1, 1), (this_month.month - 1) // 3 * 3)
    for scheme in session.scalars(select(IncentiveScheme).where(IncentiveScheme.kind == "commission")
                                  .order_by(IncentiveScheme.id)).all():
        span, count, current = {"month": (1, 12, this_month), "quarter": (3, 4, q_first)}.get(scheme.period_kind,
                                                                                             (0, 0, this_month))
        starts = [add_months(current, -span * k) for k in range(count, 0, -1)]
        starts = [st for st in starts if st >= max(demo.start, scheme.starts_on or demo.start)]
        for i, start in enumerate(starts):
            period = Period(start, add_months(start, span), scheme.period_kind)
            save_payouts(session, director, scheme=scheme.id, period=period)
            age = len(starts) - i  # 1 = the latest closed period
            if age > 1:
                approve_payouts(session, director, scheme=scheme.id, period=period)
            if age > 2:
                pay_payouts(session, director, scheme=scheme.id, period=period,
                            paid_on=min(add_months(start, span + 1), demo.anchor))


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
    events, participants = [], []
    q_start = date(demo.anchor.year, (demo.anchor.month - 1) // 3 * 3 + 1, 1)
    for k in range(0, 4):
        qs = add_months(q_start, -3 * k)
        for tm in demo.teams:
            held = qs.toordinal() + r.randrange(10, 80)
            if held > demo.a:
                continue
            heads = len(demo.team_reps[tm]) + 1
            city = demo.v["regions"][demo.team_region[tm]][2][0]
            eid = demo.ids("team_event", 1)[0]
            people = [*demo.team_reps[tm], demo.managers[tm]] if tm in demo.managers else list(demo.team_reps[tm])
            came = sorted(set(r.sample(people, max(1, len(people) - r.randrange(0, 2)))))
            participants += [(eid, u) for u in came]
            events.append((eid, r.choice(v["events"]).format(place=city), demo.clock.day(held), tm, len(came),
                           heads * r.randrange(150, 400), None))
    demo.rows.add("team_event", ["id", "title", "held_on", "team_id", "participants", "cost", "notes"], events)
    demo.rows.add("team_event_participant", ["event_id", "user_id"], participants)
