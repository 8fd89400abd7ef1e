"""Validation against JSON Schemas: each problem is located and phrased for an editor."""

from __future__ import annotations

from typing import Any

import pytest

from dossier.content.validation import FORMATS, check, describe
from dossier.core.diagnostics import Diagnostic
from dossier.core.yamltree import parse

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["titel"],
    "additionalProperties": False,
    "properties": {
        "titel": {"type": "string", "minLength": 1, "x-expected": "text that is not empty"},
        "bijgewerkt": {"type": "string", "format": "dossier-date",
                       "x-expected": "a date (YYYY-MM-DD)"},
        "start": {"type": "string", "format": "dossier-month", "x-expected": "a month (YYYY-MM)"},
        "website": {"type": "string", "format": "dossier-url", "x-expected": "a web address"},
        "email": {"type": "string", "format": "dossier-email", "x-expected": "an e-mail address"},
        "opgericht": {"type": "integer", "minimum": 1000, "x-expected": "a year (e.g. 2012)"},
        "thema": {"type": "array", "items": {"enum": ["jeugdzorg", "gezondheid"]}},
        "partners": {
            "type": "array",
            "items": {
                "type": "object", "additionalProperties": False, "required": ["organisatie"],
                "properties": {"organisatie": {"type": "string"},
                               "rol": {"enum": ["trekker", "partner"]}},
            },
        },
    },
}


def problems(text: str, schema: dict[str, Any] = SCHEMA) -> list[Diagnostic]:
    """Diagnostics for front matter `text` (as in a .md file, so lines start at 2)."""
    tree = parse(text, "content/projecten/x.md", line_offset=1)
    return check(tree.data, schema, tree, "content/projecten/x.md")


def lines(text: str) -> list[str]:
    return [str(d) for d in problems(text)]


def test_valid_data_has_no_problems() -> None:
    text = ("titel: Tussen In\nbijgewerkt: 2012-02-29\nstart: 2012-12\n"
            "website: https://example.nl/\nemail: info@example.nl\nopgericht: 2001\n"
            "thema: [jeugdzorg]\npartners:\n  - {organisatie: al-amal, rol: partner}\n")
    assert problems(text) == []


def test_impossible_date_is_located_at_the_value() -> None:
    assert lines("titel: x\nbijgewerkt: 2012-02-30\n") == [
        "content/projecten/x.md:3:13: error: bijgewerkt: '2012-02-30' is not a date (YYYY-MM-DD)"]


def test_month_13_is_rejected() -> None:
    assert lines("titel: x\nstart: 2012-13\n") == [
        "content/projecten/x.md:3:8: error: start: '2012-13' is not a month (YYYY-MM)"]


def test_javascript_url_is_rejected() -> None:
    assert lines("titel: x\nwebsite: 'javascript:alert(1)'\n") == [
        "content/projecten/x.md:3:10: error: website: 'javascript:alert(1)' is not a web address"]


def test_unknown_term_gets_a_suggestion() -> None:
    [problem] = problems("titel: x\nthema:\n  - gezondheid\n  - jeugdzrg\n")
    assert (problem.line, problem.column, problem.field) == (5, 5, "thema")
    assert problem.message == "'jeugdzrg' is not a known term"
    assert problem.suggestion == "'jeugdzorg'"


def test_unknown_field_is_located_at_its_key_with_a_suggestion() -> None:
    [problem] = problems("titel: x\nwebsit: https://example.nl/\n")
    assert (problem.line, problem.column, problem.field) == (3, 1, "websit")
    assert problem.message == "unknown field"
    assert problem.suggestion == "'website'"


def test_missing_required_field_is_named_and_located_at_the_parent() -> None:
    [problem] = problems("bijgewerkt: 2012-06-14\n")
    assert (problem.line, problem.column, problem.field) == (2, 1, "titel")
    assert problem.message == "required field is missing"


def test_nested_field_in_a_list_is_dotted_and_located() -> None:
    text = "titel: x\npartners:\n  - organisatie: a\n  - organisatie: b\n    rol: sponsor\n"
    [problem] = problems(text)
    assert (problem.line, problem.column, problem.field) == (6, 10, "partners.rol")


def test_missing_nested_required_field() -> None:
    [problem] = problems("titel: x\npartners:\n  - rol: partner\n")
    assert (problem.line, problem.field) == (4, "partners.organisatie")
    assert problem.message == "required field is missing"


def test_wrong_type_says_what_was_found() -> None:
    assert [d.text for d in problems("titel: [a, b]\nthema: jeugdzorg\n")] == [
        "titel: expected text that is not empty, found a list",
        "thema: expected a list, found text",
    ]


def test_list_where_one_term_is_expected() -> None:
    [problem] = problems("titel: x\npartners:\n  - {organisatie: a, rol: [trekker]}\n")
    assert problem.message == "expected one term, found a list"


def test_every_problem_is_reported_in_one_pass() -> None:
    text = "bijgewerkt: 2012-02-30\nstart: 2012-13\nemail: a@b\nonbekend: 1\n"
    assert sorted(d.field for d in problems(text)) == [
        "bijgewerkt", "email", "onbekend", "start", "titel"]


def test_minimum_uses_the_expected_words() -> None:
    assert [d.text for d in problems("titel: x\nopgericht: 12\n")] == [
        "opgericht: '12' is not a year (e.g. 2012)"]


# --- formats ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "ok"),
    [("2012-02-29", True), ("2012-06-14", True), ("2012-02-30", False), ("2011-02-29", False),
     ("2012-13-01", False), ("2012-6-14", False), ("20120614", False), ("14-06-2012", False),
     ("2012-06-14T10:00", False), (20120614, False)],
)
def test_dossier_date(value: object, ok: bool) -> None:
    assert FORMATS.conforms(value, "dossier-date") is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("2012-01", True), ("2012-12", True), ("2012-13", False), ("2012-00", False),
     ("2012-1", False), ("2012-01-01", False), ("201201", False)],
)
def test_dossier_month(value: str, ok: bool) -> None:
    assert FORMATS.conforms(value, "dossier-month") is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("https://example.nl", True), ("https://example.nl/a/b?c=d#e", True),
     ("http://example.nl/", True), ("mailto:info@example.nl", True),
     ("javascript:alert(1)", False), ("ftp://example.nl/", False), ("www.example.nl", False),
     ("example.nl", False), ("https://", False), ("https://example.nl/ a", False),
     ("data:text/html,x", False), (42, False)],
)
def test_dossier_url(value: object, ok: bool) -> None:
    assert FORMATS.conforms(value, "dossier-url") is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("info@example.nl", True), ("a.b+c@sub.example.org", True), ("a@b", False),
     ("@example.nl", False), ("a b@example.nl", False), ("a@@example.nl", False),
     ("<info@example.nl>", False), ("info@example", False)],
)
def test_dossier_email(value: str, ok: bool) -> None:
    assert FORMATS.conforms(value, "dossier-email") is ok


def test_email_written_as_a_mailto_link_is_rejected() -> None:
    assert not FORMATS.conforms("mailto:info@example.nl", "dossier-email")


def test_format_is_checked_through_check() -> None:
    found = problems("titel: x\nemail: info@\nwebsite: www.example.nl\n")
    assert sorted(d.field for d in found) == ["email", "website"]


@pytest.mark.parametrize(
    ("value", "words"),
    [(True, "true/false"), (3, "a number"), (1.5, "a number"), ("x", "text"), ([], "a list"),
     ({}, "a group of fields"), (None, "nothing")],
)
def test_describe(value: object, words: str) -> None:
    assert describe(value) == words


# --- the compiled check agrees with the full one ------------------------------------------

def _values() -> Any:
    from hypothesis import strategies as st

    words = st.sampled_from([
        "", "x", "jeugdzorg", "gezondheid", "trekker", "2012-06-14", "2012-13-01",
        "2012-02-30", "2012-06", "2012-6", "2012-00", "https://a.nl/", "http://a", "ftp://a.nl",
        "mailto:a@b.nl", "a@b.nl", "a@b", "a b@c.nl", "+31 20 123 4567", "06-1", "org-a",
        "Org A", "ouders", "12-18", "noord-holland", "lopend", "al-amal", "dossier-een"])
    scalars = st.one_of(words, words, words, st.none(), st.booleans(),
                        st.integers(-5, 3000), st.floats(allow_nan=False), st.text(max_size=5))
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["organisatie", "rol", "start", "eind", "titel",
                                         "url", "naam", "x"]), inner, max_size=3)),
        max_leaves=8)


def test_the_compiled_check_accepts_exactly_what_the_full_check_accepts() -> None:
    """Valid data is only checked by fastjsonschema's code: it must never let through what
    jsonschema would refuse (a value the full check would report would go unreported).
    The example's records, each with a few fields changed, removed or added at random."""
    from pathlib import Path

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from dossier.build import BuildOptions, load_site
    from dossier.content.schema import json_schema
    from dossier.content.validation import Validator

    site = load_site(Path(__file__).resolve().parents[2], BuildOptions(), [])
    records = [r for r in site.all_records()]
    validators = {c.name: Validator(json_schema(c, site.schema))
                  for c in site.schema.collections}
    names = sorted({f.name for c in site.schema.collections for f in c.fields}
                   | {"concept", "onbekend"})
    change = st.tuples(st.sampled_from(names), st.one_of(st.just(KeyError), _values()))

    @settings(max_examples=3000, deadline=None)
    @given(st.sampled_from(records), st.lists(change, min_size=1, max_size=2))
    def agree(record: Any, changes: list[tuple[str, Any]]) -> None:
        data = dict(record.data)
        for name, value in changes:
            if value is KeyError:
                data.pop(name, None)
            else:
                data[name] = value
        validator = validators[record.collection.name]
        assert validator.is_valid(data) == (not list(validator.iter_errors(data)))

    agree()
