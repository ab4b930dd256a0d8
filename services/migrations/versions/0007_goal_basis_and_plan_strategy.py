"""targets: at most one per metric × holder × period × tier, the chosen basis; plans:
campaigns, channel shares, discount limits per role, milestone status

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _merge_twin_targets() -> None:
    """Targets that already share a slot (metric, scope holder, period, tier) are merged into
    the oldest one (its parts and plan links move to it), so the unique index can be built."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, metric, scope, team_id, user_id, period_kind, period_start, tier FROM target ORDER BY id")).all()
    keep: dict[tuple, int] = {}
    for row in rows:
        key = (row.metric, row.scope, row.team_id or 0, row.user_id or 0, row.period_kind, str(row.period_start),
               row.tier)
        if key not in keep:
            keep[key] = row.id
            continue
        kept = keep[key]
        conn.execute(sa.text("UPDATE target SET parent_id = :kept WHERE parent_id = :twin"),
                     {"kept": kept, "twin": row.id})
        conn.execute(sa.text("DELETE FROM sales_plan_target WHERE target_id = :twin AND plan_id IN "
                             "(SELECT plan_id FROM sales_plan_target WHERE target_id = :kept)"),
                     {"kept": kept, "twin": row.id})
        conn.execute(sa.text("UPDATE sales_plan_target SET target_id = :kept WHERE target_id = :twin"),
                     {"kept": kept, "twin": row.id})
        conn.execute(sa.text("DELETE FROM target WHERE id = :twin"), {"twin": row.id})


def upgrade() -> None:
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.add_column(sa.Column("basis_kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
        batch_op.add_column(sa.Column("basis_notes", sa.Text(), nullable=True))
    _merge_twin_targets()
    op.create_index("ux_target_slot", "target",
                    ["metric", "scope", sa.text("coalesce(team_id, 0)"), sa.text("coalesce(user_id, 0)"),
                     "period_kind", "period_start", "tier"], unique=True)
    with op.batch_alter_table("plan_milestone", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False,
                                      server_default="planned"))
    op.execute("UPDATE plan_milestone SET status = 'done' WHERE done_on IS NOT NULL")
    op.create_table(
        "plan_campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("budget", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["sales_plan.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plan_campaign", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_campaign_plan_id"), ["plan_id"], unique=False)
    op.create_table(
        "plan_channel_share",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("share", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["sales_plan.id"]),
        sa.PrimaryKeyConstraint("plan_id", "channel_id"),
    )
    op.create_table(
        "plan_discount_limit",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("max_discount", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["sales_plan.id"]),
        sa.PrimaryKeyConstraint("plan_id", "role"),
    )


def downgrade() -> None:
    op.drop_table("plan_discount_limit")
    op.drop_table("plan_channel_share")
    with op.batch_alter_table("plan_campaign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_campaign_plan_id"))
    op.drop_table("plan_campaign")
    with op.batch_alter_table("plan_milestone", schema=None) as batch_op:
        batch_op.drop_column("status")
    op.drop_index("ux_target_slot", table_name="target")
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.drop_column("basis_notes")
        batch_op.drop_column("basis_kind")
