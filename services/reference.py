"""Reference data the sales process runs on: pipeline stages, lost reasons, channels,
products. Everyone reads them; only admins change them (validated, audited). Rows are
deactivated, never deleted, because deals and customers keep pointing at them.

Stage rules: probability 0–100; a won stage has 100 %, a lost stage 0 %; there is always at
least one active open, one won and one lost stage; a stage that holds deals keeps its kind,
and an open stage that holds deals cannot be deactivated (move them first).
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from services import audit
from services.access import Actor
from services.access import require_admin as _require_admin
from services.errors import NotFound, ValidationError
from services.i18n import normalize_locale, t
from services.models import (
    STAGE_KINDS,
    Channel,
    ChannelCreate,
    ChannelRead,
    Deal,
    LostReason,
    LostReasonRead,
    NameUpdate,
    Product,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    Stage,
    StageCreate,
    StageRead,
    StageUpdate,
)

# name zh, name en, sequence, probability, kind, stall days, guidance zh, guidance en
DEFAULT_STAGES = [
    ("线索", "Qualify", 10, 10, "open", 14,
     "确认需求、预算、决策人和时间（BANT），不合格的及时关闭。",
     "Confirm need, budget, decision maker and timing (BANT); close what does not qualify."),
    ("需求确认", "Needs", 20, 25, "open", 14,
     "拜访关键人，记录痛点和成功标准，约定下一步。",
     "Meet the key people, write down pains and success criteria, agree the next step."),
    ("方案报价", "Proposal", 30, 50, "open", 21,
     "提交方案与报价，演示产品，确认采购流程。",
     "Send the proposal and quote, demo the product, confirm the buying process."),
    ("商务谈判", "Negotiation", 40, 75, "open", 21,
     "谈判价格与条款，准备合同，锁定签约日期。",
     "Negotiate price and terms, prepare the contract, fix the signing date."),
    ("赢单", "Won", 90, 100, "won", 0, "签订合同，建立回款计划。", "Sign the contract and set up the payment plan."),
    ("输单", "Lost", 99, 0, "lost", 0, "记录输单原因，复盘经验。", "Record the lost reason and what we learned."),
]
DEFAULT_LOST_REASONS = [
    ("价格过高", "Price too high"),
    ("选择了竞争对手", "Chose a competitor"),
    ("预算不足", "No budget"),
    ("需求变化", "Needs changed"),
    ("决策延迟", "Decision postponed"),
    ("联系不上客户", "No response"),
    ("产品功能不满足", "Product gap"),
]
DEFAULT_CHANNELS = [
    ("官网", "Website"),
    ("电话营销", "Telemarketing"),
    ("展会", "Trade show"),
    ("客户推荐", "Referral"),
    ("合作伙伴", "Partner"),
    ("线上广告", "Online ads"),
    ("社交媒体", "Social media"),
]
MAX_MONEY = Decimal("999999999999.99")


# ---------------------------------------------------------------------------
# defaults


def ensure_defaults(session: Session, *, locale: str) -> dict[str, int]:
    """Create the default stages, lost reasons and channels in ``locale`` for each list that is
    still empty (idempotent: lists with rows are left alone). Returns how many were added."""
    zh = normalize_locale(locale) == "zh_CN"
    added = {"stages": 0, "lost_reasons": 0, "channels": 0}
    if not session.scalar(select(func.count()).select_from(Stage)):
        for name_zh, name_en, seq, prob, kind, stall, g_zh, g_en in DEFAULT_STAGES:
            session.add(Stage(name=name_zh if zh else name_en, sequence=seq, probability=prob, kind=kind,
                              stall_days=stall, guidance=g_zh if zh else g_en))
            added["stages"] += 1
    if not session.scalar(select(func.count()).select_from(LostReason)):
        for name_zh, name_en in DEFAULT_LOST_REASONS:
            session.add(LostReason(name=name_zh if zh else name_en))
            added["lost_reasons"] += 1
    if not session.scalar(select(func.count()).select_from(Channel)):
        for name_zh, name_en in DEFAULT_CHANNELS:
            session.add(Channel(name=name_zh if zh else name_en))
            added["channels"] += 1
    session.flush()
    return added


# ---------------------------------------------------------------------------
# shared checks


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and not value.strip())


def _int_in(values: dict[str, Any], field: str, lo: int, hi: int, locale: str, errors: dict[str, str]) -> None:
    if field not in values:
        return
    value = values[field]
    if _blank(value):
        errors[field] = t("err.required", locale)
        return
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors[field] = t("err.integer", locale)
        return
    if not number.is_integer():
        errors[field] = t("err.integer", locale)
    elif not lo <= number <= hi:
        errors[field] = t("err.range", locale, min=lo, max=hi)
    else:
        values[field] = int(number)


def _money(values: dict[str, Any], field: str, locale: str, errors: dict[str, str]) -> None:
    if field not in values:
        return
    value = values[field]
    if _blank(value):
        errors[field] = t("err.required", locale)
        return
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[field] = t("err.number", locale)
        return
    if not amount.is_finite():
        errors[field] = t("err.number", locale)
    elif amount < 0:
        errors[field] = t("err.not_negative", locale)
    elif amount > MAX_MONEY:
        errors[field] = t("err.too_large", locale, max=f"{MAX_MONEY:,}")
    else:
        values[field] = amount.quantize(Decimal("0.01"))


def _name(session: Session, model, values: dict[str, Any], max_len: int, locale: str, errors: dict[str, str],
          *, row_id: int | None = None) -> None:
    """Required, at most ``max_len`` characters, unique in its list (ignoring case)."""
    if "name" not in values:
        return
    name = "" if _blank(values["name"]) else str(values["name"]).strip()
    if not name:
        errors["name"] = t("err.required", locale)
        return
    if len(name) > max_len:
        errors["name"] = t("err.too_long", locale, max=max_len)
        return
    q = select(model.id).where(func.lower(model.name) == name.lower())
    if row_id is not None:
        q = q.where(model.id != row_id)
    if session.scalars(q).first() is not None:
        errors["name"] = t("admin.err_name_taken", locale, value=name)
        return
    values["name"] = name


def _text(values: dict[str, Any], field: str, max_len: int, locale: str, errors: dict[str, str]) -> None:
    if field not in values:
        return
    if _blank(values[field]):
        values[field] = None
    elif len(str(values[field])) > max_len:
        errors[field] = t("err.too_long", locale, max=max_len)
    else:
        values[field] = str(values[field]).strip()


def _get(session: Session, actor: Actor, model, row_id: int):
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(t("err.not_found", actor.locale, detail=row_id))
    return row


def _list(session: Session, model, read, include_inactive: bool, *order):
    q = select(model).order_by(*order)
    if not include_inactive:
        q = q.where(model.active.is_(True))
    return [read.model_validate(r, from_attributes=True) for r in session.scalars(q).all()]


def _insert(session: Session, actor: Actor, model, read, entity: str, values: dict[str, Any], errors: dict[str, str]):
    """Refuse on ``errors``; else add the checked ``values`` as a new row and audit them."""
    if errors:
        raise ValidationError(errors)
    row = model(**values)
    session.add(row)
    session.flush()
    audit.record(session, actor, entity, row.id, "create", values)
    return read.model_validate(row, from_attributes=True)


def _apply(session: Session, actor: Actor, row, read, entity: str, values: dict[str, Any], errors: dict[str, str]):
    """Refuse on ``errors``; else write the checked ``values`` to ``row`` and audit what changed."""
    if errors:
        raise ValidationError(errors)
    before = {k: getattr(row, k) for k in values}
    for key, value in values.items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    diff = audit.changed_fields(before, values)
    if diff:
        audit.record(session, actor, entity, row.id, "update", diff)
    return read.model_validate(row, from_attributes=True)


# ---------------------------------------------------------------------------
# stages


def list_stages(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[StageRead]:
    """Stages in pipeline order (sequence, then name)."""
    return _list(session, Stage, StageRead, include_inactive, Stage.sequence, Stage.name)


def _check_stage(session: Session, values: dict[str, Any], locale: str, *, stage: Stage | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    _name(session, Stage, values, 60, locale, errors, row_id=stage.id if stage else None)
    _int_in(values, "sequence", 0, 10000, locale, errors)
    _int_in(values, "probability", 0, 100, locale, errors)
    _int_in(values, "stall_days", 0, 3650, locale, errors)
    _text(values, "guidance", 2000, locale, errors)
    if "kind" in values and values["kind"] not in STAGE_KINDS:
        errors["kind"] = t("err.not_in_list", locale, options=", ".join(STAGE_KINDS))
    merged = {**({k: getattr(stage, k) for k in ("kind", "probability", "active")} if stage else {}), **values}
    kind, prob = merged.get("kind", "open"), merged.get("probability", 10)
    if "kind" not in errors and "probability" not in errors:
        if kind == "won" and prob != 100:
            errors["probability"] = t("admin.err_won_probability", locale)
        elif kind == "lost" and prob != 0:
            errors["probability"] = t("admin.err_lost_probability", locale)
    if stage is not None and not errors:
        deals = session.scalar(select(func.count()).select_from(Deal).where(Deal.stage_id == stage.id)) or 0
        if deals and merged["kind"] != stage.kind:
            errors["kind"] = t("admin.err_stage_has_deals", locale, count=deals)
        if deals and stage.kind == "open" and merged.get("active") is False and stage.active:
            errors["active"] = t("admin.err_stage_has_deals", locale, count=deals)
        leaving = stage.active and (merged.get("active") is False or merged["kind"] != stage.kind)
        if leaving and "kind" not in errors and "active" not in errors:
            others = session.scalar(select(func.count()).select_from(Stage).where(
                Stage.kind == stage.kind, Stage.active.is_(True), Stage.id != stage.id)) or 0
            if not others:
                field = "active" if merged.get("active") is False else "kind"
                errors[field] = t("admin.err_stage_last_kind", locale, kind=stage.kind)
    return errors


def create_stage(session: Session, actor: Actor, *, data: StageCreate) -> StageRead:
    """Admin only: add a pipeline stage (see module rules)."""
    _require_admin(actor)
    values = data.model_dump()
    errors = _check_stage(session, values, actor.locale)
    return _insert(session, actor, Stage, StageRead, "stage", values, errors)


def update_stage(session: Session, actor: Actor, *, stage_id: int, data: StageUpdate) -> StageRead:
    """Admin only: change a stage's name, order, probability, kind, stall days, guidance or
    active flag (see module rules)."""
    _require_admin(actor)
    row = _get(session, actor, Stage, stage_id)
    values = data.model_dump(exclude_unset=True)
    errors = _check_stage(session, values, actor.locale, stage=row)
    return _apply(session, actor, row, StageRead, "stage", values, errors)


# ---------------------------------------------------------------------------
# lost reasons and channels (a name and an active flag)


def _named_create(session: Session, actor: Actor, model, read, entity: str, name: str, max_len: int):
    _require_admin(actor)
    values = {"name": name}
    errors: dict[str, str] = {}
    _name(session, model, values, max_len, actor.locale, errors)
    return _insert(session, actor, model, read, entity, values, errors)


def _named_update(session: Session, actor: Actor, model, read, entity: str, row_id: int, data: NameUpdate, max_len: int):
    _require_admin(actor)
    row = _get(session, actor, model, row_id)
    values = data.model_dump(exclude_unset=True)
    errors: dict[str, str] = {}
    _name(session, model, values, max_len, actor.locale, errors, row_id=row.id)
    if "active" in values and not isinstance(values["active"], bool):
        errors["active"] = t("err.not_in_list", actor.locale, options="true, false")
    return _apply(session, actor, row, read, entity, values, errors)


def list_lost_reasons(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[LostReasonRead]:
    """Lost reasons by name."""
    return _list(session, LostReason, LostReasonRead, include_inactive, LostReason.name)


def create_lost_reason(session: Session, actor: Actor, *, name: str) -> LostReasonRead:
    """Admin only: a new lost reason (name required, ≤120, unique)."""
    return _named_create(session, actor, LostReason, LostReasonRead, "lost_reason", name, 120)


def update_lost_reason(session: Session, actor: Actor, *, reason_id: int, data: NameUpdate) -> LostReasonRead:
    """Admin only: rename or (de)activate a lost reason."""
    return _named_update(session, actor, LostReason, LostReasonRead, "lost_reason", reason_id, data, 120)


def list_channels(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[ChannelRead]:
    """Customer acquisition channels by name."""
    return _list(session, Channel, ChannelRead, include_inactive, Channel.name)


def create_channel(session: Session, actor: Actor, *, data: ChannelCreate) -> ChannelRead:
    """Admin only: a new channel (name required, ≤80, unique)."""
    return _named_create(session, actor, Channel, ChannelRead, "channel", data.name, 80)


def update_channel(session: Session, actor: Actor, *, channel_id: int, data: NameUpdate) -> ChannelRead:
    """Admin only: rename or (de)activate a channel."""
    return _named_update(session, actor, Channel, ChannelRead, "channel", channel_id, data, 80)


# ---------------------------------------------------------------------------
# products


def list_products(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[ProductRead]:
    """Products by series and name."""
    return _list(session, Product, ProductRead, include_inactive, Product.series, Product.name)


def _check_product(session: Session, values: dict[str, Any], locale: str, *, row_id: int | None = None) -> dict[str, str]:
    """name required ≤120 and unique; series ≤60; list price and unit cost ≥ 0."""
    errors: dict[str, str] = {}
    _name(session, Product, values, 120, locale, errors, row_id=row_id)
    _text(values, "series", 60, locale, errors)
    _money(values, "list_price", locale, errors)
    _money(values, "unit_cost", locale, errors)
    return errors


def create_product(session: Session, actor: Actor, *, data: ProductCreate) -> ProductRead:
    """Admin only: add a product."""
    _require_admin(actor)
    values = data.model_dump()
    errors = _check_product(session, values, actor.locale)
    return _insert(session, actor, Product, ProductRead, "product", values, errors)


def update_product(session: Session, actor: Actor, *, product_id: int, data: ProductUpdate) -> ProductRead:
    """Admin only: change a product's name, series, prices or active flag."""
    _require_admin(actor)
    row = _get(session, actor, Product, product_id)
    values = data.model_dump(exclude_unset=True)
    errors = _check_product(session, values, actor.locale, row_id=row.id)
    return _apply(session, actor, row, ProductRead, "product", values, errors)
