"""Reference data on SQLite and PostgreSQL: defaults per language, stage rules, names
unique, money not negative, admin only, audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from services import reference as ref
from services.db import session_scope
from services.errors import PermissionDenied, ValidationError
from services.i18n import t
from services.models import (
    AuditLog,
    ChannelCreate,
    Customer,
    Deal,
    LostReasonCreate,
    ProductCreate,
    Stage,
    StageBase,
)
from services.validation import validate


def test_defaults_in_chinese_and_idempotent(engine):
    with session_scope(engine) as s:
        added = ref.ensure_defaults(s, locale="zh_CN")
        assert added == {"stages": 6, "lost_reasons": 7, "channels": 7}
        assert ref.ensure_defaults(s, locale="en") == {"stages": 0, "lost_reasons": 0, "channels": 0}
        from services.access import SYSTEM

        stages = ref.list_stages(s, SYSTEM)
    assert [(x.name, x.probability, x.kind) for x in stages] == [
        ("线索", 10, "open"), ("需求确认", 25, "open"), ("方案报价", 50, "open"),
        ("商务谈判", 75, "open"), ("赢单", 100, "won"), ("输单", 0, "lost")]
    assert all(x.guidance for x in stages) and stages[0].stall_days == 14


def test_defaults_in_english(engine):
    from services.access import SYSTEM

    with session_scope(engine) as s:
        ref.ensure_defaults(s, locale="en")
        assert [x.name for x in ref.list_stages(s, SYSTEM)][-2:] == ["Won", "Lost"]
        assert "Price too high" in [r.name for r in ref.list_lost_reasons(s, SYSTEM)]
        assert "Referral" in [c.name for c in ref.list_channels(s, SYSTEM)]


def test_only_admin_changes_reference_data(engine, org):
    for actor in (org.director, org.manager_n, org.rep_n1):
        with pytest.raises(PermissionDenied), session_scope(engine) as s:
            ref.create_channel(s, actor, data=ChannelCreate(name="Fair"))
        with pytest.raises(PermissionDenied), session_scope(engine) as s:
            ref.update_stage(s, actor, stage_id=org.stages["Needs"], data=ref.StageUpdate(probability=30))
    with session_scope(engine) as s:
        assert len(ref.list_stages(s, org.rep_n1)) == 6  # everyone reads


def test_stage_validation_messages(engine, org):
    # the form's raw values: the service checks them against the stage model's rules
    bad = {"name": "needs", "sequence": -1, "probability": 101, "kind": "maybe", "stall_days": 5000}
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        ref.create_stage(s, org.admin, data=bad)
    e = err.value.errors
    assert e["name"] == t("admin.err_name_taken", "en", value="needs")
    assert e["sequence"] == t("err.range", "en", min=0, max=10000)
    assert e["probability"] == t("err.range", "en", min=0, max=100)
    assert e["kind"] == t("err.not_in_list", "en", options="open, won, lost")
    assert e["stall_days"] == t("err.range", "en", min=0, max=3650)


def test_won_and_lost_probabilities(engine, org):
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        ref.create_stage(s, org.admin, data={"name": "Signed", "kind": "won", "probability": 90})
    assert err.value.errors == {"probability": t("admin.err_won_probability", "en")}
    with pytest.raises(ValidationError), session_scope(engine) as s:
        ref.update_stage(s, org.admin, stage_id=org.stages["Lost"], data=ref.StageUpdate(probability=5))
    # an open stage below 100 %: 100 is refused with its reason, never stored or clamped
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        ref.update_stage(s, org.admin, stage_id=org.stages["Qualify"], data={"probability": 100})
    assert err.value.errors == {"probability": t("admin.err_open_probability", "en")}
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        ref.update_stage(s, org.admin, stage_id=org.stages["Qualify"], data={"probability": 150, "stall_days": -5})
    assert err.value.errors == {"probability": t("err.range", "en", min=0, max=100),
                                "stall_days": t("err.range", "en", min=0, max=3650)}
    with session_scope(engine) as s:
        assert s.get(Stage, org.stages["Qualify"]).probability == 10


def test_stage_update_audited(engine, org):
    with session_scope(engine) as s:
        out = ref.update_stage(s, org.admin, stage_id=org.stages["Needs"],
                               data=ref.StageUpdate(probability=30, stall_days=10, guidance="Call twice"))
        assert (out.probability, out.stall_days, out.guidance) == (30, 10, "Call twice")
        row = s.scalars(select(AuditLog).where(AuditLog.entity == "stage")).one()
        assert '"probability": [25, 30]' in row.changes


def test_last_won_stage_cannot_go_and_busy_stage_keeps_kind(engine, org):
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        ref.update_stage(s, org.admin, stage_id=org.stages["Won"], data=ref.StageUpdate(active=False))
    assert err.value.errors == {"active": t("admin.err_stage_last_kind", "en", kind="won")}
    with session_scope(engine) as s:
        c = Customer(name="C", owner_id=org.rep_n1.id)
        s.add(c)
        s.flush()
        s.add(Deal(name="D", customer_id=c.id, owner_id=org.rep_n1.id, stage_id=org.stages["Proposal"]))
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        ref.update_stage(s, org.admin, stage_id=org.stages["Proposal"], data=ref.StageUpdate(active=False))
    assert err.value.errors == {"active": t("admin.err_stage_has_deals", "en", count=1)}
    with pytest.raises(ValidationError), session_scope(engine) as s:
        ref.update_stage(s, org.admin, stage_id=org.stages["Proposal"],
                         data=ref.StageUpdate(kind="won", probability=100))
    with session_scope(engine) as s:  # an empty open stage may retire
        assert ref.update_stage(s, org.admin, stage_id=org.stages["Needs"], data=ref.StageUpdate(active=False)).active is False
        assert org.stages["Needs"] not in {x.id for x in ref.list_stages(s, org.admin)}
        assert org.stages["Needs"] in {x.id for x in ref.list_stages(s, org.admin, include_inactive=True)}


def test_named_lists(engine, org):
    with session_scope(engine) as s:
        reason = ref.create_lost_reason(s, org.admin, data=LostReasonCreate(name="  Timing "))
        channel = ref.create_channel(s, org.admin, data=ChannelCreate(name="Fair"))
        assert reason.name == "Timing"
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        ref.create_lost_reason(s, org.admin, data={"name": "timing"})
    assert err.value.errors == {"name": t("admin.err_name_taken", "en", value="timing")}
    with pytest.raises(ValidationError), session_scope(engine) as s:
        ref.create_channel(s, org.admin, data={"name": ""})
    with session_scope(engine) as s:
        ref.update_channel(s, org.admin, channel_id=channel.id, data=ref.ChannelUpdate(active=False))
        assert channel.id not in {c.id for c in ref.list_channels(s, org.admin)}
        ref.update_lost_reason(s, org.admin, reason_id=reason.id, data=ref.LostReasonUpdate(name="Bad timing"))
        assert "Bad timing" in {r.name for r in ref.list_lost_reasons(s, org.admin)}


def test_products(engine, org):
    with session_scope(engine) as s:
        p = ref.create_product(s, org.admin, data=ProductCreate(name="CRM Pro", series="CRM", list_price=Decimal("9800"),
                                                                 unit_cost=Decimal("2100.5")))
        assert p.unit_cost == Decimal("2100.50")
    with pytest.raises(ValidationError) as err, session_scope(engine) as s:
        ref.create_product(s, org.admin, data={"name": "crm pro", "list_price": Decimal("-1"),
                                               "unit_cost": Decimal("-0.01")})
    assert set(err.value.errors) == {"name", "list_price", "unit_cost"}
    assert err.value.errors["unit_cost"] == t("err.not_negative", "en")
    with session_scope(engine) as s:
        out = ref.update_product(s, org.admin, product_id=p.id, data=ref.ProductUpdate(list_price=Decimal("10500")))
        assert out.list_price == Decimal("10500.00")
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.entity == "product")) == 2


@settings(max_examples=50, deadline=None)
@given(prob=st.one_of(st.integers(-50, 150), st.floats(allow_nan=True, allow_infinity=False, width=32),
                      st.none(), st.from_regex(r"-?[0-9]{1,3}", fullmatch=True),
                      st.sampled_from(["", " ", "abc", "1.5", "七十"])))
def test_probability_rule_property(prob):
    """An open stage's probability is accepted exactly when it is a whole number from 0 to
    99, and then stored as that number (never clamped or rounded)."""
    if isinstance(prob, str):
        number = int(prob) if prob.lstrip("-").isdigit() else None
    elif isinstance(prob, float):
        number = int(prob) if prob == prob and prob.is_integer() else None
    else:
        number = prob
    ok = number is not None and 0 <= number <= 99
    try:
        stage = validate(StageBase, {"name": "Open", "kind": "open", "probability": prob}, "en")
    except ValidationError as exc:
        assert not ok and set(exc.errors) == {"probability"}
    else:
        assert ok and stage.probability == number
