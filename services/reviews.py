"""Review and adjustment (反馈调整): a review per period and scope holds the findings chosen
or written, and action items (owner, due date, status). Open actions appear on their
owner's agenda and are checked off (done or dropped) at the next review of the same scope.

Who may: director / admin review any scope; a manager their teams (and their users); a rep
only their own ("user" scope for themselves). An action's owner must be someone the
reviewer may assign work to (``access.check_owner``). Every write is audited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from services import audit
from services.access import Actor, check_owner, managed_team_ids, owner_in, visible_user_ids
from services.clock import company_today
from services.errors import NotFound, PermissionDenied, ValidationError
from services.i18n import t
from services.models import REVIEW_ACTION_STATUSES, Review, ReviewAction, User
from services.models.fields import clean_text

SCOPES = ("company", "team", "user")
OPEN = ("open", "in_progress")
TITLE_MAX = 200


@dataclass
class ActionItem:
    id: int
    review_id: int
    title: str
    owner_id: int | None
    owner: str | None
    due_on: date | None
    status: str
    done_on: date | None = None


@dataclass
class ReviewRead:
    id: int
    period_start: date
    period_end: date
    scope: str
    team_id: int | None
    user_id: int | None
    findings: list[str]
    actions: list[ActionItem] = field(default_factory=list)


def _check_scope(session: Session, actor: Actor, scope: str, team_id: int | None, user_id: int | None) -> None:
    loc = actor.locale
    if scope not in SCOPES:
        raise ValidationError({"scope": t("err.not_in_list", loc, options=", ".join(SCOPES))})
    if scope == "team" and team_id is None:
        raise ValidationError({"team_id": t("err.required", loc)})
    if scope == "user" and user_id is None:
        raise ValidationError({"user_id": t("err.required", loc)})
    if actor.sees_all:
        return
    if scope == "company" or (scope == "team" and actor.role != "manager"):
        raise PermissionDenied(t("err.permission", loc, detail=scope))
    if scope == "team" and team_id not in managed_team_ids(session, actor):
        raise PermissionDenied(t("err.permission", loc, detail=str(team_id)))
    if scope == "user":
        visible = visible_user_ids(session, actor)
        if visible is not None and user_id not in visible:
            raise PermissionDenied(t("err.permission", loc, detail=str(user_id)))


def _visible_review(session: Session, actor: Actor, review_id: int) -> Review:
    row = session.get(Review, review_id)
    if row is None:
        raise NotFound(t("err.not_found", actor.locale, detail=str(review_id)))
    try:
        _check_scope(session, actor, row.scope, row.team_id, row.user_id)
    except PermissionDenied:
        raise NotFound(t("err.not_found", actor.locale, detail=str(review_id))) from None
    return row


def _clean_title(value, loc: str) -> str:
    text = clean_text(str(value or ""))
    if not text:
        raise ValidationError({"title": t("err.required", loc)})
    if len(text) > TITLE_MAX:
        raise ValidationError({"title": t("err.too_long", loc, max=TITLE_MAX)})
    return text


def _action_rows(session: Session, where) -> list[ActionItem]:
    rows = session.execute(
        select(ReviewAction.id, ReviewAction.review_id, ReviewAction.title, ReviewAction.owner_id, User.display_name,
               ReviewAction.due_on, ReviewAction.status, ReviewAction.done_on)
        .outerjoin(User, User.id == ReviewAction.owner_id).where(*where)
        .order_by(ReviewAction.due_on.is_(None), ReviewAction.due_on, ReviewAction.id)).all()
    return [ActionItem(*r) for r in rows]


def create_review(session: Session, actor: Actor, *, period_start: date, period_end: date, scope: str = "company",
                  team_id: int | None = None, user_id: int | None = None, findings: list[str] | None = None,
                  actions: list[dict] | None = None, check_off: dict[int, str] | None = None) -> int:
    """Record a review of ``[period_start, period_end)`` for a scope: the findings (chosen
    sentences or written ones, blank ones dropped), new action items (``title``,
    ``owner_id``, ``due_on``) and the check-off of earlier actions of the same scope
    (``{action_id: "done" | "dropped"}``). All or nothing; returns the review id."""
    loc = actor.locale
    if period_end <= period_start:
        raise ValidationError({"period_end": t("err.above", loc, min=period_start.isoformat())})
    _check_scope(session, actor, scope, team_id, user_id)
    texts = [clean_text(str(f)) for f in (findings or []) if clean_text(str(f or ""))]
    review = Review(period_start=period_start, period_end=period_end, scope=scope, team_id=team_id, user_id=user_id,
                    findings=json.dumps(texts, ensure_ascii=False), created_by=actor.id)
    prepared = []
    for item in actions or []:
        prepared.append((_clean_title(item.get("title"), loc), check_owner(session, actor, item.get("owner_id")),
                         item.get("due_on")))
    session.add(review)
    session.flush()
    audit.record(session, actor, "review", review.id, "create", {"findings": [None, len(texts)]})
    for title, owner, due in prepared:
        action = ReviewAction(review_id=review.id, title=title, owner_id=owner, due_on=due)
        session.add(action)
        session.flush()
        audit.record(session, actor, "review_action", action.id, "create", {"title": [None, title]})
    earlier = {a.id for a in actions_to_check(session, actor, scope=scope, team_id=team_id, user_id=user_id,
                                              before_review=review.id)}
    for action_id, status in (check_off or {}).items():
        if status not in ("done", "dropped"):
            raise ValidationError({"status": t("err.not_in_list", loc, options="done, dropped")})
        if action_id not in earlier:
            raise NotFound(t("err.not_found", loc, detail=str(action_id)))
        row = session.get(ReviewAction, action_id, with_for_update=True)
        before = row.status
        row.status, row.checked_review_id = status, review.id
        row.done_on = company_today(session) if status == "done" else None
        audit.record(session, actor, "review_action", action_id, "check_off", {"status": [before, status]})
    return review.id


def actions_to_check(session: Session, actor: Actor, *, scope: str = "company", team_id: int | None = None,
                     user_id: int | None = None, before_review: int | None = None) -> list[ActionItem]:
    """Open actions of earlier reviews of the same scope: the list the next review checks off."""
    _check_scope(session, actor, scope, team_id, user_id)
    reviews = select(Review.id).where(Review.scope == scope, Review.team_id.is_(team_id) if team_id is None
                                      else Review.team_id == team_id,
                                      Review.user_id.is_(user_id) if user_id is None else Review.user_id == user_id)
    if before_review is not None:
        reviews = reviews.where(Review.id != before_review)
    return _action_rows(session, [ReviewAction.review_id.in_(reviews), ReviewAction.status.in_(OPEN)])


def set_action_status(session: Session, actor: Actor, *, action_id: int, status: str) -> ActionItem:
    """Change an action's status (open, in progress, done, dropped): its owner or a reviewer
    of its scope may; done stamps today (company time zone)."""
    loc = actor.locale
    if status not in REVIEW_ACTION_STATUSES:
        raise ValidationError({"status": t("err.not_in_list", loc, options=", ".join(REVIEW_ACTION_STATUSES))})
    row = session.get(ReviewAction, action_id, with_for_update=True)
    if row is None:
        raise NotFound(t("err.not_found", loc, detail=str(action_id)))
    if row.owner_id != actor.id:
        _visible_review(session, actor, row.review_id)
    before = row.status
    row.status = status
    row.done_on = company_today(session) if status == "done" else None
    audit.record(session, actor, "review_action", action_id, "update", {"status": [before, status]})
    session.flush()
    return _action_rows(session, [ReviewAction.id == action_id])[0]


def open_actions(session: Session, actor: Actor, *, owner_id: int | None = None) -> list[ActionItem]:
    """Open and in-progress actions owned by ``owner_id`` (default: the actor) — the owner's
    agenda; only owners the actor may see."""
    owner = actor.id if owner_id is None else owner_id
    visible = visible_user_ids(session, actor)
    if owner is None or (visible is not None and owner not in visible):
        return []
    return _action_rows(session, [ReviewAction.owner_id == owner, ReviewAction.status.in_(OPEN)])


def scope_open_actions(session: Session, actor: Actor, *, limit: int = 50) -> list[ActionItem]:
    """Open actions of every owner the actor sees (the weekly meeting's list), by due date."""
    visible = visible_user_ids(session, actor)
    rows = _action_rows(session, [owner_in(ReviewAction.owner_id, visible), ReviewAction.status.in_(OPEN)])
    return rows[:limit]


def list_reviews(session: Session, actor: Actor, *, limit: int = 50) -> list[ReviewRead]:
    """Reviews the actor may see, newest first, with their actions."""
    out = []
    for row in session.scalars(select(Review).order_by(Review.period_start.desc(), Review.id.desc())).all():
        try:
            _check_scope(session, actor, row.scope, row.team_id, row.user_id)
        except PermissionDenied:
            continue
        out.append(_read(session, row))
        if len(out) >= limit:
            break
    return out


def get_review(session: Session, actor: Actor, *, review_id: int) -> ReviewRead:
    """One review with its findings and actions (not found when outside the actor's scopes)."""
    return _read(session, _visible_review(session, actor, review_id))


def _read(session: Session, row: Review) -> ReviewRead:
    try:
        texts = json.loads(row.findings or "[]")
    except ValueError:
        texts = [row.findings]
    return ReviewRead(row.id, row.period_start, row.period_end, row.scope, row.team_id, row.user_id, texts,
                      _action_rows(session, [ReviewAction.review_id == row.id]))


__all__ = ["OPEN", "SCOPES", "ActionItem", "ReviewRead", "actions_to_check", "create_review", "get_review",
           "list_reviews", "open_actions", "scope_open_actions", "set_action_status"]
