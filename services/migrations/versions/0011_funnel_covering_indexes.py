"""covering indexes for the funnel and the cohort: deals opened in a period (all owners, or
one owner's) carry owner, stage, amount, close date and lost reason; stage history per deal
in time order (changed_at, id: the order "next stage row" and "last stage row" use) carries
field, new and old value, so the stages reached, the days in a stage and the stage a
deal was lost from are read from the index alone; then full planner statistics for them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COHORT = ["stage_id", "amount", "closed_on", "lost_reason_id", "id"]
# (table, new index, columns, index it replaces or None)
INDEXES = [
    ("deal", "ix_deal_opened_cohort", ["opened_on", "owner_id", *COHORT], "ix_deal_opened_on"),
    ("deal", "ix_deal_owner_opened_cohort", ["owner_id", "opened_on", *COHORT], None),
    ("deal_history", "ix_deal_history_deal_at", ["deal_id", "changed_at", "id", "field", "new_value", "old_value"],
     "ix_deal_history_deal_at"),
]
PREVIOUS = {
    "ix_deal_opened_on": ["opened_on"],
    "ix_deal_history_deal_at": ["deal_id", "changed_at"],
}


def upgrade() -> None:
    for table, name, columns, replaces in INDEXES:
        if replaces is not None:
            op.drop_index(replaces, table_name=table)
        op.create_index(name, table, columns)
    bind = op.get_bind()
    tables = sorted({t for t, *_ in INDEXES})
    if bind.dialect.name == "sqlite":
        # full statistics (every entry counted), as in 0010: sampled ones mis-count skewed columns
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
