"""Courses, sessions and enrollments: assign to reps or whole teams with a due date, the rep
reports progress and completion, the trainer records the score (0…the course's maximum),
certification when the score reaches the passing score, and the dashboard numbers.

Who may: managers (and above) add courses and sessions, assign, and score — for the reps
they may see; a rep reads the catalogue and their own enrollments and reports their own
progress. Overdue: not completed and the due date before today.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from services import audit
from services.access import Actor, owner_filter, owner_in, team_subtree_ids, visible_user_ids
from services.clock import company_today
from services.errors import FieldPermissionDenied, NotFound, PermissionDenied, ValidationError
from services.i18n import t
from services.models import COURSE_CATEGORIES, Course, CourseSession, Enrollment, Team, User
from services.models.fields import clean_text

URL_MAX, TITLE_MAX = 500, 200


def require_manager(actor: Actor) -> None:
    if not actor.is_manager:
        raise PermissionDenied(t("err.permission", actor.locale, detail=t("training.managers_only", actor.locale)))


def _int(value: Any, field: str, loc: str, errors: dict[str, str], *, lo: int = 0, hi: int = 100000,
         required: bool = True) -> int | None:
    if value is None or str(value).strip() == "":
        if required:
            errors[field] = t("err.required", loc)
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[field] = t("err.integer", loc)
        return None
    if not lo <= number <= hi:
        errors[field] = t("err.range", loc, min=lo, max=hi)
        return None
    return number


def _day(value: Any, field: str, loc: str, errors: dict[str, str], *, required: bool = True) -> date | None:
    if value is None or str(value).strip() == "":
        if required:
            errors[field] = t("err.required", loc)
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = t("err.date_format", loc)
        return None


# ---------------------------------------------------------------------------
# courses


def _course_row(c: Course) -> dict[str, Any]:
    return {"id": c.id, "title": c.title, "category": c.category, "duration_hours": c.duration_hours,
            "passing_score": c.passing_score, "max_score": c.max_score, "material_url": c.material_url,
            "notes": c.description, "active": c.active}


def add_course(session: Session, actor: Actor, *, values: dict[str, Any]) -> dict[str, Any]:
    """A course (manager+): title, category (product_knowledge | sales_skills |
    market_analysis | other), duration in hours (0.5–1000), material link or notes, passing
    score ≤ maximum score (1–1000)."""
    require_manager(actor)
    loc, errors = actor.locale, {}
    title = clean_text(values.get("title") or "") or ""
    if not title:
        errors["title"] = t("err.required", loc)
    elif len(title) > TITLE_MAX:
        errors["title"] = t("err.too_long", loc, max=TITLE_MAX)
    category = values.get("category") or "sales_skills"
    if category not in COURSE_CATEGORIES:
        errors["category"] = t("err.not_in_list", loc, options=", ".join(COURSE_CATEGORIES))
    try:
        hours = Decimal(str(values.get("duration_hours") if values.get("duration_hours") is not None else "1"))
        if not Decimal("0.5") <= hours <= Decimal("1000"):
            errors["duration_hours"] = t("err.range", loc, min="0.5", max=1000)
    except InvalidOperation:
        errors["duration_hours"] = t("err.number", loc)
        hours = Decimal("1")
    max_score = _int(values.get("max_score", 100), "max_score", loc, errors, lo=1, hi=1000)
    passing = _int(values.get("passing_score", 60), "passing_score", loc, errors, lo=0, hi=1000)
    if max_score is not None and passing is not None and passing > max_score:
        errors["passing_score"] = t("training.err.passing_above_max", loc, max=max_score)
    url = clean_text(values.get("material_url") or "") or None
    if url and (len(url) > URL_MAX or not url.lower().startswith(("http://", "https://"))):
        errors["material_url"] = t("training.err.url", loc)
    if errors:
        raise ValidationError(errors)
    course = Course(title=title, category=category, duration_hours=hours.quantize(Decimal("0.1")),
                    passing_score=passing, max_score=max_score, material_url=url,
                    description=clean_text(values.get("notes") or "") or None)
    session.add(course)
    session.flush()
    audit.record(session, actor, "course", course.id, "create", {"title": [None, title]})
    return _course_row(course)


def list_courses(session: Session, actor: Actor, *, category: str | None = None) -> list[dict[str, Any]]:
    """The active course catalogue (everyone), by category then title."""
    stmt = select(Course).where(Course.active.is_(True)).order_by(Course.category, Course.title)
    if category:
        stmt = stmt.where(Course.category == category)
    return [_course_row(c) for c in session.scalars(stmt).all()]


def _course(session: Session, actor: Actor, course_id: int) -> Course:
    course = session.get(Course, course_id)
    if course is None:
        raise ValidationError({"course_id": t("err.unknown_ref", actor.locale, value=course_id)})
    return course


def add_session(session: Session, actor: Actor, *, course_id: int, held_on: Any, trainer: str,
                attendee_ids: list[int] | None = None, notes: str | None = None) -> dict[str, Any]:
    """A held session of a course (manager+): date, trainer, attendees (users the actor may see)."""
    require_manager(actor)
    loc, errors = actor.locale, {}
    _course(session, actor, course_id)
    day = _day(held_on, "held_on", loc, errors)
    name = clean_text(trainer or "") or ""
    if not name:
        errors["trainer"] = t("err.required", loc)
    ids = sorted(set(attendee_ids or []))
    visible = visible_user_ids(session, actor)
    if visible is not None and set(ids) - visible:
        raise FieldPermissionDenied({"attendee_ids": t("err.owner_not_allowed", loc)})
    if errors:
        raise ValidationError(errors)
    row = CourseSession(course_id=course_id, held_on=day, trainer=name[:120], attendees=json.dumps(ids),
                        notes=(clean_text(notes or "") or None))
    session.add(row)
    session.flush()
    audit.record(session, actor, "course_session", row.id, "create", {"course_id": [None, course_id]})
    return {"id": row.id, "course_id": course_id, "held_on": day, "trainer": row.trainer, "attendees": ids}


def list_sessions(session: Session, actor: Actor, *, course_id: int | None = None) -> list[dict[str, Any]]:
    """Sessions held (newest first); attendees limited to the users the actor may see."""
    stmt = select(CourseSession, Course.title).join(Course, Course.id == CourseSession.course_id) \
        .order_by(CourseSession.held_on.desc(), CourseSession.id.desc())
    if course_id:
        stmt = stmt.where(CourseSession.course_id == course_id)
    visible = visible_user_ids(session, actor)
    out = []
    for row, title in session.execute(stmt).all():
        ids = [i for i in json.loads(row.attendees or "[]") if visible is None or i in visible]
        out.append({"id": row.id, "course_id": row.course_id, "course": title, "held_on": row.held_on,
                    "trainer": row.trainer, "attendees": ids})
    return out


# ---------------------------------------------------------------------------
# enrollments


def assign_course(session: Session, actor: Actor, *, course_id: int, user_ids: list[int] | None = None,
                  team_ids: list[int] | None = None, due_on: Any = None) -> dict[str, Any]:
    """Assign a course to reps and / or every active rep of whole teams (with subteams), due
    on ``due_on`` (not before today) — only users the actor may see (manager+). A rep who
    already has the course gets the new due date (and starts over when they had failed)."""
    require_manager(actor)
    loc, errors = actor.locale, {}
    _course(session, actor, course_id)
    today = company_today(session)
    due = _day(due_on, "due_on", loc, errors)
    if due is not None and due < today:
        errors["due_on"] = t("training.err.due_past", loc)
    ids = set(user_ids or [])
    if team_ids:
        teams = team_subtree_ids(session, set(team_ids))
        ids |= set(session.scalars(select(User.id).where(User.team_id.in_(sorted(teams)), User.role == "rep",
                                                         User.active.is_(True))).all())
    visible = visible_user_ids(session, actor)
    if not ids:
        errors["user_ids"] = t("err.required", loc)
    elif visible is not None and ids - visible:
        raise FieldPermissionDenied({"user_ids": t("err.owner_not_allowed", loc)})
    if errors:
        raise ValidationError(errors)
    existing = {e.user_id: e for e in session.scalars(
        select(Enrollment).where(Enrollment.course_id == course_id, Enrollment.user_id.in_(sorted(ids)))
        .order_by(Enrollment.id).with_for_update()).all()}
    added = 0
    for uid in sorted(ids):
        row = existing.get(uid)
        if row is None:
            row = Enrollment(course_id=course_id, user_id=uid, assigned_on=today, status="assigned")
            added += 1
        elif row.status == "failed":
            row.status, row.score, row.completed_on, row.progress = "assigned", None, None, 0
        row.due_on = due
        session.add(row)
    session.flush()
    audit.record(session, actor, "enrollment", course_id, "assign", {"users": [None, sorted(ids)]})
    return {"course_id": course_id, "assigned": added, "updated": len(ids) - added, "due_on": due}


def _enrollment(session: Session, actor: Actor, enrollment_id: int) -> Enrollment:
    row = session.scalars(select(Enrollment).where(Enrollment.id == enrollment_id,
                                                   owner_filter(session, actor, Enrollment.user_id))
                          .with_for_update()).first()
    if row is None:
        raise NotFound(t("err.not_allowed", actor.locale))
    return row


def report_progress(session: Session, actor: Actor, *, enrollment_id: int, progress: Any,
                    completed: bool = False) -> dict[str, Any]:
    """The rep (or their manager) reports progress 0–100 %; ``completed`` marks it done
    (progress 100 %, awaiting the trainer's score). A scored enrollment no longer changes."""
    row = _enrollment(session, actor, enrollment_id)
    loc, errors = actor.locale, {}
    value = _int(100 if completed else progress, "progress", loc, errors, lo=0, hi=100)
    if row.score is not None:
        errors["progress"] = t("training.err.already_scored", loc)
    if errors:
        raise ValidationError(errors)
    row.progress = value
    row.status = "completed" if completed else ("in_progress" if value else row.status)
    if completed:
        row.completed_on = company_today(session)
    session.add(row)
    audit.record(session, actor, "enrollment", row.id, "progress", {"progress": [None, value]})
    return {"id": row.id, "status": row.status, "progress": row.progress}


def record_score(session: Session, actor: Actor, *, enrollment_id: int, score: Any) -> dict[str, Any]:
    """The trainer's score (manager+): 0…the course's maximum score, else refused. At or above
    the passing score the rep is certified that day; below, the enrollment is failed."""
    require_manager(actor)
    row = _enrollment(session, actor, enrollment_id)
    course = session.get(Course, row.course_id)
    loc, errors = actor.locale, {}
    value = _int(score, "score", loc, errors, lo=0, hi=10**6)
    if value is not None and value > course.max_score:
        errors["score"] = t("training.err.score_above_max", loc, max=course.max_score)
    if errors:
        raise ValidationError(errors)
    today = company_today(session)
    row.score = value
    row.completed_on = row.completed_on or today
    row.progress = 100
    passed = value >= course.passing_score
    row.status = "completed" if passed else "failed"
    row.certified_on = today if passed else None
    session.add(row)
    audit.record(session, actor, "enrollment", row.id, "score", {"score": [None, value]})
    return {"id": row.id, "score": value, "status": row.status, "certified_on": row.certified_on}


def list_enrollments(session: Session, actor: Actor, *, user_id: int | None = None, course_id: int | None = None,
                     today: date | None = None) -> list[dict[str, Any]]:
    """Enrollments of the users the actor may see (a rep: their own), soonest due first, with
    ``overdue`` (not completed, due before today) and ``certified``."""
    today = today or company_today(session)
    visible = visible_user_ids(session, actor)
    ids = visible if user_id is None else ({user_id} if visible is None or user_id in visible else set())
    stmt = (select(Enrollment, Course.title, Course.category, Course.max_score, User.display_name, User.team_id)
            .join(Course, Course.id == Enrollment.course_id).join(User, User.id == Enrollment.user_id)
            .where(owner_in(Enrollment.user_id, ids)).order_by(Enrollment.due_on, Enrollment.id))
    if course_id:
        stmt = stmt.where(Enrollment.course_id == course_id)
    out = []
    for e, title, category, max_score, name, team in session.execute(stmt).all():
        done = e.status == "completed"
        out.append({"id": e.id, "course_id": e.course_id, "course": title, "category": category, "user_id": e.user_id,
                    "name": name, "team_id": team, "assigned_on": e.assigned_on, "due_on": e.due_on,
                    "status": e.status, "progress": e.progress, "score": e.score, "max_score": max_score,
                    "completed_on": e.completed_on, "certified_on": e.certified_on,
                    "overdue": bool(not done and e.due_on and e.due_on < today)})
    return out


def training_dashboard(session: Session, actor: Actor, *, today: date | None = None) -> dict[str, Any]:
    """Completion rate (completed ÷ assigned) per team and per course, the overdue
    enrollments, and the score distribution in bands of 10 % of the maximum score — over the
    enrollments of the users the actor may see."""
    rows = list_enrollments(session, actor, today=today)
    teams = dict(session.execute(select(Team.id, Team.name)).all())

    def rate(group: list[dict]) -> dict[str, Any]:
        done = sum(1 for r in group if r["status"] == "completed")
        return {"assigned": len(group), "completed": done, "rate": (done / len(group)) if group else None}

    by_team: dict[Any, list[dict]] = {}
    by_course: dict[str, list[dict]] = {}
    bands = dict.fromkeys(range(10), 0)
    for r in rows:
        by_team.setdefault(r["team_id"], []).append(r)
        by_course.setdefault(r["course"], []).append(r)
        if r["score"] is not None:
            bands[min(9, int(r["score"] * 10 // max(1, r["max_score"])))] += 1
    return {
        "teams": [{"team": teams.get(k, "—"), **rate(v)} for k, v in sorted(by_team.items(), key=lambda kv: teams.get(kv[0], ""))],
        "courses": [{"course": k, **rate(v)} for k, v in sorted(by_course.items())],
        "overdue": [r for r in rows if r["overdue"]],
        "scores": [{"band": f"{b * 10}–{b * 10 + 10}%", "count": n} for b, n in bands.items()],
        "total": rate(rows),
    }


def certified_count(session: Session, actor: Actor) -> int:
    """Certifications of the users the actor may see."""
    return int(session.scalar(select(func.count()).select_from(Enrollment).where(
        Enrollment.certified_on.is_not(None), owner_filter(session, actor, Enrollment.user_id))) or 0)
