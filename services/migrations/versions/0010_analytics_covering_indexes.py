"""covering indexes for the Overview, the analytics and the contracts page: closed deals by
stage and close date (with owner and amount), the pipeline indexes carry probability,
customers created with owner, payments by date / by contract / by installment with their
amount, installments by due date / by contract with their amount, contracts by owner and
status with amount; then full planner statistics for them

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

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
    ("customer", "ix_customer_created_owner", ["created_at", "owner_id"], "ix_customer_created"),
    ("payment", "ix_payment_received", ["received_on", "contract_id", "amount"], "ix_payment_received"),
    ("payment", "ix_payment_contract_received", ["contract_id", "received_on", "amount"], "ix_payment_contract_id"),
    ("payment", "ix_payment_plan_paid", ["plan_id", "amount"], "ix_payment_plan_id"),
    ("payment_plan", "ix_payment_plan_due", ["due_on", "contract_id", "amount"], "ix_payment_plan_due"),
    ("payment_plan", "ix_payment_plan_contract_due", ["contract_id", "due_on", "amount"],
     "ix_payment_plan_contract_id"),
    ("contract", "ix_contract_owner_status", ["owner_id", "status", "amount"], "ix_contract_owner_id"),
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
}


def upgrade() -> None:
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
