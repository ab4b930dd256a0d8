"""the Performance page's KPIs and findings from index entries alone:

- the closed-deal indexes (``ix_deal_stage_closed``, ``ix_deal_owner_stage_closed``) also carry
  ``opened_on`` (the sales cycle: closed − opened of the won deals of a period), and
  ``customer_id`` and ``product_id`` (the customer lifetime value: margin by product and the
  distinct customers of the year's won deals). Without them SQLite looked up every won deal's
  row: 120–170 ms per period for a director at 300k deals, three periods per page;
- ``ix_deal_stage_since`` (stage, time in it, owner, amount): the stalled-deals finding reads
  the deals of each open stage that entered it before the stage's stall limit as a range, not
  every open deal's row (80 ms for a director);
- ``ix_customer_created_owner`` also carries ``channel_id``: the new customers of a period per
  channel (the CAC) without a row lookup per customer.

Then full planner statistics for both tables.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLOSED = [("ix_deal_stage_closed", ["stage_id", "closed_on", "owner_id", "amount", "lost_reason_id"]),
          ("ix_deal_owner_stage_closed", ["owner_id", "stage_id", "closed_on", "amount", "lost_reason_id"])]
MORE = ["opened_on", "customer_id", "product_id"]
SINCE = ("ix_deal_stage_since", ["stage_id", "stage_changed_at", "owner_id", "amount"])
CREATED = ("ix_customer_created_owner", ["created_at", "owner_id"])


def _analyze() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA analysis_limit=0")  # full statistics, as in 0010
        op.execute('ANALYZE "deal"')
        op.execute('ANALYZE "customer"')
    else:
        op.execute('ANALYZE "deal", "customer"')


def upgrade() -> None:
    for name, cols in CLOSED:
        op.drop_index(name, table_name="deal")
        op.create_index(name, "deal", [*cols, *MORE])
    op.create_index(SINCE[0], "deal", SINCE[1])
    op.drop_index(CREATED[0], table_name="customer")
    op.create_index(CREATED[0], "customer", [*CREATED[1], "channel_id"])
    _analyze()


def downgrade() -> None:
    op.drop_index(CREATED[0], table_name="customer")
    op.create_index(CREATED[0], "customer", CREATED[1])
    op.drop_index(SINCE[0], table_name="deal")
    for name, cols in CLOSED:
        op.drop_index(name, table_name="deal")
        op.create_index(name, "deal", cols)
    _analyze()
