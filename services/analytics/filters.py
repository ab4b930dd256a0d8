"""The deal filters the funnel, forecast and findings share: scope (``me`` / ``team`` /
``all``, always within what the actor may see) narrowed by team, rep, product, channel and
customer tier."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from services.access import (
    Actor,
    owner_in,
    owner_params,
    owner_scope_term,
    owner_shape,
    team_member_ids,
    team_subtree_ids,
)
from services.analytics.common import scope_user_ids
from services.models import Customer, Deal, User


@dataclass(frozen=True)
class DealFilter:
    """Optional narrowing of a scope; ``None`` means no narrowing on that field."""

    scope: str = "all"
    team_id: int | None = None
    owner_id: int | None = None
    product_id: int | None = None
    channel_id: int | None = None
    tier: str | None = None


def filter_owner_ids(session: Session, actor: Actor, flt: DealFilter) -> set[int] | None:
    """Owners the filter counts: the scope's owners, narrowed to a team's subtree and to one
    rep; ``None`` means every owner (director / admin, no narrowing)."""
    ids = scope_user_ids(session, actor, flt.scope)
    if flt.team_id is not None:
        teams = team_subtree_ids(session, {flt.team_id})
        members = team_member_ids(session, teams)
        ids = members if ids is None else ids & members
    if flt.owner_id is not None:
        ids = {flt.owner_id} if ids is None else ids & {flt.owner_id}
    return ids


def deal_conditions(session: Session, actor: Actor, flt: DealFilter) -> list[ColumnElement]:
    """SQL conditions on ``Deal`` for the filter (owner within access, product, channel,
    tier of the deal's customer), their values bound in: ``deal_conditions_bound`` of the
    filter's shape."""
    shape, params = deal_filter_shape(session, actor, flt)
    return deal_conditions_bound(shape, params)


def deal_filter_shape(session: Session, actor: Actor, flt: DealFilter) -> tuple[tuple, dict]:
    """``deal_conditions`` for a shaped statement (``db.shaped``): (the shape — which of the
    conditions there are — for the statement's key, the parameters: ``owners``, ``product``,
    ``channel``, ``tier``). ``deal_conditions_bound(shape)`` writes the conditions."""
    ids = filter_owner_ids(session, actor, flt)
    params = owner_params(ids)
    for name, value in (("product", flt.product_id), ("channel", flt.channel_id), ("tier", flt.tier or None)):
        if value is not None:
            params[name] = value
    return (owner_shape(ids), "product" in params, "channel" in params, "tier" in params), params


def deal_conditions_bound(shape: tuple, params: dict | None = None) -> list[ColumnElement]:
    """The filter's conditions of ``shape`` (``deal_filter_shape``) on its bound parameters,
    their values in when ``params`` is given (anonymous parameters: nothing shares a name)."""
    def bound(name: str):
        return bindparam(name) if params is None else params[name]

    owners, product, channel, tier = shape
    conds: list[ColumnElement] = [owner_scope_term(Deal.owner_id, owners, params)]
    if product:
        conds.append(Deal.product_id == bound("product"))
    if channel:
        conds.append(Deal.channel_id == bound("channel"))
    if tier:
        conds.append(Deal.customer_id.in_(select(Customer.id).where(Customer.tier == bound("tier"))))
    return conds


def filter_choices(session: Session, actor: Actor) -> dict[str, list[tuple]]:
    """What the filters offer the actor: teams and reps they may see (id, name), active
    products and channels (id, name), customer tiers."""
    from services.access import managed_team_ids, visible_user_ids
    from services.models import TIERS, Channel, Product, Team

    visible = visible_user_ids(session, actor)
    team_q = select(Team.id, Team.name).where(Team.kind != "company").order_by(Team.name)
    if visible is not None:
        team_q = team_q.where(Team.id.in_(sorted(managed_team_ids(session, actor)) or [-1]))
    return {
        "teams": [tuple(r) for r in session.execute(team_q).all()],
        "reps": [tuple(r) for r in session.execute(
            select(User.id, User.display_name).where(User.active.is_(True), User.role.in_(("rep", "manager")),
                                                     owner_in(User.id, visible)).order_by(User.display_name)).all()],
        "products": [tuple(r) for r in session.execute(
            select(Product.id, Product.name).where(Product.active.is_(True)).order_by(Product.name)).all()],
        "channels": [tuple(r) for r in session.execute(
            select(Channel.id, Channel.name).where(Channel.active.is_(True)).order_by(Channel.name)).all()],
        "tiers": [(t, t) for t in TIERS],
    }
