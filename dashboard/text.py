"""User text shown through Streamlit's markdown (``st.markdown``, ``st.caption``,
``st.error``, ``st.title``, widget labels …) as plain text.

Names, notes and messages that quote them come from users and imports. Streamlit renders
those elements as GitHub-flavoured markdown with its own extras (``:red[…]`` colours,
``:emoji:`` short codes, ``$…$`` maths); without escaping, ``**Acme**`` turns bold,
``[x](http://…)`` becomes a link and ``<img …>`` is sent to the renderer. ``plain()`` puts a
backslash before every ASCII character that markdown or those extras act on, so the text
shows exactly as typed and can never form a tag, a link or a directive.
"""

from __future__ import annotations

import re
from typing import Any

# every character CommonMark / GFM (emphasis, links, headings — "=" and "-" underline a
# line —, lists, tables, strikethrough, HTML), Streamlit's directives (:red[…], :emoji:)
# and KaTeX ($…$) act on; "&" so an entity such as "&lt;" shows as typed
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=])")


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return False
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other containers
        return False


def plain(text: Any) -> str:
    """``text`` escaped for markdown so it shows as typed (never as formatting, a link or
    HTML). ``None`` / NaN / pandas' NA → ``""``; anything else goes through ``str()``."""
    if _missing(text):
        return ""
    return _MD_SPECIAL.sub(r"\\\1", str(text))
