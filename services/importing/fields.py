"""What can be imported: the kinds, their fields (the README and the CLI help list them),
the Chinese and English header names each field is recognised by, and the column mapping
(suggested from the headers, overridden by the user, checked before any row is read)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from services.errors import ValidationError
from services.i18n import t

KINDS = ("customers", "contacts", "deals", "activities")
DUPLICATE_POLICIES = ("skip", "update", "keep_both")

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
        "notes": "Notes (at most 5,000 characters).",
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
        "notes": "Notes (at most 5,000 characters).",
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
        "stage": "Stage name; won/赢单/成交/Closed Won and lost/输单/丢单/Closed Lost name the won/lost stage; "
        "empty → first open stage. Unknown → error, or with --create-missing created as a won/lost stage "
        "(100 % / 0 %) when its name says won/lost, else as an open stage after the others.",
        "probability": "Win probability 0–100 (25 or 25%); empty → the stage's default.",
        "expected_close": "Expected close date (2026-11-27, 2026/11/27, 27.11.2026, 2026年11月27日, "
        "Excel dates).",
        "opened_on": "Date the deal was opened; empty → close date for closed deals, else today.",
        "closed_on": "Close date of a won/lost deal; empty → expected close date; neither → error. "
        "A close date on a deal in an open stage is an error on its row.",
        "lost_reason": "Lost reason (optional for lost deals).",
        "channel": "Channel / source.",
        "next_step": "Next step (at most 300 characters).",
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
        "outcome": "Outcome / result (at most 300 characters).",
        "notes": "Notes / content (at most 5,000 characters).",
        "next_step": "Next step (at most 300 characters).",
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
