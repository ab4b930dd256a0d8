"""Access-matrix rows of the goals area: rep_n1's own year target (split into months by
the tests that need parts) — a rep sees their own targets read-only, the North manager
edits them, the South side sees nothing, director and admin everything."""

from __future__ import annotations

from decimal import Decimal

from services import goals
from services.models import Target
from tests.services.access_matrix_common import MANAGERS, OWNER, TODAY, Case

MODULES = (goals,)
YEAR = TODAY.year + 1


def extend_world(session, world) -> None:
    n1 = world.org.rep_n1.id
    year = Target(metric="contract_amount", scope="user", user_id=n1, period_kind="year",
                  period_start=TODAY.replace(year=YEAR, month=1, day=1), value=Decimal("1200"))
    session.add(year)
    session.flush()
    world.extra["target"] = year.id


def _target(w) -> int:
    return w.extra["target"]


def _sees_target(result, w) -> bool:
    return any(r["id"] == w.extra["target"] for r in result)


MATRIX = {
    "goals.create_target": Case(
        lambda s, a, w: goals.create_target(s, a, data=dict(scope="user", user_id=w.org.rep_n1.id, period=str(YEAR),
                                                            tier="stretch", value="1500")), MANAGERS, writes=True),
    "goals.get_target": Case(lambda s, a, w: goals.get_target(s, a, target_id=_target(w)), OWNER),
    "goals.list_targets": Case(lambda s, a, w: goals.list_targets(s, a, period=str(YEAR)), OWNER,
                               sees=_sees_target),
    "goals.target_tree": Case(lambda s, a, w: goals.target_tree(s, a, target_id=_target(w)), OWNER),
    "goals.update_targets": Case(lambda s, a, w: goals.update_targets(s, a, changes={_target(w): "1300"}),
                                 MANAGERS, writes=True),
    "goals.delete_target": Case(lambda s, a, w: goals.delete_target(s, a, target_id=_target(w)), MANAGERS,
                                writes=True),
    "goals.split_target": Case(lambda s, a, w: goals.split_target(s, a, target_id=_target(w), into="months",
                                                                  weights="equal"), MANAGERS, writes=True),
    "goals.suggest_targets": Case(
        lambda s, a, w: goals.suggest_targets(s, a, metric="contract_amount", scope="user", user_id=w.org.rep_n1.id,
                                              period=str(YEAR)), MANAGERS),
    "goals.workback": Case(lambda s, a, w: goals.workback(s, a, target_id=_target(w)), OWNER),
    "goals.target_progress": Case(lambda s, a, w: goals.target_progress(s, a, target_id=_target(w)), OWNER),
    "goals.target_holders": Case(lambda s, a, w: goals.target_holders(s, a), MANAGERS,
                                 sees=lambda r, w: w.org.rep_n1.id in dict(r["users"])),
    "goals.team_grid": Case(lambda s, a, w: goals.team_grid(s, a, team_id=w.org.team_n, year=str(YEAR)), MANAGERS),
    "goals.save_team_grid": Case(lambda s, a, w: goals.save_team_grid(
        s, a, team_id=w.org.team_n, year=str(YEAR), cells={w.org.rep_n1.id: ["10"] * 12}), MANAGERS, writes=True),
    "goals.attainment_report": Case(lambda s, a, w: goals.attainment_report(s, a, period=str(YEAR)), OWNER,
                                    sees=_sees_target),
}
