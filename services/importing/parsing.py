"""Reading cell values: text (the one text rule), dates, amounts, whole numbers, yes/no,
customer tiers and statuses, activity kinds, and the words that name won / lost stages and
the public pool. Every parser raises ``ParseError`` with a catalog key, so the row report
says why in the user's language."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from services.i18n import t
from services.models import ACTIVITY_KINDS, CUSTOMER_STATUSES, TIERS
from services.models.fields import clean_text

#: The parser's bound: money above it is not a number we can store (the app's own,
#: lower limit for deals is ``services.models.fields.MAX_AMOUNT``).
MAX_AMOUNT = Decimal("999999999999.99")


class ParseError(ValueError):
    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(key)

    def message(self, locale: str) -> str:
        return t(self.key, locale, **self.params)


_EXCEL_EPOCH = date(1899, 12, 30)
_TIME_RE = r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(z|[+-]\d{2}:?\d{2})?)?"
_YEAR_FIRST = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?" + _TIME_RE + r"$", re.I)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})" + _TIME_RE + r"$", re.I)
_YEAR_LAST = re.compile(r"^(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*[-/.]\s*(\d{4})" + _TIME_RE + r"$", re.I)


def cell_text(value: Any) -> str:
    """A cell as text under the text rule (control characters such as NUL removed,
    whitespace stripped; full-width forms folded by NFKC); integral floats without '.0'
    (phone numbers read as numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return clean_text(unicodedata.normalize("NFKC", value) if isinstance(value, str) else str(value))



def _checked_date(y: int, m: int, d: int) -> date:
    if not 1900 <= y <= 2100:
        raise ParseError("importing.err.date_range")
    try:
        return date(y, m, d)
    except ValueError as exc:
        raise ParseError("err.date_format") from exc


def _year_last_order(a: int, b: int, sep: str, day_first: bool | None) -> tuple[int, int]:
    """(month, day) for a date written with the year last."""
    if sep == ".":  # 27.11.2026 — dotted dates are day first everywhere they are used
        return b, a
    if a > 12 and b <= 12:
        return b, a
    if b > 12 and a <= 12:
        return a, b
    if day_first is None:
        raise ParseError("importing.err.ambiguous_date")
    return (b, a) if day_first else (a, b)


def _split_datetime(value: Any, day_first: bool | None) -> tuple[date, time | None, str | None]:
    """(date, time or None, utc-offset text or None) from a cell value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ParseError("err.required")
    if isinstance(value, datetime):
        tz = "aware" if value.tzinfo is not None else None
        if tz:
            value = value.astimezone(UTC)
            return _checked_date(value.year, value.month, value.day), value.time(), "z"
        return _checked_date(value.year, value.month, value.day), value.time(), None
    if isinstance(value, date):
        return _checked_date(value.year, value.month, value.day), None, None
    if isinstance(value, bool):
        raise ParseError("err.date_format")
    if isinstance(value, int | float | Decimal):
        serial = float(value)
        if not 1 <= serial < 2958466:
            raise ParseError("err.date_format")
        whole = int(serial)
        d = _EXCEL_EPOCH + timedelta(days=whole)
        frac = serial - whole
        tm = None
        if frac > 0:
            secs = round(frac * 86400)
            tm = time(min(secs // 3600, 23), (secs // 60) % 60, secs % 60)
        return _checked_date(d.year, d.month, d.day), tm, None
    s = unicodedata.normalize("NFKC", str(value)).strip()
    m = _YEAR_FIRST.match(s) or _COMPACT.match(s)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        rest = m.groups()[3:]
    else:
        m = _YEAR_LAST.match(s)
        if not m:
            raise ParseError("err.date_format")
        a, sep, b, y = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
        mo, d = _year_last_order(a, b, sep, day_first)
        rest = m.groups()[4:]
    dt = _checked_date(y, mo, d)
    hh, mm, ss, offset = rest
    tm = None
    if hh is not None:
        if int(hh) > 23 or int(mm) > 59 or (ss is not None and int(ss) > 59):
            raise ParseError("err.date_format")
        tm = time(int(hh), int(mm), int(ss or 0))
    return dt, tm, offset


def parse_date(value: Any, *, day_first: bool | None = None) -> date | None:
    """A date from a cell: date/datetime cells, Excel serial numbers and the text forms in
    the module docstring. Empty → None. Raises ParseError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _split_datetime(value, day_first)[0]


def parse_datetime(value: Any, *, tz: str = "Asia/Shanghai", day_first: bool | None = None) -> datetime | None:
    """An aware UTC datetime from a cell. Times without a zone are in ``tz`` (the company
    time zone); a date alone is taken as 12:00 there. Empty → None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    d, tm, offset = _split_datetime(value, day_first)
    zone = ZoneInfo(tz)
    if offset:
        if offset.lower() in ("z", "aware"):
            zone = UTC
        else:
            sign = 1 if offset[0] == "+" else -1
            digits = offset[1:].replace(":", "")
            zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    local = datetime.combine(d, tm or time(12, 0), tzinfo=zone)
    return local.astimezone(UTC)


def infer_day_first(values: Iterable[Any]) -> bool | None:
    """For a column of dates written with the year last: True when some value can only be
    day-first (first part > 12), False when some can only be month-first, None when the
    column does not say (or says both)."""
    day, month = False, False
    for v in values:
        if not isinstance(v, str):
            continue
        m = _YEAR_LAST.match(unicodedata.normalize("NFKC", v).strip())
        if not m or m.group(2) == ".":
            continue
        a, b = int(m.group(1)), int(m.group(3))
        if a > 12 >= b:
            day = True
        elif b > 12 >= a:
            month = True
    if day == month:
        return None
    return day


_MULTIPLIERS = {"万": Decimal(10_000), "万元": Decimal(10_000), "w": Decimal(10_000), "亿": Decimal(100_000_000),
                "亿元": Decimal(100_000_000), "k": Decimal(1_000), "千": Decimal(1_000), "m": Decimal(1_000_000),
                "mn": Decimal(1_000_000), "百万": Decimal(1_000_000)}
_CURRENCY = re.compile(r"^(?:rmb|cny|usd|人民币|¥|\$|€|£)|(?:元|rmb|cny|usd)$")
_PLAIN_NUMBER = re.compile(r"^\d+(?:\.\d+)?$|^\.\d+$")
_GROUPED_NUMBER = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")


def parse_amount(value: Any) -> Decimal | None:
    """Money from a cell: numbers, ``¥1,234.50``, ``12万``, ``1.5亿``, ``30k``, ``RMB 5000元``.
    Rounded half-up to cents. Empty → None; negative, over 999,999,999,999.99 or not a
    number → ParseError."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParseError("err.number")
    if isinstance(value, int | float | Decimal):
        try:
            amount = Decimal(str(value))
        except InvalidOperation as exc:
            raise ParseError("err.number") from exc
    else:
        s = unicodedata.normalize("NFKC", str(value)).strip().lower().replace(" ", "").replace("\u00a0", "")
        if not s:
            return None
        negative = False
        if s.startswith("(") and s.endswith(")"):
            negative, s = True, s[1:-1]
        if s.startswith("-"):
            negative, s = True, s[1:]
        for _ in range(2):
            s = _CURRENCY.sub("", s)
        if s.startswith("-"):
            negative, s = True, s[1:]
        factor = Decimal(1)
        for suffix in sorted(_MULTIPLIERS, key=len, reverse=True):
            if s.endswith(suffix) and len(s) > len(suffix):
                factor, s = _MULTIPLIERS[suffix], s[: -len(suffix)]
                break
        if _GROUPED_NUMBER.match(s):
            s = s.replace(",", "")
        if not _PLAIN_NUMBER.match(s):
            raise ParseError("err.number")
        amount = Decimal(s) * factor
        if negative:
            amount = -amount
    if not amount.is_finite():
        raise ParseError("err.number")
    if amount < 0:
        raise ParseError("err.not_negative")
    if amount > MAX_AMOUNT:
        raise ParseError("err.too_large", max=f"{MAX_AMOUNT:,}")
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def parse_int(value: Any, *, low: int, high: int) -> int | None:
    """Whole number in [low, high] (``25%`` → 25). Empty → None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    s = cell_text(value).rstrip("%").strip()
    try:
        d = Decimal(s)
    except InvalidOperation as exc:
        raise ParseError("err.integer") from exc
    if not d.is_finite() or d != d.to_integral_value():
        raise ParseError("err.integer")
    n = int(d)
    if not low <= n <= high:
        raise ParseError("err.range", min=low, max=high)
    return n


_TRUE = {"1", "y", "yes", "true", "是", "√", "✓", "x", "主要", "primary"}
_FALSE = {"0", "n", "no", "false", "否", "", "-"}


def parse_bool(value: Any) -> bool:
    s = cell_text(value).lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ParseError("err.not_in_list", options="yes/no, 是/否, 1/0")


_TIER_WORDS = {"a": "A", "b": "B", "c": "C"}
_STATUS_WORDS = {
    "lead": "lead", "线索": "lead", "新线索": "lead", "new": "lead",
    "prospect": "prospect", "潜在": "prospect", "潜在客户": "prospect", "意向": "prospect", "意向客户": "prospect",
    "跟进中": "prospect", "opportunity": "prospect",
    "active": "active", "成交": "active", "成交客户": "active", "合作中": "active", "活跃": "active",
    "customer": "active", "签约": "active", "已签约": "active",
    "churned": "churned", "流失": "churned", "已流失": "churned", "lost": "churned", "inactive": "churned",
}
_ACTIVITY_WORDS = {
    "call": "call", "电话": "call", "电话拜访": "call", "phone": "call", "phone call": "call", "来电": "call",
    "email": "email", "e-mail": "email", "邮件": "email", "mail": "email",
    "meeting": "meeting", "会议": "meeting", "会面": "meeting", "面谈": "meeting",
    "visit": "visit", "拜访": "visit", "上门拜访": "visit", "上门": "visit", "on-site visit": "visit",
    "demo": "demo", "演示": "demo", "产品演示": "demo", "product demo": "demo",
    "contract_signing": "contract_signing", "签约": "contract_signing", "合同签订": "contract_signing",
    "签合同": "contract_signing", "contract signing": "contract_signing",
    "service": "service", "售后": "service", "服务": "service", "售后服务": "service", "support": "service",
    "other": "other", "其他": "other", "其它": "other", "微信": "other", "wechat": "other", "task": "other",
}
_WON_WORDS = {"won", "win", "closedwon", "赢单", "成交", "已成交", "赢"}
_LOST_WORDS = {"lost", "lose", "closedlost", "输单", "丢单", "失败", "已输单", "已丢单"}
_POOL_WORDS = {"公海", "pool", "public pool", "公海池"}


def parse_tier(value: Any) -> str | None:
    s = cell_text(value).strip()
    if not s:
        return None
    key = re.sub(r"[类级等]$|^(?:tier|level|grade)\s*", "", s, flags=re.I).strip().lower()
    tier = _TIER_WORDS.get(key)
    if tier is None:
        raise ParseError("err.not_in_list", options=", ".join(TIERS))
    return tier


def parse_status(value: Any) -> str | None:
    s = cell_text(value).strip().lower()
    if not s:
        return None
    status = _STATUS_WORDS.get(s)
    if status is None:
        raise ParseError("err.not_in_list", options=", ".join(CUSTOMER_STATUSES))
    return status


def parse_activity_kind(value: Any) -> str | None:
    s = cell_text(value).strip().lower()
    if not s:
        return None
    kind = _ACTIVITY_WORDS.get(s) or _ACTIVITY_WORDS.get(s.replace("_", " "))
    if kind is None:
        raise ParseError("err.not_in_list", options=", ".join(ACTIVITY_KINDS))
    return kind


def stage_kind_named(name: str) -> str | None:
    """``won`` / ``lost`` when a stage name says so in Chinese or English (won, Closed Won,
    赢单, 成交; lost, closed-lost, 输单, 丢单 — case, spaces and punctuation ignored), else
    None."""
    key = re.sub(r"[\s_\-./:：()（）]+", "", unicodedata.normalize("NFKC", name)).lower()
    if key in _WON_WORDS:
        return "won"
    if key in _LOST_WORDS:
        return "lost"
    return None
