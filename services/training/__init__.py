"""Training (培训): courses, sessions and enrollments (``courses``), the coaching loop
(``coaching``), the case library (``cases``) and team events (``events``)."""

from services.training.cases import (
    case_deals,
    cases_for_open_deals,
    course_cases,
    include_case,
    review_case,
    search_cases,
    write_case,
)
from services.training.coaching import KPIS, before_after, coaching, recommend, rep_kpis
from services.training.courses import (
    add_course,
    add_session,
    assign_course,
    certified_count,
    list_courses,
    list_enrollments,
    list_sessions,
    record_score,
    report_progress,
    training_dashboard,
)
from services.training.events import add_event, list_events, plan_event_costs, set_participation

__all__ = [
    "KPIS", "add_course", "case_deals", "add_event", "add_session", "assign_course", "before_after", "cases_for_open_deals",
    "certified_count", "coaching", "course_cases", "include_case", "list_courses", "list_enrollments", "list_events",
    "list_sessions", "plan_event_costs", "recommend", "record_score", "rep_kpis", "report_progress", "review_case",
    "search_cases", "set_participation", "training_dashboard", "write_case",
]
