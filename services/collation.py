"""Sort keys for names: the order Chinese users expect (pinyin), kept in SQL.

A customer's ``name_sort`` column holds ``name_sort_key(name)`` — written with the other
normalised columns (``services.customers.norm_columns``) on every write path, indexed, and
used by the grid's "name" order — so 合肥, 南京, 上海 sort as he fei, nan jing, shang hai
instead of by character code, on SQLite and PostgreSQL alike, and paging stays in SQL.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

#: Length of the stored key (a sort key needs no more to order names).
SORT_KEY_LENGTH = 200


@lru_cache(maxsize=1)
def _pinyin():
    from pypinyin import Style, lazy_pinyin

    return lambda text: lazy_pinyin(text, style=Style.NORMAL, errors="default", strict=False)


def name_sort_key(value: Any) -> str:
    """Lower-case letters and digits only: each Chinese character as its toneless pinyin,
    Latin text folded (full-width → half-width, accents dropped), punctuation and spaces
    removed. Plain ASCII keys order the same under every database collation."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if not text:
        return ""
    words = _pinyin()(text) if any("\u3400" <= ch <= "\u9fff" for ch in text) else [text]
    folded = unicodedata.normalize("NFKD", "".join(words).casefold())
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())[:SORT_KEY_LENGTH]
