"""The access matrix: every read and write service, called as every role on records owned
by rep_n1 (team North).

Expected (docs/ARCHITECTURE.md, "Who sees what"): the owner rep_n1 and the North manager may; rep_n2 (same
team), rep_s1 and the South manager may not; director and admin may (admin-only functions:
only admin). "May not" is ``NotFound`` / ``PermissionDenied`` or — for lists and aggregates —
rep_n1's records missing from the result. A refused call writes nothing (every table is
compared before and after, in the same session); an allowed write changes something.

Every public function of the listed service modules whose first parameters are
``(session, actor)`` must have a row in ``MATRIX``: a new service without one fails
``test_every_service_function_is_in_the_matrix``.
"""

from __future__ import annotations

import inspect
import re
from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from services import (
    access,
    activities,
    analytics,
    contacts,
    contracts,
    customer360,
    customers,
    deals,
    dedupe,
    exporting,
    importing,
    reference,
    settings,
    tickets,
    users,
)
from services.customers import CustomerFilter, _norm_columns
from services.db import session_scope
from services.errors import DuplicateError, NotFound, PermissionDenied, ValidationError
from services.models import (
    Activity,
    Channel,
    ChannelCreate,
    Contact,
    Contract,
    Customer,
    Deal,
    LostReason,
    LostReasonCreate,
    Payment,
    PaymentPlan,
    Product,
    ProductCreate,
    ServiceTicket,
    StageCreate,
    Team,
    TeamCreate,
    TeamUpdate,
    User,
    UserCreate,
    UserUpdate,
)
from services.passwords import hash_password
from services.periods import Period
from services.reference import ChannelUpdate, LostReasonUpdate, ProductUpdate, StageUpdate
from tests.conftest import build_org
from tests.services import (
    access_matrix_analytics,
    access_matrix_goals,
    access_matrix_plans,
    access_matrix_team,
)
from tests.services.access_matrix_common import (
    ADMIN,
    EVERYONE,
    MANAGERS,
    NOW,
    OWNER,
    PERIOD_END,
    PERIOD_START,
    ROLES,
    SELF_OR_ADMIN,
    TODAY,
    WEEK_START,
    Case,
    World,
    first_ids,
    ids_of,
)

# the areas that keep their rows in their own file (see access_matrix_common)
AREAS: tuple = (access_matrix_goals, access_matrix_plans, access_matrix_analytics, access_matrix_team)

MODULES = (access, customers, contacts, customer360, tickets, activities, deals, contracts, exporting, importing,
           analytics, users, reference, settings) + tuple(m for area in AREAS for m in area.MODULES)

OWNER_NAME = "Northwind Owned Ltd"
OWNER_PHONE = "13800138000"
POOL_NAME = "Pool Prospect Co"
POOL_PHONE = "13912345678"
POOL_EMAIL = "buyer@poolprospect.example"
MATRIX_PASSWORD = "matrix-pass-1"
MATRIX_PASSWORD_HASH = hash_password(MATRIX_PASSWORD)


# ---------------------------------------------------------------------------
# the world



def build_world(engine, org) -> World:
    """rep_n1 owns customer c1 with contacts, deals (open, won ×2, lost), activities
    (planned, done), a contract with two installments and a payment, and two tickets; one
    archived customer; one public-pool customer with private details and a contact."""
    st = org.stages
    n1 = org.rep_n1.id
    ids = count(4101)  # distinctive ids, so a message that names one is caught (test_refused_calls_name_nothing_hidden)
    with session_scope(engine) as s:
        for user in s.scalars(select(User)).all():  # distinctive names, for the same reason
            user.display_name = f"{user.username.title()} Person"
            user.password_hash = MATRIX_PASSWORD_HASH
        east = Team(name="East", kind="team", parent_id=org.company_id)
        channel, reason, product = Channel(name="Web"), LostReason(name="Price"), Product(name="Widget")
        s.add_all([east, channel, reason, product])

        def customer(name, owner, **kw):
            c = Customer(id=next(ids), name=name, owner_id=owner, created_at=NOW - timedelta(days=120),
                         updated_at=NOW - timedelta(days=120), **_norm_columns({"name": name, **{
                             k: v for k, v in kw.items() if k in ("phone", "email")}}), **kw)
            s.add(c)
            s.flush()
            return c

        c1 = customer(OWNER_NAME, n1, phone=OWNER_PHONE, email="owner@northwind.example", address="1 North Rd",
                      region="Northshire", tier="A", status="active",
                      last_contact_at=NOW - timedelta(days=60), next_contact_on=TODAY - timedelta(days=3))
        archived = customer("Archived Holdings", n1, region="Northshire", archived=True)
        pool = customer(POOL_NAME, None, phone=POOL_PHONE, email=POOL_EMAIL, address="9 Pool Lane",
                        region="Poolland", pool_entered_at=NOW - timedelta(days=1))
        k1 = Contact(id=next(ids), customer_id=c1.id, name="Alfred", phone="13700000001", is_primary=True)
        k2 = Contact(id=next(ids), customer_id=c1.id, name="Bruce", is_primary=False)
        kp = Contact(id=next(ids), customer_id=pool.id, name="Pool Person", phone="13700000009", is_primary=True)
        s.add_all([k1, k2, kp])

        def deal(name, stage, amount, closed=None):
            d = Deal(id=next(ids), name=name, customer_id=c1.id, owner_id=n1, stage_id=st[stage], amount=Decimal(amount),
                     opened_on=TODAY - timedelta(days=90), closed_on=closed,
                     expected_close=TODAY + timedelta(days=30) if closed is None else closed,
                     created_at=NOW - timedelta(days=90), stage_changed_at=NOW - timedelta(days=5))
            s.add(d)
            s.flush()
            return d

        d_open = deal("Northwind expansion", "Proposal", "500")
        d_won = deal("Northwind licence", "Won", "1000", TODAY - timedelta(days=10))
        d_won2 = deal("Northwind support", "Won", "300", TODAY - timedelta(days=8))
        d_lost = deal("Northwind hardware", "Lost", "200", TODAY - timedelta(days=9))
        a_planned = Activity(id=next(ids), kind="visit", customer_id=c1.id, owner_id=n1, planned_at=NOW - timedelta(days=2))
        a_done = Activity(id=next(ids), kind="call", customer_id=c1.id, owner_id=n1, done_at=NOW - timedelta(days=60),
                          outcome="Interested")
        s.add_all([a_planned, a_done])
        k = Contract(id=next(ids), number="HT-MATRIX-0001", deal_id=d_won.id, customer_id=c1.id, owner_id=n1,
                     amount=Decimal("1000"), signed_on=TODAY - timedelta(days=30),
                     start_on=TODAY - timedelta(days=30), term_months=12, status="signed")
        s.add(k)
        s.flush()
        p1 = PaymentPlan(id=next(ids), contract_id=k.id, installment=1, due_on=TODAY - timedelta(days=20), amount=Decimal("400"))
        p2 = PaymentPlan(id=next(ids), contract_id=k.id, installment=2, due_on=TODAY + timedelta(days=10), amount=Decimal("200"))
        s.add_all([p1, p2])
        s.flush()
        pay = Payment(id=next(ids), contract_id=k.id, plan_id=p1.id, received_on=TODAY - timedelta(days=15),
                      amount=Decimal("200"), recorded_by=n1)
        t_open = ServiceTicket(id=next(ids), customer_id=c1.id, title="Login fails", status="open",
                               opened_at=NOW - timedelta(days=3))
        t_resolved = ServiceTicket(id=next(ids), customer_id=c1.id, title="Slow report", status="resolved",
                                   opened_at=NOW - timedelta(days=6), resolved_at=NOW - timedelta(days=1),
                                   resolution="Index added", satisfaction=4)
        s.add_all([pay, t_open, t_resolved])
        s.flush()
        world = World(org, c1.id, archived.id, pool.id, k1.id, k2.id, kp.id, d_open.id, d_won.id, d_won2.id,
                      d_lost.id, a_planned.id, a_done.id, k.id, p1.id, p2.id, pay.id, t_open.id, t_resolved.id,
                      east.id, channel.id, reason.id, product.id)
        for area in AREAS:
            area.extend_world(s, world)
            s.flush()
        return world


@pytest.fixture
def world(engine, org) -> World:
    return build_world(engine, org)



def import_csv(world: World) -> bytes:
    return f"Name,Notes\n{OWNER_NAME},Imported note\n".encode()


MATRIX: dict[str, Case] = {
    # access: the checks every service builds on ---------------------------------
    "access.can_see_private": Case(lambda s, a, w: access.can_see_private(s, a, w.org.rep_n1.id), OWNER,
                                   sees=lambda r, w: r is True),
    "access.check_owner": Case(lambda s, a, w: access.check_owner(s, a, w.org.rep_n1.id), OWNER),
    "access.customer_filter": Case(
        lambda s, a, w: set(s.scalars(select(Customer.id).where(access.customer_filter(s, a)))), OWNER,
        sees=lambda r, w: w.c1 in r),
    "access.ensure_can_edit_customer": Case(
        lambda s, a, w: access.ensure_can_edit_customer(s, a, s.get(Customer, w.c1)), OWNER),
    "access.ensure_owned_visible": Case(lambda s, a, w: access.ensure_owned_visible(s, a, w.org.rep_n1.id), OWNER),
    "access.ensure_owner_assignable": Case(
        lambda s, a, w: access.ensure_owner_assignable(s, a, w.org.rep_n1.id), OWNER),
    "access.get_visible_customer": Case(lambda s, a, w: access.get_visible_customer(s, a, w.c1), OWNER),
    "access.load_visible": Case(lambda s, a, w: access.load_visible(s, a, Deal, w.d_open), OWNER),
    "access.managed_team_ids": Case(lambda s, a, w: access.managed_team_ids(s, a), EVERYONE),
    "access.owner_filter": Case(
        lambda s, a, w: set(s.scalars(select(Deal.id).where(access.owner_filter(s, a, Deal.owner_id)))), OWNER,
        sees=lambda r, w: w.d_open in r),
    "access.scoped_owner_ids": Case(lambda s, a, w: access.scoped_owner_ids(s, a, w.org.rep_n1.id), OWNER),
    "access.visible_editable_customer": Case(lambda s, a, w: access.visible_editable_customer(s, a, w.c1), OWNER),
    "access.visible_user_ids": Case(lambda s, a, w: access.visible_user_ids(s, a), OWNER,
                                    sees=lambda r, w: r is None or w.org.rep_n1.id in r),
    # customers ---------------------------------------------------------------
    "customers.archive_customers": Case(lambda s, a, w: customers.archive_customers(s, a, ids=[w.c1]), OWNER,
                                        writes=True),
    "customers.assignable_owners": Case(lambda s, a, w: customers.assignable_owners(s, a), OWNER,
                                        sees=lambda r, w: w.org.rep_n1.id in {o["id"] for o in r}),
    "customers.claim_from_pool": Case(lambda s, a, w: customers.claim_from_pool(s, a, ids=[w.pool]), EVERYONE,
                                      writes=True),
    "customers.create_customer": Case(
        lambda s, a, w: customers.create_customer(s, a, data={"name": "Fresh Start Ltd", "owner_id": w.org.rep_n1.id}),
        OWNER, writes=True),
    "customers.insert_customers": Case(
        lambda s, a, w: customers.insert_customers(s, a, [{"name": "Inserted Ltd", "owner_id": w.org.rep_n1.id}]),
        OWNER, writes=True),
    "customers.distinct_values": Case(lambda s, a, w: customers.distinct_values(s, a, field_name="region"), OWNER,
                                      sees=lambda r, w: "Northshire" in r),
    "customers.get_customer": Case(lambda s, a, w: customers.get_customer(s, a, customer_id=w.c1), OWNER),
    "customers.list_customers_page": Case(
        lambda s, a, w: customers.list_customers_page(s, a, filters=CustomerFilter(archived=None))[0], OWNER,
        sees=lambda r, w: w.c1 in ids_of(r)),
    "customers.reassign_owner": Case(
        lambda s, a, w: customers.reassign_owner(s, a, ids=[w.c1], owner_id=w.org.rep_n2.id), MANAGERS, writes=True),
    "customers.reclaim_stale_customers": Case(lambda s, a, w: customers.reclaim_stale_customers(s, a), ADMIN),
    "customers.stale_customers": Case(lambda s, a, w: customers.stale_customers(s, a), ADMIN),
    "customers.release_to_pool": Case(lambda s, a, w: customers.release_to_pool(s, a, ids=[w.c1]), OWNER,
                                      writes=True),
    "customers.restore_customers": Case(lambda s, a, w: customers.restore_customers(s, a, ids=[w.c_archived]),
                                        MANAGERS, writes=True),
    "customers.update_customer": Case(
        lambda s, a, w: customers.update_customer(s, a, customer_id=w.c1, version=1, data={"notes": "Matrix"}),
        OWNER, writes=True),
    "customers.update_many": Case(
        lambda s, a, w: customers.update_many(
            s, a, changes={"update": [{"id": w.c1, "version": 1, "fields": {"notes": "Grid"}}]}),
        OWNER, writes=True),
    # contacts ----------------------------------------------------------------
    "contacts.create_contact": Case(
        lambda s, a, w: contacts.create_contact(s, a, data={"customer_id": w.c1, "name": "Zed"}), OWNER, writes=True),
    "contacts.delete_contact": Case(lambda s, a, w: contacts.delete_contact(s, a, contact_id=w.k1), OWNER,
                                    writes=True),
    "contacts.list_contacts": Case(lambda s, a, w: contacts.list_contacts(s, a, customer_id=w.c1), OWNER,
                                   sees=lambda r, w: w.k1 in {c.id for c in r}),
    "contacts.set_primary_contact": Case(lambda s, a, w: contacts.set_primary_contact(s, a, contact_id=w.k2), OWNER,
                                         writes=True),
    "contacts.update_contact": Case(
        lambda s, a, w: contacts.update_contact(s, a, contact_id=w.k1, data={"title": "CTO"}), OWNER, writes=True),
    # customer 360 ------------------------------------------------------------
    "customer360.clv_estimate": Case(lambda s, a, w: customer360.clv_estimate(s, a, customer_id=w.c1, today=TODAY),
                                     OWNER, sees=lambda r, w: r.total_won == Decimal("1300.00")),
    "customer360.customer_profile": Case(
        lambda s, a, w: customer360.customer_profile(s, a, customer_id=w.c1, today=TODAY), OWNER,
        sees=lambda r, w: not r.private_hidden and r.customer["phone"] == OWNER_PHONE and len(r.contacts) == 2),
    "customer360.find_customers": Case(lambda s, a, w: customer360.find_customers(s, a, search="Northwind"), OWNER,
                                       sees=lambda r, w: w.c1 in first_ids(r)),
    "customer360.purchase_history": Case(lambda s, a, w: customer360.purchase_history(s, a, customer_id=w.c1),
                                         OWNER, sees=lambda r, w: len(r) > 0),
    # tickets -----------------------------------------------------------------
    "tickets.assign_ticket": Case(
        lambda s, a, w: tickets.assign_ticket(s, a, ticket_id=w.t_open, assignee_id=w.org.rep_n1.id), OWNER,
        writes=True),
    "tickets.close_ticket": Case(lambda s, a, w: tickets.close_ticket(s, a, ticket_id=w.t_resolved), OWNER,
                                 writes=True),
    "tickets.count_open_tickets": Case(lambda s, a, w: tickets.count_open_tickets(s, a), OWNER,
                                       sees=lambda r, w: r == 1),
    "tickets.list_customer_tickets": Case(lambda s, a, w: tickets.list_customer_tickets(s, a, customer_id=w.c1),
                                          OWNER, sees=lambda r, w: w.t_open in ids_of(r)),
    "tickets.list_open_tickets_by_age": Case(lambda s, a, w: tickets.list_open_tickets_by_age(s, a), OWNER,
                                             sees=lambda r, w: w.t_open in ids_of(r)),
    "tickets.open_ticket": Case(
        lambda s, a, w: tickets.open_ticket(s, a, data={"customer_id": w.c1, "title": "Printer jam"}), OWNER,
        writes=True),
    "tickets.reopen_ticket": Case(lambda s, a, w: tickets.reopen_ticket(s, a, ticket_id=w.t_resolved), OWNER,
                                  writes=True),
    "tickets.resolve_ticket": Case(
        lambda s, a, w: tickets.resolve_ticket(s, a, ticket_id=w.t_open, resolution="Reset password", satisfaction=5),
        OWNER, writes=True),
    # activities --------------------------------------------------------------
    "activities.agenda": Case(
        lambda s, a, w: activities.agenda(s, a, today=TODAY, tz="UTC"), OWNER,
        sees=lambda r, w: any(w.a_planned in ids_of(f, "activity_id") for f in r.values())),
    "activities.complete_activity": Case(
        lambda s, a, w: activities.complete_activity(s, a, activity_id=w.a_planned, outcome="Met the CFO",
                                                     next_contact_on=TODAY + timedelta(days=7)),
        OWNER, writes=True),
    "activities.customer_choices": Case(lambda s, a, w: activities.customer_choices(s, a), OWNER,
                                        sees=lambda r, w: w.c1 in first_ids(r)),
    "activities.customer_links": Case(lambda s, a, w: activities.customer_links(s, a, customer_id=w.c1), OWNER,
                                      sees=lambda r, w: bool(r["deals"]) or bool(r["contacts"])),
    "activities.forgotten_customers": Case(
        lambda s, a, w: activities.forgotten_customers(s, a, today=TODAY, bucket=30, tz="UTC"), OWNER,
        sees=lambda r, w: w.c1 in ids_of(r.rows) and r.counts[30] >= 1),
    "activities.list_customer_activities": Case(
        lambda s, a, w: activities.list_customer_activities(s, a, customer_id=w.c1, tz="UTC"), OWNER,
        sees=lambda r, w: {w.a_planned, w.a_done} <= ids_of(r)),
    "activities.log_activity": Case(
        lambda s, a, w: activities.log_activity(s, a, data={"customer_id": w.c1, "kind": "call",
                                                            "next_contact_on": TODAY + timedelta(days=7)}),
        OWNER, writes=True),
    "activities.team_members": Case(lambda s, a, w: activities.team_members(s, a), OWNER,
                                    sees=lambda r, w: w.org.rep_n1.id in first_ids(r)),
    "activities.week_calendar": Case(
        lambda s, a, w: activities.week_calendar(s, a, week_start=WEEK_START, tz="UTC"), OWNER,
        sees=lambda r, w: w.a_planned in ids_of(r)),
    # deals -------------------------------------------------------------------
    "deals.insert_deals": Case(
        lambda s, a, w: deals.insert_deals(s, a, [{"name": "Northwind renewal", "customer_id": w.c1,
                                                   "stage_id": w.org.stages["Qualify"], "owner_id": w.org.rep_n1.id}]),
        OWNER, writes=True),
    "deals.create_deal": Case(
        lambda s, a, w: deals.create_deal(s, a, data={"name": "Northwind add-on", "customer_id": w.c1,
                                                      "stage_id": w.org.stages["Qualify"],
                                                      "owner_id": w.org.rep_n1.id}),
        OWNER, writes=True),
    "deals.deal_history": Case(lambda s, a, w: deals.deal_history(s, a, deal_id=w.d_open), OWNER),
    "deals.get_deal": Case(lambda s, a, w: deals.get_deal(s, a, deal_id=w.d_open), OWNER),
    "deals.list_customer_deals": Case(lambda s, a, w: deals.list_customer_deals(s, a, customer_id=w.c1), OWNER,
                                      sees=lambda r, w: w.d_open in ids_of(r)),
    "deals.list_deals": Case(lambda s, a, w: deals.list_deals(s, a), OWNER, sees=lambda r, w: w.d_open in ids_of(r)),
    "deals.move_deal": Case(
        lambda s, a, w: deals.move_deal(s, a, deal_id=w.d_open, stage_id=w.org.stages["Negotiation"], version=1),
        OWNER, writes=True),
    "deals.pipeline_board": Case(
        lambda s, a, w: deals.pipeline_board(s, a, today=TODAY, tz="UTC"), OWNER,
        sees=lambda r, w: r.total_count == 1 and any(w.d_open in ids_of(c.cards) for c in r.columns)),
    "deals.reopen_deal": Case(lambda s, a, w: deals.reopen_deal(s, a, deal_id=w.d_lost, version=1), OWNER,
                              writes=True),
    "deals.update_deal": Case(
        lambda s, a, w: deals.update_deal(s, a, deal_id=w.d_open, version=1, changes={"next_step": "Call the CFO"}),
        OWNER, writes=True),
    # contracts ---------------------------------------------------------------
    "contracts.add_installment": Case(
        lambda s, a, w: contracts.add_installment(s, a, contract_id=w.contract, due_on=TODAY + timedelta(days=40),
                                                  amount="100"),
        OWNER, writes=True),
    "contracts.collection_by_rep": Case(
        lambda s, a, w: contracts.collection_by_rep(s, a, today=TODAY), OWNER,
        sees=lambda r, w: w.org.rep_n1.id in ids_of(r, "owner_id")),
    "contracts.contract_payments": Case(lambda s, a, w: contracts.contract_payments(s, a, contract_id=w.contract),
                                        OWNER, sees=lambda r, w: w.payment in ids_of(r)),
    "contracts.count_contracts": Case(lambda s, a, w: contracts.count_contracts(s, a), OWNER,
                                      sees=lambda r, w: r == 1),
    "contracts.create_contract_from_deal": Case(
        lambda s, a, w: contracts.create_contract_from_deal(s, a, deal_id=w.d_won2, signed_on=TODAY - timedelta(days=5),
                                                            term_months=12),
        OWNER, writes=True),
    "contracts.delete_installment": Case(
        lambda s, a, w: contracts.delete_installment(s, a, contract_id=w.contract, plan_id=w.plan_due), OWNER,
        writes=True),
    "contracts.due_installments": Case(
        lambda s, a, w: contracts.due_installments(s, a, start=TODAY, end=TODAY + timedelta(days=30), today=TODAY),
        OWNER, sees=lambda r, w: w.plan_due in ids_of(r)),
    "contracts.get_contract": Case(lambda s, a, w: contracts.get_contract(s, a, contract_id=w.contract), OWNER),
    "contracts.installments": Case(
        lambda s, a, w: contracts.installments(s, a, contract_id=w.contract, today=TODAY), OWNER,
        sees=lambda r, w: {w.plan_due, w.plan_overdue} <= ids_of(r)),
    "contracts.list_contracts": Case(lambda s, a, w: contracts.list_contracts(s, a, today=TODAY), OWNER,
                                     sees=lambda r, w: w.contract in ids_of(r)),
    "contracts.list_customer_contracts": Case(
        lambda s, a, w: contracts.list_customer_contracts(s, a, customer_id=w.c1, today=TODAY), OWNER,
        sees=lambda r, w: w.contract in ids_of(r)),
    "contracts.overdue_installments": Case(
        lambda s, a, w: contracts.overdue_installments(s, a, today=TODAY), OWNER,
        sees=lambda r, w: w.plan_overdue in ids_of(r)),
    "contracts.overdue_summary": Case(
        lambda s, a, w: contracts.overdue_summary(s, a, today=TODAY), OWNER,
        sees=lambda r, w: w.plan_overdue in {row["id"] for row in r["rows"]} and r["count"] >= 1),
    "contracts.payments_received": Case(
        lambda s, a, w: contracts.payments_received(s, a, start=TODAY - timedelta(days=30), end=TODAY + timedelta(days=1)),
        OWNER, sees=lambda r, w: w.payment in ids_of(r)),
    "contracts.plan_installments": Case(
        lambda s, a, w: contracts.plan_installments(s, a, contract_id=w.contract, count=2,
                                                    first_due_on=TODAY + timedelta(days=40)),
        OWNER, writes=True),
    "contracts.record_payment": Case(
        lambda s, a, w: contracts.record_payment(s, a, contract_id=w.contract, plan_id=w.plan_overdue,
                                                 received_on=TODAY - timedelta(days=1), amount="50"),
        OWNER, writes=True),
    "contracts.set_contract_status": Case(
        lambda s, a, w: contracts.set_contract_status(s, a, contract_id=w.contract, status="executing", version=1),
        OWNER, writes=True),
    "contracts.won_deals_without_contract": Case(lambda s, a, w: contracts.won_deals_without_contract(s, a), OWNER,
                                                 sees=lambda r, w: w.d_won2 in first_ids(r)),
    # exporting / importing ---------------------------------------------------
    "exporting.customers_frame": Case(lambda s, a, w: exporting.customers_frame(s, a), OWNER,
                                      sees=lambda r, w: OWNER_NAME in r.to_numpy().ravel().tolist()),
    "exporting.export_customers": Case(lambda s, a, w: exporting.export_customers(s, a, fmt="csv"), OWNER,
                                       sees=lambda r, w: OWNER_NAME.encode() in r),
    "importing.import_file": Case(
        lambda s, a, w: importing.import_file(s, a, kind="customers", path=import_csv(w),
                                              mapping={"Name": "name", "Notes": "notes"}, on_duplicate="update"),
        OWNER, sees=lambda r, w: r.updated == 1, writes=True),
    # analytics (scope "all" = everything the actor may see) -----------------
    "analytics.monthly_scope_targets": Case(
        lambda s, a, w: analytics.monthly_scope_targets(s, a, scope="all", months=[TODAY.replace(day=1)]), EVERYONE),
    "analytics.scope_target": Case(
        lambda s, a, w: analytics.scope_target(s, a, scope="all", period=Period(PERIOD_START, PERIOD_END)), EVERYONE),
    "analytics.metric_actuals": Case(
        lambda s, a, w: analytics.metric_actuals(s, a, metric="contract_amount", start=PERIOD_START, end=PERIOD_END,
                                                 by="user"), OWNER,
        sees=lambda r, w: dict(zip(r["user_id"], r["value"], strict=True)).get(w.org.rep_n1.id) == Decimal("1300")),
    "analytics.metric_total": Case(
        lambda s, a, w: analytics.metric_total(s, a, metric="collections", start=PERIOD_START, end=PERIOD_END),
        OWNER, sees=lambda r, w: r == Decimal("200")),
    "analytics.metric_totals": Case(
        lambda s, a, w: analytics.metric_totals(s, a, metric="collections", spans=[(PERIOD_START, PERIOD_END)]),
        OWNER, sees=lambda r, w: r == [Decimal("200")]),
    "analytics.kpi_report": Case(
        lambda s, a, w: analytics.kpi_report(s, a, start=PERIOD_START, end=PERIOD_END, by="owner"), OWNER,
        sees=lambda r, w: any(row["owner_id"] == w.org.rep_n1.id and row["won_count"] == 2 for row in r)),
    "analytics.monthly_won_trend": Case(
        lambda s, a, w: analytics.monthly_won_trend(s, a, start=PERIOD_START, end=PERIOD_END, scope="all"), OWNER,
        sees=lambda r, w: r["won_amount"].sum() == 1300),
    "analytics.overview_kpis": Case(
        lambda s, a, w: analytics.overview_kpis(s, a, period=Period(PERIOD_START, PERIOD_END), scope="all",
                                                today=TODAY, now=NOW),
        OWNER, sees=lambda r, w: r.won_amount == Decimal("1300") and r.open_deal_count == 1
        and r.collections == Decimal("200") and r.overdue_customers == 1),
    "analytics.pipeline_by_stage": Case(lambda s, a, w: analytics.pipeline_by_stage(s, a, scope="all"), OWNER,
                                        sees=lambda r, w: r["amount"].sum() == 500),
    "analytics.scope_user_ids": Case(lambda s, a, w: analytics.scope_user_ids(s, a, "all"), OWNER,
                                     sees=lambda r, w: r is None or w.org.rep_n1.id in r),
    # users -------------------------------------------------------------------
    "users.change_own_password": Case(
        lambda s, a, w: users.change_own_password(s, a, current_password=MATRIX_PASSWORD, new_password="another-secret-9"),
        EVERYONE, writes=True),
    "users.change_role": Case(lambda s, a, w: users.change_role(s, a, username="rep_n2", role="manager"), ADMIN,
                              writes=True),
    "users.change_team": Case(lambda s, a, w: users.change_team(s, a, username="rep_n2", team_id=w.org.team_s),
                              ADMIN, writes=True),
    "users.create_team": Case(
        lambda s, a, w: users.create_team(s, a, data=TeamCreate(name="West", parent_id=w.org.company_id)), ADMIN,
        writes=True),
    "users.create_user": Case(
        lambda s, a, w: users.create_user(s, a, data=UserCreate(username="newbie", display_name="Newbie",
                                                                password="long-enough-1", team_id=w.org.team_n)),
        ADMIN, writes=True),
    "users.deactivate_team": Case(lambda s, a, w: users.deactivate_team(s, a, team_id=w.team_east), ADMIN,
                                  writes=True),
    "users.deactivate_user": Case(lambda s, a, w: users.deactivate_user(s, a, username="rep_n2"), ADMIN,
                                  writes=True),
    "users.get_user": Case(lambda s, a, w: users.get_user(s, a, username="rep_n1"), OWNER),
    "users.getting_started": Case(lambda s, a, w: users.getting_started(s, a), EVERYONE),
    "users.list_teams": Case(lambda s, a, w: users.list_teams(s, a), EVERYONE),
    "users.list_users": Case(lambda s, a, w: users.list_users(s, a), OWNER,
                             sees=lambda r, w: w.org.rep_n1.id in {u.id for u in r}),
    "users.reactivate_user": Case(lambda s, a, w: users.reactivate_user(s, a, username="rep_n2"), ADMIN),
    "users.set_own_locale": Case(lambda s, a, w: users.set_own_locale(s, a, locale="zh_CN"), EVERYONE, writes=True),
    "users.set_password": Case(
        lambda s, a, w: users.set_password(s, a, username="rep_n1", password="another-secret-9"), SELF_OR_ADMIN,
        writes=True),
    "users.team_tree": Case(lambda s, a, w: users.team_tree(s, a), EVERYONE),
    "users.unlock_user": Case(lambda s, a, w: users.unlock_user(s, a, username="rep_n2"), ADMIN, writes=True),
    "users.update_team": Case(
        lambda s, a, w: users.update_team(s, a, team_id=w.team_east, data=TeamUpdate(name="East 2")), ADMIN,
        writes=True),
    "users.update_user": Case(
        lambda s, a, w: users.update_user(s, a, username="rep_n2", data=UserUpdate(display_name="Rep Two")), ADMIN,
        writes=True),
    # reference data (readable by all, changed by admin) ---------------------
    "reference.create_channel": Case(lambda s, a, w: reference.create_channel(s, a, data=ChannelCreate(name="Fair")),
                                     ADMIN, writes=True),
    "reference.create_lost_reason": Case(
        lambda s, a, w: reference.create_lost_reason(s, a, data=LostReasonCreate(name="Timing")), ADMIN,
        writes=True),
    "reference.create_product": Case(
        lambda s, a, w: reference.create_product(s, a, data=ProductCreate(name="Gadget", list_price=Decimal("10"),
                                                                          unit_cost=Decimal("5"))),
        ADMIN, writes=True),
    "reference.create_stage": Case(
        lambda s, a, w: reference.create_stage(s, a, data=StageCreate(name="Demo", sequence=35, probability=40)),
        ADMIN, writes=True),
    "reference.list_channels": Case(lambda s, a, w: reference.list_channels(s, a), EVERYONE),
    "reference.list_lost_reasons": Case(lambda s, a, w: reference.list_lost_reasons(s, a), EVERYONE),
    "reference.list_products": Case(lambda s, a, w: reference.list_products(s, a), EVERYONE),
    "reference.list_stages": Case(lambda s, a, w: reference.list_stages(s, a), EVERYONE),
    "reference.update_channel": Case(
        lambda s, a, w: reference.update_channel(s, a, channel_id=w.channel, data=ChannelUpdate(name="Web 2")), ADMIN,
        writes=True),
    "reference.update_lost_reason": Case(
        lambda s, a, w: reference.update_lost_reason(s, a, reason_id=w.lost_reason, data=LostReasonUpdate(name="Cost")),
        ADMIN, writes=True),
    "reference.update_product": Case(
        lambda s, a, w: reference.update_product(s, a, product_id=w.product, data=ProductUpdate(name="Widget 2")),
        ADMIN, writes=True),
    "reference.update_stage": Case(
        lambda s, a, w: reference.update_stage(s, a, stage_id=w.org.stages["Qualify"],
                                               data=StageUpdate(guidance="Ask about budget")),
        ADMIN, writes=True),
    # settings ----------------------------------------------------------------
    "settings.update_settings": Case(lambda s, a, w: settings.update_settings(s, a, values={"pool_rep_cap": 50}),
                                     ADMIN, writes=True),
}

for _area in AREAS:
    MATRIX.update(_area.MATRIX)


def service_functions() -> set[str]:
    """Public functions of the service modules taking ``(session, actor, …)``."""
    found = set()
    for mod in MODULES:
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            # a package's functions count under the package's name (services.analytics.overview → analytics)
            if name.startswith("_") or not (fn.__module__ == mod.__name__ or fn.__module__.startswith(mod.__name__ + ".")):
                continue
            if list(inspect.signature(fn).parameters)[:2] == ["session", "actor"]:
                found.add(f"{mod.__name__.removeprefix('services.')}.{name}")
    return found


def test_every_service_function_is_in_the_matrix():
    funcs = service_functions()
    missing, stale = sorted(funcs - MATRIX.keys()), sorted(MATRIX.keys() - funcs)
    assert not missing, f"service functions without an access-matrix row: {missing}"
    assert not stale, f"matrix rows for functions that no longer exist: {stale}"


# ---------------------------------------------------------------------------
# running one case as every role


def snapshot(session: Session) -> dict[str, list[tuple]]:
    """Every row of every table (the test database is small): any write shows up."""
    out = {}
    for table in SQLModel.metadata.sorted_tables:
        rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
        out[table.name] = [tuple(r) for r in rows]
    return out


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(name for name in before if before[name] != after[name])


class NamedWorld:
    """The world as one call sees it: remembers which of its records the call itself named
    (a refused call may repeat the id it was given, never another hidden one)."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.named: set[str] = set()

    def __getattr__(self, name: str):
        self.named.add(name)
        return getattr(self._world, name)


def run_as(engine, world: World, case: Case, role: str) -> tuple[str, list[str], str, set[str]]:
    """("allowed" | "denied" | "error: …", tables changed by the call, the refusal's message,
    the world's records the call named). Runs in its own transaction, rolled back
    afterwards, so every role starts from the same world."""
    actor = getattr(world.org, role)
    named = NamedWorld(world)
    message = ""
    with Session(engine, expire_on_commit=False) as s:
        try:
            conn = s.connection()
            if engine.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
                # pysqlite opens its transaction only before DML, so a service's SAVEPOINT
                # would otherwise commit on RELEASE (see test_sqlite_savepoint_keeps_one_transaction)
                conn.exec_driver_sql("BEGIN")
            before = snapshot(s)
            try:
                result = case.call(s, actor, named)
            except (NotFound, PermissionDenied) as exc:
                outcome, message = "denied", str(exc)
            except Exception as exc:  # any other error is a finding of its own
                outcome = f"error: {type(exc).__name__}: {exc}"
            else:
                outcome = "allowed" if case.sees is None or case.sees(result, world) else "denied"
            changed = changed_tables(before, snapshot(s)) if not outcome.startswith("error") else []
        finally:
            s.rollback()
    return outcome, changed, message, named.named


# what rep_n1's records are called, and the private details of the pool customer
OWNED_TEXTS = (OWNER_NAME, OWNER_PHONE, "owner@northwind.example", "1 North Rd", "Archived Holdings", "Alfred",
               "Bruce", "13700000001", "Northwind expansion", "Northwind licence", "Northwind support",
               "Northwind hardware", "HT-MATRIX-0001", "Login fails", "Slow report")
OWNED_IDS = ("c1", "c_archived", "k1", "k2", "d_open", "d_won", "d_won2", "d_lost", "a_planned", "a_done",
             "contract", "plan_overdue", "plan_due", "payment", "t_open", "t_resolved")
POOL_PRIVATE_TEXTS = (POOL_PHONE, POOL_EMAIL, "9 Pool Lane", "Pool Person", "13700000009")


def hidden_from(engine, world: World, role: str, named: set[str]) -> dict[str, str]:
    """What the role may not see, as {what: text a message must not contain}: rep_n1's
    records (names, details, ids — except those the call itself was given) for roles that
    do not see them, the pool customer's private details for reps, and the names of the
    users outside the role's view."""
    actor = getattr(world.org, role)
    hidden: dict[str, str] = {}
    with Session(engine) as s:
        visible = access.visible_user_ids(s, actor)
        if not access.can_see_private(s, actor, world.org.rep_n1.id, visible=visible):
            hidden.update({text: text for text in OWNED_TEXTS})
            hidden.update({f"id of {name}": str(getattr(world, name)) for name in OWNED_IDS if name not in named})
        if not access.can_see_private(s, actor, None, visible=visible):
            hidden.update({text: text for text in POOL_PRIVATE_TEXTS})
            if "pool_contact" not in named:
                hidden["id of pool_contact"] = str(world.pool_contact)
        for user_id, display_name in s.execute(select(User.id, User.display_name)).all():
            if visible is not None and user_id not in visible:
                hidden[f"name of user {user_id}"] = display_name
    return hidden


def leaks(message: str, hidden: dict[str, str]) -> list[str]:
    """The entries of ``hidden`` that ``message`` contains (ids as whole numbers)."""
    found = []
    for what, text in hidden.items():
        pattern = rf"(?<!\d){re.escape(text)}(?!\d)" if text.isdigit() else re.escape(text)
        if re.search(pattern, message, flags=re.IGNORECASE):
            found.append(what)
    return found


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_access_matrix(engine, world, name):
    """Who may call what; a refused call writes nothing, and its message names nothing the
    actor may not see (no names or ids of hidden records, no other users' names, no private
    details of pool customers)."""
    case = MATRIX[name]
    problems = []
    for role in ROLES:
        outcome, changed, message, named = run_as(engine, world, case, role)
        want = "allowed" if case.expect[role] else "denied"
        if outcome != want:
            problems.append(f"{role}: expected {want}, got {outcome}")
        elif outcome == "denied" and changed and (case.writes or case.sees is None):
            problems.append(f"{role}: refused, yet wrote to {changed}")
        elif outcome == "allowed" and case.writes and not changed:
            problems.append(f"{role}: allowed, but nothing was written")
        if message and (found := leaks(message, hidden_from(engine, world, role, named))):
            problems.append(f"{role}: the refusal {message!r} names {found}")
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


# ---------------------------------------------------------------------------
# the public pool: visible to reps, private details hidden until claimed

PRIVATE = ("phone", "email", "address")


def test_pool_customer_is_visible_but_private_until_claimed(engine, world):
    rep = world.org.rep_n2
    with Session(engine, expire_on_commit=False) as s:
        page, _ = customers.list_customers_page(s, rep, filters=CustomerFilter(in_pool=True))
        row = page[page["id"] == world.pool].iloc[0]
        assert row["name"] == POOL_NAME and bool(row["private_hidden"])
        assert all(row[f] is None for f in PRIVATE)
        got = customers.get_customer(s, rep, customer_id=world.pool)
        assert got["private_hidden"] and all(got[f] is None for f in PRIVATE)
        with pytest.raises(PermissionDenied):
            contacts.list_contacts(s, rep, customer_id=world.pool)
        profile = customer360.customer_profile(s, rep, customer_id=world.pool, today=TODAY)
        assert profile.private_hidden and profile.contacts == []
        assert all(profile.customer[f] is None for f in PRIVATE)
        assert activities.customer_links(s, rep, customer_id=world.pool)["contacts"] == []
        frame = exporting.customers_frame(s, rep, filters={"in_pool": True})
        cells = frame.to_numpy().ravel().tolist()
        assert POOL_NAME in cells and POOL_PHONE not in cells and POOL_EMAIL not in cells
        data = exporting.export_customers(s, rep, filters={"in_pool": True}, fmt="csv")
        assert POOL_NAME.encode() in data and POOL_PHONE.encode() not in data and POOL_EMAIL.encode() not in data
        s.rollback()

        # the grid search must not answer "whose phone is this?" for hidden details
        assert world.pool not in first_ids(customer360.find_customers(s, rep, search=POOL_PHONE))
        assert world.pool not in first_ids(customer360.find_customers(s, rep, search=POOL_EMAIL))
        assert world.pool in first_ids(customer360.find_customers(s, rep, search="Pool Prospect"))

        # a manager sees the pool in full (to assign it)
        got = customers.get_customer(s, world.org.manager_s, customer_id=world.pool)
        assert got["phone"] == POOL_PHONE and not got["private_hidden"]
        assert world.pool in first_ids(customer360.find_customers(s, world.org.manager_s, search=POOL_PHONE))


def test_pool_customer_cannot_be_changed_before_it_is_claimed(engine, world):
    rep = world.org.rep_n2
    with session_scope(engine) as s:
        before = snapshot(s)
        with pytest.raises(PermissionDenied):
            customers.update_customer(s, rep, customer_id=world.pool, version=1, data={"notes": "mine"})
        with pytest.raises(PermissionDenied):
            contacts.create_contact(s, rep, data={"customer_id": world.pool, "name": "Zed"})
        with pytest.raises(PermissionDenied):
            activities.log_activity(s, rep, data={"customer_id": world.pool, "kind": "call",
                                                  "next_contact_on": TODAY + timedelta(days=3)})
        with pytest.raises(PermissionDenied):
            tickets.open_ticket(s, rep, data={"customer_id": world.pool, "title": "Help"})
        with pytest.raises(PermissionDenied):
            deals.create_deal(s, rep, data={"name": "Pool deal", "customer_id": world.pool,
                                            "stage_id": world.org.stages["Qualify"]})
        assert changed_tables(before, snapshot(s)) == []

    with session_scope(engine) as s:
        assert customers.claim_from_pool(s, rep, ids=[world.pool]) == 1
    with session_scope(engine) as s:
        got = customers.get_customer(s, rep, customer_id=world.pool)
        assert not got["private_hidden"] and got["phone"] == POOL_PHONE and got["email"] == POOL_EMAIL
        assert [c.name for c in contacts.list_contacts(s, rep, customer_id=world.pool)] == ["Pool Person"]
        assert world.pool in first_ids(customer360.find_customers(s, rep, search=POOL_PHONE))
        # and now it is rep_n2's: the colleague who claimed it first keeps it
        with pytest.raises(NotFound):
            customers.get_customer(s, world.org.rep_n1, customer_id=world.pool)


def test_owned_customer_of_a_colleague_cannot_be_claimed(engine, world):
    with session_scope(engine) as s, pytest.raises(NotFound):
        customers.claim_from_pool(s, world.org.rep_n2, ids=[world.c1])
    with session_scope(engine) as s:
        assert customers.get_customer(s, world.org.rep_n1, customer_id=world.c1)["owner_id"] == world.org.rep_n1.id


# ---------------------------------------------------------------------------
# one service call = one transaction, also on SQLite


def test_sqlite_savepoint_keeps_one_transaction(sqlite_engine):
    """A contract (numbered inside a SAVEPOINT) must vanish when the caller's transaction
    rolls back — e.g. because a later step of the same service call failed."""
    org = build_org(sqlite_engine)
    world = build_world(sqlite_engine, org)
    with pytest.raises(RuntimeError), session_scope(sqlite_engine) as s:
        contracts.create_contract_from_deal(s, org.rep_n1, deal_id=world.d_won2,
                                            signed_on=TODAY - timedelta(days=5), term_months=12)
        raise RuntimeError("a later step failed")
    with session_scope(sqlite_engine) as s:
        assert s.scalar(select(func.count()).select_from(Contract)) == 1


# ---------------------------------------------------------------------------
# imports that name a colleague's customer


IMPORTS = {
    "contacts": ("Customer,Name\n{c},Zed\n", {"Customer": "customer", "Name": "name"}),
    "deals": ("Name,Customer,Amount\nNorthwind extra,{c},100\n", {"Name": "name", "Customer": "customer",
                                                                   "Amount": "amount"}),
    "activities": ("Customer,Kind,Done at,Next contact\n{c},call,{d},{n}\n",
                   {"Customer": "customer", "Kind": "kind", "Done at": "done_at", "Next contact": "next_contact_on"}),
    "customers": ("Name,Owner\nBrand New Ltd,rep_n1\n", {"Name": "name", "Owner": "owner"}),
}


@pytest.mark.parametrize("kind", sorted(IMPORTS))
def test_import_cannot_write_to_a_colleagues_records(engine, world, kind):
    text, mapping = IMPORTS[kind]
    data = text.format(c=OWNER_NAME, d=(TODAY - timedelta(days=1)).isoformat(),
                       n=(TODAY + timedelta(days=5)).isoformat()).encode()
    for role in ("rep_n2", "rep_s1", "manager_s"):
        with Session(engine, expire_on_commit=False) as s:
            before = snapshot(s)
            result = importing.import_file(s, getattr(world.org, role), kind=kind, path=data, mapping=mapping)
            assert (result.created, result.updated, len(result.errors)) == (0, 0, 1), (role, result.to_dict())
            changed = [t for t in changed_tables(before, snapshot(s)) if t != "audit_log"]
            assert changed == [], (role, changed)
            s.rollback()
    with Session(engine, expire_on_commit=False) as s:  # the owner (and the manager) may
        for role in ("rep_n1", "manager_n"):
            result = importing.import_file(s, getattr(world.org, role), kind=kind, path=data, mapping=mapping,
                                           dry_run=True)
            assert (result.created, len(result.errors)) == (1, 0), (role, result.to_dict())
        s.rollback()


def test_import_match_note_does_not_reveal_a_hidden_customer(engine, world):
    data = f"Name\n{OWNER_NAME}\n".encode()
    with Session(engine, expire_on_commit=False) as s:
        result = importing.import_file(s, world.org.rep_s1, kind="customers", path=data, mapping={"Name": "name"})
        assert (result.created, result.skipped) == (0, 1)
        notes = " ".join(str(o) for o in result.outcomes)
        assert f"#{world.c1}" not in notes and OWNER_PHONE not in notes
        s.rollback()


# ---------------------------------------------------------------------------
# refusals and warnings that must not answer questions about hidden records


def test_duplicate_check_does_not_say_whose_phone_a_pool_number_is(engine, world):
    rep = world.org.rep_n2
    with Session(engine, expire_on_commit=False) as s:
        [match] = dedupe.find_duplicates(s, rep, phone=POOL_PHONE)
        assert match["hidden"] and match["customer_id"] is None and match["name"] is None
        [match] = dedupe.find_duplicates(s, rep, email=POOL_EMAIL)
        assert match["hidden"] and match["customer_id"] is None
        # by its public name the pool customer is found — but the phone is not confirmed
        [match] = dedupe.find_duplicates(s, rep, name=POOL_NAME, phone=POOL_PHONE)
        assert match["customer_id"] == world.pool and match["matched_on"] == ["name"]
        # a manager sees the pool in full
        [match] = dedupe.find_duplicates(s, world.org.manager_s, phone=POOL_PHONE)
        assert match["customer_id"] == world.pool and match["matched_on"] == ["phone"]
        with pytest.raises(DuplicateError) as err:
            customers.create_customer(s, rep, data={"name": "Totally New Co", "phone": POOL_PHONE})
        shown = f"{err.value} {err.value.matches}"
        assert POOL_NAME not in shown and str(world.pool) not in shown
        s.rollback()


@pytest.mark.parametrize("call", ["log_activity", "create_deal", "update_deal"])
def test_naming_an_owner_one_may_not_assign_names_nobody(engine, world, call):
    """A rep or manager who names an owner outside their view hears the same as for a user
    id that does not exist — never that user's name."""
    with session_scope(engine) as s:
        mine = deals.create_deal(s, world.org.rep_s1, data={
            "name": "South deal", "customer_id": customers.create_customer(
                s, world.org.rep_s1, data={"name": "South Only Ltd"}), "stage_id": world.org.stages["Qualify"]})

    def attempt(actor, owner_id) -> str:
        with Session(engine, expire_on_commit=False) as s:
            try:
                if call == "log_activity":
                    activities.log_activity(s, actor, data={"customer_id": mine.customer_id, "kind": "call",
                                                            "owner_id": owner_id,
                                                            "next_contact_on": TODAY + timedelta(days=3)})
                elif call == "create_deal":
                    deals.create_deal(s, actor, data={"name": "X", "customer_id": mine.customer_id,
                                                      "stage_id": world.org.stages["Qualify"], "owner_id": owner_id})
                else:
                    deals.update_deal(s, actor, deal_id=mine.id, version=mine.version, changes={"owner_id": owner_id})
            except (PermissionDenied, ValidationError) as exc:
                return str(exc)
            finally:
                s.rollback()
        raise AssertionError("the call went through")

    for actor in (world.org.rep_s1, world.org.manager_s):
        hidden_user = world.org.rep_n1  # North: outside both actors' view
        told = attempt(actor, hidden_user.id)
        assert "Rep_N1 Person" not in told and "Rep_N1" not in told
        assert told == attempt(actor, 987654).replace("987654", str(hidden_user.id))


@pytest.mark.parametrize("call", ["update_contact", "set_primary_contact", "delete_contact"])
def test_another_teams_contact_answers_like_a_missing_one(engine, world, call):
    args = {"update_contact": {"data": {"title": "CTO"}}}.get(call, {})
    for actor in (world.org.rep_s1, world.org.manager_s, world.org.rep_n2):
        answers = []
        for contact_id in (world.k1, world.pool_contact if actor.role == "rep" else world.k2, 987654):
            with Session(engine, expire_on_commit=False) as s, pytest.raises(NotFound) as err:
                getattr(contacts, call)(s, actor, contact_id=contact_id, **args)
            answers.append(str(err.value))
        assert len(set(answers)) == 1 and str(world.c1) not in answers[0] and str(world.pool) not in answers[0]
