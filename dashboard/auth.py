"""Sign-in, first-run setup, the account block in the sidebar and the role gate for pages.

Keeping a user signed in across a browser refresh
-------------------------------------------------
Streamlit forgets ``st.session_state`` when the browser reloads, and it cannot set a cookie
from Python (``st.context.cookies`` is read-only; writing one needs a JavaScript component,
which we do not add). So the signed token lives in the URL as the query parameter ``?s=``:

- On sign-in we issue a token (``services.auth.issue_token``: itsdangerous-signed id of a
  ``user_session`` row, expiring after the ``session_days`` setting) and put it in
  ``st.query_params``.
- A page switch through ``st.navigation`` / ``st.switch_page`` drops the app's query
  parameters from the URL, so ``restore_session()`` — called by ``streamlit_app.py`` at the
  top of every run — puts the token back. (Checked with Streamlit 1.67 in Chromium: after
  sign-in, a switch to another page and a reload, the user is still signed in; the source
  of ``st.switch_page`` confirms it clears all but the embed parameters.)
- On a fresh browser session (refresh, bookmark, new tab with the URL) the token is read
  from the URL and checked against the database on every run, so a revoked session,
  a deactivated user or a changed role takes effect at the next click.
- Logout revokes the ``user_session`` row and removes ``s`` from the URL.

Trade-off: a URL with a token signs in whoever opens it until it expires or the user signs
out — as a session cookie would if copied. Tokens expire, are revoked by logout, and carry
only a random session id (never the password or the user id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import streamlit as st
from sqlalchemy import select
from sqlmodel import Session

from dashboard.i18n import LANGUAGE_NAMES, current_locale, set_locale, tr
from dashboard.state import current_actor, get_engine, set_actor
from dashboard.text import plain
from services import auth as auth_service
from services import settings as company_settings
from services import users as user_service
from services.access import Actor
from services.db import is_empty, session_scope
from services.errors import DomainError, PermissionDenied, ValidationError
from services.i18n import LOCALES
from services.models import User

TOKEN_PARAM = "s"
TOKEN_KEY = "auth_token"
LOCALE_CHOSEN_KEY = "locale_chosen"


# ---------------------------------------------------------------------------
# navigation mode


def ensure_navigation_mode() -> None:
    """Leave Streamlit's legacy "pages/ folder" mode before anything is drawn.

    Our page scripts live in ``pages/`` (docs/ARCHITECTURE.md) but are routed by ``st.navigation``.
    Streamlit 1.67 decides per process whether a ``pages/`` folder means the legacy
    multipage mode, and only a call to ``st.navigation`` switches that off. So the very first
    run after the server starts goes through legacy mode: a deep link runs the page script
    directly (without the entry point's gate and menu), and widgets drawn in that run get
    other ids, so the first click is lost. Switching the flag off and rerunning once puts
    that run on the normal path; afterwards this is a no-op."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - other Streamlit versions
        return
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


# ---------------------------------------------------------------------------
# session keeping


def _url_token() -> str | None:
    try:
        value = st.query_params.get(TOKEN_PARAM)
    except Exception:
        return None
    return value or None


def restore_session() -> Actor | None:
    """The signed-in Actor for this run, re-checked against the database when a token is
    known (session state or URL); keeps the token in the URL. Returns the Actor in session
    state when there is no token (AppTest sets one directly)."""
    token = st.session_state.get(TOKEN_KEY) or _url_token()
    if not token:
        return current_actor()
    with session_scope(get_engine()) as s:
        actor = auth_service.actor_from_token(s, token)
        if actor is not None:
            actor = _keep_browser_language(s, actor)
    if actor is None:
        _forget()
        return None
    previous = current_actor()
    set_actor(actor)
    st.session_state[TOKEN_KEY] = token
    if previous is None and not st.session_state.get(LOCALE_CHOSEN_KEY):
        set_locale(actor.locale)
    if _url_token() != token:
        st.query_params[TOKEN_PARAM] = token
    return actor


def _keep_browser_language(session: Session, actor: Actor) -> Actor:
    """A user who never chose a language keeps the one this browser tab shows.

    ``Actor.from_user`` fills a missing ``User.locale`` with the company default (zh_CN);
    taken as is, signing in would switch an English browser to Chinese. So the Actor gets
    the tab's current language (sidebar choice → browser) while the profile stays unset."""
    saved = session.scalar(select(User.locale).where(User.id == actor.id))
    return actor if saved else replace(actor, locale=current_locale())


def _forget() -> None:
    set_actor(None)
    st.session_state.pop(TOKEN_KEY, None)
    if TOKEN_PARAM in st.query_params:
        del st.query_params[TOKEN_PARAM]


def _start_session(identify: Callable[[Session], Actor]) -> None:
    """Sign in the Actor that ``identify(session)`` returns (sign-in or first-run setup):
    issue the token, keep it in the URL, switch to the user's language and rerun. A refusal
    is shown with the field named; the form keeps the typing."""
    try:
        with session_scope(get_engine()) as s:
            actor = _keep_browser_language(s, identify(s))
            token = auth_service.issue_token(s, actor)
    except ValidationError as err:
        _field_errors(err, "auth")
    except PermissionDenied as err:
        st.error(plain(str(err)))
    else:
        set_actor(actor)
        st.session_state[TOKEN_KEY] = token
        st.query_params[TOKEN_PARAM] = token
        set_locale(actor.locale)
        st.rerun()


def sign_out() -> None:
    """Revoke the session, forget the user in this browser tab and drop ``?s=``."""
    token = st.session_state.get(TOKEN_KEY) or _url_token()
    if token:
        with session_scope(get_engine()) as s:
            auth_service.logout(s, token)
    _forget()


def require_actor(roles: tuple[str, ...] | None = None) -> Actor:
    """The signed-in Actor, or a message and ``st.stop()`` (not signed in, or a role the
    page is not for). Pages start with ``actor = require_actor()``."""
    ensure_navigation_mode()
    actor = current_actor() or restore_session()
    if actor is None:
        st.warning(tr("auth.sign_in_required"))
        st.stop()
    if roles and actor.role not in roles:
        st.error(tr("auth.no_access"))
        st.stop()
    return actor


# ---------------------------------------------------------------------------
# language


def _on_language_change(widget_key: str) -> None:
    chosen = st.session_state.get(widget_key)
    if not chosen:
        return
    set_locale(chosen)
    st.session_state[LOCALE_CHOSEN_KEY] = True
    actor = current_actor()
    if actor is not None and actor.id is not None:
        try:
            with session_scope(get_engine()) as s:
                set_actor(user_service.set_own_locale(s, actor, locale=chosen))
        except DomainError:
            pass  # the choice still holds for this browser tab


def language_switch(container: Any = None, *, key: str = "lang_switch") -> str:
    """中文 / English switch; saves the choice to the signed-in user's profile."""
    box = container or st
    st.session_state[key] = current_locale()
    box.radio(
        tr("common.language"),
        options=list(LOCALES),
        format_func=lambda v: LANGUAGE_NAMES.get(v, v),
        horizontal=True,
        key=key,
        on_change=_on_language_change,
        args=(key,),
    )
    return current_locale()


# ---------------------------------------------------------------------------
# screens


def _field_errors(err: ValidationError, prefix: str) -> None:
    for field, message in err.errors.items():
        st.error(f"{tr(f'{prefix}.{field}')}: {plain(message)}")


def _demo_logins() -> list[tuple[str, str]] | None:
    """(username, role) of the demo logins when the company is in demo mode, else None."""
    with session_scope(get_engine()) as s:
        if not company_settings.get(s, "demo_mode"):
            return None
        rows = s.execute(
            select(User.username, User.role).where(User.active.is_(True)).order_by(User.id)
        ).all()
    order = {"admin": 0, "director": 1, "manager": 2, "rep": 3}
    rows = sorted(rows, key=lambda r: (order.get(r[1], 9), len(r[0]), r[0]))
    picked: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for username, role in rows:
        if seen.get(role, 0) < (1 if role in ("admin", "director") else 2):
            picked.append((username, role))
            seen[role] = seen.get(role, 0) + 1
    return picked


def sign_in_screen() -> None:
    """The sign-in page: username, password, language; demo logins in demo mode."""
    with st.columns([1, 1.6, 1])[1]:
        _sign_in_form()


def _sign_in_form() -> None:
    st.title(tr("app.name"))
    language_switch(key="lang_switch_signin")
    with st.form("sign_in"):
        st.subheader(tr("auth.sign_in"))
        username = st.text_input(tr("auth.username"), key="signin_username")
        password = st.text_input(tr("auth.password"), type="password", key="signin_password")
        submitted = st.form_submit_button(tr("auth.sign_in"), type="primary")
    if submitted:
        def check(s: Session) -> Actor:
            actor = auth_service.authenticate(s, username=username, password=password, locale=current_locale())
            if st.session_state.get(LOCALE_CHOSEN_KEY) and actor.locale != current_locale():
                actor = user_service.set_own_locale(s, actor, locale=current_locale())
            return actor

        _start_session(check)
    logins = _demo_logins()
    if logins:
        from services.demo import DEMO_PASSWORD

        with st.container(border=True):
            st.markdown(f"**{tr('auth.demo_logins')}**")
            st.caption(tr("auth.demo_password", password=DEMO_PASSWORD))
            st.table({tr("auth.username"): [u for u, _ in logins], tr("auth.role"): [tr(f"auth.role_{r}") for _, r in logins]})


def _progress_callback(bar) -> Callable[..., None]:
    """Adapts the demo builder's progress reports — (fraction), (fraction, text),
    (done, total) or (done, total, text) — to ``st.progress``."""

    def report(*args: Any, **kwargs: Any) -> None:
        numbers = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
        texts = [a for a in args if isinstance(a, str)] + [v for v in kwargs.values() if isinstance(v, str)]
        if len(numbers) >= 2 and numbers[1]:
            fraction = numbers[0] / numbers[1]
        elif numbers:
            fraction = numbers[0] if numbers[0] <= 1 else numbers[0] / 100
        else:
            fraction = kwargs.get("fraction", 0) or 0
        bar.progress(min(1.0, max(0.0, float(fraction))), text=texts[0] if texts else tr("auth.demo_loading"))

    return report


def setup_screen() -> None:
    """First run on an empty database: create the admin account or load the demo company."""
    st.title(tr("auth.setup_title"))
    st.write(tr("auth.setup_intro"))
    language_switch(key="lang_switch_setup")
    left, right = st.columns(2, gap="large")
    with left, st.form("setup_admin"):
        st.subheader(tr("auth.setup_admin"))
        username = st.text_input(tr("auth.username"), value="admin", key="setup_username")
        display_name = st.text_input(tr("auth.display_name"), key="setup_display_name")
        password = st.text_input(tr("auth.password"), type="password", key="setup_password")
        confirm = st.text_input(tr("auth.password_confirm"), type="password", key="setup_confirm")
        create = st.form_submit_button(tr("auth.setup_create"), type="primary")
    with right:
        st.subheader(tr("auth.demo_title"))
        st.write(tr("auth.demo_intro"))
        load_demo = st.button(tr("auth.demo_load"), key="setup_load_demo")
    if create:
        if password != confirm:
            st.error(f"{tr('auth.password_confirm')}: {tr('auth.password_mismatch')}")
            return
        _start_session(lambda s: auth_service.setup_admin(s, username=username, display_name=display_name,
                                                          password=password, locale=current_locale()))
    if load_demo:
        engine = get_engine()
        if not is_empty(engine):
            st.rerun()
        from services.demo import build_demo

        bar = right.progress(0.0, text=tr("auth.demo_loading"))
        build_demo(engine, scale="small", lang=current_locale(), progress=_progress_callback(bar))
        bar.progress(1.0, text=tr("auth.demo_done"))
        st.rerun()


# ---------------------------------------------------------------------------
# sidebar


def account_sidebar(actor: Actor) -> None:
    """Who is signed in (name and role), the language switch and the sign-out button."""
    # no st.divider(): st.navigation already rules off the menu, a second rule left an empty band
    # (usernames are [a-z0-9._-], safe in a code span; display names are user text)
    with st.sidebar:
        st.markdown(f"**{plain(actor.display_name)}**  \n{tr(f'auth.role_{actor.role}')} · `{actor.username}`")
        language_switch(key="lang_switch_sidebar")
        if st.button(tr("auth.sign_out"), key="sign_out", icon=":material/logout:"):
            sign_out()
            st.rerun()
