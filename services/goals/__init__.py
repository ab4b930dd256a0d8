"""Goal setting (销售目标设定): targets from history, market and capacity; exact
decomposition into quarters, months and reps; work-back to weekly activity; tracking.

One module per concept (``common`` periods and access, ``targets`` set and change,
``split`` decomposition, ``suggest``, ``workback``, ``tracking``, ``grid`` the reps × months
grid); this package re-exports the services.
"""

from services.goals.common import parse_period, period_label
from services.goals.grid import save_team_grid, team_grid
from services.goals.split import parse_weights, split_amount, split_target
from services.goals.suggest import suggest_targets
from services.goals.targets import (
    create_target,
    delete_target,
    get_target,
    list_targets,
    target_holders,
    target_tree,
    update_targets,
)
from services.goals.tracking import attainment_report, target_progress
from services.goals.workback import workback

__all__ = ["attainment_report", "create_target", "delete_target", "get_target", "list_targets", "parse_period",
           "parse_weights", "period_label", "save_team_grid", "split_amount", "split_target", "suggest_targets",
           "target_holders", "target_progress", "target_tree", "team_grid", "update_targets", "workback"]
