"""What every write path shares to check input: what counts as empty, a cell as text, money,
and turning a model's validation errors into one message per field in the user's language.

The field rules themselves (lengths, ranges, vocabularies, the text rule) live on the models
in ``services.models``; this module applies them and words the messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import pydantic

from services.errors import ValidationError
from services.i18n import t
from services.models.fields import (  # noqa: F401 — the field rules callers use come from here
    MAX_AMOUNT,
    FieldRuleError,
    as_text,
    cell_date,
    cell_int,
    clean_text,
    is_missing,
)


def check_amount(value: Any, field: str, locale: str, errors: dict[str, str], *, required: bool = False,
                 positive: bool = False) -> Decimal | None:
    """Parse a money value into ``Decimal`` (2 places) or put a field message in ``errors``:
    negative, zero (when ``positive``), more than ``MAX_AMOUNT`` or not a number are rejected."""
    if is_missing(value):
        if required:
            errors[field] = t("err.required", locale)
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        errors[field] = t("err.number", locale)
        return None
    if not amount.is_finite():
        errors[field] = t("err.number", locale)
        return None
    if amount < 0:
        errors[field] = t("err.not_negative", locale)
    elif positive and amount == 0:
        errors[field] = t("err.positive", locale)
    elif amount > MAX_AMOUNT:
        errors[field] = t("err.too_large", locale, max=f"{MAX_AMOUNT:,}")
    else:
        return amount.quantize(Decimal("0.01"))
    return None


# pydantic error type → our message key (and the context value it needs)
_MESSAGES = {
    "missing": "err.required",
    "string_too_long": "err.too_long",
    "string_too_short": "err.required",
    "int_parsing": "err.integer",
    "int_from_float": "err.integer",
    "int_type": "err.integer",
    "decimal_parsing": "err.number",
    "decimal_type": "err.number",
    "float_parsing": "err.number",
    "float_type": "err.number",
    "date_parsing": "err.date_format",
    "date_from_datetime_parsing": "err.date_format",
    "date_from_datetime_inexact": "err.date_format",
    "date_type": "err.date_format",
    "datetime_parsing": "err.date_format",
    "datetime_from_date_parsing": "err.date_format",
    "datetime_type": "err.date_format",
    "bool_parsing": "err.boolean",
    "bool_type": "err.boolean",
    "greater_than_equal": "err.min",
    "greater_than": "err.above",
    "less_than_equal": "err.max",
    "less_than": "err.below",
    "literal_error": "err.not_in_list",
    "enum": "err.not_in_list",
    "string_type": "err.text",
}


def field_message(err: dict[str, Any], locale: str) -> str:
    """One pydantic error (from ``exc.errors()``) as our message in ``locale``."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "string_type" and err.get("input") is None:
        return t("err.required", locale)
    if kind in ("greater_than_equal", "greater_than") and ctx.get("ge", ctx.get("gt")) in (0, Decimal(0)):
        return t("err.not_negative" if kind == "greater_than_equal" else "err.positive", locale)
    key = _MESSAGES.get(kind) or ("err.number" if "decimal" in kind else None)
    if key == "err.too_long":
        return t(key, locale, max=ctx.get("max_length", ""))
    if key in ("err.min", "err.above"):
        return t(key, locale, min=_plain(ctx.get("ge", ctx.get("gt"))))
    if key in ("err.max", "err.below"):
        return t(key, locale, max=_plain(ctx.get("le", ctx.get("lt"))))
    if key == "err.not_in_list":
        return t(key, locale, options=ctx.get("options") or ctx.get("expected") or "")
    if key:
        return t(key, locale)
    if kind == "value_error" and isinstance(ctx.get("error"), FieldRuleError):
        return ctx["error"].message(locale)
    return t("err.invalid", locale)


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    return str(value)


def validate(model: type[pydantic.BaseModel], values: Mapping[str, Any] | pydantic.BaseModel,
             locale: str) -> Any:
    """Validate ``values`` into ``model`` (its field rules); any broken rule becomes a
    ``ValidationError`` with one message per field, in the actor's language."""
    if isinstance(values, model):
        return values
    if isinstance(values, pydantic.BaseModel):
        values = values.model_dump(exclude_unset=True)
    try:
        return model.model_validate(dict(values))
    except pydantic.ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            field = str(err["loc"][0]) if err.get("loc") else "__all__"
            errors.setdefault(field, _range_message(model, field, err, locale) or field_message(err, locale))
        raise ValidationError(errors) from None


def _range_message(model: type[pydantic.BaseModel], field: str, err: dict[str, Any], locale: str) -> str | None:
    """"must be between 0 and 100" for a whole-number field with both bounds (the message
    names the whole range, whichever end was crossed)."""
    if err["type"] not in ("greater_than_equal", "less_than_equal"):
        return None
    info = model.model_fields.get(field)
    if info is None or info.annotation is not int:
        return None
    bounds = {type(m).__name__: m for m in info.metadata}
    if "Ge" in bounds and "Le" in bounds:
        return t("err.range", locale, min=bounds["Ge"].ge, max=bounds["Le"].le)
    return None
