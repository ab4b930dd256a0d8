"""Access-matrix rows of the funnel, forecast, KPIs, leaderboard, findings, meeting and
reviews (see access_matrix_common): every call on rep_n1's records as every role."""

from __future__ import annotations

from datetime import timedelta

from services import reviews
from services.analytics import filters, findings, forecast, funnel, kpis, leaderboard, meeting
from services.analytics.filters import DealFilter
from services.models import Review, ReviewAction
from services.periods import Period
from tests.services.access_matrix_common import (
    EVERYONE,
    OWNER,
    PERIOD_END,
    PERIOD_START,
    TODAY,
    WEEK_START,
    Case,
)

MODULES = (filters, funnel, forecast, kpis, leaderboard, findings, meeting, reviews)
P = Period(PERIOD_START, PERIOD_END)
WEEK = Period(WEEK_START - timedelta(days=7), WEEK_START + timedelta(days=7))
REVIEWERS = {"rep_n1": False, "rep_n2": False, "rep_s1": False, "manager_n": True, "manager_s": False,
             "director": True, "admin": True}


def extend_world(session, world) -> None:
    """A North team review with an open action owned by rep_n1."""
    review = Review(period_start=PERIOD_START, period_end=PERIOD_END, scope="team", team_id=world.org.team_n,
                    findings='["Proposal is slow"]', created_by=world.org.manager_n.id)
    session.add(review)
    session.flush()
    action = ReviewAction(review_id=review.id, title="Call the Northwind buyer", owner_id=world.org.rep_n1.id,
                          due_on=TODAY + timedelta(days=3))
    session.add(action)
    session.flush()
    world.extra.update(review=review.id, action=action.id)


def _n1_in(rows, key="name") -> bool:
    return any(r.get(key) == "Rep_N1 Person" and r.get("value") for r in rows)


MATRIX = {
    "analytics.filters.filter_choices": Case(lambda s, a, w: filters.filter_choices(s, a), OWNER,
                                             sees=lambda r, w: w.org.rep_n1.id in {i for i, _ in r["reps"]}),
    "analytics.filters.filter_owner_ids": Case(lambda s, a, w: filters.filter_owner_ids(s, a, DealFilter()), OWNER,
                                               sees=lambda r, w: r is None or w.org.rep_n1.id in r),
    "analytics.filters.deal_conditions": Case(lambda s, a, w: filters.deal_conditions(s, a, DealFilter()), EVERYONE),
    "analytics.filters.deal_filter_shape": Case(
        lambda s, a, w: filters.deal_filter_shape(s, a, DealFilter()), OWNER,
        sees=lambda r, w: r[0][0] == "all" or w.org.rep_n1.id in r[1].get("owners", [])),
    "analytics.leaderboard.target_vs_actual": Case(
        lambda s, a, w: leaderboard.target_vs_actual(s, a, period=P), OWNER,
        sees=lambda r, w: any(x["kind"] == "rep" and x["id"] == w.org.rep_n1.id and x["won"] for x in r)),
    "analytics.funnel.funnel": Case(lambda s, a, w: funnel.funnel(s, a, period=P, mode="pipeline"), OWNER,
                                    sees=lambda r, w: r.deals == 1),
    "analytics.funnel.stage_deals": Case(
        lambda s, a, w: funnel.stage_deals(s, a, period=P, mode="pipeline", stage_id=w.org.stages["Proposal"]), OWNER,
        sees=lambda r, w: [d["id"] for d in r] == [w.d_open]),
    "analytics.funnel.stage_conversions": Case(
        lambda s, a, w: funnel.stage_conversions(s, a, period=Period(TODAY - timedelta(days=100), PERIOD_END)).by_owner,
        OWNER, sees=lambda r, w: w.org.rep_n1.id in r),
    "analytics.funnel.bottleneck": Case(
        lambda s, a, w: funnel.bottleneck(s, a, period=Period(TODAY - timedelta(days=100), PERIOD_END)), OWNER,
        sees=lambda r, w: r is not None),
    "analytics.forecast.forecast": Case(lambda s, a, w: forecast.forecast(s, a, months=3, today=TODAY), OWNER,
                                        sees=lambda r, w: sum(x["open_count"] for x in r) == 1),
    "analytics.forecast.take_snapshot": Case(lambda s, a, w: forecast.take_snapshot(s, a, today=TODAY), EVERYONE,
                                             writes=True),
    "analytics.forecast.forecast_accuracy": Case(lambda s, a, w: forecast.forecast_accuracy(s, a, period=P), EVERYONE),
    "analytics.forecast.close_date_slippage": Case(lambda s, a, w: forecast.close_date_slippage(s, a, period=P),
                                                   EVERYONE),
    "analytics.kpis.kpis": Case(lambda s, a, w: kpis.kpis(s, a, period=P), OWNER,
                                sees=lambda r, w: r["won_deals"] == 2),
    "analytics.kpis.kpi_comparison": Case(lambda s, a, w: kpis.kpi_comparison(s, a, period=P), OWNER,
                                          sees=lambda r, w: r["values"]["won_deals"] == 2),
    "analytics.kpis.kpi_rows": Case(lambda s, a, w: kpis.kpi_rows(s, a, kpi="won_revenue", period=P), OWNER,
                                    sees=lambda r, w: {x["id"] for x in r} == {w.d_won, w.d_won2}),
    "analytics.kpis.cac_by_channel": Case(lambda s, a, w: kpis.cac_by_channel(s, a, period=P), EVERYONE),
    "analytics.leaderboard.leaderboard": Case(
        lambda s, a, w: leaderboard.leaderboard(s, a, period=P, metric="revenue"), OWNER,
        sees=lambda r, w: _n1_in(r)),
    "analytics.findings.findings": Case(lambda s, a, w: findings.findings(s, a, period=P, flt=DealFilter()), OWNER,
                                        sees=lambda r, w: any(f["kind"] == "overdue_collections" for f in r)),
    "analytics.meeting.meeting_report": Case(lambda s, a, w: meeting.meeting_report(s, a, week=WEEK, today=TODAY),
                                             OWNER, sees=lambda r, w: len(r["top_deals"]) == 1),
    "reviews.create_review": Case(
        lambda s, a, w: reviews.create_review(s, a, scope="team", team_id=w.org.team_n, period_start=PERIOD_START,
                                              period_end=PERIOD_END, findings=["x"]), REVIEWERS, writes=True),
    "reviews.actions_to_check": Case(
        lambda s, a, w: reviews.actions_to_check(s, a, scope="team", team_id=w.org.team_n), REVIEWERS,
        sees=lambda r, w: [x.id for x in r] == [w.extra["action"]]),
    "reviews.set_action_status": Case(
        lambda s, a, w: reviews.set_action_status(s, a, action_id=w.extra["action"], status="in_progress"),
        {**REVIEWERS, "rep_n1": True}, writes=True),
    "reviews.open_actions": Case(lambda s, a, w: reviews.open_actions(s, a, owner_id=w.org.rep_n1.id), OWNER,
                                 sees=lambda r, w: [x.id for x in r] == [w.extra["action"]]),
    "reviews.scope_open_actions": Case(lambda s, a, w: reviews.scope_open_actions(s, a), OWNER,
                                       sees=lambda r, w: [x.id for x in r] == [w.extra["action"]]),
    "reviews.list_reviews": Case(lambda s, a, w: reviews.list_reviews(s, a), REVIEWERS,
                                 sees=lambda r, w: [x.id for x in r] == [w.extra["review"]]),
    "reviews.get_review": Case(lambda s, a, w: reviews.get_review(s, a, review_id=w.extra["review"]), REVIEWERS),
}
