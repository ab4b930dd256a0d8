"""customers keep how many open (planned, not yet done) activities they have, by database
triggers in the same statement as every activity written, by whoever writes it — the activity
service, an import, a merge moving activities to another customer, a deletion:
``customer.open_activities``.

The agenda's follow-ups are the customers with a next contact date and no open activity (an
open activity already is the follow-up). They were found by walking every customer due in a
range and probing its activities: a director's "rest of the week" probed ~5,300 customers at
the large demo, nearly all of whom had a planned activity (10 ms of a 18 ms agenda). The
partial indexes below hold only the customers without one, in due order and by owner, so the
list and its count read just the rows they show. They replace ``ix_customer_next_contact_owner``
(due date first), which PostgreSQL kept choosing for the follow-ups — it cannot tell that
nearly every customer due this week has an open activity — and then fetched every due
customer's row to test the count. The Overview's count of customers overdue for contact
(open activity or not) reads ``ix_customer_owner_next_contact``, which now carries
``archived`` so that count needs no row either.

This revision's backfill is its own (a migration is a snapshot); the live recompute is
``services.customer_facts.refresh`` (the demo build uses it after its bulk load).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# services.models.customers.FOLLOW_UP_DUE: the agenda's reads repeat this text
FOLLOW_UP_DUE = "open_activities = 0 AND next_contact_on IS NOT NULL"
INDEXES = [("ix_customer_follow_up", ["next_contact_on", "archived", "owner_id"]),
           ("ix_customer_owner_follow_up", ["owner_id", "next_contact_on", "archived"])]
DUE_FIRST = ("ix_customer_next_contact_owner", ["next_contact_on", "archived", "owner_id"])
OWNER_DUE = "ix_customer_owner_next_contact"

SQLITE_TRIGGERS = [
    "CREATE TRIGGER tr_customer_open_insert AFTER INSERT ON activity WHEN NEW.done_at IS NULL BEGIN "
    "UPDATE customer SET open_activities = open_activities + 1 WHERE id = NEW.customer_id; END",
    "CREATE TRIGGER tr_customer_open_delete AFTER DELETE ON activity WHEN OLD.done_at IS NULL BEGIN "
    "UPDATE customer SET open_activities = open_activities - 1 WHERE id = OLD.customer_id; END",
    "CREATE TRIGGER tr_customer_open_update AFTER UPDATE OF done_at, customer_id ON activity "
    "WHEN (OLD.done_at IS NULL) <> (NEW.done_at IS NULL) OR OLD.customer_id IS NOT NEW.customer_id BEGIN "
    "UPDATE customer SET open_activities = open_activities - (OLD.done_at IS NULL) WHERE id = OLD.customer_id; "
    "UPDATE customer SET open_activities = open_activities + (NEW.done_at IS NULL) WHERE id = NEW.customer_id; END",
]
PG_TRIGGERS = [
    # UPDATE … SET n = n ± 1 takes the customer row's lock and re-reads it: concurrent writers add up
    "CREATE FUNCTION customer_open_activities_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'UPDATE' AND OLD.customer_id = NEW.customer_id "
    "AND (OLD.done_at IS NULL) = (NEW.done_at IS NULL) THEN RETURN NULL; END IF; "
    "IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.done_at IS NULL THEN "
    "UPDATE customer SET open_activities = open_activities - 1 WHERE id = OLD.customer_id; END IF; "
    "IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.done_at IS NULL THEN "
    "UPDATE customer SET open_activities = open_activities + 1 WHERE id = NEW.customer_id; END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER tr_customer_open_activities AFTER INSERT OR DELETE OR UPDATE OF done_at, customer_id "
    "ON activity FOR EACH ROW EXECUTE FUNCTION customer_open_activities_sync()",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        # no activity written between the count and the trigger taking over (SQLite: the
        # migration's write transaction already excludes other writers)
        op.execute("LOCK TABLE activity IN SHARE ROW EXCLUSIVE MODE")
    op.add_column("customer", sa.Column("open_activities", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE customer SET open_activities = (SELECT count(*) FROM activity a "
               "WHERE a.customer_id = customer.id AND a.done_at IS NULL) "
               "WHERE EXISTS (SELECT 1 FROM activity a WHERE a.customer_id = customer.id AND a.done_at IS NULL)")
    for statement in SQLITE_TRIGGERS if sqlite else PG_TRIGGERS:
        op.execute(statement)
    for name, cols in INDEXES:
        op.create_index(name, "customer", cols, sqlite_where=sa.text(FOLLOW_UP_DUE),
                        postgresql_where=sa.text(FOLLOW_UP_DUE))
    op.drop_index(DUE_FIRST[0], table_name="customer")
    op.drop_index(OWNER_DUE, table_name="customer")
    op.create_index(OWNER_DUE, "customer", ["owner_id", "next_contact_on", "archived"])
    if sqlite:
        op.execute("PRAGMA analysis_limit=0")  # full statistics, as in 0010
        op.execute('ANALYZE "customer"')
    else:
        op.execute('ANALYZE "customer"')


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index(OWNER_DUE, table_name="customer")
    op.create_index(OWNER_DUE, "customer", ["owner_id", "next_contact_on"])
    op.create_index(DUE_FIRST[0], "customer", DUE_FIRST[1])
    for name, _cols in reversed(INDEXES):
        op.drop_index(name, table_name="customer")
    if sqlite:
        for name in ("tr_customer_open_insert", "tr_customer_open_delete", "tr_customer_open_update"):
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER tr_customer_open_activities ON activity")
        op.execute("DROP FUNCTION customer_open_activities_sync()")
    # plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35), as in 0012
    op.execute("ALTER TABLE customer DROP COLUMN open_activities")
