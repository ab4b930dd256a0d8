"""What the goals modules share: target periods written ``YYYY`` / ``YYYY-Qn`` / ``YYYY-MM``
(fiscal years and quarters follow the setting ``fiscal_year_start_month``), who may see and
edit a target, whose actuals count for it, and a target as a plain dict.

Periods: ``2027`` is the fiscal year that *starts* in 2027 (start month 4 → 2027-04-01 …
2028-03-31); ``2027-Q2`` its second quarter; ``2027-05`` the calendar month.

Access: director / admin see and edit every target. A manager sees and edits the targets of
the teams they manage (their subtree) and the user targets of those teams' people (their own
included). A rep sees their own user targets and their team's team target, read-only.
Company targets are for director / admin.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, false, or_, select, true
from sqlmodel import Session

from services import settings
from services.access import Actor, managed_team_ids, team_member_ids, team_subtree_ids, visible_user_ids
from services.errors import FieldNotFound, FieldPermissionDenied, ValidationError
from services.i18n import format_money, format_number, t
from services.models import Target, Team, User
from services.periods import Period, add_months

CENT = Decimal("0.01")
ONE = Decimal("1")
COUNT_METRICS = ("won_deals", "new_customers", "activities")
SPANS = {"year": 12, "quarter": 3, "month": 1}
_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def unit_of(metric: str) -> Decimal:
    """The smallest part of a metric's target: a cent for money, one for counts."""
    return ONE if metric in COUNT_METRICS else CENT


def fiscal_start_month(session: Session) -> int:
    return int(settings.get(session, "fiscal_year_start_month") or 1)


def parse_period(text: Any, fiscal_start: int, locale: str, field: str = "period") -> tuple[str, date]:
    """``YYYY`` → (year, fiscal year start), ``YYYY-Qn`` → (quarter, its first day),
    ``YYYY-MM`` → (month, 1st); anything else is a ``ValidationError`` on ``field``."""
    value = str(text or "").strip()
    if m := _YEAR.match(value):
        return "year", date(int(m[1]), fiscal_start, 1)
    if m := _QUARTER.match(value):
        return "quarter", add_months(date(int(m[1]), fiscal_start, 1), 3 * (int(m[2]) - 1))
    if (m := _MONTH.match(value)) and 1 <= int(m[2]) <= 12:
        return "month", date(int(m[1]), int(m[2]), 1)
    raise ValidationError({field: t("goals.err.period_format", locale, value=value)})


def period_of(kind: str, start: date) -> Period:
    return Period(start, add_months(start, SPANS[kind]), kind)


def period_label(kind: str, start: date, fiscal_start: int) -> str:
    """The written form of a target period (the inverse of ``parse_period``)."""
    if kind == "month":
        return f"{start.year:04d}-{start.month:02d}"
    fy = start.year if start.month >= fiscal_start else start.year - 1
    if kind == "year":
        return f"{fy:04d}"
    months_in = (start.year - fy) * 12 + start.month - fiscal_start
    return f"{fy:04d}-Q{months_in // 3 + 1}"


def sub_periods(kind: str, start: date, into: str) -> list[tuple[str, date]]:
    """The quarters or months of a year / quarter target, in order."""
    n = SPANS[kind] // SPANS[into]
    return [(into, add_months(start, i * SPANS[into])) for i in range(n)]


# ---------------------------------------------------------------------------
# access


def visible_target_term(session: Session, actor: Actor):
    """SQL filter: the targets the actor may see (see the module docstring)."""
    if actor.sees_all:
        return true()
    if actor.role == "manager":
        teams = managed_team_ids(session, actor)
        users = visible_user_ids(session, actor) or set()
        return or_(and_(Target.scope == "team", Target.team_id.in_(sorted(teams) or [-1])),
                   and_(Target.scope == "user", Target.user_id.in_(sorted(users) or [-1])))
    if actor.id is None:
        return false()
    own_team = Target.team_id == actor.team_id if actor.team_id is not None else false()
    return or_(and_(Target.scope == "user", Target.user_id == actor.id), and_(Target.scope == "team", own_team))


def may_edit(session: Session, actor: Actor, *, scope: str, team_id: int | None, user_id: int | None) -> bool:
    """Director / admin: any target; a manager: their teams' and their people's; a rep: none."""
    if actor.sees_all:
        return True
    if actor.role != "manager":
        return False
    if scope == "team":
        return team_id in managed_team_ids(session, actor)
    if scope == "user":
        return user_id in (visible_user_ids(session, actor) or set())
    return False


def ensure_may_edit(session: Session, actor: Actor, *, scope: str, team_id: int | None, user_id: int | None,
                    field: str = "scope") -> None:
    if not may_edit(session, actor, scope=scope, team_id=team_id, user_id=user_id):
        raise FieldPermissionDenied({field: t("goals.err.not_yours", actor.locale)})


def load_target(session: Session, actor: Actor, target_id: Any, *, for_update: bool = False,
                edit: bool = False) -> Target:
    """The target if the actor may see it (and edit it, with ``edit``); otherwise
    ``FieldNotFound`` / ``FieldPermissionDenied`` on ``target_id``."""
    stmt = select(Target).where(Target.id == target_id, visible_target_term(session, actor))
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first() if isinstance(target_id, int) and not isinstance(target_id, bool) else None
    if row is None:
        raise FieldNotFound({"target_id": t("err.unknown_ref", actor.locale, value=target_id)})
    if edit:
        ensure_may_edit(session, actor, scope=row.scope, team_id=row.team_id, user_id=row.user_id,
                        field="target_id")
    return row


def holder_user_ids(session: Session, scope: str, team_id: int | None, user_id: int | None) -> set[int] | None:
    """Whose records count for a target: everyone (company), the people of the team's
    subtree (team), the one user (user)."""
    if scope == "company":
        return None
    if scope == "team":
        teams = team_subtree_ids(session, {team_id}) if team_id is not None else set()
        return team_member_ids(session, teams)
    return {user_id} if user_id is not None else set()


def holder_reps(session: Session, scope: str, team_id: int | None, user_id: int | None) -> list[User]:
    """The active reps a target's work falls on (a user target: that user), by name."""
    if scope == "user":
        user = session.get(User, user_id)
        return [user] if user is not None else []
    stmt = select(User).where(User.active.is_(True), User.role == "rep")
    if scope == "team":
        teams = team_subtree_ids(session, {team_id}) if team_id is not None else set()
        stmt = stmt.where(User.team_id.in_(sorted(teams) or [-1]))
    return list(session.scalars(stmt.order_by(User.display_name, User.id)).all())


def _holder_key(row: Target) -> tuple[str, int] | None:
    """(scope, team or user id) of a team or user target; None for a company target."""
    if row.scope == "team" and row.team_id is not None:
        return ("team", row.team_id)
    if row.scope == "user" and row.user_id is not None:
        return ("user", row.user_id)
    return None


def as_value(metric: str, value: Decimal) -> Decimal | int:
    """A target value as its metric counts it (counts as whole numbers)."""
    return int(value) if metric in COUNT_METRICS else Decimal(value).quantize(CENT)


def shown_value(metric: str, value: Decimal | None, locale: str | None) -> str:
    """A target value as the goals page and its messages show it: money with its symbol and
    separators, counts as whole numbers with separators; "—" for none."""
    if value is None:
        return "—"
    return format_number(value, locale) if metric in COUNT_METRICS else format_money(value, locale, compact=False)


def holder_names(session: Session, rows: Sequence[Target]) -> dict[tuple[str, int], str]:
    """The holders' names of targets in two reads, keyed (scope, team or user id): a loop of
    ``session.get`` read a user again for every target of theirs (the session keeps no
    object nobody holds — 900 reads for one company year's tree)."""
    keys = {k for k in map(_holder_key, rows) if k is not None}
    team_ids = {i for kind, i in keys if kind == "team"}
    user_ids = {i for kind, i in keys if kind == "user"}
    names: dict[tuple[str, int], str] = {}
    if team_ids:
        names.update((("team", i), n) for i, n in session.execute(
            select(Team.id, Team.name).where(Team.id.in_(sorted(team_ids)))).all())
    if user_ids:
        names.update((("user", i), n) for i, n in session.execute(
            select(User.id, User.display_name).where(User.id.in_(sorted(user_ids)))).all())
    return names


def target_dicts(session: Session, rows: Sequence[Target], fiscal_start: int) -> list[dict[str, Any]]:
    """``target_dict`` of many targets, the holders' names read once."""
    names = holder_names(session, rows)
    return [target_dict(session, r, fiscal_start, names) for r in rows]


def target_dict(session: Session, row: Target, fiscal_start: int,
                names: dict[tuple[str, int], str] | None = None) -> dict[str, Any]:
    """A target as plain values (what services return and the CLI prints); ``names`` from
    ``holder_names`` when the caller converts many (a holder that no longer exists shows its
    id, a company target no holder)."""
    key = _holder_key(row)
    if names is None and key is not None:
        names = holder_names(session, [row])
    holder = "" if key is None else names.get(key, str(key[1]))
    return {
        "id": row.id, "metric": row.metric, "scope": row.scope, "team_id": row.team_id, "user_id": row.user_id,
        "holder": holder, "period": period_label(row.period_kind, row.period_start, fiscal_start),
        "period_kind": row.period_kind, "period_start": row.period_start, "tier": row.tier,
        "value": as_value(row.metric, row.value), "parent_id": row.parent_id, "basis_kind": row.basis_kind,
        "basis_notes": row.basis_notes,
    }
