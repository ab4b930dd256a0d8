"""Drawing for the Contracts page (pages/contracts.py): the contract list and detail
(payment plan with derived status, payments, status change, add / split installments,
record a payment), the collection lists (due this month, overdue, collected this week),
collection by rep, and a contract from a won deal."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import forms
from dashboard.i18n import money, number, percent, tr
from dashboard.state import data_version, db_key, get_engine
from dashboard.text import plain
from dashboard.widgets import data_table, date_field, fit_columns, money_input, number_field, to_money
from services import contracts as svc
from services.access import Actor
from services.db import read_scope
from services.models import CONTRACT_STATUSES
from services.periods import period_for

FLASH = "contract_flash"
PAGE_SIZE = 50
PAY = "contract_pay"
PLAN = "contract_plan"


def _status(s: str) -> str:
    return tr(f"contracts.status.{s}")


def _inst_status(s: str) -> str:
    return tr(f"contracts.installment_status.{s}")


def flash_messages() -> None:
    forms.messages(FLASH, {"status": tr("contracts.status_label")})


def _money_col(values) -> list[str]:
    return [money(v, compact=False) for v in values]


def _installment_table(frame: pd.DataFrame, *, with_contract: bool = True) -> None:
    if frame.empty:
        st.caption(tr("contracts.nothing"))
        return
    data = {}
    if with_contract:
        data[tr("contracts.number")] = frame["number"]
        data[tr("contracts.customer")] = frame["customer_name"]
        data[tr("contracts.owner")] = frame["owner_name"]
    data.update({
        tr("contracts.installment"): frame["installment"], tr("contracts.due_on"): frame["due_on"],
        tr("contracts.amount"): _money_col(frame["amount"]), tr("contracts.paid"): _money_col(frame["paid"]),
        tr("contracts.remaining"): _money_col(frame["remaining"]),
        tr("contracts.status_label"): [_inst_status(s) for s in frame["status"]],
    })
    data_table(pd.DataFrame(data))


# ---------------------------------------------------------------------------
# collection lists


_LISTS = {
    "due": lambda s, actor, owner_id, today: svc.due_installments(
        s, actor, start=period_for("month", today).start, end=period_for("month", today).end, today=today,
        owner_id=owner_id),
    "overdue": lambda s, actor, owner_id, today: svc.overdue_installments(s, actor, today=today, owner_id=owner_id),
    "collected": lambda s, actor, owner_id, today: svc.payments_received(
        s, actor, start=period_for("week", today).start, end=period_for("week", today).end, owner_id=owner_id),
    "by_rep": lambda s, actor, owner_id, today: svc.collection_by_rep(s, actor, today=today, owner_id=owner_id),
}


@st.cache_data(ttl=120, show_spinner=False)
def _list(db: str, name: str, actor: Actor, owner_id: int | None, today: date, version: int) -> pd.DataFrame:
    with read_scope(get_engine()) as s:
        return _LISTS[name](s, actor, owner_id, today)


def load_list(name: str, actor: Actor, owner_id: int | None, today: date) -> pd.DataFrame:
    """One collection list (due this month, overdue, collected this week, by rep), read when
    its tab is open and kept per data version."""
    return _list(db_key(), name, actor, owner_id, today, data_version())


def _total_card(label: str, amount: Any) -> None:
    """The list's total as a card a quarter of the page wide (not stretched across it)."""
    st.columns(4)[0].metric(label, money(amount), border=True)


def _capped(frame: pd.DataFrame, total: int | None = None) -> None:
    """"Showing 200 of 270" under a list the service cut."""
    total = frame.attrs.get("count", len(frame)) if total is None else total
    if total > len(frame):
        st.caption(tr("common.showing_of", shown=number(len(frame)), total=number(total)))


def due_section(actor: Actor, owner_id: int | None, today: date) -> None:
    frame = load_list("due", actor, owner_id, today)
    _total_card(tr("contracts.remaining"), frame.attrs.get("remaining", 0))
    _installment_table(frame)
    _capped(frame)


def overdue_section(actor: Actor, owner_id: int | None, today: date) -> None:
    frame = load_list("overdue", actor, owner_id, today)
    _total_card(tr("contracts.overdue_amount"), frame.attrs.get("remaining", 0))
    _installment_table(frame)
    _capped(frame)


def collected_section(actor: Actor, owner_id: int | None, today: date) -> None:
    frame = load_list("collected", actor, owner_id, today)
    _total_card(tr("contracts.collected_this_week"), frame.attrs.get("total", 0))
    if frame.empty:
        st.caption(tr("contracts.nothing"))
        return
    data_table(pd.DataFrame({
        tr("contracts.received_on"): frame["received_on"], tr("contracts.number"): frame["number"],
        tr("contracts.customer"): frame["customer_name"], tr("contracts.owner"): frame["owner_name"],
        tr("contracts.installment"): frame["installment"], tr("contracts.amount"): _money_col(frame["amount"]),
        tr("contracts.method"): frame["method"],
    }))
    _capped(frame)


def by_rep_section(actor: Actor, owner_id: int | None, today: date) -> None:
    frame = load_list("by_rep", actor, owner_id, today)
    st.caption(tr("contracts.ratio_note"))
    if frame.empty:
        st.caption(tr("contracts.nothing"))
        return
    data_table(pd.DataFrame({
        tr("contracts.owner"): frame["owner_name"], tr("contracts.contracts_count"): frame["contracts"],
        tr("contracts.amount"): _money_col(frame["amount"]), tr("contracts.due_to_date"): _money_col(frame["due_to_date"]),
        tr("contracts.collected"): _money_col(frame["collected"]),
        tr("contracts.overdue_amount"): _money_col(frame["overdue_amount"]),
        tr("contracts.collection_ratio"): [percent(r) for r in frame["collection_ratio"]],
        tr("contracts.ratio_due"): [percent(r) for r in frame["ratio_due"]],
    }))


# ---------------------------------------------------------------------------
# list and detail


@st.cache_data(ttl=120, show_spinner=False)
def _contracts(db: str, actor: Actor, owner_id: int | None, status: str | None, search: str, page: int, today: date,
               version: int) -> tuple[pd.DataFrame, int]:
    with read_scope(get_engine()) as s:
        frame = svc.list_contracts(s, actor, today=today, owner_id=owner_id, status=status, search=search or None,
                                   limit=PAGE_SIZE, offset=page * PAGE_SIZE)
        total = svc.count_contracts(s, actor, owner_id=owner_id, status=status, search=search or None)
    return frame, total


def list_section(actor: Actor, owner_id: int | None, today: date) -> None:
    """Search / status filter / paged list with collected vs due and ratio; pick one for
    its detail."""
    c1, c2, c3 = st.columns([3, 2, 1])
    search = c1.text_input(tr("contracts.search"), key="contract_search")
    statuses = {None: tr("common.all"), **{s: _status(s) for s in CONTRACT_STATUSES}}
    status = c2.selectbox(tr("contracts.status_label"), list(statuses), format_func=statuses.__getitem__,
                          key="contract_status_filter")
    page = int(c3.number_input(tr("common.page"), min_value=1, step=1, key="contract_page")) - 1
    frame, total = _contracts(db_key(), actor, owner_id, status, search, page, today, data_version())
    st.caption(tr("common.showing_of", shown=number(len(frame)), total=number(total)))
    if frame.empty:
        st.caption(tr("contracts.nothing"))
        return
    data_table(pd.DataFrame({
        tr("contracts.number"): frame["number"], tr("contracts.customer"): frame["customer_name"],
        tr("contracts.owner"): frame["owner_name"], tr("contracts.amount"): _money_col(frame["amount"]),
        tr("contracts.signed_on"): frame["signed_on"],
        tr("contracts.status_label"): [_status(s) for s in frame["status"]],
        tr("contracts.due_to_date"): _money_col(frame["due_to_date"]),
        tr("contracts.collected"): _money_col(frame["collected"]),
        tr("contracts.collection_ratio"): [percent(r) for r in frame["collection_ratio"]],
    }), height=260, column_config=fit_columns({
        "contracts.number": 128, "contracts.customer": 150, "contracts.owner": 58, "contracts.amount": 92,
        "contracts.signed_on": 84, "contracts.status_label": 52, "contracts.due_to_date": 92,
        "contracts.collected": 92, "contracts.collection_ratio": 60}))
    labels = {int(r.id): f"{r.number} · {r.customer_name}" for r in frame.itertuples()}
    chosen = st.selectbox(tr("contracts.select_contract"), list(labels), format_func=labels.__getitem__,
                          key="contract_selected")
    if chosen is not None:
        detail(actor, frame[frame["id"] == chosen].iloc[0].to_dict(), today)


@st.cache_data(ttl=120, show_spinner=False)
def _detail(db: str, actor: Actor, contract_id: int, today: date, version: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    with read_scope(get_engine()) as s:
        return (svc.installments(s, actor, contract_id=contract_id, today=today),
                svc.contract_payments(s, actor, contract_id=contract_id))


def _set_status(actor: Actor, contract_id: int, version: int, key: str) -> None:
    status = st.session_state.get(key)
    if not status:
        return
    st.session_state.pop(key, None)
    forms.submit(FLASH, lambda s: svc.set_contract_status(s, actor, contract_id=contract_id, status=status,
                                                          version=version), success=tr("contracts.status_saved"))


def _add_installment(actor: Actor, contract_id: int) -> None:
    ss = st.session_state
    if forms.submit(PLAN, lambda s: svc.add_installment(
            s, actor, contract_id=contract_id, due_on=ss.get(f"{PLAN}_due"), amount=to_money(ss.get(f"{PLAN}_amount")),
            note=ss.get(f"{PLAN}_note")), fields=("due", "amount", "note")).ok:
        forms.flash(FLASH, tr("contracts.installment_added"))


def _split(actor: Actor, contract_id: int) -> None:
    ss = st.session_state
    done = forms.submit(PLAN, lambda s: svc.plan_installments(
        s, actor, contract_id=contract_id, count=ss.get(f"{PLAN}_split_n"), first_due_on=ss.get(f"{PLAN}_split_first"),
        every_months=ss.get(f"{PLAN}_split_every")), fields=("split_n", "split_first", "split_every"))
    if done.ok:
        forms.flash(FLASH, tr("contracts.split_done", n=len(done.value)))


def _record_payment(actor: Actor, contract_id: int, plan_key: str) -> None:
    ss = st.session_state
    done = forms.submit(PAY, lambda s: svc.record_payment(
        s, actor, contract_id=contract_id, plan_id=ss.get(plan_key), received_on=ss.get(f"{PAY}_received"),
        amount=to_money(ss.get(f"{PAY}_amount")), method=ss.get(f"{PAY}_method"), note=ss.get(f"{PAY}_note")),
        fields=("received", "amount", "method", "note"))
    if done.ok:
        ss.pop(plan_key, None)
        forms.flash(FLASH, tr("contracts.payment_saved"))


def detail(actor: Actor, c: dict[str, Any], today: date) -> None:
    """Key figures, status change, payment plan, payments, and the two forms."""
    cid = int(c["id"])
    plan, payments = _detail(db_key(), actor, cid, today, data_version())
    st.subheader(f"{c['number']}")
    st.caption(f"{plain(c['customer_name'])} · {plain(c['owner_name'])} · {c['signed_on']} · {tr('contracts.months', n=c['term_months'])}")
    m = st.columns(4)
    m[0].metric(tr("contracts.amount"), money(c["amount"]), border=True)
    m[1].metric(tr("contracts.collected"), money(c["collected"]), border=True)
    m[2].metric(tr("contracts.collection_ratio"), percent(c["collection_ratio"]), border=True)
    m[3].metric(tr("contracts.overdue_amount"), money(c["overdue_amount"]), border=True)
    allowed = svc.TRANSITIONS.get(c["status"], ())
    s1, s2 = st.columns([3, 1], vertical_alignment="bottom")
    s1.selectbox(f"{tr('contracts.status_label')}: {_status(c['status'])}", list(allowed), format_func=_status,
                 index=None, placeholder=tr("contracts.change_status"), key=f"contract_status_{cid}",
                 disabled=not allowed)
    s2.button(tr("contracts.change_status"), key=f"contract_status_btn_{cid}", disabled=not allowed,
              on_click=_set_status, args=(actor, cid, int(c["version"]), f"contract_status_{cid}"))

    st.subheader(tr("contracts.plan"))
    _installment_table(plan, with_contract=False)
    forms.messages(PLAN, {"count": tr("contracts.split_count"), "first_due_on": tr("contracts.split_first_due"),
                          "every_months": tr("contracts.split_every")},
                   fields=("due_on", "amount", "contract_id"))
    left, right = st.columns(2)
    with left, st.form(f"{PLAN}_form"):
        st.markdown(f"**{tr('contracts.add_installment')}**")
        date_field(tr("contracts.due_on"), f"{PLAN}_due")
        forms.field_error(PLAN, "due_on")
        money_input(tr("contracts.amount"), f"{PLAN}_amount")
        forms.field_error(PLAN, "amount", "contract_id")
        st.text_input(tr("contracts.note"), key=f"{PLAN}_note", max_chars=200)
        st.form_submit_button(tr("contracts.add_installment"), on_click=_add_installment, args=(actor, cid))
    with right, st.form(f"{PLAN}_split_form"):
        st.markdown(f"**{tr('contracts.split')}**")
        number_field(tr("contracts.split_count"), f"{PLAN}_split_n", value=3)
        date_field(tr("contracts.split_first_due"), f"{PLAN}_split_first")
        number_field(tr("contracts.split_every"), f"{PLAN}_split_every", value=1)
        st.form_submit_button(tr("contracts.split"), on_click=_split, args=(actor, cid))

    st.subheader(tr("contracts.payments"))
    if payments.empty:
        st.caption(tr("contracts.nothing"))
    else:
        data_table(pd.DataFrame({
            tr("contracts.received_on"): payments["received_on"], tr("contracts.installment"): payments["installment"],
            tr("contracts.amount"): _money_col(payments["amount"]), tr("contracts.method"): payments["method"],
            tr("contracts.note"): payments["note"],
        }))
    forms.messages(PAY, fields=("plan_id", "contract_id", "received_on", "amount"))
    open_plan = plan[plan["status"] != "paid"] if not plan.empty else plan
    plans = {None: tr("contracts.no_installment"),
             **{int(r.id): f"#{r.installment} · {r.due_on} · {money(r.remaining, compact=False)}"
                for r in open_plan.itertuples()}}
    # the key follows the open installments, so the choice resets when the plan changes
    plan_key = f"{PAY}_plan_{cid}_{'-'.join(str(p) for p in plans if p is not None)}"
    with st.form(f"{PAY}_form"):
        st.markdown(f"**{tr('contracts.record_payment')}**")
        c1, c2, c3 = st.columns(3)
        with c1:
            st.selectbox(tr("contracts.installment"), list(plans), format_func=plans.__getitem__,
                         index=1 if len(plans) > 1 else 0, key=plan_key)
            forms.field_error(PAY, "plan_id", "contract_id")
        with c2:
            date_field(tr("contracts.received_on"), f"{PAY}_received", value=today)
            forms.field_error(PAY, "received_on")
        with c3:
            money_input(tr("contracts.amount"), f"{PAY}_amount")
            forms.field_error(PAY, "amount")
        c1, c2 = st.columns(2)
        c1.text_input(tr("contracts.method"), key=f"{PAY}_method", max_chars=30)
        c2.text_input(tr("contracts.note"), key=f"{PAY}_note", max_chars=200)
        st.form_submit_button(tr("contracts.record_payment"), type="primary", on_click=_record_payment,
                              args=(actor, cid, plan_key))


# ---------------------------------------------------------------------------
# new contract from a won deal


NEW = "contract_new"


def _create(actor: Actor) -> None:
    ss = st.session_state
    forms.submit(NEW, lambda s: svc.create_contract_from_deal(
        s, actor, deal_id=ss.get(f"{NEW}_deal"), amount=to_money(ss.get(f"{NEW}_amount")),
        signed_on=ss.get(f"{NEW}_signed"), start_on=ss.get(f"{NEW}_start"), term_months=ss.get(f"{NEW}_term")),
        fields=("deal", "amount", "signed", "start", "term"),
        success=lambda c: tr("contracts.created", number=c.number))


@st.cache_data(ttl=120, show_spinner=False)
def _won_deals(db: str, actor: Actor, version: int) -> list[tuple[int, str]]:
    with read_scope(get_engine()) as s:
        return svc.won_deals_without_contract(s, actor)


def new_section(actor: Actor, today: date) -> None:
    forms.messages(NEW, fields=("deal_id", "amount", "signed_on", "start_on", "term_months"))
    deals = dict(_won_deals(db_key(), actor, data_version()))
    if not deals:
        st.info(tr("contracts.no_won_deals"))
        return
    with st.form("contract_new_form"):
        st.selectbox(tr("contracts.deal"), list(deals), format_func=deals.__getitem__, key=f"{NEW}_deal")
        forms.field_error(NEW, "deal_id")
        c1, c2, c3, c4 = st.columns(4)
        with c1:
            money_input(tr("contracts.amount"), f"{NEW}_amount")
            forms.field_error(NEW, "amount")
        with c2:
            date_field(tr("contracts.signed_on"), f"{NEW}_signed", value=today)
            forms.field_error(NEW, "signed_on")
        with c3:
            date_field(tr("contracts.start_on"), f"{NEW}_start")
            forms.field_error(NEW, "start_on")
        with c4:
            number_field(tr("contracts.term_months"), f"{NEW}_term", value=12)
            forms.field_error(NEW, "term_months")
        st.form_submit_button(tr("contracts.new_from_deal"), type="primary", on_click=_create, args=(actor,))
