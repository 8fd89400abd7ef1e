"""The content model read from schema.yml, and the mistakes a schema editor can make."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from dossier.content.schema import (
    DRAFT_FIELD,
    Schema,
    iter_values,
    json_schema,
    walk_fields,
)
from dossier.content.schemafile import parse_schema
from dossier.content.validation import FORMATS
from dossier.core.diagnostics import Diagnostic, DossierError
from dossier.core.yamltree import parse

REPO_SCHEMA = Path(__file__).resolve().parents[2] / "content" / "schema.yml"

MINI = """\
vocabularies:
  status: {lopend: Lopend, afgerond: {nl: Afgerond, en: Completed}}
collections:
  projecten:
    folder: projecten
    title: titel
    fields:
      titel: {type: string, required: true}
      status: {type: enum, vocabulary: status, facet: true}
      uitvoerder: {type: ref, collection: organisaties}
      website: {type: url}
      looptijd:
        type: object
        order: [start, eind]
        fields:
          start: {type: month}
          eind: {type: month}
  organisaties:
    folder: organisaties
    title: naam
    fields:
      naam: {type: string, required: true}
"""


def load(text: str) -> Schema:
    return parse_schema(parse(text, "content/schema.yml"), "content/schema.yml")


def schema_problems(text: str) -> list[Diagnostic]:
    with pytest.raises(DossierError) as caught:
        load(text)
    return caught.value.diagnostics


@pytest.fixture(scope="module")
def repo_schema() -> Schema:
    return load(REPO_SCHEMA.read_text(encoding="utf-8"))


# --- the repository's own schema --------------------------------------------------------

def test_repo_schema_collections(repo_schema: Schema) -> None:
    assert [(c.name, c.folder, c.title_field) for c in repo_schema.collections] == [
        ("projecten", "projecten", "titel"), ("organisaties", "organisaties", "naam"),
        ("dossiers", "dossiers", "titel"), ("paginas", "", "titel")]


def test_repo_schema_projecten_sections(repo_schema: Schema) -> None:
    assert repo_schema.collection("projecten").sections == (
        "Aanleiding", "Doel", "Aanpak", "Samenwerking", "Resultaten")


def test_repo_schema_facets(repo_schema: Schema) -> None:
    projecten = repo_schema.collection("projecten")
    assert [f.name for f in projecten.facets] == [
        "thema", "doelgroep", "leeftijd", "herkomst", "plaats", "provincie", "programma",
        "status"]
    assert [f.name for f in repo_schema.collection("organisaties").facets] == [
        "type", "plaats", "provincie"]


def test_repo_schema_facet_folders(repo_schema: Schema) -> None:
    assert repo_schema.collection("projecten").facet_folder("thema") == "thema"
    assert repo_schema.collection("organisaties").facet_folder("type") == "organisaties/type"


def test_repo_schema_list_of_objects_with_a_ref(repo_schema: Schema) -> None:
    partners = repo_schema.collection("projecten").field("partners")
    assert partners is not None and partners.is_list
    item = partners.leaf
    assert item.type == "object"
    assert [(f.name, f.type, f.collection or f.vocabulary) for f in item.fields] == [
        ("organisatie", "ref", "organisaties"), ("rol", "enum", "rol")]


def test_repo_schema_labels_have_dutch_and_english(repo_schema: Schema) -> None:
    uitvoerder = repo_schema.collection("projecten").field("uitvoerder")
    assert uitvoerder is not None
    assert (uitvoerder.label("nl"), uitvoerder.label("en")) == ("Uitvoerder", "Run by")


def test_repo_schema_vocabulary_order_and_labels(repo_schema: Schema) -> None:
    assert [t.key for t in repo_schema.terms("status")] == ["lopend", "afgerond"]
    assert repo_schema.term_label("thema", "jeugdzorg", "en") == "Youth care"
    assert repo_schema.term_label("thema", "onbekend", "nl") == "onbekend"


def test_repo_schema_looptijd_order(repo_schema: Schema) -> None:
    looptijd = repo_schema.collection("projecten").field("looptijd")
    assert looptijd is not None and looptijd.order == ("start", "eind")


def test_repo_schema_declares_the_roles_of_its_collections(repo_schema: Schema) -> None:
    assert [(c.name, c.role) for c in repo_schema.collections] == [
        ("projecten", "project"), ("organisaties", "organisation"), ("dossiers", "dossier"),
        ("paginas", "page")]
    found = repo_schema.role("dossier")
    assert found is not None and found.name == "dossiers"
    assert repo_schema.with_role("page") == (repo_schema.collection("paginas"),)
    assert repo_schema.role("nothing") is None


def test_repo_schema_declares_the_roles_of_its_fields(repo_schema: Schema) -> None:
    def roles(name: str) -> dict[str, str]:
        return {f.role: f.name for f in repo_schema.collection(name).fields if f.role}

    assert roles("projecten") == {
        "summary": "samenvatting", "topic": "thema", "place": "plaats", "lead": "uitvoerder",
        "partners": "partners", "updated": "bijgewerkt", "image": "foto"}
    assert roles("organisaties") == {"place": "plaats", "founded": "opgericht",
                                     "website": "website", "email": "email",
                                     "phone": "telefoon", "image": "logo"}
    assert roles("dossiers") == {"summary": "samenvatting", "updated": "bijgewerkt"}
    projecten = repo_schema.collection("projecten")
    updated = projecten.role_field("updated")
    assert updated is not None and updated.name == "bijgewerkt"
    bronnen = projecten.field("bronnen")
    assert bronnen is not None and bronnen.items is not None
    title = bronnen.items.role_field("title")
    assert title is not None and title.name == "titel"
    term = repo_schema.term("rol", "financier")
    assert term is not None and term.role == "funder"
    uitvoerder = projecten.field("uitvoerder")
    assert uitvoerder is not None and uitvoerder.reverse_label is not None
    assert uitvoerder.reverse_label("nl") == "Voert uit"


def test_an_unknown_collection_is_a_lookup_error_with_a_suggestion(repo_schema: Schema) -> None:
    with pytest.raises(LookupError) as caught:
        repo_schema.collection("project")
    assert str(caught.value) == ("no collection 'project' in schema.yml; did you mean "
                                 "'projecten'?")


def test_a_schema_without_roles_warns_about_the_pages_it_leaves_out() -> None:
    warnings: list[Diagnostic] = []
    parse_schema(parse(MINI, "content/schema.yml"), "content/schema.yml", warnings)
    assert [(w.line, w.severity, w.message.split(",")[0]) for w in warnings] == [
        (3, "warning", "no collection has the role 'project'"),
        (3, "warning", "no collection has the role 'organisation'"),
        (3, "warning", "no collection has the role 'dossier'")]


def test_json_schema_of_projecten_requires_the_core_fields(repo_schema: Schema) -> None:
    result = json_schema(repo_schema.collection("projecten"), repo_schema)
    assert result["required"] == ["titel", "samenvatting", "uitvoerder"]
    assert result["additionalProperties"] is False
    assert result["properties"][DRAFT_FIELD]["type"] == "boolean"


def validator(repo_schema: Schema) -> Draft202012Validator:
    return Draft202012Validator(json_schema(repo_schema.collection("projecten"), repo_schema),
                                format_checker=FORMATS)


def test_json_schema_accepts_a_good_project(repo_schema: Schema) -> None:
    record = {"titel": "Tussen In", "samenvatting": "Kort.", "uitvoerder": "al-amal",
              "thema": ["jeugdzorg"], "looptijd": {"start": "2009-01"},
              "partners": [{"organisatie": "b", "rol": "partner"}], "concept": True}
    assert list(validator(repo_schema).iter_errors(record)) == []


def test_json_schema_forbids_unknown_fields(repo_schema: Schema) -> None:
    record = {"titel": "x", "samenvatting": "x", "uitvoerder": "a", "titl": "x"}
    [error] = validator(repo_schema).iter_errors(record)
    assert error.validator == "additionalProperties"


def test_json_schema_forbids_unknown_fields_in_nested_objects(repo_schema: Schema) -> None:
    record = {"titel": "x", "samenvatting": "x", "uitvoerder": "a",
              "contact": {"naam": "x", "fax": "030"}}
    [error] = validator(repo_schema).iter_errors(record)
    assert list(error.absolute_path) == ["contact"]


def test_json_schema_enum_lists_the_vocabulary(repo_schema: Schema) -> None:
    result = json_schema(repo_schema.collection("projecten"), repo_schema)
    assert result["properties"]["status"]["enum"] == ["lopend", "afgerond"]


def test_json_schema_uses_the_language_for_titles(repo_schema: Schema) -> None:
    result = json_schema(repo_schema.collection("projecten"), repo_schema, lang="en")
    assert result["title"] == "Project"
    assert result["properties"]["uitvoerder"]["title"] == "Run by"


def test_walk_fields_includes_nested_declarations(repo_schema: Schema) -> None:
    paths = [p for p, _ in walk_fields(repo_schema.collection("projecten").fields, ())]
    assert ("partners", "items", "fields", "organisatie") in paths
    assert ("looptijd", "fields", "eind") in paths


def test_iter_values_yields_leaf_fields_with_paths(repo_schema: Schema) -> None:
    data = {"titel": "x", "partners": [{"organisatie": "a"}, {"organisatie": "b", "rol": "x"}]}
    found = [(f.name, path, value)
             for f, path, value in iter_values(repo_schema.collection("projecten").fields, data)]
    assert found == [("titel", ("titel",), "x"),
                     ("organisatie", ("partners", 0, "organisatie"), "a"),
                     ("organisatie", ("partners", 1, "organisatie"), "b"),
                     ("rol", ("partners", 1, "rol"), "x")]


# --- small schemas ----------------------------------------------------------------------

def test_mini_schema_loads() -> None:
    schema = load(MINI)
    assert [t.label("en") for t in schema.terms("status")] == ["Lopend", "Completed"]
    titel = schema.collection("projecten").field("titel")
    assert titel is not None and titel.label("nl") == "Titel"  # label defaults to the name


def test_unknown_type_is_reported_with_a_suggestion() -> None:
    [problem] = schema_problems(MINI.replace("{type: url}", "{type: urls}"))
    assert problem.field == "collections.projecten.fields.website.type"
    assert (problem.line, problem.column) == (11, 23)
    assert problem.suggestion == "'url'"


def test_unknown_vocabulary_is_reported() -> None:
    [problem] = schema_problems(MINI.replace("vocabulary: status", "vocabulary: statussen"))
    assert problem.field == "collections.projecten.fields.status.vocabulary"
    assert (problem.line, problem.column) == (9, 40)
    assert problem.message == "'statussen' is not a declared vocabulary"
    assert problem.suggestion == "'status'"


def test_unknown_ref_collection_is_reported() -> None:
    [problem] = schema_problems(MINI.replace("collection: organisaties", "collection: organisatie"))
    assert problem.field == "collections.projecten.fields.uitvoerder.collection"
    assert problem.line == 10
    assert problem.message == "'organisatie' is not a declared collection"
    assert problem.suggestion == "'organisaties'"


def test_facet_on_a_url_field_is_reported() -> None:
    [problem] = schema_problems(MINI.replace("{type: url}", "{type: url, facet: true}"))
    assert problem.field == "collections.projecten.fields.website.facet"
    assert problem.line == 11
    assert "only enum and string fields" in problem.message


def test_title_naming_a_missing_field_is_reported() -> None:
    [problem] = schema_problems(MINI.replace("title: titel", "title: tittel"))
    assert problem.field == "collections.projecten.title"
    assert (problem.line, problem.column) == (6, 12)
    assert problem.message == "'tittel' is not a text field of projecten"
    assert problem.suggestion == "'titel'"


def test_title_declaration_missing_is_reported() -> None:
    [problem] = schema_problems(MINI.replace("    title: naam\n", ""))
    assert problem.field == "collections.organisaties.title"
    assert problem.message == "required field is missing"


def test_title_field_of_the_wrong_type_is_reported() -> None:
    [problem] = schema_problems(MINI.replace("titel: {type: string", "titel: {type: text"))
    assert problem.field == "collections.projecten.title"
    assert problem.message == "'titel' is not a text field of projecten"


def test_title_field_of_the_wrong_type_does_not_suggest_itself() -> None:
    [problem] = schema_problems(MINI.replace("titel: {type: string", "titel: {type: text"))
    assert problem.suggestion != "'titel'"


def test_order_naming_a_missing_subfield_is_reported() -> None:
    [problem] = schema_problems(MINI.replace("order: [start, eind]", "order: [start, einde]"))
    assert problem.field == "collections.projecten.fields.looptijd.order"
    assert problem.line == 14
    assert problem.message == "'einde' is not a field of looptijd"
    assert problem.suggestion == "'eind'"


def test_unknown_field_flag_is_reported_with_a_suggestion() -> None:
    [problem] = schema_problems(MINI.replace("required: true}\n      status",
                                             "requird: true}\n      status"))
    assert problem.field == "collections.projecten.fields.titel.requird"
    assert problem.suggestion == "'required'"


def test_list_without_items_and_object_without_fields() -> None:
    problems = schema_problems(MINI + "      lijst: {type: list}\n      groep: {type: object}\n")
    assert [(d.field, d.message) for d in problems] == [
        ("collections.organisaties.fields.lijst.type",
         "a list needs 'items', the declaration of one item"),
        ("collections.organisaties.fields.groep.type", "an object needs 'fields'"),
    ]


def test_enum_without_vocabulary_is_reported() -> None:
    [problem] = schema_problems(MINI.replace("{type: enum, vocabulary: status, facet: true}",
                                             "{type: enum}"))
    assert problem.field == "collections.projecten.fields.status.vocabulary"


def test_collection_name_must_be_a_slug() -> None:
    [problem] = schema_problems(MINI.replace("  organisaties:\n", "  Organisaties:\n")
                                .replace("collection: organisaties", "collection: Organisaties"))
    assert (problem.field, problem.line) == ("Organisaties", 18)


def test_two_facet_roots_are_refused() -> None:
    text = (MINI.replace("    title: titel\n", "    title: titel\n    facet_root: true\n")
            .replace("    title: naam\n", "    title: naam\n    facet_root: true\n"))
    [problem] = schema_problems(text)
    assert problem.field == "facet_root"
    assert (problem.line, problem.column) == (22, 17)


def test_every_schema_problem_is_reported_in_one_pass() -> None:
    text = (MINI.replace("{type: url}", "{type: url, facet: true}")
            .replace("vocabulary: status", "vocabulary: statussen")
            .replace("title: naam", "title: nam"))
    assert [d.field for d in schema_problems(text)] == [
        "collections.projecten.fields.status.vocabulary",
        "collections.projecten.fields.website.facet",
        "collections.organisaties.title",
    ]


def test_schema_without_collections_is_reported() -> None:
    [problem] = schema_problems("vocabularies: {}\n")
    assert (problem.field, problem.message) == ("collections", "required field is missing")


def test_collections_as_a_list_is_reported_not_a_traceback() -> None:
    [problem] = schema_problems("collections: [projecten]\n")
    assert problem.field == "collections"
    assert problem.message == "expected a group of fields, found a list"
