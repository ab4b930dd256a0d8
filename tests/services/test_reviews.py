"""Reviews and their action items, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from services.db import read_scope, session_scope
from services.errors import NotFound, PermissionDenied, ValidationError
from services.models import Review
from services.reviews import (
    actions_to_check,
    create_review,
    get_review,
    list_reviews,
    open_actions,
    set_action_status,
)

NOV = dict(period_start=date(2026, 11, 1), period_end=date(2026, 12, 1))


def _north_review(engine, org, **extra):
    with session_scope(engine) as s:
        return create_review(s, org.manager_n, scope="team", team_id=org.team_n, findings=["Proposal is slow", "  "],
                             actions=[{"title": "Call every Proposal deal", "owner_id": org.rep_n1.id,
                                       "due_on": date(2026, 12, 4)},
                                      {"title": "Clean up the pipeline", "owner_id": org.rep_n2.id}], **NOV, **extra)


def test_review_with_actions_on_owners_agenda(engine, org):
    rid = _north_review(engine, org)
    with read_scope(engine) as s:
        review = get_review(s, org.manager_n, review_id=rid)
        mine = open_actions(s, org.rep_n1)
        seen_by_s = list_reviews(s, org.manager_s)
        seen_by_director = list_reviews(s, org.director)
    assert review.findings == ["Proposal is slow"]
    assert [(a.title, a.owner, a.status) for a in review.actions] == [
        ("Call every Proposal deal", "Rep_N1", "open"), ("Clean up the pipeline", "Rep_N2", "open")]
    assert [(a.title, a.due_on) for a in mine] == [("Call every Proposal deal", date(2026, 12, 4))]
    assert seen_by_s == [] and [r.id for r in seen_by_director] == [rid]


def test_checked_off_at_the_next_review(engine, org):
    _north_review(engine, org)
    with read_scope(engine) as s:
        pending = actions_to_check(s, org.manager_n, scope="team", team_id=org.team_n)
    first, second = pending
    with session_scope(engine) as s:
        set_action_status(s, org.rep_n2, action_id=second.id, status="in_progress")  # its owner may
    with session_scope(engine) as s:
        create_review(s, org.manager_n, scope="team", team_id=org.team_n, period_start=date(2026, 12, 1),
                      period_end=date(2027, 1, 1), check_off={first.id: "done"})
    with read_scope(engine) as s:
        assert open_actions(s, org.rep_n1) == []
        left = actions_to_check(s, org.manager_n, scope="team", team_id=org.team_n)
        done = get_review(s, org.manager_n, review_id=first.review_id).actions[0]
    assert [(a.title, a.status) for a in left] == [("Clean up the pipeline", "in_progress")]
    assert done.status == "done" and done.done_on is not None


def test_refusals_write_nothing(engine, org):
    with session_scope(engine) as s, pytest.raises(PermissionDenied):
        create_review(s, org.manager_s, scope="team", team_id=org.team_n, **NOV)
    with session_scope(engine) as s, pytest.raises(PermissionDenied):
        create_review(s, org.rep_n1, scope="company", **NOV)
    with session_scope(engine) as s, pytest.raises(PermissionDenied):  # rep_s1 is not in the North team
        create_review(s, org.manager_n, scope="team", team_id=org.team_n, actions=[{"title": "x",
                                                                                   "owner_id": org.rep_s1.id}], **NOV)
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        create_review(s, org.manager_n, scope="team", team_id=org.team_n, actions=[{"title": "  "}], **NOV)
    assert "title" in err.value.errors
    with read_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Review)) == 0
    rid = _north_review(engine, org)
    with read_scope(engine) as s:
        action = get_review(s, org.manager_n, review_id=rid).actions[0]
    with session_scope(engine) as s, pytest.raises(NotFound):
        set_action_status(s, org.rep_s1, action_id=action.id, status="done")
