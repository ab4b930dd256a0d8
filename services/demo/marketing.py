"""Marketing spend per channel and month (trade shows only a few months a year)."""

from __future__ import annotations

from services.periods import add_months

from .context import MONTH_SEASON, Demo


def build(demo: Demo) -> None:
    r = demo.rng
    cols = ["id", "channel_id", "month", "amount"]
    rows = []
    base = [20_000, 15_000, 40_000, 3_000, 10_000, 30_000]
    month = demo.start
    while month <= demo.anchor:
        for i, ch in enumerate(demo.channels):
            b = base[i % len(base)]
            if i % len(base) == 2 and month.month not in (3, 6, 9, 11):
                b = 5_000  # trade shows happen a few times a year
            amount = int(b * MONTH_SEASON[month.month] ** 0.5 * r.uniform(0.8, 1.2)) // 100 * 100
            rows.append((demo.ids("marketing_spend", 1)[0], ch, month.isoformat(), amount))
        month = add_months(month, 1)
    demo.rows.add("marketing_spend", cols, rows)

