"""Drawing for the customer 360 page: picker, header, one function per tab, and the small
forms (contacts, tickets). Names, notes and other user text are shown as plain text
(markdown-escaped or in data grids), never as HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import forms
from dashboard.i18n import choose_placeholder, current_locale, money, tr
from dashboard.runner import read, run_service, show_outcome
from dashboard.state import data_version, db_key, get_engine
from dashboard.text import plain
from dashboard.widgets import choice, company_tz, data_table, keep_tabs, number_field
from services import contacts as contact_service
from services import customer360
from services import tickets as ticket_service
from services.access import Actor
from services.db import read_scope
from services.errors import NotFound
from services.models import TICKET_CATEGORIES, TICKET_PRIORITIES

K = "c360_"


def _ss() -> Any:
    return st.session_state


# field → label key, so a refused write names the field in the user's language
FIELD_LABELS = {
    "name": "customer360.contact_name", "phone": "customer360.contact_phone", "email": "customer360.contact_email",
    "notes": "customer360.contact_notes", "is_primary": "customer360.contact_primary",
    "title": "tickets.ticket_title", "category": "tickets.category", "priority": "tickets.priority",
    "description": "tickets.description", "assignee_id": "tickets.assignee", "resolution": "tickets.resolution",
    "satisfaction": "tickets.satisfaction",
}


def _labels(*, contact: bool = False) -> dict[str, str]:
    labels = {f: tr(k) for f, k in FIELD_LABELS.items()}
    if contact:
        labels["title"] = tr("customer360.contact_title")
    return labels


def _call(fn: Callable[[Any], Any], success: str | None = None) -> bool:
    """Run a button's write through the runner; on a refusal show its messages, on success
    a toast. True when it worked."""
    done = run_service(fn)
    if not done.ok:
        show_outcome(done, _labels())
        return False
    if success:
        st.toast(success)
    return True


def _when(value: Any) -> str:
    """Dates as ISO; times in the company time zone."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, datetime | pd.Timestamp):
        if value.tzinfo is not None:
            value = value.astimezone(company_tz())
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _money(value: Any) -> str:
    if value is None or (not isinstance(value, Decimal | str) and pd.isna(value)):
        return "—"
    return money(Decimal(str(value)), compact=False)


def _table(df: pd.DataFrame, columns: dict[str, str], money_cols: tuple[str, ...] = (),
           time_cols: tuple[str, ...] = ()) -> None:
    """Show the given columns with localised headers; money and times as text per locale."""
    if df.empty:
        st.caption(tr("customer360.nothing"))
        return
    out = pd.DataFrame(index=df.index)
    for col, label_key in columns.items():
        values = df[col]
        if col in money_cols:
            values = values.map(_money)
        elif col in time_cols:
            values = values.map(_when)
        out[tr(label_key)] = values.astype(object).where(values.notna(), None)
    data_table(out, width="stretch")


# ---------------------------------------------------------------------------
# choosing the customer


def selected_customer_id() -> int | None:
    """The customer picked on this page, else ``?id=`` in the URL, else the id the customer
    grid put in session state (an empty or broken ``id`` counts as none)."""
    for raw in (_ss().get(K + "found"), st.query_params.get("id"), _ss().get("customer_id")):
        try:
            if raw is not None and str(raw).strip():
                return int(raw)
        except (TypeError, ValueError):
            continue
    return None


def remember(customer_id: int) -> None:
    _ss()["customer_id"] = int(customer_id)
    st.query_params["id"] = str(customer_id)


def customer_picker(actor: Actor) -> int | None:
    """Search box + result list; the chosen customer's id (also remembered)."""
    search = st.text_input(tr("customer360.pick"), placeholder=tr("customer360.pick_help"), key=K + "search")
    if not search.strip():
        return None
    found = read(lambda s: customer360.find_customers(s, actor, search=search))
    if not found:
        st.caption(tr("customer360.no_match"))
        return None
    names = {i: f"{n} (#{i})" for i, n in found}
    if _ss().get(K + "found") not in names:
        _ss().pop(K + "found", None)
    chosen = st.selectbox(tr("customer360.pick"), list(names), format_func=names.get,
                          index=None, key=K + "found", label_visibility="collapsed",
                          placeholder=choose_placeholder(names))
    if chosen is not None:
        remember(chosen)
    return chosen


def switch_customer(actor: Actor) -> None:
    """The picker, folded away above a chosen customer: another customer is one search away."""
    with st.expander(tr("customer360.switch"), icon=":material/search:"):
        if customer_picker(actor) is not None and _ss().get(K + "found") != _ss().get("customer_id"):
            st.rerun()


@st.cache_data(ttl=60, max_entries=64, show_spinner=False)
def _profile(db: str, version: int, actor: Actor, customer_id: int) -> customer360.CustomerProfile:
    """Cached per database, data version, actor and customer: switching tabs or typing in a
    form does not re-run the ~15 queries; any write bumps the version."""
    with read_scope(get_engine()) as s:
        return customer360.customer_profile(s, actor, customer_id=customer_id)


@st.cache_data(ttl=60, max_entries=64, show_spinner=False)
def _clv(db: str, version: int, actor: Actor, customer_id: int, years: float) -> customer360.ClvEstimate:
    with read_scope(get_engine()) as s:
        return customer360.clv_estimate(s, actor, customer_id=customer_id, lifetime_years=years)


@st.cache_data(ttl=300, show_spinner=False)
def _assignees(db: str, version: int, actor: Actor) -> dict[int, str]:
    from services.customers import assignable_owners

    with read_scope(get_engine()) as s:
        return {u["id"]: u["display_name"] for u in assignable_owners(s, actor)}


def load_profile(actor: Actor, customer_id: int) -> customer360.CustomerProfile | None:
    try:
        return _profile(db_key(), data_version(), actor, customer_id)
    except NotFound:
        st.error(tr("customer360.not_found"))
        _ss().pop("customer_id", None)
        return None


# ---------------------------------------------------------------------------
# header and overview


def header(p: customer360.CustomerProfile) -> None:
    c = p.customer
    st.title(plain(c["name"]))
    owner = c.get("owner_name") if c.get("owner_id") is not None else tr("customer360.pool")
    st.caption(" · ".join(plain(x) for x in (
        f"{tr('customer360.owner')}: {owner}", f"{tr('customer360.tier')}: {tr('customers.tier_label.' + str(c.get('tier')))}",
        f"{tr('customer360.status')}: {tr('customers.status_label.' + str(c.get('status')))}")))
    if p.private_hidden:
        st.info(tr("customer360.private_hidden"))
    elif not p.can_edit:
        st.caption(tr("customer360.cannot_edit"))
    t = p.totals
    cols = st.columns(5)
    cols[0].metric(tr("customer360.won_amount"), money(t["won_amount"]))
    cols[1].metric(tr("customer360.open_pipeline"), money(t["open_pipeline"]))
    cols[2].metric(tr("customer360.collected"), money(t["collected"]),
                   help=f"{tr('customer360.due_to_date')}: {money(t['due_to_date'])}")
    cols[3].metric(tr("customer360.clv"), money(p.clv.value))
    cols[4].metric(tr("customer360.avg_satisfaction"),
                   "—" if t["avg_satisfaction"] is None else f"{t['avg_satisfaction']:.1f} / 5")


def overview_tab(p: customer360.CustomerProfile) -> None:
    c = p.customer
    left, right = st.columns(2)
    rows = [("industry", c.get("industry")), ("region", c.get("region")), ("channel", c.get("channel_name")),
            ("credit_code", c.get("credit_code"))]
    if not p.private_hidden:
        rows += [("phone", c.get("phone")), ("email", c.get("email")), ("address", c.get("address"))]
    for key, value in rows:
        left.markdown(f"**{tr('customer360.' + key)}:** {plain(value) if value else '—'}")
    facts = [("last_contact", _when(p.last_contact_at) if p.last_contact_at else tr("customer360.never")),
             ("next_follow_up", _when(p.next_follow_up)), ("contract_amount", _money(p.totals["contract_amount"])),
             ("outstanding", _money(p.totals["outstanding"])), ("open_tickets", str(p.totals["open_tickets"]))]
    for key, value in facts:  # one line each, spaced like the left column
        right.markdown(f"**{tr('customer360.' + key)}:** {plain(value)}")
    if not p.private_hidden and c.get("notes"):
        st.markdown(f"**{tr('customer360.notes')}**")
        st.text(c["notes"])


# ---------------------------------------------------------------------------
# contacts


CONTACT_FIELDS = ("name", "title", "phone", "email", "notes", "primary")


def _save_contact(actor: Actor, form: str, customer_id: int, contact_id: int | None) -> None:
    values = {f: forms.value(form, f) for f in CONTACT_FIELDS}
    values["is_primary"] = bool(values.pop("primary"))
    if contact_id is None:
        def work(s):
            return contact_service.create_contact(s, actor, data={"customer_id": customer_id, **values})
    else:
        def work(s):
            return contact_service.update_contact(s, actor, contact_id=contact_id, data=values)
    forms.submit(form, work, fields=CONTACT_FIELDS, success=tr("customer360.saved"))


def _contact_form(actor: Actor, customer_id: int, contact: Any | None) -> None:
    form = f"{K}contact_{contact.id if contact else 'new'}"
    forms.messages(form, _labels(contact=True))

    def key(name: str) -> str:
        return forms.widget_key(form, name)

    with st.form(form):
        st.text_input(tr("customer360.contact_name"), value=contact.name if contact else "", key=key("name"))
        c1, c2, c3 = st.columns(3)
        c1.text_input(tr("customer360.contact_title"), value=(contact.title or "") if contact else "", key=key("title"))
        c2.text_input(tr("customer360.contact_phone"), value=(contact.phone or "") if contact else "", key=key("phone"))
        c3.text_input(tr("customer360.contact_email"), value=(contact.email or "") if contact else "", key=key("email"))
        st.text_area(tr("customer360.contact_notes"), value=(contact.notes or "") if contact else "", key=key("notes"))
        st.checkbox(tr("customer360.contact_primary"), value=bool(contact.is_primary) if contact else False,
                    key=key("primary"))
        st.form_submit_button(tr("common.save"), on_click=_save_contact,
                              args=(actor, form, customer_id, contact.id if contact else None))


def contacts_tab(actor: Actor, p: customer360.CustomerProfile) -> None:
    if p.private_hidden:
        st.info(tr("customer360.private_hidden"))
        return
    df = pd.DataFrame([c.model_dump() for c in p.contacts],
                      columns=["id", "name", "title", "phone", "email", "is_primary", "notes"])
    _table(df, {"name": "customer360.contact_name", "title": "customer360.contact_title",
                "phone": "customer360.contact_phone", "email": "customer360.contact_email",
                "is_primary": "customer360.contact_primary", "notes": "customer360.contact_notes"})
    if not p.can_edit:
        return
    by_id = {c.id: c for c in p.contacts}
    with st.expander(tr("customer360.add_contact"), expanded=forms.outcome(f"{K}contact_new") is not None):
        _contact_form(actor, p.customer["id"], None)
    if by_id:
        contact_names = {i: c.name for i, c in by_id.items()}
        chosen = st.selectbox(tr("customer360.edit_contact"), list(by_id), format_func=contact_names.get,
                              index=None, key=K + "edit_contact", placeholder=choose_placeholder())
        if chosen is not None:
            if (not by_id[chosen].is_primary and st.button(tr("customer360.make_primary"), key=K + "primary")
                    and _call(lambda s: contact_service.set_primary_contact(s, actor, contact_id=chosen))):
                st.rerun()
            _contact_form(actor, p.customer["id"], by_id[chosen])


# ---------------------------------------------------------------------------
# timeline, deals, contracts


def timeline_tab(p: customer360.CustomerProfile) -> None:
    df = p.timeline.copy()
    if not df.empty:  # codes → words in the user's language
        df["kind"] = df["kind"].map(lambda v: tr(f"activities.kinds.{v}"))
        df["status"] = df["status"].map(lambda v: tr(f"activities.state_{v}"))
    _table(df, {"at": "customer360.at", "kind": "customer360.kind", "status": "common.status",
                        "owner_name": "common.owner", "deal_name": "customer360.deal",
                        "outcome": "customer360.outcome", "notes": "common.notes", "next_contact_on": "customer360.next_follow_up"},
           time_cols=("at", "next_contact_on"))
    total = p.timeline.attrs.get("total", len(p.timeline))
    if total > len(p.timeline):
        st.caption(tr("common.showing_of", shown=len(p.timeline), total=total))


def deals_tab(p: customer360.CustomerProfile) -> None:
    _table(p.deals, {"name": "common.name", "stage_name": "customer360.stage", "amount": "customer360.amount",
                     "probability": "customer360.probability", "expected_close": "customer360.expected_close",
                     "owner_name": "common.owner", "closed_on": "common.date"},
           money_cols=("amount",), time_cols=("expected_close", "closed_on"))


def contracts_tab(p: customer360.CustomerProfile) -> None:
    t = p.totals
    cols = st.columns(4)
    cols[0].metric(tr("customer360.contract_amount"), money(t["contract_amount"]))
    cols[1].metric(tr("customer360.collected"), money(t["collected"]))
    cols[2].metric(tr("customer360.due_to_date"), money(t["due_to_date"]))
    cols[3].metric(tr("customer360.outstanding"), money(t["outstanding"]))
    df = p.contracts.copy()
    if not df.empty:
        df["status"] = df["status"].map(lambda v: tr(f"contracts.status.{v}"))
        df["collection_ratio"] = df["collection_ratio"].map(lambda v: "—" if v is None or pd.isna(v) else f"{v:.0%}")
    _table(df, {"number": "customer360.number", "signed_on": "customer360.signed_on",
                "status": "customer360.contract_status", "amount": "customer360.amount",
                "due_to_date": "customer360.due_to_date", "collected": "customer360.collected",
                "collection_ratio": "customer360.collection_ratio", "owner_name": "common.owner"},
           money_cols=("amount", "due_to_date", "collected"), time_cols=("signed_on",))


# ---------------------------------------------------------------------------
# tickets


TICKET_FIELDS = ("title", "category", "priority", "description")


def _open_ticket(actor: Actor, form: str, customer_id: int) -> None:
    data = {"customer_id": customer_id, **{f: forms.value(form, f) for f in TICKET_FIELDS}}
    forms.submit(form, lambda s: ticket_service.open_ticket(s, actor, data=data), fields=TICKET_FIELDS,
                 success=lambda tk: tr("tickets.created_number", id=tk.id))


def _new_ticket_form(actor: Actor, customer_id: int) -> None:
    form = K + "ticket_new"
    forms.messages(form, _labels())
    with st.form(form):
        st.text_input(tr("tickets.ticket_title"), key=forms.widget_key(form, "title"))
        c1, c2 = st.columns(2)
        categories = {v: tr(f"tickets.categories.{v}") for v in TICKET_CATEGORIES}
        priorities = {v: tr(f"tickets.priorities.{v}") for v in TICKET_PRIORITIES}
        with c1:
            choice(st.selectbox, tr("tickets.category"), categories, categories, key=forms.widget_key(form, "category"),
                   default="usage")
        with c2:
            choice(st.selectbox, tr("tickets.priority"), priorities, priorities, key=forms.widget_key(form, "priority"),
                   default="normal")
        st.text_area(tr("tickets.description"), key=forms.widget_key(form, "description"))
        st.form_submit_button(tr("tickets.new"), on_click=_open_ticket, args=(actor, form, customer_id))


def _ticket_actions(actor: Actor, ticket: dict[str, Any]) -> None:
    tid = int(ticket["id"])
    if ticket["status"] in ticket_service.OPEN_STATUSES:
        with st.form(f"{K}resolve_{tid}"):
            resolution = st.text_area(tr("tickets.resolution"))
            satisfaction = st.radio(tr("tickets.satisfaction"), [1, 2, 3, 4, 5], index=None, horizontal=True)
            if st.form_submit_button(tr("tickets.do.resolve")) and _call(
                    lambda s: ticket_service.resolve_ticket(s, actor, ticket_id=tid, resolution=resolution,
                                                            satisfaction=satisfaction), tr("tickets.updated")):
                st.rerun()
        if actor.is_manager or ticket.get("assignee_id") is None:
            users = _assignees(db_key(), data_version(), actor)
            c1, c2 = st.columns([3, 1])
            who = c1.selectbox(tr("tickets.assignee"), list(users), format_func=users.get, key=f"{K}assignee_{tid}",
                               placeholder=choose_placeholder(users))
            if c2.button(tr("tickets.do.assign"), key=f"{K}assign_{tid}") and who is not None and _call(
                    lambda s: ticket_service.assign_ticket(s, actor, ticket_id=tid, assignee_id=who),
                    tr("tickets.updated")):
                st.rerun()
    else:
        c1, c2 = st.columns(2)
        if ticket["status"] == "resolved" and c1.button(tr("tickets.do.close"), key=f"{K}close_{tid}") and _call(
                lambda s: ticket_service.close_ticket(s, actor, ticket_id=tid), tr("tickets.updated")):
            st.rerun()
        if c2.button(tr("tickets.do.reopen"), key=f"{K}reopen_{tid}") and _call(
                lambda s: ticket_service.reopen_ticket(s, actor, ticket_id=tid), tr("tickets.updated")):
            st.rerun()


def tickets_tab(actor: Actor, p: customer360.CustomerProfile) -> None:
    df = p.tickets.copy()
    if not df.empty:
        df["status"] = df["status"].map(lambda v: tr(f"tickets.status.{v}"))
        df["priority"] = df["priority"].map(lambda v: tr(f"tickets.priorities.{v}"))
        df["category"] = df["category"].map(lambda v: tr(f"tickets.categories.{v}"))
    _table(df, {"id": "tickets.pick", "title": "tickets.ticket_title", "category": "tickets.category",
                "priority": "tickets.priority", "status": "common.status", "assignee_name": "tickets.assignee",
                "opened_at": "tickets.opened_at", "age_days": "tickets.age_days",
                "satisfaction": "tickets.satisfaction", "resolution": "tickets.resolution"},
           time_cols=("opened_at",))
    if not p.can_edit:
        return
    with st.expander(tr("tickets.new"), expanded=forms.outcome(K + "ticket_new") is not None
                     or K + "ticket_new__flash" in _ss()):
        _new_ticket_form(actor, p.customer["id"])
    if not p.tickets.empty:
        by_id = {int(r["id"]): r for r in p.tickets.to_dict("records")}
        labels = {i: f"#{i} {r['title']} ({tr('tickets.status.' + r['status'])})" for i, r in by_id.items()}
        chosen = st.selectbox(tr("tickets.pick"), list(labels), index=None, key=K + "ticket", format_func=labels.get,
                              placeholder=choose_placeholder())
        if chosen is not None:
            _ticket_actions(actor, by_id[chosen])


# ---------------------------------------------------------------------------
# purchases, CLV, feedback


def purchases_tab(p: customer360.CustomerProfile) -> None:
    df = p.purchase_history.copy()
    if df.empty:
        st.caption(tr("customer360.nothing"))
        return
    df["product"] = df["product"].map(lambda v: tr("customer360.no_product") if v is None or pd.isna(v) else v)
    _table(df, {"product": "customer360.product", "deals": "customer360.deals_count",
                "amount": "customer360.amount", "last_won_on": "customer360.last_won_on"},
           money_cols=("amount",), time_cols=("last_won_on",))
    chart_df = pd.DataFrame({"product": df["product"].astype(str), "amount": df["amount"].map(float)})
    st.altair_chart(
        alt.Chart(chart_df).mark_bar().encode(
            x=alt.X("amount:Q", title=tr("customer360.amount")),
            y=alt.Y("product:N", sort="-x", title=tr("customer360.product")),
            tooltip=[alt.Tooltip("product:N", title=tr("customer360.product")),
                     alt.Tooltip("amount:Q", title=tr("customer360.amount"), format=",.2f")]),
        width="stretch")


def clv_tab(actor: Actor, p: customer360.CustomerProfile) -> None:
    years = number_field(tr("customer360.clv_lifetime"), K + "lifetime", step=0.5, places=1,
                         value=float(customer360.DEFAULT_LIFETIME_YEARS))
    est = p.clv
    if years is None or not 0.5 <= years <= 30:
        st.caption(f":red[{tr('err.range', min=0.5, max=30)}]")
        years = float(customer360.DEFAULT_LIFETIME_YEARS)
    if years != float(customer360.DEFAULT_LIFETIME_YEARS):
        est = _clv(db_key(), data_version(), actor, p.customer["id"], years)
    st.metric(tr("customer360.clv"), money(est.value, compact=False))
    st.markdown(plain(est.formula(current_locale())))
    st.caption(tr("customer360.clv_explain"))


def feedback_tab(p: customer360.CustomerProfile) -> None:
    df = p.feedback.copy()
    if not df.empty:
        df["source"] = df["source"].map(lambda v: tr(f"customer360.source_{v}"))
    _table(df, {"at": "customer360.at", "source": "customer360.source", "text": "customer360.text",
                "satisfaction": "tickets.satisfaction", "by": "customer360.by"}, time_cols=("at",))


TABS: tuple[str, ...] = ("overview", "contacts", "timeline", "deals", "contracts", "tickets", "purchases", "clv",
                         "feedback")


def tabs() -> dict[str, Any]:
    """The page's tabs; the one the user is on stays after a save or a refused form."""
    return keep_tabs(K + "tab", {code: tr(f"customer360.tab_{code}") for code in TABS})
