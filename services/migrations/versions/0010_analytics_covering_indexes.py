"""covering indexes for the Overview, the analytics and the contracts page: closed deals by
stage and close date (with owner and amount), the pipeline indexes carry probability,
customers created with owner, payments by date / by contract / by installment with their
amount, installments by due date / by contract with their amount, contracts by owner and
status with amount; installments keep what was paid on them (paid_amount, filled from
the payments); then full planner statistics for them

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOARD = ["amount", "expected_close", "last_activity_at", "created_at"]
# (table, new index, columns, index it replaces or None)
INDEXES = [
    ("deal", "ix_deal_stage_board",
     ["stage_id", "amount", "owner_id", "expected_close", "last_activity_at", "created_at", "probability"],
     "ix_deal_stage_board"),
    ("deal", "ix_deal_owner_stage_board", ["owner_id", "stage_id", *BOARD, "probability"], "ix_deal_owner_stage_board"),
    ("deal", "ix_deal_stage_closed", ["stage_id", "closed_on", "owner_id", "amount"], None),
    ("deal", "ix_deal_owner_stage_closed", ["owner_id", "stage_id", "closed_on", "amount"], None),
    ("customer", "ix_customer_created_owner", ["created_at", "owner_id"], "ix_customer_created"),
    ("payment", "ix_payment_received", ["received_on", "contract_id", "amount"], "ix_payment_received"),
    ("payment", "ix_payment_contract_received", ["contract_id", "received_on", "amount"], "ix_payment_contract_id"),
    ("payment", "ix_payment_plan_paid", ["plan_id", "amount"], "ix_payment_plan_id"),
    ("payment_plan", "ix_payment_plan_due", ["due_on", "contract_id", "amount", "paid_amount"], "ix_payment_plan_due"),
    ("payment_plan", "ix_payment_plan_contract_due", ["contract_id", "due_on", "amount", "paid_amount"],
     "ix_payment_plan_contract_id"),
    ("contract", "ix_contract_owner_status", ["owner_id", "status", "amount"], "ix_contract_owner_id"),
    ("contract", "ix_contract_deal_status", ["deal_id", "status"], "ix_contract_deal_id"),
]
PREVIOUS = {
    "ix_deal_stage_board": ["stage_id", "amount", "owner_id", "expected_close", "last_activity_at", "created_at"],
    "ix_deal_owner_stage_board": ["owner_id", "stage_id", *BOARD],
    "ix_customer_created": ["created_at"],
    "ix_payment_received": ["received_on"],
    "ix_payment_contract_id": ["contract_id"],
    "ix_payment_plan_id": ["plan_id"],
    "ix_payment_plan_due": ["due_on"],
    "ix_payment_plan_contract_id": ["contract_id"],
    "ix_contract_owner_id": ["owner_id"],
    "ix_contract_deal_id": ["deal_id"],
}


# payment_plan.paid_amount follows every payment written, by whom ever (one increment of the
# installment row per payment: exact when several clerks record payments at once)
SQLITE_TRIGGERS = [
    "CREATE TRIGGER tr_payment_paid_insert AFTER INSERT ON payment WHEN NEW.plan_id IS NOT NULL BEGIN "
    "UPDATE payment_plan SET paid_amount = paid_amount + NEW.amount WHERE id = NEW.plan_id; END",
    "CREATE TRIGGER tr_payment_paid_delete AFTER DELETE ON payment WHEN OLD.plan_id IS NOT NULL BEGIN "
    "UPDATE payment_plan SET paid_amount = paid_amount - OLD.amount WHERE id = OLD.plan_id; END",
    "CREATE TRIGGER tr_payment_paid_update AFTER UPDATE OF amount, plan_id ON payment BEGIN "
    "UPDATE payment_plan SET paid_amount = paid_amount - OLD.amount WHERE id = OLD.plan_id; "
    "UPDATE payment_plan SET paid_amount = paid_amount + NEW.amount WHERE id = NEW.plan_id; END",
]
PG_TRIGGERS = [
    "CREATE FUNCTION payment_paid_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.plan_id IS NOT NULL THEN "
    "UPDATE payment_plan SET paid_amount = paid_amount - OLD.amount WHERE id = OLD.plan_id; END IF; "
    "IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.plan_id IS NOT NULL THEN "
    "UPDATE payment_plan SET paid_amount = paid_amount + NEW.amount WHERE id = NEW.plan_id; END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER tr_payment_paid AFTER INSERT OR DELETE OR UPDATE OF amount, plan_id ON payment "
    "FOR EACH ROW EXECUTE FUNCTION payment_paid_sync()",
]


def upgrade() -> None:
    op.add_column("payment_plan", sa.Column("paid_amount", sa.Numeric(14, 2), nullable=False, server_default="0"))
    op.execute("UPDATE payment_plan SET paid_amount = COALESCE((SELECT SUM(payment.amount) FROM payment "
               "WHERE payment.plan_id = payment_plan.id), 0)")
    for statement in SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else PG_TRIGGERS:
        op.execute(statement)
    for table, name, columns, replaces in INDEXES:
        if replaces is not None:
            op.drop_index(replaces, table_name=table)
        op.create_index(name, table, columns)
    bind = op.get_bind()
    tables = sorted({t for t, *_ in INDEXES})
    if bind.dialect.name == "sqlite":
        # full statistics (every entry counted): sampled ones mis-count skewed columns such as
        # deals per stage, and the planner then walks the wrong index row by row
        op.execute("PRAGMA analysis_limit=0")
        for table in tables:
            op.execute(f'ANALYZE "{table}"')
    else:
        op.execute("ANALYZE " + ", ".join(f'"{t}"' for t in tables))


def downgrade() -> None:
    for table, name, _columns, replaces in reversed(INDEXES):
        op.drop_index(name, table_name=table)
        if replaces is not None:
            op.create_index(replaces, table, PREVIOUS[replaces])
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER tr_payment_paid_{name}")
    else:
        op.execute("DROP TRIGGER tr_payment_paid ON payment")
        op.execute("DROP FUNCTION payment_paid_sync()")
    with op.batch_alter_table("payment_plan") as batch_op:
        batch_op.drop_column("paid_amount")
