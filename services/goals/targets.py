"""Targets: set, list, change and delete them; their trees and the parts-add-up rule.

Rules:
- A target names a metric (``TARGET_METRICS``), a scope (company | team | user with its team
  or user), a period (``YYYY`` / ``YYYY-Qn`` / ``YYYY-MM``, see ``goals.common``), a tier (base
  目标 / stretch 冲刺 / challenge 挑战, default base) and a value ≥ 0 (money with 2 places;
  counted metrics in whole numbers). At most one per metric × holder × period × tier (a
  database unique index as well as the check).
- The basis: ``basis_kind`` (the suggestion chosen, a blend, or manual) with the numbers of
  that suggestion (JSON) and free notes.
- Parts add up: when a target has parts of one kind (its quarters, months or reps), their
  values sum to its value. A change that breaks this is refused, unless the manager asks to
  re-total: then each parent takes the sum of its parts (up the tree).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services import audit
from services.access import Actor
from services.errors import ConflictError, ValidationError
from services.goals.common import (
    COUNT_METRICS,
    ensure_may_edit,
    fiscal_start_month,
    holder_names,
    load_target,
    parse_period,
    period_label,
    shown_value,
    target_dict,
    target_dicts,
    visible_target_term,
)
from services.i18n import t
from services.models import (
    BASIS_KINDS,
    TARGET_METRICS,
    TARGET_SCOPES,
    TARGET_TIERS,
    SalesPlanTarget,
    Target,
    Team,
    User,
)
from services.validation import check_amount


def check_value(metric: str, value: Any, locale: str, errors: dict[str, str], field: str = "value") -> Decimal | None:
    """A target value: a number ≥ 0 (money: 2 places; counts: whole)."""
    amount = check_amount(value, field, locale, errors, required=True)
    if amount is not None and metric in COUNT_METRICS and amount != amount.to_integral_value():
        errors[field] = t("goals.err.whole_number", locale)
        return None
    return amount


def _slot_term(metric: str, scope: str, team_id: int | None, user_id: int | None, kind: str, start, tier: str):
    return (Target.metric == metric, Target.scope == scope, Target.period_kind == kind, Target.period_start == start,
            Target.tier == tier,
            Target.team_id.is_(None) if team_id is None else Target.team_id == team_id,
            Target.user_id.is_(None) if user_id is None else Target.user_id == user_id)


def create_target(session: Session, actor: Actor, *, data: Mapping[str, Any]) -> dict:
    """Set a target (the rules in the module docstring); ``data``: metric, scope, team_id /
    user_id, period (text, or period_kind + period_start), tier, value, parent_id,
    basis_kind, basis (the chosen suggestion's numbers), basis_notes. Only who may edit the
    holder's targets may set it."""
    loc = actor.locale
    raw = dict(data)
    errors: dict[str, str] = {}
    metric = raw.get("metric") or "contract_amount"
    if metric not in TARGET_METRICS:
        errors["metric"] = t("err.not_in_list", loc, options=", ".join(TARGET_METRICS))
    scope = raw.get("scope") or "company"
    if scope not in TARGET_SCOPES:
        errors["scope"] = t("err.not_in_list", loc, options=", ".join(TARGET_SCOPES))
    tier = raw.get("tier") or "base"
    if tier not in TARGET_TIERS:
        errors["tier"] = t("err.not_in_list", loc, options=", ".join(TARGET_TIERS))
    basis_kind = raw.get("basis_kind") or "manual"
    if basis_kind not in BASIS_KINDS:
        errors["basis_kind"] = t("err.not_in_list", loc, options=", ".join(BASIS_KINDS))
    value = check_value(metric, raw.get("value"), loc, errors)
    fiscal = fiscal_start_month(session)
    kind = start = None
    if raw.get("period") is not None:
        try:
            kind, start = parse_period(raw["period"], fiscal, loc)
        except ValidationError as exc:
            errors.update(exc.errors)
    elif raw.get("period_kind") in ("year", "quarter", "month") and raw.get("period_start") is not None:
        kind, start = raw["period_kind"], raw["period_start"]
    else:
        errors["period"] = t("err.required", loc)
    team_id, user_id = raw.get("team_id"), raw.get("user_id")
    if scope == "company":
        team_id = user_id = None
    elif scope == "team":
        user_id = None
        if team_id is None or session.get(Team, team_id) is None:
            errors["team_id"] = t("err.required", loc) if team_id is None else t("err.unknown_ref", loc, value=team_id)
    elif scope == "user":
        team_id = None
        user = session.get(User, user_id) if isinstance(user_id, int) else None
        if user is None or not user.active:
            errors["user_id"] = t("err.required", loc) if user_id is None else t("err.unknown_ref", loc, value=user_id)
    if errors:
        raise ValidationError(errors)
    ensure_may_edit(session, actor, scope=scope, team_id=team_id, user_id=user_id)
    parent_id = raw.get("parent_id")
    if parent_id is not None:
        parent = load_target(session, actor, parent_id)
        if parent.metric != metric or parent.tier != tier:
            raise ValidationError({"parent_id": t("goals.err.parent_mismatch", loc)})
    twin = session.scalar(select(Target.id).where(*_slot_term(metric, scope, team_id, user_id, kind, start, tier)))
    if twin is not None:
        raise ValidationError({"period": t("goals.err.duplicate", loc, tier=tier, period=period_label(kind, start, fiscal),
                                           id=twin)})
    basis = raw.get("basis")
    row = Target(metric=metric, scope=scope, team_id=team_id, user_id=user_id, period_kind=kind, period_start=start,
                 tier=tier, value=value, parent_id=parent_id, basis_kind=basis_kind,
                 basis_notes=(str(raw.get("basis_notes")).strip()[:5000] or None) if raw.get("basis_notes") else None)
    if basis is not None and basis_kind in ("history", "market", "capacity"):
        setattr(row, f"basis_{basis_kind}", json.dumps(basis, ensure_ascii=False, default=str))
    elif basis is not None:
        row.basis_history = json.dumps(basis, ensure_ascii=False, default=str)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # another writer took the slot between the check and the insert: the unique index answers
        raise ValidationError({"period": t("goals.err.duplicate", loc, tier=tier,
                                           period=period_label(kind, start, fiscal), id="?")}) from None
    audit.record(session, actor, "target", row.id, "create",
                 {"metric": [None, metric], "scope": [None, scope], "period": [None, period_label(kind, start, fiscal)],
                  "tier": [None, tier], "value": [None, value]})
    return target_dict(session, row, fiscal)


def get_target(session: Session, actor: Actor, *, target_id: int) -> dict:
    """One target the actor may see, with its basis numbers; ``FieldNotFound`` otherwise."""
    row = load_target(session, actor, target_id)
    out = target_dict(session, row, fiscal_start_month(session))
    for kind in ("history", "market", "capacity"):
        text = getattr(row, f"basis_{kind}")
        out[f"basis_{kind}"] = json.loads(text) if text else None
    return out


def list_targets(session: Session, actor: Actor, *, period: str | None = None, metric: str | None = None,
                 scope: str | None = None, tier: str | None = None) -> list[dict]:
    """The targets the actor may see, optionally of one period (exactly that period),
    metric, scope and tier; ordered by period, scope (company, team, user), holder."""
    fiscal = fiscal_start_month(session)
    stmt = select(Target).where(visible_target_term(session, actor))
    if period:
        kind, start = parse_period(period, fiscal, actor.locale)
        stmt = stmt.where(Target.period_kind == kind, Target.period_start == start)
    if metric:
        stmt = stmt.where(Target.metric == metric)
    if scope:
        stmt = stmt.where(Target.scope == scope)
    if tier:
        stmt = stmt.where(Target.tier == tier)
    rows = session.scalars(stmt.order_by(Target.period_start, Target.period_kind, Target.id)).all()
    order = {"company": 0, "team": 1, "user": 2}
    out = target_dicts(session, rows, fiscal)
    out.sort(key=lambda d: (d["period_start"], -len(d["period"]), order[d["scope"]], d["holder"], d["id"]))
    return out


def _part_groups(session: Session, parent: Target, children: list[Target] | None = None) -> dict[str, list[Target]]:
    """The parent's parts by kind: "users" (user targets of the same period) or the period
    kind of time parts; ``children`` when the caller read them already."""
    groups: dict[str, list[Target]] = {}
    if children is None:
        children = session.scalars(select(Target).where(Target.parent_id == parent.id)).all()
    for child in children:
        key = "users" if child.scope == "user" and parent.scope != "user" and child.period_kind == parent.period_kind \
            else child.period_kind
        groups.setdefault(key, []).append(child)
    return groups


def target_tree(session: Session, actor: Actor, *, target_id: int) -> list[dict]:
    """The target and every part below it that the actor may see, depth first: each row
    with ``depth``, ``parts_sum`` (per kind of parts: Σ) and ``mismatch`` (Σ parts − value,
    0 when they add up)."""
    fiscal = fiscal_start_month(session)
    root = load_target(session, actor, target_id)
    # the whole subtree in one recursive read (a company year has ~1,000 parts), then walked
    sub = select(Target.id).where(Target.parent_id == root.id).cte("subtree", recursive=True)
    sub = sub.union_all(select(Target.id).where(Target.parent_id == sub.c.id))
    # which of its parts the actor may see (not every target id of the company)
    visible = set(session.scalars(select(Target.id).where(Target.id.in_(select(sub.c.id)),
                                                          visible_target_term(session, actor))).all())
    children: dict[int, list[Target]] = {}
    # plain rows with the target's columns as attributes (read-only here): building a SQLModel
    # object costs ~50 µs (its pydantic state), 50 ms of a company year's 1,000 parts
    parts = session.execute(select(*Target.__table__.columns).where(Target.id.in_(select(sub.c.id)))
                            .order_by(Target.id)).all()
    for row in parts:
        children.setdefault(row.parent_id, []).append(row)
    names = holder_names(session, [root, *parts])
    out: list[dict] = []

    def walk(node: Target, depth: int) -> None:
        row = target_dict(session, node, fiscal, names)
        groups = _part_groups(session, node, children.get(node.id, []))
        row["depth"] = depth
        row["parts"] = {k: sum((c.value for c in v), Decimal(0)) for k, v in groups.items()}
        row["mismatch"] = max((abs(s - node.value) for s in row["parts"].values()), default=Decimal(0))
        out.append(row)
        for kind in sorted(groups, key=lambda k: (k == "users", k)):
            for child in sorted(groups[kind], key=lambda c: (c.period_start, c.user_id or 0)):
                if child.id in visible:
                    walk(child, depth + 1)

    walk(root, 0)
    return out


def update_targets(session: Session, actor: Actor, *, changes: Mapping[int, Any], retotal_parent: bool = False,
                   basis_notes: str | None = None, shown: Mapping[int, Any] | None = None) -> list[dict]:
    """Change the values of several targets at once (``{target_id: value}``) in one
    transaction. After the change every target's parts must add up to it (module
    docstring): a mismatch is refused naming the target and both sums, unless
    ``retotal_parent`` — then each parent of a changed target takes the sum of its parts,
    up the tree. A target with parts may not be changed on its own (its parts would no
    longer add up). ``shown`` (target id → the value the page displayed) makes the change
    optimistic: a target whose value someone changed since — read under its row lock — raises
    ``ConflictError`` ({id: {"value": (their value, yours)}}) and nothing is written. Returns
    every target that changed."""
    loc = actor.locale
    fiscal = fiscal_start_month(session)
    rows: dict[int, Target] = {}
    old: dict[int, Decimal] = {}
    errors: dict[str, str] = {}
    conflicts: dict[Any, dict[str, tuple[Any, Any]]] = {}
    for target_id, value in changes.items():
        row = load_target(session, actor, target_id, for_update=True, edit=True)
        if shown is not None and target_id in shown and Decimal(str(shown[target_id])) != row.value:
            conflicts[row.id] = {"value": (row.value, value)}
            continue
        new = check_value(row.metric, value, loc, errors, field=f"value[{target_id}]")
        if new is not None:
            rows[row.id] = row
            old[row.id], row.value = row.value, new
    if conflicts:
        raise ConflictError(conflicts, t("goals.err.target_changed", loc, count=len(conflicts)))
    if errors:
        raise ValidationError(errors)
    # a changed target whose parts were not changed with it
    for row in rows.values():
        for kind, parts in _part_groups(session, row).items():
            total = sum((p.value for p in parts), Decimal(0))
            if total != row.value:
                raise ValidationError({f"value[{row.id}]": t("goals.err.parts_differ", loc,
                                                              total=shown_value(row.metric, total, loc),
                                                              value=shown_value(row.metric, row.value, loc),
                                                              kind=kind)})
    changed = dict(rows)
    pending = {r.parent_id for r in rows.values() if r.parent_id is not None}
    while pending:
        parent_id = pending.pop()
        parent = changed.get(parent_id) or session.scalars(
            select(Target).where(Target.id == parent_id).with_for_update()).first()
        if parent is None:
            continue
        for parts in _part_groups(session, parent).values():
            total = sum((p.value for p in parts), Decimal(0))
            if total == parent.value:
                continue
            if not retotal_parent:
                raise ValidationError({"value": t("goals.err.mismatch", loc, id=parent.id,
                                                  total=shown_value(parent.metric, total, loc),
                                                  value=shown_value(parent.metric, parent.value, loc),
                                                  period=period_label(
                                                      parent.period_kind, parent.period_start, fiscal))})
            ensure_may_edit(session, actor, scope=parent.scope, team_id=parent.team_id, user_id=parent.user_id,
                            field="value")
            old.setdefault(parent.id, parent.value)
            parent.value = total
            changed[parent.id] = parent
            if parent.parent_id is not None:
                pending.add(parent.parent_id)
    for row in changed.values():
        if basis_notes:
            row.basis_notes = basis_notes.strip()[:5000]
        session.add(row)
        audit.record(session, actor, "target", row.id, "update", {"value": [old[row.id], row.value]})
    session.flush()
    return target_dicts(session, list(changed.values()), fiscal)


def delete_target(session: Session, actor: Actor, *, target_id: int) -> int:
    """Delete a target with all its parts (and their links to plans); returns how many
    targets went. Its parent's remaining parts then no longer add up: the tree shows it."""
    root = load_target(session, actor, target_id, for_update=True, edit=True)
    ids, frontier = [root.id], [root.id]
    while frontier:
        frontier = list(session.scalars(select(Target.id).where(Target.parent_id.in_(frontier))).all())
        ids += frontier
    session.execute(delete(SalesPlanTarget).where(SalesPlanTarget.target_id.in_(ids)))
    for tid in reversed(ids):
        session.execute(delete(Target).where(Target.id == tid))
    audit.record(session, actor, "target", root.id, "delete", {"value": [root.value, None], "parts": [len(ids) - 1, 0]})
    return len(ids)


def target_holders(session: Session, actor: Actor) -> dict[str, list[tuple[int, str]]]:
    """Whom the actor may set targets for: ``teams`` (id, name) and ``users`` (active reps
    and the actor, id and name), by name — director / admin: everyone; a manager: their
    teams and those teams' people; a rep: nobody."""
    from services.access import managed_team_ids, visible_user_ids

    if actor.role not in ("manager", "director", "admin"):
        return {"teams": [], "users": []}
    teams = select(Team.id, Team.name).where(Team.active.is_(True), Team.kind != "company")
    users = select(User.id, User.display_name).where(User.active.is_(True),
                                                     or_(User.role == "rep", User.id == actor.id))
    if not actor.sees_all:
        teams = teams.where(Team.id.in_(sorted(managed_team_ids(session, actor)) or [-1]))
        users = users.where(User.id.in_(sorted(visible_user_ids(session, actor) or set()) or [-1]))
    return {"teams": [tuple(r) for r in session.execute(teams.order_by(Team.name)).all()],
            "users": [tuple(r) for r in session.execute(users.order_by(User.display_name)).all()]}
