"""at most one live contract per deal (partial unique index) and named number sequences
(contract numbers that cannot run out or repeat under concurrency)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "number_sequence",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.create_index(
            "ux_contract_live_deal", ["deal_id"], unique=True,
            sqlite_where=sa.text("deal_id IS NOT NULL AND status != 'cancelled'"),
            postgresql_where=sa.text("deal_id IS NOT NULL AND status <> 'cancelled'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_index("ux_contract_live_deal")
    op.drop_table("number_sequence")
