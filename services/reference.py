"""Reference data the sales process runs on: pipeline stages, lost reasons, channels,
products. Everyone reads them; only admins change them (validated, audited). Rows are
deactivated, never deleted, because deals and customers keep pointing at them.

The field rules live on the models (``XBase`` in ``services.models``): every create and
update validates the new row — or the row as it would be after the change — against them
(``services.validation.validate``), so a refused value is named with its rule, never
silently changed. The stage rule (won ⇒ 100 %, lost ⇒ 0 %, open < 100 %) is the stage
model's. Kept by the service, because they need the database: names are unique in their
list (ignoring case); there is always at least one active open, one won and one lost stage;
a stage that holds deals keeps its kind, and an open stage that holds deals cannot be
deactivated (move them first).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import Session

from services import audit
from services.access import Actor
from services.access import require_admin as _require_admin
from services.errors import NotFound, ValidationError
from services.i18n import normalize_locale, t
from services.models import (
    Channel,
    ChannelBase,
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    Deal,
    LostReason,
    LostReasonBase,
    LostReasonCreate,
    LostReasonRead,
    LostReasonUpdate,
    Product,
    ProductBase,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    Stage,
    StageBase,
    StageCreate,
    StageRead,
    StageUpdate,
)
from services.models.fields import clean_text
from services.validation import validate

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
# the one create / update path of a reference row


def _get(session: Session, actor: Actor, model, row_id: int, *, for_update: bool = True):
    row = session.scalars(select(model).where(model.id == row_id).with_for_update()).first() if for_update \
        else session.get(model, row_id)
    if row is None:
        raise NotFound(t("err.not_found", actor.locale, detail=row_id))
    return row


def _list(session: Session, model, read, include_inactive: bool, *order):
    q = select(model).order_by(*order)
    if not include_inactive:
        q = q.where(model.active.is_(True))
    return [read.model_validate(r, from_attributes=True) for r in session.scalars(q).all()]


def _as_dict(data: Any) -> dict[str, Any]:
    return data.model_dump(exclude_unset=True) if isinstance(data, BaseModel) else dict(data)


def name_taken(session: Session, model, name: str, *, row_id: int | None = None, **same: Any) -> bool:
    """Whether another row of ``model`` already has ``name`` (ignoring case), among the rows
    matching ``same`` (e.g. ``parent_id=…`` for teams)."""
    q = select(model.id).where(func.lower(model.name) == name.lower())
    for column, value in same.items():
        col = getattr(model, column)
        q = q.where(col.is_(None) if value is None else col == value)
    if row_id is not None:
        q = q.where(model.id != row_id)
    return session.scalars(q.limit(1)).first() is not None


def _checked(session: Session, base, model, values: dict[str, Any], locale: str, *, row=None,
             extra: dict[str, str] | None = None) -> dict[str, Any]:
    """``values`` (a new row, or the changed fields merged with ``row``) validated against the
    model's field rules, the name unique in its list, an ``active`` flag a bool; the clean
    values of the fields given, or ``ValidationError`` with every message."""
    errors: dict[str, str] = dict(extra or {})
    current = {f: getattr(row, f) for f in base.model_fields} if row is not None else {}
    active = values.pop("active", None)
    if active is not None and not isinstance(active, bool):
        errors["active"] = t("err.boolean", locale)
    clean: dict[str, Any] = {}
    try:
        checked = validate(base, {**current, **values}, locale)
        clean = {f: getattr(checked, f) for f in values}
    except ValidationError as exc:  # also a rule the unchanged fields now break (won stage at 90 %)
        errors.update(exc.errors)
    name = clean.get("name", values.get("name"))
    if isinstance(name, str) and "name" in values and "name" not in errors:
        name = clean_text(name)
        if name_taken(session, model, name, row_id=row.id if row is not None else None):
            errors["name"] = t("admin.err_name_taken", locale, value=name)
    if errors:
        raise ValidationError(errors)
    if active is not None:
        clean["active"] = active
    return clean


def _insert(session: Session, actor: Actor, model, read, entity: str, values: dict[str, Any]):
    row = model(**values)
    session.add(row)
    session.flush()
    audit.record(session, actor, entity, row.id, "create", values)
    return read.model_validate(row, from_attributes=True)


def _apply(session: Session, actor: Actor, row, read, entity: str, values: dict[str, Any]):
    before = {k: getattr(row, k) for k in values}
    for key, value in values.items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    diff = audit.changed_fields(before, values)
    if diff:
        audit.record(session, actor, entity, row.id, "update", diff)
    return read.model_validate(row, from_attributes=True)


def _create(session: Session, actor: Actor, base, model, read, entity: str, data: Any):
    _require_admin(actor)
    values = _as_dict(data)
    active = values.get("active", True)
    clean = _checked(session, base, model, values, actor.locale)
    row = _insert(session, actor, model, read, entity, clean)
    if active is False:
        row = _apply(session, actor, session.get(model, row.id), read, entity, {"active": False})
    return row


def _update(session: Session, actor: Actor, base, model, read, entity: str, row_id: int, data: Any,
            check=None):
    _require_admin(actor)
    row = _get(session, actor, model, row_id)
    values = _as_dict(data)
    extra = check(session, row, values, actor.locale) if check else None
    clean = _checked(session, base, model, values, actor.locale, row=row, extra=extra)
    return _apply(session, actor, row, read, entity, clean)


# ---------------------------------------------------------------------------
# stages


def list_stages(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[StageRead]:
    """Stages in pipeline order (sequence, then name)."""
    return _list(session, Stage, StageRead, include_inactive, Stage.sequence, Stage.name)


def _stage_in_use(session: Session, stage: Stage, values: dict[str, Any], locale: str) -> dict[str, str]:
    """A stage that holds deals keeps its kind, and an open one stays active; the last active
    stage of a kind stays."""
    errors: dict[str, str] = {}
    kind = values.get("kind", stage.kind)
    leaving_active = values.get("active") is False and stage.active
    deals = session.scalar(select(func.count()).select_from(Deal).where(Deal.stage_id == stage.id)) or 0
    if deals and kind != stage.kind:
        errors["kind"] = t("admin.err_stage_has_deals", locale, count=deals)
    if deals and stage.kind == "open" and leaving_active:
        errors["active"] = t("admin.err_stage_has_deals", locale, count=deals)
    if stage.active and (leaving_active or kind != stage.kind) and not errors:
        others = session.scalar(select(func.count()).select_from(Stage).where(
            Stage.kind == stage.kind, Stage.active.is_(True), Stage.id != stage.id)) or 0
        if not others:
            errors["active" if leaving_active else "kind"] = t("admin.err_stage_last_kind", locale, kind=stage.kind)
    return errors


def create_stage(session: Session, actor: Actor, *, data: StageCreate | Mapping[str, Any]) -> StageRead:
    """Admin only: add a pipeline stage (the field rules and the stage rule are
    ``StageBase``'s: won ⇒ 100 %, lost ⇒ 0 %, open < 100 %)."""
    return _create(session, actor, StageBase, Stage, StageRead, "stage", data)


def update_stage(session: Session, actor: Actor, *, stage_id: int, data: StageUpdate | Mapping[str, Any]) -> StageRead:
    """Admin only: change a stage's name, order, probability, kind, stall days, guidance or
    active flag; the changed stage must still pass ``StageBase`` (see module rules)."""
    return _update(session, actor, StageBase, Stage, StageRead, "stage", stage_id, data, _stage_in_use)


# ---------------------------------------------------------------------------
# lost reasons and channels (a name and an active flag)


def list_lost_reasons(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[LostReasonRead]:
    """Lost reasons by name."""
    return _list(session, LostReason, LostReasonRead, include_inactive, LostReason.name)


def create_lost_reason(session: Session, actor: Actor, *,
                       data: LostReasonCreate | Mapping[str, Any]) -> LostReasonRead:
    """Admin only: a new lost reason (``LostReasonBase``: name required, ≤120, unique)."""
    return _create(session, actor, LostReasonBase, LostReason, LostReasonRead, "lost_reason", data)


def update_lost_reason(session: Session, actor: Actor, *, reason_id: int,
                       data: LostReasonUpdate | Mapping[str, Any]) -> LostReasonRead:
    """Admin only: rename or (de)activate a lost reason."""
    return _update(session, actor, LostReasonBase, LostReason, LostReasonRead, "lost_reason", reason_id, data)


def list_channels(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[ChannelRead]:
    """Customer acquisition channels by name (the active ones unless ``include_inactive``)."""
    return _list(session, Channel, ChannelRead, include_inactive, Channel.name)


def active_channels(session: Session) -> list[tuple[int, str]]:
    """(id, name) of the active channels by name — the one read of them for pickers (the
    deal form, the customer grid and its filters)."""
    return [(r.id, r.name) for r in session.execute(
        select(Channel.id, Channel.name).where(Channel.active.is_(True)).order_by(Channel.name)).all()]


def create_channel(session: Session, actor: Actor, *, data: ChannelCreate | Mapping[str, Any]) -> ChannelRead:
    """Admin only: a new channel (``ChannelBase``: name required, ≤80, unique)."""
    return _create(session, actor, ChannelBase, Channel, ChannelRead, "channel", data)


def update_channel(session: Session, actor: Actor, *, channel_id: int,
                   data: ChannelUpdate | Mapping[str, Any]) -> ChannelRead:
    """Admin only: rename or (de)activate a channel."""
    return _update(session, actor, ChannelBase, Channel, ChannelRead, "channel", channel_id, data)


# ---------------------------------------------------------------------------
# products


def list_products(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[ProductRead]:
    """Products by series and name."""
    return _list(session, Product, ProductRead, include_inactive, Product.series, Product.name)


def create_product(session: Session, actor: Actor, *, data: ProductCreate | Mapping[str, Any]) -> ProductRead:
    """Admin only: add a product (``ProductBase``: name required ≤120 and unique; series
    ≤60; list price and unit cost 0…``MAX_AMOUNT``)."""
    return _create(session, actor, ProductBase, Product, ProductRead, "product", data)


def update_product(session: Session, actor: Actor, *, product_id: int,
                   data: ProductUpdate | Mapping[str, Any]) -> ProductRead:
    """Admin only: change a product's name, series, prices or active flag."""
    return _update(session, actor, ProductBase, Product, ProductRead, "product", product_id, data)
