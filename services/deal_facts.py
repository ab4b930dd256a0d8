"""The funnel's facts about each deal's stage history, kept by database triggers (migration
0014) with every deal and stage-history row written, by whoever writes it:

- ``deal.stages_reached`` — the ids of every stage the deal was in (its current stage, and
  every stage its stage history rows moved it into or out of; ids of existing stages only) as
  text: ``,1,2,4,``;
- ``deal.stage_entered_from`` — the old value of its latest stage row (by ``changed_at``,
  ``id``) into its current stage: for a lost deal, the stage it was lost from;
- per stage-history row (a *visit* of a stage) ``days`` — from its ``changed_at`` to the
  deal's next stage row, NULL while the deal is still there — and the deal's ``opened_on`` /
  ``owner_id`` as ``deal_opened_on`` / ``deal_owner_id``.

``refresh`` recomputes all of them set-based from the history, for a bulk load that ran with
the triggers off (the demo build) — and the tests compare it with what the triggers kept.
``reached`` is the test the analytics use in SQL, ``reached_ids`` the same read in Python."""

from __future__ import annotations

from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

TABLES = ("deal", "deal_history")
COLUMNS = ("stages_reached", "stage_entered_from", "days", "deal_opened_on", "deal_owner_id")


def reached(col, pattern) -> ColumnElement:
    """SQL: the deal whose kept ``stages_reached`` is ``col`` was in the stage of ``pattern``
    (``reached_pattern``, or a bound parameter holding it)."""
    return col.like(pattern)


def reached_pattern(stage_id: int) -> str:
    """The LIKE pattern of ``reached`` for stage ``stage_id``."""
    return f"%,{int(stage_id)},%"


def reached_ids(pattern: str | None) -> set[int]:
    """The stage ids of a kept ``stages_reached`` text (``,1,2,4,``)."""
    return {int(x) for x in (pattern or "").split(",") if x.isdigit()}


def _days(later: str, earlier: str, sqlite: bool) -> str:
    if sqlite:
        return f"(julianday({later}) - julianday({earlier}))"
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"


def refresh(conn: Connection) -> None:
    """Recompute every deal's and every stage row's facts from the stage history (in the
    caller's transaction)."""
    sqlite = conn.dialect.name == "sqlite"
    concat = "group_concat(x.s, ',')" if sqlite else "string_agg(x.s, ',')"
    latest_into_now = ("(SELECT h.old_value FROM deal_history h WHERE h.deal_id = deal.id AND h.field = 'stage' "
                       "AND h.new_value = CAST(deal.stage_id AS TEXT) ORDER BY h.changed_at DESC, h.id DESC LIMIT 1)")
    conn.exec_driver_sql(
        f"UPDATE deal SET stages_reached = ',' || (SELECT {concat} FROM (SELECT CAST(deal.stage_id AS TEXT) AS s "
        "UNION SELECT h.new_value FROM deal_history h WHERE h.deal_id = deal.id AND h.field = 'stage' "
        "AND h.new_value IN (SELECT CAST(st.id AS TEXT) FROM stage st) "
        "UNION SELECT h.old_value FROM deal_history h WHERE h.deal_id = deal.id AND h.field = 'stage' "
        "AND h.old_value IN (SELECT CAST(st.id AS TEXT) FROM stage st)) x) || ',', "
        f"stage_entered_from = {latest_into_now}")
    conn.exec_driver_sql(
        "UPDATE deal_history SET deal_owner_id = d.owner_id, deal_opened_on = d.opened_on FROM deal d "
        "WHERE d.id = deal_history.deal_id AND deal_history.field = 'stage'")
    conn.exec_driver_sql("UPDATE deal_history SET days = NULL WHERE field = 'stage' AND days IS NOT NULL")
    conn.exec_driver_sql(
        f"UPDATE deal_history SET days = {_days('v.left_at', 'deal_history.changed_at', sqlite)} FROM "
        "(SELECT id, lead(changed_at) OVER (PARTITION BY deal_id ORDER BY changed_at, id) AS left_at "
        "FROM deal_history WHERE field = 'stage') v WHERE v.id = deal_history.id AND v.left_at IS NOT NULL")


__all__ = ["COLUMNS", "TABLES", "reached", "reached_ids", "refresh"]
