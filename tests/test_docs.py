"""The editors' guide and the README keep up with the schema and the commands."""

from __future__ import annotations

from dossier.build import load_schema
from dossier.cli import main
from dossier.content.schema import Field
from helpers import ROOT

GUIDE = ROOT / "docs" / "redacteuren.md"


def _paths(fields: tuple[Field, ...], prefix: str = "") -> list[str]:
    found = []
    for f in fields:
        found.append(prefix + f.name)
        if f.leaf.type == "object":
            found += _paths(f.leaf.fields, f"{prefix}{f.name}.")
    return found


def test_the_guide_explains_every_field_of_the_default_schema() -> None:
    guide = GUIDE.read_text()
    schema = load_schema(ROOT)
    missing = [f"{c.name}: {path}" for c in schema.collections for path in _paths(c.fields)
               if f"| `{path}` |" not in guide]
    assert missing == [], "add these fields to the tables in docs/redacteuren.md"


def test_the_readme_links_the_guide_and_lists_every_command() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "(docs/redacteuren.md)" in readme
    assert [name for name in main.commands if f"| `dossier {name}" not in readme] == []
