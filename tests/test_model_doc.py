"""docs/model.md, the contract in the project's own words, stays in step with the schema:
every sheet has its section and every column its row there, every rule kind and setting is
described, and no document sends a reader to a file they do not have."""

from __future__ import annotations

import re
from pathlib import Path

from procure.data.schema import RULE_TYPES, SHEETS

ROOT = Path(__file__).resolve().parents[1]
MODEL = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")


def _section(sheet: str) -> str:
    """The text from the sheet's heading to the next heading."""
    match = re.search(rf"^### {sheet} .*?$(.*?)(?=^#)", MODEL, flags=re.M | re.S)
    assert match, f"docs/model.md has no section '### {sheet} (...)'"
    return match.group(1)


def test_every_sheet_and_column_is_described():
    for name, sheet in SHEETS.items():
        text = _section(name)
        for column in sheet.columns:
            if name == "Settings":
                assert f"**{column.name}**" in text, (name, column.name)
                continue
            assert re.search(rf"^\| {column.name} \|", text, flags=re.M), (name, column.name)


def test_every_rule_kind_and_setting_is_described():
    rules = MODEL[MODEL.index("## 3. Rules"):MODEL.index("## 4. Cooperation")]
    for kind in RULE_TYPES:
        assert re.search(rf"^\| [a-z_, ]*\b{kind}\b", rules, flags=re.M), kind
    settings = _section("Settings")
    for key in SHEETS["Settings"].column("key").choices:
        assert f"| {key} |" in settings, key


def test_no_document_points_at_the_spec_users_do_not_have():
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text and "SPEC.md" not in text, path.name
    for path in sorted((ROOT / "procure").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "SPEC.md" not in text and "../shared" not in text, path
