"""The one way a page runs a service: ``run_service`` for a call that may write, ``read``
for a read, and ``show_outcome`` to put what went wrong on screen.

``run_service(work)`` runs ``work(session)`` as one transaction (the transaction rule in
``services.db``: a deadlock victim is rerun, a busy database becomes one plain sentence) and
never raises for what a user can cause. It returns an ``Outcome``: the value on success (the
data version is bumped so cached reads refresh), else the messages — per field, per row,
one for the whole call — with a conflict's values (theirs vs yours) and a duplicate's
matches kept for the page. An unexpected exception is logged on the server and shown as a
short sentence, never as a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import streamlit as st
from sqlmodel import Session

from dashboard.i18n import current_locale, tr
from dashboard.state import bump_data_version, get_engine
from dashboard.text import plain
from services.db import run_in_transaction
from services.errors import (
    BusyError,
    ConflictError,
    DomainError,
    DuplicateError,
    NotFound,
    PermissionDenied,
    ValidationError,
)

T = TypeVar("T")
_log = logging.getLogger("salesops.dashboard")


@dataclass
class Outcome:
    """What a service call gave the page. ``ok`` → ``value``; otherwise ``message`` (about the
    whole call), ``field_errors`` (field → message), ``row_errors`` (row key → {field:
    message}), and for the two cases a page may offer to resolve, ``conflict`` /
    ``duplicate`` (the exception, with its values / matches)."""

    value: Any = None
    message: str | None = None
    field_errors: dict[str, str] = field(default_factory=dict)
    row_errors: dict[Any, dict[str, str]] = field(default_factory=dict)
    conflict: ConflictError | None = None
    duplicate: DuplicateError | None = None

    @property
    def ok(self) -> bool:
        return not (self.message or self.field_errors or self.row_errors)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return str(value)


def conflict_message(exc: ConflictError, labels: Mapping[str, str] | None = None) -> str:
    """"Someone else changed this: <field> theirs X, yours Y; …" from the conflict's values
    (the version itself is not shown; with nothing but the version, the plain sentence)."""
    labels = labels or {}
    parts = []
    for fields in exc.conflicts.values():
        for name, (theirs, yours) in fields.items():
            if name == "version":
                continue
            parts.append(f"{labels.get(name, name)}: " + tr("err.conflict", theirs=_shown(theirs), yours=_shown(yours)))
    return "; ".join(parts) if parts else tr("err.conflict_reload")


def outcome_of(exc: BaseException, labels: Mapping[str, str] | None = None) -> Outcome:
    """The ``Outcome`` for an exception a service call raised."""
    if isinstance(exc, ValidationError):
        errors = dict(exc.errors)
        message = errors.pop("__all__", None)
        return Outcome(message=message, field_errors=errors, row_errors=dict(exc.row_errors))
    if isinstance(exc, ConflictError):
        return Outcome(message=conflict_message(exc, labels), conflict=exc)
    if isinstance(exc, DuplicateError):
        return Outcome(message=str(exc), duplicate=exc)
    if isinstance(exc, BusyError):
        return Outcome(message=exc.message(current_locale()))
    if isinstance(exc, (NotFound, PermissionDenied)):
        return Outcome(message=str(exc) or tr("err.not_allowed"))
    if isinstance(exc, DomainError):
        return Outcome(message=str(exc))
    _log.exception("service call failed", exc_info=exc)
    return Outcome(message=tr("err.unexpected"))


def run_service(work: Callable[[Session], T], *, labels: Mapping[str, str] | None = None) -> Outcome:
    """Run ``work(session)`` as one write transaction; see the module docstring."""
    try:
        value = run_in_transaction(get_engine(), work)
    except ConflictError as exc:
        bump_data_version()  # someone else saved first: the next run reads their version
        return outcome_of(exc, labels)
    except Exception as exc:  # noqa: BLE001 — every failure becomes a message, none a traceback
        return outcome_of(exc, labels)
    bump_data_version()
    return Outcome(value=value)


def read(work: Callable[[Session], T]) -> T:
    """``work(session)`` in a read-only transaction (errors propagate to the page's error
    boundary; a read the user can break should go through ``run_service``)."""
    return run_in_transaction(get_engine(), work, write=False)


def try_read(work: Callable[[Session], T], *, labels: Mapping[str, str] | None = None) -> Outcome:
    """``work(session)`` in a read-only transaction, for a read the user's input can refuse
    (a period typed wrong, a target they may not see): an ``Outcome`` like ``run_service``'s,
    without bumping the data version (nothing was written)."""
    try:
        return Outcome(value=run_in_transaction(get_engine(), work, write=False))
    except Exception as exc:  # noqa: BLE001 — every failure becomes a message, none a traceback
        return outcome_of(exc, labels)


def show_outcome(outcome: Outcome, labels: Mapping[str, str] | None = None, *, success: str | None = None) -> None:
    """Put an outcome on screen: ``success`` (if given) when it went through; otherwise one
    red box with the call's message and one line per field (labelled) and per row."""
    if outcome.ok:
        if success:
            st.success(success)
        return
    labels = labels or {}
    lines = [f"- {plain(outcome.message)}"] if outcome.message else []
    lines += [f"- **{plain(labels.get(f, f))}**: {plain(m)}" for f, m in outcome.field_errors.items()]
    for row, errs in outcome.row_errors.items():
        lines += [f"- {plain(tr('admin.row', row=row))} · **{plain(labels.get(f, f))}**: {plain(m)}"
                  for f, m in errs.items()]
    st.error("\n".join(lines))
