"""The Training page's drawing: the rep's own courses (assigned, due, done; progress and
completion) with the cases for their open deals; the manager's dashboard, assignment,
catalogue and scores, coaching (recommended course, one-click assign, before / after), the
case library and team events. Every number comes from ``services.training``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import forms
from dashboard.activity_views import members
from dashboard.i18n import choose_placeholder, money, number, percent, tr
from dashboard.runner import read
from dashboard.widgets import choice, company_today, data_table, date_field, number_field
from services import training, users
from services.access import Actor
from services.models import COURSE_CATEGORIES, EVENT_KINDS
from services.periods import Period

STATUSES = ("assigned", "in_progress", "completed", "failed")


def _status(row: dict[str, Any]) -> str:
    text = tr(f"training.status.{row['status']}")
    return f"{text} · {tr('training.page.overdue')}" if row["overdue"] else text


def enrollment_table(rows: list[dict[str, Any]], *, with_name: bool) -> None:
    if not rows:
        st.info(tr("training.page.nothing_assigned"))
        return
    frame = pd.DataFrame([{**({tr("common.name"): r["name"]} if with_name else {}),
                           tr("training.page.course"): r["course"],
                           tr("training.page.category"): tr(f"training.category.{r['category']}"),
                           tr("training.page.due"): r["due_on"], tr("common.status"): _status(r),
                           tr("training.page.progress"): f"{r['progress']}%",
                           tr("training.page.score"): "—" if r["score"] is None else f"{r['score']}/{r['max_score']}",
                           tr("training.page.certified"): r["certified_on"]} for r in rows])
    data_table(frame)


# ---------------------------------------------------------------------------
# the rep's own view


def my_section(actor: Actor) -> None:
    rows = read(lambda s: training.list_enrollments(s, actor, user_id=actor.id))
    todo = [r for r in rows if r["status"] in ("assigned", "in_progress")]
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("training.page.assigned"), len(todo))
    c2.metric(tr("training.page.overdue"), sum(1 for r in rows if r["overdue"]))
    c3.metric(tr("training.page.done"), sum(1 for r in rows if r["status"] == "completed"))
    enrollment_table(rows, with_name=False)
    forms.messages("progress")
    for r in todo:
        with st.expander(f"{r['course']} · {tr('training.page.due')} {r['due_on'] or '—'}"):
            value = st.slider(tr("training.page.progress"), 0, 100, int(r["progress"]), step=10, key=f"progress_{r['id']}")
            b1, b2 = st.columns(2)
            b1.button(tr("training.page.save_progress"), key=f"progress_save_{r['id']}", on_click=forms.submit,
                      args=("progress", lambda s, e=r["id"], v=value: training.report_progress(
                          s, actor, enrollment_id=e, progress=v)), kwargs={"success": tr("common.saved")})
            b2.button(tr("training.page.mark_done"), key=f"progress_done_{r['id']}", on_click=forms.submit,
                      args=("progress", lambda s, e=r["id"]: training.report_progress(
                          s, actor, enrollment_id=e, progress=100, completed=True)),
                      kwargs={"success": tr("training.page.done_saved")})
    st.subheader(tr("training.page.cases_for_deals"))
    cases = read(lambda s: training.cases_for_open_deals(s, actor))
    if not cases:
        st.info(tr("training.page.no_cases_for_deals"))
    for c in cases:
        case_card(c, extra=tr("training.page.for_deal", deal=c["for_deal"]))


# ---------------------------------------------------------------------------
# managers


def dashboard_section(actor: Actor) -> None:
    dash = read(lambda s: training.training_dashboard(s, actor))
    total = dash["total"]
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("training.page.completion"), percent(total["rate"]))
    c2.metric(tr("training.page.assigned"), number(total["assigned"]))
    c3.metric(tr("training.page.overdue"), number(len(dash["overdue"])))

    def rates(rows, key_label):
        return pd.DataFrame([{key_label: r.get("team") or r.get("course"), tr("training.page.assigned"): r["assigned"],
                              tr("training.page.done"): r["completed"],
                              tr("training.page.completion"): percent(r["rate"])} for r in rows])

    left, right = st.columns(2)
    with left:
        st.subheader(tr("training.page.by_team"))
        data_table(rates(dash["teams"], tr("common.team")))
    with right:
        st.subheader(tr("training.page.by_course"))
        data_table(rates(dash["courses"], tr("training.page.course")))
    st.subheader(tr("training.page.scores"))
    st.bar_chart(pd.DataFrame(dash["scores"]).set_index("band"), y="count", x_label=tr("training.page.score"),
                 y_label=tr("training.page.count"))
    st.subheader(tr("training.page.overdue"))
    enrollment_table(dash["overdue"], with_name=True)


def _courses(actor: Actor) -> dict[int, str]:
    return {c["id"]: f"{c['title']} ({tr('training.category.' + c['category'])})"
            for c in read(lambda s: training.list_courses(s, actor))}


def assign_section(actor: Actor) -> None:
    form = "assign"
    courses = _courses(actor)
    if not courses:
        st.info(tr("training.page.no_courses"))
        return
    teams = {t.id: t.name for t in read(lambda s: users.list_teams(s, actor)) if t.kind == "team"}
    reps = dict(members(actor))
    choice(st.selectbox, tr("training.page.course"), list(courses), courses, key=forms.widget_key(form, "course_id"))
    st.multiselect(tr("training.page.teams"), list(teams), format_func=teams.__getitem__,
                   key=forms.widget_key(form, "team_ids"), placeholder=choose_placeholder(teams, many=True))
    st.multiselect(tr("training.page.reps"), list(reps), format_func=reps.__getitem__,
                   key=forms.widget_key(form, "user_ids"), placeholder=choose_placeholder(reps, many=True))
    forms.field_error(form, "user_ids")
    date_field(tr("training.page.due"), forms.widget_key(form, "due_on"), value=company_today() + timedelta(days=30))
    forms.field_error(form, "due_on")

    def assign(s):
        return training.assign_course(s, actor, course_id=forms.value(form, "course_id"),
                                      team_ids=forms.value(form, "team_ids") or [],
                                      user_ids=forms.value(form, "user_ids") or [], due_on=forms.value(form, "due_on"))

    st.button(tr("training.page.assign"), key="assign_btn", on_click=forms.submit, args=(form, assign),
              kwargs={"fields": ("team_ids", "user_ids"), "keep": ("course_id",),
                      "success": lambda out: tr("training.page.assigned_n", n=out["assigned"] + out["updated"])})
    forms.messages(form, fields=("user_ids", "due_on"))
    st.subheader(tr("training.page.team_progress"))
    enrollment_table(read(lambda s: training.list_enrollments(s, actor)), with_name=True)


def courses_section(actor: Actor) -> None:
    data_table(pd.DataFrame([{tr("training.page.course"): c["title"],
                              tr("training.page.category"): tr(f"training.category.{c['category']}"),
                              tr("training.page.hours"): number(c["duration_hours"], 1),
                              tr("training.page.passing"): f"{c['passing_score']}/{c['max_score']}",
                              tr("training.page.material"): c["material_url"] or c["notes"] or "—"}
                             for c in read(lambda s: training.list_courses(s, actor))]))
    st.subheader(tr("training.page.record_score"))
    form = "score"
    open_rows = [r for r in read(lambda s: training.list_enrollments(s, actor)) if r["score"] is None]
    if open_rows:
        labels = {r["id"]: f"{r['name']} · {r['course']} ({tr('training.status.' + r['status'])})" for r in open_rows}
        choice(st.selectbox, tr("training.page.enrollment"), list(labels), labels,
               key=forms.widget_key(form, "enrollment_id"))
        number_field(tr("training.page.score"), forms.widget_key(form, "score"), value=None)
        forms.field_error(form, "score")
        st.button(tr("training.page.save_score"), key="score_btn", on_click=forms.submit,
                  args=(form, lambda s, form=form: training.record_score(
                      s, actor, enrollment_id=forms.value(form, "enrollment_id"), score=forms.value(form, "score"))),
                  kwargs={"fields": ("score",), "success": lambda out: tr(f"training.page.score_{out['status']}")})
        forms.messages(form, fields=("score",))
    session_form(actor)
    st.subheader(tr("training.page.add_course"))
    form = "course_add"
    fields = ("title", "category", "duration_hours", "passing_score", "max_score", "material_url", "notes")
    st.text_input(tr("training.page.course"), key=forms.widget_key(form, "title"))
    forms.field_error(form, "title")
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        choice(st.selectbox, tr("training.page.category"), COURSE_CATEGORIES,
               {c: tr(f"training.category.{c}") for c in COURSE_CATEGORIES}, key=forms.widget_key(form, "category"))
    with c2:
        number_field(tr("training.page.hours"), forms.widget_key(form, "duration_hours"), value=2.0, places=1, step=0.5)
        forms.field_error(form, "duration_hours")
    with c3:
        number_field(tr("training.page.passing_score"), forms.widget_key(form, "passing_score"), value=60)
        forms.field_error(form, "passing_score")
    with c4:
        number_field(tr("training.page.max_score"), forms.widget_key(form, "max_score"), value=100)
        forms.field_error(form, "max_score")
    st.text_input(tr("training.page.material"), key=forms.widget_key(form, "material_url"), placeholder="https://")
    forms.field_error(form, "material_url")
    st.text_area(tr("common.notes"), key=forms.widget_key(form, "notes"))
    st.button(tr("common.save"), key="course_add_btn", on_click=forms.submit,
              args=(form, lambda s: training.add_course(s, actor, values={f: forms.value(form, f) for f in fields})),
              kwargs={"fields": fields, "success": tr("common.saved")})
    forms.messages(form, {"category": tr("training.page.category"), "notes": tr("common.notes")},
                   fields=("title", "duration_hours", "passing_score", "max_score", "material_url"))


def session_form(actor: Actor) -> None:
    """Record a held session: course, date, trainer, attendees; the sessions held so far."""
    st.subheader(tr("training.page.sessions"))
    held = read(lambda s: training.list_sessions(s, actor))
    if held:
        names = dict(members(actor))
        data_table(pd.DataFrame([{tr("common.date"): x["held_on"], tr("training.page.course"): x["course"],
                                  tr("training.page.trainer"): x["trainer"],
                                  tr("training.page.attendees"): ", ".join(names.get(i, "") for i in x["attendees"])}
                                 for x in held[:20]]))
    form = "session"
    courses = _courses(actor)
    reps = dict(members(actor))
    c1, c2, c3 = st.columns([3, 2, 2])
    with c1:
        choice(st.selectbox, tr("training.page.course"), list(courses), courses, key=forms.widget_key(form, "course_id"))
    with c2:
        date_field(tr("common.date"), forms.widget_key(form, "held_on"), value=company_today())
    with c3:
        st.text_input(tr("training.page.trainer"), key=forms.widget_key(form, "trainer"))
        forms.field_error(form, "trainer")
    st.multiselect(tr("training.page.attendees"), list(reps), format_func=reps.__getitem__,
                   key=forms.widget_key(form, "attendee_ids"), placeholder=choose_placeholder(reps, many=True))
    st.button(tr("training.page.record_session"), key="session_btn", on_click=forms.submit,
              args=(form, lambda s, form=form: training.add_session(
                  s, actor, course_id=forms.value(form, "course_id"), held_on=forms.value(form, "held_on"),
                  trainer=forms.value(form, "trainer"), attendee_ids=forms.value(form, "attendee_ids") or [])),
              kwargs={"fields": ("trainer", "attendee_ids"), "keep": ("course_id", "held_on"),
                      "success": tr("common.saved")})
    forms.messages(form, fields=("trainer",))


KPI_FORMAT = {"win_rate": percent, "stage_conversion": percent, "activity_volume": lambda v: number(v),
              "avg_deal_size": lambda v: money(v), "cycle_length": lambda v: tr("training.page.days", n=number(v))}


def _kpi(kpi: str, value) -> str:
    return "—" if value is None else KPI_FORMAT[kpi](value)


def coaching_section(actor: Actor) -> None:
    today = company_today()
    period = Period(today - timedelta(days=90), today + timedelta(days=1))
    st.caption(tr("training.page.coaching_help"))
    rows = read(lambda s: training.coaching(s, actor, period=period))
    forms.messages("coach")
    if not rows:
        st.info(tr("common.nothing_here"))
    for r in rows:
        c1, c2, c3 = st.columns([3, 4, 2])
        c1.markdown(f"**{r['name']}** · {tr('training.kpi.' + r['kpi'])}: {_kpi(r['kpi'], r['value'])} "
                    f"({tr('training.page.team_value')} {_kpi(r['kpi'], r['team_value'])})")
        c2.markdown(f"{tr('training.category.' + r['category'])} → {r['course'] or tr('training.page.no_course')}")
        if r["course_id"]:
            c3.button(tr("training.page.assign"), key=f"coach_{r['user_id']}_{r['course_id']}", on_click=forms.submit,
                      args=("coach", lambda s, u=r["user_id"], c=r["course_id"]: training.assign_course(
                          s, actor, course_id=c, user_ids=[u], due_on=today + timedelta(days=30))),
                      kwargs={"success": tr("training.page.assigned_n", n=1)})
    done = [r for r in read(lambda s: training.list_enrollments(s, actor)) if r["completed_on"]]
    if done:
        st.subheader(tr("training.page.before_after"))
        labels = {r["id"]: f"{r['name']} · {r['course']} · {r['completed_on']}" for r in done}
        eid = choice(st.selectbox, tr("training.page.enrollment"), list(labels), labels, key="coach_before_after")
        out = read(lambda s: training.before_after(s, actor, enrollment_id=eid))
        st.caption(tr("training.page.equal_periods", days=out["days"]))
        data_table(pd.DataFrame([{tr("training.page.kpi"): tr(f"training.kpi.{k['kpi']}"),
                                  tr("training.page.before"): _kpi(k["kpi"], k["before"]),
                                  tr("training.page.after"): _kpi(k["kpi"], k["after"])} for k in out["kpis"]]))


def case_card(c: dict[str, Any], *, extra: str = "") -> None:
    head = " · ".join(x for x in (c["title"], c.get("product") or "", c.get("stage") or "",
                                  tr(f"training.outcome.{c['outcome']}"), extra) if x)
    with st.expander(head):
        for key in ("situation", "what_worked", "objections"):
            if c.get(key):
                st.markdown(f"**{tr('training.page.' + key)}** — {c[key]}")


def cases_section(actor: Actor) -> None:
    query = st.text_input(tr("common.search"), key="case_search")
    for c in read(lambda s: training.search_cases(s, actor, query=query)):
        case_card(c)
    if actor.is_manager:
        pending = read(lambda s: training.search_cases(s, actor, status="submitted"))
        if pending:
            st.subheader(tr("training.page.review"))
            forms.messages("review")
            for c in pending:
                case_card(c, extra=c["author"] or "")
                st.button(tr("training.page.publish"), key=f"publish_{c['id']}", on_click=forms.submit,
                          args=("review", lambda s, i=c["id"]: training.review_case(s, actor, case_id=i, publish=True)),
                          kwargs={"success": tr("training.page.published")})
    if actor.is_manager:
        include_form(actor)
    deals = read(lambda s: training.case_deals(s, actor))
    if not deals:
        return
    st.subheader(tr("training.page.write_case"))
    form = "case"
    labels = {d["id"]: f"{d['name']} ({tr('training.outcome.' + d['outcome'])}, {d['closed_on']})" for d in deals}
    choice(st.selectbox, tr("training.page.deal"), list(labels), labels, key=forms.widget_key(form, "deal_id"))
    fields = ("title", "situation", "what_worked", "objections")
    st.text_input(tr("training.page.case_title"), key=forms.widget_key(form, "title"))
    forms.field_error(form, "title")
    for f in fields[1:]:
        st.text_area(tr(f"training.page.{f}"), key=forms.widget_key(form, f))
        forms.field_error(form, f)
    st.button(tr("training.page.submit_case"), key="case_btn", on_click=forms.submit,
              args=(form, lambda s: training.write_case(s, actor, deal_id=forms.value(form, "deal_id"),
                                                        values={f: forms.value(form, f) for f in fields})),
              kwargs={"fields": fields, "success": tr("training.page.case_submitted")})
    forms.messages(form, fields=fields)


def include_form(actor: Actor) -> None:
    """A course includes a published case."""
    published = {c["id"]: c["title"] for c in read(lambda s: training.search_cases(s, actor))}
    courses = _courses(actor)
    if not published or not courses:
        return
    st.subheader(tr("training.page.include_case"))
    form = "include"
    c1, c2 = st.columns(2)
    with c1:
        choice(st.selectbox, tr("training.page.case_title"), list(published), published,
               key=forms.widget_key(form, "case_id"))
    with c2:
        choice(st.selectbox, tr("training.page.course"), list(courses), courses, key=forms.widget_key(form, "course_id"))
    st.button(tr("training.page.include"), key="include_btn", on_click=forms.submit,
              args=(form, lambda s, form=form: training.include_case(
                  s, actor, course_id=forms.value(form, "course_id"), case_id=forms.value(form, "case_id"))),
              kwargs={"success": tr("common.saved")})
    forms.messages(form)


def participation_form(actor: Actor, events: list[dict[str, Any]]) -> None:
    """Mark one rep as having taken part in an event, or not."""
    st.subheader(tr("training.page.participation"))
    form = "participation"
    labels = {e["id"]: f"{e['held_on']} · {e['title']}" for e in events}
    reps = dict(members(actor))
    c1, c2, c3 = st.columns([3, 2, 1])
    with c1:
        choice(st.selectbox, tr("training.page.event"), list(labels), labels, key=forms.widget_key(form, "event_id"))
    with c2:
        choice(st.selectbox, tr("training.page.reps"), list(reps), reps, key=forms.widget_key(form, "user_id"))
    with c3:
        st.checkbox(tr("training.page.took_part"), value=True, key=forms.widget_key(form, "took_part"))
    st.button(tr("common.save"), key="participation_btn", on_click=forms.submit,
              args=(form, lambda s, form=form: training.set_participation(
                  s, actor, event_id=forms.value(form, "event_id"), user_id=forms.value(form, "user_id"),
                  took_part=bool(forms.value(form, "took_part")))),
              kwargs={"keep": ("event_id",), "success": tr("common.saved")})
    forms.messages(form)


def events_section(actor: Actor) -> None:
    rows = read(lambda s: training.list_events(s, actor))
    if rows:
        data_table(pd.DataFrame([{tr("common.date"): e["held_on"], tr("training.page.event"): e["title"],
                                  tr("common.team"): e["team"] or "—", tr("training.page.kind"):
                                  tr(f"training.event_kind.{e['kind']}"),
                                  tr("training.page.participants"): e["participants"],
                                  tr("training.page.cost"): money(e["cost"], compact=False),
                                  tr("training.page.i_took_part"): tr("common.yes") if e["took_part"] else ""}
                                 for e in rows]))
    else:
        st.info(tr("common.nothing_here"))
    budgets = read(lambda s: training.plan_event_costs(s, actor))
    if budgets:
        st.subheader(tr("training.page.plan_budget"))
        data_table(pd.DataFrame([{tr("training.page.plan"): b["plan"], tr("training.page.budget"): money(b["budget"]),
                                  tr("training.page.event_cost"): money(b["event_cost"]),
                                  tr("training.page.left"): money(b["left"])} for b in budgets]))
    if not actor.is_manager:
        return
    if rows:
        participation_form(actor, rows)
    st.subheader(tr("training.page.add_event"))
    form = "event"
    teams = {t.id: t.name for t in read(lambda s: users.list_teams(s, actor)) if t.kind == "team"}
    reps = dict(members(actor))
    fields = ("title", "held_on", "team_id", "kind", "cost", "notes")
    st.text_input(tr("training.page.event"), key=forms.widget_key(form, "title"))
    forms.field_error(form, "title")
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        date_field(tr("common.date"), forms.widget_key(form, "held_on"), value=company_today())
    with c2:
        choice(st.selectbox, tr("common.team"), list(teams), teams, key=forms.widget_key(form, "team_id"))
        forms.field_error(form, "team_id")
    with c3:
        choice(st.selectbox, tr("training.page.kind"), EVENT_KINDS,
               {k: tr(f"training.event_kind.{k}") for k in EVENT_KINDS}, key=forms.widget_key(form, "kind"))
    with c4:
        st.text_input(tr("training.page.cost"), key=forms.widget_key(form, "cost"))
        forms.field_error(form, "cost")
    st.multiselect(tr("training.page.participants"), list(reps), format_func=reps.__getitem__,
                   key=forms.widget_key(form, "participant_ids"), placeholder=choose_placeholder(reps, many=True))
    st.text_area(tr("common.notes"), key=forms.widget_key(form, "notes"))
    st.button(tr("common.save"), key="event_btn", on_click=forms.submit,
              args=(form, lambda s: training.add_event(s, actor, values={f: forms.value(form, f) for f in fields},
                                                       participant_ids=forms.value(form, "participant_ids") or [])),
              kwargs={"fields": (*fields, "participant_ids"), "keep": ("team_id", "kind", "held_on"),
                      "success": tr("common.saved")})
    forms.messages(form, fields=("title", "team_id", "cost"))
