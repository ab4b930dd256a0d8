"""The case library (经验分享与成功案例): a won (or instructively lost) deal written up —
situation, what worked, objections and answers — linked to the deal, its product and a stage;
the author submits it, a manager reviews it and publishes it; everyone searches the published
cases; a rep sees the cases for the product and stage of their open deals; a course can
include cases.

Who may: the deal's owner or their manager writes a case from a closed deal they may see; a
manager (or above) publishes or sends back cases of authors they may see.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlmodel import Session

from services import audit
from services.access import Actor, load_visible, owner_filter, visible_user_ids
from services.clock import company_today
from services.errors import NotFound, ValidationError
from services.i18n import t
from services.models import CourseCase, Deal, Product, SalesCase, Stage, User
from services.models.fields import LONG_TEXT, clean_text
from services.training.courses import _course, require_manager

TEXTS = ("situation", "what_worked", "objections")


def _row(c: SalesCase, names: dict) -> dict[str, Any]:
    return {"id": c.id, "title": c.title, "deal_id": c.deal_id, "product_id": c.product_id,
            "product": names.get(("p", c.product_id)), "stage_id": c.stage_id, "stage": names.get(("s", c.stage_id)),
            "outcome": c.outcome, "situation": c.situation, "what_worked": c.what_worked, "objections": c.objections,
            "author_id": c.author_id, "author": names.get(("u", c.author_id)), "status": c.status,
            "published_on": c.published_on}


def _names(session: Session) -> dict:
    out: dict = {}
    out.update({("p", i): n for i, n in session.execute(select(Product.id, Product.name)).all()})
    out.update({("s", i): n for i, n in session.execute(select(Stage.id, Stage.name)).all()})
    return out


def _rows(session: Session, cases: list[SalesCase]) -> list[dict[str, Any]]:
    names = _names(session)
    authors = {c.author_id for c in cases}
    if authors:
        names.update({("u", i): n for i, n in session.execute(
            select(User.id, User.display_name).where(User.id.in_(sorted(authors)))).all()})
    return [_row(c, names) for c in cases]


def write_case(session: Session, actor: Actor, *, deal_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """A case from a closed (won or lost) deal the actor may see: title, situation, what
    worked, objections and answers (each ≤ ``LONG_TEXT``), the stage it is about (default:
    the deal's last open stage … its current stage); submitted for review."""
    loc, errors = actor.locale, {}
    deal = load_visible(session, actor, Deal, deal_id, field="deal_id")
    stage = session.get(Stage, deal.stage_id)
    if stage.kind not in ("won", "lost"):
        raise ValidationError({"deal_id": t("training.err.case_needs_closed", loc)})
    title = clean_text(values.get("title") or "") or ""
    if not title:
        errors["title"] = t("err.required", loc)
    elif len(title) > 200:
        errors["title"] = t("err.too_long", loc, max=200)
    texts = {}
    for field in TEXTS:
        text = clean_text(values.get(field) or "") or None
        if text and len(text) > LONG_TEXT:
            errors[field] = t("err.too_long", loc, max=LONG_TEXT)
        texts[field] = text
    if not texts["situation"]:
        errors["situation"] = t("err.required", loc)
    stage_id = values.get("stage_id") or deal.stage_id
    if session.get(Stage, stage_id) is None:
        errors["stage_id"] = t("err.unknown_ref", loc, value=stage_id)
    if errors:
        raise ValidationError(errors)
    case = SalesCase(title=title, deal_id=deal.id, product_id=deal.product_id, stage_id=stage_id,
                     outcome=stage.kind, author_id=actor.id or deal.owner_id, status="submitted", **texts)
    session.add(case)
    session.flush()
    audit.record(session, actor, "sales_case", case.id, "create", {"title": [None, title]})
    return _rows(session, [case])[0]


def review_case(session: Session, actor: Actor, *, case_id: int, publish: bool) -> dict[str, Any]:
    """The manager's review (manager+, authors they may see): publish, or send back to draft."""
    require_manager(actor)
    case = session.scalars(select(SalesCase).where(SalesCase.id == case_id,
                                                   owner_filter(session, actor, SalesCase.author_id))
                           .with_for_update()).first()
    if case is None:
        raise NotFound(t("err.not_allowed", actor.locale))
    case.status = "published" if publish else "draft"
    case.reviewed_by = actor.id
    case.published_on = company_today(session) if publish else None
    session.add(case)
    audit.record(session, actor, "sales_case", case.id, "review", {"status": [None, case.status]})
    return _rows(session, [case])[0]


def _readable(session: Session, actor: Actor):
    """Published cases, plus the not yet published ones of authors the actor may see."""
    visible = visible_user_ids(session, actor)
    if visible is None:
        return True
    return or_(SalesCase.status == "published", SalesCase.author_id.in_(sorted(visible)))


def search_cases(session: Session, actor: Actor, *, query: str | None = None, product_id: int | None = None,
                 stage_id: int | None = None, status: str | None = "published", limit: int = 50) -> list[dict[str, Any]]:
    """Cases whose title or texts contain ``query`` (case-insensitive), narrowed by product,
    stage and status (default published; None = all the actor may read), newest first."""
    stmt = select(SalesCase).where(_readable(session, actor))
    if status:
        stmt = stmt.where(SalesCase.status == status)
    if product_id:
        stmt = stmt.where(SalesCase.product_id == product_id)
    if stage_id:
        stmt = stmt.where(SalesCase.stage_id == stage_id)
    q = (query or "").strip()
    if q:
        like = f"%{q.lower()}%"
        from sqlalchemy import func

        stmt = stmt.where(or_(*[func.lower(col).like(like) for col in (SalesCase.title, SalesCase.situation,
                                                                        SalesCase.what_worked, SalesCase.objections)]))
    return _rows(session, list(session.scalars(stmt.order_by(SalesCase.id.desc()).limit(limit)).all()))


def cases_for_open_deals(session: Session, actor: Actor, *, user_id: int | None = None) -> list[dict[str, Any]]:
    """Published cases for the stage and product of the open deals of ``user_id`` (default:
    the actor) — a deal without a product gets its stage's cases — each with the deal it
    helps with."""
    uid = user_id if user_id is not None else actor.id
    visible = visible_user_ids(session, actor)
    if uid is None or (visible is not None and uid not in visible):
        return []
    deals = session.execute(select(Deal.id, Deal.name, Deal.product_id, Deal.stage_id).join(Stage, Stage.id == Deal.stage_id)
                            .where(Deal.owner_id == uid, Stage.kind == "open").order_by(Deal.id)).all()
    if not deals:
        return []
    cases = _rows(session, list(session.scalars(
        select(SalesCase).where(SalesCase.status == "published",
                                SalesCase.stage_id.in_(sorted({d.stage_id for d in deals})))
        .order_by(SalesCase.id.desc())).all()))
    out = []
    for deal_id, name, product, stage in deals:
        for row in cases:
            if row["stage_id"] == stage and (product is None or row["product_id"] == product):
                out.append({**row, "for_deal_id": deal_id, "for_deal": name})
    return out


def include_case(session: Session, actor: Actor, *, course_id: int, case_id: int, included: bool = True) -> dict[str, Any]:
    """Include a published case in a course (or take it out) — manager+."""
    require_manager(actor)
    _course(session, actor, course_id)
    case = session.get(SalesCase, case_id)
    if case is None or case.status != "published":
        raise ValidationError({"case_id": t("training.err.case_unpublished", actor.locale)})
    session.execute(delete(CourseCase).where(CourseCase.course_id == course_id, CourseCase.case_id == case_id))
    if included:
        session.add(CourseCase(course_id=course_id, case_id=case_id))
    session.flush()
    audit.record(session, actor, "course_case", f"{course_id}:{case_id}", "include" if included else "remove")
    return {"course_id": course_id, "case_id": case_id, "included": included}


def course_cases(session: Session, actor: Actor, *, course_id: int) -> list[dict[str, Any]]:
    """The published cases a course includes."""
    cases = session.scalars(select(SalesCase).join(CourseCase, CourseCase.case_id == SalesCase.id)
                            .where(CourseCase.course_id == course_id, SalesCase.status == "published")
                            .order_by(SalesCase.title)).all()
    return _rows(session, list(cases))


def case_deals(session: Session, actor: Actor, *, limit: int = 100) -> list[dict[str, Any]]:
    """Won and lost deals the actor may see, newest close first — what a case can be written
    from."""
    rows = session.execute(
        select(Deal.id, Deal.name, Deal.closed_on, Stage.kind).join(Stage, Stage.id == Deal.stage_id)
        .where(Stage.kind.in_(("won", "lost")), owner_filter(session, actor, Deal.owner_id))
        .order_by(Deal.closed_on.desc(), Deal.id.desc()).limit(limit)).all()
    return [{"id": i, "name": n, "closed_on": c, "outcome": k} for i, n, c, k in rows]
