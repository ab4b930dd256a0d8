"""Bulk actions and the public pool (公海): archive, restore, reassign, release, claim and the
daily reclaim, all through one conditional-update helper whose row count is checked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    exists,
    func,
    select,
    update,
)
from sqlmodel import Session

from services import audit, settings
from services.access import (
    SYSTEM,
    Actor,
    customer_filter,
    ensure_owner_assignable,
    require_role,
)
from services.customers.rules import as_int
from services.customers.writing import load_editable, row_snapshot
from services.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from services.i18n import t
from services.models import (
    TIERS,
    AuditLog,
    Customer,
    Deal,
    Stage,
    User,
    utcnow,
)

# ---------------------------------------------------------------------------
# bulk actions


def _bulk_update(session: Session, actor: Actor, rows: list[Customer], action: str,
                 values_for: Callable[[Customer], dict[str, Any]], now: datetime, *,
                 gone: Callable[[Customer], Exception] | None = None) -> int:
    """The write of every bulk action: per loaded row one conditional UPDATE (its id and the
    version it was loaded with, the transaction rule) setting ``values_for(row)``, a bumped
    version and ``updated_at``, plus one audit row of what changed. A row someone changed
    since it was loaded raises ``gone(row)`` (default: ``ConflictError``) and the whole call
    writes nothing."""
    for row in rows:
        values = values_for(row)
        before = row_snapshot(row, list(values))
        res = session.execute(
            update(Customer).where(Customer.id == row.id, Customer.version == row.version)
            .values(**values, version=Customer.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if res.rowcount != 1:
            raise (gone(row) if gone else ConflictError({row.id: {"version": (None, row.version)}},
                                                         t("customers.conflict", actor.locale, n=1)))
        audit.record(session, actor, "customer", row.id, action, audit.changed_fields(before, values))
    session.flush()
    session.expire_all()
    return len(rows)


def _ids(ids) -> list[int]:
    out = sorted({i for i in (as_int(x) for x in ids) if i is not None})
    return out


def archive_customers(session: Session, actor: Actor, *, ids, now: datetime | None = None) -> int:
    """Soft-delete: archived rows leave the grid (restorable by a manager). The actor must
    be allowed to edit each row. Returns the number archived."""
    rows = [r for r in load_editable(session, actor, _ids(ids)).values() if not r.archived]
    return _bulk_update(session, actor, rows, "archive", lambda r: {"archived": True}, now or utcnow())


def restore_customers(session: Session, actor: Actor, *, ids, now: datetime | None = None) -> int:
    """Un-archive (manager, director, admin)."""
    if not actor.is_manager:
        raise PermissionDenied(t("err.permission", actor.locale, detail=t("customers.manager_only", actor.locale)))
    rows = [r for r in load_editable(session, actor, _ids(ids)).values() if r.archived]
    return _bulk_update(session, actor, rows, "restore", lambda r: {"archived": False}, now or utcnow())


def reassign_owner(session: Session, actor: Actor, *, ids, owner_id: int, now: datetime | None = None) -> int:
    """Give customers to another owner (manager+; the owner must be active and within the
    manager's teams). Clears the pool markers. Returns the number changed."""
    if not actor.is_manager:
        raise PermissionDenied(t("err.permission", actor.locale, detail=t("customers.manager_only", actor.locale)))
    owner = as_int(owner_id)
    if owner is None or session.scalar(select(User.id).where(User.id == owner, User.active.is_(True))) is None:
        raise ValidationError({"owner_id": t("err.unknown_ref", actor.locale, value=owner_id)})
    try:
        ensure_owner_assignable(session, actor, owner)
    except PermissionDenied as exc:
        raise PermissionDenied(t("err.permission", actor.locale, detail=str(exc))) from exc
    rows = [r for r in load_editable(session, actor, _ids(ids)).values() if r.owner_id != owner]
    return _bulk_update(session, actor, rows, "reassign",
                        lambda r: {"owner_id": owner, "previous_owner_id": r.owner_id, "pool_entered_at": None},
                        now or utcnow())


def release_to_pool(session: Session, actor: Actor, *, ids, now: datetime | None = None) -> int:
    """Put owned customers into the public pool (their owner, or a manager of the owner).
    Sets owner null, pool_entered_at, previous_owner_id, released_at."""
    now = now or utcnow()
    rows = [r for r in load_editable(session, actor, _ids(ids)).values() if r.owner_id is not None]
    return _bulk_update(session, actor, rows, "release",
                        lambda r: {"owner_id": None, "previous_owner_id": r.owner_id, "pool_entered_at": now,
                                   "released_at": now}, now)


def _claimed_by(session: Session, customer_id: int, locale: str) -> dict[str, str]:
    """The row message for a pool customer someone else got first."""
    name = session.scalar(select(User.display_name).join(Customer, Customer.owner_id == User.id)
                          .where(Customer.id == customer_id))
    if name is None:
        return {"owner_id": t("pool.err_not_in_pool", locale)}
    return {"owner_id": t("pool.err_already_claimed", locale, owner=name)}


#: A claim this recent is reported to a rep who tried the same customer ("just claimed by …").
JUST_CLAIMED = timedelta(minutes=10)


def _claimed_just_now(session: Session, customer_id: int, now: datetime) -> bool:
    return session.scalar(select(AuditLog.id).where(
        AuditLog.entity == "customer", AuditLog.entity_id == str(customer_id), AuditLog.action == "claim",
        AuditLog.at >= now - JUST_CLAIMED).limit(1)) is not None


def claim_from_pool(session: Session, actor: Actor, *, ids, now: datetime | None = None) -> int:
    """Take pool customers as one's own. Rules (settings): a rep may own at most
    ``pool_rep_cap`` live customers; the previous owner must wait
    ``pool_claim_cooldown_days`` after release before claiming the same customer again.
    Exactly one of several reps claiming the same customer at once gets it; the others are
    told who did. All-or-nothing: any broken rule raises ValidationError with row_errors."""
    if actor.id is None:
        raise PermissionDenied(t("err.permission", actor.locale, detail="system"))
    now = now or utcnow()
    loc = actor.locale
    wanted = _ids(ids)
    # one rep's claims queue behind each other (PostgreSQL), so the cap holds for parallel claims
    session.execute(select(User.id).where(User.id == actor.id).with_for_update()).first()
    rows = session.scalars(select(Customer).where(Customer.id.in_(wanted), customer_filter(session, actor))).all()
    by_id = {r.id: r for r in rows}
    row_errors: dict[Any, dict[str, str]] = {}
    cooldown = int(settings.get(session, "pool_claim_cooldown_days") or 0)
    for cid in wanted:
        row = by_id.get(cid)
        if row is None:
            if _claimed_just_now(session, cid, now):  # it was in the pool a moment ago: say who got it
                row_errors[cid] = _claimed_by(session, cid, loc)
                continue
            raise NotFound(t("err.not_found", loc, detail=f"customer {cid}"))
        if row.owner_id is not None or row.archived:
            row_errors[cid] = (_claimed_by(session, cid, loc) if row.owner_id is not None
                               else {"owner_id": t("pool.err_not_in_pool", loc)})
            continue
        if row.previous_owner_id == actor.id and row.released_at is not None and cooldown > 0:
            released = row.released_at if row.released_at.tzinfo else row.released_at.replace(tzinfo=now.tzinfo)
            until = released + timedelta(days=cooldown)
            if now < until:
                row_errors[cid] = {"owner_id": t("pool.err_cooldown", loc, date=until.date().isoformat())}
    if actor.role == "rep":
        cap = int(settings.get(session, "pool_rep_cap") or 0)
        owned = session.scalar(
            select(func.count()).select_from(Customer).where(Customer.owner_id == actor.id, Customer.archived.is_(False))
        ) or 0
        if cap and owned + len(wanted) > cap:
            row_errors.setdefault("_all", {})["owner_id"] = t("pool.err_cap", loc, cap=cap, owned=owned)
    if row_errors:
        raise ValidationError(row_errors=row_errors)

    def lost_race(row: Customer) -> Exception:
        return ValidationError(row_errors={row.id: _claimed_by(session, row.id, loc)})

    return _bulk_update(session, actor, [by_id[cid] for cid in wanted], "claim",
                        lambda r: {"owner_id": actor.id, "pool_entered_at": None}, now, gone=lost_race)


def _stale_terms(tier: str, cutoff: datetime, exempt_open: bool) -> list:
    """The reclaim's rule for one tier as SQL: owned, not archived, no contact and no creation
    since ``cutoff``, and (with ``pool_exempt_open_deals``) no open deal."""
    terms = [Customer.owner_id.is_not(None), Customer.archived.is_(False), Customer.tier == tier,
             func.coalesce(Customer.last_contact_at, Customer.created_at) < cutoff, Customer.created_at < cutoff]
    if exempt_open:
        open_deal = (select(Deal.id).join(Stage, Stage.id == Deal.stage_id)
                     .where(Deal.customer_id == Customer.id, Stage.kind == "open"))
        terms.append(~exists(open_deal))
    return terms


def stale_customers(session: Session, actor: Actor = SYSTEM, *, now: datetime | None = None) -> list[tuple]:
    """(customer id, owner id, tier, days) of every customer ``reclaim_stale_customers``
    would move now, in one read (the daily job reads them once, then moves them in batches).
    Admin (or the SYSTEM actor) only."""
    require_role(actor, "admin")
    now = now or utcnow()
    days_by_tier = settings.get(session, "pool_reclaim_days") or {}
    exempt_open = bool(settings.get(session, "pool_exempt_open_deals"))
    out: list[tuple] = []
    for tier in TIERS:
        days = int(days_by_tier.get(tier) or 0)
        if days <= 0:
            continue
        cutoff = now - timedelta(days=days)
        candidates = session.execute(select(Customer.id, Customer.owner_id)
                                     .where(*_stale_terms(tier, cutoff, exempt_open))).all()
        # a recent assignment restarts the clock
        recent: set[str] = set()
        ids_txt = [str(c.id) for c in candidates]
        for start in range(0, len(ids_txt), 500):
            chunk = ids_txt[start : start + 500]
            recent.update(
                session.scalars(
                    select(AuditLog.entity_id).where(
                        AuditLog.entity == "customer", AuditLog.entity_id.in_(chunk),
                        AuditLog.action.in_(("create", "claim", "reassign")), AuditLog.at >= cutoff,
                    )
                ).all()
            )
        out += [(c.id, c.owner_id, tier, days) for c in candidates if str(c.id) not in recent]
    return out


def reclaim_stale_customers(session: Session, actor: Actor = SYSTEM, *, now: datetime | None = None,
                            candidates: list[tuple] | None = None) -> int:
    """Move owned customers without a follow-up for ``pool_reclaim_days[tier]`` days into
    the public pool. Days count from the latest of: last contact, the last assignment to
    the current owner (create / claim / reassign in the audit log), creation. A tier with 0
    days is never reclaimed; with ``pool_exempt_open_deals`` a customer with an open deal
    stays. Idempotent (a second run finds nothing); each move is audited as "reclaim".
    Admin (or the SYSTEM actor) only. ``candidates`` (a batch of ``stale_customers`` read
    earlier: the daily job's batches, ``services.jobs``) instead of reading them now — each
    move checks the rule again in its UPDATE (a customer contacted, reassigned or given an
    open deal since stays). Returns the number moved."""
    require_role(actor, "admin")
    now = now or utcnow()
    exempt_open = bool(settings.get(session, "pool_exempt_open_deals"))
    rows = stale_customers(session, actor, now=now) if candidates is None else candidates
    moved = 0
    for cid, owner_id, tier, days in rows:
        cutoff = now - timedelta(days=days)
        res = session.execute(
            update(Customer).where(Customer.id == cid, Customer.owner_id == owner_id,
                                   *_stale_terms(tier, cutoff, exempt_open))
            .values(owner_id=None, previous_owner_id=owner_id, pool_entered_at=now, released_at=now,
                    version=Customer.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if res.rowcount:
            audit.record(session, actor, "customer", cid, "reclaim", {"owner_id": [owner_id, None], "tier": tier,
                                                                     "days": days})
            moved += 1
    session.flush()
    session.expire_all()
    return moved
