"""Company settings stored as JSON in the ``setting`` table, with defaults."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from services import audit
from services.access import Actor, core_connection, require_role
from services.db import read_once
from services.errors import ValidationError
from services.i18n import t
from services.models import Setting, utcnow

DEFAULTS: dict[str, Any] = {
    "base_currency": "CNY",
    "fiscal_year_start_month": 1,
    "timezone": "Asia/Shanghai",
    "default_language": "zh_CN",
    # public pool (公海) rules
    "pool_reclaim_days": {"A": 60, "B": 30, "C": 15},
    "pool_rep_cap": 300,
    "pool_claim_cooldown_days": 7,
    "pool_exempt_open_deals": True,
    "pool_last_reclaim_on": None,
    # planner statistics refreshed by the daily job (services.jobs)
    "statistics_last_run_on": None,
    # activities
    "activity_next_contact_required": True,
    # forecast: open deals at or above this probability (percent) are the commit
    "forecast_commit_probability": 75,
    "forecast_last_snapshot_on": None,
    # sign-in
    "session_days": 7,
    "demo_mode": False,
}

VALIDATORS = {
    "base_currency": lambda v: isinstance(v, str) and v in ("CNY", "USD", "EUR", "HKD", "JPY", "GBP"),
    "fiscal_year_start_month": lambda v: isinstance(v, int) and 1 <= v <= 12,
    "timezone": lambda v: isinstance(v, str) and _valid_tz(v),
    "default_language": lambda v: v in ("zh_CN", "en"),
    "pool_reclaim_days": lambda v: isinstance(v, dict) and all(isinstance(x, int) and 0 <= x <= 3650 for x in v.values()),
    "pool_rep_cap": lambda v: isinstance(v, int) and 0 <= v <= 1_000_000,
    "pool_claim_cooldown_days": lambda v: isinstance(v, int) and 0 <= v <= 3650,
    "pool_exempt_open_deals": lambda v: isinstance(v, bool),
    "activity_next_contact_required": lambda v: isinstance(v, bool),
    "session_days": lambda v: isinstance(v, int) and 1 <= v <= 90,
    "forecast_commit_probability": lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 100,
}


#: Whole-number settings and their allowed ranges (the message of a refused value names it).
RANGES = {"fiscal_year_start_month": (1, 12), "pool_reclaim_days": (0, 3650), "pool_rep_cap": (0, 1_000_000),
          "pool_claim_cooldown_days": (0, 3650), "session_days": (1, 90),
          "forecast_commit_probability": (1, 100)}
_CHOICES = {"base_currency": ("CNY", "USD", "EUR", "HKD", "JPY", "GBP"), "default_language": ("zh_CN", "en")}


def _refusal(key: str, locale: str | None) -> str:
    """The message for a refused value of setting ``key``: its range, its choices, or "not valid"."""
    if key in RANGES:
        low, high = RANGES[key]
        return t("err.range", locale, min=low, max=high)
    if key in _CHOICES:
        return t("err.not_in_list", locale, options=", ".join(_CHOICES[key]))
    return t("err.invalid", locale)


def _valid_tz(name: str) -> bool:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
        return True
    except Exception:
        return False


_VALUE = select(Setting.value).where(Setting.key == bindparam("key"))


def get(session: Session, key: str) -> Any:
    """The stored value of a setting, else its default. A plain Core read of the one value
    (after autoflush, so a value ``put`` in this session is seen), once per read-only
    transaction (a page's reads ask the time zone a dozen times)."""
    value = read_once(session, ("setting", key),
                      lambda: core_connection(session).execute(_VALUE, {"key": key}).scalar())
    if value is None:
        return DEFAULTS.get(key)
    return json.loads(value)


def get_all(session: Session) -> dict[str, Any]:
    values = dict(DEFAULTS)
    for row in session.scalars(select(Setting)).all():
        values[row.key] = json.loads(row.value)
    return values


def put(session: Session, key: str, value: Any) -> None:
    """Write a setting without permission checks (for system jobs and first-run setup): one
    upsert, so two writers of the same new key never collide."""
    text = json.dumps(value, ensure_ascii=False)
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = make(Setting).values(key=key, value=text, updated_at=utcnow())
    session.execute(stmt.on_conflict_do_update(index_elements=[Setting.key],
                                               set_={"value": stmt.excluded.value,
                                                     "updated_at": stmt.excluded.updated_at}))
    session.expire_all()


def claim_once(session: Session, key: str, value: Any) -> bool:
    """Set ``key`` to ``value`` unless it already holds it; True for the one caller that
    changed it. One conditional UPDATE (or an insert that yields on conflict), so of several
    app servers claiming the same day's job at once exactly one gets True."""
    text = json.dumps(value, ensure_ascii=False)
    res = session.execute(update(Setting).where(Setting.key == key, Setting.value != text)
                          .values(value=text, updated_at=utcnow()))
    if res.rowcount == 1:
        return True
    if session.get(Setting, key) is not None:
        return False
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    inserted = session.execute(make(Setting).values(key=key, value=text, updated_at=utcnow())
                               .on_conflict_do_nothing().returning(Setting.key)).scalar()
    return inserted is not None


def update_settings(session: Session, actor: Actor, *, values: dict[str, Any]) -> dict[str, Any]:
    """Admin only. Validates every value first; writes all or nothing; audits each change."""
    require_role(actor, "admin")
    errors = {}
    for key, value in values.items():
        check = VALIDATORS.get(key)
        if check is None or not check(value):
            errors[key] = _refusal(key, actor.locale) if check else t("err.unknown_ref", actor.locale, value=key)
    if errors:
        raise ValidationError(errors)
    before = get_all(session)
    for key, value in values.items():
        if before.get(key) != value:
            put(session, key, value)
            audit.record(session, actor, "setting", key, "update", {key: [before.get(key), value]})
    return get_all(session)
