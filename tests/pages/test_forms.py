"""AppTest of what every form and widget shares (dashboard.forms, dashboard.widgets): a
stored choice survives a language switch, refused numbers and dates come back as the
service's message in the user's language with stale messages gone, a form that did nothing
says why, and every default date is the company's today."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import streamlit as st
from sqlalchemy import select

from services import settings
from services.contracts import create_contract_from_deal
from services.db import make_engine, read_scope, session_scope
from services.i18n import t
from services.models import Activity, Contract, Customer, Deal, Stage
from services.periods import local_today
from tests.pages.conftest import by_label, open_page, rerun, shown_text, unescape

ACTIVITIES = "pages/activities.py"


def _in(lang: str, actor):
    return dataclasses.replace(actor, locale=lang)


def test_a_stored_choice_survives_switching_the_language_twice(small_company):
    """The forgotten-customers bucket is kept as 30 (not as its label) through English →
    中文 → English; before, the label came back and the service refused it."""
    rep = small_company[1]["rep"]
    at = open_page(ACTIVITIES, rep, act_tab="forgotten")
    at.radio(key="act_forgotten_bucket__en").set_value(30)
    rerun(at)
    for lang in ("zh_CN", "en", "zh_CN"):
        at.session_state["locale"] = lang
        rerun(at)  # no ValidationError "bucket: must be one of …"
        assert at.radio(key=f"act_forgotten_bucket__{lang}").value == 30
        assert at.session_state["act_forgotten_bucket"] == 30
    # the period picker of the Overview keeps its code the same way
    ov = open_page("pages/overview.py", rep)
    ov.radio(key="overview_kind__en").set_value("quarter")
    rerun(ov)
    ov.session_state["locale"] = "zh_CN"
    rerun(ov)
    assert ov.radio(key="overview_kind__zh_CN").value == "quarter"


def _pick_customer(at, suffix=" 1"):
    customer = by_label(at.selectbox, t("activities.customer", at.session_state["locale"]))
    customer.select(next(o for o in customer.options if o.endswith(suffix))).run()


def test_out_of_range_number_gets_the_services_message_and_stale_messages_go(small_company):
    rep = _in("zh_CN", small_company[1]["rep"])
    at = open_page(ACTIVITIES, rep, locale="zh_CN")
    _pick_customer(at)
    next_day = local_today() + timedelta(days=3)
    at.date_input(key="act_log_next_contact_on").set_value(next_day)
    rerun(at, next(b for b in at.button if b.label == t("activities.submit", "zh_CN")))
    assert t("activities.saved", "zh_CN") in [s.value for s in at.success]
    # a blocked submit: the old "saved" goes, the field's rule shows in Chinese under it
    at.number_input(key="act_log_duration").set_value(-30)
    at.date_input(key="act_log_next_contact_on").set_value(next_day)
    rerun(at, next(b for b in at.button if b.label == t("activities.submit", "zh_CN")))
    assert not at.success
    assert f":red[{t('err.range', 'zh_CN', min=0, max=1440)}]" in [c.value for c in at.caption]
    # fixed and saved: the message under the field is gone
    at.number_input(key="act_log_duration").set_value(30)
    rerun(at, next(b for b in at.button if b.label == t("activities.submit", "zh_CN")))
    assert t("activities.saved", "zh_CN") in [s.value for s in at.success]
    assert not any(c.value.startswith(":red[") for c in at.caption)


def test_a_typed_old_date_is_refused_with_a_message_not_cleared(small_company):
    url, actors = small_company
    at = open_page(ACTIVITIES, actors["rep"])
    _pick_customer(at, " 2")
    at.date_input(key="act_log_day").set_value(date(1900, 1, 1))
    at.date_input(key="act_log_next_contact_on").set_value(local_today() + timedelta(days=3))
    rerun(at, next(b for b in at.button if b.label == "Save activity"))
    assert f":red[{t('err.min', 'en', min='2000-01-01')}]" in [unescape(c.value) for c in at.caption]
    assert at.date_input(key="act_log_day").value == date(1900, 1, 1)  # the typing stays
    with read_scope(make_engine(url)) as s:
        assert s.scalar(select(Activity.id).where(Activity.done_at < datetime(2000, 1, 1, tzinfo=UTC))) is None


def _contract(url, rep) -> int:
    eng = make_engine(url)
    with session_scope(eng) as s:
        deal_id = s.scalars(select(Deal.id).join(Stage, Stage.id == Deal.stage_id)
                            .where(Stage.kind == "won", Deal.owner_id == rep.id,
                                   ~select(Contract.id).where(Contract.deal_id == Deal.id).exists())
                            .order_by(Deal.id.desc())).first()
        today = local_today(settings.get(s, "timezone"))
        existing = s.scalar(select(Deal.amount).where(Deal.id == deal_id))
        contract = create_contract_from_deal(s, rep, deal_id=deal_id, amount=existing, signed_on=today - timedelta(days=1),
                                             term_months=12)
    st.cache_data.clear()  # written around the app: its cached lists would not know
    return contract.id


def test_splitting_with_nothing_left_says_so(small_company):
    url, actors = small_company
    rep = actors["rep"]
    cid = _contract(url, rep)
    at = open_page("pages/contracts.py", rep)
    at.selectbox(key="contract_selected").set_value(cid)
    rerun(at)
    # split the whole amount, then ask again with no first date
    at.date_input(key="contract_plan_split_first").set_value(local_today() + timedelta(days=30))
    rerun(at, next(b for b in at.button if b.label == t("contracts.split", "en")))
    at.number_input(key="contract_plan_split_n").set_value(2)
    rerun(at, next(b for b in at.button if b.label == t("contracts.split", "en")))
    text = "\n".join(unescape(e.value) for e in at.error)
    assert t("contracts.err.nothing_to_split", "en") in text
    assert f"**{t('contracts.split_first_due', 'en')}**: {t('err.required', 'en')}" in text


def test_default_dates_are_the_companys_today(small_company):
    """With the company on the other side of the date line from UTC, the payment form, the
    new contract form and the won dialog default to the company's date."""
    url, actors = small_company
    eng = make_engine(url)
    utc_now = datetime.now(UTC)
    zone = "Pacific/Kiritimati" if utc_now.hour >= 10 else "Etc/GMT+12"  # UTC+14 / UTC−12
    with session_scope(eng) as s:
        saved = settings.get(s, "timezone")
        settings.put(s, "timezone", zone)
    try:
        company_day = local_today(zone)
        assert company_day != utc_now.date()
        rep = actors["rep"]
        cid = _contract(url, rep)
        at = open_page("pages/contracts.py", rep)
        assert at.date_input(key="contract_new_signed").value == company_day
        at.selectbox(key="contract_selected").set_value(cid)
        rerun(at)
        assert at.date_input(key="contract_pay_received").value == company_day
        deals = open_page("pages/deals.py", rep)
        with read_scope(eng) as s:
            deal_id = s.scalars(select(Deal.id).join(Stage, Stage.id == Deal.stage_id).join(
                Customer, Customer.id == Deal.customer_id).where(Stage.name == "Proposal", Deal.owner_id == rep.id)
            ).first()
        deals.selectbox(key=f"deal_move_{deal_id}").select("Won")
        rerun(deals, deals.button(key=f"deal_move_{deal_id}_btn"))
        assert deals.date_input(key="deal_won_closed_on").value == company_day
    finally:
        with session_scope(eng) as s:
            settings.put(s, "timezone", saved)


def test_ticket_form_confirms_clears_and_a_repeat_is_refused(org_company):
    from services.customers import norm_columns
    from services.models import ServiceTicket

    url, eng, org = org_company
    with session_scope(eng) as s:
        c = Customer(owner_id=org.rep_n1.id, **{"name": "Ticket Co"}, **norm_columns({"name": "Ticket Co"}))
        s.add(c)
        s.flush()
        cid = c.id
    at = open_page("pages/customer_detail.py", org.rep_n1, customer_id=cid)
    title = at.text_input(key="c360_ticket_new_title")
    title.input("Screen flickers")
    rerun(at, next(b for b in at.get("form_submit_button") if b.form_id == "c360_ticket_new"))
    with read_scope(eng) as s:
        tid = s.scalar(select(ServiceTicket.id))
    assert f"Ticket #{tid} opened" in shown_text(at)
    assert at.text_input(key="c360_ticket_new_title").value == ""  # cleared: a second click opens nothing
    at.text_input(key="c360_ticket_new_title").input("screen flickers")  # the same, typed again at once
    rerun(at, next(b for b in at.get("form_submit_button") if b.form_id == "c360_ticket_new"))
    assert t("tickets.err.just_opened", "en", id=tid) in shown_text(at)
    with read_scope(eng) as s:
        assert len(s.scalars(select(ServiceTicket.id)).all()) == 1


def test_the_chinese_ui_shows_no_english_widget_strings(small_company):
    """Every empty picker has a Chinese placeholder (Streamlit's own is "Choose an option"),
    AG Grid gets its strings in Chinese ("No Rows To Show" otherwise) and the uploader's
    label names every accepted kind of file."""
    from dashboard.grid import ag_locale_text, grid_options

    admin = _in("zh_CN", small_company[1]["admin"])
    for page in ("pages/activities.py", "pages/deals.py", "pages/contracts.py", "pages/admin.py",
                 "pages/customers.py", "pages/import_export.py"):
        at = open_page(page, admin, locale="zh_CN")
        for box in at.selectbox:
            if not box.proto.HasField("default"):  # nothing chosen: the placeholder shows
                assert box.proto.placeholder.strip(), f"{page}: {box.label} would show 'Choose an option'"
    opts = grid_options([{"field": "name", "headerName": "名称"}], locale="zh_CN")
    assert opts["localeText"]["noRowsToShow"] == "没有可显示的行" == ag_locale_text("zh_CN")["noRowsToShow"]
    assert "TXT" in t("importing.upload", "zh_CN") and "TXT" in t("importing.upload", "en")


def test_every_empty_picker_in_the_code_has_a_placeholder_in_the_users_language():
    """Streamlit's own placeholders ("Choose an option", "Choose options") are English: every
    multiselect, and every select box that can start empty, names its own (``choice`` adds
    it for the select boxes it draws)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    missing = []
    for path in [*sorted((root / "dashboard").glob("*.py")), *sorted((root / "pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("multiselect", "selectbox")):
                continue
            kws = {k.arg: k.value for k in node.keywords}
            starts_empty = node.func.attr == "multiselect" or (
                isinstance(kws.get("index"), ast.Constant) and kws["index"].value is None)
            if starts_empty and "placeholder" not in kws:
                missing.append(f"{path.relative_to(root)}:{node.lineno} {node.func.attr}")
    assert not missing, missing
