"""Diagnostics: the `path:line:col: severity: field: message` lines editors and CI read."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable

import pytest

from dossier.core.diagnostics import (
    Diagnostic,
    DossierError,
    errors,
    format_github,
    format_json,
    format_text,
    shorten,
    sort_diagnostics,
    suggest,
)

TERM = Diagnostic("content/projecten/tussen-in.md", 7, 11, "error", "thema",
                  "'opvoedingsondersteunig' is not a known term", "'opvoedingsondersteuning'")
WARNING = Diagnostic("content/projecten/a.md", 12, 1, "warning", "",
                     "expected section '## Doel' is missing")


def test_str_has_location_severity_field_message_and_suggestion() -> None:
    assert str(TERM) == (
        "content/projecten/tussen-in.md:7:11: error: thema: 'opvoedingsondersteunig' is not a "
        "known term; did you mean 'opvoedingsondersteuning'?"
    )


def test_str_without_field_or_suggestion() -> None:
    assert str(WARNING) == (
        "content/projecten/a.md:12:1: warning: expected section '## Doel' is missing")


def test_text_is_the_str_without_location() -> None:
    assert TERM.text == str(TERM).split(": error: ", 1)[1]


def test_is_error_and_errors() -> None:
    assert TERM.is_error
    assert not WARNING.is_error
    assert errors([WARNING, TERM]) == [TERM]


def test_sort_by_path_then_line_then_column() -> None:
    d = [Diagnostic("b.md", 1, 1, "error", "", "m"), Diagnostic("a.md", 10, 1, "error", "", "m"),
         Diagnostic("a.md", 9, 5, "error", "", "m"), Diagnostic("a.md", 9, 2, "warning", "", "m")]
    assert [(x.path, x.line, x.column) for x in sort_diagnostics(d)] == [
        ("a.md", 9, 2), ("a.md", 9, 5), ("a.md", 10, 1), ("b.md", 1, 1)]


def test_line_sorts_numerically_not_as_text() -> None:
    d = [Diagnostic("a.md", 10, 1, "error", "", "m"), Diagnostic("a.md", 9, 1, "error", "", "m")]
    assert [x.line for x in sort_diagnostics(d)] == [9, 10]


def test_sort_drops_duplicates() -> None:
    assert sort_diagnostics([TERM, WARNING, TERM]) == [WARNING, TERM]


def test_dossier_error_carries_sorted_diagnostics_and_prints_them() -> None:
    error = DossierError([TERM, WARNING])
    assert error.diagnostics == [WARNING, TERM]
    assert str(error) == f"{WARNING}\n{TERM}"


def test_suggest_closest_candidate_quoted() -> None:
    assert suggest("opvoedingsondersteunig", ["jeugdzorg", "opvoedingsondersteuning"]) == (
        "'opvoedingsondersteuning'")


def test_suggest_nothing_when_nothing_is_close() -> None:
    assert suggest("sport", ["jeugdzorg", "gezondheid"]) == ""


def test_suggest_ignores_case_of_the_typed_word() -> None:
    assert suggest("JEUGDZORG", ["jeugdzorg", "gezondheid"]) == "'jeugdzorg'"


def test_suggest_with_no_candidates() -> None:
    assert suggest("x", []) == ""


def test_format_text_is_one_line_per_diagnostic() -> None:
    assert format_text([WARNING, TERM]).splitlines() == [str(WARNING), str(TERM)]


def test_format_json_fields() -> None:
    rows = json.loads(format_json([TERM, WARNING]))
    assert rows == [
        {"path": "content/projecten/tussen-in.md", "line": 7, "column": 11, "severity": "error",
         "field": "thema", "message": "'opvoedingsondersteunig' is not a known term",
         "suggestion": "opvoedingsondersteuning"},
        {"path": "content/projecten/a.md", "line": 12, "column": 1, "severity": "warning",
         "field": "", "message": "expected section '## Doel' is missing", "suggestion": None},
    ]


def test_format_json_keeps_non_ascii_readable() -> None:
    d = Diagnostic("content/x.md", 1, 1, "error", "plaats", "'Fryslân' is onbekend")
    assert "Fryslân" in format_json([d])


def test_format_github_workflow_commands() -> None:
    assert format_github([TERM, WARNING]).splitlines() == [
        "::error file=content/projecten/tussen-in.md,line=7,col=11::thema: "
        "'opvoedingsondersteunig' is not a known term; did you mean 'opvoedingsondersteuning'?",
        "::warning file=content/projecten/a.md,line=12,col=1::"
        "expected section '## Doel' is missing",
    ]


def test_format_github_escapes_percent_and_newlines() -> None:
    d = Diagnostic("x.md", 2, 3, "error", "", "50% klaar\nvolgende\rregel")
    assert format_github([d]) == "::error file=x.md,line=2,col=3::50%25 klaar\\nvolgende\\rregel"


def test_a_file_name_cannot_forge_a_github_annotation() -> None:
    d = Diagnostic("a,line=1::x\n::error file=b.md.md", 2, 3, "error", "", "kapot")
    [line] = format_github([d]).splitlines()
    assert line.startswith("::error file=a%2Cline=1%3A%3Ax\\n%3A%3Aerror file=b.md.md,line=2,")


@pytest.mark.parametrize("out", [str, format_text, format_json])
def test_control_characters_from_content_are_printed_as_escapes(
    out: Callable[..., str]
) -> None:
    d = Diagnostic("content/projecten/\x1b[2Jx.md", 1, 1, "error", "t\x07",
                   "'\x1b]0;titel\x07' is not a known term")
    text = out(d) if out is str else out([d])
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b" in text


def test_a_file_name_that_is_not_utf8_can_be_printed_and_given_as_json() -> None:
    name = b"caf\xe9.md".decode("utf-8", "surrogateescape")
    d = Diagnostic(f"content/projecten/{name}", 1, 1, "error", "", "kapot")
    for text in (str(d), format_json([d]), format_github([d])):
        text.encode("utf-8")  # no lone surrogate left: printing cannot fail
        assert "caf\\udce9.md" in text.replace("\\\\", "\\")


def test_a_long_value_is_shortened_in_the_message() -> None:
    long = "x" * 10_000
    d = Diagnostic("x.md", 1, 1, "error", long, f"'{shorten(long)}' is not a known term")
    assert len(str(d)) < 250



def test_an_error_raised_in_a_worker_process_reaches_the_parent_whole() -> None:
    error = DossierError([TERM, WARNING])
    again = pickle.loads(pickle.dumps(error))
    assert again.diagnostics == error.diagnostics
    assert str(again) == str(error)


def test_format_github_escapes_commas_and_colons_in_the_file_name() -> None:
    d = Diagnostic("content/projecten/a,b:c.md", 1, 1, "error", "", "kapot: echt")
    assert format_github([d]) == (
        "::error file=content/projecten/a%2Cb%3Ac.md,line=1,col=1::kapot: echt")
