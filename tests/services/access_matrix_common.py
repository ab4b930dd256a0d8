"""What the access matrix (test_access_matrix.py) and its per-area parts share: the roles,
the expectations, ``Case`` and the helpers that read results.

An area added later keeps its rows in ``tests/services/access_matrix_<area>.py``: it defines
``MODULES`` (its service modules), ``MATRIX`` (``{"module.function": Case(...)}``) and
``extend_world(session, world)`` (adds its own records to ``world.extra``, owned by rep_n1),
and is listed in ``AREAS`` in test_access_matrix.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

ROLES = ("rep_n1", "rep_n2", "rep_s1", "manager_n", "manager_s", "director", "admin")

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()


@dataclass
class World:
    org: Any
    c1: int  # rep_n1's customer
    c_archived: int  # rep_n1's archived customer
    pool: int  # public pool customer
    k1: int  # primary contact of c1
    k2: int  # second contact of c1
    pool_contact: int
    d_open: int
    d_won: int
    d_won2: int  # won, no contract yet
    d_lost: int
    a_planned: int
    a_done: int
    contract: int
    plan_overdue: int  # due 20 days ago, half paid
    plan_due: int  # due in 10 days, unpaid
    payment: int
    t_open: int
    t_resolved: int
    team_east: int  # an empty team
    channel: int
    lost_reason: int
    product: int
    extra: dict[str, Any] = field(default_factory=dict)  # the areas' own records



# ---------------------------------------------------------------------------
# the matrix

OWNER = {"rep_n1": True, "rep_n2": False, "rep_s1": False, "manager_n": True, "manager_s": False,
         "director": True, "admin": True}
MANAGERS = {**OWNER, "rep_n1": False}  # manager-only actions on rep_n1's records
ADMIN = {r: r == "admin" for r in ROLES}
EVERYONE = {r: True for r in ROLES}
SELF_OR_ADMIN = {r: r in ("rep_n1", "admin") for r in ROLES}

Call = Callable[[Session, Any, World], Any]


@dataclass
class Case:
    """How to call a service on rep_n1's records, who may, and (for lists / aggregates) how
    to tell that rep_n1's records are in the result. ``writes``: an allowed call must change
    the database and a refused one must not."""

    call: Call
    expect: dict[str, bool]
    sees: Callable[[Any, World], bool] | None = None
    writes: bool = False


def ids_of(frame, col: str = "id") -> set:
    return set(frame[col].tolist()) if len(frame) else set()


def first_ids(pairs) -> set:
    return {p[0] for p in pairs}


PERIOD_START, PERIOD_END = TODAY - timedelta(days=60), TODAY + timedelta(days=2)
WEEK_START = (NOW - timedelta(days=2)).date() - timedelta(days=(NOW - timedelta(days=2)).date().weekday())

