"""Domain errors. Pages and the CLI turn these into clear messages; a service call that
raises one has written nothing (one call = one transaction)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class of every error a service raises on purpose."""


class ValidationError(DomainError):
    """Input broke a rule. ``errors`` maps field → message (in the actor's language);
    ``row_errors`` maps a row key (grid row id / import row number) → {field: message}."""

    def __init__(
        self,
        errors: dict[str, str] | None = None,
        *,
        row_errors: dict[Any, dict[str, str]] | None = None,
    ) -> None:
        self.errors = dict(errors or {})
        self.row_errors = dict(row_errors or {})
        super().__init__(self.summary())

    def summary(self) -> str:
        parts = [f"{field}: {msg}" for field, msg in self.errors.items()]
        for row, errs in self.row_errors.items():
            parts.extend(f"[{row}] {field}: {msg}" for field, msg in errs.items())
        return "; ".join(parts) or "invalid input"


class PermissionDenied(DomainError):
    """The actor may not see or change this."""


class NotFound(DomainError):
    """The row does not exist (or is invisible to the actor — we do not tell which)."""


class FieldNotFound(ValidationError, NotFound):
    """A referenced row does not exist or is invisible to the actor. Carries a field
    message (``errors``) for forms and is also a ``NotFound`` for callers that care."""


class FieldPermissionDenied(ValidationError, PermissionDenied):
    """The actor may see the referenced row but not act on it; carries a field message."""


class ConflictError(DomainError):
    """Someone else changed the row since it was loaded. ``conflicts`` maps row id →
    {field: (their_value, your_value)}; nothing was written."""

    def __init__(self, conflicts: dict[Any, dict[str, tuple[Any, Any]]], message: str = "") -> None:
        self.conflicts = conflicts
        super().__init__(message or f"{len(conflicts)} row(s) were changed by someone else")


class BusyError(DomainError):
    """The database could not take this write within the lock bound (or kept choosing it as
    a deadlock victim). Nothing was written; the user may simply try again. ``retryable``:
    rerunning the whole transaction at once may succeed (deadlock / serialization)."""

    def __init__(self, *, retryable: bool = False) -> None:
        self.retryable = retryable
        super().__init__("the database is busy: your change was not saved, please try again")

    def message(self, locale: str | None) -> str:
        from services.i18n import t

        return t("err.busy", locale)


class DuplicateError(DomainError):
    """A new or edited record matches existing ones; ``matches`` lists what may be shown."""

    def __init__(self, matches: list[dict[str, Any]], message: str = "") -> None:
        self.matches = matches
        super().__init__(message or "possible duplicate")
