"""Access-matrix rows of the team area (incentives, training): every service called as every
role on rep_n1's payouts, enrollments, cases and North's event (see access_matrix_common)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from services import incentives, training
from services.models import (
    Activity,
    Course,
    Enrollment,
    IncentiveScheme,
    Payout,
    SalesCase,
    SalesPlan,
    TeamEvent,
    TeamEventParticipant,
)
from services.periods import Period
from tests.services.access_matrix_common import (
    EVERYONE,
    MANAGERS,
    NOW,
    OWNER,
    PERIOD_END,
    PERIOD_START,
    TODAY,
    Case,
)

MODULES = (incentives, training)

# North's records that every member of North reads (schemes for North, its events and plan)
NORTH = {"rep_n1": True, "rep_n2": True, "rep_s1": False, "manager_n": True, "manager_s": False,
         "director": True, "admin": True}
STAFF = {**EVERYONE, "rep_n1": False, "rep_n2": False, "rep_s1": False}  # the shared course catalogue

MONTH = (TODAY - timedelta(days=10)).strftime("%Y-%m")  # d_won's month
PERIOD = Period(PERIOD_START, PERIOD_END)


def extend_world(session, world) -> None:
    """Schemes for North (a draft payout of rep_n1 under one, an approved one under another),
    two courses with rep_n1's enrollments (one open, one certified), a published case for
    the stage of rep_n1's open deal and a submitted case, North's event and plan;
    rep_n2's calls so rep_n1's activity volume lags the team."""
    org, n1, n2 = world.org, world.org.rep_n1.id, world.org.rep_n2.id
    north = json.dumps([org.team_n])
    tiers = json.dumps([{"from": "0", "rate": "0.05"}])
    month_start = (TODAY - timedelta(days=10)).replace(day=1)
    schemes = {}
    for name in ("Matrix draft", "Matrix approved"):
        sc = IncentiveScheme(name=name, basis="won_amount", kind="commission", mode="whole", tiers=tiers,
                             period_kind="month", applies_role="rep", team_ids=north)
        session.add(sc)
        session.flush()
        schemes[name] = sc.id
    session.add(Payout(scheme_id=schemes["Matrix draft"], user_id=n1, period_start=month_start,
                       basis_amount=Decimal("1300"), commission=Decimal("65"), amount=Decimal("65")))
    session.add(Payout(scheme_id=schemes["Matrix approved"], user_id=n1, period_start=month_start,
                       basis_amount=Decimal("1300"), commission=Decimal("65"), amount=Decimal("65"), approved=True))
    open_course, done_course = Course(title="Matrix course"), Course(title="Matrix certified")
    session.add_all([open_course, done_course])
    session.flush()
    e_open = Enrollment(course_id=open_course.id, user_id=n1, assigned_on=TODAY, due_on=TODAY + timedelta(days=9))
    e_done = Enrollment(course_id=done_course.id, user_id=n1, assigned_on=TODAY - timedelta(days=30), status="completed",
                        completed_on=TODAY - timedelta(days=20), score=90, progress=100,
                        certified_on=TODAY - timedelta(days=20))
    session.add_all([e_open, e_done])
    published = SalesCase(title="Matrix published", deal_id=world.d_won, product_id=world.product,
                          stage_id=org.stages["Proposal"], situation="s", author_id=n1, status="published",
                          published_on=TODAY)
    submitted = SalesCase(title="Matrix submitted", deal_id=world.d_won, situation="s", author_id=n1, status="submitted")
    session.add_all([published, submitted])
    plan = SalesPlan(title="Matrix plan", period_start=TODAY - timedelta(days=30), period_end=TODAY + timedelta(days=30),
                     team_id=org.team_n, budget=Decimal("5000"))
    session.add(plan)
    session.flush()
    event = TeamEvent(title="Matrix event", held_on=TODAY, team_id=org.team_n, participants=1, cost=Decimal("300"))
    session.add(event)
    session.flush()
    session.add(TeamEventParticipant(event_id=event.id, user_id=n1))
    for i in range(6):
        session.add(Activity(kind="call", customer_id=world.c1, owner_id=n2, done_at=NOW - timedelta(days=3, hours=i)))
    session.flush()
    # keys prefixed: world.extra is shared with the other areas
    world.extra.update(team_schemes=schemes, team_course=open_course.id, team_course_done=done_course.id,
                       team_e_open=e_open.id, team_e_done=e_done.id, team_case_published=published.id,
                       team_case_submitted=submitted.id, team_event=event.id, team_plan=plan.id)


def _x(w, key):
    return w.extra["team_" + key]


def _has_n1(rows, w, key="user_id"):
    return any(r[key] == w.org.rep_n1.id for r in rows)


MATRIX = {
    # incentives ---------------------------------------------------------------
    "incentives.add_scheme": Case(
        lambda s, a, w: incentives.add_scheme(s, a, values={"name": "Matrix new", "basis": "won_amount", "mode": "whole",
                                                            "tiers": "0:2%", "period": "month",
                                                            "team_ids": [w.org.team_n]}), MANAGERS, writes=True),
    "incentives.update_scheme": Case(
        lambda s, a, w: incentives.update_scheme(s, a, scheme_id=_x(w, "schemes")["Matrix draft"],
                                                 values={"tiers": "0:3%"}), MANAGERS, writes=True),
    "incentives.list_schemes": Case(lambda s, a, w: incentives.list_schemes(s, a), NORTH,
                                    sees=lambda r, w: any(x["name"] == "Matrix draft" for x in r)),
    "incentives.compute_payouts": Case(
        lambda s, a, w: incentives.compute_payouts(s, a, scheme=_x(w, "schemes")["Matrix draft"], period=MONTH), OWNER,
        sees=lambda r, w: _has_n1(r["reps"], w)),
    "incentives.save_payouts": Case(
        lambda s, a, w: incentives.save_payouts(s, a, scheme=_x(w, "schemes")["Matrix draft"], period=MONTH),
        MANAGERS, writes=True),
    "incentives.approve_payouts": Case(
        lambda s, a, w: incentives.approve_payouts(s, a, scheme=_x(w, "schemes")["Matrix draft"], period=MONTH),
        MANAGERS, writes=True),
    "incentives.pay_payouts": Case(
        lambda s, a, w: incentives.pay_payouts(s, a, scheme=_x(w, "schemes")["Matrix approved"], period=MONTH),
        MANAGERS, writes=True),
    "incentives.list_payouts": Case(lambda s, a, w: incentives.list_payouts(s, a), OWNER,
                                    sees=lambda r, w: _has_n1(r, w)),
    "incentives.what_if": Case(
        lambda s, a, w: incentives.what_if(s, a, scheme=_x(w, "schemes")["Matrix draft"], period=MONTH,
                                           changes={"tiers": "0:9%"}), OWNER, sees=lambda r, w: _has_n1(r["reps"], w)),
    "incentives.leaderboard": Case(lambda s, a, w: incentives.leaderboard(s, a, metric="revenue", period=PERIOD), OWNER,
                                   sees=lambda r, w: _has_n1(r, w)),
    "incentives.badges": Case(lambda s, a, w: incentives.badges(s, a, user_id=w.org.rep_n1.id), OWNER),
    # training -----------------------------------------------------------------
    "training.add_course": Case(lambda s, a, w: training.add_course(s, a, values={"title": "Matrix added"}), STAFF,
                                writes=True),
    "training.list_courses": Case(lambda s, a, w: training.list_courses(s, a), EVERYONE),
    "training.add_session": Case(
        lambda s, a, w: training.add_session(s, a, course_id=_x(w, "course"), held_on=TODAY, trainer="T",
                                             attendee_ids=[w.org.rep_n1.id]), MANAGERS, writes=True),
    "training.list_sessions": Case(lambda s, a, w: training.list_sessions(s, a), EVERYONE),
    "training.assign_course": Case(
        lambda s, a, w: training.assign_course(s, a, course_id=_x(w, "course"), user_ids=[w.org.rep_n1.id],
                                               due_on=TODAY + timedelta(days=20)), MANAGERS, writes=True),
    "training.report_progress": Case(
        lambda s, a, w: training.report_progress(s, a, enrollment_id=_x(w, "e_open"), progress=50), OWNER, writes=True),
    "training.record_score": Case(
        lambda s, a, w: training.record_score(s, a, enrollment_id=_x(w, "e_open"), score=80), MANAGERS, writes=True),
    "training.list_enrollments": Case(lambda s, a, w: training.list_enrollments(s, a), OWNER,
                                      sees=lambda r, w: _has_n1(r, w)),
    "training.training_dashboard": Case(lambda s, a, w: training.training_dashboard(s, a), OWNER,
                                        sees=lambda r, w: r["total"]["assigned"] > 0),
    "training.certified_count": Case(lambda s, a, w: training.certified_count(s, a), OWNER, sees=lambda r, w: r > 0),
    "training.rep_kpis": Case(lambda s, a, w: training.rep_kpis(s, a, period=PERIOD), OWNER,
                              sees=lambda r, w: w.org.rep_n1.id in r),
    "training.coaching": Case(lambda s, a, w: training.coaching(s, a, period=PERIOD), OWNER,
                              sees=lambda r, w: _has_n1(r, w)),
    "training.before_after": Case(lambda s, a, w: training.before_after(s, a, enrollment_id=_x(w, "e_done")), OWNER),
    "training.write_case": Case(
        lambda s, a, w: training.write_case(s, a, deal_id=w.d_won, values={"title": "Matrix case", "situation": "s"}),
        OWNER, writes=True),
    "training.review_case": Case(
        lambda s, a, w: training.review_case(s, a, case_id=_x(w, "case_submitted"), publish=True), MANAGERS,
        writes=True),
    "training.search_cases": Case(lambda s, a, w: training.search_cases(s, a, status=None), OWNER,
                                  sees=lambda r, w: any(c["id"] == _x(w, "case_submitted") for c in r)),
    "training.cases_for_open_deals": Case(
        lambda s, a, w: training.cases_for_open_deals(s, a, user_id=w.org.rep_n1.id), OWNER,
        sees=lambda r, w: len(r) > 0),
    "training.case_deals": Case(lambda s, a, w: training.case_deals(s, a), OWNER,
                                sees=lambda r, w: any(d["id"] == w.d_won for d in r)),
    "training.include_case": Case(
        lambda s, a, w: training.include_case(s, a, course_id=_x(w, "course"), case_id=_x(w, "case_published")),
        STAFF, writes=True),
    "training.course_cases": Case(lambda s, a, w: training.course_cases(s, a, course_id=_x(w, "course")), EVERYONE),
    "training.add_event": Case(
        lambda s, a, w: training.add_event(s, a, values={"title": "Matrix added event", "held_on": TODAY,
                                                         "team_id": w.org.team_n, "cost": "100"},
                                           participant_ids=[w.org.rep_n1.id]), MANAGERS, writes=True),
    "training.list_events": Case(lambda s, a, w: training.list_events(s, a), NORTH,
                                 sees=lambda r, w: any(e["id"] == _x(w, "event") for e in r)),
    "training.set_participation": Case(
        lambda s, a, w: training.set_participation(s, a, event_id=_x(w, "event"), user_id=w.org.rep_n1.id,
                                                   took_part=False), MANAGERS, writes=True),
    "training.plan_event_costs": Case(lambda s, a, w: training.plan_event_costs(s, a), NORTH,
                                      sees=lambda r, w: any(p["plan_id"] == _x(w, "plan") for p in r)),
}
