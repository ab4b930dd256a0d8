"""Both languages hold the same keys with the same placeholders; every literal key the code
asks for exists; money is formatted per locale (zh: ¥ with 万 / 亿)."""

from __future__ import annotations

import re
import string
from decimal import Decimal
from pathlib import Path

import pytest

from services.i18n import LOCALES, catalog, format_money, normalize_locale, t

ROOT = Path(__file__).resolve().parents[2]
KEY_CALL = re.compile(r"""\b(?:tr|t)\(\s*["']([a-z0-9_]+\.[a-z0-9_.]+)["']""")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_exists_in_both_catalogs():
    zh, en = catalog("zh_CN"), catalog("en")
    assert sorted(set(zh) - set(en)) == [], "keys only in zh_CN"
    assert sorted(set(en) - set(zh)) == [], "keys only in en"


def test_placeholders_match_between_languages():
    zh, en = catalog("zh_CN"), catalog("en")
    wrong = {k: (_fields(en[k]), _fields(zh[k])) for k in en if _fields(en[k]) != _fields(zh[k])}
    assert wrong == {}


def test_no_empty_strings():
    for loc in LOCALES:
        assert [k for k, v in catalog(loc).items() if not v.strip()] == []


def test_every_literal_key_used_in_code_exists():
    """tr("area.key") / t("area.key", …) in services/, dashboard/, pages/ and the app."""
    files = [ROOT / "streamlit_app.py", *(ROOT / "services").rglob("*.py"), *(ROOT / "dashboard").rglob("*.py"),
             *(ROOT / "pages").rglob("*.py")]
    known = catalog("en")
    missing = sorted({f"{f.relative_to(ROOT)}: {key}" for f in files if f.exists()
                      for key in KEY_CALL.findall(f.read_text(encoding="utf-8"))
                      if key not in known and not key.endswith(".")})  # "area.prefix." + value is dynamic
    assert missing == []


def test_unknown_key_is_visible_and_params_fill():
    assert t("no.such_key", "en") == "no.such_key"
    assert t("auth.locked", "en", minutes=15).count("15") == 1
    assert "15" in t("auth.locked", "zh_CN", minutes=15)


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("0"), "¥0.00"),
    (Decimal("9999.5"), "¥9,999.50"),
    (Decimal("12345"), "¥1.23万"),
    (Decimal("1234567.89"), "¥123.46万"),
    (Decimal("250000000"), "¥2.50亿"),
    (Decimal("-35000"), "-¥3.50万"),
])
def test_money_in_chinese_uses_wan_and_yi(value, expected):
    assert format_money(value, "zh_CN") == expected


def test_money_in_english():
    assert format_money(Decimal("1234.5"), "en") == "¥1,234.50"
    assert format_money(Decimal("2500000"), "en") == "¥2.50M"
    assert format_money(Decimal("12345"), "en", currency="USD") == "$12.3K"
    assert format_money(None, "en") == "—"
    assert format_money(Decimal("123456"), "zh_CN", compact=False) == "¥123,456.00"


@pytest.mark.parametrize(("raw", "loc"), [("zh", "zh_CN"), ("zh-CN", "zh_CN"), ("zh_TW", "zh_CN"), ("en-US", "en"),
                                          ("EN", "en"), (None, "zh_CN"), ("fr-FR", "zh_CN")])
def test_browser_locales_map_to_supported(raw, loc):
    assert normalize_locale(raw) == loc
