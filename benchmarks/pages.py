"""The reads each page makes, three ways: ours (the service call as the page makes it, in its
own read scope), the same question as hand-written SQL (written for the best plan on our
indexes, the owner ids known in advance), and — for analytics — loading the tables into
pandas and answering there (the Funnel, Performance and Meeting pages' reads are in
``benchmarks/analytics_cases.py``). ``page_cases`` returns them as ``Case`` rows for
``python -m benchmarks``; nothing here asserts.

Hand-written SQL runs on one connection per call (as a request would), plain text, no ORM.
Where it gives the same numbers as ours, ``same`` says so (compared on every run's last
result)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine

from benchmarks.activities_deals import sql_agenda, sql_board
from benchmarks.analytics import pandas_overview, pandas_trend
from services import contracts as ks
from services import settings
from services.access import Actor, visible_user_ids
from services.activities import agenda
from services.analytics import monthly_won_trend, overview_kpis, pipeline_by_stage, scope_user_ids
from services.clock import local_tz
from services.db import read_scope
from services.deals import pipeline_board
from services.models import User
from services.periods import last_months, local_today, period_for


@dataclass
class Case:
    page: str
    name: str
    ours: Callable[[], Any]
    hand: Callable[[], Any]
    pandas: Callable[[], Any] | None = None
    same: Callable[[Any, Any], bool] | None = None
    #: read when a tab that is closed on arrival opens: not in the page's first-visit total
    tab: bool = False
    #: (ours, the pandas way's answer) → the same numbers (where the hand-written SQL returns none)
    same_pandas: Callable[[Any, Any], bool] | None = None


def _m(v) -> Decimal:
    return Decimal(str(v or 0)).quantize(Decimal("0.01"))


def _own(col: str, ids: set[int] | None) -> str:
    if ids is None:
        return ""
    return f" AND {col} IN ({','.join(str(i) for i in sorted(ids))})" if ids else " AND 1=0"


def _ts(engine: Engine, value: datetime):
    """A UTC timestamp as the column stores it (naive text on SQLite)."""
    if engine.dialect.name == "sqlite":
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _close(a, b) -> bool:
    return abs(_m(a) - _m(b)) <= Decimal("0.05")


# ---------------------------------------------------------------------------
# Overview


def hand_overview(engine: Engine, ids, period, tz, today, now) -> dict:
    """The Overview's numbers, one statement each, shaped for the covering indexes: closed
    deals by stage (stage → closed_on range), open pipeline by stage, activity and customer
    counts as ``count(*)`` on their indexes, collections from the payment date index (all) or
    the owners' contracts (scoped)."""
    lo, hi = period.utc_bounds(tz)
    p = {"a": period.start, "b": period.end, "lo": _ts(engine, lo), "hi": _ts(engine, hi), "now": _ts(engine, now),
         "t": today}
    div = "100.0" if engine.dialect.name == "sqlite" else "100"
    out: dict[str, Any] = {"won_amount": _m(0), "won_count": 0, "lost_count": 0}
    with engine.connect() as c:
        for kind, n, amount in c.execute(text(
                "SELECT s.kind, count(*), sum(d.amount) FROM stage s JOIN deal d ON d.stage_id = s.id"
                " WHERE s.kind IN ('won', 'lost') AND d.closed_on >= :a AND d.closed_on < :b"
                + _own("d.owner_id", ids) + " GROUP BY s.kind"), p).all():
            if kind == "won":
                out["won_amount"], out["won_count"] = _m(amount), int(n)
            else:
                out["lost_count"] = int(n)
        n, pipe, weighted = c.execute(text(
            f"SELECT count(*), sum(d.amount), sum(d.amount * d.probability / {div}) FROM stage s"
            " JOIN deal d ON d.stage_id = s.id WHERE s.kind = 'open'" + _own("d.owner_id", ids)), p).one()
        out.update(open_deal_count=int(n), open_pipeline=_m(pipe), weighted_pipeline=_m(weighted))
        out["activities_done"] = c.execute(text(
            "SELECT count(*) FROM activity WHERE done_at >= :lo AND done_at < :hi" + _own("owner_id", ids)), p).scalar()
        out["overdue_activities"] = c.execute(text(
            "SELECT count(*) FROM activity WHERE done_at IS NULL AND planned_at < :now" + _own("owner_id", ids)),
            p).scalar()
        out["overdue_customers"] = c.execute(text(
            "SELECT count(*) FROM customer WHERE next_contact_on < :t AND archived = false AND owner_id IS NOT NULL"
            + _own("owner_id", ids)), p).scalar()
        out["new_customers"] = c.execute(text(
            "SELECT count(*) FROM customer WHERE created_at >= :lo AND created_at < :hi AND owner_id IS NOT NULL"
            + _own("owner_id", ids)),
            p).scalar()
        if ids is None:
            coll = c.execute(text("SELECT sum(amount) FROM payment WHERE received_on >= :a AND received_on < :b"),
                             p).scalar()
        else:
            coll = c.execute(text(
                f"SELECT sum(p.amount) FROM contract k {contract_first(c)} payment p ON p.contract_id = k.id"
                " WHERE p.received_on >= :a AND p.received_on < :b" + _own("k.owner_id", ids)), p).scalar()
        out["collections"] = _m(coll)
        # the target rows of the period (company level for all, else the owners' user targets)
        level = "scope = 'company'" if ids is None else "scope = 'user'" + _own("user_id", ids)
        c.execute(text("SELECT scope, team_id, user_id, period_kind, period_start, sum(value) FROM target"
                       " WHERE metric = 'contract_amount' AND tier = 'base' AND period_start >= :w AND period_start < :b"
                       f" AND {level} GROUP BY scope, team_id, user_id, period_kind, period_start"),
                  {**p, "w": period.start - timedelta(days=366)}).all()
    return out


def contract_first(conn) -> str:
    """The join keyword that starts from the owners' contracts (their index) and reads their
    payments by contract: SQLite's CROSS JOIN keeps the written order (its planner otherwise
    reads every payment of the period and looks up its contract); PostgreSQL plans it itself."""
    return "CROSS JOIN" if conn.dialect.name == "sqlite" else "JOIN"


def hand_trend(engine: Engine, ids, start, end) -> dict:
    bucket = ("strftime('%Y-%m-01', d.closed_on)" if engine.dialect.name == "sqlite"
              else "date_trunc('month', d.closed_on)::date")
    with engine.connect() as c:
        rows = c.execute(text(
            f"SELECT {bucket} AS m, sum(d.amount), count(*) FROM stage s JOIN deal d ON d.stage_id = s.id"
            " WHERE s.kind = 'won' AND d.closed_on >= :a AND d.closed_on < :b" + _own("d.owner_id", ids)
            + " GROUP BY m"), {"a": start, "b": end}).all()
        # the months' target rows, as ours reads them (company level for all, else user targets)
        level = "scope = 'company'" if ids is None else "scope = 'user'" + _own("user_id", ids)
        c.execute(text("SELECT scope, team_id, user_id, period_kind, period_start, sum(value) FROM target"
                       " WHERE metric = 'contract_amount' AND tier = 'base' AND period_start >= :w AND period_start < :b"
                       f" AND {level} GROUP BY scope, team_id, user_id, period_kind, period_start"),
                  {"w": start - timedelta(days=366), "b": end}).all()
    return {str(m)[:10]: (_m(a), int(n)) for m, a, n in rows}


def hand_pipeline(engine: Engine, ids) -> dict:
    div = "100.0" if engine.dialect.name == "sqlite" else "100"
    with engine.connect() as c:
        rows = c.execute(text(
            f"SELECT s.name, count(*), sum(d.amount), sum(d.amount * d.probability / {div}) FROM stage s"
            " JOIN deal d ON d.stage_id = s.id WHERE s.kind = 'open'" + _own("d.owner_id", ids)
            + " GROUP BY s.id, s.name"), {}).all()
    return {name: (int(n), _m(a), _m(w)) for name, n, a, w in rows}


def pandas_pipeline(engine: Engine, ids) -> dict:
    import pandas as pd

    with engine.connect() as c:
        deals = pd.read_sql(text("SELECT owner_id, stage_id, amount, probability FROM deal"), c)
        stages = pd.read_sql(text("SELECT id AS stage_id, name, kind FROM stage"), c)
    if ids is not None:
        deals = deals[deals["owner_id"].isin(ids)]
    d = deals.merge(stages, on="stage_id")
    d = d[d["kind"] == "open"].assign(amount=lambda f: f["amount"].astype(float))
    d["w"] = d["amount"] * d["probability"] / 100
    g = d.groupby("name").agg(n=("amount", "size"), a=("amount", "sum"), w=("w", "sum"))
    return {name: (int(r.n), _m(r.a), _m(r.w)) for name, r in g.iterrows()}


def _same_overview(ours, hand) -> bool:
    return all(_close(getattr(ours, k), v) for k, v in hand.items())


def _same_trend(frame, hand) -> bool:
    mine = {m.isoformat(): (_m(a), int(n)) for m, a, n in zip(frame["month"], frame["won_amount"], frame["won_count"],
                                                               strict=True) if n}
    return mine.keys() == hand.keys() and all(_close(mine[k][0], hand[k][0]) and mine[k][1] == hand[k][1] for k in mine)


def _same_pipeline(frame, hand) -> bool:
    mine = {s: (int(n), _m(a), _m(w)) for s, n, a, w in zip(frame["stage"], frame["count"], frame["amount"],
                                                            frame["weighted"], strict=True) if n}
    return mine.keys() == hand.keys() and all(
        mine[k][0] == hand[k][0] and _close(mine[k][1], hand[k][1]) and _close(mine[k][2], hand[k][2]) for k in mine)


def overview_cases(engine: Engine, people: dict[str, tuple[Actor, str]], with_pandas: bool) -> list[Case]:
    with read_scope(engine) as s:
        tz = settings.get(s, "timezone")
        fy = settings.get(s, "fiscal_year_start_month")
    today = local_today(tz)
    now = datetime.now(UTC)
    year = period_for("year", today, fy)
    window = last_months(today, 12)
    out = []
    for role, (actor, scope) in people.items():
        with read_scope(engine) as s:
            ids = scope_user_ids(s, actor, scope)

        def kpis(actor=actor, scope=scope):
            with read_scope(engine) as s:
                return overview_kpis(s, actor, period=year, scope=scope, today=today, now=now)

        def trend(actor=actor, scope=scope):
            with read_scope(engine) as s:
                return monthly_won_trend(s, actor, start=window.start, end=window.end, scope=scope)

        def pipeline(actor=actor, scope=scope):
            with read_scope(engine) as s:
                return pipeline_by_stage(s, actor, scope=scope)

        out += [
            Case("Overview", f"KPIs this year, {role}", kpis,
                 lambda ids=ids: hand_overview(engine, ids, year, tz, today, now),
                 (lambda ids=ids: pandas_overview(engine, ids, year, tz, today, now)) if with_pandas else None,
                 _same_overview),
            Case("Overview", f"won trend 12 months, {role}", trend,
                 lambda ids=ids: hand_trend(engine, ids, window.start, window.end),
                 (lambda ids=ids: pandas_trend(engine, ids, window.start, window.end)) if with_pandas else None,
                 _same_trend),
            Case("Overview", f"pipeline by stage, {role}", pipeline, lambda ids=ids: hand_pipeline(engine, ids),
                 (lambda ids=ids: pandas_pipeline(engine, ids)) if with_pandas else None, _same_pipeline),
        ]
    return out


# ---------------------------------------------------------------------------
# Contracts & collections


_KEPT: dict[str, bool] = {}


def _paid(engine: Engine, full_pass: bool = False) -> tuple[str, str]:
    """(join, paid expression) of an installment: its ``paid_amount`` when the schema keeps
    it (migration 0010), else the sum of its payments (per installment on SQLite and for a
    few rows; grouped once and hash-joined for a full pass on PostgreSQL)."""
    key = str(engine.url)
    if key not in _KEPT:
        with engine.connect() as c:
            _KEPT[key] = "paid_amount" in {col["name"] for col in inspect(c).get_columns("payment_plan")}
    if _KEPT[key]:
        return "", "pp.paid_amount"
    if full_pass and engine.dialect.name == "postgresql":
        return (" LEFT JOIN (SELECT plan_id, sum(amount) AS paid FROM payment WHERE plan_id IS NOT NULL"
                " GROUP BY plan_id) g ON g.plan_id = pp.id", "coalesce(g.paid, 0)")
    return "", "(SELECT coalesce(sum(x.amount), 0) FROM payment x WHERE x.plan_id = pp.id)"


def hand_contract_list(engine: Engine, ids, today, limit: int = 50) -> tuple[int, dict]:
    """The first page of contracts (newest signed first down the signed date index) with the
    page's own plan and payment sums, and the count of all."""
    _, paid = _paid(engine)
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM contract k WHERE 1=1" + _own("k.owner_id", ids))).scalar()
        page = [r[0] for r in c.execute(text(
            "SELECT k.id FROM contract k WHERE 1=1" + _own("k.owner_id", ids)
            + " ORDER BY k.signed_on DESC, k.id DESC LIMIT :n"), {"n": limit}).all()]
        keys = ",".join(map(str, page)) or "NULL"
        rows = c.execute(text(
            "SELECT k.id, k.number, k.amount, k.status, cu.name, u.display_name FROM contract k"
            " JOIN customer cu ON cu.id = k.customer_id JOIN \"user\" u ON u.id = k.owner_id"
            f" WHERE k.id IN ({keys})")).all()
        plans = {r[0]: r[1:] for r in c.execute(text(
            f"SELECT pp.contract_id, sum(pp.amount), sum(CASE WHEN pp.due_on <= :t THEN pp.amount ELSE 0 END),"
            f" sum(CASE WHEN pp.due_on < :t AND {paid} < pp.amount - 0.005 THEN pp.amount - {paid} ELSE 0 END)"
            f" FROM payment_plan pp WHERE pp.contract_id IN ({keys}) GROUP BY pp.contract_id"), {"t": today}).all()}
        got = dict(c.execute(text(f"SELECT contract_id, sum(amount) FROM payment WHERE contract_id IN ({keys})"
                                  " GROUP BY contract_id")).all())
    return n, {r[0]: _m(got.get(r[0])) for r in rows} | {"plans": len(plans)}


def _installments_hand(engine: Engine, ids, where: str, p: dict, limit: int = 200) -> tuple[int, Decimal]:
    """Not fully paid installments matching ``where`` on live contracts: the first rows by due
    date and the count / remaining of all, paid per installment from the payment plan index."""
    join, paid = _paid(engine, full_pass="<" in where and ">" not in where)
    listed = _paid(engine)[1]
    if _kept_totals(engine):  # 0012: the installment carries its live contract's owner
        base = (f"FROM payment_plan pp WHERE {where} AND {paid} < pp.amount - 0.005"
                " AND pp.collecting_owner_id IS NOT NULL" + _own("pp.collecting_owner_id", ids))
    else:
        base = (f"FROM payment_plan pp JOIN contract k ON k.id = pp.contract_id{join} WHERE {where}"
                f" AND k.status IN ('signed', 'executing', 'completed') AND {paid} < pp.amount - 0.005"
                + _own("k.owner_id", ids))
    with engine.connect() as c:
        c.execute(text(f"SELECT pp.id, pp.contract_id, k.number, cu.name, u.display_name, pp.installment, pp.due_on,"
                       f" pp.amount, {listed} FROM payment_plan pp JOIN contract k ON k.id = pp.contract_id"
                       " JOIN customer cu ON cu.id = k.customer_id JOIN \"user\" u ON u.id = k.owner_id"
                       f" WHERE pp.id IN (SELECT pp.id {base} ORDER BY pp.due_on, pp.id LIMIT {limit})"
                       " ORDER BY pp.due_on, pp.id"), p).all()
        n, remaining = c.execute(text(f"SELECT count(*), coalesce(sum(pp.amount - {paid}), 0) {base}"), p).one()
    return int(n), _m(remaining)


def hand_payments_received(engine: Engine, ids, start, end, limit: int = 200) -> tuple[int, Decimal]:
    join = "" if ids is None else " JOIN contract k ON k.id = p.contract_id"
    where = " WHERE p.received_on >= :a AND p.received_on < :b" + _own("k.owner_id", ids)
    with engine.connect() as c:
        c.execute(text("SELECT p.id, p.contract_id, k.number, cu.name, u.display_name, p.received_on, p.amount"
                       " FROM payment p JOIN contract k ON k.id = p.contract_id JOIN customer cu ON cu.id = k.customer_id"
                       " JOIN \"user\" u ON u.id = k.owner_id" + where
                       + f" ORDER BY p.received_on DESC, p.id DESC LIMIT {limit}"), {"a": start, "b": end}).all()
        n, total = c.execute(text(f"SELECT count(*), coalesce(sum(p.amount), 0) FROM payment p{join}{where}"),
                             {"a": start, "b": end}).one()
    return int(n), _m(total)


def hand_won_without_contract(engine: Engine, ids, limit: int = 100) -> list[int]:
    """Won deals without a live contract, newest closed first: the won stage's close-date
    index, the live contracts' deal ids hashed once."""
    with engine.connect() as c:
        won = ",".join(str(r[0]) for r in c.execute(text("SELECT id FROM stage WHERE kind = 'won'"))) or "NULL"
        return [r[0] for r in c.execute(text(
            "SELECT d.id FROM deal d JOIN customer cu ON cu.id = d.customer_id"
            f" WHERE d.stage_id IN ({won}) AND d.id NOT IN (SELECT k.deal_id FROM contract k"
            " WHERE k.status <> 'cancelled' AND k.deal_id IS NOT NULL)" + _own("d.owner_id", ids)
            + f" ORDER BY d.closed_on DESC, d.id DESC LIMIT {limit}")).all()]


def _kept_totals(engine: Engine) -> bool:
    """Whether contracts keep their planned / collected totals (migration 0012)."""
    key = "totals " + str(engine.url)
    if key not in _KEPT:
        with engine.connect() as c:
            _KEPT[key] = "collected_amount" in {col["name"] for col in inspect(c).get_columns("contract")}
    return _KEPT[key]


def hand_collection_by_rep(engine: Engine, ids, today) -> dict:
    """Per owner: contracts and amount, due to date, collected, overdue remaining over the
    owners' live contracts. With kept contract totals (0012): the contracts' planned and
    collected from the owner index, minus the installments due after today, and the open
    past-due installments from the partial index; before 0012, four grouped passes over
    installments and payments."""
    live = "k.status IN ('signed', 'executing', 'completed')" + _own("k.owner_id", ids)
    p = {"t": today}
    join, paid = _paid(engine, full_pass=True)
    with engine.connect() as c:
        if _kept_totals(engine):
            per = {o: [int(n), _m(a), _m(pl), _m(got), _m(0)] for o, n, a, pl, got in c.execute(text(
                "SELECT k.owner_id, count(*), sum(k.amount), sum(k.planned_amount), sum(k.collected_amount)"
                f" FROM contract k WHERE {live} GROUP BY k.owner_id")).all()}
            mine = "pp.collecting_owner_id IS NOT NULL" + _own("pp.collecting_owner_id", ids)
            for o, v in c.execute(text(
                    f"SELECT pp.collecting_owner_id, sum(pp.amount) FROM payment_plan pp WHERE pp.due_on > :t AND {mine}"
                    " GROUP BY pp.collecting_owner_id"), p).all():
                per[o][2] -= _m(v)
            for o, v in c.execute(text(
                    "SELECT pp.collecting_owner_id, sum(pp.amount - pp.paid_amount) FROM payment_plan pp"
                    f" WHERE pp.due_on < :t AND pp.paid_amount < pp.amount - 0.005 AND {mine}"
                    " GROUP BY pp.collecting_owner_id"), p).all():
                per[o][4] = _m(v)
            return per
        else:
            per = {o: [int(n), _m(a), _m(0), _m(0), _m(0)] for o, n, a in c.execute(text(
                f"SELECT k.owner_id, count(*), sum(k.amount) FROM contract k WHERE {live} GROUP BY k.owner_id")).all()}
            for o, v in c.execute(text(
                    "SELECT k.owner_id, sum(pp.amount) FROM contract k JOIN payment_plan pp ON pp.contract_id = k.id"
                    f" WHERE {live} AND pp.due_on <= :t GROUP BY k.owner_id"), p).all():
                per[o][2] = _m(v)
            for o, v in c.execute(text(
                    "SELECT k.owner_id, sum(x.amount) FROM contract k JOIN payment x ON x.contract_id = k.id"
                    f" WHERE {live} GROUP BY k.owner_id")).all():
                per[o][3] = _m(v)
        for o, v in c.execute(text(
                f"SELECT k.owner_id, sum(pp.amount - {paid}) FROM payment_plan pp JOIN contract k"
                f" ON k.id = pp.contract_id{join} WHERE pp.due_on < :t AND {paid} < pp.amount - 0.005 AND {live}"
                " GROUP BY k.owner_id"), p).all():
            per[o][4] = _m(v)
    return per


def pandas_collection_by_rep(engine: Engine, ids, today) -> dict:
    import pandas as pd

    with engine.connect() as c:
        k = pd.read_sql(text("SELECT id AS contract_id, owner_id, amount, status FROM contract"), c)
        pp = pd.read_sql(text("SELECT id AS plan_id, contract_id, due_on, amount FROM payment_plan"), c)
        pay = pd.read_sql(text("SELECT contract_id, plan_id, amount FROM payment"), c)
    k = k[k["status"].isin(ks.COLLECTING)]
    if ids is not None:
        k = k[k["owner_id"].isin(ids)]
    for f in (k, pp, pay):
        f["amount"] = f["amount"].astype(float)
    pp["due_on"] = pd.to_datetime(pp["due_on"])
    paid = pay.dropna(subset=["plan_id"]).groupby("plan_id")["amount"].sum().rename("paid")
    pp = pp.merge(paid, left_on="plan_id", right_index=True, how="left").fillna({"paid": 0.0})
    pp = pp.merge(k[["contract_id", "owner_id"]], on="contract_id")
    t = pd.Timestamp(today)
    due = pp[pp["due_on"] <= t].groupby("owner_id")["amount"].sum()
    od = pp[(pp["due_on"] < t) & (pp["paid"] < pp["amount"] - 0.005)]
    over = (od["amount"] - od["paid"]).groupby(od["owner_id"]).sum()
    got = pay.merge(k[["contract_id", "owner_id"]], on="contract_id").groupby("owner_id")["amount"].sum()
    g = k.groupby("owner_id").agg(n=("amount", "size"), a=("amount", "sum"))
    return {o: [int(r.n), _m(r.a), _m(due.get(o)), _m(got.get(o)), _m(over.get(o))] for o, r in g.iterrows()}


def _same_by_rep(frame, hand) -> bool:
    mine = {int(o): [int(n), a, d, c, v] for o, n, a, d, c, v in zip(
        frame["owner_id"], frame["contracts"], frame["amount"], frame["due_to_date"], frame["collected"],
        frame["overdue_amount"], strict=True)}
    return mine.keys() == hand.keys() and all(
        mine[o][0] == hand[o][0] and all(_close(x, y) for x, y in zip(mine[o][1:], hand[o][1:], strict=True))
        for o in mine)


def contract_cases(engine: Engine, people: dict[str, tuple[Actor, str]], with_pandas: bool) -> list[Case]:
    with read_scope(engine) as s:
        today = local_today(settings.get(s, "timezone"))
    month, week = period_for("month", today), period_for("week", today)
    out = []
    for role, (actor, _scope) in people.items():
        with read_scope(engine) as s:
            ids = visible_user_ids(s, actor)

        def page(actor=actor):
            with read_scope(engine) as s:
                frame = ks.list_contracts(s, actor, today=today, limit=50)
                return ks.count_contracts(s, actor), {int(i): c for i, c in zip(frame["id"], frame["collected"],
                                                                                 strict=True)}

        def lists(actor=actor):  # the page's four lists (dashboard.contract_views._lists)
            with read_scope(engine) as s:
                return {"due": ks.due_installments(s, actor, start=month.start, end=month.end, today=today),
                        "overdue": ks.overdue_installments(s, actor, today=today),
                        "collected": ks.payments_received(s, actor, start=week.start, end=week.end),
                        "by_rep": ks.collection_by_rep(s, actor, today=today)}

        def hand_lists(ids=ids):
            return {"due": _installments_hand(engine, ids, "pp.due_on >= :a AND pp.due_on < :b",
                                              {"a": month.start, "b": month.end}),
                    "overdue": _installments_hand(engine, ids, "pp.due_on < :t", {"t": today}),
                    "collected": hand_payments_received(engine, ids, week.start, week.end),
                    "by_rep": hand_collection_by_rep(engine, ids, today)}

        def same_lists(o, h) -> bool:
            return ((o["due"].attrs["count"], o["due"].attrs["remaining"]) == h["due"]
                    and (o["overdue"].attrs["count"], o["overdue"].attrs["remaining"]) == h["overdue"]
                    and (o["collected"].attrs["count"], o["collected"].attrs["total"]) == h["collected"]
                    and _same_by_rep(o["by_rep"], h["by_rep"]))

        def same_page(o, h) -> bool:
            n, got = h
            got.pop("plans", None)
            return o[0] == n and o[1].keys() == got.keys() and all(_close(o[1][k], got[k]) for k in got)

        def by_rep(actor=actor):
            with read_scope(engine) as s:
                return ks.collection_by_rep(s, actor, today=today)

        def won_open(actor=actor):
            with read_scope(engine) as s:
                return [i for i, _ in ks.won_deals_without_contract(s, actor)]

        out += [
            Case("Contracts", f"won deals without contract, {role}", won_open,
                 lambda ids=ids: hand_won_without_contract(engine, ids), None, lambda o, h: o == h),
            Case("Contracts", f"list page 1 + count, {role}", page, lambda ids=ids: hand_contract_list(engine, ids, today),
                 None, same_page),
            Case("Contracts", f"due / overdue / week / by rep, {role}", lists, hand_lists, None, same_lists, tab=True),
            Case("Contracts", f"collection by rep, {role}", by_rep,
                 lambda ids=ids: hand_collection_by_rep(engine, ids, today),
                 (lambda ids=ids: pandas_collection_by_rep(engine, ids, today)) if with_pandas else None, _same_by_rep,
                 tab=True),
        ]
    return out


# ---------------------------------------------------------------------------
# Activities agenda, deals board


def agenda_cases(engine: Engine, people: dict[str, tuple[Actor, str]], limit: int = 10) -> list[Case]:
    with read_scope(engine) as s:
        tz = local_tz(s)
    now = datetime.now(UTC)
    today = now.astimezone(tz).date()
    out = []
    for role, (actor, _scope) in people.items():
        with read_scope(engine) as s:
            ids = visible_user_ids(s, actor)

        def ours(actor=actor):
            with read_scope(engine) as s:
                return agenda(s, actor, today=today, limit=limit)

        def board(actor=actor):
            with read_scope(engine) as s:
                return pipeline_board(s, actor, today=today, now=now, cards_per_stage=12)

        out += [
            Case("Activities", f"agenda, {role}", ours, lambda ids=ids: sql_agenda(engine, ids, today, tz, limit),
                 None, lambda o, h: all(o[b].attrs["total"] == h[b] for b in h)),
            Case("Deals", f"pipeline board, {role}", board, lambda ids=ids: sql_board(engine, ids, today, now), None,
                 lambda o, h: all(h.get(c.stage_id, (0, 0.0, 0)) == (c.count, round(float(c.amount), 2), c.stalled)
                                  for c in o.columns)),
        ]
    return out


# ---------------------------------------------------------------------------


def people(engine: Engine) -> dict[str, tuple[Actor, str]]:
    """The first active director, manager and rep, with the Overview scope each opens."""
    out = {}
    with read_scope(engine) as s:
        for role, scope in (("director", "all"), ("manager", "team"), ("rep", "me")):
            user = s.scalars(select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)).first()
            if user is not None:
                out[role] = (Actor.from_user(user), scope)
    return out


def page_cases(engine: Engine, *, with_pandas: bool = True, only: str | None = None) -> list[Case]:
    """Every page's reads, in page order (``only``: pages whose name contains it)."""
    who = people(engine)
    from benchmarks.analytics_cases import analytics_cases

    cases = (overview_cases(engine, who, with_pandas) + contract_cases(engine, who, with_pandas)
             + agenda_cases(engine, who) + analytics_cases(engine, who, with_pandas, Case))
    return [c for c in cases if only is None or only.lower() in c.page.lower()]


__all__ = ["Case", "contract_first", "page_cases", "people"]
