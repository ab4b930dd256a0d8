"""the analytics' target reads (the base contract-amount target of a scope: which teams have
targets, then the rows of the holders that count — services.analytics.targets) from one
covering index in holder order: ``ix_target_holder`` (metric, tier, scope, team, user, period
start, period kind, value). ``ix_target_lookup`` (metric, period kind, period start, scope)
made SQLite skip-scan every kind and look up each row: a manager's two target reads 0.8 + 1.5 ms
at the large demo's 12,240 targets, 0.003 + 0.5 ms from the new index; they run on the
Overview (KPIs and trend), the forecast, the findings and the meeting. Then full planner
statistics for the table.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLDER = ("ix_target_holder", ["metric", "tier", "scope", "team_id", "user_id", "period_start", "period_kind", "value"])


def _analyze() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA analysis_limit=0")  # full statistics, as in 0010
    op.execute('ANALYZE "target"')


def upgrade() -> None:
    op.create_index(HOLDER[0], "target", HOLDER[1])
    _analyze()


def downgrade() -> None:
    op.drop_index(HOLDER[0], table_name="target")
    _analyze()
