"""The rules of a scheme as plain values, their validation and the commission arithmetic —
no database here, so the pages, the CLI, the what-if and the property tests share one copy.

Tiers are "lower bound:rate" pairs (``0:2%,100000:4%,250000:6%``): the first lower bound is 0,
bounds rise strictly (equal or falling bounds would overlap), rates are percentages in
0–100 % and never fall from one tier to the next (a higher tier paying less would make
selling more earn less). A tier runs from its lower bound (inclusive) to the next tier's
lower bound (exclusive); the last one is open.

- whole (全额累进): the rate of the tier the basis reaches applies to the whole basis;
- marginal (超额累进): each rate applies to the slice of the basis inside its tier.

Rounding: the exact commission (Decimal, no float) is rounded once, half up, to the cent;
the lines shown are rounded the same way and any cent left over goes to the largest line, so
the lines always add up to the total. A basis of 0 or less earns nothing.

Attainment bonus thresholds ("100%:5000,120%:12000"): the highest threshold the rep's
attainment (won amount ÷ base target of the period) reaches pays its fixed amount, once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from services.errors import ValidationError
from services.i18n import t
from services.models.fields import CONTEST_RULES, MAX_AMOUNT, SCHEME_BASES, SCHEME_MODES, SCHEME_PERIODS

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Tier:
    lower: Decimal  # base currency, inclusive
    rate: Decimal  # fraction: 0.02 = 2 %


@dataclass(frozen=True)
class Threshold:
    attainment: Decimal  # fraction: 1.2 = 120 %
    bonus: Decimal


@dataclass(frozen=True)
class Line:
    """One line of a payout's calculation."""

    kind: str  # basis | slice | bonus | prize | adjustment | note
    amount: Decimal = ZERO
    base: Decimal | None = None
    rate: Decimal | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None
    note: str = ""

    def as_dict(self) -> dict:
        out: dict = {"kind": self.kind, "amount": str(self.amount)}
        for key in ("base", "rate", "lower", "upper"):
            value = getattr(self, key)
            if value is not None:
                out[key] = str(value)
        if self.note:
            out["note"] = self.note
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Line:
        def dec(key):
            return Decimal(data[key]) if data.get(key) is not None else None

        return cls(kind=data["kind"], amount=Decimal(data.get("amount", "0")), base=dec("base"), rate=dec("rate"),
                   lower=dec("lower"), upper=dec("upper"), note=data.get("note", ""))


# ---------------------------------------------------------------------------
# parsing and validation (messages name the field and the rule, in the user's language)


def _number(text: str) -> Decimal:
    value = Decimal(text.replace(",", "").replace("_", "").strip())
    if not value.is_finite():
        raise InvalidOperation
    return value


def _percent(text: str) -> Decimal:
    """"2%", "2.5 %" or "2" → percent as a number (2, 2.5)."""
    return _number(text.strip().removesuffix("%"))


def _pct(fraction: Decimal) -> str:
    return f"{(fraction * HUNDRED).normalize():f}%"


def _pairs(text: str, left: Callable[[str], Decimal], right: Callable[[str], Decimal],
           refuse: Callable[[str], ValidationError]) -> Iterator[tuple[Decimal, Decimal, str]]:
    """ "a:b, c:d" (full-width commas too) → ``(left(a), right(b), "b")``, … one pair at a time
    (so the caller's own checks run in order); a part without ":" or with a side that does not
    parse raises ``refuse(part)``."""
    for part in [p.strip() for p in text.replace("，", ",").split(",") if p.strip()]:
        if ":" not in part:
            raise refuse(part)
        a, b = part.split(":", 1)
        try:
            pair = left(a), right(b)
        except (InvalidOperation, ValueError):
            raise refuse(part) from None
        yield pair[0], pair[1], b.strip()


def parse_tiers(value, locale: str, field: str = "tiers") -> list[Tier]:
    """Tiers from "0:2%,100000:4%" (or a list of ``Tier`` / {"from", "rate"} dicts), checked by
    the rule in the module docstring; ``ValidationError`` on ``field`` otherwise."""
    def fail(key: str, **params) -> ValidationError:
        return ValidationError({field: t(f"incentives.err.{key}", locale, **params)})

    tiers: list[Tier] = []
    if isinstance(value, str):
        for lower, pct, rate_text in _pairs(value, _number, _percent, lambda part: fail("tier_format", part=part)):
            if not ZERO <= pct <= HUNDRED:
                raise fail("rate_range", rate=rate_text)
            tiers.append(Tier(lower, pct / HUNDRED))
    else:
        for item in value or []:
            if isinstance(item, Tier):
                tiers.append(item)
            else:
                tiers.append(Tier(Decimal(str(item["from"])), Decimal(str(item["rate"]))))
        for tier in tiers:
            if not ZERO <= tier.rate <= 1:
                raise fail("rate_range", rate=_pct(tier.rate))
    if not tiers:
        raise ValidationError({field: t("err.required", locale)})
    if tiers[0].lower != 0:
        raise fail("tier_first_zero", lower=f"{tiers[0].lower:g}")
    for prev, nxt in zip(tiers, tiers[1:], strict=False):
        if nxt.lower <= prev.lower:
            raise fail("tier_ascending", a=f"{prev.lower:g}", b=f"{nxt.lower:g}")
        if nxt.rate < prev.rate:
            raise fail("tier_rates_fall", a=_pct(prev.rate), b=_pct(nxt.rate))
    for tier in tiers:
        if tier.lower > MAX_AMOUNT:
            raise fail("tier_format", part=f"{tier.lower:g}")
    return [Tier(cents(tr.lower), tr.rate) for tr in tiers]


def parse_bonus(value, locale: str, field: str = "bonus") -> list[Threshold]:
    """Attainment thresholds from "100%:5000,120%:12000" (empty → none): percentages above 0
    rising strictly, amounts 0…``MAX_AMOUNT``."""
    def fail(key: str, **params) -> ValidationError:
        return ValidationError({field: t(f"incentives.err.{key}", locale, **params)})

    out: list[Threshold] = []
    if value is None or (isinstance(value, str) and not value.strip()):
        return out
    if isinstance(value, str):
        for pct, amount, _text in _pairs(value, _percent, _number, lambda part: fail("bonus_format", part=part)):
            out.append(Threshold(pct / HUNDRED, amount))
    else:
        for item in value:
            out.append(item if isinstance(item, Threshold)
                       else Threshold(Decimal(str(item["attainment"])), Decimal(str(item["bonus"]))))
    for th in out:
        if th.attainment <= 0:
            raise fail("bonus_format", part=f"{th.attainment * HUNDRED:g}%")
        if not ZERO <= th.bonus <= MAX_AMOUNT:
            raise fail("bonus_amount", amount=f"{th.bonus:g}")
    for prev, nxt in zip(out, out[1:], strict=False):
        if nxt.attainment <= prev.attainment:
            raise fail("bonus_ascending", a=f"{prev.attainment * HUNDRED:g}%", b=f"{nxt.attainment * HUNDRED:g}%")
    return [Threshold(th.attainment, cents(th.bonus)) for th in out]


def parse_contest(value, locale: str, field: str = "contest") -> dict:
    """A contest: {"rule": most_activities (with "activity_kind") | first_close (with
    "product_id"), "prizes": ["3000", "1000", …]} — prize i goes to rank i + 1."""
    def fail(key: str, **params) -> ValidationError:
        return ValidationError({field: t(f"incentives.err.{key}", locale, **params)})

    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise fail("contest_rule", options=", ".join(CONTEST_RULES)) from None
    if not isinstance(value, dict) or value.get("rule") not in CONTEST_RULES:
        raise fail("contest_rule", options=", ".join(CONTEST_RULES))
    prizes = []
    for p in value.get("prizes") or []:
        try:
            amount = _number(str(p))
        except (InvalidOperation, ValueError):
            raise fail("bonus_amount", amount=str(p)) from None
        if not ZERO < amount <= MAX_AMOUNT:
            raise fail("bonus_amount", amount=str(p))
        prizes.append(str(cents(amount)))
    if not prizes:
        raise fail("contest_prizes")
    out = {"rule": value["rule"], "prizes": prizes}
    if value["rule"] == "most_activities":
        out["activity_kind"] = value.get("activity_kind") or "demo"
    else:
        if not value.get("product_id"):
            raise ValidationError({"product_id": t("err.required", locale)})
        out["product_id"] = int(value["product_id"])
    return out


def check_choice(value, options: tuple[str, ...], field: str, locale: str, errors: dict[str, str]) -> str | None:
    """``value`` if one of ``options``, else a message on ``field`` (required / not in list)."""
    if value is None or str(value).strip() == "":
        errors[field] = t("err.required", locale)
        return None
    if value not in options:
        errors[field] = t("err.not_in_list", locale, options=", ".join(options))
        return None
    return value


def tiers_text(tiers: list[Tier]) -> str:
    """"0:2%,100000:4%" — the form a user types."""
    return ",".join(f"{tr.lower.normalize():f}:{(tr.rate * HUNDRED).normalize():f}%" for tr in tiers)


def bonus_text(thresholds: list[Threshold]) -> str:
    return ",".join(f"{(th.attainment * HUNDRED).normalize():f}%:{th.bonus.normalize():f}" for th in thresholds)


def tiers_json(tiers: list[Tier]) -> str:
    return json.dumps([{"from": str(tr.lower), "rate": str(tr.rate)} for tr in tiers])


def bonus_json(thresholds: list[Threshold]) -> str:
    return json.dumps([{"attainment": str(th.attainment), "bonus": str(th.bonus)} for th in thresholds])


# ---------------------------------------------------------------------------
# the arithmetic


def commission(basis: Decimal, tiers: list[Tier], mode: str) -> tuple[Decimal, list[Line]]:
    """Commission on ``basis`` by ``tiers`` in ``mode`` (module docstring), with its lines."""
    if mode not in SCHEME_MODES:
        raise ValueError(f"unknown mode {mode!r}")
    if basis <= 0 or not tiers:
        return cents(ZERO), []
    uppers = [tr.lower for tr in tiers[1:]] + [None]
    if mode == "whole":
        i = max(k for k, tr in enumerate(tiers) if basis >= tr.lower)
        total = cents(basis * tiers[i].rate)
        return total, [Line("slice", total, base=basis, rate=tiers[i].rate, lower=tiers[i].lower, upper=uppers[i])]
    exact = ZERO
    lines: list[Line] = []
    for tier, upper in zip(tiers, uppers, strict=True):
        if basis <= tier.lower:
            break
        part = (basis if upper is None else min(basis, upper)) - tier.lower
        exact += part * tier.rate
        lines.append(Line("slice", cents(part * tier.rate), base=part, rate=tier.rate, lower=tier.lower, upper=upper))
    total = cents(exact)
    left = total - sum((ln.amount for ln in lines), ZERO)
    if left and lines:
        k = max(range(len(lines)), key=lambda j: lines[j].amount)
        ln = lines[k]
        lines[k] = Line(ln.kind, ln.amount + left, base=ln.base, rate=ln.rate, lower=ln.lower, upper=ln.upper)
    return total, lines


def attainment_bonus(attainment: Decimal | None, thresholds: list[Threshold]) -> Threshold | None:
    """The highest threshold ``attainment`` reaches (None without a target or below all)."""
    if attainment is None:
        return None
    reached = [th for th in thresholds if attainment >= th.attainment]
    return reached[-1] if reached else None


@dataclass(frozen=True)
class Rule:
    """A scheme's rule read from its row (older kinds mapped: tiered_full → whole,
    tiered_excess → marginal, attainment_bonus → bonus only)."""

    kind: str  # commission | contest
    basis: str
    mode: str
    period: str
    tiers: list[Tier]
    bonus: list[Threshold]
    contest: dict | None


def rule_of(scheme) -> Rule:
    raw = json.loads(scheme.tiers or "[]")
    bonus = [Threshold(Decimal(str(b["attainment"])), Decimal(str(b["bonus"]))) for b in json.loads(scheme.bonus or "[]")]
    kind, mode = scheme.kind, scheme.mode or "whole"
    tiers: list[Tier] = []
    contest = json.loads(scheme.contest) if scheme.contest else None
    if kind == "attainment_bonus":
        bonus = bonus or [Threshold(Decimal(str(b["attainment"])), Decimal(str(b["bonus"]))) for b in raw]
        kind = "commission"
    elif kind == "contest":
        if contest is None and raw:  # older rows: prizes by rank in ``tiers``, for the most won amount
            contest = {"rule": "most_won", "prizes": [str(r["bonus"]) for r in sorted(raw, key=lambda r: r["rank"])]}
    else:
        if kind == "tiered_excess":
            mode = "marginal"
        elif kind == "tiered_full":
            mode = "whole"
        kind = "commission"
        tiers = [Tier(Decimal(str(r["from"])), Decimal(str(r["rate"]))) for r in raw]
    return Rule(kind, scheme.basis, mode, scheme.period_kind, tiers, bonus, contest)


__all__ = [
    "CENT", "SCHEME_BASES", "SCHEME_MODES", "SCHEME_PERIODS", "Line", "Rule", "Threshold", "Tier", "attainment_bonus",
    "bonus_json", "bonus_text", "cents", "check_choice", "commission", "parse_bonus", "parse_contest", "parse_tiers",
    "rule_of", "tiers_json", "tiers_text",
]
