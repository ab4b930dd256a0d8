"""Property tests: whatever a grid, an import or a user throws at the customer validators,
each field is either accepted (and then storable) or rejected with a field message; the
validators never raise, and nothing invalid reaches the database."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services import customers as cs
from services.contacts import validate_contact_fields
from services.models import CUSTOMER_STATUSES, TIERS, CustomerCreate
from services.models.fields import valid_email, valid_phone

anything = st.one_of(
    st.none(),
    st.text(max_size=250),
    st.text(alphabet="0123456789+-() ０１２３", max_size=30),
    st.emails(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)

customer_data = st.fixed_dictionaries({}, optional={f: anything for f in cs.EDITABLE_FIELDS})


def _max_length(field: str) -> int:
    return next(m.max_length for m in CustomerCreate.model_fields[field].metadata if hasattr(m, "max_length"))


def _assert_storable(clean: dict) -> None:
    for f, v in clean.items():
        if f in ("name", "industry", "region", "address", "notes", "phone", "email", "credit_code"):
            assert v is None or isinstance(v, str)
            if isinstance(v, str):
                assert "\x00" not in v
                v.encode("utf-8")
        if f == "name":
            assert v and len(v) <= 200
        if f == "email" and v is not None:
            assert valid_email(v)
        if f == "phone" and v is not None:
            assert valid_phone(v)
        if f == "credit_code" and v is not None:
            assert cs.valid_credit_code(v)
        if f == "tier":
            assert v in TIERS
        if f == "status":
            assert v in CUSTOMER_STATUSES
        if f in ("owner_id", "channel_id"):
            assert v is None or (isinstance(v, int) and not isinstance(v, bool))
        if f == "next_contact_on":
            assert v is None or (isinstance(v, date) and 1900 <= v.year <= 2200)
        if isinstance(v, str):  # within the field's limit on the model (the one place it is written)
            assert len(v) <= _max_length(f)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=customer_data, locale=st.sampled_from(["en", "zh_CN", None]), partial=st.booleans())
def test_every_field_is_accepted_or_gets_a_message(data, locale, partial):
    clean, errors = cs.validate_customer_fields(data, locale, partial=partial)
    fields = [f for f in cs.EDITABLE_FIELDS if f in data] if partial else list(cs.EDITABLE_FIELDS)
    for f in fields:
        assert (f in clean) != (f in errors), f  # exactly one of: accepted, rejected
        if f in errors:
            assert isinstance(errors[f], str) and errors[f].strip()
    assert set(errors) <= set(fields)
    _assert_storable(clean)


@settings(max_examples=200, deadline=None)
@given(data=st.fixed_dictionaries({}, optional={f: anything for f in ("name", "title", "phone", "email",
                                                                        "is_primary", "notes")}))
def test_contact_validator_never_raises(data):
    clean, errors = validate_contact_fields(data, "en")
    for f in ("name", "title", "phone", "email", "is_primary", "notes"):
        assert (f in clean) != (f in errors)


@pytest.mark.parametrize("value", ["2026-02-30", "2026/2/3", datetime(2026, 1, 1, 9), Decimal("3"), "  "])
def test_odd_but_plausible_values(value):
    clean, errors = cs.validate_customer_fields({"name": "x", "next_contact_on": value}, "en")
    assert ("next_contact_on" in clean) != ("next_contact_on" in errors)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
          deadline=None)
@given(data=customer_data)
def test_whatever_passes_validation_saves_on_postgres_and_sqlite(engine, org, data):
    """What the validator accepts, the database stores — and a rejected save stores nothing."""
    from sqlalchemy import func, select

    from services.db import session_scope
    from services.errors import DomainError
    from services.models import Customer

    data = {k: v for k, v in data.items() if k != "owner_id"}  # owner: the manager's own team only
    with session_scope(engine) as s:
        before = s.scalar(select(func.count()).select_from(Customer))
    with session_scope(engine) as s:
        clean, errors = cs.validate_customer_fields(data, "en", session=s)
    try:
        with session_scope(engine) as s:
            cs.update_many(s, org.manager_n, changes={"create": [{"_key": "h", **data}]}, override_duplicate=True)
        saved = True
    except DomainError:
        saved = False
    with session_scope(engine) as s:
        after = s.scalar(select(func.count()).select_from(Customer))
    assert saved == (not errors)
    assert after == before + (1 if saved else 0)
