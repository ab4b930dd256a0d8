"""Import customers, contacts, deals and activities from CSV (UTF-8 or GBK) or XLSX files.

How an import works (the same for the page, the CLI and scripts):

1. The file is read: XLSX through openpyxl (first sheet), CSV decoded as UTF-8 (with or
   without BOM) and, when that fails, as GB18030 (a superset of GBK, what Excel writes on
   a Chinese Windows). The first non-empty row is the header.
2. Columns are mapped to fields: ``suggest_mapping`` recognises Chinese and English
   headers (客户名称 / Company name → ``name``); an explicit ``mapping`` (source header →
   field, ``""`` to ignore a column) overrides the suggestions.
3. Every row is validated. A bad row is reported (row number as the user sees it in the
   spreadsheet — the header is row 1 —, column, value, reason) and skipped; every good row
   is written. This is the one place where a partial result is intended: the good rows of
   one call are written together in the caller's single transaction (committed at the end
   by ``session_scope``), the bad ones come back in ``ImportResult.errors`` and as a
   downloadable CSV (``errors_csv()``), so nothing valid is lost because a neighbour was bad.
4. Re-running the same file creates no duplicates: a row is matched to an existing record
   by its external id column when there is one, else by the duplicate check (customers:
   normalised name, phone, email, credit code; contacts: same customer and name, phone or
   email; deals: same customer and normalised deal name; activities: same customer, kind
   and time). ``on_duplicate`` decides what happens to a matched row: ``skip`` (default),
   ``update`` (non-empty cells overwrite the existing record; empty cells never erase) or
   ``keep_both`` (managers only: create a new record anyway — unless the match is the same
   external id or identical in every imported field, which is the same row imported again).

Who may import what: a rep imports only records owned by themselves (an empty owner cell
means "me"); a manager for the users of their teams; directors and admins for anyone.
``create_missing`` (directors and admins) creates unknown owners (as inactive users who
cannot sign in), customers, products, stages, channels and lost reasons, so a whole pipeline
export from another CRM can be brought in.

Messy data — what a sales team gets (decided here, tested in tests/services/test_import_deals.py):
- Amounts: ``¥1,234.50``, ``12万``, ``1.5亿``, ``30k``, ``RMB 5000元`` and full-width digits are
  read; negative or larger than 999,999,999,999.99 is an error. An open or lost deal may
  have no amount (early-stage deals often do; it is stored empty and counts as 0 in
  pipeline sums); a won deal must have one (won revenue would silently be understated).
- Deals without a customer: open and lost deals are kept without a customer (early-stage
  opportunities often have none; inventing an "unknown customer" would pollute the customer
  list, the duplicate check and the public pool). A won deal must name its customer
  (revenue, contracts and CLV belong to a customer).
- One product spelled two ways (``CRM 专业版`` / ``crm专业版``) matches one product through
  ``dedupe.normalize_name`` (case, spaces, full-width characters).
- Dates: ``2026-11-27``, ``2026/11/27``, ``2026.11.27``, ``20261127``, ``2026年11月27日``,
  ``27.11.2026`` (dotted = day first), Excel date cells and serial numbers. Slash dates with
  the year last (``11/27/2026``) are read month- or day-first when the column itself shows
  which (some value has a part above 12); a column where every such date is ambiguous
  (``03/04/2026``) is rejected row by row with "ambiguous date, write it as YYYY-MM-DD".
  A date without a time (activities) is taken as 12:00 in the company time zone.
- A won or lost deal without a close date takes its expected close date; with neither it
  is an error (closing dates drive revenue periods). A lost deal without a reason is
  kept (dropping it would inflate the win rate).
- An empty stage means the first open stage; ``won`` / ``赢单`` / ``lost`` / ``输单`` name the
  won and lost stages whatever they are called.
- Activities: an activity date in the future is imported as planned (not done).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from services import access, audit, dedupe
from services import settings as settings_service
from services.access import SYSTEM, Actor
from services.contacts import validate_contact_fields
from services.customers import norm_columns, validate_customer_fields
from services.deals import _write_history
from services.errors import NotFound, PermissionDenied, ValidationError
from services.i18n import t
from services.models import (
    ACTIVITY_KINDS,
    CUSTOMER_STATUSES,
    TIERS,
    Activity,
    Channel,
    Contact,
    Customer,
    Deal,
    LostReason,
    Product,
    Stage,
    User,
    utcnow,
)
from services.validation import check_amount

KINDS = ("customers", "contacts", "deals", "activities")
DUPLICATE_POLICIES = ("skip", "update", "keep_both")
MAX_AMOUNT = Decimal("999999999999.99")
MAX_ROWS = 200_000  # a file larger than this is refused (split it)
FLUSH_EVERY = 500  # new customers are written in batches of this size

# ---------------------------------------------------------------------------
# Fields per kind (field → description). Used by the CLI help, the README and the page.

FIELDS: dict[str, dict[str, str]] = {
    "customers": {
        "name": "Customer (company) name. Required. Also the main duplicate key (normalised).",
        "external_id": "Id in the source system; makes re-imports idempotent (matched first).",
        "credit_code": "Unified social credit code (统一社会信用代码), 18 characters; duplicate key.",
        "industry": "Industry.",
        "region": "Region / area / city.",
        "tier": "A, B or C (also A类, A级). Empty → C.",
        "status": "lead | prospect | active | churned (also 线索, 潜在, 成交/合作中, 流失). Empty → lead.",
        "owner": "Owner: username or display name of an active user; empty → the importing user; "
        "公海/pool → public pool.",
        "channel": "Channel / source the customer came from (must exist unless --create-missing).",
        "phone": "Phone (7–20 digits); duplicate key.",
        "email": "Email; duplicate key.",
        "address": "Address.",
        "notes": "Notes.",
        "next_contact_on": "Next follow-up date.",
    },
    "contacts": {
        "customer": "Customer name (matched after normalisation). Required unless customer_external_id.",
        "customer_external_id": "The customer's external id (from a customer import).",
        "name": "Contact person's name. Required.",
        "title": "Job title.",
        "phone": "Phone (7–20 digits).",
        "email": "Email.",
        "is_primary": "Primary contact: yes/no, 是/否, 1/0.",
        "notes": "Notes.",
    },
    "deals": {
        "external_id": "Id in the source system; makes re-imports idempotent. Without it a deal is "
        "matched by customer + normalised deal name.",
        "name": "Deal name. Empty → '<customer> <product>'.",
        "customer": "Customer name. Optional for open/lost deals (kept without a customer), "
        "required for won deals. Unknown → error, or created with --create-missing.",
        "customer_external_id": "The customer's external id (alternative to the name).",
        "owner": "Owner username or display name; empty → the importing user. Unknown → error, or an "
        "inactive user (cannot sign in) with --create-missing.",
        "product": "Product name; spelling variants match (case, spaces, full width). Unknown → error "
        "or created with --create-missing.",
        "amount": "Amount: 1234.5, ¥1,234.50, 12万, 1.5亿, 30k. Empty allowed except for won deals "
        "(counted as 0 in pipeline sums).",
        "stage": "Stage name; won/赢单 and lost/输单 name the won/lost stage; empty → first open stage. "
        "Unknown → error or created (open) with --create-missing.",
        "probability": "Win probability 0–100 (25 or 25%); empty → the stage's default.",
        "expected_close": "Expected close date (2026-11-27, 2026/11/27, 27.11.2026, 2026年11月27日, "
        "Excel dates).",
        "opened_on": "Date the deal was opened; empty → close date for closed deals, else today.",
        "closed_on": "Close date of a won/lost deal; empty → expected close date; neither → error.",
        "lost_reason": "Lost reason (optional for lost deals).",
        "channel": "Channel / source.",
        "next_step": "Next step.",
    },
    "activities": {
        "external_id": "Id in the source system; makes re-imports idempotent. Without it an activity "
        "is matched by customer + kind + time.",
        "customer": "Customer name. Required (or customer_external_id). Unknown → error or created "
        "with --create-missing.",
        "customer_external_id": "The customer's external id.",
        "kind": "call | email | meeting | visit | demo | contract_signing | service | other "
        "(also 电话, 邮件, 会议, 拜访, 演示, 签约, 售后, 其他). Empty → other.",
        "done_at": "When it happened (date or date + time). A future date makes it a planned activity.",
        "planned_at": "When it is planned (for follow-ups not done yet).",
        "owner": "Owner username or display name; empty → the importing user.",
        "deal": "Deal name of the same customer (optional).",
        "deal_external_id": "The deal's external id (optional).",
        "contact": "Contact name at the customer (optional; must exist).",
        "duration_minutes": "Duration in minutes.",
        "outcome": "Outcome / result.",
        "notes": "Notes / content.",
        "next_step": "Next step.",
        "next_contact_on": "Next contact date.",
        "location": "Check-in location.",
    },
}

REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    # each inner tuple: at least one of these fields must be mapped
    "customers": (("name",),),
    "contacts": (("name",), ("customer", "customer_external_id")),
    "deals": (("name", "customer", "customer_external_id", "external_id"),),
    "activities": (("customer", "customer_external_id"),),
}

_COMMON_SYNONYMS: dict[str, tuple[str, ...]] = {
    "external_id": ("外部id", "外部编号", "外部编码", "来源id", "原系统id", "记录id", "external id", "externalid",
                    "source id", "record id", "crm id", "ext id"),
    "owner": ("负责人", "销售", "销售代表", "销售员", "所属销售", "跟进人", "业务员", "客户经理", "归属人", "owner",
              "sales rep", "rep", "account owner", "deal owner", "assigned to", "salesperson", "sales owner"),
    "channel": ("渠道", "来源", "客户来源", "线索来源", "来源渠道", "source", "channel", "lead source"),
    "phone": ("电话", "手机", "手机号", "手机号码", "联系电话", "座机", "电话号码", "phone", "mobile", "tel",
              "telephone", "phone number", "mobile phone", "cell"),
    "email": ("邮箱", "电子邮箱", "邮件地址", "电子邮件", "email", "e-mail", "mail", "email address"),
    "notes": ("备注", "说明", "描述", "notes", "note", "remarks", "remark", "comments", "comment", "description"),
    "next_step": ("下一步", "下一步计划", "下步计划", "next step", "next steps"),
    "customer_external_id": ("客户外部id", "客户编号", "客户id", "customer external id", "customer id", "account id"),
    "customer": ("客户", "客户名称", "客户名", "公司名称", "公司", "企业名称", "单位名称", "customer", "customer name",
                 "account", "account name", "company", "company name", "organization", "organisation"),
}

_KIND_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "name": ("客户名称", "客户名", "客户", "公司名称", "公司", "企业名称", "单位名称", "名称", "name",
                 "customer", "customer name", "company", "company name", "account", "account name",
                 "organization", "organisation"),
        "external_id": _COMMON_SYNONYMS["external_id"] + ("客户编号", "customer external id"),
        "credit_code": ("统一社会信用代码", "信用代码", "社会信用代码", "税号", "纳税人识别号", "credit code",
                        "unified social credit code", "uscc", "tax id", "tax number"),
        "industry": ("行业", "所属行业", "industry", "sector"),
        "region": ("地区", "区域", "省份", "城市", "所在地区", "所在地", "region", "area", "province", "city",
                   "territory"),
        "tier": ("等级", "客户等级", "级别", "客户级别", "客户分级", "tier", "level", "grade", "rating", "class"),
        "status": ("状态", "客户状态", "status", "customer status", "lifecycle", "lifecycle stage"),
        "address": ("地址", "详细地址", "公司地址", "address"),
        "next_contact_on": ("下次联系", "下次联系日期", "下次跟进", "下次跟进日期", "next contact", "next follow up",
                            "next follow-up"),
    },
    "contacts": {
        "name": ("姓名", "联系人", "联系人姓名", "名字", "name", "contact", "contact name", "full name"),
        "title": ("职位", "职务", "title", "position", "job title", "role"),
        "is_primary": ("主要联系人", "首要联系人", "是否主要联系人", "primary", "is primary", "main contact",
                       "primary contact"),
    },
    "deals": {
        "name": ("商机名称", "商机", "项目名称", "项目", "机会名称", "销售机会", "名称", "opportunity",
                 "opportunity name", "deal", "deal name", "name", "title"),
        "external_id": _COMMON_SYNONYMS["external_id"] + ("商机编号", "商机id", "deal id", "opportunity id"),
        "product": ("产品", "产品名称", "意向产品", "product", "product name", "item"),
        "amount": ("金额", "预计金额", "商机金额", "成交金额", "合同金额", "预算", "金额(元)", "amount", "value",
                   "deal value", "deal amount", "expected revenue", "revenue"),
        "stage": ("阶段", "销售阶段", "商机阶段", "商机状态", "stage", "sales stage", "pipeline stage", "deal stage"),
        "probability": ("赢率", "成交概率", "概率", "可能性", "赢单率", "probability", "win probability",
                        "probability (%)"),
        "expected_close": ("预计成交日期", "预计签单日期", "预计成交时间", "预计关闭日期", "预计结束日期",
                           "expected close", "expected close date", "close date", "closing date"),
        "opened_on": ("创建日期", "创建时间", "开始日期", "立项日期", "发现日期", "created", "created date",
                      "created on", "opened", "opened on", "open date"),
        "closed_on": ("成交日期", "关闭日期", "实际成交日期", "赢单日期", "结束日期", "closed", "closed on",
                      "actual close date", "won date"),
        "lost_reason": ("输单原因", "丢单原因", "失败原因", "lost reason", "loss reason", "reason lost"),
    },
    "activities": {
        "external_id": _COMMON_SYNONYMS["external_id"] + ("活动编号", "跟进记录编号", "activity id"),
        "kind": ("类型", "跟进方式", "活动类型", "跟进类型", "方式", "type", "activity type", "kind"),
        "done_at": ("跟进时间", "日期", "时间", "拜访时间", "活动时间", "跟进日期", "完成时间", "date",
                    "done at", "activity date", "completed", "completed at", "when"),
        "planned_at": ("计划时间", "计划日期", "预约时间", "planned", "planned at", "due", "due date", "scheduled"),
        "duration_minutes": ("时长", "时长分钟", "分钟", "持续时间", "duration", "minutes", "duration minutes"),
        "outcome": ("结果", "跟进结果", "outcome", "result"),
        "notes": ("跟进内容", "内容", "记录", "备注", "notes", "note", "description", "content", "summary"),
        "next_contact_on": ("下次联系", "下次联系日期", "下次跟进日期", "下次跟进时间", "next contact",
                            "next contact date", "next follow up", "next follow-up"),
        "location": ("地点", "位置", "签到地点", "拜访地点", "location", "place"),
        "contact": ("联系人", "联系人姓名", "contact", "contact name"),
        "deal": ("商机", "商机名称", "deal", "opportunity", "deal name"),
        "deal_external_id": ("商机编号", "商机外部id", "deal external id", "deal id", "opportunity id"),
    },
}


def _norm_header(text: str) -> str:
    """Header key: NFKC (full width → half width), lower case, without spaces, punctuation
    and required-markers (*, (必填))."""
    s = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    s = re.sub(r"[(（\[]?必填[)）\]]?", "", s)
    return re.sub(r"[\s_\-./:：*()（）\[\]#]+", "", s)


def _synonyms(kind: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    specific = _KIND_SYNONYMS.get(kind, {})
    for fld in FIELDS[kind]:
        out[fld] = (fld, fld.replace("_", " ")) + (specific.get(fld) or _COMMON_SYNONYMS.get(fld, ()))
    return out


def suggest_mapping(headers: Iterable[str], kind: str) -> dict[str, str]:
    """Suggested field for each header (``""`` when nothing fits). A field is suggested for
    the first header that names it; later headers naming the same field stay unmapped."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    lookup: dict[str, str] = {}
    for fld, words in _synonyms(kind).items():
        for w in words:
            lookup.setdefault(_norm_header(w), fld)
    used: set[str] = set()
    out: dict[str, str] = {}
    for h in headers:
        fld = lookup.get(_norm_header(h), "")
        if fld and fld in used:
            fld = ""
        if fld:
            used.add(fld)
        out[h] = fld
    return out


# ---------------------------------------------------------------------------
# Results


@dataclass
class ImportRowError:
    """One rejected row: ``row`` as numbered in the spreadsheet (header = row 1)."""

    row: int
    column: str
    value: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass
class RowOutcome:
    """What happened to one row: created / updated / skipped (with the matched record)."""

    row: int
    action: str
    entity_id: int | None = None
    note: str = ""


@dataclass
class ImportResult:
    kind: str
    dry_run: bool = False
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[ImportRowError] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)
    created_refs: dict[str, int] = field(default_factory=dict)  # create_missing: kind → count

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "total_rows": self.total_rows,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "error_rows": self.error_rows,
            "created_refs": dict(self.created_refs),
            "errors": [e.to_dict() for e in self.errors],
        }

    def errors_csv(self) -> bytes:
        """The validation report as CSV (UTF-8 with BOM so Excel opens it), formula-safe."""
        from services.exporting import neutralize

        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["row", "column", "value", "reason"])
        for e in self.errors:
            w.writerow([e.row, neutralize(e.column), neutralize(e.value), neutralize(e.reason)])
        return buf.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------------------
# Reading files


@dataclass
class Table:
    """A sheet: the header texts and the data rows as (spreadsheet row number, values)."""

    headers: list[str]
    rows: list[tuple[int, list[Any]]]
    header_row: int = 1


def _read_bytes(source: str | Path | BinaryIO | bytes) -> bytes:
    if isinstance(source, bytes | bytearray):
        return bytes(source)
    if isinstance(source, str | Path):
        return Path(source).read_bytes()
    data = source.read()
    if isinstance(data, str):
        return data.encode("utf-8")
    return data


def decode_csv_bytes(data: bytes) -> str:
    """UTF-8 (BOM or not) first; else GB18030 (superset of GBK/GB2312, what Chinese Excel
    writes); nothing else is guessed."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ValidationError({"file": "the file is neither UTF-8 nor GBK text, nor an XLSX workbook"}) from exc


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        v = value.strip()
        return v if v else None
    return value


def read_table(source: str | Path | BinaryIO | bytes, *, max_rows: int = MAX_ROWS) -> Table:
    """Read the first sheet of an XLSX workbook or a CSV file (``,`` ``;`` or tab separated).
    Blank rows are skipped but keep their numbers, so row numbers match the spreadsheet."""
    data = _read_bytes(source)
    raw_rows: Iterable[Iterable[Any]]
    if data[:4] == b"PK\x03\x04":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:
            raise ValidationError({"file": f"cannot read the workbook: {type(exc).__name__}"}) from exc
        ws = wb.worksheets[0]
        raw_rows = ws.iter_rows(values_only=True)
    else:
        text = decode_csv_bytes(data)
        first_line = text.split("\n", 1)[0]
        delimiter = ","
        if first_line.count(",") == 0:
            if first_line.count("\t") > 0:
                delimiter = "\t"
            elif first_line.count(";") > 0:
                delimiter = ";"
        raw_rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers: list[str] | None = None
    header_row = 1
    rows: list[tuple[int, list[Any]]] = []
    for number, raw in enumerate(raw_rows, start=1):
        values = [_cell(v) for v in raw]
        if all(v is None for v in values):
            continue
        if headers is None:
            headers = [str(v) if v is not None else "" for v in values]
            while headers and headers[-1] == "":
                headers.pop()
            header_row = number
            continue
        rows.append((number, values))
        if len(rows) > max_rows:
            raise ValidationError({"file": f"more than {max_rows} rows: split the file"})
    if not headers:
        raise ValidationError({"file": "the file has no header row"})
    # blank header cells get a name so they can be mapped or ignored
    headers = [h or f"column {i + 1}" for i, h in enumerate(headers)]
    return Table(headers=headers, rows=rows, header_row=header_row)


# ---------------------------------------------------------------------------
# Parsers (dates, amounts). They raise ParseError with an i18n key.


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


def _text(value: Any) -> str:
    """A cell as text: integral floats without '.0' (phone numbers read as numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return unicodedata.normalize("NFKC", str(value)).strip() if isinstance(value, str) else str(value)


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
            from datetime import timezone

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
    s = _text(value).rstrip("%").strip()
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
    s = _text(value).lower()
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
_WON_WORDS = {"won", "win", "closed won", "赢单", "成交", "已成交", "赢"}
_LOST_WORDS = {"lost", "lose", "closed lost", "输单", "丢单", "失败", "已输单"}
_POOL_WORDS = {"公海", "pool", "public pool", "公海池"}


def parse_tier(value: Any) -> str | None:
    s = _text(value).strip()
    if not s:
        return None
    key = re.sub(r"[类级等]$|^(?:tier|level|grade)\s*", "", s, flags=re.I).strip().lower()
    tier = _TIER_WORDS.get(key)
    if tier is None:
        raise ParseError("err.not_in_list", options=", ".join(TIERS))
    return tier


def parse_status(value: Any) -> str | None:
    s = _text(value).strip().lower()
    if not s:
        return None
    status = _STATUS_WORDS.get(s)
    if status is None:
        raise ParseError("err.not_in_list", options=", ".join(CUSTOMER_STATUSES))
    return status


def parse_activity_kind(value: Any) -> str | None:
    s = _text(value).strip().lower()
    if not s:
        return None
    kind = _ACTIVITY_WORDS.get(s) or _ACTIVITY_WORDS.get(s.replace("_", " "))
    if kind is None:
        raise ParseError("err.not_in_list", options=", ".join(ACTIVITY_KINDS))
    return kind


# ---------------------------------------------------------------------------
# Validation and the duplicate check are H4's (services.customers / services.contacts /
# services.dedupe); deal history and amount limits are H6's (services.deals / activities):
# an imported row obeys exactly the rules of a row typed into the app.


def _validate_customer(data: dict, locale: str) -> tuple[dict, dict]:
    return validate_customer_fields(data, locale, partial=True)


def _validate_contact(data: dict, locale: str) -> tuple[dict, dict]:
    return validate_contact_fields(data, locale, partial=True)


# ---------------------------------------------------------------------------
# The import


class _RowFailed(Exception):
    """A row is rejected; its errors are already recorded."""


@dataclass
class _Pending:
    """A reference record (customer, owner, product, …) that the row needs and that does not
    exist yet; created with ``create_missing`` when its row is written."""

    kind: str
    key: str
    build: Callable[[], Any]
    obj: Any = None


class _Importer:
    def __init__(self, session: Session, actor: Actor, kind: str, table: Table, mapping: dict[str, str],
                 on_duplicate: str, dry_run: bool, create_missing: bool,
                 progress: Callable[[int, int], None] | None) -> None:
        self.s = session
        self.actor = actor
        self.locale = actor.locale
        self.kind = kind
        self.table = table
        self.on_duplicate = on_duplicate
        self.dry_run = dry_run
        self.create_missing = create_missing
        self.progress = progress
        self.result = ImportResult(kind=kind, dry_run=dry_run, total_rows=len(table.rows))
        self.col_of: dict[str, int] = {}
        self.header_of: dict[str, str] = {}
        for i, h in enumerate(table.headers):
            fld = mapping.get(h, "")
            if fld:
                self.col_of[fld] = i
                self.header_of[fld] = h
        self.tz = settings_service.get(session, "timezone") or "Asia/Shanghai"
        self.visible = access.visible_user_ids(session, actor)
        self.today = utcnow().astimezone(ZoneInfo(self.tz)).date()
        self.day_first = {
            f: infer_day_first(self._column(f))
            for f in ("expected_close", "opened_on", "closed_on", "done_at", "planned_at", "next_contact_on")
            if f in self.col_of
        }
        self._pending: dict[tuple[str, str], _Pending] = {}
        self._users: dict[str, Any] | None = None
        self._products: dict[str, Any] | None = None
        self._channels: dict[str, Any] | None = None
        self._reasons: dict[str, Any] | None = None
        self._customer_cache: dict[tuple[str, str], Any] = {}
        self.seen: dict[tuple, tuple[int, Any]] = {}  # in-file keys → (row, entity id or _Pending)
        self.row_errors: list[ImportRowError] = []
        self.current_row = 0
        self._owner_ok: dict[int, bool] = {}
        self._unflushed: list[tuple[Any, Callable[[Any], None], RowOutcome]] = []
        self._stages: list[Any] | None = None
        self._deal_ext: dict[str, int] | None = None
        self._known_ext: dict[str, int] | None = None
        self._with_contacts: set[int] = set()

    # -- cells -------------------------------------------------------------
    def _column(self, fld: str) -> list[Any]:
        i = self.col_of[fld]
        return [vals[i] if i < len(vals) else None for _, vals in self.table.rows]

    def raw(self, values: list[Any], fld: str) -> Any:
        i = self.col_of.get(fld)
        if i is None or i >= len(values):
            return None
        return values[i]

    def text(self, values: list[Any], fld: str) -> str | None:
        v = _text(self.raw(values, fld))
        return v or None

    def error(self, fld: str | None, value: Any, reason: str) -> None:
        self.row_errors.append(ImportRowError(
            row=self.current_row, column=self.header_of.get(fld or "", fld or ""), value=_text(value), reason=reason))

    def parse(self, values: list[Any], fld: str, parser: Callable[..., Any], **kw) -> Any:
        raw = self.raw(values, fld)
        try:
            return parser(raw, **kw)
        except ParseError as exc:
            self.error(fld, raw, exc.message(self.locale))
            return None

    def date_of(self, values: list[Any], fld: str) -> date | None:
        return self.parse(values, fld, parse_date, day_first=self.day_first.get(fld))

    def datetime_of(self, values: list[Any], fld: str) -> datetime | None:
        return self.parse(values, fld, parse_datetime, tz=self.tz, day_first=self.day_first.get(fld))

    def msg(self, key: str, **params: Any) -> str:
        return t(f"importing.{key}", self.locale, **params)

    # -- reference lookups -------------------------------------------------
    def _norm(self, s: str) -> str:
        return dedupe.normalize_name(s) or unicodedata.normalize("NFKC", s).strip().lower()

    def _pending_ref(self, kind: str, key: str, build: Callable[[], Any]) -> _Pending:
        p = self._pending.get((kind, key))
        if p is None:
            p = _Pending(kind, key, build)
            self._pending[(kind, key)] = p
        return p

    def materialize(self, ref: Any) -> int | None:
        """The id of a reference, creating a pending one (create_missing) first."""
        if not isinstance(ref, _Pending):
            return ref
        if ref.obj is None:
            ref.obj = ref.build()
            self.result.created_refs[ref.kind] = self.result.created_refs.get(ref.kind, 0) + 1
            if not self.dry_run:
                self.s.add(ref.obj)
                self.s.flush()
                audit.record(self.s, self.actor, ref.kind, ref.obj.id, "import",
                             {"created_by_import": [None, ref.key]})
        return getattr(ref.obj, "id", None)

    def owner_ref(self, values: list[Any]) -> Any:
        """Owner id (or pending user, or None for the pool); empty → the importing user. A
        rep may only name themselves; a manager the users of their teams."""
        raw = self.text(values, "owner")
        if raw is None:
            if self.actor.id is None and self.kind != "customers":
                # a system import (CLI without --as) has nobody to default to
                self.error("owner", raw, t("err.required", self.locale))
                raise _RowFailed
            return self.actor.id  # SYSTEM + customers: the public pool
        if raw.lower() in _POOL_WORDS:
            return None
        if self._users is None:
            self._users = {}
            by_name: dict[str, list[int]] = {}
            users = select(User.id, User.username, User.display_name)
            if self.kind in ("customers", "contacts"):
                users = users.where(User.active.is_(True))  # live customers need a live owner
            for uid, username, display in self.s.execute(users):
                self._users[username.lower()] = uid
                by_name.setdefault(unicodedata.normalize("NFKC", display).strip().lower(), []).append(uid)
            for name, ids in by_name.items():
                self._users.setdefault(name, ids[0] if len(ids) == 1 else ids)
        key = unicodedata.normalize("NFKC", raw).strip().lower()
        found = self._users.get(key)
        if isinstance(found, list):
            self.error("owner", raw, self.msg("err.ambiguous_owner"))
            raise _RowFailed
        if found is None:
            # former colleagues may own history (deals, activities), never a live customer
            if not self.create_missing or self.kind not in ("deals", "activities"):
                self.error("owner", raw, t("err.unknown_ref", self.locale, value=raw))
                raise _RowFailed
            return self._pending_ref("user", key, lambda: self._new_user(raw))
        if found not in self._owner_ok:
            try:
                access.ensure_owner_assignable(self.s, self.actor, found)
                self._owner_ok[found] = True
            except PermissionDenied:
                self._owner_ok[found] = False
        if not self._owner_ok[found]:
            self.error("owner", raw, self.msg("err.owner_not_allowed"))
            raise _RowFailed
        return found

    def _new_user(self, display: str) -> User:
        base = display.strip().lower()
        if not re.fullmatch(r"[a-z0-9._@-]{1,50}", base):
            base = "imported-" + hashlib.sha1(display.encode("utf-8")).hexdigest()[:10]
        username, n = base, 1
        while self.s.scalar(select(func.count()).select_from(User).where(User.username == username)):
            n += 1
            username = f"{base}-{n}"
        # inactive, unusable password: the owner of imported records, never a login
        return User(username=username, display_name=display.strip()[:120], role="rep", team_id=self.actor.team_id,
                    password_hash="!", active=False)

    def _named_lookup(self, attr: str, model, extra: Callable[[Any], dict[str, Any]] | None = None) -> dict[str, Any]:
        cache = getattr(self, attr)
        if cache is None:
            cache = {}
            for row in self.s.scalars(select(model)):
                cache.setdefault(self._norm(row.name), row.id)
                if extra:
                    for k, v in extra(row).items():
                        cache.setdefault(k, v)
            setattr(self, attr, cache)
        return cache

    def named_ref(self, values: list[Any], fld: str, kind: str, model, attr: str,
                  build: Callable[[str], Any], required: bool = False) -> Any:
        raw = self.text(values, fld)
        if raw is None:
            if required:
                self.error(fld, raw, t("err.required", self.locale))
                raise _RowFailed
            return None
        cache = self._named_lookup(attr, model)
        key = self._norm(raw)
        found = cache.get(key)
        if found is not None:
            return found
        if not self.create_missing:
            self.error(fld, raw, t("err.unknown_ref", self.locale, value=raw))
            raise _RowFailed
        return self._pending_ref(kind, key, lambda: build(raw))

    def stage_ref(self, values: list[Any]) -> tuple[Any, str, int]:
        """(stage id or pending, stage kind, default probability); empty → first open stage."""
        if self._stages is None:
            self._stages = list(self.s.execute(
                select(Stage.id, Stage.name, Stage.kind, Stage.probability, Stage.sequence)
                .where(Stage.active.is_(True)).order_by(Stage.sequence)))
        stages = self._stages
        raw = self.text(values, "stage")
        if raw is None:
            for st in stages:
                if st.kind == "open":
                    return st.id, "open", st.probability
            self.error("stage", raw, t("err.required", self.locale))
            raise _RowFailed
        key = self._norm(raw)
        for st in stages:
            if self._norm(st.name) == key:
                return st.id, st.kind, st.probability
        low = raw.strip().lower()
        for kind_words, kind in ((_WON_WORDS, "won"), (_LOST_WORDS, "lost")):
            if low in kind_words:
                for st in stages:
                    if st.kind == kind:
                        return st.id, kind, st.probability
        if not self.create_missing:
            self.error("stage", raw, t("err.unknown_ref", self.locale, value=raw))
            raise _RowFailed
        next_seq = max([st.sequence for st in stages if st.kind == "open"] or [0]) + 10
        return self._pending_ref("stage", key, lambda: Stage(name=raw.strip()[:60], sequence=next_seq,
                                                             probability=10, kind="open")), "open", 10

    def customer_ref(self, values: list[Any], *, required: bool, owner_ref: Any, won: bool = False) -> Any:
        """The customer a deal / activity / contact belongs to, by external id or normalised
        name; must be one the actor may work on (a rep: their own)."""
        ext = self.text(values, "customer_external_id")
        name = self.text(values, "customer")
        if ext is None and name is None:
            if required:
                self.error("customer", None, t("err.required", self.locale))
                raise _RowFailed
            return None
        fld, raw = ("customer_external_id", ext) if ext else ("customer", name)
        ck = (fld, raw if ext else self._norm(raw))
        if ck in self._customer_cache:
            return self._customer_cache[ck]
        if ext:
            q = select(Customer).where(Customer.external_id == ext)
        else:
            q = select(Customer).where(Customer.name_norm == dedupe.normalize_name(raw), Customer.archived.is_(False))
        rows = list(self.s.scalars(q.limit(5)))
        if rows:
            visible = [c for c in rows if self._may_work_on(c)]
            if not visible:
                self.error(fld, raw, self.msg("err.customer_not_yours"))
                raise _RowFailed
            if len(visible) > 1:
                self.error(fld, raw, self.msg("err.ambiguous_customer", ids=", ".join(f"#{c.id}" for c in visible)))
                raise _RowFailed
            ref = visible[0].id
        elif self.create_missing and name:
            ref = self._pending_ref("customer", self._norm(name),
                                    lambda: self._new_customer(name, owner_ref, "active" if won else "prospect"))
        else:
            self.error(fld, raw, t("err.unknown_ref", self.locale, value=raw))
            raise _RowFailed
        self._customer_cache[ck] = ref
        return ref

    def _may_work_on(self, c: Customer) -> bool:
        try:
            access.ensure_can_edit_customer(self.s, self.actor, c)
        except PermissionDenied:
            return False
        return True

    def _new_customer(self, name: str, owner_ref: Any, status: str) -> Customer:
        now = utcnow()
        owner = self.materialize(owner_ref)
        return Customer(name=name[:200], **norm_columns({"name": name[:200]}), owner_id=owner, tier="C",
                        status=status, created_at=now, updated_at=now, pool_entered_at=None if owner else now)

    # -- driver --------------------------------------------------------------
    def run(self) -> ImportResult:
        handler = getattr(self, f"_row_{self.kind}")
        total = len(self.table.rows)
        # Rows of this file are matched through ``self.seen``, so queries need not flush
        # every new row first; new customers are flushed (and audited) in batches.
        with self.s.no_autoflush:
            for n, (rownum, values) in enumerate(self.table.rows, start=1):
                self.current_row = rownum
                self.row_errors = []
                with contextlib.suppress(_RowFailed):
                    handler(values)
                if self.row_errors:
                    self.result.errors.extend(self.row_errors)
                if len(self._unflushed) >= FLUSH_EVERY:
                    self._flush_created()
                if self.progress and (n % 50 == 0 or n == total):
                    self.progress(n, total)
        if not self.dry_run:
            self._flush_created()
            self.s.flush()
        return self.result

    def _queue_created(self, obj: Any, after: Callable[[Any], None]) -> None:
        """Add a new row; ``after(obj)`` writes its audit (and history) rows once it has an id."""
        self.s.add(obj)
        self._unflushed.append((obj, after, self.result.outcomes[-1]))

    def _flush_created(self) -> None:
        """Write the batch of new rows, then their audit / history rows (which need the ids)."""
        if not self._unflushed or self.dry_run:
            return
        self.s.flush()
        for obj, after, outcome in self._unflushed:
            after(obj)
            outcome.entity_id = obj.id
        self._unflushed.clear()
        self.s.flush()

    def _existing_external_id(self, ext: str) -> int | None:
        """Customer id holding this external id (one query per 500 ids of the file)."""
        if self._known_ext is None:
            self._known_ext = {}
            col = self.col_of.get("external_id")
            ids = sorted({_text(v[col]) for _, v in self.table.rows if col is not None and col < len(v)} - {""})
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                self._known_ext.update(
                    {e: cid for cid, e in self.s.execute(select(Customer.id, Customer.external_id)
                                                          .where(Customer.external_id.in_(chunk)))})
        return self._known_ext.get(ext)

    def outcome(self, action: str, entity_id: Any = None, note: str = "") -> None:
        setattr(self.result, action, getattr(self.result, action) + 1)
        self.result.outcomes.append(RowOutcome(self.current_row, action, entity_id if isinstance(entity_id, int) else None, note))

    def fail_if_errors(self) -> None:
        if self.row_errors:
            raise _RowFailed

    # -- customers -----------------------------------------------------------
    _CUSTOMER_TEXT = ("name", "credit_code", "industry", "region", "phone", "email", "address", "notes")

    def _row_customers(self, values: list[Any]) -> None:
        data: dict[str, Any] = {f: self.text(values, f) for f in self._CUSTOMER_TEXT if f in self.col_of}
        data["name"] = self.text(values, "name")
        if "credit_code" in data and data["credit_code"]:
            data["credit_code"] = data["credit_code"].replace(" ", "").upper()
        if "tier" in self.col_of:
            data["tier"] = self.parse(values, "tier", parse_tier)
        if "status" in self.col_of:
            data["status"] = self.parse(values, "status", parse_status)
        next_contact = self.date_of(values, "next_contact_on") if "next_contact_on" in self.col_of else None
        ext = self.text(values, "external_id")
        if ext and len(ext) > 80:
            self.error("external_id", ext, t("err.too_long", self.locale, max=80))
        probe = {k: v for k, v in data.items() if v is not None or k == "name"}
        clean, field_errors = _validate_customer(probe, self.locale)
        for fld, message in field_errors.items():
            self.error(fld, probe.get(fld), message)
        self.fail_if_errors()
        owner = self.owner_ref(values) if "owner" in self.col_of else self.actor.id
        channel = self.named_ref(values, "channel", "channel", Channel, "_channels",
                                 lambda n: Channel(name=n.strip()[:80])) if "channel" in self.col_of else None
        fields = {k: v for k, v in clean.items() if v is not None and k in Customer.model_fields}
        if next_contact:
            fields["next_contact_on"] = next_contact
        match, how = self._match_customer(fields, ext)
        if match is None or (self.on_duplicate == "keep_both" and how != "external_id"
                             and not self._customer_identical(match, fields)):
            self._create_customer(fields, ext, owner, channel)
            return
        self._matched_customer(match, how, fields, ext, owner, channel, "owner" in self.col_of and
                               self.text(values, "owner") is not None, "channel" in self.col_of and channel is not None)

    def _customer_keys(self, fields: dict[str, Any], ext: str | None) -> list[tuple]:
        keys: list[tuple] = []
        if ext:
            keys.append(("ext", ext))
        keys.append(("name", dedupe.normalize_name(fields["name"])))
        if fields.get("phone") and dedupe.normalize_phone(fields["phone"]):
            keys.append(("phone", dedupe.normalize_phone(fields["phone"])))
        if fields.get("email") and dedupe.normalize_email(fields["email"]):
            keys.append(("email", dedupe.normalize_email(fields["email"])))
        if fields.get("credit_code"):
            keys.append(("credit", fields["credit_code"]))
        return keys

    def _match_customer(self, fields: dict[str, Any], ext: str | None) -> tuple[Any, str]:
        """(existing customer row or an earlier row of this file, how it matched)."""
        for key in self._customer_keys(fields, ext):
            if key in self.seen:
                return self.seen[key], "file"
        if ext and (known := self._existing_external_id(ext)) is not None:
            return self.s.get(Customer, known), "external_id"
        # SYSTEM: the import must see a colleague's customer to avoid duplicating it; what
        # the user is told about an invisible match is decided below (owner name only).
        matches = dedupe.find_duplicates(self.s, SYSTEM, name=fields["name"], phone=fields.get("phone"),
                                         email=fields.get("email"), credit_code=fields.get("credit_code"))
        ids: list[int] = []
        for m in matches:
            mid = m.get("customer_id")
            if mid is not None and mid not in ids:
                ids.append(mid)
        if not ids:
            return None, ""
        rows = [self.s.get(Customer, i) for i in ids]
        rows = [r for r in rows if r is not None and not r.archived] or [r for r in rows if r is not None]
        if not rows:
            return None, ""
        return (rows if len(rows) > 1 else rows[0]), "duplicate"

    def _customer_identical(self, match: Any, fields: dict[str, Any]) -> bool:
        if isinstance(match, tuple):  # an earlier row of this file
            return match[2] == fields
        if isinstance(match, list):
            return any(self._customer_identical(m, fields) for m in match)
        for k, v in fields.items():
            cur = getattr(match, k, None)
            if k == "name":
                if dedupe.normalize_name(cur) != dedupe.normalize_name(v):
                    return False
            elif (cur or None) != v:
                return False
        return True

    def _remember_customer(self, fields: dict[str, Any], ext: str | None, entity: Any) -> None:
        for key in self._customer_keys(fields, ext):
            self.seen.setdefault(key, (self.current_row, entity, dict(fields)))

    def _create_customer(self, fields: dict[str, Any], ext: str | None, owner: Any, channel: Any) -> None:
        owner_id = self.materialize(owner)
        channel_id = self.materialize(channel)
        now = utcnow()
        values = dict(fields)
        values.setdefault("tier", "C")
        values.setdefault("status", "lead")
        c = Customer(**values, **norm_columns({"name": values["name"], "phone": values.get("phone"),
                                                 "email": values.get("email")}),
                     owner_id=owner_id, channel_id=channel_id, external_id=ext,
                     pool_entered_at=None if owner_id else now, created_at=now, updated_at=now)
        self._remember_customer(fields, ext, c)
        self.outcome("created")
        if not self.dry_run:
            changes = {k: [None, v] for k, v in {**values, "owner_id": owner_id, "external_id": ext}.items()
                       if v is not None}
            self._queue_created(c, lambda obj: audit.record(self.s, self.actor, "customer", obj.id, "import",
                                                            changes))

    def _matched_customer(self, match: Any, how: str, fields: dict[str, Any], ext: str | None, owner: Any,
                          channel: Any, owner_given: bool, channel_given: bool) -> None:
        if how == "file":
            first_row, entity, _ = match
            if self.on_duplicate != "update" or self.dry_run:
                self.outcome("skipped", getattr(entity, "id", entity), self.msg("note.same_as_row", row=first_row))
                return
            self._flush_created()
            match = entity if isinstance(entity, Customer) else self.s.get(Customer, entity)
        if isinstance(match, list):
            if self.on_duplicate == "update":
                self.error("name", fields["name"], self.msg("err.several_matches",
                                                            ids=", ".join(f"#{m.id}" for m in match)))
                return
            self.outcome("skipped", match[0].id, self._match_note(match[0]))
            return
        existing: Customer = match
        if self.on_duplicate != "update":
            self.outcome("skipped", existing.id, self._match_note(existing))
            self._remember_customer(fields, ext, existing.id)
            return
        try:
            access.ensure_can_edit_customer(self.s, self.actor, existing)
        except PermissionDenied:
            self.error("name", fields["name"], self.msg("err.cannot_update", owner=self._owner_name(existing)))
            return
        changes: dict[str, Any] = dict(fields)
        if owner_given:
            changes["owner_id"] = self.materialize(owner)
        if channel_given:
            changes["channel_id"] = self.materialize(channel)
        if ext and not existing.external_id:
            changes["external_id"] = ext
        before = {k: getattr(existing, k) for k in changes}
        if "name" in changes and dedupe.normalize_name(before["name"]) == dedupe.normalize_name(changes["name"]):
            changes["name"] = before["name"]  # a spelling variant does not rename the customer
        diff = audit.changed_fields(before, changes)
        if not diff:
            self.outcome("skipped", existing.id, self.msg("note.unchanged"))
            self._remember_customer(fields, ext, existing.id)
            return
        if not self.dry_run:
            for k in diff:
                setattr(existing, k, changes[k])
            for k, v in norm_columns({"name": existing.name, "phone": existing.phone,
                                       "email": existing.email}).items():
                setattr(existing, k, v)
            if "owner_id" in diff:
                existing.pool_entered_at = None if existing.owner_id else utcnow()
            existing.version += 1
            existing.updated_at = utcnow()
            self.s.add(existing)
            audit.record(self.s, self.actor, "customer", existing.id, "update", diff)
        self._remember_customer(fields, ext, existing.id)
        self.outcome("updated", existing.id)

    def _match_note(self, c: Customer) -> str:
        """Which customer matched: its id for one the actor may see, else only its owner."""
        if self.visible is None or c.owner_id is None or c.owner_id in self.visible:
            return self.msg("note.matches", id=c.id, owner=self._owner_name(c))
        return self.msg("note.matches_hidden", owner=self._owner_name(c))

    def _owner_name(self, c: Customer) -> str:
        if c.owner_id is None:
            return self.msg("pool")
        u = self.s.get(User, c.owner_id)
        return u.display_name if u else str(c.owner_id)

    # -- contacts --------------------------------------------------------------
    def _row_contacts(self, values: list[Any]) -> None:
        data = {f: self.text(values, f) for f in ("name", "title", "phone", "email", "notes") if f in self.col_of}
        data["name"] = self.text(values, "name")
        primary = self.parse(values, "is_primary", parse_bool) if "is_primary" in self.col_of else None
        clean, errs = _validate_contact(data, self.locale)
        for fld, message in errs.items():
            self.error(fld, data.get(fld), message)
        self.fail_if_errors()
        customer_id = self.customer_ref(values, required=True, owner_ref=self.actor.id)
        if isinstance(customer_id, _Pending):  # contacts never create customers
            self.error("customer", self.text(values, "customer"), t("err.unknown_ref", self.locale, value=""))
            return
        fields = {k: v for k, v in clean.items() if v is not None}
        key = ("contact", customer_id, dedupe.normalize_name(fields["name"]))
        if key in self.seen:
            self.outcome("skipped", self.seen[key][1], self.msg("note.same_as_row", row=self.seen[key][0]))
            return
        existing = None
        for c in self.s.scalars(select(Contact).where(Contact.customer_id == customer_id)):
            same_phone = fields.get("phone") and c.phone and \
                dedupe.normalize_phone(c.phone) == dedupe.normalize_phone(fields["phone"])
            same_email = fields.get("email") and c.email and \
                dedupe.normalize_email(c.email) == dedupe.normalize_email(fields["email"])
            if dedupe.normalize_name(c.name) == key[2] or same_phone or same_email:
                existing = c
                break
        if existing is not None and self.on_duplicate == "keep_both" and not all(
                (getattr(existing, k) or None) == v for k, v in fields.items()):
            existing = None
        if existing is None:
            if customer_id not in self._with_contacts:
                if self.s.scalar(select(Contact.id).where(Contact.customer_id == customer_id).limit(1)) is None:
                    primary = True  # as in the app: a customer's first contact is its primary one
                self._with_contacts.add(customer_id)
            contact = Contact(customer_id=customer_id, is_primary=bool(primary), **fields)
            if not self.dry_run:
                if primary:
                    self._clear_primary(customer_id)
                self.s.add(contact)
                self.s.flush()
                audit.record(self.s, self.actor, "contact", contact.id, "import",
                             {k: [None, v] for k, v in fields.items()})
            self.seen[key] = (self.current_row, contact.id)
            self.outcome("created", contact.id)
            return
        self.seen[key] = (self.current_row, existing.id)
        if self.on_duplicate != "update":
            self.outcome("skipped", existing.id, self.msg("note.contact_exists", id=existing.id))
            return
        changes = dict(fields)
        if primary is not None:
            changes["is_primary"] = primary
        diff = audit.changed_fields({k: getattr(existing, k) for k in changes}, changes)
        if not diff:
            self.outcome("skipped", existing.id, self.msg("note.unchanged"))
            return
        if not self.dry_run:
            if changes.get("is_primary"):
                self._clear_primary(customer_id)
            for k in diff:
                setattr(existing, k, changes[k])
            self.s.add(existing)
            audit.record(self.s, self.actor, "contact", existing.id, "update", diff)
        self.outcome("updated", existing.id)

    def _clear_primary(self, customer_id: int) -> None:
        for c in self.s.scalars(select(Contact).where(Contact.customer_id == customer_id, Contact.is_primary.is_(True))):
            c.is_primary = False
            self.s.add(c)

    # -- deals -----------------------------------------------------------------
    def _row_deals(self, values: list[Any]) -> None:
        L = self.locale
        ext = self.text(values, "external_id")
        name = self.text(values, "name")
        amount = self.parse(values, "amount", parse_amount) if "amount" in self.col_of else None
        if amount is not None:
            limit_errors: dict[str, str] = {}
            check_amount(amount, "amount", L, limit_errors)  # the app's rule for absurd amounts
            if limit_errors:
                self.error("amount", self.raw(values, "amount"), limit_errors["amount"])
        probability = self.parse(values, "probability", parse_int, low=0, high=100) if "probability" in self.col_of else None
        expected = self.date_of(values, "expected_close") if "expected_close" in self.col_of else None
        opened = self.date_of(values, "opened_on") if "opened_on" in self.col_of else None
        closed = self.date_of(values, "closed_on") if "closed_on" in self.col_of else None
        next_step = self.text(values, "next_step")
        for fld, v, limit in (("external_id", ext, 80), ("name", name, 200), ("next_step", next_step, 300)):
            if v and len(v) > limit:
                self.error(fld, v, t("err.too_long", L, max=limit))
        self.fail_if_errors()
        owner = self.owner_ref(values)
        stage, stage_kind, stage_prob = self.stage_ref(values)
        won = stage_kind == "won"
        closed_kind = stage_kind in ("won", "lost")
        customer = self.customer_ref(values, required=won, owner_ref=owner, won=won)
        if won and amount is None:
            self.error("amount", self.raw(values, "amount"), self.msg("err.won_needs_amount"))
        if closed_kind:
            closed = closed or expected
            if closed is None:
                self.error("closed_on", self.raw(values, "closed_on"), self.msg("err.closed_needs_date"))
        else:
            closed = None
        opened = opened or closed or self.today
        if closed and closed < opened:
            self.error("closed_on", self.raw(values, "closed_on"), self.msg("err.closed_before_opened"))
        self.fail_if_errors()
        product = self.named_ref(values, "product", "product", Product, "_products",
                                 lambda n: Product(name=n.strip()[:120])) if "product" in self.col_of else None
        channel = self.named_ref(values, "channel", "channel", Channel, "_channels",
                                 lambda n: Channel(name=n.strip()[:80])) if "channel" in self.col_of else None
        reason = self.named_ref(values, "lost_reason", "lost_reason", LostReason, "_reasons",
                                lambda n: LostReason(name=n.strip()[:120])) \
            if "lost_reason" in self.col_of and stage_kind == "lost" else None
        if not name:
            parts = [self.text(values, "customer"), self.text(values, "product")]
            name = " ".join(p for p in parts if p) or ext
        if not name:
            self.error("name", None, t("err.required", L))
            raise _RowFailed
        fields = {"name": name[:200], "amount": amount, "probability": probability if probability is not None
                  else (100 if won else 0 if stage_kind == "lost" else stage_prob),
                  "expected_close": expected, "opened_on": opened, "closed_on": closed, "next_step": next_step}
        existing = self._match_deal(ext, customer, name, owner)
        if isinstance(existing, tuple):
            self.outcome("skipped", getattr(existing[1], "id", existing[1]), self.msg("note.same_as_row",
                                                                                      row=existing[0]))
            return
        if existing is not None and (self.on_duplicate != "keep_both" or ext):
            self._matched_deal(existing, fields, owner, stage, stage_kind, customer, product, channel, reason, values)
            return
        self._create_deal(fields, ext, owner, stage, customer, product, channel, reason)

    def _deal_key(self, ext: str | None, customer: Any, name: str) -> tuple:
        if ext:
            return ("deal-ext", ext)
        cust = customer.key if isinstance(customer, _Pending) else customer
        return ("deal", cust, dedupe.normalize_name(name))

    def _match_deal(self, ext: str | None, customer: Any, name: str, owner: Any) -> Any:
        key = self._deal_key(ext, customer, name)
        if key in self.seen:
            return self.seen[key]
        if ext:
            if self._deal_ext is None:
                col = self.col_of["external_id"]
                ids = sorted({_text(v[col]) for _, v in self.table.rows if col < len(v)} - {""})
                self._deal_ext = {}
                for i in range(0, len(ids), 500):
                    self._deal_ext.update({e: did for did, e in self.s.execute(
                        select(Deal.id, Deal.external_id).where(Deal.external_id.in_(ids[i:i + 500])))})
            known = self._deal_ext.get(ext)
            return self.s.get(Deal, known) if known is not None else None
        if isinstance(customer, _Pending):
            return None
        q = select(Deal).where(Deal.customer_id == customer) if customer is not None else \
            select(Deal).where(Deal.customer_id.is_(None), Deal.owner_id == owner)
        norm = dedupe.normalize_name(name)
        for d in self.s.scalars(q):
            if dedupe.normalize_name(d.name) == norm:
                return d
        return None

    def _create_deal(self, fields, ext, owner, stage, customer, product, channel, reason) -> None:
        owner_id = self.materialize(owner)
        stage_id = self.materialize(stage)
        customer_id = self.materialize(customer)
        now = utcnow()
        deal = Deal(**fields, external_id=ext, owner_id=owner_id, stage_id=stage_id, customer_id=customer_id,
                    product_id=self.materialize(product), channel_id=self.materialize(channel),
                    lost_reason_id=self.materialize(reason), created_at=now, updated_at=now, stage_changed_at=now)
        self.seen[self._deal_key(ext, customer, fields["name"])] = (self.current_row, deal)
        self.outcome("created")
        if not self.dry_run:
            changes = {k: [None, v] for k, v in {**fields, "external_id": ext, "stage_id": stage_id,
                                                 "owner_id": owner_id, "customer_id": customer_id}.items()
                       if v is not None}

            def after(obj: Deal) -> None:
                _write_history(self.s, self.actor, obj.id, "stage", None, stage_id, now)
                audit.record(self.s, self.actor, "deal", obj.id, "import", changes)

            self._queue_created(deal, after)

    def _matched_deal(self, deal: Deal, fields, owner, stage, stage_kind, customer, product, channel, reason,
                      values) -> None:
        self.seen[self._deal_key(deal.external_id, customer, fields["name"])] = (self.current_row, deal.id)
        try:
            access.ensure_owned_visible(self.s, self.actor, deal.owner_id)
        except NotFound:
            self.error("external_id" if deal.external_id else "name", deal.external_id or fields["name"],
                       self.msg("err.deal_not_yours"))
            return
        if self.on_duplicate != "update":
            self.outcome("skipped", deal.id, self.msg("note.deal_exists", id=deal.id))
            return
        changes = {k: v for k, v in fields.items() if v is not None and k in self._given_deal_fields(values)}
        if "stage" in self.col_of and self.text(values, "stage") is not None:
            changes["stage_id"] = self.materialize(stage)
        if "owner" in self.col_of and self.text(values, "owner") is not None:
            changes["owner_id"] = self.materialize(owner)
        for fld, ref in (("customer_id", customer), ("product_id", product), ("channel_id", channel),
                         ("lost_reason_id", reason)):
            if ref is not None:
                changes[fld] = self.materialize(ref)
        before = {k: getattr(deal, k) for k in changes}
        diff = audit.changed_fields(before, changes)
        if not diff:
            self.outcome("skipped", deal.id, self.msg("note.unchanged"))
            return
        current_kind = self.s.scalar(select(Stage.kind).where(Stage.id == deal.stage_id))
        if "stage_id" in diff and current_kind in ("won", "lost"):
            self.error("stage", self.raw(values, "stage"), self.msg("err.deal_closed"))
            return
        if not self.dry_run:
            now = utcnow()
            history = {"stage_id": "stage", "amount": "amount", "expected_close": "expected_close",
                       "owner_id": "owner"}
            for k in diff:
                if k in history:
                    _write_history(self.s, self.actor, deal.id, history[k], before[k], changes[k], now)
                setattr(deal, k, changes[k])
            if "stage_id" in diff:
                deal.stage_changed_at = now
                if stage_kind not in ("won", "lost"):
                    deal.closed_on = None
            deal.version += 1
            deal.updated_at = now
            self.s.add(deal)
            audit.record(self.s, self.actor, "deal", deal.id, "update", diff)
        self.outcome("updated", deal.id)

    def _given_deal_fields(self, values: list[Any]) -> set[str]:
        given = {f for f in ("name", "amount", "probability", "expected_close", "opened_on", "closed_on", "next_step")
                 if f in self.col_of and self.raw(values, f) is not None}
        if "closed_on" not in given and "expected_close" in given:
            given.add("closed_on")  # a closed deal's close date defaults to its expected close
        return given

    # -- activities ------------------------------------------------------------
    def _row_activities(self, values: list[Any]) -> None:
        L = self.locale
        ext = self.text(values, "external_id")
        kind = (self.parse(values, "kind", parse_activity_kind) if "kind" in self.col_of else None) or "other"
        done_at = self.datetime_of(values, "done_at") if "done_at" in self.col_of else None
        planned_at = self.datetime_of(values, "planned_at") if "planned_at" in self.col_of else None
        duration = self.parse(values, "duration_minutes", parse_int, low=0, high=24 * 60) \
            if "duration_minutes" in self.col_of else None
        next_contact = self.date_of(values, "next_contact_on") if "next_contact_on" in self.col_of else None
        texts = {f: self.text(values, f) for f in ("outcome", "notes", "next_step", "location")}
        for fld, limit in (("outcome", 300), ("next_step", 300), ("location", 200), ("external_id", 80)):
            v = ext if fld == "external_id" else texts[fld]
            if v and len(v) > limit:
                self.error(fld, v, t("err.too_long", L, max=limit))
        now = utcnow()
        if done_at is not None and done_at > now:
            planned_at, done_at = planned_at or done_at, None  # a future date is a plan
        if done_at is None and planned_at is None and not self.row_errors:
            self.error("done_at", self.raw(values, "done_at"), t("err.required", L))
        self.fail_if_errors()
        owner = self.owner_ref(values)
        customer = self.customer_ref(values, required=True, owner_ref=owner)
        deal_id = self._activity_deal(values, customer)
        contact_id = self._activity_contact(values, customer)
        self.fail_if_errors()
        fields = {"kind": kind, "done_at": done_at, "planned_at": planned_at, "duration_minutes": duration,
                  "next_contact_on": next_contact, **texts}
        when = done_at or planned_at
        key = ("act-ext", ext) if ext else ("act", customer.key if isinstance(customer, _Pending) else customer,
                                            kind, when)
        if key in self.seen:
            first_row, entity = self.seen[key]
            self.outcome("skipped", getattr(entity, "id", entity), self.msg("note.same_as_row", row=first_row))
            return
        existing = None
        if ext:
            existing = self.s.scalars(select(Activity).where(Activity.external_id == ext)).first()
        elif not isinstance(customer, _Pending):
            col = Activity.done_at if done_at else Activity.planned_at
            existing = self.s.scalars(select(Activity).where(Activity.customer_id == customer, Activity.kind == kind,
                                                             col == when)).first()
        if existing is not None and (self.on_duplicate != "keep_both" or ext):
            self.seen[key] = (self.current_row, existing.id)
            try:
                access.ensure_owned_visible(self.s, self.actor, existing.owner_id)
            except NotFound:
                self.error("external_id", ext, self.msg("err.activity_not_yours"))
                return
            self.outcome("skipped", existing.id, self.msg("note.activity_exists", id=existing.id))
            return
        owner_id = self.materialize(owner)
        customer_id = self.materialize(customer)
        act = Activity(**fields, external_id=ext, owner_id=owner_id, customer_id=customer_id, deal_id=deal_id,
                       contact_id=contact_id, created_at=now)
        self.seen[key] = (self.current_row, act)
        self.outcome("created")
        if not self.dry_run:
            changes = {k: [None, v] for k, v in {**fields, "customer_id": customer_id, "external_id": ext}.items()
                       if v is not None}
            self._queue_created(act, lambda obj: audit.record(self.s, self.actor, "activity", obj.id, "import",
                                                              changes))
            if done_at is not None:
                self._touch_contact(customer_id, deal_id, done_at, next_contact)

    def _activity_deal(self, values: list[Any], customer: Any) -> int | None:
        ext = self.text(values, "deal_external_id")
        name = self.text(values, "deal")
        if not ext and not name:
            return None
        if ext:
            deal = self.s.scalars(select(Deal).where(Deal.external_id == ext)).first()
        else:
            deal = None
            if not isinstance(customer, _Pending):
                norm = dedupe.normalize_name(name)
                for d in self.s.scalars(select(Deal).where(Deal.customer_id == customer)):
                    if dedupe.normalize_name(d.name) == norm:
                        deal = d
                        break
        fld, raw = ("deal_external_id", ext) if ext else ("deal", name)
        if deal is None or deal.customer_id != (customer if not isinstance(customer, _Pending) else None):
            self.error(fld, raw, t("err.unknown_ref", self.locale, value=raw))
            return None
        return deal.id

    def _activity_contact(self, values: list[Any], customer: Any) -> int | None:
        name = self.text(values, "contact")
        if not name or isinstance(customer, _Pending):
            if name:
                self.error("contact", name, t("err.unknown_ref", self.locale, value=name))
            return None
        norm = dedupe.normalize_name(name)
        for c in self.s.scalars(select(Contact).where(Contact.customer_id == customer)):
            if dedupe.normalize_name(c.name) == norm:
                return c.id
        self.error("contact", name, t("err.unknown_ref", self.locale, value=name))
        return None

    def _touch_contact(self, customer_id: int, deal_id: int | None, done_at: datetime, next_contact: date | None) -> None:
        """The customer's last contact becomes the latest done activity (never earlier); its
        next follow-up comes from that latest activity."""
        c = self.s.get(Customer, customer_id)
        last = c.last_contact_at
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        if last is None or done_at >= last:
            c.last_contact_at = done_at
            if next_contact is not None:
                c.next_contact_on = next_contact
            self.s.add(c)
        if deal_id is not None:
            d = self.s.get(Deal, deal_id)
            la = d.last_activity_at
            if la is not None and la.tzinfo is None:
                la = la.replace(tzinfo=UTC)
            if la is None or done_at > la:
                d.last_activity_at = done_at
                self.s.add(d)


def resolve_mapping(headers: list[str], kind: str, mapping: dict[str, str] | None, locale: str = "en") -> dict[str, str]:
    """The mapping to use: suggestions overridden by ``mapping`` (header → field, ``""`` to
    ignore). Raises ValidationError for unknown headers or fields, a field mapped twice, or a
    required field left unmapped."""
    final = suggest_mapping(headers, kind)
    errors: dict[str, str] = {}
    for header, fld in (mapping or {}).items():
        if header not in final:
            errors[f"mapping:{header}"] = t("importing.err.no_such_column", locale, column=header)
            continue
        if fld and fld not in FIELDS[kind]:
            errors[f"mapping:{header}"] = t("err.not_in_list", locale, options=", ".join(FIELDS[kind]))
            continue
        if fld:  # an explicit choice takes the field away from a suggested column
            for h, f in final.items():
                if f == fld and h != header and h not in (mapping or {}):
                    final[h] = ""
        final[header] = fld or ""
    used: dict[str, str] = {}
    for header, fld in final.items():
        if fld and fld in used:
            errors[f"mapping:{header}"] = t("importing.err.mapped_twice", locale, field=fld, other=used[fld])
        elif fld:
            used[fld] = header
    for group in REQUIRED[kind]:
        if not any(f in used for f in group):
            errors[group[0]] = t("importing.err.unmapped_required", locale, fields=" / ".join(group))
    if errors:
        raise ValidationError(errors)
    return final


def import_file(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    path: str | Path | BinaryIO | bytes,
    mapping: dict[str, str] | None = None,
    on_duplicate: str = "skip",
    dry_run: bool = False,
    create_missing: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import ``kind`` records from a CSV/XLSX file (path, bytes or binary file object).

    Every row is validated; bad rows are reported and skipped, good rows are written in the
    caller's transaction (see the module docstring for matching, duplicates and messy data).
    ``dry_run`` validates and counts without writing. ``keep_both`` needs a manager;
    ``create_missing`` needs a director or admin. ``progress(done, total)`` is called as rows go.
    """
    locale = actor.locale
    if kind not in KINDS:
        raise ValidationError({"kind": t("err.not_in_list", locale, options=", ".join(KINDS))})
    if on_duplicate not in DUPLICATE_POLICIES:
        raise ValidationError({"on_duplicate": t("err.not_in_list", locale, options=", ".join(DUPLICATE_POLICIES))})
    if on_duplicate == "keep_both" and not actor.is_manager:
        raise PermissionDenied(t("importing.err.keep_both_manager", locale))
    if create_missing and not actor.sees_all:
        raise PermissionDenied(t("importing.err.create_missing_role", locale))
    table = read_table(path)
    final = resolve_mapping(table.headers, kind, mapping, locale)
    return _Importer(session, actor, kind, table, final, on_duplicate, dry_run, create_missing, progress).run()
