"""sign-in state a database copy cannot use: session ids stored hashed, wrong sign-ins
counted per username + client (login_throttle) instead of on the user row, and the
token-signing secret removed from the settings table (it now lives outside the database)

Every open session ends with this upgrade: the old tokens were signed with the secret that
is deleted here, so users sign in once more.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _session_table(id_column: str) -> None:
    op.create_table(
        "user_session",
        sa.Column(id_column, sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint(id_column),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)


def upgrade() -> None:
    # the old rows hold usable session ids in plain text: they go, with the table
    op.drop_table("user_session")
    _session_table("id_hash")
    op.create_table(
        "login_throttle",
        sa.Column("username_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("username_key", "client_key"),
    )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("locked_until")
    op.execute(sa.text("DELETE FROM setting WHERE key = 'auth_secret'"))


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.drop_table("login_throttle")
    op.drop_table("user_session")
    _session_table("id")
