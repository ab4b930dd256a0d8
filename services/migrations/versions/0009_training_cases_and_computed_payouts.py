"""training and incentives: course maximum score, material link and sessions; enrollment
progress and certification; the case library; scheme mode, bonus thresholds, scope and
contests; payout parts and calculation lines; team event kind, plan and participants; deal
quantity (for the gross-margin basis)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("course") as b:
        b.add_column(sa.Column("max_score", sa.Integer(), nullable=False, server_default=sa.text("100")))
        b.add_column(sa.Column("material_url", _S(length=500), nullable=True))
    with op.batch_alter_table("enrollment") as b:
        b.add_column(sa.Column("progress", sa.Integer(), nullable=False, server_default=sa.text("0")))
        b.add_column(sa.Column("certified_on", sa.Date(), nullable=True))
    with op.batch_alter_table("incentive_scheme") as b:
        b.add_column(sa.Column("mode", _S(length=10), nullable=False, server_default="whole"))
        b.add_column(sa.Column("bonus", sa.Text(), nullable=False, server_default="[]"))
        b.add_column(sa.Column("team_ids", sa.Text(), nullable=False, server_default="[]"))
        b.add_column(sa.Column("user_ids", sa.Text(), nullable=False, server_default="[]"))
        b.add_column(sa.Column("contest", sa.Text(), nullable=True))
    with op.batch_alter_table("payout") as b:
        for col in ("commission", "bonus", "adjustment"):
            b.add_column(sa.Column(col, sa.Numeric(14, 2), nullable=False, server_default=sa.text("0")))
        b.add_column(sa.Column("lines", sa.Text(), nullable=False, server_default="[]"))
    with op.batch_alter_table("team_event") as b:
        b.add_column(sa.Column("kind", _S(length=20), nullable=False, server_default="team_building"))
        b.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
        b.create_foreign_key("fk_team_event_plan_id", "sales_plan", ["plan_id"], ["id"])
        b.create_index("ix_team_event_plan_id", ["plan_id"], unique=False)
    with op.batch_alter_table("deal") as b:
        b.add_column(sa.Column("quantity", sa.Integer(), nullable=False, server_default=sa.text("1")))

    op.create_table(
        "course_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("trainer", _S(length=120), nullable=False),
        sa.Column("attendees", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("notes", _S(length=300), nullable=True),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_course_session_course_id", "course_session", ["course_id"], unique=False)
    op.create_table(
        "sales_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", _S(length=200), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("stage_id", sa.Integer(), nullable=True),
        sa.Column("outcome", _S(length=8), nullable=False),
        sa.Column("situation", sa.Text(), nullable=True),
        sa.Column("what_worked", sa.Text(), nullable=True),
        sa.Column("objections", sa.Text(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("status", _S(length=10), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["deal.id"]),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"]),
        sa.ForeignKeyConstraint(["stage_id"], ["stage.id"]),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["reviewed_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for col in ("deal_id", "product_id", "author_id"):
        op.create_index(f"ix_sales_case_{col}", "sales_case", [col], unique=False)
    op.create_table(
        "course_case",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["sales_case.id"]),
        sa.PrimaryKeyConstraint("course_id", "case_id"),
    )
    op.create_table(
        "team_event_participant",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["team_event.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("event_id", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("team_event_participant")
    op.drop_table("course_case")
    for col in ("deal_id", "product_id", "author_id"):
        op.drop_index(f"ix_sales_case_{col}", table_name="sales_case")
    op.drop_table("sales_case")
    op.drop_index("ix_course_session_course_id", table_name="course_session")
    op.drop_table("course_session")
    with op.batch_alter_table("deal") as b:
        b.drop_column("quantity")
    with op.batch_alter_table("team_event") as b:
        b.drop_index("ix_team_event_plan_id")
        b.drop_constraint("fk_team_event_plan_id", type_="foreignkey")
        b.drop_column("plan_id")
        b.drop_column("kind")
    with op.batch_alter_table("payout") as b:
        for col in ("lines", "adjustment", "bonus", "commission"):
            b.drop_column(col)
    with op.batch_alter_table("incentive_scheme") as b:
        for col in ("contest", "user_ids", "team_ids", "bonus", "mode"):
            b.drop_column(col)
    with op.batch_alter_table("enrollment") as b:
        b.drop_column("certified_on")
        b.drop_column("progress")
    with op.batch_alter_table("course") as b:
        b.drop_column("material_url")
        b.drop_column("max_score")
