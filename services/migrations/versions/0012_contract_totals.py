"""contracts keep their planned and collected totals (planned_amount = Σ installment amounts,
collected_amount = Σ payment amounts) and installments keep the owner of their contract while
it is collecting (collecting_owner_id: the contract's owner when signed / executing /
completed, else NULL), all by database triggers in the same statement as every installment,
payment or contract written; the owner-and-status contract index carries the totals, the
installment due-date index the owner, and not fully paid installments get a partial index
(due date, owner, amount, paid, contract), so per-owner collections and the due / overdue
sums read index entries only, never every installment and payment, nor a contract per
installment; then full planner statistics for them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the installment is open while paid < amount − ½ cent (services.contracts._CENT); the query
# repeats this text literally so both planners can use the partial index
OPEN_INSTALLMENT = "paid_amount < amount - 0.005"
DUE = ["due_on", "contract_id", "amount", "paid_amount", "collecting_owner_id"]
OPEN_DUE = ["due_on", "collecting_owner_id", "amount", "paid_amount", "contract_id"]

# services.contracts.COLLECTING: the contract statuses whose installments are collected
COLLECTING = "('signed', 'executing', 'completed')"
OWNER_OF = f"CASE WHEN status IN {COLLECTING} THEN owner_id END"

# (child table, function / trigger stem, contract column)
KEPT = [("payment_plan", "contract_planned", "planned_amount"), ("payment", "contract_collected", "collected_amount")]


def _sqlite_triggers(table: str, stem: str, column: str) -> list[str]:
    return [
        f"CREATE TRIGGER tr_{stem}_insert AFTER INSERT ON {table} BEGIN "
        f"UPDATE contract SET {column} = {column} + NEW.amount WHERE id = NEW.contract_id; END",
        f"CREATE TRIGGER tr_{stem}_delete AFTER DELETE ON {table} BEGIN "
        f"UPDATE contract SET {column} = {column} - OLD.amount WHERE id = OLD.contract_id; END",
        f"CREATE TRIGGER tr_{stem}_update AFTER UPDATE OF amount, contract_id ON {table} BEGIN "
        f"UPDATE contract SET {column} = {column} - OLD.amount WHERE id = OLD.contract_id; "
        f"UPDATE contract SET {column} = {column} + NEW.amount WHERE id = NEW.contract_id; END",
    ]


def _pg_triggers(table: str, stem: str, column: str) -> list[str]:
    return [
        f"CREATE FUNCTION {stem}_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP IN ('UPDATE', 'DELETE') THEN "
        f"UPDATE contract SET {column} = {column} - OLD.amount WHERE id = OLD.contract_id; END IF; "
        "IF TG_OP IN ('INSERT', 'UPDATE') THEN "
        f"UPDATE contract SET {column} = {column} + NEW.amount WHERE id = NEW.contract_id; END IF; "
        "RETURN NULL; END $$",
        f"CREATE TRIGGER tr_{stem} AFTER INSERT OR DELETE OR UPDATE OF amount, contract_id ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {stem}_sync()",
    ]


SQLITE_OWNER_TRIGGERS = [
    "CREATE TRIGGER tr_plan_owner_insert AFTER INSERT ON payment_plan BEGIN "
    f"UPDATE payment_plan SET collecting_owner_id = (SELECT {OWNER_OF} FROM contract WHERE id = NEW.contract_id) "
    "WHERE id = NEW.id; END",
    "CREATE TRIGGER tr_plan_owner_move AFTER UPDATE OF contract_id ON payment_plan BEGIN "
    f"UPDATE payment_plan SET collecting_owner_id = (SELECT {OWNER_OF} FROM contract WHERE id = NEW.contract_id) "
    "WHERE id = NEW.id; END",
    "CREATE TRIGGER tr_contract_plan_owner AFTER UPDATE OF owner_id, status ON contract BEGIN "
    f"UPDATE payment_plan SET collecting_owner_id = CASE WHEN NEW.status IN {COLLECTING} THEN NEW.owner_id END "
    "WHERE contract_id = NEW.id; END",
]
PG_OWNER_TRIGGERS = [
    # the contract row is read FOR SHARE: a status or owner change in flight is waited for,
    # and none can start until this installment's transaction ends
    "CREATE FUNCTION plan_owner_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"NEW.collecting_owner_id := (SELECT {OWNER_OF} FROM contract WHERE id = NEW.contract_id FOR SHARE); "
    "RETURN NEW; END $$",
    "CREATE TRIGGER tr_plan_owner BEFORE INSERT OR UPDATE OF contract_id ON payment_plan "
    "FOR EACH ROW EXECUTE FUNCTION plan_owner_sync()",
    "CREATE FUNCTION contract_plan_owner_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"UPDATE payment_plan SET collecting_owner_id = CASE WHEN NEW.status IN {COLLECTING} THEN NEW.owner_id END "
    "WHERE contract_id = NEW.id; RETURN NULL; END $$",
    "CREATE TRIGGER tr_contract_plan_owner AFTER UPDATE OF owner_id, status ON contract "
    "FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.status IS DISTINCT FROM NEW.status) "
    "EXECUTE FUNCTION contract_plan_owner_sync()",
]


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for table, stem, column in KEPT:
        op.add_column("contract", sa.Column(column, sa.Numeric(14, 2), nullable=False, server_default="0"))
        op.execute(f"UPDATE contract SET {column} = COALESCE((SELECT SUM(x.amount) FROM {table} x "
                   "WHERE x.contract_id = contract.id), 0)")
        for statement in _sqlite_triggers(table, stem, column) if sqlite else _pg_triggers(table, stem, column):
            op.execute(statement)
    op.add_column("payment_plan", sa.Column("collecting_owner_id", sa.Integer(), nullable=True))
    op.execute(f"UPDATE payment_plan SET collecting_owner_id = (SELECT {OWNER_OF} FROM contract "
               "WHERE contract.id = payment_plan.contract_id)")
    for statement in SQLITE_OWNER_TRIGGERS if sqlite else PG_OWNER_TRIGGERS:
        op.execute(statement)
    op.drop_index("ix_contract_owner_status", table_name="contract")
    op.create_index("ix_contract_owner_status", "contract",
                    ["owner_id", "status", "amount", "planned_amount", "collected_amount"])
    op.drop_index("ix_payment_plan_due", table_name="payment_plan")
    op.create_index("ix_payment_plan_due", "payment_plan", DUE)
    op.create_index("ix_payment_plan_open_due", "payment_plan", OPEN_DUE,
                    sqlite_where=sa.text(OPEN_INSTALLMENT), postgresql_where=sa.text(OPEN_INSTALLMENT))
    if sqlite:
        op.execute("PRAGMA analysis_limit=0")  # full statistics, as in 0010
        for table in ("contract", "payment_plan"):
            op.execute(f'ANALYZE "{table}"')
    else:
        op.execute('ANALYZE "contract", "payment_plan"')


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("ix_payment_plan_open_due", table_name="payment_plan")
    op.drop_index("ix_payment_plan_due", table_name="payment_plan")
    op.create_index("ix_payment_plan_due", "payment_plan", ["due_on", "contract_id", "amount", "paid_amount"])
    op.drop_index("ix_contract_owner_status", table_name="contract")
    op.create_index("ix_contract_owner_status", "contract", ["owner_id", "status", "amount"])
    if sqlite:
        for name in ("tr_plan_owner_insert", "tr_plan_owner_move", "tr_contract_plan_owner"):
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER tr_plan_owner ON payment_plan")
        op.execute("DROP TRIGGER tr_contract_plan_owner ON contract")
        op.execute("DROP FUNCTION plan_owner_sync()")
        op.execute("DROP FUNCTION contract_plan_owner_sync()")
    # plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of the table would have to
    # drop it, which the payments' foreign key refuses
    op.execute('ALTER TABLE payment_plan DROP COLUMN collecting_owner_id')
    for table, stem, column in reversed(KEPT):
        if sqlite:
            for name in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER tr_{stem}_{name}")
        else:
            op.execute(f"DROP TRIGGER tr_{stem} ON {table}")
            op.execute(f"DROP FUNCTION {stem}_sync()")
        op.execute(f"ALTER TABLE contract DROP COLUMN {column}")
