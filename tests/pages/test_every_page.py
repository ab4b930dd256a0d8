"""Every registered page, run as every role on the demo company: the roles it is for see it
draw without an exception (in both languages); the others are refused, not shown data."""

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.nav import PAGES, visible_pages
from services.access import ALL_ROLES
from tests.pages.conftest import ROOT, app_path

BUILT = [p for p in PAGES if (ROOT / p.file).exists()]
CASES = [(p.key, p.file, role) for p in BUILT for role in ALL_ROLES]


def test_every_page_file_is_registered():
    registered = {p.file for p in PAGES}
    on_disk = {f"pages/{f.name}" for f in (ROOT / "pages").glob("*.py")}
    assert on_disk <= registered


@pytest.mark.parametrize("key,file,role", CASES, ids=[f"{k}-{r}" for k, _, r in CASES])
def test_page_as_role(demo_db_url, demo_actors, key, file, role):
    at = AppTest.from_file(app_path(file), default_timeout=90)
    at.session_state["actor"] = demo_actors[role]
    at.session_state["locale"] = "zh_CN" if role in ("rep", "director") else "en"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    allowed = any(p.key == key for p in visible_pages(role))
    if allowed:
        assert len(at.title) + len(at.header) + len(at.subheader) >= 1, "page drew nothing"
    else:
        # refused: an error/warning, and none of the page's data widgets
        assert len(at.error) + len(at.warning) >= 1
        assert len(at.dataframe) == 0 and len(at.metric) == 0
