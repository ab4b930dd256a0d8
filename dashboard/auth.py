"""Sign-in, first-run setup, the account block in the sidebar and the role gate for pages.

Keeping a user signed in across a browser refresh
-------------------------------------------------
Streamlit forgets ``st.session_state`` when the browser reloads. The signed session token
(``services.auth.issue_token``) is therefore kept in a cookie, never in the address bar, so a
URL pasted into a chat or seen on a shared screen signs nobody in.

- Reading needs no component: ``st.context.cookies`` holds the cookies the browser sent when
  it opened the app's connection, so the first run after a refresh already knows the token.
- Writing needs JavaScript (Streamlit has no API to set a cookie from Python). The
  cookie components on PyPI (``extra-streamlit-components``' CookieManager,
  ``streamlit-cookies-controller``) do it with ``document.cookie`` from an iframe component
  and also read cookies through that iframe, which returns nothing on the first run of a
  session (the sign-in screen flashes and the first click is lost). We read through
  ``st.context.cookies`` and write with one fixed line of JavaScript in a Streamlit 1.67
  ``st.components.v2`` component (no iframe, no extra package); the token goes in as data,
  never as code. The cookie is ``SameSite=Strict`` (``Secure`` over https) and lives as long
  as the session may (setting ``session_days``).
- Set from JavaScript, the cookie cannot be ``HttpOnly``; the app renders no HTML or script
  from data (``dashboard.text.plain``), and the token alone is useless once the session is
  revoked (sign-out, deactivation, password change) or expired.
- Every run checks the token against the database, so a revoked session, a deactivated
  user or a changed role takes effect at the next click. Sign-out revokes the row and
  deletes the cookie. An old ``?s=`` in the URL is removed and never honoured.
- A second cookie marks the browser as one the user signed in from (``auth.device_token``):
  wrong sign-ins from it are counted apart from everyone else's, so nobody can lock the
  owner out of their own browser (see ``services.auth``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import streamlit as st
from sqlalchemy import select
from sqlmodel import Session

from dashboard.i18n import LANGUAGE_NAMES, current_locale, set_locale, tr
from dashboard.runner import run_service, show_outcome
from dashboard.state import current_actor, get_engine, set_actor
from dashboard.text import plain
from services import auth as auth_service
from services import settings as company_settings
from services import users as user_service
from services.access import Actor
from services.db import is_empty, read_scope, session_scope
from services.errors import DomainError, PermissionDenied, ValidationError
from services.i18n import LOCALES
from services.models import User

OLD_TOKEN_PARAM = "s"  # where earlier versions kept the token: removed from the URL on sight
TOKEN_KEY = "auth_token"
LOCALE_CHOSEN_KEY = "locale_chosen"
SESSION_COOKIE = "salesops_session"
DEVICE_COOKIE = "salesops_device"
COOKIES_KEY = "auth_cookies"  # {cookie name: (value or None to delete, max age in seconds)}

# Fixed code: sets (or, with maxAge 0, deletes) the cookies it is given as data.
_COOKIE_JS = """
export default function (component) {
  const cookies = (component.data && component.data.cookies) || [];
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  for (const c of cookies) {
    document.cookie = c.name + "=" + encodeURIComponent(c.value || "") + "; Path=/; Max-Age=" + c.maxAge +
      "; SameSite=Strict" + secure;
  }
}
"""
_cookie_writer = st.components.v2.component("salesops_cookie_writer", js=_COOKIE_JS)


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


def browser_cookie(name: str) -> str | None:
    """A cookie the browser sent when this session's connection opened."""
    try:
        value = st.context.cookies.get(name)
    except Exception:
        return None
    return value if isinstance(value, str) and value else None  # (AppTest's stand-in client has none)


def _drop_old_url_token() -> None:
    try:
        if OLD_TOKEN_PARAM in st.query_params:
            del st.query_params[OLD_TOKEN_PARAM]
    except Exception:
        pass


def _want_cookie(name: str, value: str | None, max_age: int) -> None:
    st.session_state.setdefault(COOKIES_KEY, {})[name] = (value, max_age if value else 0)


def write_cookies() -> None:
    """Put the cookies this session wants into the browser. Mounted on every run until a
    refresh shows the browser has them (a run can be cut short by a rerun before its
    JavaScript ran, so one mount is not enough); invisible."""
    wanted = st.session_state.get(COOKIES_KEY) or {}
    changes = [{"name": name, "value": value or "", "maxAge": age}
               for name, (value, age) in sorted(wanted.items()) if browser_cookie(name) != value]
    if changes:
        _cookie_writer(key="salesops_cookie_writer", data={"cookies": changes}, height=0)


def restore_session() -> Actor | None:
    """The signed-in Actor for this run, re-checked against the database when a token is
    known (session state or the browser's cookie). Returns the Actor in session state when
    there is no token (AppTest sets one directly)."""
    _drop_old_url_token()
    token = st.session_state.get(TOKEN_KEY)
    if token is None and COOKIES_KEY not in st.session_state:  # signed out in this tab: the old cookie is dead
        token = browser_cookie(SESSION_COOKIE)
    if not token:
        return current_actor()
    with read_scope(get_engine()) as s:
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
    _want_cookie(SESSION_COOKIE, None, 0)


def _start_session(actor: Actor) -> None:
    """Sign in ``actor`` (after the password check or first-run setup): issue the token,
    have the browser keep it (and mark the browser as the user's), switch to the user's
    language and rerun."""
    with session_scope(get_engine()) as s:
        token = auth_service.issue_token(s, actor)
        days = auth_service.token_days(s)
    set_actor(actor)
    st.session_state[TOKEN_KEY] = token
    _want_cookie(SESSION_COOKIE, token, days * 86400)
    if not auth_service.device_matches(browser_cookie(DEVICE_COOKIE), actor.username):
        _want_cookie(DEVICE_COOKIE, auth_service.device_token(actor.username), auth_service.DEVICE_DAYS * 86400)
    set_locale(actor.locale)
    st.rerun()


def _identified(identify: Callable[[], Actor]) -> Actor | None:
    """``identify()`` (sign-in or setup), or None with the refusal on screen — the field named,
    the form keeping the typing."""
    try:
        return identify()
    except ValidationError as err:
        _field_errors(err, "auth")
    except PermissionDenied as err:
        st.error(plain(str(err)))
    return None


def sign_out() -> None:
    """Revoke the session, forget the user in this browser tab and delete the cookie."""
    token = st.session_state.get(TOKEN_KEY)
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
    with read_scope(get_engine()) as s:
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
        def check() -> Actor:
            actor = auth_service.authenticate(get_engine(), username=username, password=password,
                                              device=browser_cookie(DEVICE_COOKIE), locale=current_locale())
            if st.session_state.get(LOCALE_CHOSEN_KEY) and actor.locale != current_locale():
                with session_scope(get_engine()) as s:
                    return user_service.set_own_locale(s, actor, locale=current_locale())
            with read_scope(get_engine()) as s:
                return _keep_browser_language(s, actor)

        actor = _identified(check)
        if actor is not None:
            _start_session(actor)
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
        def create_admin() -> Actor:
            with session_scope(get_engine()) as s:
                return auth_service.setup_admin(s, username=username, display_name=display_name,
                                                password=password, locale=current_locale())

        actor = _identified(create_admin)
        if actor is not None:
            _start_session(actor)
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
    """Who is signed in (name and role), the language switch, changing one's own password
    and the sign-out button."""
    # no st.divider(): st.navigation already rules off the menu, a second rule left an empty band
    # (usernames are [a-z0-9._-], safe in a code span; display names are user text)
    with st.sidebar:
        st.markdown(f"**{plain(actor.display_name)}**  \n{tr(f'auth.role_{actor.role}')} · `{actor.username}`")
        language_switch(key="lang_switch_sidebar")
        with st.popover(tr("auth.change_password"), icon=":material/key:", width="stretch"):
            _change_password_form(actor)
        if st.button(tr("auth.sign_out"), key="sign_out", icon=":material/logout:"):
            sign_out()
            st.rerun()


def _change_password_form(actor: Actor) -> None:
    labels = {"current_password": tr("auth.current_password"), "password": tr("auth.new_password")}
    with st.form("change_password", clear_on_submit=False):
        current = st.text_input(labels["current_password"], type="password", key="cp_current")
        new = st.text_input(labels["password"], type="password", key="cp_new")
        repeat = st.text_input(tr("auth.password_confirm"), type="password", key="cp_repeat")
        submitted = st.form_submit_button(tr("auth.change_password"), type="primary")
    if not submitted:
        return
    if new != repeat:
        st.error(f"{tr('auth.password_confirm')}: {tr('auth.password_mismatch')}")
        return
    token = st.session_state.get(TOKEN_KEY)
    outcome = run_service(lambda s: user_service.change_own_password(
        s, actor, current_password=current, new_password=new, keep_session=auth_service.session_id_of(s, token)))
    show_outcome(outcome, labels, success=tr("auth.password_changed"))
