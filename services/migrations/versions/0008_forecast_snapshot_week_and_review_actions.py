"""forecast snapshots at most once a week per scope (week and scope key, unique); review
actions remember when they were checked off

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # snapshots taken before this revision have no week: they are dropped (they were never
    # written by the app, which had no forecast until now)
    op.execute("DELETE FROM forecast_snapshot")
    with op.batch_alter_table("forecast_snapshot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("week_start", sa.Date(), nullable=False))
        batch_op.add_column(sa.Column("scope_key", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False))
        batch_op.create_unique_constraint("ux_forecast_snapshot_week", ["scope_key", "week_start", "period_start"])
    with op.batch_alter_table("review_action", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checked_review_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("done_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False,
                                      server_default=sa.text("CURRENT_TIMESTAMP")))
        batch_op.create_foreign_key("fk_review_action_checked_review", "review", ["checked_review_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("review_action", schema=None) as batch_op:
        batch_op.drop_constraint("fk_review_action_checked_review", type_="foreignkey")
        batch_op.drop_column("created_at")
        batch_op.drop_column("done_on")
        batch_op.drop_column("checked_review_id")
    with op.batch_alter_table("forecast_snapshot", schema=None) as batch_op:
        batch_op.drop_constraint("ux_forecast_snapshot_week", type_="unique")
        batch_op.drop_column("scope_key")
        batch_op.drop_column("week_start")
