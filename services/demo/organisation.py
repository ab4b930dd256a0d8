"""The organisation: reference data (stages, lost reasons and channels as a fresh install gets
them, the demo's products), the company → region → team tree, the logins (admin, director,
a manager per team, reps with capacity, skill and deal size) and their audit entries."""

from __future__ import annotations

import json

from sqlalchemy.engine import Connection
from sqlmodel import Session

from services.errors import ValidationError
from services.i18n import t

from .context import DEMO_PASSWORD, Demo
from .load import bulk_insert


def reference(demo: Demo, conn: Connection, tables: list[str]) -> None:
    """Stages, lost reasons and channels through ``services.reference.ensure_defaults`` (the
    same defaults a fresh install gets), our products; then read them back, and count the
    next id of each of ``tables`` from what is there."""
    v = demo.v
    with conn.begin():
        with Session(bind=conn) as session:
            from services.reference import ensure_defaults

            ensure_defaults(session, locale=demo.lang)
        existing = {r[0] for r in conn.exec_driver_sql('SELECT name FROM "product"')}
        missing = [(n, s, p, c, True) for n, s, p, c in v["products"] if n not in existing]
        if missing:
            bulk_insert(conn, "product", ["name", "series", "list_price", "unit_cost", "active"], missing)
        for table in tables:
            top = conn.exec_driver_sql(f'SELECT MAX(id) FROM "{table}"').scalar()
            demo.next_ids[table] = (top or 0) + 1
        stages = conn.exec_driver_sql(
            'SELECT id, sequence, probability, kind FROM "stage" WHERE active ORDER BY sequence, id').all()
        demo.lost_reasons = [r[0] for r in conn.exec_driver_sql(
            'SELECT id FROM "lost_reason" WHERE active ORDER BY id')]
        demo.channels = [r[0] for r in conn.exec_driver_sql('SELECT id FROM "channel" WHERE active ORDER BY id')]
        demo.products = [tuple(r) for r in conn.exec_driver_sql(
            'SELECT id, name, list_price, unit_cost FROM "product" WHERE active ORDER BY id')]
    demo.open_stages = [(r[0], r[2]) for r in stages if r[3] == "open"]
    demo.won_stage = next(r[0] for r in stages if r[3] == "won")
    demo.lost_stage = next(r[0] for r in stages if r[3] == "lost")
    if not demo.open_stages or not demo.channels or not demo.lost_reasons:
        raise ValidationError({"stages": t("demo.err_reference", demo.lang)})



def build(demo: Demo) -> None:
    s, r, v, clock = demo.s, demo.rng, demo.v, demo.clock
    created = clock.ts(clock.minute(demo.s0 - 30, 9 * 60))
    company_id = demo.ids("team", 1)[0]
    region_ids = list(demo.ids("team", s.regions))
    team_ids = list(demo.ids("team", s.teams))
    user_cols = ["id", "username", "display_name", "email", "role", "team_id", "password_hash", "locale",
                 "capacity", "active", "created_at"]
    from services.passwords import hash_password

    pw = hash_password(DEMO_PASSWORD)  # argon2 is slow by design: one hash shared by every demo login
    users: list[tuple] = []

    def user(username: str, role: str, team: int, capacity: int) -> int:
        uid = demo.ids("user", 1)[0]
        email = f"{username}@demo.salesops.example"
        users.append((uid, username, demo.person(), email, role, team, pw, demo.lang, capacity, True, created))
        demo.logins.append((username, role))
        return uid

    demo.admin = user("admin", "admin", company_id, 0)
    demo.director = user("director", "director", company_id, 0)
    demo.team_region = {}
    demo.managers = {}
    teams: list[tuple] = [(company_id, v["company"], "company", None, demo.director, None, True)]
    for i, rid in enumerate(region_ids):
        name, short, _cities = v["regions"][i]
        teams.append((rid, name, "region", company_id, demo.director, short, True))
    for i, tid in enumerate(team_ids):
        ri = i % s.regions
        demo.team_region[tid] = ri
        _name, short, _cities = v["regions"][ri]
        nth = i // s.regions
        suffix = v["team_suffix"][nth % len(v["team_suffix"])] if s.teams > s.regions else v["team_suffix"][0]
        if nth >= len(v["team_suffix"]):
            suffix = f"{suffix}{nth // len(v['team_suffix']) + 1}"
        demo.managers[tid] = user(f"manager{i + 1}", "manager", tid, 0)
        teams.append((tid, f"{short}{suffix}", "team", region_ids[ri], demo.managers[tid], short, True))
    demo.teams = team_ids
    demo.company_id = company_id
    demo.reps = []
    demo.rep_team = {}
    demo.skill = {}
    demo.size_factor = {}
    demo.volume = {}
    for i in range(s.reps):
        tid = team_ids[i % s.teams]
        cap = r.choice([300_000, 400_000, 500_000, 600_000])
        uid = user(f"rep{i + 1}", "rep", tid, cap)
        demo.reps.append(uid)
        demo.rep_team[uid] = tid
        # skills spread evenly 15 %–45 % (shuffled), so every demo has a clear best and worst rep
        demo.skill[uid] = 0.15 + 0.30 * (i / max(1, s.reps - 1))
        demo.size_factor[uid] = r.uniform(0.8, 1.25)
        demo.volume[uid] = r.uniform(0.75, 1.3)
    skills = list(demo.skill.values())
    r.shuffle(skills)
    demo.skill = dict(zip(demo.reps, skills, strict=True))
    demo.team_reps = {tid: [u for u in demo.reps if demo.rep_team[u] == tid] for tid in team_ids}
    demo.user_names = {u[0]: u[2] for u in users}
    demo.rows.add("team", ["id", "name", "kind", "parent_id", "manager_id", "region", "active"], teams)
    demo.rows.add("user", user_cols, users)


def audit(demo: Demo) -> None:
    rows = []
    at = demo.clock.ts(demo.clock.minute(demo.a, 8 * 60))
    for uid, username, *_rest in demo.rows.tables["user"][1]:
        rows.append((demo.ids("audit_log", 1)[0], at, None, "user", str(uid), "create",
                     json.dumps({"username": [None, username], "source": [None, "demo"]})))
    demo.rows.add("audit_log", ["id", "at", "actor_id", "entity", "entity_id", "action", "changes"], rows)
