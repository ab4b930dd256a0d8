"""The SalesOps domain model as SQLModel tables (docs/ARCHITECTURE.md, "Domain model").

Conventions: money is ``Decimal`` in ``Numeric(14, 2)``; timestamps are aware UTC
``datetime`` (``utcnow()``); calendar facts are ``date``. Editable entities have
``XCreate`` / ``XUpdate`` / ``XRead`` models next to the table (full-stack-fastapi-template
pattern): services validate input with the first two and return the third.

The tables live in one module per area; this package re-exports every name so callers
write ``from services.models import Customer``.
"""

from sqlmodel import SQLModel

from services.models.customers import *  # noqa: F403
from services.models.fields import *  # noqa: F403
from services.models.organisation import *  # noqa: F403
from services.models.review import *  # noqa: F403
from services.models.sales import *  # noqa: F403
from services.models.targets import *  # noqa: F403
from services.models.team import *  # noqa: F403

ALL_TABLES = list(SQLModel.metadata.sorted_tables)
