"""Audit trail: one row per change, written in the same transaction as the change."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from services.access import Actor
from services.models import AuditLog


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value differs."""
    return {
        k: [_plain(before.get(k)), _plain(v)]
        for k, v in after.items()
        if _plain(before.get(k)) != _plain(v)
    }


def record(
    session: Session,
    actor: Actor,
    entity: str,
    entity_id: Any,
    action: str,
    changes: dict[str, Any] | None = None,
) -> None:
    """Add an audit row (flushed with the caller's transaction)."""
    session.add(
        AuditLog(
            actor_id=actor.id,
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            changes=json.dumps({k: _plain(v) if not isinstance(v, list) else [_plain(x) for x in v] for k, v in (changes or {}).items()}, ensure_ascii=False)
            if changes
            else None,
        )
    )
