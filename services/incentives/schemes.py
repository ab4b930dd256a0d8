"""Incentive schemes: adding and changing one (validated by ``rules``), listing them, who a
scheme applies to, and the periods it pays for.

Who may: director and admin set any scheme; a manager may set schemes only for their own
teams and reps (named explicitly); reps read the schemes that apply to them.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from services import audit, settings
from services.access import Actor, managed_team_ids, team_subtree_ids, visible_user_ids
from services.errors import FieldPermissionDenied, NotFound, PermissionDenied, ValidationError
from services.i18n import t
from services.incentives.rules import (
    SCHEME_BASES,
    SCHEME_MODES,
    SCHEME_PERIODS,
    Rule,
    bonus_json,
    bonus_text,
    check_choice,
    parse_bonus,
    parse_contest,
    parse_tiers,
    rule_of,
    tiers_json,
    tiers_text,
)
from services.models import IncentiveScheme, Team, User
from services.periods import Period, add_months

SCHEME_KINDS = ("commission", "contest")
NAME_MAX = 120


# ---------------------------------------------------------------------------
# periods: "2027-05", "2027-Q2", "2027"


def fiscal_start_month(session: Session) -> int:
    return int(settings.get(session, "fiscal_year_start_month") or 1)


def parse_period(session: Session, text: str, kind: str, locale: str, field: str = "period") -> Period:
    """The period named by ``text`` for a scheme paying per ``kind``: month "2027-05", quarter
    "2027-Q2" (fiscal quarters; the fiscal year named by the calendar year it starts in) or year
    "2027"; anything else (or a label of another kind) → ``ValidationError`` on ``field``."""
    value = (text or "").strip().upper()
    fy = fiscal_start_month(session)
    examples = {"month": "2027-05", "quarter": "2027-Q2", "year": "2027"}
    try:
        if kind == "month" and (m := re.fullmatch(r"(\d{4})-(\d{1,2})", value)):
            start = date(int(m[1]), int(m[2]), 1)
            return Period(start, add_months(start, 1), "month")
        if kind == "quarter" and (m := re.fullmatch(r"(\d{4})-?Q([1-4])", value)):
            start = add_months(date(int(m[1]), fy, 1), (int(m[2]) - 1) * 3)
            return Period(start, add_months(start, 3), "quarter")
        if kind == "year" and (m := re.fullmatch(r"(?:FY)?(\d{4})", value)):
            start = date(int(m[1]), fy, 1)
            return Period(start, add_months(start, 12), "year")
    except ValueError:
        pass
    raise ValidationError({field: t("incentives.err.period_format", locale, kind=t(f"incentives.period.{kind}", locale),
                                    example=examples.get(kind, "2027-05"))})


def period_label(session: Session, period: Period) -> str:
    """The label ``parse_period`` reads back."""
    if period.kind == "month":
        return period.start.strftime("%Y-%m")
    fy = fiscal_start_month(session)
    year = period.start.year if period.start.month >= fy else period.start.year - 1
    if period.kind == "quarter":
        months = (period.start.year - year) * 12 + period.start.month - fy
        return f"{year}-Q{months // 3 + 1}"
    return str(year)


SPAN_OF = {"month": 1, "quarter": 3, "year": 12}


def period_of_start(start: date, kind: str) -> Period:
    """The period of ``kind`` beginning on ``start``."""
    return Period(start, add_months(start, SPAN_OF[kind]), kind)


def next_period(period: Period) -> Period:
    return period_of_start(period.end, period.kind)


# ---------------------------------------------------------------------------
# reading


def _row(session: Session, scheme: IncentiveScheme) -> dict[str, Any]:
    rule = rule_of(scheme)
    return {
        "id": scheme.id, "name": scheme.name, "kind": rule.kind, "basis": rule.basis, "mode": rule.mode,
        "period": rule.period, "tiers": tiers_text(rule.tiers), "bonus": bonus_text(rule.bonus),
        "contest": rule.contest, "team_ids": json.loads(scheme.team_ids or "[]") or ([scheme.team_id] if scheme.team_id else []),
        "user_ids": json.loads(scheme.user_ids or "[]"), "starts_on": scheme.starts_on, "ends_on": scheme.ends_on,
        "active": scheme.active,
    }


def load_scheme(session: Session, actor: Actor, scheme: int | str) -> IncentiveScheme:
    """A scheme by id or name that applies to someone the actor may see (``NotFound`` else)."""
    if isinstance(scheme, int) or str(scheme).isdigit():
        row = session.get(IncentiveScheme, int(scheme))
    else:
        row = session.scalars(select(IncentiveScheme).where(IncentiveScheme.name == str(scheme).strip())).first()
    if row is None:
        raise NotFound(t("err.not_allowed", actor.locale))
    visible = visible_user_ids(session, actor)
    if visible is not None and not (set(scheme_user_ids(session, row)) & visible):
        raise NotFound(t("err.not_allowed", actor.locale))
    return row


def list_schemes(session: Session, actor: Actor, *, active_only: bool = True) -> list[dict[str, Any]]:
    """Schemes that apply to at least one user the actor may see, by name."""
    stmt = select(IncentiveScheme).order_by(IncentiveScheme.name)
    if active_only:
        stmt = stmt.where(IncentiveScheme.active.is_(True))
    visible = visible_user_ids(session, actor)
    out = []
    for scheme in session.scalars(stmt).all():
        if visible is None or set(scheme_user_ids(session, scheme)) & visible:
            out.append(_row(session, scheme))
    return out


def scheme_user_ids(session: Session, scheme: IncentiveScheme) -> list[int]:
    """Who a scheme applies to: users with the scheme's role (reps unless it names none) in
    its teams (with their subteams) or named by it; everyone with that role when it names
    neither. Inactive users are included — they earn for the periods they worked."""
    team_ids = set(json.loads(scheme.team_ids or "[]")) | ({scheme.team_id} if scheme.team_id else set())
    user_ids = set(json.loads(scheme.user_ids or "[]"))
    stmt = select(User.id)
    if scheme.applies_role:
        stmt = stmt.where(User.role == scheme.applies_role)
    if team_ids or user_ids:
        teams = team_subtree_ids(session, team_ids)
        in_teams = set(session.scalars(stmt.where(User.team_id.in_(sorted(teams)))).all()) if teams else set()
        return sorted(in_teams | user_ids)
    return sorted(session.scalars(stmt).all())


# ---------------------------------------------------------------------------
# writing


def validate_scheme(session: Session, actor: Actor, values: dict[str, Any]) -> dict[str, Any]:
    """The checked column values of a scheme from user input (every field's message at once)."""
    loc = actor.locale
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    name = " ".join(str(values.get("name") or "").split())
    if not name:
        errors["name"] = t("err.required", loc)
    elif len(name) > NAME_MAX:
        errors["name"] = t("err.too_long", loc, max=NAME_MAX)
    out["name"] = name
    kind = check_choice(values.get("kind") or "commission", SCHEME_KINDS, "kind", loc, errors)
    out["kind"] = kind
    out["basis"] = check_choice(values.get("basis"), SCHEME_BASES, "basis", loc, errors)
    out["period_kind"] = check_choice(values.get("period"), SCHEME_PERIODS, "period", loc, errors)
    out["mode"] = check_choice(values.get("mode") or "whole", SCHEME_MODES, "mode", loc, errors)
    try:
        if kind == "contest":
            out["tiers"] = "[]"
            out["contest"] = json.dumps(parse_contest(values.get("contest"), loc))
        else:
            out["tiers"] = tiers_json(parse_tiers(values.get("tiers") or "", loc))
            out["contest"] = None
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        out["bonus"] = bonus_json(parse_bonus(values.get("bonus"), loc))
    except ValidationError as exc:
        errors.update(exc.errors)
    starts, ends = values.get("starts_on"), values.get("ends_on")
    for field, value in (("starts_on", starts), ("ends_on", ends)):
        if value is not None and not isinstance(value, date):
            try:
                value = date.fromisoformat(str(value))
            except ValueError:
                errors[field] = t("err.date_format", loc)
                value = None
        out[field] = value
    if out.get("starts_on") and out.get("ends_on") and out["ends_on"] < out["starts_on"]:
        errors["ends_on"] = t("incentives.err.ends_before_starts", loc)
    team_ids = sorted({int(x) for x in values.get("team_ids") or []})
    user_ids = sorted({int(x) for x in values.get("user_ids") or []})
    known_teams = set(session.scalars(select(Team.id).where(Team.id.in_(team_ids))).all()) if team_ids else set()
    if set(team_ids) - known_teams:
        errors["team_ids"] = t("err.unknown_ref", loc, value=", ".join(map(str, sorted(set(team_ids) - known_teams))))
    known_users = set(session.scalars(select(User.id).where(User.id.in_(user_ids))).all()) if user_ids else set()
    if set(user_ids) - known_users:
        errors["user_ids"] = t("err.unknown_ref", loc, value=", ".join(map(str, sorted(set(user_ids) - known_users))))
    if actor.role == "manager" and "team_ids" not in errors and "user_ids" not in errors:
        managed = managed_team_ids(session, actor)
        visible = visible_user_ids(session, actor) or set()
        if (not team_ids and not user_ids) or set(team_ids) - managed or set(user_ids) - visible:
            raise FieldPermissionDenied({"team_ids": t("incentives.err.manager_scope", loc)})
    out["team_ids"], out["user_ids"] = json.dumps(team_ids), json.dumps(user_ids)
    if errors:
        raise ValidationError(errors)
    return out


def _require_setter(actor: Actor) -> None:
    if actor.role not in ("admin", "director", "manager"):
        raise PermissionDenied(t("err.permission", actor.locale, detail=t("incentives.managers_only", actor.locale)))


def add_scheme(session: Session, actor: Actor, *, values: dict[str, Any]) -> dict[str, Any]:
    """Add a scheme: name (unique), kind commission | contest, basis, mode, tiers, period,
    teams / users (everyone when none), bonus thresholds, contest, valid dates — every rule in
    ``rules`` checked first; nothing written on a refusal."""
    _require_setter(actor)
    data = validate_scheme(session, actor, values)
    if session.scalars(select(IncentiveScheme.id).where(IncentiveScheme.name == data["name"])).first():
        raise ValidationError({"name": t("incentives.err.name_taken", actor.locale)})
    row = IncentiveScheme(**data, applies_role="rep", active=True)
    session.add(row)
    session.flush()
    audit.record(session, actor, "incentive_scheme", row.id, "create", {"name": [None, row.name]})
    return _row(session, row)


def update_scheme(session: Session, actor: Actor, *, scheme_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """Change a scheme's rule (same checks as ``add_scheme``; paid payouts keep their amounts —
    the next period shows any difference as an adjustment)."""
    _require_setter(actor)
    row = session.scalars(select(IncentiveScheme).where(IncentiveScheme.id == scheme_id).with_for_update()).first()
    if row is None:
        raise NotFound(t("err.not_allowed", actor.locale))
    load_scheme(session, actor, scheme_id)
    current = _row(session, row)
    merged = {**current, "period": current["period"], **values}
    data = validate_scheme(session, actor, merged)
    if data["name"] != row.name and session.scalars(
            select(IncentiveScheme.id).where(IncentiveScheme.name == data["name"])).first():
        raise ValidationError({"name": t("incentives.err.name_taken", actor.locale)})
    for key, value in data.items():
        setattr(row, key, value)
    session.add(row)
    audit.record(session, actor, "incentive_scheme", row.id, "update", {"tiers": [current["tiers"], data["tiers"]]})
    return _row(session, row)


def draft_rule(session: Session, actor: Actor, scheme: IncentiveScheme, changes: dict[str, Any]) -> Rule:
    """The rule of ``scheme`` with ``changes`` (tiers, mode, bonus, basis) applied and checked —
    what a what-if compares against the current rule, without saving anything."""
    current = _row(session, scheme)
    data = validate_scheme(session, Actor(None, "what-if", "", "admin", locale=actor.locale),
                           {**current, **{k: v for k, v in changes.items() if v is not None}})
    draft = IncentiveScheme(**data)
    return rule_of(draft)
