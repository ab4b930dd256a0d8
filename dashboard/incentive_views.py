"""The Incentives page's drawing: payouts (compute, the calculation line by line, save draft,
approve, pay), the what-if editor with its cost comparison, the schemes, leaderboards and
the rep's own payouts and badges. Every number comes from ``services.incentives``."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import forms
from dashboard.charts import leaderboard_chart
from dashboard.i18n import choose_placeholder, money, percent, tr
from dashboard.runner import Outcome, outcome_of, read, show_outcome
from dashboard.widgets import choice, company_today, data_table
from services import incentives, reference, settings, users
from services.access import Actor
from services.incentives.schemes import period_label
from services.models import ACTIVITY_KINDS, CONTEST_RULES
from services.periods import month_start, period_for, previous

BASES = ("won_amount", "collections", "margin")
MODES = ("whole", "marginal")
PERIODS = ("month", "quarter", "year")
SCHEME_KINDS = ("commission", "contest")


def schemes(actor: Actor) -> list[dict[str, Any]]:
    return read(lambda s: incentives.list_schemes(s, actor))


def _last_closed(kind: str) -> str:
    """The label of the last closed period of ``kind`` (what a manager pays next)."""
    today = company_today()
    fy = read(lambda s: int(settings.get(s, "fiscal_year_start_month") or 1))
    per = previous(period_for(kind, today, fy))
    return read(lambda s: period_label(s, per))


def scheme_and_period(rows: list[dict[str, Any]], key: str, *, kinds: tuple[str, ...] = ("commission", "contest")):
    """A scheme picker and its period field (default: the last closed period)."""
    rows = sorted((r for r in rows if r["kind"] in kinds), key=lambda r: r["kind"] != "commission")
    if not rows:
        st.info(tr("incentives.page.no_schemes"))
        return None, None
    by_id = {r["id"]: r for r in rows}
    col1, col2 = st.columns([3, 2])
    with col1:
        sid = choice(st.selectbox, tr("incentives.page.scheme"), list(by_id), {i: r["name"] for i, r in by_id.items()},
                     key=f"{key}_scheme")
    scheme = by_id[sid]
    with col2:
        period = st.text_input(tr("incentives.page.period", kind=tr(f"incentives.period.{scheme['period']}")),
                               value=_last_closed(scheme["period"]), key=f"{key}_period_{sid}")
    return scheme, period


def checked_read(work) -> Outcome:
    """A read the user's input can refuse (a period label, a draft's tiers): its value, or
    the refusal as an ``Outcome`` to show — without a write transaction."""
    from services.errors import DomainError

    try:
        return Outcome(value=read(work))
    except DomainError as exc:
        return outcome_of(exc)


def _money_cols(frame: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    for c in cols:
        if c in frame:
            frame[c] = [money(v, compact=False) for v in frame[c]]
    return frame


def line_text(line: dict[str, Any]) -> str:
    """One calculation line as a sentence (basis, slice at rate, bonus, prize, adjustment)."""
    kind = line["kind"]
    amount = money(line["amount"], compact=False)
    if kind == "basis":
        return tr("incentives.page.line_basis", basis=tr(f"incentives.basis.{line.get('note', 'won_amount')}"),
                  amount=amount)
    if kind == "slice":
        upper = money(line["upper"], compact=False) if line.get("upper") else "∞"
        return tr("incentives.page.line_slice", lower=money(line["lower"], compact=False), upper=upper,
                  base=money(line["base"], compact=False), rate=percent(line["rate"], 2), amount=amount)
    if kind == "bonus":
        return tr("incentives.page.line_bonus", threshold=percent(line["rate"], 0), note=line.get("note", ""),
                  amount=amount)
    if kind == "prize":
        return tr("incentives.page.line_prize", note=line.get("note", ""), amount=amount)
    if kind == "adjustment":
        return tr("incentives.page.line_adjustment", periods=line.get("note", ""), amount=amount)
    return tr("incentives.page.line_note", note=line.get("note", ""))


def payout_table(reps: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame([{tr("common.name"): r["name"], tr("incentives.page.basis"): r["basis"],
                           tr("incentives.page.commission"): r["commission"], tr("incentives.page.bonus"): r["bonus"],
                           tr("incentives.page.adjustment"): r["adjustment"], tr("incentives.page.payout"): r["payout"],
                           tr("common.status"): tr(f"incentives.status.{r['status']}")} for r in reps])
    if frame.empty:
        st.info(tr("common.nothing_here"))
        return
    data_table(_money_cols(frame, tuple(tr(f"incentives.page.{c}") for c in ("basis", "commission", "bonus",
                                                                           "adjustment", "payout"))))
    for r in reps:
        with st.expander(f"{r['name']} · {money(r['payout'], compact=False)}"):
            for line in r["lines"]:
                st.markdown(f"- {line_text(line)}")


# ---------------------------------------------------------------------------
# tabs


def payouts_section(actor: Actor, rows: list[dict[str, Any]]) -> None:
    scheme, period = scheme_and_period(rows, "pay")
    if scheme is None:
        return
    forms.messages("payouts")
    outcome = checked_read(lambda s: incentives.compute_payouts(s, actor, scheme=scheme["id"], period=period))
    if not outcome.ok:
        show_outcome(outcome, {"period": tr("incentives.page.period_plain")})
        return
    result = outcome.value
    st.metric(tr("incentives.page.total", period=result["period"]), money(result["total"], compact=False))
    payout_table(result["reps"])
    c1, c2, c3 = st.columns(3)
    for col, step, fn in ((c1, "save", incentives.save_payouts), (c2, "approve", incentives.approve_payouts),
                          (c3, "pay", incentives.pay_payouts)):
        with col:
            st.button(tr(f"incentives.page.{step}"), key=f"payouts_{step}", on_click=forms.submit,
                      args=("payouts", lambda s, fn=fn: fn(s, actor, scheme=scheme["id"], period=period)),
                      kwargs={"success": tr(f"incentives.page.{step}_done")})


def what_if_section(actor: Actor, rows: list[dict[str, Any]]) -> None:
    scheme, period = scheme_and_period(rows, "whatif", kinds=("commission",))
    if scheme is None:
        return
    st.caption(tr("incentives.page.what_if_help"))
    c1, c2, c3 = st.columns([3, 1, 2])
    with c1:
        tiers = st.text_input(tr("incentives.page.tiers"), value=scheme["tiers"], key=f"whatif_tiers_{scheme['id']}")
    with c2:
        mode = choice(st.selectbox, tr("incentives.page.mode"), MODES,
                      {m: tr(f"incentives.mode.{m}") for m in MODES}, key=f"whatif_mode_{scheme['id']}",
                      default=scheme["mode"])
    with c3:
        bonus = st.text_input(tr("incentives.page.bonus_thresholds"), value=scheme["bonus"],
                              key=f"whatif_bonus_{scheme['id']}")
    outcome = checked_read(lambda s: incentives.what_if(s, actor, scheme=scheme["id"], period=period,
                                                       changes={"tiers": tiers, "mode": mode, "bonus": bonus}))
    if not outcome.ok:
        show_outcome(outcome, {"tiers": tr("incentives.page.tiers"), "bonus": tr("incentives.page.bonus_thresholds"),
                               "period": tr("incentives.page.period_plain")})
        return
    out = outcome.value
    m1, m2, m3 = st.columns(3)
    m1.metric(tr("incentives.page.cost_current"), money(out["current_total"], compact=False))
    m2.metric(tr("incentives.page.cost_draft"), money(out["draft_total"], compact=False))
    m3.metric(tr("incentives.page.cost_difference"), money(out["difference"], compact=False))
    if actor.is_manager:
        forms.messages("whatif_save")
        st.button(tr("incentives.page.save_rules"), key=f"whatif_save_{scheme['id']}", on_click=forms.submit,
                  args=("whatif_save", lambda s: incentives.update_scheme(
                      s, actor, scheme_id=scheme["id"], values={"tiers": tiers, "mode": mode, "bonus": bonus})),
                  kwargs={"success": tr("incentives.page.rules_saved")})
    frame = pd.DataFrame([{tr("common.name"): r["name"], tr("incentives.page.cost_current"): r["current"],
                           tr("incentives.page.cost_draft"): r["draft"],
                           tr("incentives.page.cost_difference"): r["difference"]} for r in out["reps"]])
    if not frame.empty:
        data_table(_money_cols(frame, (tr("incentives.page.cost_current"), tr("incentives.page.cost_draft"),
                                       tr("incentives.page.cost_difference"))))


def schemes_section(actor: Actor, rows: list[dict[str, Any]]) -> None:
    if rows:
        data_table(pd.DataFrame([{tr("common.name"): r["name"], tr("incentives.page.basis"):
                                  tr(f"incentives.basis.{r['basis']}"), tr("incentives.page.mode"):
                                  tr(f"incentives.mode.{r['mode']}") if r["kind"] == "commission" else "—",
                                  tr("incentives.page.tiers"): r["tiers"] or "—",
                                  tr("incentives.page.bonus_thresholds"): r["bonus"] or "—",
                                  tr("incentives.page.period_plain"): tr(f"incentives.period.{r['period']}")}
                                 for r in rows]))
    st.subheader(tr("incentives.page.add_scheme"))
    form = "scheme_add"
    teams = read(lambda s: users.list_teams(s, actor))
    team_names = {t.id: t.name for t in teams if t.kind == "team"}
    fields = ("name", "kind", "basis", "mode", "tiers", "period", "bonus", "team_ids", "rule", "activity_kind",
              "product_id", "prizes")
    st.text_input(tr("common.name"), key=forms.widget_key(form, "name"))
    forms.field_error(form, "name")
    kind = choice(st.segmented_control, tr("incentives.page.kind"), SCHEME_KINDS,
                  {k: tr(f"incentives.kind.{k}") for k in SCHEME_KINDS}, key=forms.widget_key(form, "kind"),
                  default="commission") or "commission"
    c1, c2, c3 = st.columns(3)
    with c1:
        choice(st.selectbox, tr("incentives.page.basis"), BASES, {b: tr(f"incentives.basis.{b}") for b in BASES},
               key=forms.widget_key(form, "basis"))
    with c2:
        choice(st.selectbox, tr("incentives.page.mode"), MODES, {m: tr(f"incentives.mode.{m}") for m in MODES},
               key=forms.widget_key(form, "mode"), disabled=kind == "contest")
    with c3:
        choice(st.selectbox, tr("incentives.page.period_plain"), PERIODS,
               {p: tr(f"incentives.period.{p}") for p in PERIODS}, key=forms.widget_key(form, "period"))
    if kind == "contest":
        products = {p.id: p.name for p in read(lambda s: reference.list_products(s, actor))}
        d1, d2, d3 = st.columns(3)
        with d1:
            rule = choice(st.selectbox, tr("incentives.page.rule"), CONTEST_RULES,
                          {r: tr(f"incentives.rule.{r}") for r in CONTEST_RULES}, key=forms.widget_key(form, "rule"))
        with d2:
            if rule == "first_close":
                choice(st.selectbox, tr("incentives.page.product"), list(products), products,
                       key=forms.widget_key(form, "product_id"))
                forms.field_error(form, "product_id")
            else:
                choice(st.selectbox, tr("incentives.page.activity_kind"), ACTIVITY_KINDS,
                       {k: tr(f"activities.kinds.{k}") for k in ACTIVITY_KINDS}, key=forms.widget_key(form, "activity_kind"),
                       default="demo")
        with d3:
            st.text_input(tr("incentives.page.prizes"), placeholder="3000,1000", key=forms.widget_key(form, "prizes"))
        forms.field_error(form, "contest")
    else:
        st.text_input(tr("incentives.page.tiers"), placeholder="0:2%,100000:4%,250000:6%",
                      key=forms.widget_key(form, "tiers"))
        forms.field_error(form, "tiers")
        st.text_input(tr("incentives.page.bonus_thresholds"), placeholder="100%:5000,120%:12000",
                      key=forms.widget_key(form, "bonus"))
        forms.field_error(form, "bonus")
    st.multiselect(tr("incentives.page.teams"), list(team_names), format_func=team_names.__getitem__,
                   key=forms.widget_key(form, "team_ids"), placeholder=choose_placeholder(team_names, many=True))
    forms.field_error(form, "team_ids")

    def save(s):
        values = {f: forms.value(form, f) for f in fields}
        if values["kind"] == "contest":
            values["contest"] = {"rule": values["rule"], "activity_kind": values["activity_kind"],
                                 "product_id": values["product_id"],
                                 "prizes": [p for p in str(values["prizes"] or "").replace("，", ",").split(",") if p.strip()]}
        return incentives.add_scheme(s, actor, values=values)

    st.button(tr("common.save"), key="scheme_add_btn", on_click=forms.submit, args=(form, save),
              kwargs={"fields": fields, "success": tr("common.saved")})
    forms.messages(form, fields=("name", "tiers", "bonus", "team_ids", "contest", "product_id"))


def leaderboard_section(actor: Actor) -> None:
    metrics = incentives.LEADERBOARD_METRICS
    metric = choice(st.segmented_control, tr("incentives.page.leaderboard"), metrics,
                    {m: tr(f"incentives.board.{m}") for m in metrics}, key="board_metric", default="revenue")
    metric = metric or "revenue"
    today = company_today()
    per = period_for("month", month_start(today))
    rows = read(lambda s: incentives.leaderboard(s, actor, metric=metric, period=per))
    st.caption(tr("incentives.page.board_month", month=per.start.strftime("%Y-%m")))
    if not rows:
        st.info(tr("common.nothing_here"))
        return
    frame = pd.DataFrame(rows)
    if metric == "win_rate":
        shown = [percent(v) for v in frame["value"]]
    elif metric == "activities":
        shown = [str(v) for v in frame["value"]]
    else:
        shown = [money(v, compact=False) for v in frame["value"]]
    if actor.is_manager and len(frame) > 1:
        frame["chart"] = [float(v) for v in frame["value"]]
        st.altair_chart(leaderboard_chart(frame, name="name", value="chart", value_title=tr(f"incentives.board.{metric}"),
                                          value_format=".0%" if metric == "win_rate" else ",.0f"), width="stretch")
    data_table(pd.DataFrame({tr("incentives.page.rank"): frame["rank"], tr("common.name"): frame["name"],
                             tr(f"incentives.board.{metric}"): shown}))


def badges_section(actor: Actor, user_id: int | None = None) -> None:
    rows = read(lambda s: incentives.badges(s, actor, user_id=user_id))
    if not rows:
        st.info(tr("incentives.page.no_badges"))
        return
    data_table(pd.DataFrame([{tr("incentives.page.badge"): b["title"], tr("common.date"): b["on"],
                              tr("common.notes"): b["note"]} for b in rows]))


def my_section(actor: Actor) -> None:
    st.subheader(tr("incentives.page.my_payouts"))
    rows = read(lambda s: incentives.list_payouts(s, actor, user_id=actor.id))
    if not rows:
        st.info(tr("common.nothing_here"))
    for r in rows[:24]:
        with st.expander(f"{r['period']} · {r['scheme']} · {money(r['payout'], compact=False)} · "
                         f"{tr('incentives.status.' + r['status'])}"):
            for line in r["lines"]:
                st.markdown(f"- {line_text(line)}")
    st.subheader(tr("incentives.page.my_badges"))
    badges_section(actor)
