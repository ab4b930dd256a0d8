"""AppTest of the Deals page as rep and manager: the board shows the service's counts and
sums, a move from a card persists, won goes through the dialog (final amount, close date,
then the contract offer), lost requires a reason, the new-deal form keeps input on error."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from services.db import make_engine, read_scope, session_scope
from services.deals import pipeline_board
from services.i18n import format_money, format_number, t
from services.models import Contract, Deal, DealHistory, Stage
from tests.pages.conftest import open_page, rerun

PAGE = "pages/deals.py"


def stage_id(eng, name):
    with read_scope(eng) as s:
        return s.scalar(select(Stage.id).where(Stage.name == name))


def deal_in(eng, owner, stage: str, *, newest: bool = False) -> int:
    """Id of the owner's first (or newest) deal in a stage."""
    with read_scope(eng) as s:
        return s.scalar(select(Deal.id).where(Deal.owner_id == owner.id, Deal.stage_id == stage_id(eng, stage))
                        .order_by(Deal.id.desc() if newest else Deal.id))


def move(at, deal_id: int, stage: str):
    """Pick ``stage`` in the deal's "move to" box and press "Move"."""
    at.selectbox(key=f"deal_move_{deal_id}").select(stage)
    return rerun(at, at.button(key=f"deal_move_{deal_id}_btn"))


def confirm(at):
    return rerun(at, next(b for b in at.button if b.label == "Confirm"))


@pytest.mark.parametrize("role", ["rep", "manager", "director"])
def test_board_shows_service_numbers(small_company, role):
    url, actors = small_company
    actor = actors[role]
    at = open_page(PAGE, actor)
    with session_scope(make_engine(url)) as s:
        board = pipeline_board(s, actor)
    captions = [c.value for c in at.caption]
    for col in board.columns:
        expected = t("deals.count_sum", "en", count=format_number(col.count), amount=format_money(col.amount, "en"))
        assert any(c.startswith(expected) for c in captions), expected
    stalled_cards = sum(int(col.cards["stalled"].sum()) for col in board.columns)
    assert sum(m.value.startswith(":red[●]") for m in at.markdown) == stalled_cards


def test_board_counts_and_sums_by_hand(small_company):
    """rep_n1 has three open deals in Qualify (1,000 + 1,001 + 1,002) and three in Proposal
    (2,000 + 2,001 + 2,002)."""
    at = open_page(PAGE, small_company[1]["rep"])
    captions = [c.value for c in at.caption]
    for count, amount in ((3, Decimal("3003")), (3, Decimal("6003"))):
        expected = t("deals.count_sum", "en", count=format_number(count), amount=format_money(amount, "en"))
        assert any(c.startswith(expected) for c in captions), (expected, captions)


def test_move_from_card_persists_and_writes_history(small_company):
    url, actors = small_company
    eng = make_engine(url)
    rep = actors["rep"]
    at = open_page(PAGE, rep)
    deal_id = deal_in(eng, rep, "Qualify")
    move(at, deal_id, "Negotiation")
    assert "Deal moved to Negotiation" in [m.value for m in at.success]
    with session_scope(eng) as s:
        assert s.get(Deal, deal_id).stage_id == stage_id(eng, "Negotiation")
        assert s.scalar(select(DealHistory.new_value).where(DealHistory.deal_id == deal_id)) == str(
            stage_id(eng, "Negotiation"))
    # a rep does not see another rep's cards
    other = actors["other_rep"]
    with session_scope(eng) as s:
        theirs = s.scalar(select(Deal.id).where(Deal.owner_id == other.id))
    assert not [w for w in at.selectbox if w.key == f"deal_move_{theirs}"]


def test_won_dialog_then_contract_offer(small_company):
    url, actors = small_company
    eng = make_engine(url)
    rep = actors["rep"]
    at = open_page(PAGE, rep)
    deal_id = deal_in(eng, rep, "Proposal", newest=True)
    move(at, deal_id, "Won")
    with session_scope(eng) as s:
        assert at.number_input(key="deal_won_amount").value == float(s.get(Deal, deal_id).amount)  # pre-filled
    at.number_input(key="deal_won_amount").set_value(0)
    confirm(at)
    assert any("Final amount" in e.value for e in at.error)  # must be > 0: dialog stays, nothing written
    with session_scope(eng) as s:
        assert s.get(Deal, deal_id).stage_id == stage_id(eng, "Proposal")
    at.number_input(key="deal_won_amount").set_value(4321.5)
    confirm(at)
    assert "Deal won. Create the contract now?" in [m.value for m in at.success]
    with session_scope(eng) as s:
        d = s.get(Deal, deal_id)
        assert d.stage_id == stage_id(eng, "Won") and d.amount == Decimal("4321.50") and d.closed_on is not None
    rerun(at, next(b for b in at.button if b.label == "Create contract"))
    # messages are markdown-escaped (they may quote names): compare the text the user reads
    assert any(m.value.replace("\\", "").startswith("Contract HT-") for m in at.success)
    with session_scope(eng) as s:
        c = s.scalars(select(Contract).where(Contract.deal_id == deal_id)).one()
        assert c.amount == Decimal("4321.50") and c.term_months == 12


def test_lost_requires_reason(small_company):
    url, actors = small_company
    eng = make_engine(url)
    manager = actors["manager"]
    at = open_page(PAGE, manager)
    deal_id = deal_in(eng, actors["other_rep"], "Qualify")
    move(at, deal_id, "Lost")
    confirm(at)
    assert any("lost reason" in e.value for e in at.error)
    at.selectbox(key="deal_lost_reason").select("Price")
    confirm(at)
    with session_scope(eng) as s:
        d = s.get(Deal, deal_id)
        assert d.stage_id == stage_id(eng, "Lost") and d.lost_reason_id is not None


def test_new_deal_form(small_company):
    url, actors = small_company
    eng = make_engine(url)
    rep = actors["rep"]
    at = open_page(PAGE, rep)
    picker = at.selectbox(key="deal_new_customer")
    picker.select(picker.options[0]).run()
    at.text_input(key="deal_new_name").input("Fresh opportunity")
    at.number_input(key="deal_new_amount").set_value(123456789012.0)  # absurd
    rerun(at, next(b for b in at.button if b.label == "New deal"))
    assert at.text_input(key="deal_new_name").value == "Fresh opportunity"  # kept
    with session_scope(eng) as s:
        assert s.scalar(select(Deal.id).where(Deal.name == "Fresh opportunity")) is None
    at.number_input(key="deal_new_amount").set_value(5000.0)
    rerun(at, next(b for b in at.button if b.label == "New deal"))
    assert "Deal created" in [m.value for m in at.success]
    assert at.text_input(key="deal_new_name").value == ""
    with session_scope(eng) as s:
        d = s.scalars(select(Deal).where(Deal.name == "Fresh opportunity")).one()
        assert d.owner_id == rep.id and d.amount == Decimal("5000.00") and d.probability == 10


def test_detail_edit_writes_history(small_company):
    url, actors = small_company
    eng = make_engine(url)
    manager = actors["manager"]
    at = open_page(PAGE, manager)
    deal_id = at.selectbox(key="deal_selected").value
    with session_scope(eng) as s:
        version = s.get(Deal, deal_id).version
    prefix = f"deal_edit_{deal_id}_{version}"
    at.number_input(key=f"{prefix}_amount").set_value(7777.0)
    rerun(at, next(b for b in at.button if b.label == "Save" and b.form_id == f"{prefix}_form"))
    assert "Deal saved" in [m.value for m in at.success]
    with session_scope(eng) as s:
        assert s.get(Deal, deal_id).amount == Decimal("7777.00")
        assert s.scalar(select(DealHistory.new_value).where(DealHistory.deal_id == deal_id,
                                                            DealHistory.field == "amount")) == "7777.00"


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_demo_company_board_matches_service(demo_db_url, demo_actors, role):
    actor = demo_actors[role]
    at = open_page(PAGE, actor)
    with session_scope(make_engine(demo_db_url)) as s:
        board = pipeline_board(s, actor)
    captions = [c.value for c in at.caption]
    total = t("deals.count_sum", "en", count=format_number(board.total_count),
              amount=format_money(board.total_amount, "en"))
    assert any(total in c for c in captions)
    for col in board.columns:
        expected = t("deals.count_sum", "en", count=format_number(col.count), amount=format_money(col.amount, "en"))
        assert any(c.startswith(expected) for c in captions), expected
