"""Drawing for the Activities page (pages/activities.py) and two helpers the deal and
contract views share: the rep filter and the customer picker.

Forms save through ``dashboard.forms.submit`` (runner, stale messages cleared, cleared on
success, input kept on a refusal).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import forms
from dashboard.i18n import choose_placeholder, number, tr
from dashboard.state import data_version, db_key, get_engine
from dashboard.text import plain
from dashboard.widgets import choice, chosen, company_tz, dash_missing, data_table, date_field, number_field
from services import activities as svc
from services.access import Actor
from services.db import read_scope
from services.models import ACTIVITY_KINDS

AGENDA_ROWS = 10
CALENDAR_PER_DAY = 12
FORGOTTEN_PAGE = 25
LOG = "act_log"
LOG_FIELDS = ("kind", "state", "day", "at", "duration", "deal", "contact", "outcome", "notes", "next_step",
              "next_contact_on", "location")

# ---------------------------------------------------------------------------
# shared helpers


@st.cache_data(ttl=120, show_spinner=False, max_entries=200)
def _customer_choices(db: str, actor: Actor, search: str, include_id: int | None, version: int
                      ) -> list[tuple[int, str]]:
    with read_scope(get_engine()) as s:
        return svc.customer_choices(s, actor, search=search, limit=100, include_id=include_id)


@st.cache_data(ttl=120, show_spinner=False)
def _customer_links(db: str, actor: Actor, customer_id: int, version: int) -> dict[str, list[tuple[int, str]]]:
    with read_scope(get_engine()) as s:
        return svc.customer_links(s, actor, customer_id=customer_id)


@st.cache_data(ttl=120, show_spinner=False)
def _customer_activities(db: str, actor: Actor, customer_id: int, limit: int, version: int) -> pd.DataFrame:
    with read_scope(get_engine()) as s:
        return svc.list_customer_activities(s, actor, customer_id=customer_id, limit=limit)


@st.cache_data(ttl=300, show_spinner=False)
def _members(db: str, actor: Actor, version: int) -> list[tuple[int, str]]:
    with read_scope(get_engine()) as s:
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
    defaults = {"at": now.replace(second=0, microsecond=0).time(),
                "deal": None, "contact": None, "outcome": "", "notes": "", "next_step": "", "location": ""}
    for name, value in defaults.items():
        st.session_state.setdefault(f"{LOG}_{name}", value)


def _submit_log(actor: Actor, customer_id: int) -> None:
    ss = st.session_state
    tz = company_tz()
    day = ss.get(f"{LOG}_day")
    if day is None:
        forms.refuse(LOG, forms.Outcome(field_errors={"done_at": tr("err.required")}))
        return
    when = datetime.combine(day, ss[f"{LOG}_at"] or time(9), tzinfo=tz)
    done = chosen(f"{LOG}_state") == "done"
    data = {
        "kind": chosen(f"{LOG}_kind"), "customer_id": customer_id, "owner_id": actor.id,
        "deal_id": ss[f"{LOG}_deal"], "contact_id": ss[f"{LOG}_contact"],
        "done_at": when if done else None, "planned_at": None if done else when,
        "duration_minutes": ss[f"{LOG}_duration"], "outcome": ss[f"{LOG}_outcome"], "notes": ss[f"{LOG}_notes"],
        "next_step": ss[f"{LOG}_next_step"], "next_contact_on": ss[f"{LOG}_next_contact_on"],
        "location": ss[f"{LOG}_location"],
    }
    forms.submit(LOG, lambda s: svc.log_activity(s, actor, data=data), fields=LOG_FIELDS,
                 success=tr("activities.saved"), keep=("kind", "state"))


def log_form(actor: Actor) -> None:
    """Quick log: customer picker, then the form (kind, done/planned, when, duration, deal,
    contact, outcome, notes, next step, next contact date, check-in location) and the
    customer's recent timeline."""
    labels = {"__all__": "", "customer_id": tr("activities.customer"), "owner_id": tr("activities.owner")}
    customer_id = customer_picker(actor, f"{LOG}_customer")
    if customer_id is None:
        forms.messages(LOG, labels)
        searching = st.session_state.get(f"{LOG}_customer_search")
        if st.session_state.get(f"{LOG}_customer_count"):
            st.info(tr("activities.choose_customer"))
        else:
            st.info(tr("common.nothing_here") if searching else tr("activities.no_customers"))
        return
    links = _customer_links(db_key(), actor, customer_id, data_version())
    _init_log_defaults()
    deal_labels = {None: tr("common.none"), **dict(links["deals"])}
    contact_labels = {None: tr("common.none"), **dict(links["contacts"])}
    for name, labels_ in (("deal", deal_labels), ("contact", contact_labels)):
        if st.session_state.get(f"{LOG}_{name}") not in labels_:
            st.session_state[f"{LOG}_{name}"] = None
    kinds = {k: kind_label(k) for k in ACTIVITY_KINDS}
    states = {"done": tr("activities.state_done"), "planned": tr("activities.state_planned")}
    shown_below = ("kind", "duration_minutes", "done_at", "planned_at", "deal_id", "contact_id", "outcome",
                   "next_step", "next_contact_on", "location")
    forms.messages(LOG, labels, fields=shown_below)
    with st.form(f"{LOG}_form", clear_on_submit=False):
        c1, c2, c3 = st.columns(3)
        with c1:
            choice(st.selectbox, tr("activities.kind"), ACTIVITY_KINDS, kinds, key=f"{LOG}_kind")
            forms.field_error(LOG, "kind")
        with c2:
            choice(st.radio, tr("activities.status"), states, states, key=f"{LOG}_state", horizontal=True)
        with c3:
            number_field(tr("activities.duration"), f"{LOG}_duration", step=15)
            forms.field_error(LOG, "duration_minutes")
        c1, c2, c3, c4 = st.columns(4)
        with c1:
            date_field(tr("activities.when_date"), f"{LOG}_day", value=_local_now().date())
            forms.field_error(LOG, "done_at", "planned_at")
        c2.time_input(tr("activities.when_time"), key=f"{LOG}_at", step=timedelta(minutes=15))
        c3.selectbox(tr("activities.deal"), list(deal_labels), format_func=deal_labels.__getitem__, key=f"{LOG}_deal")
        c4.selectbox(tr("activities.contact"), list(contact_labels), format_func=contact_labels.__getitem__,
                     key=f"{LOG}_contact")
        with c3:
            forms.field_error(LOG, "deal_id")
        with c4:
            forms.field_error(LOG, "contact_id")
        st.text_input(tr("activities.outcome"), key=f"{LOG}_outcome", max_chars=300)
        forms.field_error(LOG, "outcome")
        st.text_area(tr("activities.notes"), key=f"{LOG}_notes", height=80)
        c1, c2, c3 = st.columns(3)
        with c1:
            st.text_input(tr("activities.next_step"), key=f"{LOG}_next_step", max_chars=300)
            forms.field_error(LOG, "next_step")
        with c2:
            date_field(tr("activities.next_contact_on"), f"{LOG}_next_contact_on")
            forms.field_error(LOG, "next_contact_on")
        with c3:
            st.text_input(tr("activities.location"), key=f"{LOG}_location", max_chars=200)
            forms.field_error(LOG, "location")
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
    with read_scope(get_engine()) as s:
        return svc.agenda(s, actor, owner_id=owner_id, today=today, limit=AGENDA_ROWS)


AGENDA = "agenda"


def _submit_done(actor: Actor, key: str, item: str, activity_id: int | None, customer_id: int) -> None:
    ss = st.session_state
    outcome, next_on = ss.get(f"{key}_outcome"), ss.get(f"{key}_next")
    if item == "activity":
        def work(s):
            return svc.complete_activity(s, actor, activity_id=activity_id, outcome=outcome, next_contact_on=next_on)
    else:
        data = {"kind": chosen(f"{key}_kind") or "call", "customer_id": customer_id, "outcome": outcome,
                "next_contact_on": next_on}

        def work(s):
            return svc.log_activity(s, actor, data=data)
    done = forms.submit(key, work, fields=("outcome", "next", "kind"))
    if done.ok:
        forms.flash(AGENDA, tr("activities.done_saved"))


def _done_popover(actor: Actor, row: Any) -> None:
    key = f"agenda_{row.item}_{int(row.activity_id) if row.item == 'activity' else int(row.customer_id)}"
    errors = forms.field_errors(key)
    refused = forms.outcome(key)
    with st.popover(tr("activities.mark_done")), st.form(f"{key}_form"):
        if row.item == "follow_up":
            kinds = {k: kind_label(k) for k in ACTIVITY_KINDS}
            choice(st.selectbox, tr("activities.kind"), ACTIVITY_KINDS, kinds, key=f"{key}_kind")
        st.text_input(tr("activities.outcome"), key=f"{key}_outcome", max_chars=300)
        forms.field_error(key, "outcome", "customer_id", "activity_id")
        if refused is not None and refused.message:
            st.caption(f":red[{plain(refused.message)}]")
        date_field(tr("activities.next_contact_on"), f"{key}_next")
        forms.field_error(key, "next_contact_on")
        st.form_submit_button(tr("activities.mark_done"), type="primary", on_click=_submit_done,
                              args=(actor, key, row.item, None if pd.isna(row.activity_id) else int(row.activity_id),
                                    int(row.customer_id)))
    if refused is not None:
        st.caption(f":red[{plain(refused.message or next(iter(errors.values()), ''))}]")


def _contact_line(row: Any) -> str:
    """"Contact · phone" of an agenda row (the customer's primary contact when none is named)."""
    parts = [plain(v) for v in (getattr(row, "contact_name", None), getattr(row, "contact_phone", None))
             if isinstance(v, str) and v]
    return " · ".join(parts)


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
            contact = _contact_line(row)
            cols[1].markdown(f"**{plain(row.customer_name)}**" + (f"  \n{deal}" if deal else "")
                             + (f"  \n{contact}" if contact else ""))
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
    forms.messages(AGENDA)
    data = _agenda(db_key(), actor, owner_id, today, data_version())
    m = st.columns(3)
    m[0].metric(tr("activities.overdue"), data["overdue"].attrs.get("total", 0), border=True)
    m[1].metric(tr("activities.today"), data["today"].attrs.get("total", 0), border=True)
    m[2].metric(tr("activities.this_week"), data["this_week"].attrs.get("total", 0), border=True)
    for bucket in ("overdue", "today", "this_week"):
        st.subheader(tr(f"activities.{bucket}"))
        _agenda_rows(actor, data[bucket], show_owner=actor.is_manager)
    review_actions_section(actor, owner_id)


def review_actions_section(actor: Actor, owner_id: int | None) -> None:
    """The open action items of the reviews that name this owner (checked off at the next review)."""
    from dashboard.runner import read
    from services.reviews import open_actions

    items = read(lambda s: open_actions(s, actor, owner_id=owner_id))
    if not items:
        return
    st.subheader(tr("analytics.agenda_actions"))
    for a in items:
        due = a.due_on.isoformat() if a.due_on else "—"
        st.markdown(f"- **{plain(a.title)}** · {plain(due)} · {plain(tr(f'analytics.action_{a.status}'))}")


# ---------------------------------------------------------------------------
# week calendar


@st.cache_data(ttl=120, show_spinner=False)
def _week(db: str, actor: Actor, owner_id: int | None, week_start: date, version: int) -> pd.DataFrame:
    with read_scope(get_engine()) as s:
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
            # each day's entries as one block (a director's week holds thousands: one element
            # per entry made the browser draw thousands of elements)
            first = [_calendar_line(r) for r in items.head(CALENDAR_PER_DAY).itertuples(index=False)]
            if first:
                st.markdown("\n\n".join(first))
            if len(items) > CALENDAR_PER_DAY:
                with st.expander(tr("activities.more_items", n=len(items) - CALENDAR_PER_DAY)):
                    st.markdown("\n\n".join(_calendar_line(r) for r in items.iloc[CALENDAR_PER_DAY:]
                                              .itertuples(index=False)))
    shown, total = len(frame), frame.attrs.get("total", len(frame))
    if total > shown:
        st.caption(tr("common.showing_of", shown=number(shown), total=number(total)))


def _calendar_line(r: Any) -> str:
    mark = "✓" if r.status == "done" else "○"
    return f"{mark} {plain(r.time)} {plain(kind_label(r.kind))}  \n{plain(r.customer_name)}"


# ---------------------------------------------------------------------------
# forgotten customers


@st.cache_data(ttl=120, show_spinner=False)
def _forgotten(db: str, actor: Actor, owner_id: int | None, today: date, bucket: int, page: int,
               version: int) -> svc.ForgottenCustomers:
    with read_scope(get_engine()) as s:
        return svc.forgotten_customers(s, actor, today=today, bucket=bucket, owner_id=owner_id, page=page,
                                       page_size=FORGOTTEN_PAGE)


def _open_customer(customer_id: int) -> None:
    st.session_state["customer_id"] = int(customer_id)
    st.switch_page("pages/customer_detail.py")


def _log_for(customer_id: int) -> None:
    """Pick the customer in the quick log form and go to its tab."""
    st.session_state[f"{LOG}_customer"] = int(customer_id)
    st.session_state[f"{LOG}_customer_search"] = ""
    st.session_state[TABS_KEY] = "log"


TABS_KEY = "act_tab"


def forgotten_section(actor: Actor, owner_id: int | None, today: date) -> None:
    """Counts per bucket (7/15/30/90/180 days without contact) and one page of a bucket,
    each customer with "open" and "log activity"."""
    key = "act_forgotten_bucket"
    bucket = chosen(key)  # the bucket itself (7 … 180), never its label (see widgets.choice)
    bucket = bucket if bucket in svc.FORGOTTEN_BUCKETS else svc.FORGOTTEN_BUCKETS[0]
    page = int(st.session_state.get("act_forgotten_page", 1) or 1) - 1
    res = _forgotten(db_key(), actor, owner_id, today, bucket, max(page, 0), data_version())
    labels = {d: f"{tr('activities.forgotten_bucket', days=d)} ({res.counts[d]})" for d in svc.FORGOTTEN_BUCKETS}
    choice(st.radio, tr("activities.forgotten"), svc.FORGOTTEN_BUCKETS, labels, key=key, horizontal=True,
           label_visibility="collapsed")
    pages = max(1, -(-res.total // FORGOTTEN_PAGE))
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
        names = dict(zip(res.rows["id"].astype(int), res.rows["name"], strict=True))
        c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
        picked = c1.selectbox(tr("activities.customer"), list(names), format_func=names.__getitem__, index=None,
                              key="act_forgotten_pick", placeholder=choose_placeholder(names))
        if c2.button(tr("activities.open_customer"), key="act_forgotten_open", disabled=picked is None):
            _open_customer(picked)
        c3.button(tr("activities.log_for"), key="act_forgotten_log", disabled=picked is None, on_click=_log_for,
                  args=(picked,))
    page_col, count_col = st.columns([1, 5], vertical_alignment="bottom")
    with page_col:
        number_field(tr("activities.page"), "act_forgotten_page", value=1)
    if not 1 <= page + 1 <= pages:
        page_col.caption(f":red[{tr('err.range', min=1, max=pages)}]")
    count_col.caption(tr("activities.showing_of", shown=len(res.rows), total=res.total))
