"""Named number sequences (contract numbers per day, and any "next number" later areas
need): one counter row per name, advanced with a single ``UPDATE … RETURNING`` that holds the
row's lock until the transaction ends, so concurrent writers queue for the next value instead
of racing on max + 1. A value taken by a transaction that rolls back is reused by the next
one (the counter rolls back with it): no gaps from failed saves.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from services.models import NumberSequence


def next_value(session: Session, name: str, *, start: Callable[[], int] = lambda: 0) -> int:
    """The next value of sequence ``name`` (``start() + 1`` for a new sequence, so numbers
    already issued by other means — e.g. before this sequence existed — are not repeated)."""
    bump = (update(NumberSequence).where(NumberSequence.name == name)
            .values(value=NumberSequence.value + 1).returning(NumberSequence.value))
    value = session.execute(bump).scalar()
    if value is None:
        dialect = session.get_bind().dialect.name
        make = {"postgresql": pg_insert, "sqlite": sqlite_insert}.get(dialect)
        stmt = (make(NumberSequence).values(name=name, value=start()).on_conflict_do_nothing()
                if make else insert(NumberSequence).values(name=name, value=start()))
        session.execute(stmt)
        value = session.execute(bump).scalar()
    return int(value)
