"""Editor schemas: valid draft-07, accept the content dossier accepts, refuse what it refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft7Validator

from dossier.authoring.editor import (
    editor_schema,
    modeline,
    schema_files,
    site_schema,
    vscode_settings,
)
from dossier.build import load_schema
from dossier.cli import main
from dossier.content.documents import load_documents
from dossier.content.records import coerce
from dossier.core.yamltree import parse

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_schema(ROOT)


def _errors(schema: dict[str, Any], data: Any) -> list[str]:
    return [e.message for e in Draft7Validator(schema).iter_errors(data)]


@pytest.mark.parametrize("name", [name for name, _ in schema_files(SCHEMA)])
def test_every_schema_file_is_valid_draft_07(name: str) -> None:
    schema = dict(schema_files(SCHEMA))[name]
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(schema)
    assert "x-expected" not in json.dumps(schema) and "dossier-" not in json.dumps(schema)


def test_every_record_of_the_example_validates_against_its_editor_schema() -> None:
    documents, _ = load_documents(ROOT, [c.name for c in SCHEMA.collections], [])
    assert len(documents) > 10
    for doc in documents:
        collection = SCHEMA.collection(doc.collection)
        data = coerce(collection.fields, doc.tree)
        assert _errors(editor_schema(collection, SCHEMA), data) == [], doc.path
    site_yml = parse((ROOT / "content" / "site.yml").read_text(), "content/site.yml")
    assert _errors(site_schema(), site_yml.data) == []


@pytest.mark.parametrize(("field", "value"), [
    ("thema", ["opvoedingsondersteunig"]),
    ("looptijd", {"start": "2009-13"}),
    ("bijgewerkt", "14-06-2012"),
    ("uitvoerder", "Al Amal"),
    ("bronnen", [{"titel": "x", "url": "javascript:alert(1)"}]),
    ("onbekend", "x"),
])
def test_editor_schema_refuses_what_dossier_check_refuses(field: str, value: Any) -> None:
    record = {"titel": "T", "samenvatting": "S", "uitvoerder": "al-amal", field: value}
    assert _errors(editor_schema(SCHEMA.collection("projecten"), SCHEMA), record)


def test_terms_come_with_their_dutch_labels_and_fields_with_help() -> None:
    thema = editor_schema(SCHEMA.collection("projecten"), SCHEMA)["properties"]["thema"]
    assert thema["items"]["enum"][0] == "opvoedingsondersteuning"
    assert thema["items"]["enumDescriptions"][0] == "Opvoedingsondersteuning"
    assert thema["description"].startswith("Thema: lijst; per item: één van: ")
    org = editor_schema(SCHEMA.collection("organisaties"), SCHEMA)["properties"]
    assert org["opgericht"]["description"] == "Opgericht: jaartal (bijv. 2012)"
    assert org["naam"]["description"] == "Naam: verplicht; tekst"


def test_site_schema_describes_site_yml() -> None:
    site = site_schema()
    assert _errors(site, {"titel": "X", "base_url": "https://example.org/db/"}) == []
    assert _errors(site, {"titel": "X", "taal": "fr"})


def test_vscode_settings_tie_schemas_to_content_folders() -> None:
    mapping = vscode_settings(SCHEMA)["yaml.schemas"]
    assert mapping["./.schemas/projecten.json"] == [
        "content/projecten/*.yml", "content/projecten/*.yaml", "content/projecten/*.md",
        "content/projecten/*/index.yml", "content/projecten/*/index.yaml",
        "content/projecten/*/index.md"]  # records in a folder with their files
    assert mapping["./.schemas/site.json"] == ["content/site.yml"]


def test_the_modeline_path_is_relative_to_the_record() -> None:
    assert modeline("content/projecten/x.md", "projecten") == (
        "# yaml-language-server: $schema=../../.schemas/projecten.json")
    assert modeline("content/projecten/x/index.md", "projecten") == (
        "# yaml-language-server: $schema=../../../.schemas/projecten.json")


def test_schema_command_writes_one_file_per_collection(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["schema", str(ROOT), "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [
        "dossiers.json", "organisaties.json", "paginas.json", "projecten.json", "site.json"]
    written = json.loads((tmp_path / "s" / "projecten.json").read_text())
    assert written == editor_schema(SCHEMA.collection("projecten"), SCHEMA)


def test_image_and_document_fields_are_described_for_editors() -> None:
    projecten = editor_schema(SCHEMA.collection("projecten"), SCHEMA)
    foto = projecten["properties"]["foto"]
    assert foto["description"].startswith("Foto: afbeelding naast het record")
    assert set(foto["properties"]) == {"bestand", "alt", "decoratief", "bijschrift"}
    assert foto["properties"]["alt"]["description"].startswith("alt: verplicht; wat de")
    document = projecten["properties"]["documenten"]["items"]
    assert document["required"] == ["bestand", "titel"]
    assert _errors(projecten, {"titel": "X", "samenvatting": "Y", "uitvoerder": "a",
                               "foto": {"bestand": "f.jpg", "alt": "Z", "kleur": "rood"}})
