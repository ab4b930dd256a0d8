"""UI translation: ``tr(key, **params)`` in the current user's language.

Language order: the sidebar switch (session) → the user's saved setting → the browser
(``st.context.locale``) → the company default (zh_CN). Catalogs: services/locales/.
"""

from __future__ import annotations

from collections.abc import Sized

import streamlit as st

from services import i18n as _i18n

LOCALE_KEY = "locale"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def current_locale() -> str:
    chosen = st.session_state.get(LOCALE_KEY)
    if chosen:
        return _i18n.normalize_locale(chosen)
    actor = st.session_state.get("actor")
    if actor is not None and getattr(actor, "locale", None):
        return _i18n.normalize_locale(actor.locale)
    try:
        browser = st.context.locale
    except Exception:
        browser = None
    return _i18n.normalize_locale(browser)


def set_locale(locale: str) -> None:
    st.session_state[LOCALE_KEY] = _i18n.normalize_locale(locale)


def tr(key: str, **params) -> str:
    return _i18n.t(key, current_locale(), **params)


def choose_placeholder(options: Sized | None = None, *, many: bool = False) -> str:
    """Placeholder of a select box (``many``: a multiselect) in the user's language
    (Streamlit's own are "Choose an option" / "Choose options"): "请选择" / "Choose an
    option" (or one or more), or "没有可选项" when ``options`` is empty."""
    if options is not None and len(options) == 0:
        return tr("ui.no_options")
    return tr("ui.choose_many" if many else "ui.choose")


def money(value, compact: bool = True, currency: str = "CNY") -> str:
    return _i18n.format_money(value, current_locale(), currency=currency, compact=compact)


def number(value, places: int = 0) -> str:
    return _i18n.format_number(value, current_locale(), places)


def percent(value, places: int = 1) -> str:
    return _i18n.format_percent(value, current_locale(), places)
