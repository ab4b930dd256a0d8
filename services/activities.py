"""Activities (跟进记录): logging calls, visits, demos…, the agenda, the week calendar and
forgotten customers (遗忘客户).

An activity is *done* when ``done_at`` is set and *planned* when it is null. Logging a done
activity moves the customer's ``last_contact_at`` forward and sets its ``next_contact_on``;
an activity on a deal sets the deal's ``next_step`` and ``last_activity_at``.

Also home of the small helpers the deal and contract services share (local time zone,
money limits, pydantic → field-message conversion). ``FieldNotFound`` and
``FieldPermissionDenied`` live in ``services.errors`` and stay importable from here.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pydantic
from sqlalchemy import and_, bindparam, case, func, or_, select, true, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from services import audit, customer_facts, settings
from services.access import (
    Actor,
    can_see_private,
    check_owner,
    get_visible_customer,
    owner_filter,
    owner_in,
    owner_scope_key,
    owner_scope_term,
    scoped_owner_ids,
    visible_editable_customer,
    visible_user_ids,
)
from services.clock import as_utc, day_start_utc, local_date, local_tz
from services.errors import FieldNotFound, ValidationError
from services.i18n import t
from services.models import (
    ACTIVITY_KINDS,
    Activity,
    ActivityCreate,
    ActivityRead,
    Contact,
    Customer,
    Deal,
    User,
    utcnow,
)
from services.validation import validate

MAX_DURATION_MINUTES = 24 * 60
FORGOTTEN_BUCKETS = (7, 15, 30, 90, 180)
#: No activity is dated before this day (a typo such as 1900 is refused, never stored).
EARLIEST_DAY = date(2000, 1, 1)

# ---------------------------------------------------------------------------
# writes


def _activity_values(data: ActivityCreate | Mapping[str, Any], actor: Actor) -> dict[str, Any]:
    values = data.model_dump() if isinstance(data, pydantic.BaseModel) else dict(data)
    values.setdefault("owner_id", actor.id)
    if values.get("owner_id") is None:
        values["owner_id"] = actor.id
    if values.get("kind") in (None, ""):
        values["kind"] = "call"
    for key in ("outcome", "notes", "next_step", "location"):
        if isinstance(values.get(key), str):
            values[key] = values[key].strip() or None
    return values


def log_activity(session: Session, actor: Actor, *, data: ActivityCreate | Mapping[str, Any],
                 now: datetime | None = None, require_next_contact: bool | None = None) -> ActivityRead:
    """Log a done activity or plan one. Rules: kind from ``ACTIVITY_KINDS``; duration 0–1440
    minutes; not dated before ``EARLIEST_DAY``; a done activity (``done_at`` set, or neither
    time given → done now) needs a
    ``next_contact_on`` on or after its day unless the setting
    ``activity_next_contact_required`` is off; done time not in the future; the customer must
    be visible and editable to the actor; deal and contact must belong to that customer.
    Effects: customer.last_contact_at (done, only forward), customer.next_contact_on,
    deal.next_step and deal.last_activity_at; one audit row."""
    loc = actor.locale
    now = as_utc(now) or utcnow()
    tz = local_tz(session)
    values = _activity_values(data, actor)
    if values.get("planned_at") is None and values.get("done_at") is None:
        values["done_at"] = now
    create = validate(ActivityCreate, values, loc)
    create.done_at, create.planned_at = as_utc(create.done_at), as_utc(create.planned_at)
    errors: dict[str, str] = {}
    _check_activity_fields(session, create, now, tz, loc, errors, require_next_contact)
    if errors:
        raise ValidationError(errors)
    customer = visible_editable_customer(session, actor, create.customer_id)
    create.owner_id = check_owner(session, actor, create.owner_id)
    deal = _check_links(session, actor, create, loc)

    row = Activity.model_validate(create)
    session.add(row)
    session.flush()
    _apply_effects(session, customer, deal, row, now)
    audit.record(session, actor, "activity", row.id, "create",
                 {k: v for k, v in create.model_dump().items() if v is not None})
    return ActivityRead.model_validate(row)


def _check_activity_fields(session: Session, a: ActivityCreate, now: datetime, tz: ZoneInfo, loc: str,
                           errors: dict[str, str], require_next_contact: bool | None) -> None:
    if a.kind not in ACTIVITY_KINDS:
        errors["kind"] = t("err.not_in_list", loc, options=", ".join(ACTIVITY_KINDS))
    if a.duration_minutes is not None and not 0 <= a.duration_minutes <= MAX_DURATION_MINUTES:
        errors["duration_minutes"] = t("err.range", loc, min=0, max=MAX_DURATION_MINUTES)
    for name in ("done_at", "planned_at"):
        when = getattr(a, name)
        if when is not None and local_date(when, tz) < EARLIEST_DAY:
            errors[name] = t("err.min", loc, min=EARLIEST_DAY.isoformat())
    if a.done_at is not None:
        if a.done_at > now + timedelta(minutes=5):
            errors["done_at"] = t("activities.err.done_in_future", loc)
        if require_next_contact is None:
            require_next_contact = bool(settings.get(session, "activity_next_contact_required"))
        if a.next_contact_on is None and require_next_contact:
            errors["next_contact_on"] = t("err.required", loc)
    day = local_date(a.done_at or a.planned_at, tz)
    if a.next_contact_on is not None and day is not None and a.next_contact_on < day:
        errors["next_contact_on"] = t("activities.err.next_before_activity", loc, day=day.isoformat())


def _check_links(session: Session, actor: Actor, a: ActivityCreate, loc: str) -> Deal | None:
    errors: dict[str, str] = {}
    deal = None
    if a.deal_id is not None:
        deal = session.scalars(
            select(Deal).where(Deal.id == a.deal_id, owner_filter(session, actor, Deal.owner_id))
        ).first()
        if deal is None:
            errors["deal_id"] = t("err.unknown_ref", loc, value=a.deal_id)
        elif deal.customer_id != a.customer_id:
            errors["deal_id"] = t("activities.err.deal_other_customer", loc)
    if a.contact_id is not None:
        contact = session.get(Contact, a.contact_id)
        if contact is None:
            errors["contact_id"] = t("err.unknown_ref", loc, value=a.contact_id)
        elif contact.customer_id != a.customer_id:
            errors["contact_id"] = t("activities.err.contact_other_customer", loc)
    if errors:
        raise ValidationError(errors)
    return deal


def apply_activity_effects(session: Session, *, customer_id: int, deal_id: int | None, done_at: datetime | None,
                           next_contact_on: date | None, next_step: str | None, now: datetime) -> None:
    """What an activity changes elsewhere, each as one conditional UPDATE (the transaction
    rule): the customer's ``last_contact_at`` only moves forward (it ends as the newest done
    activity's time however many are logged at once) and ``next_contact_on`` takes the
    activity's unless a newer activity is already on record; the deal's ``last_activity_at`` only moves forward and ``next_step`` takes the
    activity's. A change of a field users edit (next contact date, next step) bumps the row's
    version, so an edit form or grid opened before it cannot silently overwrite it."""
    done = as_utc(done_at)
    values: dict[str, Any] = {}
    newest = true()
    if done is not None:
        newest = or_(Customer.last_contact_at.is_(None), Customer.last_contact_at <= done)
        values["last_contact_at"] = case((newest, done), else_=Customer.last_contact_at)
    if next_contact_on is not None:
        # the follow-up date comes from the newest activity (an older one logged late leaves it)
        changed = and_(newest, Customer.next_contact_on.is_distinct_from(next_contact_on))
        values.update(next_contact_on=case((changed, next_contact_on), else_=Customer.next_contact_on),
                      version=Customer.version + case((changed, 1), else_=0),
                      updated_at=case((changed, now), else_=Customer.updated_at))
    if values:
        session.execute(update(Customer).where(Customer.id == customer_id).values(**values)
                        .execution_options(synchronize_session=False))
    if deal_id is None:
        return
    values = {}
    if done is not None:
        values["last_activity_at"] = case(
            (or_(Deal.last_activity_at.is_(None), Deal.last_activity_at < done), done), else_=Deal.last_activity_at)
    if next_step:
        changed = Deal.next_step.is_distinct_from(next_step)
        values.update(next_step=next_step, version=Deal.version + case((changed, 1), else_=0),
                      updated_at=case((changed, now), else_=Deal.updated_at))
    if values:
        session.execute(update(Deal).where(Deal.id == deal_id).values(**values)
                        .execution_options(synchronize_session=False))


def _apply_effects(session: Session, customer: Customer, deal: Deal | None, row: Activity, now: datetime) -> None:
    apply_activity_effects(session, customer_id=customer.id, deal_id=deal.id if deal is not None else None,
                           done_at=row.done_at, next_contact_on=row.next_contact_on, next_step=row.next_step,
                           now=now)
    session.expire(customer)
    if deal is not None:
        session.expire(deal)


def complete_activity(session: Session, actor: Actor, *, activity_id: int, outcome: str | None,
                      done_at: datetime | None = None, next_step: str | None = None,
                      next_contact_on: date | None = None, now: datetime | None = None) -> ActivityRead:
    """Mark a planned activity done (in place, from the agenda) with its outcome. Same rules
    and effects as ``log_activity`` for a done activity; an already done activity is
    rejected."""
    loc = actor.locale
    now = as_utc(now) or utcnow()
    row = session.scalars(
        select(Activity).where(Activity.id == activity_id, owner_filter(session, actor, Activity.owner_id))
    ).first()
    if row is None:
        raise FieldNotFound({"activity_id": t("err.unknown_ref", loc, value=activity_id)})
    if row.done_at is not None:
        raise ValidationError({"activity_id": t("activities.err.already_done", loc)})
    values = ActivityCreate.model_validate(row).model_dump()
    values.update(done_at=done_at or now, outcome=outcome, next_step=next_step or row.next_step,
                  next_contact_on=next_contact_on)
    for key in ("outcome", "next_step"):
        if isinstance(values.get(key), str):
            values[key] = values[key].strip() or None
    create = validate(ActivityCreate, values, loc)
    create.done_at = as_utc(create.done_at)
    errors: dict[str, str] = {}
    _check_activity_fields(session, create, now, local_tz(session), loc, errors, None)
    if errors:
        raise ValidationError(errors)
    customer = visible_editable_customer(session, actor, row.customer_id)
    deal = session.get(Deal, row.deal_id) if row.deal_id else None
    before = {"done_at": row.done_at, "outcome": row.outcome, "next_step": row.next_step,
              "next_contact_on": row.next_contact_on}
    row.done_at, row.outcome = create.done_at, create.outcome
    row.next_step, row.next_contact_on = create.next_step, create.next_contact_on
    session.add(row)
    session.flush()
    _apply_effects(session, customer, deal, row, now)
    audit.record(session, actor, "activity", row.id, "complete", audit.changed_fields(before, {
        "done_at": row.done_at, "outcome": row.outcome, "next_step": row.next_step,
        "next_contact_on": row.next_contact_on}))
    return ActivityRead.model_validate(row)


# ---------------------------------------------------------------------------
# reads

AGENDA_COLUMNS = ["item", "activity_id", "kind", "customer_id", "customer_name", "deal_id", "deal_name",
                  "owner_id", "owner_name", "due_on", "due_at", "next_step", "notes", "contact_name", "contact_phone"]
_AGENDA_INDEX = pd.Index(AGENDA_COLUMNS)  # built once; each frame gets a shallow copy (cheaper than a list)
_AgendaDeal = aliased(Deal, name="agenda_deal")
# Built once: statement construction is a noticeable part of a few-millisecond read.
_PLANNED = (
    select(
        Activity.id.label("activity_id"), Activity.kind, Activity.customer_id,
        Customer.name.label("customer_name"), Activity.deal_id, _AgendaDeal.name.label("deal_name"),
        Activity.owner_id, User.display_name.label("owner_name"), Activity.planned_at.label("due_at"),
        Activity.next_step, Activity.notes, Activity.contact_id,
    )
    .join(Customer, Customer.id == Activity.customer_id)
    .join(User, User.id == Activity.owner_id)
    .outerjoin(_AgendaDeal, _AgendaDeal.id == Activity.deal_id)
)
# The owner's name as a scalar subquery, not a join: the customer table alone then walks
# ix_customer_follow_up in due order (a join lets SQLite start from the users and sort every
# follow-up of the week). Follow-ups always have an owner (owner_id IS NOT NULL).
_FOLLOW_UPS = select(
    Customer.id.label("customer_id"), Customer.name.label("customer_name"), Customer.owner_id,
    select(User.display_name).where(User.id == Customer.owner_id).scalar_subquery().label("owner_name"),
    Customer.next_contact_on.label("due_on"),
)


def _open_activity(sqlite: bool):
    """``done_at IS NULL`` — on SQLite wrapped in ``likely()``: the term then still selects
    the partial indexes ``ix_activity_(owner_)open_planned`` (walked in planned order, the
    LIMIT stops early) but no longer drives ``ix_activity_(owner_)done`` as "done_at = NULL",
    which ``sqlite_stat1`` (no NULL counts) prices at a few rows while it is every open
    activity of the owners, fetched and sorted in full."""
    cond = Activity.done_at.is_(None)
    return func.likely(cond) if sqlite else cond


@lru_cache(maxsize=64)
def _agenda_statements(bucket: str, owners: str, sqlite: bool, limit: int):
    """The planned / follow-up / count statements of one agenda bucket, built once per shape
    (values are bound parameters: owners, start, tomorrow, week_end, today, tomorrow_day,
    week_end_day) so SQLAlchemy reuses the compiled SQL without rebuilding expressions."""
    planned = [_open_activity(sqlite), owner_scope_term(Activity.owner_id, owners)]
    follow = [Customer.owner_id.is_not(None), owner_scope_term(Customer.owner_id, owners), Customer.archived.is_(False)]
    if bucket == "overdue":
        planned.append(Activity.planned_at < bindparam("start"))
        follow.append(Customer.next_contact_on < bindparam("today"))
    elif bucket == "today":
        planned += [Activity.planned_at >= bindparam("start"), Activity.planned_at < bindparam("tomorrow")]
        follow.append(Customer.next_contact_on == bindparam("today"))
    else:
        planned += [Activity.planned_at >= bindparam("tomorrow"), Activity.planned_at < bindparam("week_end")]
        follow += [Customer.next_contact_on >= bindparam("tomorrow_day"),
                   Customer.next_contact_on < bindparam("week_end_day")]
    # a customer with a planned activity has its follow-up in that activity already: only
    # customers without one, from the partial follow-up indexes (services.customer_facts)
    follow += customer_facts.follow_up_due()
    newest_first = bucket == "overdue"
    p_order = Activity.planned_at.desc() if newest_first else Activity.planned_at
    f_order = Customer.next_contact_on.desc() if newest_first else Customer.next_contact_on
    counts = (select(func.count()).select_from(Activity).where(*planned),
              select(func.count()).select_from(Customer).where(*follow))
    # the ids first, from the open-planned index alone (several owners' entries are merged and
    # sorted there), then the rows shown joined to their names: joining before the LIMIT
    # looked up the customer, owner and deal of every open activity of a manager's bucket
    shown = select(Activity.id).where(*planned).order_by(p_order, Activity.id).limit(limit)
    return (_PLANNED.where(Activity.id.in_(shown)).order_by(p_order, Activity.id),
            _FOLLOW_UPS.where(*follow).order_by(f_order, Customer.id).limit(limit), counts)


def _agenda_records(planned_rows, followup_rows, tz: ZoneInfo) -> list[tuple]:
    """Rows as tuples in ``AGENDA_COLUMNS`` order without the contact's name and phone, and
    with the activity's contact id last (plain Python: pandas per row is slow)."""
    out = []
    for (activity_id, kind, customer_id, customer_name, deal_id, deal_name, owner_id, owner_name, due_at,
         next_step, notes, contact_id) in planned_rows:
        at = as_utc(due_at)
        local = at.astimezone(tz) if at is not None else None
        out.append(("activity", activity_id, kind, customer_id, customer_name, deal_id, deal_name, owner_id,
                    owner_name, local.date() if local else None, local, next_step, notes, contact_id))
    for customer_id, customer_name, owner_id, owner_name, due_on in followup_rows:
        out.append(("follow_up", None, "follow_up", customer_id, customer_name, None, None, owner_id, owner_name,
                    due_on, None, None, None, None))
    return out


def _agenda_frame(records: list[tuple], total: int | None = None) -> pd.DataFrame:
    """Object columns: ids stay Python ints or None (no float NaN), and no per-column dtype
    inference (the slowest part of building a small frame): one 2-D object block."""
    block = np.empty((len(records), len(AGENDA_COLUMNS)), dtype=object)
    for i, rec in enumerate(records):
        block[i, :] = rec
    frame = pd.DataFrame(block, columns=_AGENDA_INDEX.copy(), dtype=object, copy=False)
    frame.attrs["total"] = len(records) if total is None else total
    return frame


def _agenda_bucket(conn, statements, params: dict[str, Any], *, newest_first: bool, limit: int,
                   tz: ZoneInfo) -> tuple[list[tuple], int]:
    """One bucket: planned activities and follow-ups matching the conditions, at most
    ``limit`` of each from SQL (merged, then cut to ``limit``), plus the full count: a side
    that came back full is counted in SQL (on its bare table, no joins); a side that did not
    is already whole (no statement spent on counting it)."""
    planned_stmt, follow_stmt, (count_planned, count_follow) = statements
    planned = conn.execute(planned_stmt, params).all()
    follow = conn.execute(follow_stmt, params).all()
    n_planned = int(conn.execute(count_planned, params).scalar()) if len(planned) == limit else len(planned)
    n_follow = int(conn.execute(count_follow, params).scalar()) if len(follow) == limit else len(follow)
    total = n_planned + n_follow

    def key(r):  # due date, then time (follow-ups first on their day), owner, customer
        return (r[9], r[10].timestamp() if r[10] is not None else 0.0, r[8] or "", r[4] or "")

    rows = sorted(_agenda_records(planned, follow, tz), key=key, reverse=newest_first)[:limit]
    return rows, total


def agenda(session: Session, actor: Actor, *, owner_id: int | None = None, today: date,
           tz: str | ZoneInfo | None = None, limit: int = 200) -> dict[str, pd.DataFrame]:
    """My agenda: planned activities (by planned time in the local zone) and customer
    follow-ups (``next_contact_on`` of owned customers without a planned activity) in three
    buckets — ``overdue`` (before today, the most recently due first), ``today`` and
    ``this_week`` (after today up to Sunday), each by due time, each at most ``limit`` rows
    with the full count in ``.attrs['total']``, and who to call (``contact_name``,
    ``contact_phone``). Reps see their own; managers their teams,
    optionally one rep (``owner_id``)."""
    tz = local_tz(session, tz)
    ids = scoped_owner_ids(session, actor, owner_id)
    tomorrow_day = today + timedelta(days=1)
    week_end_day = today + timedelta(days=7 - today.weekday())
    params: dict[str, Any] = {
        "start": day_start_utc(today, tz), "tomorrow": day_start_utc(tomorrow_day, tz),
        "week_end": day_start_utc(week_end_day, tz), "today": today, "tomorrow_day": tomorrow_day,
        "week_end_day": week_end_day,
    }
    owners = owner_scope_key(ids, params)
    conn = session.connection()  # Core execution: plain rows, no ORM bookkeeping
    sqlite = conn.dialect.name == "sqlite"
    buckets = {}
    for name in ("overdue", "today", "this_week"):
        buckets[name] = _agenda_bucket(conn, _agenda_statements(name, owners, sqlite, limit), params,
                                       newest_first=name == "overdue", limit=limit, tz=tz)
    with_contacts = _with_contacts(conn, [rows for rows, _total in buckets.values()])
    return {name: _agenda_frame(rows, total) for (name, (_rows, total)), rows in
            zip(buckets.items(), with_contacts, strict=True)}


def _with_contacts(conn, row_lists: list[list[tuple]]) -> list[list[tuple]]:
    """The agenda rows with ``contact_name`` / ``contact_phone`` in place of the activity's
    contact id: that contact, else the customer's primary contact (else its first). One query
    for all rows shown; the agenda lists only customers the actor owns or manages, whose
    contacts they may see."""
    customer_ids = sorted({r[3] for rows in row_lists for r in rows})
    contacts = conn.execute(
        select(Contact.id, Contact.customer_id, Contact.name, Contact.phone)
        .where(Contact.customer_id.in_(customer_ids))
        .order_by(Contact.customer_id, Contact.is_primary.desc(), Contact.id)).all() if customer_ids else []
    by_id = {c.id: (c.customer_id, c.name, c.phone) for c in contacts}
    first: dict[int, tuple] = {}
    for c in contacts:
        first.setdefault(c.customer_id, (c.name, c.phone))
    out = []
    for rows in row_lists:
        shown = []
        for r in rows:
            chosen = by_id.get(r[13])
            name_phone = chosen[1:] if chosen is not None and chosen[0] == r[3] else first.get(r[3], (None, None))
            shown.append((*r[:13], *name_phone))
        out.append(shown)
    return out


CALENDAR_COLUMNS = ["id", "day", "time", "kind", "status", "customer_id", "customer_name", "owner_name",
                    "outcome", "duration_minutes"]


def week_calendar(session: Session, actor: Actor, *, week_start: date, owner_id: int | None = None,
                  tz: str | ZoneInfo | None = None, limit: int = 2000) -> pd.DataFrame:
    """Planned and done activities of the 7 days from ``week_start`` (local zone): one row
    each with its local day and time, in time order (done at, else planned at; then id);
    ``status`` is planned or done. At most ``limit`` rows; ``.attrs['total']`` is how many
    the week holds.

    Two reads, each down its own time index and stopped at ``limit``: the done activities
    (by done_at) and the open ones (by planned_at, the partial open-activity index), merged
    in time order — a single statement ordered by ``coalesce(done_at, planned_at)`` has no
    index to walk and sorted the director's whole week (tens of thousands of rows)."""
    tz = local_tz(session, tz)
    ids = scoped_owner_ids(session, actor, owner_id)
    start, end = day_start_utc(week_start, tz), day_start_utc(week_start + timedelta(days=7), tz)
    sqlite = session.get_bind().dialect.name == "sqlite"
    done = (Activity.done_at >= start, Activity.done_at < end)
    planned = (_open_activity(sqlite), Activity.planned_at >= start, Activity.planned_at < end)
    cols = (Activity.id, Activity.kind, Activity.done_at, Activity.planned_at, Activity.customer_id,
            Customer.name.label("customer_name"), User.display_name.label("owner_name"), Activity.outcome,
            Activity.duration_minutes)
    parts, total, last = [], 0, None
    for cond, at in ((done, Activity.done_at), (planned, Activity.planned_at)):
        where = (owner_in(Activity.owner_id, ids), *cond)
        # the part's ids in time order from its index first, then names for those rows only;
        # when the done part filled the page, open ones after its last row cannot be shown
        page = select(Activity.id).where(*where, *(() if last is None else (at <= last,)))
        page = page.order_by(at, Activity.id).limit(limit).subquery("page")
        rows = session.execute(
            select(*cols).join(Customer, Customer.id == Activity.customer_id).join(User, User.id == Activity.owner_id)
            .where(Activity.id.in_(select(page.c.id))).order_by(at, Activity.id)).all()
        parts.append([(as_utc(r.done_at or r.planned_at), r.id, r) for r in rows])
        full = len(rows) == limit
        if full or last is not None:  # the rows are not all of the part: count it
            total += int(session.scalar(select(func.count()).select_from(Activity).where(*where)) or 0)
        else:
            total += len(rows)
        if full and last is None:
            last = rows[-1].done_at
    records = []
    for when, _, r in heapq.merge(*parts, key=lambda x: (x[0], x[1])):
        if len(records) == limit:
            break
        at = when.astimezone(tz)
        records.append({"id": r.id, "day": at.date(), "time": at.strftime("%H:%M"), "kind": r.kind,
                        "status": "done" if r.done_at else "planned", "customer_id": r.customer_id,
                        "customer_name": r.customer_name, "owner_name": r.owner_name, "outcome": r.outcome,
                        "duration_minutes": r.duration_minutes})
    frame = pd.DataFrame.from_records(records, columns=CALENDAR_COLUMNS)
    frame.attrs["total"] = total
    return frame


@dataclass
class ForgottenCustomers:
    """Counts per bucket (days without contact ≥ N, cumulative) and one page of a bucket."""

    counts: dict[int, int]
    bucket: int
    rows: pd.DataFrame
    total: int


def forgotten_customers(session: Session, actor: Actor, *, today: date, bucket: int = 7,
                        owner_id: int | None = None, page: int = 0, page_size: int = 50,
                        tz: str | ZoneInfo | None = None) -> ForgottenCustomers:
    """遗忘客户: the actor's (team's) owned, non-archived customers with no contact for at
    least 7 / 15 / 30 / 90 / 180 days (cumulative: a customer silent for 40 days counts in 7,
    15 and 30). "Last contact" is ``last_contact_at``, or the creation time for a customer
    never contacted. The list shows one page of ``bucket``, longest silence first."""
    if bucket not in FORGOTTEN_BUCKETS:
        raise ValidationError({"bucket": t("err.not_in_list", actor.locale,
                                           options=", ".join(map(str, FORGOTTEN_BUCKETS)))})
    tz = local_tz(session, tz)
    ids = scoped_owner_ids(session, actor, owner_id)
    start = day_start_utc(today, tz)
    last = func.coalesce(Customer.last_contact_at, Customer.created_at)
    base = [Customer.owner_id.is_not(None), owner_in(Customer.owner_id, ids), Customer.archived.is_(False)]
    cutoffs = {d: start - timedelta(days=d) for d in FORGOTTEN_BUCKETS}
    counts_row = session.execute(
        select(*[func.coalesce(func.sum(case((last < cutoffs[d], 1), else_=0)), 0).label(f"d{d}")
                 for d in FORGOTTEN_BUCKETS]).where(*base)
    ).one()
    counts = {d: int(counts_row[i]) for i, d in enumerate(FORGOTTEN_BUCKETS)}
    rows = session.execute(
        select(Customer.id, Customer.name, Customer.tier, Customer.status, User.display_name.label("owner_name"),
               Customer.last_contact_at, Customer.next_contact_on, last.label("silent_since"))
        .join(User, User.id == Customer.owner_id)
        .where(*base, last < cutoffs[bucket])
        .order_by(last, Customer.id).limit(page_size).offset(page * page_size)
    ).all()
    frame = pd.DataFrame.from_records(
        [{"id": r.id, "name": r.name, "tier": r.tier, "status": r.status, "owner_name": r.owner_name,
          "last_contact_on": local_date(r.last_contact_at, tz), "next_contact_on": r.next_contact_on,
          "days_silent": (today - local_date(r.silent_since, tz)).days} for r in rows],
        columns=["id", "name", "tier", "status", "owner_name", "last_contact_on", "next_contact_on", "days_silent"],
    )
    return ForgottenCustomers(counts=counts, bucket=bucket, rows=frame, total=counts[bucket])


TIMELINE_COLUMNS = ["id", "kind", "status", "at", "owner_name", "deal_id", "deal_name", "contact_name",
                    "duration_minutes", "outcome", "notes", "next_step", "next_contact_on", "location"]


def list_customer_activities(session: Session, actor: Actor, *, customer_id: int, limit: int = 100,
                             tz: str | ZoneInfo | None = None) -> pd.DataFrame:
    """The customer's timeline, newest first (planned ones by their planned time). The
    customer must be visible (else ``NotFound``). Whoever may see the customer's private
    details (its owner's chain, managers) sees every activity on it, including those of
    previous owners; for a pool customer a rep sees only activities they may see by owner.
    At most ``limit`` rows; ``.attrs['total']`` is how many there are."""
    customer = get_visible_customer(session, actor, customer_id)
    tz = local_tz(session, tz)
    when = func.coalesce(Activity.done_at, Activity.planned_at)
    deal, contact = aliased(Deal), aliased(Contact)
    stmt = (
        select(Activity, User.display_name.label("owner_name"), deal.name.label("deal_name"),
               contact.name.label("contact_name"))
        .join(User, User.id == Activity.owner_id)
        .outerjoin(deal, deal.id == Activity.deal_id)
        .outerjoin(contact, contact.id == Activity.contact_id)
        .where(Activity.customer_id == customer_id)
        .order_by(when.desc(), Activity.id.desc())
        .limit(limit)
    )
    if not can_see_private(session, actor, customer.owner_id) or customer.owner_id is None:
        stmt = stmt.where(owner_filter(session, actor, Activity.owner_id))
    rows = session.execute(stmt).all()
    total = len(rows)
    if total == limit:  # cut: count them all (same visibility) so the page can say "100 of 340"
        total = int(session.scalar(select(func.count()).select_from(
            stmt.with_only_columns(Activity.id).order_by(None).limit(None).subquery())) or 0)
    records = []
    for a, owner_name, deal_name, contact_name in rows:
        at = as_utc(a.done_at or a.planned_at)
        records.append({"id": a.id, "kind": a.kind, "status": "done" if a.done_at else "planned",
                        "at": at.astimezone(tz) if at else None, "owner_name": owner_name,
                        "deal_id": a.deal_id, "deal_name": deal_name, "contact_name": contact_name,
                        "duration_minutes": a.duration_minutes, "outcome": a.outcome, "notes": a.notes,
                        "next_step": a.next_step, "next_contact_on": a.next_contact_on, "location": a.location})
    frame = pd.DataFrame.from_records(records, columns=TIMELINE_COLUMNS)
    frame.attrs["total"] = total
    return frame


def customer_choices(session: Session, actor: Actor, *, search: str | None = None, limit: int = 50,
                     include_id: int | None = None) -> list[tuple[int, str]]:
    """(id, name) of customers the actor may log activities on (own / team's, not archived),
    filtered by a name fragment, for pickers; ``include_id`` is added when it qualifies."""
    ids = visible_user_ids(session, actor)
    base = select(Customer.id, Customer.name).where(
        Customer.archived.is_(False), Customer.owner_id.is_not(None), owner_in(Customer.owner_id, ids))
    stmt = base
    if search:
        stmt = stmt.where(Customer.name.ilike(f"%{search.strip()}%"))
    # in the grid's name order (pinyin for Chinese names), down its index: ordering by the raw
    # name sorted every visible customer (34 ms for a director at 100,000)
    rows = [(r.id, r.name) for r in session.execute(stmt.order_by(Customer.name_sort, Customer.id).limit(limit)).all()]
    if include_id is not None and all(r[0] != include_id for r in rows):
        extra = session.execute(base.where(Customer.id == include_id)).first()
        if extra is not None:
            rows.insert(0, (extra.id, extra.name))
    return rows


def customer_links(session: Session, actor: Actor, *, customer_id: int) -> dict[str, list[tuple[int, str]]]:
    """Open deals and contacts of a customer, for the deal / contact pickers of the log form.
    The customer must be visible (else ``NotFound``); deals are filtered by owner and the
    contacts are private details (none for a rep on a pool customer)."""
    from services.models import Stage

    customer = get_visible_customer(session, actor, customer_id)
    deals = session.execute(
        select(Deal.id, Deal.name).join(Stage, Stage.id == Deal.stage_id)
        .where(Deal.customer_id == customer_id, Stage.kind == "open", owner_filter(session, actor, Deal.owner_id))
        .order_by(Deal.name)
    ).all()
    contacts = session.execute(
        select(Contact.id, Contact.name).where(Contact.customer_id == customer_id).order_by(Contact.name)
    ).all() if can_see_private(session, actor, customer.owner_id) else []
    return {"deals": [(r.id, r.name) for r in deals], "contacts": [(r.id, r.name) for r in contacts]}


def team_members(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """(id, display name) of the active users whose records the actor may see (rep filter)."""
    ids = visible_user_ids(session, actor)
    stmt = select(User.id, User.display_name).where(User.active.is_(True), owner_in(User.id, ids))
    return [(r.id, r.display_name) for r in session.execute(stmt.order_by(User.display_name)).all()]
