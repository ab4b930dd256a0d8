"""deals keep the funnel's facts about their stage history, by database triggers in the same
statement as every deal or stage-history row written, by whoever writes it:

- ``deal.stages_reached``: the ids of every stage the deal was in (its current stage, and every
  stage its stage history rows moved it into or out of) as text, ``,1,2,4,``;
- ``deal.stage_entered_from``: the old value of its latest stage row into its current stage
  (for a lost deal: the stage it was lost from);
- on every stage-history row (a *visit* of a stage): ``days``, the visit's length (to the
  deal's next stage row; NULL while the deal is still there), and the deal's ``opened_on`` and
  ``owner_id`` as ``deal_opened_on`` / ``deal_owner_id``.

The cohort indexes carry the two deal columns, the closed-deal indexes the lost reason, the stage board index the stages reached, and partial indexes on the stage rows carry
the visits by cohort (and by owner) and by length, so the funnel's reach, conversion,
leakage and days in stage read index entries only — never every deal's history rows. Then
full planner statistics for both tables.

This revision's backfill is its own (a migration is a snapshot); the live recompute is
``services.deal_facts.refresh`` (the demo build uses it after its bulk load).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAGE_ROW = "field = 'stage'"
ENDED = "field = 'stage' AND days IS NOT NULL"
COHORT = ["opened_on", "owner_id", "stage_id", "amount", "closed_on", "lost_reason_id", "stages_reached",
          "stage_entered_from", "id"]
OWNER_COHORT = ["owner_id", "opened_on", "stage_id", "amount", "closed_on", "lost_reason_id", "stages_reached",
                "stage_entered_from", "id"]
OLD_COHORT = ["opened_on", "owner_id", "stage_id", "amount", "closed_on", "lost_reason_id", "id"]
OLD_OWNER_COHORT = ["owner_id", "opened_on", "stage_id", "amount", "closed_on", "lost_reason_id", "id"]
BOARD = ["stage_id", "amount", "owner_id", "expected_close", "last_activity_at", "created_at", "probability"]
CLOSED = [("ix_deal_stage_closed", ["stage_id", "closed_on", "owner_id", "amount"]),
          ("ix_deal_owner_stage_closed", ["owner_id", "stage_id", "closed_on", "amount"])]
VISITS = [("ix_deal_history_visit", ["deal_opened_on", "new_value", "deal_owner_id", "days"], STAGE_ROW),
          ("ix_deal_history_owner_visit", ["deal_owner_id", "deal_opened_on", "new_value", "days"], STAGE_ROW),
          ("ix_deal_history_visit_days", ["new_value", "days", "deal_opened_on", "deal_owner_id"], ENDED)]


def _add(col: str, value: str) -> str:
    """``col`` with stage id text ``value`` added when it is not in it yet."""
    return (f"CASE WHEN {_has(col, value)} THEN {col} "
            f"ELSE COALESCE(NULLIF({col}, ''), ',') || {value} || ',' END")


def _has(col: str, value: str) -> str:
    return f"COALESCE({col}, '') LIKE '%,' || {value} || ',%'"


def _entered_from(deal_id: str, stage_id: str) -> str:
    return (f"(SELECT h.old_value FROM deal_history h WHERE h.deal_id = {deal_id} AND h.field = 'stage' "
            f"AND h.new_value = CAST({stage_id} AS TEXT) ORDER BY h.changed_at DESC, h.id DESC LIMIT 1)")


def _after(row: str) -> str:
    return (f"(h.changed_at > {row}.changed_at OR (h.changed_at = {row}.changed_at AND h.id > {row}.id))")


def _before(row: str) -> str:
    return (f"(h.changed_at < {row}.changed_at OR (h.changed_at = {row}.changed_at AND h.id < {row}.id))")


def _days(later: str, earlier: str, sqlite: bool) -> str:
    if sqlite:
        return f"(julianday({later}) - julianday({earlier}))"
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"


def _sqlite_triggers() -> list[str]:
    stage_text = "NEW.new_value IN (SELECT CAST(s.id AS TEXT) FROM stage s)"
    return [
        "CREATE TRIGGER tr_deal_facts_insert AFTER INSERT ON deal BEGIN "
        f"UPDATE deal SET stages_reached = {_add('stages_reached', 'NEW.stage_id')} WHERE id = NEW.id; END",
        "CREATE TRIGGER tr_deal_facts_stage AFTER UPDATE OF stage_id ON deal BEGIN "
        f"UPDATE deal SET stages_reached = {_add('stages_reached', 'NEW.stage_id')}, "
        f"stage_entered_from = {_entered_from('NEW.id', 'NEW.stage_id')} WHERE id = NEW.id; END",
        "CREATE TRIGGER tr_deal_facts_cohort AFTER UPDATE OF owner_id, opened_on ON deal "
        "WHEN OLD.owner_id IS NOT NEW.owner_id OR OLD.opened_on IS NOT NEW.opened_on BEGIN "
        "UPDATE deal_history SET deal_owner_id = NEW.owner_id, deal_opened_on = NEW.opened_on "
        "WHERE deal_id = NEW.id AND field = 'stage'; END",
        "CREATE TRIGGER tr_deal_history_facts AFTER INSERT ON deal_history WHEN NEW.field = 'stage' BEGIN "
        # the row's own facts: the deal's cohort, and its length when a later stage row is there
        "UPDATE deal_history SET deal_owner_id = (SELECT d.owner_id FROM deal d WHERE d.id = NEW.deal_id), "
        "deal_opened_on = (SELECT d.opened_on FROM deal d WHERE d.id = NEW.deal_id), "
        f"days = (SELECT {_days('h.changed_at', 'NEW.changed_at', True)} FROM deal_history h "
        f"WHERE h.deal_id = NEW.deal_id AND h.field = 'stage' AND {_after('NEW')} "
        "ORDER BY h.changed_at, h.id LIMIT 1) WHERE id = NEW.id; "
        # the visit before it ends here
        f"UPDATE deal_history SET days = {_days('NEW.changed_at', 'changed_at', True)} WHERE id = "
        f"(SELECT h.id FROM deal_history h WHERE h.deal_id = NEW.deal_id AND h.field = 'stage' AND {_before('NEW')} "
        "ORDER BY h.changed_at DESC, h.id DESC LIMIT 1); "
        f"UPDATE deal SET stages_reached = {_add('stages_reached', 'NEW.old_value')} "
        f"WHERE id = NEW.deal_id AND {stage_text.replace('new_value', 'old_value')}; "
        f"UPDATE deal SET stages_reached = CASE WHEN {stage_text} THEN {_add('stages_reached', 'NEW.new_value')} "
        f"ELSE stages_reached END, stage_entered_from = {_entered_from('deal.id', 'deal.stage_id')} "
        "WHERE id = NEW.deal_id; END",
    ]


PG_TRIGGERS = [
    "CREATE FUNCTION deal_facts_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"NEW.stages_reached := {_add('NEW.stages_reached', 'NEW.stage_id::text')}; "
    "IF TG_OP = 'UPDATE' THEN "
    f"NEW.stage_entered_from := {_entered_from('NEW.id', 'NEW.stage_id')}; END IF; "
    "RETURN NEW; END $$",
    "CREATE TRIGGER tr_deal_facts BEFORE INSERT OR UPDATE OF stage_id ON deal "
    "FOR EACH ROW EXECUTE FUNCTION deal_facts_sync()",
    "CREATE FUNCTION deal_cohort_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE deal_history SET deal_owner_id = NEW.owner_id, deal_opened_on = NEW.opened_on "
    "WHERE deal_id = NEW.id AND field = 'stage'; RETURN NULL; END $$",
    "CREATE TRIGGER tr_deal_cohort AFTER UPDATE OF owner_id, opened_on ON deal FOR EACH ROW "
    "WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.opened_on IS DISTINCT FROM NEW.opened_on) "
    "EXECUTE FUNCTION deal_cohort_sync()",
    # the deal's row lock first: a concurrent stage row or owner change of the same deal is
    # waited for, and every statement after it (a fresh snapshot each) sees what that wrote
    "CREATE FUNCTION deal_history_facts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE deal SET stages_reached = CASE WHEN NEW.new_value IN (SELECT s.id::text FROM stage s) "
    f"THEN {_add('stages_reached', 'NEW.new_value')} ELSE stages_reached END WHERE id = NEW.deal_id; "
    f"UPDATE deal SET stages_reached = {_add('stages_reached', 'NEW.old_value')} "
    "WHERE id = NEW.deal_id AND NEW.old_value IN (SELECT s.id::text FROM stage s); "
    f"UPDATE deal SET stage_entered_from = {_entered_from('deal.id', 'deal.stage_id')} WHERE id = NEW.deal_id; "
    # the row's own facts: the deal's cohort, and its length when a later stage row is there
    "UPDATE deal_history SET deal_owner_id = d.owner_id, deal_opened_on = d.opened_on, "
    f"days = (SELECT {_days('h.changed_at', 'NEW.changed_at', False)} FROM deal_history h "
    f"WHERE h.deal_id = NEW.deal_id AND h.field = 'stage' AND {_after('NEW')} ORDER BY h.changed_at, h.id LIMIT 1) "
    "FROM deal d WHERE d.id = NEW.deal_id AND deal_history.id = NEW.id; "
    # the visit before it ends here
    f"UPDATE deal_history SET days = {_days('NEW.changed_at', 'changed_at', False)} WHERE id = "
    f"(SELECT h.id FROM deal_history h WHERE h.deal_id = NEW.deal_id AND h.field = 'stage' AND {_before('NEW')} "
    "ORDER BY h.changed_at DESC, h.id DESC LIMIT 1); "
    "RETURN NULL; END $$",
    "CREATE TRIGGER tr_deal_history_facts AFTER INSERT ON deal_history FOR EACH ROW "
    "WHEN (NEW.field = 'stage') EXECUTE FUNCTION deal_history_facts()",
]


def backfill(sqlite: bool) -> list[str]:
    """Every existing deal's and stage row's facts, set-based."""
    concat = "group_concat(x.s, ',')" if sqlite else "string_agg(x.s, ',')"
    return [
        "UPDATE deal SET stages_reached = ',' || (SELECT " + concat + " FROM (SELECT CAST(deal.stage_id AS TEXT) AS s "
        "UNION SELECT h.new_value FROM deal_history h WHERE h.deal_id = deal.id AND h.field = 'stage' "
        "AND h.new_value IN (SELECT CAST(st.id AS TEXT) FROM stage st) "
        "UNION SELECT h.old_value FROM deal_history h WHERE h.deal_id = deal.id AND h.field = 'stage' "
        "AND h.old_value IN (SELECT CAST(st.id AS TEXT) FROM stage st)) x) || ',', "
        f"stage_entered_from = {_entered_from('deal.id', 'deal.stage_id')}",
        "UPDATE deal_history SET deal_owner_id = d.owner_id, deal_opened_on = d.opened_on FROM deal d "
        "WHERE d.id = deal_history.deal_id AND deal_history.field = 'stage'",
        f"UPDATE deal_history SET days = {_days('v.left_at', 'deal_history.changed_at', sqlite)} FROM "
        "(SELECT id, lead(changed_at) OVER (PARTITION BY deal_id ORDER BY changed_at, id) AS left_at "
        "FROM deal_history WHERE field = 'stage') v WHERE v.id = deal_history.id AND v.left_at IS NOT NULL",
    ]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("deal", sa.Column("stages_reached", sa.String(400), nullable=False, server_default=","))
    op.add_column("deal", sa.Column("stage_entered_from", sa.String(60), nullable=True))
    op.add_column("deal_history", sa.Column("days", sa.Float(), nullable=True))
    op.add_column("deal_history", sa.Column("deal_opened_on", sa.Date(), nullable=True))
    op.add_column("deal_history", sa.Column("deal_owner_id", sa.Integer(), nullable=True))
    for statement in backfill(sqlite):
        op.execute(statement)
    for statement in _sqlite_triggers() if sqlite else PG_TRIGGERS:
        op.execute(statement)
    op.drop_index("ix_deal_opened_cohort", table_name="deal")
    op.create_index("ix_deal_opened_cohort", "deal", COHORT)
    op.drop_index("ix_deal_owner_opened_cohort", table_name="deal")
    op.create_index("ix_deal_owner_opened_cohort", "deal", OWNER_COHORT)
    for name, cols, where in VISITS:
        op.create_index(name, "deal_history", cols, sqlite_where=sa.text(where), postgresql_where=sa.text(where))
    op.drop_index("ix_deal_stage_board", table_name="deal")  # the pipeline's funnel from the index alone
    op.create_index("ix_deal_stage_board", "deal", [*BOARD, "stages_reached"])
    for name, cols in CLOSED:  # the lost deals of a period by reason, from the index alone
        op.drop_index(name, table_name="deal")
        op.create_index(name, "deal", [*cols, "lost_reason_id"])
    if sqlite:
        op.execute("PRAGMA analysis_limit=0")  # full statistics, as in 0010
        for table in ("deal", "deal_history"):
            op.execute(f'ANALYZE "{table}"')
    else:
        op.execute('ANALYZE "deal", "deal_history"')


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, _cols, _where in VISITS:
        op.drop_index(name, table_name="deal_history")
    for name, cols in CLOSED:
        op.drop_index(name, table_name="deal")
        op.create_index(name, "deal", cols)
    op.drop_index("ix_deal_stage_board", table_name="deal")
    op.create_index("ix_deal_stage_board", "deal", BOARD)
    op.drop_index("ix_deal_owner_opened_cohort", table_name="deal")
    op.create_index("ix_deal_owner_opened_cohort", "deal", OLD_OWNER_COHORT)
    op.drop_index("ix_deal_opened_cohort", table_name="deal")
    op.create_index("ix_deal_opened_cohort", "deal", OLD_COHORT)
    if sqlite:
        for name in ("tr_deal_facts_insert", "tr_deal_facts_stage", "tr_deal_facts_cohort", "tr_deal_history_facts"):
            op.execute(f"DROP TRIGGER {name}")
    else:
        for name, table in (("tr_deal_facts", "deal"), ("tr_deal_cohort", "deal"),
                            ("tr_deal_history_facts", "deal_history")):
            op.execute(f"DROP TRIGGER {name} ON {table}")
        for name in ("deal_facts_sync", "deal_cohort_sync", "deal_history_facts"):
            op.execute(f"DROP FUNCTION {name}()")
    # plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35), as in 0012
    for table, column in (("deal_history", "deal_owner_id"), ("deal_history", "deal_opened_on"),
                          ("deal_history", "days"), ("deal", "stage_entered_from"), ("deal", "stages_reached")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
