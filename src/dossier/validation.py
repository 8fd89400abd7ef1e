"""Check data against a JSON Schema (with the jsonschema library) and say where it is wrong."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker

from dossier.diagnostics import MAX_PER_FILE, Diagnostic, shorten, suggest
from dossier.yamltree import Path, Tree, dotted

EMAIL_RE = re.compile(r"^[^@\s<>\"':]+@[^@\s<>\"']+\.[A-Za-z]{2,}$")
URL_RE = re.compile(r"^((?i:https?)://[^\s/?#<>\"']+\.[^\s/?#<>\"']+(?:[/?#][^\s<>\"]*)?|(?i:mailto):[^@\s<>\"']+@[^@\s<>\"']+)$")
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

FORMATS = FormatChecker(formats=())


@FORMATS.checks("dossier-date")
def _is_date(value: object) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


@FORMATS.checks("dossier-month")
def _is_month(value: object) -> bool:
    return isinstance(value, str) and bool(MONTH_RE.match(value))


@FORMATS.checks("dossier-email")
def _is_email(value: object) -> bool:
    return isinstance(value, str) and bool(EMAIL_RE.match(value))


@FORMATS.checks("dossier-url")
def _is_url(value: object) -> bool:
    return isinstance(value, str) and bool(URL_RE.match(value))


_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a group of fields",
    "null": "nothing",
}


def describe(value: Any) -> str:
    """What kind of value an editor wrote, in plain words."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a group of fields"
    return "nothing" if value is None else type(value).__name__


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    """A reusable validator (building one per record would dominate load time)."""
    return Draft202012Validator(schema, format_checker=FORMATS)


def check(data: Any, schema: dict[str, Any] | Draft202012Validator, tree: Tree,
          rel_path: str, limit: int = MAX_PER_FILE) -> list[Diagnostic]:
    """Every way `data` breaks `schema`, located in the file `tree` came from.

    After `limit` diagnostics one more says that there are more: a file with 100,000
    wrong values gets a readable report, and quickly.
    """
    validator = schema if isinstance(schema, Draft202012Validator) else validator_for(schema)
    found: list[Diagnostic] = []
    for error in validator.iter_errors(data):
        found.extend(_diagnose(error, tree, rel_path))
        if len(found) > limit:
            last = found[limit]
            return [*found[:limit], Diagnostic(
                rel_path, last.line, last.column, "error", "",
                f"more problems from here on are not shown (at most {limit} per file)")]
    return found


def _diagnose(
    error: jsonschema.ValidationError, tree: Tree, rel_path: str
) -> Iterator[Diagnostic]:
    path: Path = tuple(error.absolute_path)
    line, col = tree.position(path)
    rule: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    expected = rule.get("x-expected", "")
    value: Any = error.instance
    wanted: Any = error.validator_value

    def diag(message: str, where: Path = path, suggestion: str = "",
             at_key: bool = False) -> Diagnostic:
        ln, cl = tree.key_position(where) if at_key else tree.position(where)
        return Diagnostic(rel_path, ln, cl, "error", dotted(where), message, suggestion)

    kind = error.validator
    if "propertyNames" in error.schema_path and isinstance(value, str):
        want = expected or f"a name matching {wanted}"
        yield diag(f"'{shorten(value)}' is not {want}", (*path, value), at_key=True)
    elif kind == "required":
        missing = str(error.message).split("'")[1]
        yield Diagnostic(rel_path, line, col, "error", dotted((*path, missing)),
                         "required field is missing")
    elif kind == "additionalProperties":
        known = list(rule.get("properties", {}))
        for key in sorted(set(value) - set(known)):
            yield diag("unknown field", (*path, key), suggest(key, known), at_key=True)
    elif kind == "enum" and isinstance(value, list | dict):
        yield diag(f"expected one term, found {describe(value)}")
    elif kind == "enum":
        terms = [str(t) for t in wanted]
        shown = f"'{shorten(value)}'" if isinstance(value, str) else describe(value)
        yield diag(f"{shown} is not a known term", suggestion=suggest(str(value), terms))
    elif kind == "type":
        want = expected or _TYPE_NAMES.get(str(wanted), str(wanted))
        yield diag(f"expected {want}, found {describe(value)}")
    elif kind in ("format", "pattern", "minimum", "maximum", "minLength", "maxLength"):
        want = expected or f"a value matching {wanted}"
        shown = (f"'{shorten(str(value))}'" if isinstance(value, str | int)
                 and not isinstance(value, bool) else describe(value))
        yield diag(f"{shown} is not {want}")
    else:
        yield diag(error.message)
