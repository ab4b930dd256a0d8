"""Goal setting (services.goals) on SQLite and PostgreSQL: exact splits, seasonal weights,
the three suggestions from a hand-built history, work-back from hand-computed rates,
tracking with a fixed today, the fiscal year starting in April, who may see and edit, and
bad input refused with nothing written."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from services import goals, settings
from services.db import session_scope
from services.errors import ConflictError, FieldNotFound, FieldPermissionDenied, ValidationError
from services.models import Activity, Customer, Deal, DealHistory, Target, User

D = Decimal


def add_target(engine, actor, **data):
    with session_scope(engine) as s:
        return goals.create_target(s, actor, data=data)


def count_targets(engine):
    with session_scope(engine, write=False) as s:
        return s.scalar(select(func.count(Target.id)))


def won(s, org, owner, amount, closed, opened=None, stage="Won"):
    c = s.scalars(select(Customer).where(Customer.name == "Goal Co")).first()
    if c is None:
        c = Customer(name="Goal Co", owner_id=owner)
        s.add(c)
        s.flush()
    d = Deal(name=f"d{amount}", customer_id=c.id, owner_id=owner, stage_id=org.stages[stage], amount=D(amount),
             opened_on=opened or closed, closed_on=closed if stage in ("Won", "Lost") else None)
    s.add(d)
    s.flush()
    return d


# ---------------------------------------------------------------------------
# the split rule


def test_a_million_and_a_cent_over_twelve_months_and_seven_reps_adds_up():
    months = goals.split_amount(D("1000000.01"), [1] * 12)
    assert sum(months) == D("1000000.01")
    assert sorted(set(months)) == [D("83333.33"), D("83333.34")]
    reps = goals.split_amount(D("1000000.01"), [1] * 7)
    assert sum(reps) == D("1000000.01")
    assert reps.count(D("142857.15")) == 3 and reps.count(D("142857.14")) == 4


def test_the_remainder_goes_to_the_largest_share():
    assert goals.split_amount(D("100.00"), [1, 1, 1]) == [D("33.34"), D("33.33"), D("33.33")]
    assert goals.split_amount(D("100.00"), [1, 2, 1]) == [D("25.00"), D("50.00"), D("25.00")]
    assert goals.split_amount(D("0.05"), [1, 3]) == [D("0.01"), D("0.04")]


@hsettings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=D("100000000000"), places=2, allow_nan=False, allow_infinity=False),
       st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=24).filter(lambda w: sum(w) > 0))
def test_parts_always_add_up_and_none_is_negative(whole, weights):
    parts = goals.split_amount(whole, weights)
    assert sum(parts) == whole
    assert all(p >= 0 for p in parts)
    assert all(p == 0 for p, w in zip(parts, weights, strict=True) if w == 0)


@hsettings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=D("100000000000"), places=2, allow_nan=False, allow_infinity=False),
       st.integers(min_value=1, max_value=40))
def test_equal_weights_give_parts_at_most_a_cent_apart(whole, n):
    parts = goals.split_amount(whole, [1] * n)
    assert sum(parts) == whole and max(parts) - min(parts) <= D("0.01")


# ---------------------------------------------------------------------------
# targets and splits in the database


def test_team_year_split_to_months_and_seven_reps_sums_exactly(engine, org):
    with session_scope(engine) as s:
        for i in range(5):
            s.add(User(username=f"extra{i}", display_name=f"Extra {i}", role="rep", team_id=org.team_n,
                       password_hash="!", capacity=D("100000")))
    year = add_target(engine, org.manager_n, metric="contract_amount", scope="team", team_id=org.team_n,
                      period="2027", value="1000000.01")
    with session_scope(engine) as s:
        months = goals.split_target(s, org.manager_n, target_id=year["id"], into="months", weights="equal")
        reps = goals.split_target(s, org.manager_n, target_id=year["id"], into="users", weights="equal")
    assert [m["period"] for m in months] == [f"2027-{i:02d}" for i in range(1, 13)]
    assert sum(m["value"] for m in months) == D("1000000.01")
    assert len(reps) == 7 and sum(r["value"] for r in reps) == D("1000000.01")
    with session_scope(engine, write=False) as s:
        tree = goals.target_tree(s, org.manager_n, target_id=year["id"])
    assert tree[0]["mismatch"] == 0 and len(tree) == 1 + 12 + 7


def test_seasonal_weights_follow_last_years_months(engine, org):
    with session_scope(engine) as s:
        for m in range(1, 13):  # 2025: month m won m × 100 (and 2024 the same pattern doubled)
            won(s, org, org.rep_n1.id, str(m * 100), date(2025, m, 10))
            won(s, org, org.rep_n2.id, str(m * 200), date(2024, m, 12))
    year = add_target(engine, org.manager_n, metric="contract_amount", scope="team", team_id=org.team_n,
                      period="2026", value="78000")
    with session_scope(engine) as s:
        months = goals.split_target(s, org.manager_n, target_id=year["id"], into="months")
        quarters_target = goals.create_target(s, org.manager_n, data=dict(
            metric="contract_amount", scope="team", team_id=org.team_n, period="2026", tier="stretch", value="7800"))
        quarters = goals.split_target(s, org.manager_n, target_id=quarters_target["id"], into="quarters")
    assert [m["value"] for m in months] == [D(m * 1000) for m in range(1, 13)]
    assert [q["value"] for q in quarters] == [D("600"), D("1500"), D("2400"), D("3300")]


def test_rep_split_by_capacity_and_history(engine, org):
    with session_scope(engine) as s:
        s.get(User, org.rep_n1.id).capacity = D("300")
        s.get(User, org.rep_n2.id).capacity = D("100")
        won(s, org, org.rep_n1.id, "100", date(2026, 3, 1))
        won(s, org, org.rep_n2.id, "300", date(2026, 5, 1))
    t = add_target(engine, org.manager_n, metric="contract_amount", scope="team", team_id=org.team_n,
                   period="2027", value="1000")
    with session_scope(engine) as s:
        by_capacity = goals.split_target(s, org.manager_n, target_id=t["id"], into="users")
        assert {r["user_id"]: r["value"] for r in by_capacity} == {org.rep_n1.id: D("750"), org.rep_n2.id: D("250")}
        by_history = goals.split_target(s, org.manager_n, target_id=t["id"], into="users", weights="history")
        assert {r["user_id"]: r["value"] for r in by_history} == {org.rep_n1.id: D("250"), org.rep_n2.id: D("750")}
        custom = goals.split_target(s, org.manager_n, target_id=t["id"], into="users", weights="1,3")
    assert [r["value"] for r in custom] == [D("250"), D("750")]  # reps by name: Rep_N1, Rep_N2


def test_an_edited_part_must_match_its_parent_unless_re_totalled(engine, org):
    t = add_target(engine, org.manager_n, metric="contract_amount", scope="team", team_id=org.team_n,
                   period="2027-Q1", value="300")
    with session_scope(engine) as s:
        parts = goals.split_target(s, org.manager_n, target_id=t["id"], into="months", weights="equal")
    jan, feb = parts[0]["id"], parts[1]["id"]
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        goals.update_targets(s, org.manager_n, changes={jan: "150"})
    assert "would add up to ¥350.00, not ¥300.00" in str(exc.value)  # money as the app shows it
    with session_scope(engine) as s:  # moving 50 from February to January keeps the total
        goals.update_targets(s, org.manager_n, changes={jan: "150", feb: "50"})
    with session_scope(engine) as s:
        changed = goals.update_targets(s, org.manager_n, changes={jan: "200"}, retotal_parent=True)
    assert {c["id"]: c["value"] for c in changed}[t["id"]] == D("350.00")
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        goals.update_targets(s, org.manager_n, changes={t["id"]: "999"})
    assert "add up to ¥350.00" in str(exc.value)


def test_a_target_changed_by_someone_else_since_it_was_shown_is_not_overwritten(engine, org):
    t = add_target(engine, org.manager_n, metric="contract_amount", scope="team", team_id=org.team_n,
                   period="2027-Q1", value="300")
    with session_scope(engine) as s:
        jan, feb, _mar = (p["id"] for p in goals.split_target(s, org.manager_n, target_id=t["id"], into="months",
                                                             weights="equal"))
    shown = {jan: D("100.00"), feb: D("100.00")}  # both managers opened the quarter's months
    with session_scope(engine) as s:
        goals.update_targets(s, org.director, changes={jan: "120", feb: "80"}, shown=shown)
    with pytest.raises(ConflictError) as exc, session_scope(engine) as s:
        goals.update_targets(s, org.manager_n, changes={jan: "150", feb: "50"}, shown=shown)
    assert exc.value.conflicts == {jan: {"value": (D("120.00"), "150")}, feb: {"value": (D("80.00"), "50")}}
    assert "nothing was saved" in str(exc.value)
    with session_scope(engine, write=False) as s:
        assert [r["value"] for r in goals.target_tree(s, org.manager_n, target_id=t["id"])][1:3] == [
            D("120.00"), D("80.00")]


def test_fiscal_year_starting_in_april(engine, org):
    with session_scope(engine) as s:
        settings.put(s, "fiscal_year_start_month", 4)
    assert goals.parse_period("2027", 4, "en") == ("year", date(2027, 4, 1))
    assert goals.parse_period("2027-Q4", 4, "en") == ("quarter", date(2028, 1, 1))
    t = add_target(engine, org.director, metric="won_deals", scope="company", period="2027", value="10")
    assert t["period_start"] == date(2027, 4, 1) and t["value"] == 10
    with session_scope(engine) as s:
        quarters = goals.split_target(s, org.director, target_id=t["id"], into="quarters", weights="equal")
    assert [(q["period"], q["period_start"], q["value"]) for q in quarters] == [
        ("2027-Q1", date(2027, 4, 1), 3), ("2027-Q2", date(2027, 7, 1), 3), ("2027-Q3", date(2027, 10, 1), 2),
        ("2027-Q4", date(2028, 1, 1), 2)]


# ---------------------------------------------------------------------------
# suggestions


def test_the_three_suggestions_from_a_hand_built_history(engine, org):
    with session_scope(engine) as s:
        # rep_n1 won in Q2 of 2023 / 2024 / 2025: 100, 200, 300 → trend 400
        for year, amount in ((2023, "100"), (2024, "200"), (2025, "300")):
            won(s, org, org.rep_n1.id, amount, date(year, 5, 5))
        s.get(User, org.rep_n1.id).created_at = datetime(2020, 1, 1, tzinfo=UTC)
        # rep_n2 joined in 2026-01 (new: ramps 25/50/75 % in Jan–Mar 2026)
        s.get(User, org.rep_n2.id).created_at = datetime(2026, 1, 2, 4, tzinfo=UTC)
        # rep_n1's last six months before 2026-01: 600 won in 2025-07 … 2025-12 → 100 / month
        won(s, org, org.rep_n1.id, "600", date(2025, 9, 1))
    with session_scope(engine, write=False) as s:
        out = goals.suggest_targets(s, org.manager_n, metric="contract_amount", scope="team", team_id=org.team_n,
                                    period="2026-Q1", market_size="10000", market_share="0.1",
                                    today=date(2025, 12, 15), leave_days={})
        growth = goals.suggest_targets(s, org.manager_n, metric="contract_amount", scope="team", team_id=org.team_n,
                                       period="2026-Q2", growth_rate="0.5", today=date(2025, 12, 15))
    assert growth["history"]["value"] == D("400.00")
    assert [y["value"] for y in growth["history"]["years"]] == [D(100), D(200), D(300)]
    assert growth["market"]["value"] == D("450.00")  # last year's 300 × 1.5
    assert out["blend"]["value"] == D("725.00") and out["blend"]["of"] == ["capacity", "market"]  # (1000 + 450) / 2
    assert out["market"]["value"] == D("1000.00")
    cap = out["capacity"]
    # rep_n1: 100 × 3 months; rep_n2 (new): the experienced average 100 × (0.25 + 0.5 + 0.75)
    assert {r["name"]: r["value"] for r in cap["reps"]} == {"Rep_N1": D("300.00"), "Rep_N2": D("150.00")}
    assert cap["value"] == D("450.00")
    assert out["history"]["value"] is None and out["history"]["reason"] == "no_history"
    with session_scope(engine, write=False) as s:
        leave = goals.suggest_targets(s, org.manager_n, metric="contract_amount", scope="user",
                                      user_id=org.rep_n1.id, period="2026-01", today=date(2025, 12, 15),
                                      leave_days={org.rep_n1.id: 31})
    assert leave["capacity"]["value"] == D("0.00")  # a whole month of leave


def test_the_chosen_basis_is_stored(engine, org):
    t = add_target(engine, org.manager_n, metric="contract_amount", scope="team", team_id=org.team_n,
                   period="2027", value="450", basis_kind="market",
                   basis={"market_size": "10000", "market_share": "0.045"}, basis_notes="share of the east market")
    with session_scope(engine, write=False) as s:
        got = goals.get_target(s, org.manager_n, target_id=t["id"])
    assert got["basis_kind"] == "market" and got["basis_market"]["market_share"] == "0.045"
    assert got["basis_notes"] == "share of the east market"


# ---------------------------------------------------------------------------
# work-back


def test_work_back_from_hand_computed_rates(engine, org):
    n1 = org.rep_n1.id
    with session_scope(engine) as s:
        st_ = org.stages
        # in the twelve months before 2026-06-01: 4 deals opened; 2 won (1000 + 3000), 2 lost
        deals = [won(s, org, n1, "1000", date(2026, 3, 1), opened=date(2026, 1, 5)),
                 won(s, org, n1, "3000", date(2026, 4, 1), opened=date(2026, 1, 6)),
                 won(s, org, n1, "500", date(2026, 4, 2), opened=date(2026, 1, 7), stage="Lost"),
                 won(s, org, n1, "700", date(2026, 4, 3), opened=date(2026, 1, 8), stage="Lost")]
        paths = [["Qualify", "Needs", "Proposal", "Negotiation", "Won"], ["Qualify", "Proposal", "Won"],
                 ["Qualify", "Needs", "Lost"], ["Qualify", "Lost"]]
        at = datetime(2026, 2, 1, tzinfo=UTC)
        for d, path in zip(deals, paths, strict=True):
            for name in path:
                s.add(DealHistory(deal_id=d.id, field="stage", new_value=str(st_[name]), changed_at=at))
        c = s.scalars(select(Customer)).first()
        for kind, n in (("demo", 6), ("visit", 12)):
            for i in range(n):
                s.add(Activity(kind=kind, customer_id=c.id, owner_id=n1, done_at=datetime(2026, 2, 1 + i, 3, tzinfo=UTC)))
        # 8 leads (customers rep_n1 owns, created in the window): Goal Co + 7
        c.created_at = datetime(2026, 1, 2, tzinfo=UTC)
        for i in range(7):
            s.add(Customer(name=f"Lead {i}", owner_id=n1, created_at=datetime(2026, 1, 3, tzinfo=UTC)))
    t = add_target(engine, org.manager_n, metric="contract_amount", scope="user", user_id=n1, period="2026-Q3",
                   value="28000")
    with session_scope(engine, write=False) as s:
        out = goals.workback(s, org.manager_n, target_id=t["id"], today=date(2026, 6, 1))
    r = out["rates"]
    assert r["avg_won_deal"] == D("2000.00") and r["win_rate"] == D("0.5000")
    conv = {(c["from"], c["to"]): c["rate"] for c in r["conversions"]}
    # reached ≥ Qualify 4, ≥ Needs 3, ≥ Proposal 2, ≥ Negotiation 1, Won 2 (a won deal counts for every stage below)
    assert conv[("Qualify", "Needs")] == D("0.7500") and conv[("Needs", "Proposal")] == D("0.6667")
    assert r["demos_per_deal"] == D("1.5000") and r["visits_per_deal"] == D("3.0000")
    assert r["leads_per_deal"] == D("2.0000")
    # remaining 28000 → 14 won → 28 new deals → 42 demos, 84 visits, 56 leads; 1 rep, Q3 = 92 days
    assert out["needed"] == {"won_deals": D("14.00"), "new_deals": D("28.00"), "demos": D("42.00"),
                             "visits": D("84.00"), "leads": D("56.00")}
    weeks = D(92) / 7
    assert out["per_rep_per_week"]["new_deals"] == (D(28) / weeks).quantize(D("0.01"))
    assert out["per_rep_per_week"]["new_deals"] == D("2.13")


# ---------------------------------------------------------------------------
# tracking


def test_attainment_run_rate_yoy_mom_and_pace_alert(engine, org):
    n1 = org.rep_n1.id
    with session_scope(engine) as s:
        won(s, org, n1, "300", date(2026, 4, 10))   # this quarter so far
        won(s, org, n1, "200", date(2026, 5, 5))
        won(s, org, n1, "250", date(2025, 4, 20))   # same days last year
        won(s, org, n1, "1000", date(2026, 2, 1))   # previous quarter, first days
    t = add_target(engine, org.manager_n, metric="contract_amount", scope="user", user_id=n1, period="2026-Q2",
                   value="1200")
    today = date(2026, 5, 15)  # 45 of 91 days → 0.4945
    with session_scope(engine, write=False) as s:
        p = goals.target_progress(s, org.rep_n1, target_id=t["id"], today=today)
        later = goals.target_progress(s, org.rep_n1, target_id=t["id"], today=date(2026, 5, 16))  # 46 days
    assert p["actual"] == D("500.00") and p["attainment"] == pytest.approx(500 / 1200, abs=1e-4)
    assert p["elapsed"] == pytest.approx(0.4945)
    assert p["projection"] == (D(500) / D("0.4945")).quantize(D("0.01"))
    assert p["yoy"] == 1.0 and p["mom"] == -0.5
    assert p["pace_alert"] is None  # before the 50 % checkpoint
    assert later["pace_alert"]["checkpoint"] == 50 and later["projection"] < D(1200)
    with session_scope(engine, write=False) as s:
        rows = goals.attainment_report(s, org.manager_n, period="2026-Q2", by="user", today=today)
    assert [(r["holder"], r["value"], r["actual"]) for r in rows] == [("Rep_N1", D("1200.00"), D("500.00"))]


def test_overview_target_is_the_goal_target(engine, org):
    from services.analytics import scope_target
    from services.periods import Period

    t = add_target(engine, org.director, metric="contract_amount", scope="company", period="2026", value="1200000")
    with session_scope(engine) as s:
        goals.split_target(s, org.director, target_id=t["id"], into="months", weights="equal")
    with session_scope(engine, write=False) as s:
        assert scope_target(s, org.director, scope="all", period=Period(date(2026, 1, 1), date(2027, 1, 1))) \
            == D("1200000.00")
        assert scope_target(s, org.director, scope="all", period=Period(date(2026, 3, 1), date(2026, 4, 1))) \
            == D("100000.00")



def test_every_reps_own_target_in_one_read_is_scope_targets(engine, org):
    """``user_targets`` (one read for all reps: target vs actual, behind pace) gives each rep's
    ``scope_target(scope="me")``. Rep_N1: year 12,000, Q2 4,500, May 2,000 → per month April
    1,500 (the quarter's third), May 2,000 (its own), June 1,500; 15 April – 14 June is 16/30
    of April + May + 14/30 of June = 800 + 2,000 + 700 = 3,500. Rep_N2: May 900 only → 900.
    Rep_S1: nothing → None. Stretch targets and other metrics do not count."""
    from services.analytics import scope_target
    from services.analytics.targets import user_targets
    from services.periods import Period

    rows = [(org.rep_n1.id, "year", date(2026, 1, 1), "12000"), (org.rep_n1.id, "quarter", date(2026, 4, 1), "4500"),
            (org.rep_n1.id, "month", date(2026, 5, 1), "2000"), (org.rep_n2.id, "month", date(2026, 5, 1), "900")]
    with session_scope(engine) as s:
        for uid, kind, start, value in rows:
            s.add(Target(metric="contract_amount", scope="user", user_id=uid, period_kind=kind, period_start=start,
                         tier="base", value=D(value)))
        s.add(Target(metric="contract_amount", scope="user", user_id=org.rep_n2.id, period_kind="month",
                     period_start=date(2026, 5, 1), tier="stretch", value=D("5000")))
        s.add(Target(metric="collections", scope="user", user_id=org.rep_s1.id, period_kind="month",
                     period_start=date(2026, 5, 1), tier="base", value=D("700")))
    period = Period(date(2026, 4, 15), date(2026, 6, 15))
    reps = [org.rep_n1, org.rep_n2, org.rep_s1]
    with session_scope(engine, write=False) as s:
        got = user_targets(s, [r.id for r in reps], period=period)
        assert got == {org.rep_n1.id: D("3500.00"), org.rep_n2.id: D("900.00"), org.rep_s1.id: None}
        assert got == {r.id: scope_target(s, r, scope="me", period=period) for r in reps}


# ---------------------------------------------------------------------------
# access


def test_who_sees_and_edits_which_targets(engine, org):
    team = add_target(engine, org.manager_n, metric="contract_amount", scope="team", team_id=org.team_n,
                      period="2027", value="100")
    mine = add_target(engine, org.manager_n, metric="contract_amount", scope="user", user_id=org.rep_n1.id,
                      period="2027", value="50")
    company = add_target(engine, org.director, metric="contract_amount", scope="company", period="2027", value="999")
    with session_scope(engine, write=False) as s:
        seen = {a: {t["id"] for t in goals.list_targets(s, getattr(org, a), period="2027")}
                for a in ("rep_n1", "rep_n2", "rep_s1", "manager_n", "manager_s", "director")}
    assert seen["rep_n1"] == {team["id"], mine["id"]}
    assert seen["rep_n2"] == {team["id"]} and seen["rep_s1"] == set() and seen["manager_s"] == set()
    assert seen["manager_n"] == {team["id"], mine["id"]}
    assert seen["director"] == {team["id"], mine["id"], company["id"]}
    with session_scope(engine) as s, pytest.raises(FieldPermissionDenied):
        goals.update_targets(s, org.rep_n1, changes={mine["id"]: "60"})
    with session_scope(engine) as s, pytest.raises(FieldNotFound):
        goals.update_targets(s, org.manager_s, changes={mine["id"]: "60"})
    with session_scope(engine) as s, pytest.raises(FieldPermissionDenied):
        goals.create_target(s, org.manager_n, data=dict(scope="team", team_id=org.team_s, period="2027", value="1"))
    with session_scope(engine) as s, pytest.raises(FieldPermissionDenied):
        goals.create_target(s, org.manager_n, data=dict(scope="company", period="2028", value="1"))
    with session_scope(engine) as s:
        goals.update_targets(s, org.manager_n, changes={mine["id"]: "60"})


# ---------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(("value", "field", "text"), [
    ("-5", "value", "must not be negative"), ("abc", "value", "must be a number"), (None, "value", "is required")])
def test_bad_values_are_refused(engine, org, value, field, text):
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        goals.create_target(s, org.director, data=dict(scope="company", period="2027", value=value))
    assert exc.value.errors[field] == text
    assert count_targets(engine) == 0


def test_duplicate_period_and_weight_errors(engine, org):
    t = add_target(engine, org.director, metric="contract_amount", scope="company", period="2027", value="100")
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        goals.create_target(s, org.director, data=dict(scope="company", period="2027", value="5"))
    assert "a base target for this metric, holder and period 2027 already exists" in exc.value.errors["period"]
    add_target(engine, org.director, metric="contract_amount", scope="company", period="2027", tier="stretch",
               value="120")  # another tier is another target
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        goals.create_target(s, org.director, data=dict(scope="company", period="2027-13", value="5"))
    assert "YYYY, YYYY-Qn or YYYY-MM" in exc.value.errors["period"]
    for weights, text in (("1,-1,1,1", "must not be negative"), ("0,0,0,0", "more than 0"), ("1,x,1,1", "a number"),
                          ("1,2", "needs 4 weights")):
        with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
            goals.split_target(s, org.director, target_id=t["id"], into="quarters", weights=weights)
        assert text in exc.value.errors["weights"]
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        goals.create_target(s, org.director, data=dict(metric="won_deals", scope="company", period="2027",
                                                       value="2.5"))
    assert exc.value.errors["value"] == "must be a whole number for this metric"
    assert count_targets(engine) == 2


def test_a_rep_outside_the_team_is_refused(engine, org):
    t = add_target(engine, org.manager_n, metric="contract_amount", scope="team", team_id=org.team_n,
                   period="2027", value="100")
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        goals.split_target(s, org.manager_n, target_id=t["id"], into="users",
                           user_ids=[org.rep_n1.id, org.rep_s1.id], weights="equal")
    assert f"user {org.rep_s1.id} is not an active member of the team" in exc.value.errors["user_ids"]
    assert count_targets(engine) == 1


# ---------------------------------------------------------------------------
# the reps × months grid and its spreadsheet


def test_the_team_grid_writes_one_consistent_tree(engine, org):
    cells = {org.rep_n1.id: ["100"] * 12, org.rep_n2.id: ["50"] * 11 + [""]}
    with session_scope(engine) as s:
        saved = goals.save_team_grid(s, org.manager_n, team_id=org.team_n, year="2027", cells=cells)
    assert saved["total"] == D("1750.00")
    with session_scope(engine, write=False) as s:
        grid = goals.team_grid(s, org.manager_n, team_id=org.team_n, year="2027")
        tree = goals.target_tree(s, org.manager_n, target_id=saved["team_target_id"])
    assert grid["team_target"] == D("1750.00") and grid["column_totals"][0] == D("150.00")
    assert [r["total"] for r in grid["rows"]] == [D("1200.00"), D("550.00")]
    assert all(row["mismatch"] == 0 for row in tree) and len(tree) == 1 + 12 + 2 + 24
    # the team's year now exists: a grid adding up to something else is refused, unless re-totalled
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        goals.save_team_grid(s, org.manager_n, team_id=org.team_n, year="2027", cells={org.rep_n1.id: ["1"] * 12})
    assert "re-total" in exc.value.errors["value"]
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        goals.save_team_grid(s, org.manager_n, team_id=org.team_n, year="2027",
                             cells={org.rep_n1.id: ["x"] + ["1"] * 11}, retotal_parent=True)
    assert exc.value.errors[f"value[{org.rep_n1.id}][1]"] == "must be a number"
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        goals.save_team_grid(s, org.manager_n, team_id=org.team_n, year="2027", cells={org.rep_s1.id: ["1"] * 12})
    assert "not an active member" in exc.value.errors["user_ids"]
    with session_scope(engine, write=False) as s:
        assert goals.team_grid(s, org.manager_n, team_id=org.team_n, year="2027")["total"] == D("1750.00")


def _saved_grid(engine, org):
    """Team N's 2027 grid saved (rep 1: 100 a month, rep 2: 50), as a page opens it: (the
    grid, the values shown)."""
    with session_scope(engine) as s:
        goals.save_team_grid(s, org.manager_n, team_id=org.team_n, year="2027",
                             cells={org.rep_n1.id: ["100"] * 12, org.rep_n2.id: ["50"] * 12})
    with session_scope(engine, write=False) as s:
        opened = goals.team_grid(s, org.manager_n, team_id=org.team_n, year="2027")
    return opened, {r["user_id"]: r["values"] for r in opened["rows"]}


def test_a_grid_saved_over_someone_elses_newer_values_is_refused(engine, org):
    """Two managers open the same grid; the first save wins, the second is told who changed
    what (their value beside its own) and writes nothing."""
    opened, shown = _saved_grid(engine, org)
    with session_scope(engine) as s:  # the director moves 10 from rep 2's January to rep 1's
        goals.save_team_grid(s, org.director, team_id=org.team_n, year="2027", shown=shown,
                             cells={org.rep_n1.id: ["110"] + ["100"] * 11, org.rep_n2.id: ["40"] + ["50"] * 11})
    with pytest.raises(ConflictError) as exc, session_scope(engine) as s:
        goals.save_team_grid(s, org.manager_n, team_id=org.team_n, year="2027", shown=shown,
                             cells={org.rep_n1.id: ["100"] * 11 + ["90"], org.rep_n2.id: ["50"] * 11 + ["60"]})
    january = opened["months"][0]
    assert exc.value.conflicts[org.rep_n1.id] == {january: (D("110.00"), D("100.00"))}
    assert exc.value.conflicts[org.rep_n2.id] == {january: (D("40.00"), D("50.00"))}
    assert "nothing was saved" in str(exc.value)
    with session_scope(engine, write=False) as s:
        rows = goals.team_grid(s, org.manager_n, team_id=org.team_n, year="2027")["rows"]
    assert [r["values"][0] for r in rows] == [D("110.00"), D("40.00")]  # the director's save stands
    assert [r["values"][11] for r in rows] == [D("100.00"), D("50.00")]  # the refused one wrote nothing


def test_a_grid_cell_that_came_back_empty_is_refused_not_saved_as_zero(engine, org):
    """A cell the page showed a value in comes back empty (cleared, or letters the grid's
    number editor would not take): the save names the cell and writes nothing."""
    opened, shown = _saved_grid(engine, org)
    with pytest.raises(ValidationError) as exc, session_scope(engine) as s:
        goals.save_team_grid(s, org.manager_n, team_id=org.team_n, year="2027", shown=shown, retotal_parent=True,
                             cells={org.rep_n1.id: [None] + ["100"] * 11, org.rep_n2.id: ["50"] * 12})
    assert exc.value.errors == {f"value[{org.rep_n1.id}][1]":
                                "is empty (it showed ¥100.00): enter a number, 0 for no target"}
    with session_scope(engine, write=False) as s:
        rows = goals.team_grid(s, org.manager_n, team_id=org.team_n, year="2027")["rows"]
    assert [r["values"][0] for r in rows] == [D("100.00"), D("50.00")]
    with session_scope(engine) as s:  # a 0 typed in is a 0
        goals.save_team_grid(s, org.manager_n, team_id=org.team_n, year="2027", shown=shown, retotal_parent=True,
                             cells={org.rep_n1.id: ["0"] + ["100"] * 11, org.rep_n2.id: ["50"] * 12})
    with session_scope(engine, write=False) as s:
        grid = goals.team_grid(s, org.manager_n, team_id=org.team_n, year="2027")
    assert [r["values"][0] for r in grid["rows"]] == [D("0.00"), D("50.00")] and grid["total"] == D("1700.00")


def test_the_grid_round_trips_through_xlsx(engine, org):
    from services.exporting import dataframe_to_xlsx
    from services.importing.target_grid import grid_frame, read_target_grid

    with session_scope(engine) as s:
        goals.save_team_grid(s, org.manager_n, team_id=org.team_n, year="2027",
                             cells={org.rep_n1.id: ["100.50"] * 12, org.rep_n2.id: ["7"] * 12})
        grid = goals.team_grid(s, org.manager_n, team_id=org.team_n, year="2027")
    data = dataframe_to_xlsx(grid_frame(grid))
    reps = {r["username"]: r["user_id"] for r in grid["rows"]}
    cells = read_target_grid(data, months=grid["months"], reps=reps)
    assert cells[org.rep_n1.id] == [D("100.50")] * 12 and cells[org.rep_n2.id] == [D("7")] * 12
    frame = grid_frame(grid).astype(object)
    frame.loc[0, "2027-03"] = "lots"
    frame.loc[1, "2027-05"] = -4
    with pytest.raises(ValidationError) as exc:
        read_target_grid(dataframe_to_xlsx(frame), months=grid["months"], reps=reps)
    assert exc.value.errors == {"row 2, column 2027-03": "must be a number",
                                "row 3, column 2027-05": "must not be negative"}


def test_the_grid_offers_a_reps_year_split_like_the_teams_months(engine, org):
    t = add_target(engine, org.manager_n, metric="contract_amount", scope="team", team_id=org.team_n,
                   period="2027", value="1200")
    with session_scope(engine) as s:
        months = goals.split_target(s, org.manager_n, target_id=t["id"], into="months", weights=["1"] * 11 + ["12"])
        goals.split_target(s, org.manager_n, target_id=t["id"], into="users", weights="equal")
        grid = goals.team_grid(s, org.manager_n, team_id=org.team_n, year="2027")
    row = grid["rows"][0]
    assert row["prefilled"] and row["total"] == D("600.00")
    team_months = [m["value"] for m in months]
    assert row["values"] == goals.split_amount(D(600), team_months)  # the team's months as weights
    assert D("313.00") < row["values"][-1] < D("313.10") and D("26.00") < row["values"][0] < D("26.10")
    assert grid["total"] == D("1200.00")
