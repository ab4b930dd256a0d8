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

from services.validation import is_missing

# every character CommonMark / GFM (emphasis, links, headings — "=" and "-" underline a
# line —, lists, tables, strikethrough, HTML), Streamlit's directives (:red[…], :emoji:)
# and KaTeX ($…$) act on; "&" so an entity such as "&lt;" shows as typed
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=])")


def plain(text: Any) -> str:
    """``text`` escaped for markdown so it shows as typed (never as formatting, a link or
    HTML). ``None`` / NaN / pandas' NA → ``""``; anything else goes through ``str()``."""
    if is_missing(text) and not isinstance(text, str):
        return ""
    return _MD_SPECIAL.sub(r"\\\1", str(text))
