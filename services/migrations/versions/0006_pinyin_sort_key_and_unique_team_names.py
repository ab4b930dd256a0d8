"""customer names sort by pinyin (a stored, indexed sort key); team names unique among
their siblings

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000


def _fill_sort_keys() -> None:
    from services.collation import name_sort_key

    conn = op.get_bind()
    customer = sa.table("customer", sa.column("id", sa.Integer), sa.column("name", sa.String),
                        sa.column("name_sort", sa.String))
    last = 0
    while True:
        rows = conn.execute(sa.select(customer.c.id, customer.c.name).where(customer.c.id > last)
                            .order_by(customer.c.id).limit(BATCH)).all()
        if not rows:
            return
        conn.execute(customer.update().where(customer.c.id == sa.bindparam("row_id"))
                     .values(name_sort=sa.bindparam("key")),
                     [{"row_id": r.id, "key": name_sort_key(r.name)} for r in rows])
        last = rows[-1].id


def _rename_twin_teams() -> None:
    """Teams that already share a name under one parent get " (2)", " (3)" … so the unique
    index can be built; nothing else changes."""
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, parent_id, name FROM team ORDER BY id")).all()
    seen: set[tuple[int, str]] = set()
    for row in rows:
        key = (row.parent_id or 0, row.name.lower())
        if key not in seen:
            seen.add(key)
            continue
        n = 2
        while (row.parent_id or 0, f"{row.name} ({n})".lower()) in seen:
            n += 1
        name = f"{row.name} ({n})"
        seen.add((row.parent_id or 0, name.lower()))
        conn.execute(sa.text("UPDATE team SET name = :name WHERE id = :id"), {"name": name, "id": row.id})


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_sort", sa.String(length=200), nullable=False, server_default=""))
    _fill_sort_keys()
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.alter_column("name_sort", server_default=None)
        batch_op.drop_index("ix_customer_owner_grid")
        batch_op.drop_index("ix_customer_name_grid")
        batch_op.create_index("ix_customer_owner_grid", ["owner_id", "archived", "name_sort", "name_norm", "tier",
                                                         "status", "last_contact_at", "id"])
        batch_op.create_index("ix_customer_name_grid", ["name_sort", "archived", "name_norm", "tier", "status",
                                                        "last_contact_at", "id"])
    _rename_twin_teams()
    op.create_index("ux_team_parent_name", "team", [sa.text("coalesce(parent_id, 0)"), sa.text("lower(name)")],
                    unique=True)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA analysis_limit=1000")
        for name in ("ix_customer_owner_grid", "ix_customer_name_grid"):
            op.execute(f"ANALYZE {name}")


def downgrade() -> None:
    op.drop_index("ux_team_parent_name", table_name="team")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_name_grid")
        batch_op.drop_index("ix_customer_owner_grid")
        batch_op.create_index("ix_customer_owner_grid",
                              ["owner_id", "archived", "name_norm", "tier", "status", "last_contact_at", "id"])
        batch_op.create_index("ix_customer_name_grid",
                              ["name_norm", "archived", "tier", "status", "last_contact_at", "id"])
        batch_op.drop_column("name_sort")
