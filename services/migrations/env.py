"""Alembic environment: runs against the connection handed in by ``services.db.migrate``
(or builds one from ``DATABASE_URL``)."""

from alembic import context
from sqlmodel import SQLModel

import services.models  # noqa: F401  (registers every table on SQLModel.metadata)
from services.db import make_engine

target_metadata = SQLModel.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url") or None
    engine = make_engine(url)
    with engine.begin() as conn:
        _run(conn)
