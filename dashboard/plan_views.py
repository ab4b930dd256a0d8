"""Drawing for the Plans page (pages/plans.py): the plan picker and new-plan form, the
progress strip, strategy sections (pricing with discount limits, promotion campaigns,
channel shares), the milestone timeline as a Gantt chart with today's line and overdue in
red, and resources with budget vs spent (over budget highlighted) and the spend form.

Every number comes from ``services.plans`` through ``dashboard.runner``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import charts, forms
from dashboard.i18n import current_locale, money, number, percent, tr
from dashboard.runner import read
from dashboard.text import plain
from dashboard.widgets import choice, data_table, date_field, to_money
from services import goals, plans
from services.access import Actor
from services.models import MILESTONE_STATUSES, PLAN_STATUSES, ROLES

FLASH = "plans_flash"
NEW = "plans_new"
MILE = "plans_mile"
CAMP = "plans_camp"
ALLOC = "plans_alloc"
SPEND = "plans_spend"
STRATEGY = "plans_strategy"
OVERDUE, DONE, OPEN = "overdue", "done", "open"


def can_plan(actor: Actor) -> bool:
    return actor.role in ("manager", "director", "admin")


def _k(form: str, name: str) -> str:
    return forms.widget_key(form, name)


# ---------------------------------------------------------------------------
# choosing and creating a plan


def pick_plan(actor: Actor) -> int | None:
    rows = read(lambda s: plans.list_plans(s, actor))
    forms.messages(FLASH)
    if not rows:
        st.info(tr("plans.none"))
        return None
    labels = {r["id"]: f"{r['title']} · {r['period_start']} … {r['period_end']} · "
                       f"{tr('plans.status_name.' + r['status'])}" for r in rows}
    return choice(st.selectbox, tr("plans.plan"), list(labels), labels, key="plans_pick")


def _create(actor: Actor) -> None:
    ss = st.session_state
    data = dict(title=ss.get(_k(NEW, "title")), period=ss.get(_k(NEW, "period")), team_id=forms.value(NEW, "team"),
                budget=to_money(ss.get(_k(NEW, "budget"))) or 0, status=forms.value(NEW, "status"))
    done = forms.submit(NEW, lambda s: plans.create_plan(s, actor, data=data), fields=("title", "budget"),
                        success=lambda row: tr("plans.created", id=row["id"]))
    if done.ok:
        ss["plans_pick"] = done.value["id"]


def new_plan_form(actor: Actor, year: str) -> None:
    teams = dict(read(lambda s: goals.target_holders(s, actor))["teams"])
    options: dict[Any, str] = ({None: tr("plans.company_wide")} if actor.role in ("director", "admin") else {}) | teams
    with st.expander(tr("plans.new_plan")):
        forms.messages(NEW, {"title": tr("plans.plan_title"), "period": tr("plans.period"),
                             "team_id": tr("plans.team"), "budget": tr("plans.budget")})
        with st.form(f"{NEW}_form"):
            c1, c2 = st.columns(2)
            c1.text_input(tr("plans.plan_title"), key=_k(NEW, "title"), max_chars=200)
            c2.text_input(tr("plans.period"), value=year, key=_k(NEW, "period"))
            c1, c2, c3 = st.columns(3)
            with c1:
                choice(st.selectbox, tr("plans.team"), list(options), options, key=_k(NEW, "team"))
            with c2:
                st.number_input(tr("plans.budget"), value=None, step=1000.0, format="%.2f", key=_k(NEW, "budget"))
            with c3:
                choice(st.selectbox, tr("plans.status"), PLAN_STATUSES,
                       {s_: tr(f"plans.status_name.{s_}") for s_ in PLAN_STATUSES}, key=_k(NEW, "status"))
            st.form_submit_button(tr("plans.new_plan"), type="primary", on_click=_create, args=(actor,))


# ---------------------------------------------------------------------------
# progress


def progress_strip(actor: Actor, plan_id: int, today: date) -> None:
    p = read(lambda s: plans.plan_progress(s, actor, plan_id=plan_id, today=today))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(tr("plans.milestones_done"), f"{p['milestones_done']} / {p['milestones_total']}",
              delta=f"{p['milestones_overdue']} {tr('plans.overdue')}" if p["milestones_overdue"] else None,
              delta_color="inverse", delta_arrow="off")  # a count of overdue ones, not a rise
    c2.metric(tr("plans.budget_used"), percent(p["budget_used"]) if p["budget_used"] is not None else "—",
              help=f"{money(p['budget_spent'], compact=False)} / {money(p['budget_planned'], compact=False)}")
    c3.metric(tr("plans.elapsed"), percent(p["elapsed"]))
    if p["targets"]:
        first = p["targets"][0]
        c4.metric(tr("goals.attainment"), percent(first["attainment"]) if first["attainment"] is not None else "—")
        data_table(pd.DataFrame([{
            tr("goals.holder"): t_["holder"] or tr("goals.scope_name." + t_["scope"]), tr("goals.period"): t_["period"],
            tr("goals.metric"): tr("goals.metric_name." + t_["metric"]), tr("goals.value"): number(t_["value"], 2),
            tr("goals.actual"): number(t_["actual"], 2),
            tr("goals.attainment"): percent(t_["attainment"]) if t_["attainment"] is not None else "—",
        } for t_ in p["targets"]]))


# ---------------------------------------------------------------------------
# strategy


def _save_strategy(actor: Actor, plan_id: int) -> None:
    ss = st.session_state
    changes: dict[str, Any] = {f: ss.get(_k(STRATEGY, f)) for f in plans.STRATEGY_FIELDS}
    changes["status"] = forms.value(STRATEGY, "status")
    changes["discount_limits"] = {r: v for r in ROLES if (v := ss.get(_k(STRATEGY, f"limit_{r}"))) not in (None, "")}
    forms.submit(STRATEGY, lambda s: plans.update_plan(s, actor, plan_id=plan_id, changes=changes),
                 success=tr("plans.saved"))


def _add_campaign(actor: Actor, plan_id: int) -> None:
    ss = st.session_state
    data = dict(name=ss.get(_k(CAMP, "name")), channel_id=forms.value(CAMP, "channel"),
                starts_on=ss.get(_k(CAMP, "starts")), ends_on=ss.get(_k(CAMP, "ends")),
                budget=to_money(ss.get(_k(CAMP, "budget"))) or 0)
    forms.submit(CAMP, lambda s: plans.add_campaign(s, actor, plan_id=plan_id, data=data), fields=("name", "budget"),
                 success=tr("plans.campaign_added"))


def strategy_section(actor: Actor, plan: dict[str, Any], channels: dict[int, str]) -> None:
    editable = plan["editable"]
    forms.messages(STRATEGY, {**{f: tr(f"plans.{f}") for f in plans.STRATEGY_FIELDS}, "status": tr("plans.status"),
                              **{f"discount_limits.{r}": f"{tr('plans.discount_limits')} · {tr(f'auth.role_{r}')}"
                                 for r in ROLES}})
    with st.form(f"{STRATEGY}_form_{plan['id']}"):
        c1, c2, c3 = st.columns(3)
        for col, field in zip((c1, c2, c3), plans.STRATEGY_FIELDS, strict=True):
            col.text_area(tr(f"plans.{field}"), value=plan[field] or "", key=_k(STRATEGY, field), height=110,
                          disabled=not editable)
        st.markdown(f"**{tr('plans.discount_limits')}**")
        cols = st.columns(len(ROLES) + 1)
        for col, role in zip(cols, ROLES, strict=False):
            current = plan["discount_limits"].get(role)
            col.text_input(tr(f"auth.role_{role}"), value=str(current) if current is not None else "",
                           key=_k(STRATEGY, f"limit_{role}"),
                           disabled=not editable, placeholder="0.10")
        with cols[-1]:
            choice(st.selectbox, tr("plans.status"), PLAN_STATUSES,
                   {s_: tr(f"plans.status_name.{s_}") for s_ in PLAN_STATUSES}, key=_k(STRATEGY, "status"),
                   default=plan["status"], disabled=not editable)
        st.form_submit_button(tr("common.save"), on_click=_save_strategy, args=(actor, plan["id"]),
                              disabled=not editable)
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**{tr('plans.campaigns')}**")
        if plan["campaigns"]:
            data_table(pd.DataFrame([{tr("plans.campaign"): c["name"], tr("plans.channel"): channels.get(c["channel_id"], "—"),
                                      tr("plans.starts_on"): c["starts_on"], tr("plans.ends_on"): c["ends_on"],
                                      tr("plans.budget"): money(c["budget"], compact=False)} for c in plan["campaigns"]]))
        if editable:
            forms.messages(CAMP, {"name": tr("plans.campaign"), "starts_on": tr("plans.starts_on"),
                                  "ends_on": tr("plans.ends_on"), "budget": tr("plans.budget")})
            with st.form(f"{CAMP}_form_{plan['id']}"):
                c1, c2, c3, c4, c5 = st.columns([2, 2, 1.4, 1.4, 1.4])
                c1.text_input(tr("plans.campaign"), key=_k(CAMP, "name"), max_chars=200)
                with c2:
                    opts: dict[Any, str] = {None: "—", **channels}
                    choice(st.selectbox, tr("plans.channel"), list(opts), opts, key=_k(CAMP, "channel"))
                with c3:
                    date_field(tr("plans.starts_on"), _k(CAMP, "starts"), value=plan["period_start"])
                with c4:
                    date_field(tr("plans.ends_on"), _k(CAMP, "ends"), value=plan["period_start"])
                c5.number_input(tr("plans.budget"), value=None, step=100.0, format="%.2f", key=_k(CAMP, "budget"))
                st.form_submit_button(tr("plans.new_campaign"), on_click=_add_campaign, args=(actor, plan["id"]))
    with right:
        st.markdown(f"**{tr('plans.channel_shares')}**")
        if plan["channel_shares"]:
            data_table(pd.DataFrame([{tr("plans.channel"): c["channel"], tr("plans.share"): percent(float(c["share"]))}
                                     for c in plan["channel_shares"]]))
        else:
            st.caption("—")


# ---------------------------------------------------------------------------
# timeline


def _add_milestone(actor: Actor, plan_id: int) -> None:
    ss = st.session_state
    data = dict(title=ss.get(_k(MILE, "title")), owner_id=None, start_on=ss.get(_k(MILE, "start")),
                due_on=ss.get(_k(MILE, "due")), status=forms.value(MILE, "status"))
    forms.submit(MILE, lambda s: plans.add_milestone(s, actor, plan_id=plan_id, data=data), fields=("title",),
                 success=tr("plans.milestone_added"))


def _set_status(actor: Actor, milestone_id: int, key: str) -> None:
    status = st.session_state.get(key)
    forms.submit(MILE, lambda s: plans.update_milestone(s, actor, milestone_id=milestone_id,
                                                        changes={"status": status}),
                 success=tr("plans.milestone_saved"))


def milestone_frame(plan: dict[str, Any], today: date) -> pd.DataFrame:
    """One row per milestone: bar from its start (or due) to its due date, state done /
    open / overdue (due before today and not done)."""
    rows = []
    for m in plan["milestones"]:
        state = DONE if m["status"] == "done" else OVERDUE if m["due_on"] < today else OPEN
        rows.append({"title": m["title"], "start_on": m["start_on"] or m["due_on"], "due_on": m["due_on"],
                     "state": state, "owner": m["owner"] or "—", "status": m["status"], "id": m["id"]})
    return pd.DataFrame(rows, columns=["title", "start_on", "due_on", "state", "owner", "status", "id"])


def timeline_section(actor: Actor, plan: dict[str, Any], today: date) -> None:
    frame = milestone_frame(plan, today)
    forms.messages(MILE, {"title": tr("plans.milestone"), "due_on": tr("plans.due_on"),
                          "start_on": tr("plans.start_on")})
    if frame.empty:
        st.caption(tr("plans.no_milestones"))
    else:
        shown = frame.assign(state=[tr("plans.overdue") if s == OVERDUE else tr(f"plans.milestone_status.{s}")
                                    if s == DONE else tr("plans.milestone_status.planned") for s in frame["state"]])
        colors = {tr("plans.milestone_status.done"): charts.GOOD, tr("plans.milestone_status.planned"): charts.PRIMARY,
                  tr("plans.overdue"): charts.BAD}
        st.altair_chart(charts.gantt_chart(shown, group="state", today=today, colors=colors,
                                           task_title=tr("plans.milestone"), group_title=tr("plans.status")),
                        width="stretch")
        labels = {s_: tr(f"plans.milestone_status.{s_}") for s_ in MILESTONE_STATUSES}
        for row in frame.itertuples():
            c1, c2, c3, c4 = st.columns([3, 1.2, 1.2, 1.6])
            c1.markdown(f"{':red[' if row.state == OVERDUE else ''}{plain(row.title)}{']' if row.state == OVERDUE else ''}")
            c2.caption(str(row.due_on))
            c3.caption(plain(row.owner))
            key = f"{MILE}_status_{row.id}"
            with c4:
                choice(st.selectbox, tr("plans.status"), MILESTONE_STATUSES, labels, key=key, default=row.status,
                       label_visibility="collapsed", disabled=not plan["editable"], on_change=_set_status,
                       args=(actor, int(row.id), key))
    if plan["editable"]:
        with st.form(f"{MILE}_form_{plan['id']}"):
            c1, c2, c3, c4 = st.columns([3, 1.5, 1.5, 1.5])
            c1.text_input(tr("plans.milestone"), key=_k(MILE, "title"), max_chars=200)
            with c2:
                date_field(tr("plans.start_on"), _k(MILE, "start"), value=None)
            with c3:
                date_field(tr("plans.due_on"), _k(MILE, "due"), value=plan["period_end"])
            with c4:
                choice(st.selectbox, tr("plans.status"), MILESTONE_STATUSES,
                       {s_: tr(f"plans.milestone_status.{s_}") for s_ in MILESTONE_STATUSES}, key=_k(MILE, "status"))
            st.form_submit_button(tr("plans.new_milestone"), on_click=_add_milestone, args=(actor, plan["id"]))


# ---------------------------------------------------------------------------
# resources


def _add_allocation(actor: Actor, plan_id: int) -> None:
    ss = st.session_state
    data = dict(kind=forms.value(ALLOC, "kind"), channel_id=forms.value(ALLOC, "channel"),
                team_id=forms.value(ALLOC, "team"), region=ss.get(_k(ALLOC, "region")),
                planned=to_money(ss.get(_k(ALLOC, "planned"))))
    forms.submit(ALLOC, lambda s: plans.add_allocation(s, actor, plan_id=plan_id, data=data),
                 fields=("region", "planned"), success=tr("plans.allocation_added"))


def _record_spend(actor: Actor, plan_id: int) -> None:
    ss = st.session_state
    forms.submit(SPEND, lambda s: plans.record_spend(
        s, actor, plan_id=plan_id, channel_id=forms.value(SPEND, "channel"), month=forms.value(SPEND, "month"),
        amount=to_money(ss.get(_k(SPEND, "amount")))), fields=("amount",), success=tr("plans.spend_saved"))


def resources_section(actor: Actor, plan: dict[str, Any], channels: dict[int, str], teams: dict[int, str]) -> None:
    rows = read(lambda s: plans.plan_budget(s, actor, plan_id=plan["id"]))
    money_rows = [r for r in rows if r["kind"] == "money"]
    people_rows = [r for r in rows if r["kind"] == "people"]
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**{tr('plans.money')}**")
        if money_rows:
            frame = pd.DataFrame(money_rows)
            st.altair_chart(charts.budget_chart(frame, planned_label=tr("plans.planned"), spent_label=tr("plans.spent"),
                                                over_label=tr("plans.over_budget"), locale=current_locale()),
                            width="stretch")
            over = [r["label"] for r in money_rows if r["over_budget"]]
            if over:
                st.error(f"{tr('plans.over_budget')}: " + ", ".join(plain(x) for x in over))
        else:
            st.caption(tr("plans.no_allocations"))
    with right:
        st.markdown(f"**{tr('plans.people')}**")
        if people_rows:
            data_table(pd.DataFrame([{tr("plans.team"): r["label"], tr("plans.planned"): number(r["planned"]),
                                      tr("plans.spent"): number(r["spent"])} for r in people_rows]))
        else:
            st.caption("—")
    if not plan["editable"]:
        return
    c_alloc, c_spend = st.columns(2)
    with c_alloc:
        forms.messages(ALLOC, {"planned": tr("plans.planned"), "team_id": tr("plans.team"), "kind": tr("plans.kind")})
        with st.form(f"{ALLOC}_form_{plan['id']}"):
            st.markdown(f"**{tr('plans.new_allocation')}**")
            c1, c2 = st.columns(2)
            with c1:
                choice(st.selectbox, tr("plans.kind"), ("money", "people"),
                       {"money": tr("plans.money"), "people": tr("plans.people")}, key=_k(ALLOC, "kind"))
                opts_c: dict[Any, str] = {None: "—", **channels}
                choice(st.selectbox, tr("plans.channel"), list(opts_c), opts_c, key=_k(ALLOC, "channel"))
            with c2:
                opts_t: dict[Any, str] = {None: "—", **teams}
                choice(st.selectbox, tr("plans.team"), list(opts_t), opts_t, key=_k(ALLOC, "team"))
                st.text_input(tr("plans.region"), key=_k(ALLOC, "region"), max_chars=60)
            st.number_input(tr("plans.planned"), value=None, step=100.0, format="%.2f", key=_k(ALLOC, "planned"))
            st.form_submit_button(tr("plans.new_allocation"), on_click=_add_allocation, args=(actor, plan["id"]))
    with c_spend:
        forms.messages(SPEND, {"month": tr("plans.month"), "amount": tr("plans.amount"),
                               "channel_id": tr("plans.channel")})
        if channels:
            with st.form(f"{SPEND}_form_{plan['id']}"):
                st.markdown(f"**{tr('plans.record_spend')}**")
                choice(st.selectbox, tr("plans.channel"), list(channels), channels, key=_k(SPEND, "channel"))
                months = plans.plan_months(plan["period_start"], plan["period_end"])
                choice(st.selectbox, tr("plans.month"), months, {m: f"{m:%Y-%m}" for m in months},
                       key=_k(SPEND, "month"))
                st.number_input(tr("plans.amount"), value=None, step=100.0, format="%.2f", key=_k(SPEND, "amount"))
                st.form_submit_button(tr("plans.record_spend"), on_click=_record_spend, args=(actor, plan["id"]))
