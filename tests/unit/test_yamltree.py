"""YAML with positions: values, keys and errors are located where an editor would look."""

from __future__ import annotations

import pytest

from dossier.core.diagnostics import Diagnostic, DossierError
from dossier.core.yamltree import MAX_DEPTH, MAX_NODES, dotted, parse

RECORD = """\
titel: Tussen In
thema:
  - jeugdzorg
  - gezondheid
contact:
  naam: Fatima
  telefoon: 0301234567
partners:
  - organisatie: al-amal
    rol: partner
"""


def only_problem(text: str, line_offset: int = 0) -> Diagnostic:
    """The single diagnostic that parsing `text` raises."""
    with pytest.raises(DossierError) as caught:
        parse(text, "content/projecten/x.md", line_offset)
    assert len(caught.value.diagnostics) == 1, caught.value.diagnostics
    return caught.value.diagnostics[0]


# --- data and positions -----------------------------------------------------------------

def test_data_is_plain_python() -> None:
    tree = parse(RECORD, "x.yml")
    assert tree.data["thema"] == ["jeugdzorg", "gezondheid"]
    assert tree.data["partners"] == [{"organisatie": "al-amal", "rol": "partner"}]


def test_scalar_value_positions_are_one_based_line_and_column() -> None:
    tree = parse(RECORD, "x.yml")
    assert tree.positions[("titel",)] == (1, 8)
    assert tree.positions[("contact", "naam")] == (6, 9)


def test_list_item_positions() -> None:
    tree = parse(RECORD, "x.yml")
    assert tree.positions[("thema", 0)] == (3, 5)
    assert tree.positions[("thema", 1)] == (4, 5)


def test_nested_map_inside_list_positions() -> None:
    tree = parse(RECORD, "x.yml")
    assert tree.positions[("partners", 0, "organisatie")] == (9, 18)
    assert tree.positions[("partners", 0, "rol")] == (10, 10)


def test_key_positions_point_at_the_field_name() -> None:
    tree = parse(RECORD, "x.yml")
    assert tree.key_positions[("thema",)] == (2, 1)
    assert tree.key_positions[("contact", "telefoon")] == (7, 3)
    assert tree.key_positions[("partners", 0, "rol")] == (10, 5)


def test_line_offset_shifts_lines_but_not_columns() -> None:
    tree = parse(RECORD, "x.md", line_offset=1)
    assert tree.positions[("titel",)] == (2, 8)
    assert tree.key_positions[("contact", "telefoon")] == (8, 3)


def test_position_of_a_missing_value_falls_back_to_its_parent() -> None:
    tree = parse(RECORD, "x.yml")
    assert tree.position(("contact", "email")) == tree.positions[("contact",)] == (6, 3)


def test_key_position_without_a_key_falls_back_to_the_value() -> None:
    tree = parse(RECORD, "x.yml")
    assert tree.key_position(("thema", 1)) == (4, 5)


def test_empty_document_is_an_empty_mapping() -> None:
    tree = parse("", "x.md", line_offset=1)
    assert tree.data == {}
    assert tree.position(("titel",)) == (2, 1)


def test_dotted_path_leaves_out_list_positions() -> None:
    assert dotted(("partners", 1, "rol")) == "partners.rol"


# --- scalars ----------------------------------------------------------------------------

def test_dates_stay_text() -> None:
    tree = parse("bijgewerkt: 2012-06-14\nmoment: 2012-06-14 10:00:00\n", "x.yml")
    assert tree.data == {"bijgewerkt": "2012-06-14", "moment": "2012-06-14 10:00:00"}


def test_impossible_date_stays_text_for_the_schema_to_judge() -> None:
    assert parse("bijgewerkt: 2012-02-30\n", "x.yml").data == {"bijgewerkt": "2012-02-30"}


def test_raw_keeps_what_the_editor_typed_for_a_phone_number() -> None:
    tree = parse("telefoon: 0301234567\n", "x.yml")
    assert tree.raw[("telefoon",)] == "0301234567"


@pytest.mark.parametrize(
    ("typed", "value"),
    [("yes", True), ("on", True), ("1.0", 1.0), ("12:30", 750), ("~", None), ("0x1F", 31)],
)
def test_raw_keeps_original_text_of_non_string_scalars(typed: str, value: object) -> None:
    tree = parse(f"titel: {typed}\n", "x.yml")
    assert tree.data["titel"] == value
    assert tree.raw[("titel",)] == typed


def test_raw_has_no_entry_for_text() -> None:
    tree = parse("titel: Tussen In\nb: '12'\n", "x.yml")
    assert tree.raw == {}
    assert tree.data["b"] == "12"


def test_raw_of_nested_values_uses_full_path() -> None:
    tree = parse(RECORD, "x.yml")
    assert tree.raw == {("contact", "telefoon"): "0301234567"}


# --- errors -----------------------------------------------------------------------------

def test_syntax_error_is_located_at_the_offending_character() -> None:
    problem = only_problem("titel: x\nsamenvatting: a: b\n")
    assert (problem.path, problem.line, problem.column) == ("content/projecten/x.md", 2, 16)
    assert problem.severity == "error"
    assert problem.message.startswith("YAML syntax error: ")
    assert "mapping values are not allowed" in problem.message


def test_syntax_error_line_includes_line_offset() -> None:
    problem = only_problem("titel: x\nthema: [jeugdzorg\nplaats: Utrecht\n", line_offset=1)
    assert (problem.line, problem.column) == (4, 7)
    assert "flow sequence" in problem.message


def test_unclosed_quote_is_a_syntax_error() -> None:
    problem = only_problem("titel: 'Tussen In\n")
    assert problem.message.startswith("YAML syntax error: ")


def test_tab_after_a_value_mentions_the_tab() -> None:
    problem = only_problem("titel: x\n\tplaats: Utrecht\n")
    assert (problem.line, problem.column) == (2, 1)
    assert "tab" in problem.message


def test_tab_used_for_indentation_says_to_use_spaces() -> None:
    problem = only_problem("contact:\n\tnaam: Fatima\n")
    assert (problem.line, problem.column) == (2, 1)
    assert "use spaces, not tabs" in problem.message


def test_duplicate_key_is_an_error_at_the_second_key() -> None:
    problem = only_problem("titel: a\nplaats: b\ntitel: c\n")
    assert (problem.line, problem.column, problem.field) == (3, 1, "titel")
    assert problem.message == "field appears twice"


def test_duplicate_nested_key_names_the_dotted_field() -> None:
    problem = only_problem("contact:\n  naam: a\n  naam: b\n", line_offset=1)
    assert (problem.line, problem.column, problem.field) == (4, 3, "contact.naam")


def test_every_duplicate_key_is_reported_in_one_pass() -> None:
    with pytest.raises(DossierError) as caught:
        parse("a: 1\na: 2\nb: 1\nb: 2\n", "x.yml")
    assert [(d.line, d.field) for d in caught.value.diagnostics] == [(2, "a"), (4, "b")]


def test_merge_key_is_refused() -> None:
    problem = only_problem("basis: &b {a: 1}\nandere:\n  <<: *b\n")
    assert (problem.line, problem.column) == (3, 3)
    assert "merge keys" in problem.message


def test_complex_key_is_refused() -> None:
    problem = only_problem("? [a, b]\n: c\n")
    assert problem.message == "a field name must be a plain word"


def test_python_tag_on_a_scalar_is_refused() -> None:
    problem = only_problem("titel: !!python/name:os.system x\n")
    assert "could not determine a constructor" in problem.message


def test_python_tag_on_a_list_gives_plain_data_not_a_call() -> None:
    tree = parse("titel: !!python/object/apply:os.system ['false']\n", "x.yml")
    assert tree.data == {"titel": ["false"]}


def test_unknown_tag_is_reported_at_its_own_line_and_column() -> None:
    problem = only_problem("titel: x\nsamenvatting: !belangrijk y\n", line_offset=1)
    assert (problem.line, problem.column) == (3, 15)
    assert "\n" not in problem.message


def test_billion_laughs_alias_bomb_is_a_diagnostic() -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    problem = only_problem("\n".join(lines) + "\n")
    assert problem.severity == "error"
    assert "alias expansion" in problem.message


def test_small_aliases_are_expanded() -> None:
    tree = parse("a: &x [1, 2]\nb: *x\n", "x.yml")
    assert tree.data == {"a": [1, 2], "b": [1, 2]}


def test_nesting_at_max_depth_is_accepted() -> None:
    text = "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n"
    tree = parse(text, "x.yml")
    assert tree.data["a"] is not None


def test_nesting_deeper_than_max_depth_is_a_diagnostic() -> None:
    depth = MAX_DEPTH + 1
    problem = only_problem("a: " + "[" * depth + "]" * depth + "\n")
    assert problem.message == f"nesting deeper than {MAX_DEPTH} levels"
    # the innermost list, the (MAX_DEPTH+1)th bracket after 'a: '
    assert (problem.line, problem.column) == (1, 3 + depth)


def test_error_message_has_no_python_traceback_text() -> None:
    problem = only_problem("a: b: c\n")
    assert "Traceback" not in str(problem)
    assert str(problem) == (
        "content/projecten/x.md:1:5: error: "
        "YAML syntax error: mapping values are not allowed in this context"
    )


def test_a_huge_flow_list_is_refused_before_its_tree_is_built() -> None:
    problem = only_problem("a: [" + "x, " * (MAX_NODES + 10) + "]\n")
    assert problem.message == f"document has more than {MAX_NODES:,} values"
    assert problem.line == 1


def test_many_fields_are_refused_like_many_values() -> None:
    text = "".join(f"k{i}: 1\n" for i in range(MAX_NODES + 1))
    assert "more than" in only_problem(text).message


@pytest.mark.parametrize(
    ("text", "code"),
    [('titel: "x\\vy"', "U+000B"), ('titel: "\\0"', "U+0000"), ('titel: "a\\x1bb"', "U+001B"),
     ('titel: "\\uFFFE"', "U+FFFE"), ('"sleutel\\x01": 1', "U+0001")],
)
def test_invisible_characters_written_as_escapes_are_reported(text: str, code: str) -> None:
    problem = only_problem(text + "\n")
    assert code in problem.message
    assert problem.line == 1


def test_tabs_and_line_ends_in_values_are_fine() -> None:
    assert parse('a: "een\\ttwee\\ndrie"\n', "x.yml").data == {"a": "een\ttwee\ndrie"}


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_an_invisible_unicode_line_break_is_reported_where_the_editor_sees_it(
    separator: str
) -> None:
    problem = only_problem(f"titel: x\nplaats: Den{separator}Haag\nthema: [a]\n", line_offset=1)
    assert (problem.line, problem.column) == (3, 12)
    assert problem.message == (f"contains the invisible line break U+{ord(separator):04X}, "
                               "which YAML reads as the end of a line; remove it")


def test_an_escaped_unicode_line_break_is_a_value_like_any_other() -> None:
    assert parse('titel: "Den\\u2028Haag"\n', "x.yml").data == {"titel": "Den\u2028Haag"}
