"""activities by time carry their owner: ix_activity_done (done_at, owner_id) and the partial
ix_activity_open_planned (planned_at, owner_id), so a team's activities of a week or a year
(the week calendar, the Overview's counts) are picked out of the time index without reading
the table; done activities of a kind by time (ix_activity_kind_done: work-back rates, activity
contests); then full planner statistics for activity

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "done_at IS NULL"


def _replace(done: list[str], planned: list[str]) -> None:
    op.drop_index("ix_activity_done", table_name="activity")
    op.create_index("ix_activity_done", "activity", done)
    op.drop_index("ix_activity_open_planned", table_name="activity")
    op.create_index("ix_activity_open_planned", "activity", planned,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def upgrade() -> None:
    _replace(["done_at", "owner_id"], ["planned_at", "owner_id"])
    op.create_index("ix_activity_kind_done", "activity", ["kind", "done_at", "owner_id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA analysis_limit=0")  # full statistics, as in 0010
        op.execute('ANALYZE "activity"')
    else:
        op.execute('ANALYZE "activity"')


def downgrade() -> None:
    op.drop_index("ix_activity_kind_done", table_name="activity")
    _replace(["done_at"], ["planned_at"])
