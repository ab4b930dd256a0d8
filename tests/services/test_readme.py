"""The README documents every import field the CLI accepts, and its test command is the one CI runs."""

from pathlib import Path

from services.importing import FIELDS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_import_field():
    missing = [f"{kind}.{field}" for kind, fields in FIELDS.items() for field in fields if f"`{field}`" not in README]
    assert missing == []


def test_readme_has_the_ci_test_command():
    block = README.split("<!-- ci:test-command -->")[1].split("<!-- /ci:test-command -->")[0]
    assert "pip install" in block and "pytest" in block
