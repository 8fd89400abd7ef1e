"""Editor integration: field help in Dutch, JSON Schemas for YAML tools, VS Code settings.

The schemas written here are for editors' tools (the Red Hat YAML extension for VS Code, or
any client of yaml-language-server), not for validation: `dossier check` stays the judge.
They use JSON Schema draft-07, the version yaml-language-server supports, and replace the
build's private formats (`dossier-date`, …) with patterns those tools understand.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dossier.authoring import SCHEMA_DIR
from dossier.content.schema import FILE_TITLE, Collection, Field, Label, Schema, json_schema
from dossier.content.settings import SITE_SCHEMA
from dossier.content.validation import BROWSER_PATTERNS

SETTINGS = Path(".vscode") / "settings.json"
DRAFT_07 = "http://json-schema.org/draft-07/schema#"

# What a value of each type looks like, in the editors' language.
KIND = {
    "string": "tekst",
    "text": "tekst (Markdown)",
    "date": "datum (JJJJ-MM-DD)",
    "month": "maand (JJJJ-MM)",
    "year": "jaartal (bijv. 2012)",
    "url": "webadres (https://…)",
    "email": "e-mailadres",
    "phone": "telefoonnummer",
    "bestand": "bestandsnaam, relatief aan dit record (bijv. foto.jpg of ../bestanden/x.pdf)",
    "alt": "wat de afbeelding laat zien, voor wie haar niet ziet (of decoratief: true)",
    "boolean": "true als de afbeelding alleen versiert (dan geen alt)",
}


def _sub(name: str, kind: str, required: bool = False) -> Field:
    return Field(name, kind, Label(name, name), required=required)


# The fields of an image and a document (schema.MEDIA_FIELDS), as `dossier new` and the
# editor schemas describe them.
MEDIA_SUBFIELDS = {
    "image": (_sub("bestand", "bestand", True), _sub("alt", "alt", True),
              _sub("decoratief", "boolean"), _sub("bijschrift", "string")),
    "file": (_sub("bestand", "bestand", True), _sub(FILE_TITLE, "string", True)),
}



# The build checks these formats in Python (validation.py); editors get the same patterns.
_PATTERNS = {f"dossier-{kind}": pattern for kind, pattern in BROWSER_PATTERNS.items()}


def describe(f: Field, schema: Schema) -> str:
    """What an editor may write in a field, in Dutch: 'maand (JJJJ-MM)', 'één van: a, b'."""
    if f.type == "list" and f.items is not None:
        if f.items.type == "object":
            return "lijst van groepen velden"
        return f"lijst; per item: {describe(f.items, schema)}"
    if f.type == "enum":
        return "één van: " + ", ".join(t.key for t in schema.terms(f.vocabulary))
    if f.type == "ref":
        return f"de slug van een record uit {f.collection} (de bestandsnaam zonder .md)"
    if f.type == "object":
        return "groep velden: " + ", ".join(sub.name for sub in f.fields)
    if f.type == "image":
        return "afbeelding naast het record: bestand en alt (of decoratief: true)"
    if f.type == "file":
        return "document naast het record: bestand en titel"
    return KIND.get(f.type, f.type)


def editor_schema(collection: Collection, schema: Schema) -> dict[str, Any]:
    """The front-matter JSON Schema of one collection, for editors' YAML tools."""
    body = _for_editors(json_schema(collection, schema), collection.fields, schema)
    body.pop("$schema")
    return {"$schema": DRAFT_07,
            "description": f"Velden van een record in content/{collection.name}/ (gemaakt "
                           "door dossier uit content/schema.yml: pas dat bestand aan, niet dit)",
            **body}


def site_schema() -> dict[str, Any]:
    """The JSON Schema of content/site.yml, for editors' YAML tools."""
    return {"$schema": DRAFT_07, "title": "site.yml", **_for_editors(SITE_SCHEMA, (), None)}


def _for_editors(node: Any, fields: tuple[Field, ...], schema: Schema | None) -> Any:
    """A copy of a build schema without private keywords, with Dutch help where known."""
    if isinstance(node, list):
        return [_for_editors(item, fields, schema) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-"):
            continue
        if key == "format" and value in _PATTERNS:
            result["pattern"] = _PATTERNS[value]
        elif key == "properties":
            result[key] = {name: _property(sub, _named(fields, name), schema)
                           for name, sub in value.items()}
        else:
            result[key] = _for_editors(value, fields, schema)
    return result


def _named(fields: tuple[Field, ...], name: str) -> Field | None:
    return next((f for f in fields if f.name == name), None)


def _property(node: dict[str, Any], f: Field | None, schema: Schema | None) -> dict[str, Any]:
    """One field's schema, with a description and the labels of its terms."""
    leaf = f.leaf if f is not None else None
    sub_fields = (leaf.fields or MEDIA_SUBFIELDS.get(leaf.type, ())) if leaf is not None else ()
    result: dict[str, Any] = _for_editors(node, sub_fields, schema)
    if f is None or schema is None:
        return result
    required = "verplicht; " if f.required else ""
    result["description"] = f"{f.label.nl}: {required}{describe(f, schema)}"
    target = result.get("items", result)
    if leaf is not None and leaf.type == "enum" and "enum" in target:
        target["enumDescriptions"] = [t.label.nl for t in schema.terms(leaf.vocabulary)]
    return result


def schema_files(schema: Schema) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every editor schema with its file name: one per collection, and site.json."""
    for collection in schema.collections:
        yield f"{collection.name}.json", editor_schema(collection, schema)
    yield "site.json", site_schema()


def write_schemas(schema: Schema, folder: Path) -> list[Path]:
    """Write the editor schemas into `folder`; files whose bytes did not change are kept."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in schema_files(schema):
        target = folder / name
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if not target.is_file() or target.read_text("utf-8") != text:
            target.write_text(text, "utf-8")
        written.append(target)
    return written


def vscode_settings(schema: Schema, schema_dir: str = SCHEMA_DIR) -> dict[str, Any]:
    """VS Code settings that tie each schema to the files it describes."""
    mapping: dict[str, list[str]] = {
        f"./{posixpath.join(schema_dir, c.name)}.json":
            [*(f"content/{c.name}/*.{ext}" for ext in ("yml", "yaml", "md")),
             *(f"content/{c.name}/*/index.{ext}" for ext in ("yml", "yaml", "md"))]
        for c in schema.collections
    }
    mapping[f"./{posixpath.join(schema_dir, 'site')}.json"] = ["content/site.yml"]
    return {"yaml.schemas": mapping}


def write_vscode_settings(site_dir: Path, schema: Schema) -> Path | None:
    """Create .vscode/settings.json unless the site has one (someone's own settings win)."""
    target = site_dir / SETTINGS
    if target.exists():
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(vscode_settings(schema), indent=2) + "\n", "utf-8")
    return target


def modeline(record_rel: str, collection: str, schema_dir: str = SCHEMA_DIR) -> str:
    """The comment that tells yaml-language-server which schema a file follows.

    Its path is relative to the record file, which is how yaml-language-server resolves it.
    """
    here = posixpath.dirname(record_rel)
    target = posixpath.relpath(posixpath.join(schema_dir, f"{collection}.json"), here)
    return f"# yaml-language-server: $schema={target}"
