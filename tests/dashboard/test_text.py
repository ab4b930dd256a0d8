"""dashboard.text.plain: user text put into Streamlit markdown shows exactly as typed.

"Shows as typed" is checked by rendering: markdown-it (the CommonMark reference parser in
Python, with GFM tables, strikethrough and linkify on) must turn ``plain(text)`` into the
text itself, HTML-escaped — no tag, link, emphasis or heading is ever produced.
"""

from __future__ import annotations

import html

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from dashboard.text import plain

MD = MarkdownIt("commonmark", {"linkify": False}).enable(["table", "strikethrough"])


def rendered(text: str) -> str:
    return MD.renderInline(plain(text))


def as_text(text: str) -> str:
    return html.escape(text, quote=False).replace('"', "&quot;")


@pytest.mark.parametrize("text", [
    "**bold** _it_ `code` ~~gone~~",
    "[link](http://evil.example) ![img](x.png)",
    "# heading + list - item 1. item",
    "| a | b |",
    "<img src=x onerror=alert(1)>",
    "<script>alert('x')</script> &lt; &amp;",
    "\\*already escaped\\*",
    "price: $5 and $6",
    "A&B 股份有限公司（上海）",
])
def test_markdown_and_html_show_as_typed(text):
    assert rendered(text) == as_text(text)


def test_hostile_tag_cannot_form_an_element():
    out = plain("<img src=x onerror=alert(1)>")
    assert out == r"\<img src\=x onerror\=alert\(1\)\>"
    assert "<img" not in rendered("<img src=x onerror=alert(1)>")


def test_streamlit_directives_are_neutralised():
    # Streamlit's own extras: :red[...] colours and :emoji: short codes
    assert plain(":red[alarm] :smile:") == r"\:red\[alarm\] \:smile\:"


def test_heading_underline_in_notes_is_kept_as_text():
    assert "<h" not in MD.render(plain("Title\n===")) and "<hr" not in MD.render(plain("a\n---"))


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, pd.NaT])
def test_missing_values_are_empty(missing):
    assert plain(missing) == ""


def test_other_values_are_stringified():
    assert plain(12) == "12"
    assert plain(3.5) == r"3\.5"
    assert plain("") == ""


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126) | st.sampled_from("客户 甲乙"),
               min_size=1).map(str.strip).filter(bool))
def test_any_single_line_shows_as_typed(text):
    assert rendered(text) == as_text(text)


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_a_kpi_cards_delta_starts_with_its_signed_percentage(locale):
    """Streamlit draws a card's arrow and colour from the delta's first character: a fall
    must start with "-" (not with the word 环比, which reads as a rise)."""
    from dashboard.performance_views import mom_delta

    assert mom_delta(-0.982, locale).startswith("-98.2%")
    assert mom_delta(0.137, locale).startswith("13.7%")
    assert mom_delta(None, locale) is None
