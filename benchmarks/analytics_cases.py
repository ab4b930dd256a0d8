"""The Funnel, Performance and Weekly meeting pages' reads for ``python -m benchmarks``: each
analytics service (funnel, KPIs, forecast, leaderboard, findings, meeting report) as the page
calls it, beside the same question as hand-written SQL (plain text on one connection, the
visible owner ids known in advance, written for the best plan on our indexes — the kept
stage facts included) and, where it is one table question, loading the tables into pandas.
Period: the last twelve months (this month included); the meeting: this ISO week.

The hand-written side asks every number the service returns (the KPIs of the period and of
the period before it; every finding's inputs; every block of the meeting report), so the
ratio compares the same work. Nothing here asserts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine

from benchmarks.analytics_pages import pandas_forecast, pandas_funnel, pandas_kpi_block, pandas_leaderboard
from benchmarks.pages import _own, _ts, contract_first
from services import settings
from services.access import Actor
from services.analytics.filters import DealFilter, filter_owner_ids
from services.analytics.findings import findings
from services.analytics.forecast import close_date_slippage, forecast, forecast_accuracy
from services.analytics.funnel import funnel, stage_conversions, stage_deals
from services.analytics.kpis import kpi_comparison
from services.analytics.leaderboard import METRICS, leaderboard, target_vs_actual
from services.analytics.meeting import meeting_report, parse_week, week_of
from services.clock import day_start_utc, local_tz
from services.db import read_scope
from services.periods import Period, add_months, local_today, month_start, previous


def _stages(conn) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    rows = conn.execute(text("SELECT id, kind, sequence FROM stage ORDER BY sequence, id")).all()
    return ([(i, q) for i, k, q in rows if k == "open"], [i for i, k, _ in rows if k == "won"] or [-1],
            [i for i, k, _ in rows if k == "lost"] or [-1])


def _ids(ids: list[int]) -> str:
    return ",".join(str(i) for i in ids)


def _reach_columns(opened: list[tuple[int, int]], won: list[int], *, with_amount: bool) -> list[str]:
    """Per open stage: deals that reached it (LIKE on the kept stages), [their amount,] and
    those that went further (won now, or reached a later open stage)."""
    cols = []
    for sid, seq in opened:
        hit = f"d.stages_reached LIKE '%,{sid},%'"
        higher = " OR ".join(f"d.stages_reached LIKE '%,{t},%'" for t, q in opened if q > seq)
        further = f"d.stage_id IN ({_ids(won)})" + (f" OR {higher}" if higher else "")
        cols += [f"COUNT(CASE WHEN {hit} THEN 1 END)", *([f"SUM(CASE WHEN {hit} THEN d.amount END)"] * with_amount),
                 f"COUNT(CASE WHEN {hit} AND ({further}) THEN 1 END)"]
    return cols


def _days(conn, later: str, earlier: str) -> str:
    if conn.dialect.name == "sqlite":
        return f"julianday({later}) - julianday({earlier})"
    return f"({later} - {earlier})"


def hand_funnel(conn, ids, period: Period, mode: str = "cohort") -> dict[int, tuple[int, int]]:
    """Reach / went further per open stage (LIKE on the kept stages), leakage, days in stage
    (mean and median of the ended visits, ranked), the cohort table; returns the reach."""
    opened, won, lost = _stages(conn)
    where = ("d.opened_on >= :lo AND d.opened_on < :hi" if mode == "cohort"
             else f"d.stage_id IN ({_ids([i for i, _ in opened])})") + _own("d.owner_id", ids)
    cols = _reach_columns(opened, won, with_amount=True)
    p = {"lo": period.start, "hi": period.end}
    row = conn.execute(text(f"SELECT {', '.join(cols)} FROM deal d WHERE {where}"), p).one()
    conn.execute(text(f"SELECT d.stage_id, COUNT(*), SUM(d.amount) FROM deal d WHERE {where} GROUP BY d.stage_id"),
                 p).all()
    if mode == "cohort":
        conn.execute(text(f"SELECT d.stage_entered_from, d.lost_reason_id, COUNT(*), SUM(d.amount) FROM deal d "
                          f"WHERE {where} AND d.stage_id IN ({_ids(lost)}) GROUP BY 1, 2"), p).all()
        visits = ("h.deal_opened_on >= :lo AND h.deal_opened_on < :hi" + _own("h.deal_owner_id", ids))
        age = _days(conn, "d.closed_on", "d.opened_on")
        month = ("strftime('%Y-%m-01', d.opened_on)" if conn.dialect.name == "sqlite"
                 else "date_trunc('month', d.opened_on)")
        conn.execute(text(
            f"SELECT {month} AS m, COUNT(*), " + ", ".join(
                f"COUNT(CASE WHEN d.stage_id IN ({_ids(won)}) AND {age} <= {n} THEN 1 END), "
                f"COUNT(CASE WHEN d.stage_id IN ({_ids(lost)}) AND {age} <= {n} THEN 1 END)" for n in (30, 60, 90))
            + f" FROM deal d WHERE {where} GROUP BY m ORDER BY m"), p).all()
    else:
        visits = f"h.deal_id IN (SELECT d.id FROM deal d WHERE {where})"
    conn.execute(text(
        "SELECT stage, AVG(days), AVG(CASE WHEN rn >= (cnt + 1) / 2 AND rn <= (cnt + 2) / 2 THEN days END), COUNT(*) "
        "FROM (SELECT h.new_value AS stage, h.days, ROW_NUMBER() OVER (PARTITION BY h.new_value ORDER BY h.days) rn, "
        "COUNT(*) OVER (PARTITION BY h.new_value) cnt FROM deal_history h WHERE h.field = 'stage' AND h.days IS NOT NULL "
        f"AND h.new_value IN ({', '.join(repr(str(i)) for i, _ in opened)}) AND {visits}) r GROUP BY stage"), p).all()
    return {sid: (int(row[3 * i] or 0), int(row[3 * i + 2] or 0)) for i, (sid, _) in enumerate(opened)
            if row[3 * i]}


def _kpi_statements(conn, ids, period: Period, tz) -> None:
    """Every number of the KPI block for one period."""
    _open, won, lost = _stages(conn)
    p = {"lo": period.start, "hi": period.end, "lo_t": _ts(conn, day_start_utc(period.start, tz)),
         "hi_t": _ts(conn, day_start_utc(period.end, tz))}
    closed = "d.closed_on >= :lo AND d.closed_on < :hi" + _own("d.owner_id", ids)
    q = [
        f"SELECT SUM(CASE WHEN d.stage_id IN ({_ids(won)}) THEN d.amount END), "
        f"COUNT(CASE WHEN d.stage_id IN ({_ids(won)}) THEN 1 END), COUNT(CASE WHEN d.stage_id IN ({_ids(lost)}) THEN 1 END) "
        f"FROM deal d WHERE d.stage_id IN ({_ids(won + lost)}) AND {closed}",
        ("SELECT SUM(p.amount) FROM payment p WHERE p.received_on >= :lo AND p.received_on < :hi" if ids is None else
         f"SELECT SUM(p.amount) FROM contract c {contract_first(conn)} payment p ON c.id = p.contract_id "
         f"WHERE p.received_on >= :lo AND p.received_on < :hi{_own('c.owner_id', ids)}"),
        f"SELECT COUNT(*) FROM activity a WHERE a.done_at >= :lo_t AND a.done_at < :hi_t{_own('a.owner_id', ids)}",
        "SELECT c.channel_id, COUNT(*) FROM customer c WHERE c.owner_id IS NOT NULL AND c.created_at >= :lo_t "
        f"AND c.created_at < :hi_t{_own('c.owner_id', ids)} GROUP BY c.channel_id",
        "SELECT m.channel_id, SUM(m.amount) FROM marketing_spend m WHERE m.month >= :lo AND m.month < :hi "
        "GROUP BY m.channel_id",
        "SELECT SUM(d.amount * CASE WHEN pr.list_price > 0 THEN 1 - pr.unit_cost * 1.0 / pr.list_price ELSE 1 END), "
        f"COUNT(DISTINCT d.customer_id) FROM deal d LEFT JOIN product pr ON pr.id = d.product_id "
        f"WHERE d.stage_id IN ({_ids(won)}) AND {closed}",
        "SELECT COUNT(CASE WHEN c.status = 'active' THEN 1 END), COUNT(CASE WHEN c.status = 'churned' THEN 1 END) "
        f"FROM customer c WHERE c.owner_id IS NOT NULL AND c.archived = false{_own('c.owner_id', ids)}",
        ("SELECT AVG(t.satisfaction), COUNT(t.satisfaction) FROM service_ticket t "
         "WHERE t.resolved_at >= :lo_t AND t.resolved_at < :hi_t AND t.satisfaction IS NOT NULL" if ids is None else
         "SELECT AVG(t.satisfaction), COUNT(t.satisfaction) FROM service_ticket t JOIN customer c ON c.id = t.customer_id "
         f"WHERE t.resolved_at >= :lo_t AND t.resolved_at < :hi_t AND t.satisfaction IS NOT NULL{_own('c.owner_id', ids)}"),
        f"SELECT COUNT(*) FROM \"user\" u WHERE u.role = 'rep' AND u.active = true{_own('u.id', ids)}",
    ]
    for sql in q:
        conn.execute(text(sql), p).all()
    # the sales cycle's count, mean and median from how many won deals took each number of
    # days (whole days: both are dates), the groups walked in order for the middle one or two
    days = _days(conn, "d.closed_on", "d.opened_on")
    if conn.dialect.name == "sqlite":
        days = f"CAST({days} AS INTEGER)"
    conn.execute(text(f"SELECT {days} AS x, COUNT(*) FROM deal d WHERE d.stage_id IN ({_ids(won)}) AND {closed} "
                      "GROUP BY x ORDER BY x"), p).all()


def hand_kpis(conn, ids, period: Period, tz) -> None:
    """The KPI block for the period and for the period before it (the comparisons; for twelve
    months the period before is also the same period a year ago)."""
    _kpi_statements(conn, ids, period, tz)
    _kpi_statements(conn, ids, previous(period), tz)


def hand_forecast(conn, ids, first: date, months: int = 3) -> list:
    end = add_months(first, months)
    month = ("strftime('%Y-%m-01', CASE WHEN d.expected_close < :first THEN :first ELSE d.expected_close END)"
             if conn.dialect.name == "sqlite" else
             "date_trunc('month', GREATEST(d.expected_close, CAST(:first AS date)))")
    opened, won, _lost = _stages(conn)
    # SQLite: the open stages' board index, not the expected-close index over every deal
    plus = "+" if conn.dialect.name == "sqlite" else ""
    rows = conn.execute(text(
        f"SELECT {month} AS m, COUNT(*), SUM(d.amount), SUM(d.amount * d.probability / 100.0), "
        "SUM(CASE WHEN d.probability >= 70 THEN d.amount END) FROM deal d "
        f"WHERE d.stage_id IN ({_ids([i for i, _ in opened])}) AND {plus}d.expected_close < :end{_own('d.owner_id', ids)} "
        "GROUP BY m"), {"first": first, "end": end}).all()
    conn.execute(text(f"SELECT SUM(d.amount) FROM deal d WHERE d.stage_id IN ({_ids(won)}) AND d.closed_on >= :first "
                      f"AND d.closed_on < :end{_own('d.owner_id', ids)}"), {"first": first, "end": end}).all()
    conn.execute(text("SELECT period_start, SUM(value) FROM target WHERE metric = 'contract_amount' AND tier = 'base' "
                      "AND period_start >= :first AND period_start < :end GROUP BY period_start"),
                 {"first": first, "end": end}).all()
    return rows


def hand_leaderboard(conn, ids, period: Period) -> list:
    _open, won, _lost = _stages(conn)
    conn.execute(text("SELECT u.id, u.display_name, t.name FROM \"user\" u LEFT JOIN team t ON t.id = u.team_id "
                      f"WHERE u.active = true AND u.role = 'rep'{_own('u.id', ids)}")).all()
    return conn.execute(text(
        f"SELECT d.owner_id, SUM(d.amount) AS v FROM deal d WHERE d.stage_id IN ({_ids(won)}) "
        f"AND d.closed_on >= :lo AND d.closed_on < :hi{_own('d.owner_id', ids)} GROUP BY d.owner_id ORDER BY v DESC"),
        {"lo": period.start, "hi": period.end}).all()


def hand_conversions(conn, ids, period: Period) -> list:
    """Per owner and open stage of the cohort: deals that reached it and went further."""
    opened, won, _lost = _stages(conn)
    cols = _reach_columns(opened, won, with_amount=False)
    return conn.execute(text(f"SELECT d.owner_id, {', '.join(cols)} FROM deal d WHERE d.opened_on >= :lo "
                             f"AND d.opened_on < :hi{_own('d.owner_id', ids)} GROUP BY d.owner_id"),
                        {"lo": period.start, "hi": period.end}).all()


def hand_stage_deals(conn, ids, period: Period, stage_id: int, limit: int = 200) -> list:
    """The cohort's deals that reached a stage, largest first, with their names."""
    return conn.execute(text(
        "SELECT d.id, d.name, u.display_name, d.amount, s.name, d.expected_close FROM deal d "
        "JOIN (SELECT id, amount FROM deal WHERE opened_on >= :lo AND opened_on < :hi "
        f"AND stages_reached LIKE :hit{_own('owner_id', ids)} ORDER BY amount DESC NULLS LAST, id LIMIT {limit}) t "
        "ON t.id = d.id JOIN \"user\" u ON u.id = d.owner_id JOIN stage s ON s.id = d.stage_id "
        "ORDER BY t.amount DESC NULLS LAST, d.id"), {"lo": period.start, "hi": period.end, "hit": f"%,{stage_id},%"}).all()


def hand_rankings(conn, ids, period: Period, tz) -> None:
    """The four leaderboards: won revenue, collections, win rate and activities per owner."""
    _open, won, lost = _stages(conn)
    hand_leaderboard(conn, ids, period)
    p = {"lo": period.start, "hi": period.end, "lo_t": _ts(conn, day_start_utc(period.start, tz)),
         "hi_t": _ts(conn, day_start_utc(period.end, tz))}
    for sql in (
            "SELECT c.owner_id, SUM(p.amount) FROM payment p JOIN contract c ON c.id = p.contract_id "
            f"WHERE p.received_on >= :lo AND p.received_on < :hi{_own('c.owner_id', ids)} GROUP BY c.owner_id",
            f"SELECT d.owner_id, COUNT(CASE WHEN d.stage_id IN ({_ids(won)}) THEN 1 END), COUNT(*) FROM deal d "
            f"WHERE d.stage_id IN ({_ids(won + lost)}) AND d.closed_on >= :lo AND d.closed_on < :hi"
            f"{_own('d.owner_id', ids)} GROUP BY d.owner_id",
            "SELECT a.owner_id, COUNT(*) FROM activity a WHERE a.done_at >= :lo_t AND a.done_at < :hi_t"
            f"{_own('a.owner_id', ids)} GROUP BY a.owner_id"):
        conn.execute(text(sql), p).all()


def hand_targets(conn, ids, period: Period) -> None:
    """Target vs actual: won per rep, the reps' and their teams' base revenue targets."""
    hand_leaderboard(conn, ids, period)
    conn.execute(text("SELECT scope, team_id, user_id, period_kind, period_start, SUM(value) FROM target "
                      "WHERE metric = 'contract_amount' AND tier = 'base' AND period_start < :hi "
                      "GROUP BY scope, team_id, user_id, period_kind, period_start"), {"hi": period.end}).all()


def hand_forecast_tab(conn, ids, first: date, period: Period, tz) -> None:
    """The forecast tab: the forecast, its accuracy (the months' user snapshots against won
    per owner and month) and close-date slippage per owner."""
    _open, won, _lost = _stages(conn)
    hand_forecast(conn, ids, first)
    p = {"lo": period.start, "hi": period.end}
    conn.execute(text("SELECT user_id, period_start, taken_on, won_to_date + weighted_amount FROM forecast_snapshot "
                      f"WHERE scope = 'user' AND period_start >= :lo AND period_start < :hi{_own('user_id', ids)} "
                      "ORDER BY user_id, period_start, taken_on"), p).all()
    month = "strftime('%Y-%m-01', d.closed_on)" if conn.dialect.name == "sqlite" else "date_trunc('month', d.closed_on)"
    conn.execute(text(f"SELECT d.owner_id, {month} AS m, SUM(d.amount) FROM deal d WHERE d.stage_id IN ({_ids(won)}) "
                      f"AND d.closed_on >= :lo AND d.closed_on < :hi{_own('d.owner_id', ids)} GROUP BY d.owner_id, m"),
                 p).all()
    moved = (_days(conn, "h.new_value", "h.old_value") if conn.dialect.name == "sqlite"
             else "(CAST(h.new_value AS date) - CAST(h.old_value AS date))")
    conn.execute(text(
        f"SELECT d.owner_id, COUNT(CASE WHEN {moved} > 0 THEN 1 END), COUNT(DISTINCT CASE WHEN {moved} > 0 THEN d.id END), "
        f"AVG(CASE WHEN {moved} > 0 THEN {moved} END), COUNT(CASE WHEN {moved} < 0 THEN 1 END) "
        "FROM deal_history h JOIN deal d ON d.id = h.deal_id WHERE h.field = 'expected_close' "
        "AND h.old_value IS NOT NULL AND h.new_value IS NOT NULL AND h.changed_at >= :lo AND h.changed_at < :hi"
        f"{_own('d.owner_id', ids)} GROUP BY d.owner_id"),
        {"lo": _ts(conn, day_start_utc(period.start, tz)), "hi": _ts(conn, day_start_utc(period.end, tz))}).all()


def hand_findings(conn, ids, period: Period, today: date, now: datetime, tz, with_conversions: bool = True) -> None:
    """Every finding's inputs: pace (targets and won per rep), stage conversion per rep
    (unless the page's strip read them: ``with_conversions``), lost reasons now and before,
    stalled deals, CAC per channel now and before, overdue."""
    opened, won, lost = _stages(conn)
    p = {"lo": period.start, "hi": period.end, "today": today}
    before = previous(period)
    conn.execute(text("SELECT user_id, SUM(value) FROM target WHERE metric = 'contract_amount' AND scope = 'user' "
                      "AND tier = 'base' AND period_start >= :lo AND period_start < :hi GROUP BY user_id"), p).all()
    conn.execute(text(f"SELECT d.owner_id, SUM(d.amount) FROM deal d WHERE d.stage_id IN ({_ids(won)}) "
                      f"AND d.closed_on >= :lo AND d.closed_on < :hi{_own('d.owner_id', ids)} GROUP BY d.owner_id"),
                 p).all()
    if with_conversions:
        hand_conversions(conn, ids, period)
    conn.execute(text(
        "SELECT d.lost_reason_id, COUNT(CASE WHEN d.closed_on >= :lo THEN 1 END), COUNT(CASE WHEN d.closed_on < :lo "
        f"THEN 1 END) FROM deal d WHERE d.stage_id IN ({_ids(lost)}) AND d.closed_on >= :b AND d.closed_on < :hi"
        f"{_own('d.owner_id', ids)} GROUP BY d.lost_reason_id"), {**p, "b": before.start}).all()
    stall = conn.execute(text("SELECT id, stall_days FROM stage WHERE kind = 'open' AND stall_days > 0")).all()
    if stall:
        cond = " OR ".join(f"(d.stage_id = {sid} AND d.stage_changed_at < :s{sid})" for sid, _ in stall)
        conn.execute(text(f"SELECT d.stage_id, COUNT(*), SUM(d.amount) FROM deal d WHERE ({cond})"
                          f"{_own('d.owner_id', ids)} GROUP BY d.stage_id"),
                     {f"s{sid}": _ts(conn, now - timedelta(days=days)) for sid, days in stall}).all()
    for per in (period, before):
        lo, hi = _ts(conn, day_start_utc(per.start, tz)), _ts(conn, day_start_utc(per.end, tz))
        conn.execute(text("SELECT c.channel_id, COUNT(*) FROM customer c WHERE c.channel_id IS NOT NULL "
                          f"AND c.created_at >= :lo AND c.created_at < :hi{_own('c.owner_id', ids)} GROUP BY c.channel_id"),
                     {"lo": lo, "hi": hi}).all()
        conn.execute(text("SELECT channel_id, SUM(amount) FROM marketing_spend WHERE month >= :lo AND month < :hi "
                          "GROUP BY channel_id"), {"lo": per.start, "hi": per.end}).all()
    conn.execute(text("SELECT COUNT(*), SUM(pp.amount - pp.paid_amount) FROM payment_plan pp "
                      f"WHERE pp.due_on < :today AND pp.paid_amount < pp.amount - 0.005"
                      f"{_own('pp.collecting_owner_id', ids)} AND pp.collecting_owner_id IS NOT NULL"), p).all()


def hand_meeting(conn, ids, week: Period, today: date, tz) -> None:
    """Every block of the meeting report: the five numbers this week and last, the week's
    target, the pipeline funnel, top open deals, won and lost this week, overdue (count, sum,
    first ten), open actions, the week's leaderboard."""
    opened, won, lost = _stages(conn)
    last = Period(week.start - timedelta(days=7), week.start)
    for per in (week, last):
        lo, hi = _ts(conn, day_start_utc(per.start, tz)), _ts(conn, day_start_utc(per.end, tz))
        p = {"lo": per.start, "hi": per.end, "lo_t": lo, "hi_t": hi}
        for sql in (
                f"SELECT SUM(d.amount), COUNT(*) FROM deal d WHERE d.stage_id IN ({_ids(won)}) AND d.closed_on >= :lo "
                f"AND d.closed_on < :hi{_own('d.owner_id', ids)}",
                "SELECT SUM(p.amount) FROM payment p JOIN contract c ON c.id = p.contract_id "
                f"WHERE p.received_on >= :lo AND p.received_on < :hi{_own('c.owner_id', ids)}",
                f"SELECT COUNT(*) FROM activity a WHERE a.done_at >= :lo_t AND a.done_at < :hi_t{_own('a.owner_id', ids)}",
                "SELECT COUNT(*) FROM customer c WHERE c.owner_id IS NOT NULL AND c.created_at >= :lo_t "
                f"AND c.created_at < :hi_t{_own('c.owner_id', ids)}"):
            conn.execute(text(sql), p).all()
    p = {"lo": week.start, "hi": week.end, "today": min(today, week.end - timedelta(days=1))}
    conn.execute(text("SELECT SUM(value) FROM target WHERE metric = 'contract_amount' AND tier = 'base' "
                      "AND period_start <= :lo"), p).all()
    hand_funnel(conn, ids, week, mode="pipeline")
    lists = "SELECT d.id, d.name, cu.name, u.display_name, s.name, d.amount, d.probability, d.expected_close, " \
            "d.closed_on, lr.name FROM deal d JOIN stage s ON s.id = d.stage_id JOIN \"user\" u ON u.id = d.owner_id " \
            "LEFT JOIN customer cu ON cu.id = d.customer_id LEFT JOIN lost_reason lr ON lr.id = d.lost_reason_id " \
            "WHERE d.id IN (SELECT d.id FROM deal d WHERE {w} ORDER BY d.amount DESC NULLS LAST, d.id LIMIT {n}) " \
            "ORDER BY d.amount DESC NULLS LAST, d.id"
    own = _own("d.owner_id", ids)
    conn.execute(text(lists.format(w=f"d.stage_id IN ({_ids([i for i, _ in opened])}){own}", n=10))).all()
    for kind in (won, lost):
        conn.execute(text(lists.format(w=f"d.stage_id IN ({_ids(kind)}) AND d.closed_on >= :lo AND d.closed_on < :hi"
                                         f"{own}", n=50)), p).all()
    overdue = (f"pp.due_on < :today AND pp.paid_amount < pp.amount - 0.005 AND pp.collecting_owner_id IS NOT NULL"
               f"{_own('pp.collecting_owner_id', ids)}")
    conn.execute(text(f"SELECT COUNT(*), SUM(pp.amount - pp.paid_amount) FROM payment_plan pp WHERE {overdue}"), p).all()
    conn.execute(text("SELECT pp.id, pp.contract_id, k.number, cu.name, u.display_name, pp.due_on, pp.amount, "
                      "pp.paid_amount FROM payment_plan pp JOIN contract k ON k.id = pp.contract_id "
                      "JOIN customer cu ON cu.id = k.customer_id JOIN \"user\" u ON u.id = k.owner_id "
                      f"WHERE {overdue} ORDER BY pp.due_on, pp.id LIMIT 10"), p).all()
    conn.execute(text("SELECT a.id, a.title, a.owner_id, a.due_on, a.status FROM review_action a "
                      f"WHERE a.status IN ('open', 'in_progress'){_own('a.owner_id', ids)} ORDER BY a.due_on LIMIT 50")
                 ).all()
    hand_leaderboard(conn, ids, week)


def analytics_cases(engine: Engine, people: dict[str, tuple[Actor, str]], with_pandas: bool, case) -> list:
    """``case`` is benchmarks.pages.Case (passed in: pages imports this module)."""
    with read_scope(engine) as s:
        tz = local_tz(s)
        today = local_today(settings.get(s, "timezone"))
    end = add_months(month_start(today), 1)
    year = Period(add_months(end, -12), end)
    week = parse_week(week_of(today))
    now = datetime.now(UTC)
    out = []
    for role, (actor, scope) in people.items():
        flt = DealFilter(scope=scope)
        with read_scope(engine) as s:
            ids = filter_owner_ids(s, actor, flt)

        def ours(fn, actor=actor, flt=flt):
            def run():
                with read_scope(engine) as s:
                    return fn(s, actor, flt)
            return run

        def raw(fn, ids=ids):
            def run():
                with engine.connect() as c:
                    return fn(c, ids)
            return run

        def same_kpis(o, p) -> bool:
            """The pandas way answers the same KPI block: won revenue, activities and new
            customers of the period, won revenue and new customers of the period before."""
            now, before = (p[k] for k in sorted(p, reverse=True))
            v, cards = o["values"], o["cards"]
            return (abs(float(v["won_revenue"]) - float(now["won_revenue"] or 0)) < 0.05
                    and v["activities"] == now["activities"] and v["new_customers"] == now["new_customers"]
                    and abs(float(cards["won_revenue"]["previous"]) - float(before["won_revenue"] or 0)) < 0.05
                    and cards["new_customers"]["previous"] == before["new_customers"])

        def same_funnel(o, h) -> bool:
            got = {r["stage_id"]: (r["reached"], round((r["conversion_next"] or 0) * r["reached"]))
                   for r in o.stages if r["kind"] == "open" and r["reached"]}
            return got == h

        pd_ = with_pandas
        with read_scope(engine) as s:
            conv = stage_conversions(s, actor, period=year, flt=flt)
            first = funnel(s, actor, period=year, flt=flt).stages[0]["stage_id"]
        out += [
            case("Funnel", f"funnel (cohort, 12 months), {role}",
                 ours(lambda s, a, f: funnel(s, a, period=year, flt=f)), raw(lambda c, i: hand_funnel(c, i, year)),
                 raw(lambda c, i: pandas_funnel(c, i, year)) if pd_ else None, same_funnel),
            case("Funnel", f"deals of the first stage (200 largest), {role}",
                 ours(lambda s, a, f, sid=first: stage_deals(s, a, period=year, stage_id=sid, flt=f)),
                 raw(lambda c, i, sid=first: hand_stage_deals(c, i, year, sid)), None,
                 lambda o, h: [d["id"] for d in o] == [r[0] for r in h]),
            case("Performance", f"KPIs with 环比 / 同比 (12 months), {role}",
                 ours(lambda s, a, f: kpi_comparison(s, a, period=year, flt=f)),
                 raw(lambda c, i: hand_kpis(c, i, year, tz)), raw(lambda c, i: pandas_kpi_block(c, i, year, tz)) if pd_ else None,
                 same_pandas=same_kpis),
            case("Performance", f"stage conversions (12 months, strip and findings), {role}",
                 ours(lambda s, a, f: stage_conversions(s, a, period=year, flt=f)),
                 raw(lambda c, i: hand_conversions(c, i, year)), None,
                 lambda o, h: sum(n for per in o.by_owner.values() for n, _ in per.values()) ==
                 sum(int(v or 0) for r in h for v in r[1::2])),
            case("Performance", f"findings (12 months, conversions read), {role}",
                 ours(lambda s, a, f, conv=conv: findings(s, a, period=year, flt=f, today=today, now=now,
                                                          conversions=conv)),
                 raw(lambda c, i: hand_findings(c, i, year, today, now, tz, with_conversions=False))),
            case("Performance", f"target vs actual tab (12 months), {role}",
                 ours(lambda s, a, f: target_vs_actual(s, a, period=year, flt=f)),
                 raw(lambda c, i: hand_targets(c, i, year)), tab=True),
            case("Performance", f"leaderboard (revenue, 12 months), {role}",
                 ours(lambda s, a, f: leaderboard(s, a, period=year, metric="revenue", flt=f)),
                 raw(lambda c, i: hand_leaderboard(c, i, year)),
                 raw(lambda c, i: pandas_leaderboard(c, i, year)) if pd_ else None, tab=True),
            case("Performance", f"leaderboards tab (4 metrics, 12 months), {role}",
                 ours(lambda s, a, f: [leaderboard(s, a, period=year, metric=m, flt=f) for m in METRICS]),
                 raw(lambda c, i: hand_rankings(c, i, year, tz)), tab=True),
            case("Performance", f"forecast (3 months), {role}",
                 ours(lambda s, a, f: forecast(s, a, months=3, flt=f, today=today)),
                 raw(lambda c, i: hand_forecast(c, i, month_start(today))),
                 raw(lambda c, i: pandas_forecast(c, i, month_start(today), add_months(month_start(today), 3)))
                 if pd_ else None, tab=True),
            case("Performance", f"forecast tab (forecast, accuracy, slippage), {role}",
                 ours(lambda s, a, f: (forecast(s, a, months=3, flt=f, today=today),
                                       forecast_accuracy(s, a, period=year),
                                       close_date_slippage(s, a, period=year, flt=f))),
                 raw(lambda c, i: hand_forecast_tab(c, i, month_start(today), year, tz)), tab=True),
            case("Meeting", f"meeting report (this week), {role}",
                 ours(lambda s, a, f: meeting_report(s, a, week=week, flt=f, today=today)),
                 raw(lambda c, i: hand_meeting(c, i, week, today, tz))),
        ]
    return out


__all__ = ["analytics_cases", "hand_conversions", "hand_findings", "hand_forecast_tab", "hand_funnel", "hand_kpis",
           "hand_meeting", "hand_rankings", "hand_stage_deals", "hand_targets"]
