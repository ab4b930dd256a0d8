"""The one way a form saves, built on ``dashboard.runner``.

A form's submit button calls ``submit(form, work, fields=…, success=…)`` from its
``on_click`` callback (it runs before the next script run, with the submitted values in
``st.session_state``):

- every submit first forgets the form's previous outcome, so no stale "saved" or "required"
  stays on screen after a later submit;
- the service call runs through ``runner.run_service`` (one transaction, the plain busy
  sentence, a conflict with its values);
- success clears the form's widgets (they come back empty, so a second click cannot create
  the same thing again) and leaves the confirmation for the next run;
- a refusal keeps everything the user typed and stores the messages: ``messages(form)``
  shows the ones about the whole call, ``field_error(form, …)`` each field's own under it.

``st.form(clear_on_submit=True)`` is not used: it would wipe the input even when the
service refused it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import streamlit as st
from sqlmodel import Session

from dashboard.runner import Outcome, run_service, show_outcome
from dashboard.text import plain

_OUTCOME = "__outcome"
_FLASH = "__flash"


def widget_key(form: str, name: str) -> str:
    """The session key of one field of a form."""
    return f"{form}_{name}"


def value(form: str, name: str) -> Any:
    """A field's submitted value, read in a submit callback (a choice's newest option)."""
    from dashboard.widgets import chosen

    return chosen(widget_key(form, name))


def clear(form: str, names: Iterable[str]) -> None:
    """Forget the values of a form's fields (their widgets come back at their defaults),
    also a choice's widget in every language (``widgets.choice``)."""
    ss = st.session_state
    for name in names:
        key = widget_key(form, name)
        for k in [k for k in ss if k == key or str(k).startswith(key + "__")]:
            del ss[k]


def submit(form: str, work: Callable[[Session], Any], *, fields: Iterable[str] = (),
           success: str | Callable[[Any], str] | None = None, keep: Iterable[str] = ()) -> Outcome:
    """Run ``work(session)`` for ``form`` (see the module docstring). ``fields`` are the
    form's field names, cleared on success except ``keep``; ``success`` is the confirmation
    (or a function of the service's result giving it)."""
    ss = st.session_state
    ss.pop(form + _OUTCOME, None)
    ss.pop(form + _FLASH, None)
    outcome = run_service(work)
    if outcome.ok:
        kept = set(keep)
        clear(form, [f for f in fields if f not in kept])
        text = success(outcome.value) if callable(success) else success
        if text:
            ss[form + _FLASH] = text
    else:
        ss[form + _OUTCOME] = outcome
    return outcome


def refuse(form: str, outcome: Outcome) -> None:
    """Store a refusal the page found itself (before any service call) like a service's."""
    st.session_state.pop(form + _FLASH, None)
    st.session_state[form + _OUTCOME] = outcome


def outcome(form: str) -> Outcome | None:
    """The last refused submit of ``form`` (None after a success or before any submit)."""
    return st.session_state.get(form + _OUTCOME)


def field_errors(form: str) -> dict[str, str]:
    found = outcome(form)
    return dict(found.field_errors) if found else {}


def field_error(form: str, *fields: str) -> None:
    """Each named field's message, in red, under the field."""
    errors = field_errors(form)
    for f in fields:
        if f in errors:
            st.caption(f":red[{plain(errors[f])}]")


def messages(form: str, labels: Mapping[str, str] | None = None, *, fields: Iterable[str] | None = None) -> None:
    """The confirmation of the last successful submit (shown once), or the refusal: its
    message about the whole call and — for fields not shown under their widget (all
    fields not in ``fields``) — one labelled line per field."""
    text = st.session_state.pop(form + _FLASH, None)
    if text:
        st.success(plain(text))
    found = outcome(form)
    if found is None:
        return
    shown_below = set(fields or ())
    rest = Outcome(message=found.message,
                   field_errors={f: m for f, m in found.field_errors.items() if f not in shown_below},
                   row_errors=found.row_errors)
    if rest.ok:  # every message sits under its field: say once that nothing was saved
        rest = Outcome(message=_nothing_saved())
    show_outcome(rest, labels)


def _nothing_saved() -> str:
    from dashboard.i18n import tr

    return tr("common.fix_errors")


def flash(key: str, text: str) -> None:
    """Leave a confirmation for ``messages(key)`` on the next run (e.g. from a button)."""
    st.session_state[key + _FLASH] = text
