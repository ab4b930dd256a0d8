"""Drawing for the Activities page (pages/activities.py) and small helpers the deal and
contract views share: running a service call, showing its errors, the rep filter and the
customer picker.

Forms that must clear on success but keep the input on a validation error use
``st.form(clear_on_submit=False)`` with an ``on_click`` callback on the submit button: the
callback runs before the next script run, calls the service, and on success deletes the
form's widget keys (so the widgets come back empty) — on an error it leaves them alone and
stores the field messages. ``clear_on_submit=True`` would wipe the input even when the
service rejected it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.i18n import choose_placeholder, tr
from dashboard.state import bump_data_version, data_version, db_key, get_engine
from dashboard.text import plain
from dashboard.widgets import company_tz, dash_missing, data_table
from services import activities as svc
from services.access import Actor
from services.db import session_scope
from services.errors import ConflictError, DomainError, NotFound, PermissionDenied, ValidationError
from services.models import ACTIVITY_KINDS

AGENDA_ROWS = 10
CALENDAR_PER_DAY = 12
FORGOTTEN_PAGE = 25
LOG = "act_log"
LOG_FIELDS = ("kind", "state", "day", "at", "duration", "deal", "contact", "outcome", "notes", "next_step",
              "next_contact_on", "location")

# ---------------------------------------------------------------------------
# shared helpers

def call_service(fn: Callable[[Any], Any]) -> tuple[Any, dict[str, str] | None]:
    """Run ``fn(session)`` in one transaction. Returns (result, None) on success and bumps
    the data version; on a domain error returns (None, {field: message}) — the field is
    ``__all__`` for errors that are not about one field."""
    try:
        with session_scope(get_engine()) as s:
            result = fn(s)
    except ValidationError as exc:
        return None, exc.errors or {"__all__": str(exc)}
    except ConflictError:
        bump_data_version()  # someone else saved first: reload their version on the next run
        return None, {"__all__": tr("err.conflict", theirs="…", yours="…")}
    except (PermissionDenied, NotFound) as exc:
        return None, {"__all__": tr("err.permission", detail=str(exc))}
    except DomainError as exc:
        return None, {"__all__": str(exc)}
    bump_data_version()
    return result, None


def show_errors(errors: dict[str, str] | None, labels: dict[str, str] | None = None) -> None:
    """One red box listing each field's message (labels translate field names)."""
    if not errors:
        return
    labels = labels or {}
    lines = [f"- **{plain(labels.get(f, f))}**: {plain(m)}" if f != "__all__" else f"- {plain(m)}"
             for f, m in errors.items()]
    st.error("\n".join(lines))


def field_error(errors: dict[str, str] | None, *fields: str) -> None:
    for f in fields:
        if errors and f in errors:
            st.caption(f":red[{plain(errors[f])}]")


def flash(key: str) -> None:
    """Show and forget a success message left by a callback."""
    msg = st.session_state.pop(key, None)
    if msg:
        st.success(msg)


def clear_keys(prefix: str, names: tuple[str, ...]) -> None:
    for n in names:
        st.session_state.pop(f"{prefix}_{n}", None)


@st.cache_data(ttl=120, show_spinner=False, max_entries=200)
def _customer_choices(db: str, actor: Actor, search: str, include_id: int | None, version: int
                      ) -> list[tuple[int, str]]:
    with session_scope(get_engine()) as s:
        return svc.customer_choices(s, actor, search=search, limit=100, include_id=include_id)


@st.cache_data(ttl=120, show_spinner=False)
def _customer_links(db: str, actor: Actor, customer_id: int, version: int) -> dict[str, list[tuple[int, str]]]:
    with session_scope(get_engine()) as s:
        return svc.customer_links(s, actor, customer_id=customer_id)


@st.cache_data(ttl=120, show_spinner=False)
def _customer_activities(db: str, actor: Actor, customer_id: int, limit: int, version: int) -> pd.DataFrame:
    with session_scope(get_engine()) as s:
        return svc.list_customer_activities(s, actor, customer_id=customer_id, limit=limit)


@st.cache_data(ttl=300, show_spinner=False)
def _members(db: str, actor: Actor, version: int) -> list[tuple[int, str]]:
    with session_scope(get_engine()) as s:
        return svc.team_members(s, actor)


def members(actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of the active users the actor may see (cached per data version)."""
    return _members(db_key(), actor, data_version())


def rep_filter(actor: Actor, key: str) -> int | None:
    """Managers and above pick one rep (or everyone they may see); reps get None."""
    if not actor.is_manager:
        return None
    reps = members(actor)
    labels = {None: tr("activities.all_reps"), **dict(reps)}
    return st.selectbox(tr("activities.rep_filter"), [None, *[m[0] for m in reps]],
                        format_func=labels.__getitem__, key=key)


def customer_picker(actor: Actor, key: str, *, label: str | None = None) -> int | None:
    """A search box and a select of the customers the actor may work on. ``?customer=ID``
    in the URL preselects one (links from the customer page)."""
    from_url = st.query_params.get("customer")
    if from_url and from_url.isdigit() and st.session_state.get(f"{key}_url") != from_url:
        st.session_state[f"{key}_url"] = from_url
        st.session_state[key] = int(from_url)
    search = st.text_input(tr("activities.customer_search"), key=f"{key}_search")
    chosen = st.session_state.get(key)
    options = _customer_choices(db_key(), actor, search, chosen, data_version())
    labels = dict(options)
    st.session_state[f"{key}_count"] = len(options)
    if chosen is not None and chosen not in labels:
        st.session_state.pop(key, None)
    return st.selectbox(label or tr("activities.customer"), [o[0] for o in options],
                        format_func=labels.__getitem__, index=None, key=key, placeholder=choose_placeholder(options))


def kind_label(kind: str) -> str:
    return tr(f"activities.kinds.{kind}")


# ---------------------------------------------------------------------------
# quick log form


def _local_now() -> datetime:
    return datetime.now(company_tz())


def _init_log_defaults() -> None:
    now = _local_now()
    defaults = {"kind": "call", "state": "done", "day": now.date(), "at": now.replace(second=0, microsecond=0).time(),
                "duration": None, "deal": None, "contact": None, "outcome": "", "notes": "", "next_step": "",
                "next_contact_on": None, "location": ""}
    for name, value in defaults.items():
        st.session_state.setdefault(f"{LOG}_{name}", value)


def _submit_log(actor: Actor, customer_id: int) -> None:
    ss = st.session_state
    tz = company_tz()
    when = datetime.combine(ss[f"{LOG}_day"], ss[f"{LOG}_at"] or time(9), tzinfo=tz)
    done = ss[f"{LOG}_state"] == "done"
    data = {
        "kind": ss[f"{LOG}_kind"], "customer_id": customer_id, "owner_id": actor.id,
        "deal_id": ss[f"{LOG}_deal"], "contact_id": ss[f"{LOG}_contact"],
        "done_at": when if done else None, "planned_at": None if done else when,
        "duration_minutes": ss[f"{LOG}_duration"], "outcome": ss[f"{LOG}_outcome"], "notes": ss[f"{LOG}_notes"],
        "next_step": ss[f"{LOG}_next_step"], "next_contact_on": ss[f"{LOG}_next_contact_on"],
        "location": ss[f"{LOG}_location"],
    }
    _, errors = call_service(lambda s: svc.log_activity(s, actor, data=data))
    if errors:
        ss[f"{LOG}_errors"] = errors
        return
    clear_keys(LOG, LOG_FIELDS + ("errors",))
    ss[f"{LOG}_flash"] = tr("activities.saved")


def log_form(actor: Actor) -> None:
    """Quick log: customer picker, then the form (kind, done/planned, when, duration, deal,
    contact, outcome, notes, next step, next contact date, check-in location) and the
    customer's recent timeline."""
    flash(f"{LOG}_flash")
    customer_id = customer_picker(actor, f"{LOG}_customer")
    if customer_id is None:
        searching = st.session_state.get(f"{LOG}_customer_search")
        if st.session_state.get(f"{LOG}_customer_count"):
            st.info(tr("activities.choose_customer"))
        else:
            st.info(tr("common.nothing_here") if searching else tr("activities.no_customers"))
        return
    links = _customer_links(db_key(), actor, customer_id, data_version())
    _init_log_defaults()
    errors = st.session_state.get(f"{LOG}_errors")
    deal_labels = {None: tr("common.none"), **dict(links["deals"])}
    contact_labels = {None: tr("common.none"), **dict(links["contacts"])}
    for name, labels in (("deal", deal_labels), ("contact", contact_labels)):
        if st.session_state.get(f"{LOG}_{name}") not in labels:
            st.session_state[f"{LOG}_{name}"] = None
    kinds = {k: kind_label(k) for k in ACTIVITY_KINDS}
    states = {"done": tr("activities.state_done"), "planned": tr("activities.state_planned")}
    with st.form(f"{LOG}_form", clear_on_submit=False):
        if errors:
            st.error(tr("activities.fix_errors"))
            field_error(errors, "__all__", "customer_id", "owner_id")
        c1, c2, c3 = st.columns(3)
        with c1:
            st.selectbox(tr("activities.kind"), list(kinds), format_func=kinds.__getitem__, key=f"{LOG}_kind")
            field_error(errors, "kind")
        with c2:
            st.radio(tr("activities.status"), list(states), format_func=states.__getitem__, horizontal=True,
                     key=f"{LOG}_state")
        with c3:
            st.number_input(tr("activities.duration"), min_value=0, max_value=svc.MAX_DURATION_MINUTES, step=15,
                            key=f"{LOG}_duration")
            field_error(errors, "duration_minutes")
        c1, c2, c3, c4 = st.columns(4)
        with c1:
            st.date_input(tr("activities.when_date"), key=f"{LOG}_day", format="YYYY-MM-DD")
            field_error(errors, "done_at", "planned_at")
        c2.time_input(tr("activities.when_time"), key=f"{LOG}_at", step=timedelta(minutes=15))
        c3.selectbox(tr("activities.deal"), list(deal_labels), format_func=deal_labels.__getitem__, key=f"{LOG}_deal")
        c4.selectbox(tr("activities.contact"), list(contact_labels), format_func=contact_labels.__getitem__,
                     key=f"{LOG}_contact")
        with c3:
            field_error(errors, "deal_id")
        with c4:
            field_error(errors, "contact_id")
        st.text_input(tr("activities.outcome"), key=f"{LOG}_outcome", max_chars=300)
        field_error(errors, "outcome")
        st.text_area(tr("activities.notes"), key=f"{LOG}_notes", height=80)
        c1, c2, c3 = st.columns(3)
        with c1:
            st.text_input(tr("activities.next_step"), key=f"{LOG}_next_step", max_chars=300)
            field_error(errors, "next_step")
        with c2:
            st.date_input(tr("activities.next_contact_on"), key=f"{LOG}_next_contact_on", format="YYYY-MM-DD")
            field_error(errors, "next_contact_on")
        with c3:
            st.text_input(tr("activities.location"), key=f"{LOG}_location", max_chars=200)
            field_error(errors, "location")
        st.form_submit_button(tr("activities.submit"), type="primary", on_click=_submit_log,
                              args=(actor, customer_id))
    timeline(actor, customer_id, limit=10)


def timeline(actor: Actor, customer_id: int, *, limit: int = 10) -> None:
    """The customer's latest activities (the Customer 360 page shows the full timeline)."""
    frame = _customer_activities(db_key(), actor, customer_id, limit, data_version())
    st.subheader(tr("activities.timeline"))
    if frame.empty:
        st.caption(tr("common.nothing_here"))
        return
    shown = pd.DataFrame({
        tr("activities.due"): [a.strftime("%Y-%m-%d %H:%M") if a is not None else "" for a in frame["at"]],
        tr("activities.kind"): [kind_label(k) for k in frame["kind"]],
        tr("activities.status"): [tr(f"activities.state_{s}") for s in frame["status"]],
        tr("activities.owner"): frame["owner_name"],
        tr("activities.outcome"): frame["outcome"],
        tr("activities.next_step"): frame["next_step"],
        tr("activities.deal"): frame["deal_name"],
    })
    st.table(dash_missing(shown), hide_index=True, border="horizontal")


# ---------------------------------------------------------------------------
# agenda


@st.cache_data(ttl=120, show_spinner=False)
def _agenda(db: str, actor: Actor, owner_id: int | None, today: date, version: int) -> dict[str, pd.DataFrame]:
    with session_scope(get_engine()) as s:
        return svc.agenda(s, actor, owner_id=owner_id, today=today, limit=AGENDA_ROWS)


def _submit_done(actor: Actor, key: str, item: str, activity_id: int | None, customer_id: int) -> None:
    ss = st.session_state
    outcome, next_on = ss.get(f"{key}_outcome"), ss.get(f"{key}_next")
    if item == "activity":
        def work(s):
            return svc.complete_activity(s, actor, activity_id=activity_id, outcome=outcome, next_contact_on=next_on)
    else:
        data = {"kind": ss.get(f"{key}_kind") or "call", "customer_id": customer_id, "outcome": outcome,
                "next_contact_on": next_on}

        def work(s):
            return svc.log_activity(s, actor, data=data)
    _, errors = call_service(work)
    if errors:
        ss[f"{key}_errors"] = errors
        return
    clear_keys(key, ("outcome", "next", "kind", "errors"))
    ss["agenda_flash"] = tr("activities.done_saved")


def _done_popover(actor: Actor, row: Any) -> None:
    key = f"agenda_{row.item}_{int(row.activity_id) if row.item == 'activity' else int(row.customer_id)}"
    errors = st.session_state.get(f"{key}_errors")
    with st.popover(tr("activities.mark_done")), st.form(f"{key}_form"):
        if row.item == "follow_up":
            kinds = {k: kind_label(k) for k in ACTIVITY_KINDS}
            st.selectbox(tr("activities.kind"), list(kinds), format_func=kinds.__getitem__, key=f"{key}_kind")
        st.text_input(tr("activities.outcome"), key=f"{key}_outcome", max_chars=300)
        field_error(errors, "outcome", "__all__", "customer_id", "activity_id")
        st.date_input(tr("activities.next_contact_on"), value=None, key=f"{key}_next", format="YYYY-MM-DD")
        field_error(errors, "next_contact_on")
        st.form_submit_button(tr("activities.mark_done"), type="primary", on_click=_submit_done,
                              args=(actor, key, row.item, None if pd.isna(row.activity_id) else int(row.activity_id),
                                    int(row.customer_id)))
    if errors:
        st.caption(f":red[{plain(next(iter(errors.values())))}]")


def _agenda_rows(actor: Actor, frame: pd.DataFrame, show_owner: bool) -> None:
    if frame.empty:
        st.caption(tr("activities.nothing_due"))
        return
    for row in frame.head(AGENDA_ROWS).itertuples(index=False):
        with st.container(border=True):
            cols = st.columns([1.3, 3, 3, 1.5, 1.5] if show_owner else [1.3, 3, 3, 0.01, 1.5],
                              vertical_alignment="center")
            when = row.due_at.strftime("%m-%d %H:%M") if row.item == "activity" and not pd.isna(row.due_at) \
                else row.due_on.strftime("%m-%d")
            cols[0].markdown(f"**{plain(when)}**  \n{plain(kind_label(row.kind))}")
            deal = plain(row.deal_name)
            cols[1].markdown(f"**{plain(row.customer_name)}**" + (f"  \n{deal}" if deal else ""))
            note = plain(row.next_step) or plain(row.notes)
            cols[2].markdown(note or (tr("activities.item_follow_up") if row.item == "follow_up" else ""))
            if show_owner:
                cols[3].caption(plain(row.owner_name))
            with cols[4]:
                _done_popover(actor, row)
    total = frame.attrs.get("total", len(frame))
    if total > min(len(frame), AGENDA_ROWS):
        st.caption(tr("activities.showing_of", shown=min(len(frame), AGENDA_ROWS), total=total))


def agenda_section(actor: Actor, owner_id: int | None, today: date) -> None:
    """Overdue / today / rest of the week, each row with "mark done" in place."""
    flash("agenda_flash")
    data = _agenda(db_key(), actor, owner_id, today, data_version())
    m = st.columns(3)
    m[0].metric(tr("activities.overdue"), data["overdue"].attrs.get("total", 0), border=True)
    m[1].metric(tr("activities.today"), data["today"].attrs.get("total", 0), border=True)
    m[2].metric(tr("activities.this_week"), data["this_week"].attrs.get("total", 0), border=True)
    for bucket in ("overdue", "today", "this_week"):
        st.subheader(tr(f"activities.{bucket}"))
        _agenda_rows(actor, data[bucket], show_owner=actor.is_manager)


# ---------------------------------------------------------------------------
# week calendar


@st.cache_data(ttl=120, show_spinner=False)
def _week(db: str, actor: Actor, owner_id: int | None, week_start: date, version: int) -> pd.DataFrame:
    with session_scope(get_engine()) as s:
        return svc.week_calendar(s, actor, week_start=week_start, owner_id=owner_id)


def _shift_week(key: str, days: int) -> None:
    st.session_state[key] = st.session_state[key] + timedelta(days=days)


def calendar_section(actor: Actor, owner_id: int | None, today: date) -> None:
    """A grid of the 7 days of a week: planned (○) and done (✓) activities with time, kind
    and customer."""
    key = "act_week_start"
    st.session_state.setdefault(key, today - timedelta(days=today.weekday()))
    nav = st.columns([1, 2, 1])
    nav[0].button(tr("activities.prev_week"), on_click=_shift_week, args=(key, -7), key="act_week_prev",
                  width="stretch")
    picked = nav[1].date_input(tr("activities.week_of"), key=key, format="YYYY-MM-DD", label_visibility="collapsed")
    nav[2].button(tr("activities.next_week"), on_click=_shift_week, args=(key, 7), key="act_week_next",
                  width="stretch")
    start = picked - timedelta(days=picked.weekday())
    frame = _week(db_key(), actor, owner_id, start, data_version())
    names = tr("activities.weekdays").split(",")
    days = st.columns(7)
    for i, col in enumerate(days):
        day = start + timedelta(days=i)
        items = frame[frame["day"] == day] if not frame.empty else frame
        label = f"{names[i] if len(names) == 7 else day.strftime('%a')} {day:%m-%d}"
        with col:
            st.markdown(f"**{label}**" if day != today else f":blue[**{label}**]")
            for r in items.head(CALENDAR_PER_DAY).itertuples(index=False):
                mark = "✓" if r.status == "done" else "○"
                st.markdown(f"{mark} {plain(r.time)} {plain(kind_label(r.kind))}  \n{plain(r.customer_name)}")
            if len(items) > CALENDAR_PER_DAY:
                st.caption(tr("activities.more_items", n=len(items) - CALENDAR_PER_DAY))


# ---------------------------------------------------------------------------
# forgotten customers


@st.cache_data(ttl=120, show_spinner=False)
def _forgotten(db: str, actor: Actor, owner_id: int | None, today: date, bucket: int, page: int,
               version: int) -> svc.ForgottenCustomers:
    with session_scope(get_engine()) as s:
        return svc.forgotten_customers(s, actor, today=today, bucket=bucket, owner_id=owner_id, page=page,
                                       page_size=FORGOTTEN_PAGE)


def forgotten_section(actor: Actor, owner_id: int | None, today: date) -> None:
    """Counts per bucket (7/15/30/90/180 days without contact) and one page of a bucket."""
    bucket = st.session_state.get("act_forgotten_bucket", 7)
    page = int(st.session_state.get("act_forgotten_page", 1)) - 1
    res = _forgotten(db_key(), actor, owner_id, today, bucket, max(page, 0), data_version())
    labels = {d: f"{tr('activities.forgotten_bucket', days=d)} ({res.counts[d]})" for d in svc.FORGOTTEN_BUCKETS}
    st.radio(tr("activities.forgotten"), list(labels), format_func=labels.__getitem__, horizontal=True,
             key="act_forgotten_bucket", label_visibility="collapsed")
    pages = max(1, -(-res.total // FORGOTTEN_PAGE))
    if page >= pages:
        page = 0
    if res.rows.empty:
        st.caption(tr("common.nothing_here"))
    else:
        data_table(pd.DataFrame({
            tr("activities.customer"): res.rows["name"],
            tr("activities.tier"): [tr(f"customers.tier_label.{t}") if t else None for t in res.rows["tier"]],
            tr("activities.owner"): res.rows["owner_name"],
            tr("activities.last_contact"): res.rows["last_contact_on"],
            tr("activities.next_contact_on"): res.rows["next_contact_on"],
            tr("activities.days_silent"): res.rows["days_silent"],
        }))
    page_col, count_col = st.columns([1, 5], vertical_alignment="bottom")
    page_col.number_input(tr("activities.page"), min_value=1, max_value=pages, step=1, key="act_forgotten_page")
    count_col.caption(tr("activities.showing_of", shown=len(res.rows), total=res.total))
