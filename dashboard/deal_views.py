"""Drawing for the Deals page (pages/deals.py): the pipeline board, the won / lost dialog
(with the offer to create the contract), the deal detail with edit, move, reopen and
history, and the new-deal form.

Moving to an open stage happens at once; moving to a won or lost stage stores a pending
move in session state and opens a dialog that asks for the final amount and close date or
the lost reason. A won deal continues in the same dialog with "create the contract now".
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import forms
from dashboard.activity_views import customer_picker, members
from dashboard.i18n import choose_placeholder, money, number, tr
from dashboard.runner import run_service, show_outcome
from dashboard.state import data_version, db_key, get_engine
from dashboard.text import plain
from dashboard.widgets import company_tz, data_table, date_field, money_input, number_field, to_money
from services import contracts as contract_svc
from services import deals as svc
from services.access import Actor
from services.db import read_scope

BOARD_CARDS = 12
PENDING = "deal_pending"
FLASH = "deal_flash"
NEW = "deal_new"
NEW_FIELDS = ("name", "product", "amount", "stage", "probability", "expected_close", "channel", "next_step", "owner")
EDIT_FIELDS = ("name", "amount", "probability", "expected_close", "product", "channel", "next_step", "owner")
LIST_ROWS = 15  # rows of the deals list visible without scrolling


@st.cache_data(ttl=300, show_spinner=False)
def _options(db: str, version: int) -> svc.DealOptions:
    with read_scope(get_engine()) as s:
        return svc.deal_options(s)


def options() -> svc.DealOptions:
    return _options(db_key(), data_version())


def stage_labels(opts: svc.DealOptions) -> dict[int, str]:
    labels = {sid: name for sid, name, _ in opts.open_stages}
    labels.update({sid: name for sid, name, _ in opts.closed_stages})
    return labels


@st.cache_data(ttl=120, show_spinner=False)
def _board(db: str, actor: Actor, owner_id: int | None, today: date, version: int) -> svc.Board:
    with read_scope(get_engine()) as s:
        return svc.pipeline_board(s, actor, owner_id=owner_id, today=today, cards_per_stage=BOARD_CARDS)


# ---------------------------------------------------------------------------
# moving


def _request_move(actor: Actor, deal_id: int, version: int, select_key: str, name: str,
                  amount: Any = None) -> None:
    """Button callback: open stages move at once; won / lost open the dialog (the final
    amount starts at the deal's amount)."""
    stage_id = st.session_state.get(select_key)
    if stage_id is None:
        return
    opts = options()
    kinds = {sid: "open" for sid, _, _ in opts.open_stages} | {sid: k for sid, _, k in opts.closed_stages}
    if kinds.get(stage_id) in ("won", "lost"):
        st.session_state[PENDING] = {"deal_id": deal_id, "version": version, "stage_id": stage_id,
                                     "kind": kinds[stage_id], "name": name, "step": kinds[stage_id],
                                     "amount": amount}
        return
    st.session_state.pop(select_key, None)
    forms.submit(FLASH, lambda s: svc.move_deal(s, actor, deal_id=deal_id, stage_id=stage_id, version=version),
                 success=tr("deals.moved", stage=stage_labels(opts).get(stage_id, "")))


def move_control(actor: Actor, deal_id: int, current_stage: int, version: int, name: str, key: str,
                 amount: Any = None) -> None:
    """A "move to" select and button for one deal."""
    opts = options()
    labels = stage_labels(opts)
    targets = [sid for sid in labels if sid != current_stage]
    # one above the other: side by side in a board column of 1280 px both were cut ("Move t", "M…")
    st.selectbox(tr("deals.move_to"), targets, format_func=labels.__getitem__, index=None, key=key,
                 label_visibility="collapsed", placeholder=tr("deals.move_to"))
    st.button(tr("deals.move"), key=f"{key}_btn", on_click=_request_move,
              args=(actor, deal_id, version, key, name, amount), width="stretch")


def _close_dialog() -> None:
    st.session_state.pop(PENDING, None)


def _amount_value(value: Any) -> Any:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _won_step(actor: Actor, p: dict[str, Any]) -> None:
    labels = {"final_amount": tr("deals.final_amount"), "amount": tr("deals.final_amount"),
              "closed_on": tr("deals.closed_on")}
    with st.form("deal_won_form"):
        st.markdown(f"**{plain(p['name'])}**")
        amount = money_input(tr("deals.final_amount"), "deal_won_amount", value=_amount_value(p.get("amount")))
        closed_on = date_field(tr("deals.closed_on"), "deal_won_closed_on", value=p.get("today"))
        if p.get("outcome"):
            show_outcome(p["outcome"], labels)
        if st.form_submit_button(tr("deals.confirm"), type="primary"):
            done = run_service(lambda s: svc.move_deal(
                s, actor, deal_id=p["deal_id"], stage_id=p["stage_id"], version=p["version"],
                final_amount=amount, closed_on=closed_on))
            if not done.ok:
                p["outcome"] = done
                st.rerun()
            st.session_state[PENDING] = {**p, "step": "contract", "outcome": None, "amount": done.value.deal.amount,
                                         "closed_on": closed_on, "hint": done.value.hint}
            st.rerun()


def _lost_step(actor: Actor, p: dict[str, Any]) -> None:
    reasons = dict(options().lost_reasons)
    with st.form("deal_lost_form"):
        st.markdown(f"**{plain(p['name'])}**")
        reason = st.selectbox(tr("deals.lost_reason"), list(reasons), format_func=reasons.__getitem__, index=None,
                              key="deal_lost_reason", placeholder=choose_placeholder(reasons))
        note = st.text_input(tr("deals.lost_note"), max_chars=300, key="deal_lost_note")
        closed_on = date_field(tr("deals.closed_on"), "deal_lost_closed_on", value=p.get("today"))
        if p.get("outcome"):
            show_outcome(p["outcome"], {"lost_reason_id": tr("deals.lost_reason"), "closed_on": tr("deals.closed_on")})
        if st.form_submit_button(tr("deals.confirm"), type="primary"):
            done = run_service(lambda s: svc.move_deal(
                s, actor, deal_id=p["deal_id"], stage_id=p["stage_id"], version=p["version"],
                lost_reason_id=reason, lost_note=note, closed_on=closed_on))
            if not done.ok:
                p["outcome"] = done
                st.rerun()
            _close_dialog()
            forms.flash(FLASH, tr("deals.moved", stage=stage_labels(options()).get(p["stage_id"], "")))
            st.rerun()


def _contract_step(actor: Actor, p: dict[str, Any]) -> None:
    st.success(p.get("hint") or tr("deals.hint_create_contract"))
    with st.form("deal_contract_form"):
        amount = money_input(tr("contracts.amount"), "deal_contract_amount", value=_amount_value(p.get("amount")))
        signed_on = date_field(tr("contracts.signed_on"), "deal_contract_signed", value=p.get("closed_on"))
        term = number_field(tr("contracts.term_months"), "deal_contract_term", value=12)
        if p.get("outcome"):
            show_outcome(p["outcome"], {"amount": tr("contracts.amount"), "signed_on": tr("contracts.signed_on"),
                                        "term_months": tr("contracts.term_months")})
        create = st.form_submit_button(tr("deals.create_contract"), type="primary")
        later = st.form_submit_button(tr("common.cancel"))
    if later:
        _close_dialog()
        forms.flash(FLASH, tr("deals.moved", stage=stage_labels(options()).get(p["stage_id"], "")))
        st.rerun()
    if create:
        done = run_service(lambda s: contract_svc.create_contract_from_deal(
            s, actor, deal_id=p["deal_id"], amount=amount, signed_on=signed_on, term_months=term))
        if not done.ok:
            p["outcome"] = done
            st.rerun()
        _close_dialog()
        forms.flash(FLASH, tr("contracts.created", number=done.value.number))
        st.rerun()


def pending_dialog(actor: Actor, today: date) -> None:
    """Open the won / lost dialog while a move to a closed stage is pending (dates default
    to the company's today)."""
    p = st.session_state.get(PENDING)
    if not p:
        return
    p.setdefault("today", today)
    title = {"won": tr("deals.won_title"), "lost": tr("deals.lost_title"),
             "contract": tr("deals.create_contract")}[p["step"]]
    body = {"won": _won_step, "lost": _lost_step, "contract": _contract_step}[p["step"]]
    st.dialog(title, on_dismiss=_close_dialog)(body)(actor, p)


def flash_messages() -> None:
    forms.messages(FLASH, {"stage_id": tr("deals.stage")})


# ---------------------------------------------------------------------------
# board


def _card(actor: Actor, card: Any) -> None:
    with st.container(border=True, key=f"deal_card_{card.id}"):
        mark = ":red[●] " if card.stalled else ""
        st.markdown(f"{mark}**{plain(card.customer_name or '—')}**  \n{plain(card.name)}")
        st.caption(" · ".join([money(card.amount), plain(card.owner_name),
                               tr("deals.days_in_stage", days=card.days_in_stage)]))
        if card.stalled:
            st.caption(f":red[{tr('deals.stalled')}: {tr(f'deals.stalled_{card.stall_reason}')}]")
        move_control(actor, int(card.id), int(card.stage_id), int(card.version), card.name, f"deal_move_{card.id}",
                     card.amount)


def board_section(actor: Actor, owner_id: int | None, today: date) -> None:
    """One column per open stage: name, count and sum, then the largest deals as cards."""
    board = _board(db_key(), actor, owner_id, today, data_version())
    if not board.columns:
        st.info(tr("deals.no_stages"))
        return
    st.caption(f"{tr('deals.total')}: {tr('deals.count_sum', count=number(board.total_count), amount=money(board.total_amount))}")
    for col, bc in zip(st.columns(len(board.columns)), board.columns, strict=True):
        with col:
            st.markdown(f"**{plain(bc.name)}** · {bc.probability}%")
            st.caption(tr("deals.count_sum", count=number(bc.count), amount=money(bc.amount)) +
                       (f" · :red[{bc.stalled} {tr('deals.stalled')}]" if bc.stalled else ""))
            for card in bc.cards.itertuples(index=False):
                _card(actor, card)
            if bc.count > len(bc.cards):
                st.caption(tr("deals.more_cards", n=bc.count - len(bc.cards)))


# ---------------------------------------------------------------------------
# list and detail


@st.cache_data(ttl=120, show_spinner=False)
def _deals(db: str, actor: Actor, owner_id: int | None, status: str | None, search: str, version: int) -> pd.DataFrame:
    with read_scope(get_engine()) as s:
        return svc.list_deals(s, actor, owner_id=owner_id, status=status, search=search or None, limit=100)


def _submit_edit(actor: Actor, deal: dict[str, Any], prefix: str) -> None:
    ss = st.session_state
    fields = {"name": "name", "amount": "amount", "probability": "probability", "expected_close": "expected_close",
              "product": "product_id", "channel": "channel_id", "next_step": "next_step", "owner": "owner_id"}
    changes = {}
    for key, field in fields.items():
        if f"{prefix}_{key}" not in ss:
            continue
        value = ss[f"{prefix}_{key}"]
        if key == "amount":
            value = to_money(value)
        if value != deal.get(field) and not (value in ("", None) and deal.get(field) in ("", None)):
            changes[field] = value
    if not changes:
        return
    forms.submit(prefix, lambda s: svc.update_deal(s, actor, deal_id=deal["id"], version=deal["version"],
                                                   changes=changes), fields=EDIT_FIELDS)
    if forms.outcome(prefix) is None:
        forms.flash(FLASH, tr("deals.saved"))


def _edit_form(actor: Actor, deal: dict[str, Any]) -> None:
    prefix = f"deal_edit_{deal['id']}_{deal['version']}"
    opts = options()
    products = {None: tr("common.none"), **dict(opts.products)}
    channels = {None: tr("common.none"), **dict(opts.channels)}
    closed = deal["stage_kind"] != "open"
    forms.messages(prefix, fields=("name", "amount", "probability", "expected_close", "owner_id"))
    with st.form(f"{prefix}_form"):
        st.text_input(tr("deals.name"), value=deal["name"], key=f"{prefix}_name", max_chars=200)
        forms.field_error(prefix, "name")
        c1, c2, c3 = st.columns(3)
        with c1:
            money_input(tr("deals.amount"), f"{prefix}_amount", value=deal["amount"], disabled=closed)
            forms.field_error(prefix, "amount")
        with c2:
            number_field(tr("deals.probability"), f"{prefix}_probability", step=5, disabled=closed,
                         value=int(deal["probability"]))
            forms.field_error(prefix, "probability")
        with c3:
            date_field(tr("deals.expected_close"), f"{prefix}_expected_close", value=deal["expected_close"],
                       disabled=closed)
            forms.field_error(prefix, "expected_close")
        c1, c2, c3 = st.columns(3)
        c1.selectbox(tr("deals.product"), list(products), format_func=products.__getitem__,
                     index=list(products).index(deal["product_id"]) if deal["product_id"] in products else 0,
                     key=f"{prefix}_product")
        c2.selectbox(tr("deals.channel"), list(channels), format_func=channels.__getitem__,
                     index=list(channels).index(deal["channel_id"]) if deal["channel_id"] in channels else 0,
                     key=f"{prefix}_channel")
        if actor.is_manager and not closed:
            people = dict(members(actor))
            people.setdefault(deal["owner_id"], deal["owner_name"])
            c3.selectbox(tr("deals.owner"), list(people), format_func=people.__getitem__,
                         index=list(people).index(deal["owner_id"]), key=f"{prefix}_owner")
            with c3:
                forms.field_error(prefix, "owner_id")
        st.text_input(tr("deals.next_step"), value=deal["next_step"] or "", key=f"{prefix}_next_step", max_chars=300)
        st.form_submit_button(tr("common.save"), type="primary", on_click=_submit_edit, args=(actor, deal, prefix))


def _reopen(actor: Actor, deal_id: int, version: int) -> None:
    forms.submit(FLASH, lambda s: svc.reopen_deal(s, actor, deal_id=deal_id, version=version),
                 success=tr("deals.reopened"))


@st.cache_data(ttl=120, show_spinner=False)
def _full_deal(db: str, actor: Actor, deal_id: int, version: int) -> tuple[dict[str, Any], pd.DataFrame]:
    with read_scope(get_engine()) as s:
        deal = svc.get_deal(s, actor, deal_id=deal_id).model_dump()
        hist = svc.deal_history(s, actor, deal_id=deal_id)
    return deal, hist


def detail_section(actor: Actor, owner_id: int | None) -> None:
    """Search and pick a deal; then edit it, move it (or reopen it) and read its history."""
    c1, c2 = st.columns([3, 1])
    search = c1.text_input(tr("deals.search"), key="deal_list_search")
    statuses = {None: tr("common.all"), "open": tr("deals.status_open"), "won": tr("deals.status_won"),
                "lost": tr("deals.status_lost")}
    status = c2.selectbox(tr("common.status"), list(statuses), format_func=statuses.__getitem__, index=1,
                          key="deal_list_status")
    frame = _deals(db_key(), actor, owner_id, status, search, data_version())
    if frame.empty:
        st.caption(tr("common.nothing_here"))
        return
    data_table(pd.DataFrame({
        tr("deals.name"): frame["name"], tr("deals.customer"): frame["customer_name"],
        tr("deals.stage"): frame["stage_name"], tr("deals.amount"): [money(a) for a in frame["amount"]],
        tr("deals.probability"): frame["probability"], tr("deals.expected_close"): frame["expected_close"],
        tr("deals.owner"): frame["owner_name"],
    }), height=38 + 35 * min(len(frame), LIST_ROWS))
    total = frame.attrs.get("total", len(frame))
    if total > len(frame):
        st.caption(tr("common.showing_of", shown=number(len(frame)), total=number(total)))
    labels = {int(r.id): f"{r.customer_name or '—'} · {r.name} ({r.stage_name})" for r in frame.itertuples()}
    deal_id = st.selectbox(tr("deals.select_deal"), list(labels), format_func=labels.__getitem__, key="deal_selected")
    if deal_id is None:
        return
    row = frame[frame["id"] == deal_id].iloc[0]
    deal, hist = _full_deal(db_key(), actor, int(deal_id), int(row["version"]))
    deal.update(stage_kind=row["stage_kind"], owner_name=row["owner_name"])
    st.subheader(plain(deal["name"]))
    st.caption(" · ".join([plain(row["customer_name"] or "—"), plain(row["stage_name"]), money(deal["amount"]),
                           plain(row["owner_name"])]))
    if deal["stage_kind"] == "open":
        move_control(actor, deal["id"], deal["stage_id"], deal["version"], deal["name"], f"deal_detail_move_{deal_id}",
                     deal["amount"])
    else:
        st.button(tr("deals.reopen"), key=f"deal_reopen_{deal_id}", on_click=_reopen,
                  args=(actor, deal["id"], deal["version"]))
    _edit_form(actor, deal)
    st.subheader(tr("deals.history"))
    if hist.empty:
        st.caption(tr("common.nothing_here"))
    else:
        tz = company_tz()
        data_table(pd.DataFrame({
            tr("deals.history_at"): [pd.Timestamp(a).tz_convert(tz).strftime("%Y-%m-%d %H:%M") if pd.Timestamp(a).tzinfo
                                     else pd.Timestamp(a).strftime("%Y-%m-%d %H:%M") for a in hist["changed_at"]],
            tr("deals.history_field"): [tr(f"deals.history_fields.{f}") for f in hist["field"]],
            tr("deals.history_from"): hist["old_label"], tr("deals.history_to"): hist["new_label"],
            tr("deals.history_by"): hist["changed_by"],
        }))


# ---------------------------------------------------------------------------
# new deal


def _submit_new(actor: Actor, customer_id: int) -> None:
    ss = st.session_state
    data = {
        "name": ss.get(f"{NEW}_name"), "customer_id": customer_id, "product_id": ss.get(f"{NEW}_product"),
        "amount": to_money(ss.get(f"{NEW}_amount")), "stage_id": ss.get(f"{NEW}_stage"),
        "expected_close": ss.get(f"{NEW}_expected_close"), "channel_id": ss.get(f"{NEW}_channel"),
        "next_step": ss.get(f"{NEW}_next_step"), "owner_id": ss.get(f"{NEW}_owner") or actor.id,
    }
    if ss.get(f"{NEW}_probability") is not None:
        data["probability"] = ss[f"{NEW}_probability"]
    forms.submit(NEW, lambda s: svc.create_deal(s, actor, data=data), fields=NEW_FIELDS,
                 success=tr("deals.created"))


def new_deal_form(actor: Actor) -> None:
    """Customer, name, product, amount, stage (probability defaults from it), expected
    close, channel, next step and — for managers — owner."""
    customer_id = customer_picker(actor, f"{NEW}_customer", label=tr("deals.customer"))
    if customer_id is None:
        return
    opts = options()
    if not opts.open_stages:
        st.info(tr("deals.no_stages"))
        return
    stages = {sid: f"{name} ({prob}%)" for sid, name, prob in opts.open_stages}
    products = {None: tr("common.none"), **dict(opts.products)}
    channels = {None: tr("common.none"), **dict(opts.channels)}
    forms.messages(NEW, fields=("name", "customer_id", "stage_id", "amount", "probability", "expected_close",
                                "owner_id"))
    with st.form(f"{NEW}_form"):
        st.text_input(tr("deals.name"), key=f"{NEW}_name", max_chars=200)
        forms.field_error(NEW, "name", "customer_id")
        c1, c2, c3 = st.columns(3)
        with c1:
            st.selectbox(tr("deals.stage"), list(stages), format_func=stages.__getitem__, key=f"{NEW}_stage")
            forms.field_error(NEW, "stage_id")
        with c2:
            money_input(tr("deals.amount"), f"{NEW}_amount")
            forms.field_error(NEW, "amount")
        with c3:
            number_field(tr("deals.probability"), f"{NEW}_probability", step=5, help=tr("deals.probability_default"))
            forms.field_error(NEW, "probability")
        c1, c2, c3 = st.columns(3)
        with c1:
            date_field(tr("deals.expected_close"), f"{NEW}_expected_close")
            forms.field_error(NEW, "expected_close")
        c2.selectbox(tr("deals.product"), list(products), format_func=products.__getitem__, key=f"{NEW}_product")
        c3.selectbox(tr("deals.channel"), list(channels), format_func=channels.__getitem__, key=f"{NEW}_channel")
        if actor.is_manager:
            people = dict(members(actor))
            st.selectbox(tr("deals.owner"), list(people), format_func=people.__getitem__,
                         index=list(people).index(actor.id) if actor.id in people else 0, key=f"{NEW}_owner")
            forms.field_error(NEW, "owner_id")
        st.text_input(tr("deals.next_step"), key=f"{NEW}_next_step", max_chars=300)
        st.form_submit_button(tr("deals.new"), type="primary", on_click=_submit_new, args=(actor, customer_id))
