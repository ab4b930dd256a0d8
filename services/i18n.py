"""Message catalogs shared by the dashboard, the services (validation messages) and the CLI.

Catalogs live in ``services/locales/<locale>/<area>.toml`` — one file per area so each part
of the app keeps its own strings; all files of a locale merge into one flat key space
(``[customers] title = "…"`` becomes ``customers.title``). Both locales must hold the same
keys (tests/services/test_i18n.py checks).
"""

from __future__ import annotations

import tomllib
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
_ROOT = Path(__file__).resolve().parent / "locales"


def _flatten(prefix: str, data: dict, out: dict[str, str]) -> None:
    for key, value in data.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


@cache
def catalog(locale: str) -> dict[str, str]:
    """All strings of a locale, flat ``area.key`` → text."""
    out: dict[str, str] = {}
    folder = _ROOT / normalize_locale(locale)
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as fh:
            _flatten("", tomllib.load(fh), out)
    return out


def normalize_locale(value: str | None) -> str:
    """Map browser / user values ('zh', 'zh-CN', 'en-US', None) to a supported locale."""
    if not value:
        return DEFAULT_LOCALE
    v = value.replace("-", "_").lower()
    if v.startswith("zh"):
        return "zh_CN"
    if v.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def t(key: str, locale: str | None = None, **params) -> str:
    """Translate ``key``; unknown keys come back as the key itself so they are visible."""
    text = catalog(normalize_locale(locale)).get(key)
    if text is None:
        text = catalog("en").get(key, key)
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def _q(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_money(value, locale: str | None = None, currency: str = "CNY", compact: bool = True) -> str:
    """Money per locale — the one formatter of cards, tables and charts' labels: zh uses ¥
    and 万/亿 when large (compact), en K/M; both with thousands separators everywhere
    (¥6,136.06万, $1,234.50, 1,250.0K)."""
    if value is None:
        return "—"
    amount = Decimal(str(value))
    symbol = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "JPY": "¥", "GBP": "£"}.get(currency, currency + " ")
    sign = "-" if amount < 0 else ""
    a = abs(amount)
    loc = normalize_locale(locale)
    if loc == "zh_CN":
        if compact and a >= Decimal("100000000"):
            return f"{sign}{symbol}{_q(a / Decimal('100000000'), 2):,}亿"
        if compact and a >= Decimal("10000"):
            return f"{sign}{symbol}{_q(a / Decimal('10000'), 2):,}万"
        return f"{sign}{symbol}{_q(a, 2):,}"
    if compact and a >= Decimal("1000000"):
        return f"{sign}{symbol}{_q(a / Decimal('1000000'), 2):,}M"
    if compact and a >= Decimal("10000"):
        return f"{sign}{symbol}{_q(a / Decimal('1000'), 1):,}K"
    return f"{sign}{symbol}{_q(a, 2):,}"


def format_number(value, locale: str | None = None, places: int = 0) -> str:
    if value is None:
        return "—"
    return f"{_q(Decimal(str(value)), places):,}"


def format_percent(value, locale: str | None = None, places: int = 1) -> str:
    """``value`` is a ratio (0.253 → 25.3%)."""
    if value is None:
        return "—"
    return f"{_q(Decimal(str(value)) * 100, places)}%"
