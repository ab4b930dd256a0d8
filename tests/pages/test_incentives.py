"""AppTest of the Incentives page as rep and manager in both languages on the demo company:
the payouts shown are the service's; the what-if shows the cost of a draft against the
current scheme; a rep sees only their own payouts and the leaderboard row of their own."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.db import make_engine, read_scope
from services.i18n import format_money
from services.incentives import compute_payouts, list_schemes
from services.models import User
from tests.pages.conftest import open_page, rerun

PAGE = "pages/incentives.py"


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
@pytest.mark.parametrize("role", ["rep", "manager"])
def test_page_runs_in_both_languages(demo_db_url, demo_actors, role, locale):
    at = open_page(PAGE, demo_actors[role], locale=locale)
    assert at.title[0].value == ("Incentives" if locale == "en" else "激励")
    tabs = [t.label for t in at.tabs]
    if role == "rep":
        assert tabs == (["My payouts & badges", "Leaderboards"] if locale == "en" else ["我的提成与徽章", "排行榜"])
    else:
        assert len(tabs) == 5


def test_manager_sees_the_computed_total_and_a_what_if(demo_db_url, demo_actors):
    manager = demo_actors["manager"]
    at = open_page(PAGE, manager)
    eng = make_engine(demo_db_url)
    with read_scope(eng) as s:
        scheme = [r for r in list_schemes(s, manager) if r["kind"] == "commission"][0]
        period = at.text_input(key=f"pay_period_{scheme['id']}").value
        want = compute_payouts(s, manager, scheme=scheme["id"], period=period)["total"]
    total = next(m for m in at.metric if m.label.startswith("Total payouts"))
    assert total.value == format_money(want, "en", compact=False)
    # what-if: double every rate of the monthly scheme → the draft costs about twice as much
    at.text_input(key=f"whatif_tiers_{scheme['id']}").input("0:4%,100000:6%,300000:10%")
    rerun(at)
    labels = {m.label: m.value for m in at.metric}
    assert labels["Current scheme"] != labels["Draft"] and labels["Difference"] != format_money(0, "en", compact=False)
    # a bad draft names the field and the rule
    at.text_input(key=f"whatif_tiers_{scheme['id']}").input("0:4%,0:6%")
    rerun(at)
    assert any("may not overlap" in e.value for e in at.error)


def test_rep_sees_only_own_payouts(demo_db_url, demo_actors):
    rep = demo_actors["rep"]
    at = open_page(PAGE, rep)
    eng = make_engine(demo_db_url)
    with read_scope(eng) as s:
        others = [u.display_name for u in s.scalars(select(User).where(User.role == "rep", User.id != rep.id)).all()]
    text = " ".join(e.label for e in at.expander) + " ".join(str(d.value) for d in at.dataframe)
    assert at.expander, "the rep's payouts are listed"
    assert not any(name in text for name in others)


def test_manager_saves_approves_and_pays_then_the_period_is_locked(org_company):
    from datetime import date
    from decimal import Decimal

    from services.db import session_scope
    from services.incentives import add_scheme
    from services.models import Customer, Deal, IncentiveScheme, Payout

    url, engine, org = org_company
    with session_scope(engine) as s:
        add_scheme(s, org.admin, values={"name": "Monthly", "basis": "won_amount", "mode": "marginal",
                                         "tiers": "0:2%,100000:4%", "period": "month"})
        c = Customer(name="Acme", owner_id=org.rep_n1.id)
        s.add(c)
        s.flush()
        s.add(Deal(name="d", customer_id=c.id, owner_id=org.rep_n1.id, stage_id=org.stages["Won"],
                   amount=Decimal("150000"), opened_on=date(2027, 4, 1), closed_on=date(2027, 4, 20)))
        sid = s.scalar(select(IncentiveScheme.id))
    at = open_page(PAGE, org.manager_n)
    at.text_input(key=f"pay_period_{sid}").input("2027-04")
    rerun(at)
    assert next(m for m in at.metric if m.label.startswith("Total payouts")).value == "¥4,000.00"  # 2,000 + 2,000
    lines = [md.value for md in at.markdown]
    assert any("¥50,000.00 × 4.00% = ¥2,000.00" in line for line in lines), lines  # the marginal slice
    rerun(at, at.button(key="payouts_save"))
    rerun(at, at.button(key="payouts_pay"))
    assert any("not approved" in e.value for e in at.error)
    rerun(at, at.button(key="payouts_approve"))
    rerun(at, at.button(key="payouts_pay"))
    assert any("locked" in s.value for s in at.success)
    with session_scope(engine) as s:
        rows = {p.user_id: (p.amount, p.paid) for p in s.scalars(select(Payout)).all()}
        assert rows == {org.rep_n1.id: (Decimal("4000.00"), True), org.rep_n2.id: (Decimal("0.00"), True)}  # North
    rerun(at, at.button(key="payouts_save"))
    assert any("paid and locked" in e.value for e in at.error)


def test_a_contest_is_added_from_the_page(org_company):
    import json

    from services.db import session_scope
    from services.models import IncentiveScheme

    url, engine, org = org_company
    at = open_page(PAGE, org.admin, scheme_add_kind="contest")
    at.text_input(key="scheme_add_name").input("Most demos")
    rerun(at, at.button(key="scheme_add_btn"))
    assert any("at least one prize" in c.value for c in at.caption)  # under its field, nothing saved
    at.text_input(key="scheme_add_prizes").input("3000,1000")
    rerun(at, at.button(key="scheme_add_btn"))
    with session_scope(engine) as s:
        row = s.scalars(select(IncentiveScheme)).one()
        assert (row.kind, json.loads(row.contest)) == ("contest", {"rule": "most_activities", "prizes": ["3000.00", "1000.00"],
                                                                  "activity_kind": "demo"})
