"""Duplicate check (查重) for customers: normalised keys and the matching query.

A customer is a possible duplicate of another when one of these matches exactly:
normalised name, normalised phone, normalised email or the unified social credit code.
The normalised values live in indexed columns (``name_norm``, ``phone_norm``,
``email_norm``, ``credit_code``), so the check is a handful of index lookups.

Regional brackets are kept: "华为（上海）有限公司" and "华为有限公司" are different legal
entities (each has its own credit code), so only the brackets themselves are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from services.access import Actor, visible_user_ids
from services.models import Customer, User

# Latin legal-form words dropped from the end of a name (as whole tokens, repeatedly).
LATIN_SUFFIX_TOKENS = frozenset(
    {
        "co", "company", "ltd", "limited", "inc", "incorporated", "llc", "corp", "corporation",
        "gmbh", "plc", "pte", "ag", "sa", "srl", "bv", "kk", "holdings", "group",
    }
)
# Chinese legal-form endings dropped from the end of the compact name (longest first, repeatedly).
CJK_SUFFIXES = ("股份有限公司", "有限责任公司", "集团有限公司", "集团公司", "有限公司", "集团", "公司")

_TOKEN_SPLIT = re.compile(r"[\W_]+", re.UNICODE)
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: digits and capitals without I O S V Z
_CREDIT_CHARS = CREDIT_CHARS
# the stored key column each normalised input is compared with
_KEY_COLUMNS = {"name": Customer.name_norm, "phone": Customer.phone_norm, "email": Customer.email_norm,
                "credit_code": Customer.credit_code}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from pandas
        return ""
    return unicodedata.normalize("NFKC", str(value))


def normalize_name(value: Any) -> str:
    """Company name key: NFKC (full-width → half-width), casefold, punctuation and spaces
    removed, legal-form suffixes (有限公司, 股份有限公司, 集团, Co., Ltd., Inc., GmbH, …)
    removed from the end. Never empties a name: a name that is only a suffix keeps it."""
    text = _text(value).casefold()
    tokens = [t for t in _TOKEN_SPLIT.split(text) if t]
    if not tokens:
        return ""
    while len(tokens) > 1 and tokens[-1] in LATIN_SUFFIX_TOKENS:
        tokens.pop()
    compact = "".join(tokens)
    changed = True
    while changed:
        changed = False
        for suffix in CJK_SUFFIXES:
            if compact.endswith(suffix) and len(compact) > len(suffix):
                compact = compact[: -len(suffix)]
                changed = True
                break
    return compact[:200]


def normalize_phone(value: Any) -> str | None:
    """Phone key: digits only; the China country code (+86 / 0086 / 86 before a full
    number) removed and the trunk 0 restored for landlines, so "+86 10 1234 5678" and
    "010-12345678" match. ``None`` when there are no digits."""
    text = _text(value).strip()
    digits = "".join(ch for ch in text if ch.isdigit() and ch.isascii())
    if not digits:
        return None
    international = text.startswith("+") or digits.startswith("00")
    if digits.startswith("0086"):
        digits, international = digits[4:], True
    elif digits.startswith("86") and (international or len(digits) >= 12):
        digits, international = digits[2:], True
    if international and digits and not digits.startswith("0") and not (len(digits) == 11 and digits.startswith("1")):
        digits = "0" + digits
    return digits[:40] or None


def normalize_email(value: Any) -> str | None:
    """Email key: trimmed and lower-cased (NFKC first). ``None`` when empty."""
    text = _text(value).strip().lower()
    return text[:200] or None


def normalize_credit_code(value: Any) -> str | None:
    """Credit code key: NFKC, spaces removed, upper-case."""
    text = "".join(_text(value).split()).upper()
    return text or None


def credit_code_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a unified social
    credit code (weights 3^i mod 31; the check value is 31 − Σ mod 31)."""
    total = 0
    for i, ch in enumerate(first17):
        total += CREDIT_CHARS.index(ch) * pow(3, i, 31)
    return CREDIT_CHARS[(31 - total % 31) % 31]


def find_duplicates(
    session: Session,
    actor: Actor,
    *,
    name: Any = None,
    phone: Any = None,
    email: Any = None,
    credit_code: Any = None,
    exclude_id: int | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """Existing customers that match on normalised name, phone, email or credit code.

    Searches every customer (the point is to find the one a colleague already owns), but
    reveals only what the actor may see: a visible match (own / team / pool) gives
    ``customer_id``, ``name``, ``owner_id``, ``owner_name``; an invisible one gives only
    ``owner_name`` and ``matched_on`` (``customer_id`` and ``name`` are None, ``hidden``
    True). Each dict: customer_id, name, owner_id, owner_name, matched_on (list of field
    names), archived, hidden.
    """
    keys = {
        "name": normalize_name(name) or None,
        "phone": normalize_phone(phone),
        "email": normalize_email(email),
        "credit_code": normalize_credit_code(credit_code),
    }
    keys = {f: key for f, key in keys.items() if key}
    conds = [_KEY_COLUMNS[f] == key for f, key in keys.items()]
    if not conds:
        return []
    stmt = (
        select(
            Customer.id, Customer.name, Customer.name_norm, Customer.phone_norm, Customer.email_norm,
            Customer.credit_code, Customer.owner_id, Customer.archived, User.display_name,
        )
        .outerjoin(User, User.id == Customer.owner_id)
        .where(or_(*conds))
        .order_by(Customer.archived, Customer.id)
        .limit(limit)
    )
    if exclude_id is not None:
        stmt = stmt.where(Customer.id != exclude_id)
    visible_owner_ids = visible_user_ids(session, actor)
    out: list[dict[str, Any]] = []
    for row in session.execute(stmt).all():
        matched = [f for f, key in keys.items() if getattr(row, _KEY_COLUMNS[f].key) == key]
        visible = visible_owner_ids is None or row.owner_id is None or row.owner_id in visible_owner_ids
        out.append(
            {
                "customer_id": row.id if visible else None,
                "name": row.name if visible else None,
                "owner_id": row.owner_id if visible else None,
                "owner_name": row.display_name,
                "matched_on": matched,
                "archived": bool(row.archived) if visible else None,
                "hidden": not visible,
            }
        )
    return out
