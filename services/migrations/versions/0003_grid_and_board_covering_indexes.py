"""covering indexes for the customer grid (counts and page ids without table rows; the name index
gains the usual filter columns), the agenda's follow-ups (next contact date with archived and
owner) and the pipeline board (count / sum / stalled per stage from the index, cards in
amount order)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        # id last: PostgreSQL indexes do not carry the key, the grid's page ids come from the index
        batch_op.create_index("ix_customer_owner_grid",
                              ["owner_id", "archived", "name_norm", "tier", "status", "last_contact_at", "id"])
        batch_op.create_index("ix_customer_name_grid",
                              ["name_norm", "archived", "tier", "status", "last_contact_at", "id"])
        batch_op.drop_index("ix_customer_owner_archived_name")
        batch_op.drop_index("ix_customer_name_norm")
        batch_op.create_index("ix_customer_last_contact_archived", ["last_contact_at", "archived"])
        batch_op.drop_index("ix_customer_last_contact")
        batch_op.create_index("ix_customer_next_contact_owner", ["next_contact_on", "archived", "owner_id"])
        batch_op.drop_index("ix_customer_next_contact")
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.create_index("ix_deal_owner_stage_board",
                              ["owner_id", "stage_id", "amount", "expected_close", "last_activity_at", "created_at"])
        batch_op.create_index("ix_deal_stage_board",
                              ["stage_id", "amount", "owner_id", "expected_close", "last_activity_at", "created_at"])
        batch_op.drop_index("ix_deal_owner_stage")
        batch_op.drop_index("ix_deal_stage")
    if op.get_bind().dialect.name == "sqlite":
        # statistics for the new indexes now (sampled, as the demo build does): without
        # them SQLite guesses a few rows per owner and may walk owners x customers
        op.execute("PRAGMA analysis_limit=1000")
        for name in ("ix_customer_owner_grid", "ix_customer_name_grid", "ix_customer_last_contact_archived",
                     "ix_customer_next_contact_owner", "ix_deal_owner_stage_board", "ix_deal_stage_board"):
            op.execute(f"ANALYZE {name}")


def downgrade() -> None:
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.create_index("ix_deal_stage", ["stage_id"])
        batch_op.create_index("ix_deal_owner_stage", ["owner_id", "stage_id"])
        batch_op.drop_index("ix_deal_stage_board")
        batch_op.drop_index("ix_deal_owner_stage_board")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index("ix_customer_owner_archived_name", ["owner_id", "archived", "name_norm"])
        batch_op.create_index("ix_customer_name_norm", ["name_norm"])
        batch_op.create_index("ix_customer_last_contact", ["last_contact_at"])
        batch_op.drop_index("ix_customer_last_contact_archived")
        batch_op.create_index("ix_customer_next_contact", ["next_contact_on"])
        batch_op.drop_index("ix_customer_next_contact_owner")
        batch_op.drop_index("ix_customer_name_grid")
        batch_op.drop_index("ix_customer_owner_grid")
