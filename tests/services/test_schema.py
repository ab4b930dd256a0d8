"""The migrated schema equals the models (no drift), on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel


def test_migrations_match_models(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == []


def test_every_domain_table_exists(engine):
    names = set(inspect(engine).get_table_names())
    for table in ("team", "user", "setting", "audit_log", "customer", "contact", "channel", "marketing_spend",
                  "service_ticket", "activity", "product", "stage", "lost_reason", "deal", "deal_history",
                  "contract", "payment_plan", "payment", "target", "sales_plan", "plan_milestone",
                  "plan_allocation", "review", "review_action", "forecast_snapshot", "course", "enrollment",
                  "incentive_scheme", "payout", "award", "team_event"):
        assert table in names


def test_sqlite_pragmas(sqlite_engine):
    from sqlalchemy import text
    with sqlite_engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert c.execute(text("PRAGMA busy_timeout")).scalar() == 10000
