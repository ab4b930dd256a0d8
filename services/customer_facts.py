"""A customer's count of open (planned, not yet done) activities, ``customer.open_activities``,
kept by database triggers (migration 0016) with every activity written, by whoever writes it:
the activity service, an import, a merge that moves activities to another customer, a
deletion. The agenda lists a customer's own follow-up only while it has none
(``FOLLOW_UP_DUE``, the partial follow-up indexes' condition).

``refresh`` recomputes it set-based from the activities, for a bulk load that ran with the
triggers off (the demo build) — and the tests compare it with what the triggers kept."""

from __future__ import annotations

from sqlalchemy import literal_column
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from services.models import Customer

TABLES = ("activity",)
COLUMNS = ("open_activities",)


def follow_up_due() -> list[ColumnElement]:
    """SQL terms: the customer has a next contact date and no open activity — the partial
    indexes' condition (``models.customers.FOLLOW_UP_DUE``) as literals, so both planners
    match it."""
    return [Customer.open_activities == literal_column("0"), Customer.next_contact_on.is_not(None)]


def refresh(conn: Connection) -> None:
    """Recompute every customer's open activities (in the caller's transaction)."""
    open_count = "(SELECT count(*) FROM activity a WHERE a.customer_id = customer.id AND a.done_at IS NULL)"
    conn.exec_driver_sql(f"UPDATE customer SET open_activities = {open_count} WHERE open_activities <> {open_count}")
