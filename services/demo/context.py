"""The state every area of the demo builds on: the scale, the seeded random source, the
calendar (anchor day, first month, a clock that formats days and minutes once), the rows
generated so far and the id counters, and what earlier areas leave for later ones (teams,
reps, customers, deals, won contracts…). Also the generators of names, phones and credit
codes, so every area draws them the same way from the same random stream."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from services.dedupe import CREDIT_CHARS, credit_code_check_char, normalize_name
from services.periods import add_months
from services.settings import DEFAULTS

from .vocab import EN, ZH

Progress = Callable[[float, str], None]

DEMO_PASSWORD = "demo1234"
"""Password of every demo login (admin, director, manager1…, rep1…). Shown on the sign-in
page only while the setting ``demo_mode`` is on."""

#: Deal closings per calendar month relative to an average month: Q4 peak (December highest),
#: a February dip (Spring Festival), a June half-year bump.
MONTH_SEASON = {1: 0.85, 2: 0.55, 3: 1.0, 4: 0.95, 5: 1.0, 6: 1.2, 7: 0.9, 8: 0.9, 9: 1.05, 10: 1.15, 11: 1.35, 12: 1.7}
#: The demo's customers follow the default pool rule (days without contact before reclaim).
TIER_RECLAIM: dict[str, int] = DEFAULTS["pool_reclaim_days"]
LOCAL_OFFSET_MIN = 8 * 60  # business hours are generated in UTC+8 (default time zone Asia/Shanghai)


@dataclass(frozen=True)
class Scale:
    regions: int
    teams: int
    reps: int
    customers: int
    deals: int
    activities: int
    months: int


@dataclass
class DemoSummary:
    """What was built: row counts per table and the logins (username, role)."""

    counts: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # phase → seconds (for benchmarks)


def split_whole(total: int, shares: list[float]) -> list[int]:
    """Whole-unit split; the rounding remainder goes to the largest share."""
    parts = [int(total * s) for s in shares]
    parts[shares.index(max(shares))] += total - sum(parts)
    return parts


class FastRandom(random.Random):
    """``random.Random`` whose ``randrange`` and ``choice`` take one ``random()`` call each —
    several times faster than the exact versions, which matters for millions of rows. The bias
    (< 2⁻⁴⁰) is irrelevant for demo data; results stay deterministic per seed."""

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))

    def choice(self, seq):  # type: ignore[override]
        return seq[int(self.random() * len(seq))]


class Clock:
    """Days as ordinals and timestamps as minutes since ``base``, formatted once as text."""

    def __init__(self, first: date, last: date) -> None:
        self.base = first.toordinal()
        self.days = [date.fromordinal(self.base + i).isoformat() for i in range(last.toordinal() - self.base + 1)]
        self.hms = [f" {m // 60:02d}:{m % 60:02d}:00.000000" for m in range(1440)]

    def day(self, ordinal: int) -> str:
        return self.days[ordinal - self.base]

    def ts(self, minute: int) -> str:
        """UTC timestamp text (the form SQLAlchemy stores on SQLite)."""
        d, m = divmod(minute, 1440)
        return self.days[d] + self.hms[m]

    def minute(self, ordinal: int, local_minute: int) -> int:
        """Minutes since base for a local (UTC+8) time of day on a day."""
        return (ordinal - self.base) * 1440 + local_minute - LOCAL_OFFSET_MIN


class Rows:
    """Generated rows per table: column names + tuples."""

    def __init__(self) -> None:
        self.tables: dict[str, tuple[list[str], list[tuple]]] = {}

    def add(self, table: str, cols: list[str], rows: list[tuple]) -> None:
        if table in self.tables:
            self.tables[table][1].extend(rows)
        else:
            self.tables[table] = (cols, rows)


class Demo:
    """The company being generated. The calendar: ``anchor`` is "today" (``a`` its ordinal);
    the data starts ``scale.months`` months back on ``start`` (``s0``); targets and plans cover
    whole years from ``year_first``. Areas read what earlier areas set (see the annotations)."""

    # reference data (organisation.reference)
    products: list[tuple]
    channels: list[int]
    lost_reasons: list[int]
    open_stages: list[tuple[int, int]]  # (id, probability) in sequence order
    won_stage: int
    lost_stage: int
    # organisation
    admin: int
    director: int
    company_id: int
    teams: list[int]
    team_region: dict[int, int]  # team → region index
    managers: dict[int, int]  # team → manager
    reps: list[int]
    rep_team: dict[int, int]
    team_reps: dict[int, list[int]]
    skill: dict[int, float]  # rep → win rate
    size_factor: dict[int, float]
    volume: dict[int, float]
    user_names: dict[int, str]
    # customers: [id, name, tier, owner, previous owner, pool day, region index, city, channel,
    # industry, domain] per customer; contact ids per customer
    cust: list[list]
    cust_index: dict[int, int]
    owned_idx: list[int]
    contacts: list[list[int]]
    # deals: (id, cust_idx, owner, opened, end, outcome, amount, product_idx); the deal rows
    # are finished (last activity) and added by the activities area
    deal_info: list[tuple]
    deal_rows: list[list]
    deal_cols: list[str]
    # activities: per customer the last done minute and the next planned day
    last_contact: list[int]
    next_contact: list[int]
    deal_last: dict[int, int]
    # contracts
    won: list[tuple[int, int, int, int]]  # (owner, closed ordinal, amount, customer idx)
    collected: list[tuple[int, int, int]]  # (owner, received ordinal, amount)
    # targets
    months: list[date]
    target_ids: dict[tuple, int]
    rep_month_target: dict[int, list[int]]
    # team: course ids, and who is enrolled in each course
    course_ids: list[int]
    enrolled: dict[int, list[int]]

    def __init__(self, scale: Scale, rng: random.Random, lang: str, anchor: date) -> None:
        self.s = scale
        self.rng = rng
        self.lang = lang
        self.v: dict[str, Any] = ZH if lang == "zh_CN" else EN
        self.anchor = anchor
        self.a = anchor.toordinal()
        self.start = add_months(anchor.replace(day=1), -(scale.months - 1))
        self.s0 = self.start.toordinal()
        self.year_first = date(self.start.year, 1, 1)
        self.clock = Clock(self.year_first - timedelta(days=800), date(anchor.year + 4, 12, 31))
        self.rows = Rows()
        self.logins: list[tuple[str, str]] = []
        self.next_ids: dict[str, int] = {}

    # -- ids ------------------------------------------------------------------------------
    def ids(self, table: str, n: int) -> range:
        first = self.next_ids.get(table, 1)
        self.next_ids[table] = first + n
        return range(first, first + n)

    # -- names ------------------------------------------------------------------------------
    def person(self) -> str:
        r = self.rng
        if self.lang == "zh_CN":
            given = r.choice(self.v["given"])
            if r.random() < 0.6:
                given += r.choice(self.v["given"])
            return r.choice(self.v["surnames"]) + given
        return f"{r.choice(self.v['first_names'])} {r.choice(self.v['last_names'])}"

    def company_name(self, city: str, taken: set[str]) -> tuple[str, str]:
        r, v = self.rng, self.v
        suffixes = [s for s, _w in v["suffixes"]]
        weights = [w for _s, w in v["suffixes"]]
        for attempt in range(50):
            word, industry = r.choice(v["name_words"])
            suffix = r.choices(suffixes, weights)[0]
            if self.lang == "zh_CN":
                chars = v["brand_chars"]
                brand = r.choice(chars) + r.choice(chars)
                name = f"{city}{brand}{word}{suffix}"
            else:
                brand = r.choice(v["brand_a"]) + r.choice(v["brand_b"])
                if attempt < 20:
                    middle = f" {r.choice(v['adjectives'])}" if r.random() < 0.6 else ""
                    name = f"{brand}{middle} {word} {suffix}"
                else:
                    name = f"{brand} {word} of {city} {suffix}"
            key = normalize_name(name)  # unique as the duplicate check sees names, not just as typed
            if key not in taken:
                taken.add(key)
                return name, industry
        name = f"{name} {len(taken)}"
        taken.add(normalize_name(name))
        return name, industry

    def phone(self) -> str:
        r = self.rng
        if self.lang == "zh_CN":
            return f"1{r.choice('3589')}{r.randrange(10)}{r.randrange(10**8):08d}"
        return f"+1 ({r.randrange(201, 990)}) 555-{r.randrange(10000):04d}"

    def credit_code(self) -> str:
        """A valid unified social credit code (the check character the duplicate check uses)."""
        r = self.rng
        body = "91" + f"{r.randrange(110000, 660000):06d}" + "".join(r.choice(CREDIT_CHARS) for _ in range(9))
        return body + credit_code_check_char(body)

    def business_minute(self, ordinal: int) -> int:
        """A minute between 08:30 and 19:00 local time on the day (as minutes since base, UTC)."""
        return (ordinal - self.clock.base) * 1440 + 30 + int(self.rng.random() * 630)
