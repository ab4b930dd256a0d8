"""indexes for the customer grid (owner, archived, name_norm) and the agenda (open planned
activities, customer follow-up dates)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index("ix_customer_owner_archived_name", ["owner_id", "archived", "name_norm"], unique=False)
        batch_op.drop_index("ix_customer_owner_archived")
        batch_op.create_index("ix_customer_owner_next_contact", ["owner_id", "next_contact_on"])
        batch_op.create_index("ix_customer_next_contact", ["next_contact_on"])
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index("ix_activity_owner_open_planned", ["owner_id", "planned_at"],
                              sqlite_where=sa.text("done_at IS NULL"), postgresql_where=sa.text("done_at IS NULL"))
        batch_op.create_index("ix_activity_open_planned", ["planned_at"],
                              sqlite_where=sa.text("done_at IS NULL"), postgresql_where=sa.text("done_at IS NULL"))


def downgrade() -> None:
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_open_planned")
        batch_op.drop_index("ix_activity_owner_open_planned")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index("ix_customer_owner_archived", ["owner_id", "archived"], unique=False)
        batch_op.drop_index("ix_customer_owner_archived_name")
        batch_op.drop_index("ix_customer_next_contact")
        batch_op.drop_index("ix_customer_owner_next_contact")
