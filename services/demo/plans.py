"""Sales plans per year for the company and each team, linked to their base contract-amount
targets, with strategy texts, discount limits per role, campaigns, channel shares,
milestones (with their status) and people / money allocations."""

from __future__ import annotations

from datetime import date

from .context import Demo


def build(demo: Demo) -> None:
    r, v = demo.rng, demo.v
    p_cols = ["id", "title", "period_start", "period_end", "owner_id", "team_id", "pricing_strategy",
              "promotion_strategy", "channel_strategy", "budget", "status", "created_at"]
    m_cols = ["id", "plan_id", "title", "owner_id", "start_on", "due_on", "done_on", "status"]
    c_cols = ["id", "plan_id", "name", "channel_id", "starts_on", "ends_on", "budget"]
    campaigns, shares, limits = [], [], []
    # a rep may give up to 15 % off list price, a manager 25 %, a director 40 %
    role_limits = (("rep", "0.15"), ("manager", "0.25"), ("director", "0.4"))
    a_cols = ["id", "plan_id", "kind", "team_id", "channel_id", "region", "planned", "spent", "note"]
    plans, links, miles, allocs = [], [], [], []
    spend_cols = demo.rows.tables["marketing_spend"]
    spend: dict[tuple[int, int], int] = {}
    for _id, ch, month, amount in spend_cols[1]:
        key = (ch, int(month[:4]))
        spend[key] = spend.get(key, 0) + amount
    for year in sorted({m.year for m in demo.months}):
        ys, ye = date(year, 1, 1), date(year, 12, 31)
        status = "closed" if year < demo.anchor.year else "active"
        created = demo.clock.ts(demo.clock.minute(ys.toordinal() - 15, 600))
        scopes = [(demo.company_id, demo.director, v["plan_company"].format(year=year))]
        team_names = {row[0]: row[1] for row in demo.rows.tables["team"][1]}
        scopes += [(tm, demo.managers[tm], v["plan_team"].format(team=team_names[tm], year=year))
                   for tm in demo.teams]
        for team, owner, title in scopes:
            pid = demo.ids("sales_plan", 1)[0]
            channel_budget = sum(spend.get((ch, year), 0) for ch in demo.channels)
            budget = int(channel_budget * 1.05) if team == demo.company_id else r.randrange(20, 80) * 1000
            plans.append((pid, title, ys.isoformat(), ye.isoformat(), owner, team, v["plan_pricing"],
                          v["plan_promotion"], v["plan_channel"], budget, status, created))
            scope = "company" if team == demo.company_id else "team"
            tgt = demo.target_ids.get(("contract_amount", "base", scope, team, "year", ys))
            if tgt:
                links.append((pid, tgt))
            for j, mt in enumerate(v["milestones"]):
                due = date(year, min(12, 1 + j * 3), 28)
                done = due.isoformat() if due.toordinal() < demo.a - 5 and r.random() < 0.9 else None
                state = "done" if done else "in_progress" if due.toordinal() - 60 < demo.a else "planned"
                miles.append((demo.ids("plan_milestone", 1)[0], pid, mt, owner,
                              date(year, min(12, 1 + j * 3), 1).isoformat(), due.isoformat(), done, state))
            limits += [(pid, role, limit) for role, limit in role_limits]
            for (name, month, days), ch in zip(zip(v["campaigns"], (3, 6, 11), (30, 2, 10), strict=True),
                                               r.sample(demo.channels, min(3, len(demo.channels))), strict=False):
                start = date(year, month, 1)
                campaigns.append((demo.ids("plan_campaign", 1)[0], pid, name, ch, start.isoformat(),
                                  date(year, month, 1 + days).isoformat(), r.randrange(5, 40) * 1000))
            if team == demo.company_id:
                weights = [spend.get((ch, year), 0) + 1 for ch in demo.channels]
                for ch, w in zip(demo.channels, weights, strict=True):
                    shares.append((pid, ch, f"{0.9 * w / sum(weights):.4f}"))
                for ch in demo.channels:
                    planned = int(spend.get((ch, year), 0) * r.uniform(1.0, 1.15)) // 100 * 100
                    allocs.append((demo.ids("plan_allocation", 1)[0], pid, "money", None, ch, None, planned,
                                   spend.get((ch, year), 0), None))
                for tm in demo.teams:
                    heads = len(demo.team_reps[tm])
                    allocs.append((demo.ids("plan_allocation", 1)[0], pid, "people", tm, None, None,
                                   heads + r.choice((0, 0, 1)), heads, None))
            else:
                region = next(row[5] for row in demo.rows.tables["team"][1] if row[0] == team)
                allocs.append((demo.ids("plan_allocation", 1)[0], pid, "money", team, None, region, budget,
                               int(budget * (r.uniform(0.6, 1.05) if status == "closed" else r.uniform(0.2, 0.8))),
                               None))
    demo.rows.add("sales_plan", p_cols, plans)
    demo.rows.add("sales_plan_target", ["plan_id", "target_id"], links)
    demo.rows.add("plan_milestone", m_cols, miles)
    demo.rows.add("plan_allocation", a_cols, allocs)
    demo.rows.add("plan_campaign", c_cols, campaigns)
    demo.rows.add("plan_channel_share", ["plan_id", "channel_id", "share"], shares)
    demo.rows.add("plan_discount_limit", ["plan_id", "role", "max_discount"], limits)
