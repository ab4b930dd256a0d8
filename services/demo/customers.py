"""Customers and their contacts. Owners are reps of the customer's region (busier reps own
more); about 10 % sit in the public pool. Contacts are drawn first; the customer rows are
finished once deals and activities tell each one's status and last contact."""

from __future__ import annotations

from services.collation import name_sort_key
from services.dedupe import normalize_email, normalize_name, normalize_phone

from .context import Demo


def build(demo: Demo) -> None:
    s, r, v, clock = demo.s, demo.rng, demo.v, demo.clock
    n = s.customers
    ids = list(demo.ids("customer", n))
    taken: set[str] = set()
    tiers = r.choices("ABC", [15, 35, 50], k=n)
    pool_flags = [r.random() < 0.10 for _ in range(n)]
    # reps own customers in their team's region; busier reps own more
    region_reps: dict[int, list[int]] = {}
    for u in demo.reps:
        region_reps.setdefault(demo.team_region[demo.rep_team[u]], []).append(u)
    regions_used = sorted(region_reps)
    # [id, name, tier, owner, previous owner, pool day, region index, city, channel, industry, domain]
    demo.cust = []
    demo.cust_index = {cid: i for i, cid in enumerate(ids)}
    chan_weights = [5, 3, 2, 3, 3, 4][: len(demo.channels)] + [2] * max(0, len(demo.channels) - 6)
    channels = r.choices(demo.channels, chan_weights, k=n)
    for i, cid in enumerate(ids):
        ri = regions_used[i % len(regions_used)] if r.random() < 0.9 else r.choice(regions_used)
        city = r.choice(v["regions"][ri][2])
        name, industry = demo.company_name(city, taken)
        reps = region_reps[ri]
        rep = r.choices(reps, [demo.volume[u] for u in reps])[0]
        if pool_flags[i]:
            pool_day = demo.a - r.randrange(1, 150)
            demo.cust.append([cid, name, tiers[i], None, rep, pool_day, ri, city, channels[i], industry,
                              _domain(demo, cid)])
        else:
            demo.cust.append([cid, name, tiers[i], rep, None, None, ri, city, channels[i], industry,
                              _domain(demo, cid)])
    demo.owned_idx = [i for i, c in enumerate(demo.cust) if c[3] is not None]
    # contacts: 1–3 per customer, the first is primary
    cols = ["id", "customer_id", "name", "title", "phone", "email", "is_primary", "notes", "created_at"]
    rows: list[tuple] = []
    demo.contacts = []
    created = clock.ts(clock.minute(demo.s0, 10 * 60))
    next_id = demo.next_ids["contact"]
    for c in demo.cust:
        k = r.choices((1, 2, 3), (55, 35, 10))[0]
        mine = []
        for j in range(k):
            name = demo.person()
            handle = f"c{next_id}"
            rows.append((next_id, c[0], name, r.choice(v["titles"]), demo.phone(),
                         f"{handle}@{c[10]}", j == 0, None, created))
            mine.append(next_id)
            next_id += 1
        demo.contacts.append(mine)
    demo.next_ids["contact"] = next_id
    demo.rows.add("contact", cols, rows)


def _domain(demo: Demo, cid: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    x, out = cid * 7919 + 13, []
    for _ in range(5):
        x, d = divmod(x, 26)
        out.append(letters[d])
    return "".join(out) + demo.v["email_domain"]


def finish(demo: Demo) -> None:
    """Customer rows, once deals and activities tell their status and last contact."""
    r, v, clock = demo.rng, demo.v, demo.clock
    first_open: dict[int, int] = {}
    last_won: dict[int, int] = {}
    has_open: set[int] = set()
    for _did, ci, _owner, opened, last_day, outcome, _amount, _pi in demo.deal_info:
        if opened < first_open.get(ci, 10**9):
            first_open[ci] = opened
        if outcome == "won" and last_day > last_won.get(ci, 0):
            last_won[ci] = last_day
        if outcome == "open":
            has_open.add(ci)
    cols = ["id", "name", "credit_code", "industry", "region", "tier", "status", "channel_id", "owner_id", "phone",
            "email", "address", "notes", "name_norm", "name_sort", "phone_norm", "email_norm", "external_id",
            "pool_entered_at", "previous_owner_id", "released_at", "last_contact_at", "next_contact_on",
            "archived", "created_at", "updated_at", "version"]
    rows = []
    used_phones: set[str] = set()
    for ci, c in enumerate(demo.cust):
        cid, name, tier, owner, prev, pool_day, ri, city, channel, industry, domain = c
        if ci in last_won:
            # released to the pool or no purchase for 18 months: churned
            stale = owner is None or (demo.a - last_won[ci] > 540 and ci not in has_open)
            status = "churned" if stale else "active"
        elif ci in has_open or ci in first_open:
            status = "prospect"
        else:
            status = "lead"
        created_day = min(first_open.get(ci, demo.a), demo.a - r.randrange(1, 900)) - r.randrange(0, 30)
        lc = demo.last_contact[ci]
        if lc:
            created_day = min(created_day, lc // 1440 + clock.base - 1)
        created = clock.ts(demo.business_minute(created_day))
        phone = demo.phone()
        while phone in used_phones:  # phone is a duplicate-check key: no accidental twins
            phone = demo.phone()
        used_phones.add(phone)
        email = f"info@{domain}"
        address = v["address"].format(city=city, district=r.choice(v["districts"]), road=r.choice(v["roads"]),
                                      no=r.randrange(1, 999))
        pool_at = clock.ts(demo.business_minute(pool_day)) if pool_day else None
        updated = max(lc, clock.minute(created_day, 600)) if lc else clock.minute(created_day, 600)
        rows.append((
            cid, name, demo.credit_code() if demo.lang == "zh_CN" and r.random() < 0.8 else None, industry,
            v["regions"][ri][1], tier, status, channel, owner, phone, email, address,
            r.choice(v["notes"]) if r.random() < 0.2 else None,
            normalize_name(name), name_sort_key(name), normalize_phone(phone), normalize_email(email), None,
            pool_at, prev, pool_at, clock.ts(lc) if lc else None,
            clock.day(demo.next_contact[ci]) if demo.next_contact[ci] and owner else None,
            False, created, clock.ts(updated), 1))
    demo.rows.add("customer", cols, rows)
