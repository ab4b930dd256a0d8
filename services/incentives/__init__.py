"""Incentives (激励): commission schemes, computed payouts, what-if, leaderboards and badges.

- ``rules``: tiers, modes, bonus thresholds, contests and the commission arithmetic (pure);
- ``schemes``: adding / changing schemes, who they apply to, period labels;
- ``payouts``: the basis from SQL, compute → save draft → approve → pay, the paid-period
  lock and its adjustment, the what-if;
- ``leaderboard``: leaderboards and badges.
"""

from services.incentives.leaderboard import LEADERBOARD_METRICS, badges, leaderboard
from services.incentives.payouts import (
    approve_payouts,
    compute_payouts,
    list_payouts,
    pay_payouts,
    save_payouts,
    what_if,
)
from services.incentives.rules import commission, parse_bonus, parse_tiers
from services.incentives.schemes import add_scheme, list_schemes, parse_period, period_label, update_scheme

__all__ = [
    "LEADERBOARD_METRICS", "add_scheme", "approve_payouts", "badges", "commission", "compute_payouts", "leaderboard",
    "list_payouts", "list_schemes", "parse_bonus", "parse_period", "parse_tiers", "pay_payouts", "period_label",
    "save_payouts", "update_scheme", "what_if",
]
