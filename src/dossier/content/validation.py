"""Check data against a JSON Schema and say where it is wrong.

Valid data, which is nearly all of it, is checked by code that fastjsonschema generates
from the schema once per build (a few microseconds a record); only data that fails is
checked again by the jsonschema library, whose errors say everything that is wrong, each
with its place, for the diagnostics.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from dossier.core.diagnostics import MAX_PER_FILE, Diagnostic, shorten, suggest
from dossier.core.yamltree import Path, Tree, dotted

if TYPE_CHECKING:
    import jsonschema

EMAIL_RE = re.compile(r"^[^@\s<>\"':]+@[^@\s<>\"']+\.[A-Za-z]{2,}$")
URL_RE = re.compile(r"^((?i:https?)://[^\s/?#<>\"']+\.[^\s/?#<>\"']+(?:[/?#][^\s<>\"]*)?|(?i:mailto):[^@\s<>\"']+@[^@\s<>\"']+)$")
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def for_javascript(pattern: str) -> str:
    """A Python pattern for editors, which run it in JavaScript: no inline (?i:…), no \\"."""
    spelled = re.sub(r"\(\?i:([a-z?]+)\)", lambda m: "".join(
        f"[{c.upper()}{c}]" if c.isalpha() else c for c in m.group(1)), pattern)
    return spelled.replace('\\"', '"')


# The checks above as patterns for tools that run in a browser or an editor, by field type.
BROWSER_PATTERNS = {
    "date": r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$",
    "month": for_javascript(MONTH_RE.pattern),
    "url": for_javascript(URL_RE.pattern),
    "email": for_javascript(EMAIL_RE.pattern),
}


def _is_date(value: object) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_month(value: object) -> bool:
    return isinstance(value, str) and bool(MONTH_RE.match(value))


def _is_email(value: object) -> bool:
    return isinstance(value, str) and bool(EMAIL_RE.match(value))


def _is_url(value: object) -> bool:
    return isinstance(value, str) and bool(URL_RE.match(value))


# The formats of the schemas schema.py makes; both engines check them with these functions.
FORMAT_CHECKS: dict[str, Callable[[object], bool]] = {
    "dossier-date": _is_date, "dossier-month": _is_month,
    "dossier-email": _is_email, "dossier-url": _is_url,
}


def __getattr__(name: str) -> Any:
    """`FORMATS`, jsonschema's checker of these formats, made when it is first asked for
    (importing jsonschema costs more than a build without errors needs)."""
    if name == "FORMATS":
        import jsonschema

        checker = jsonschema.FormatChecker(formats=())
        for format_name, function in FORMAT_CHECKS.items():
            checker.checks(format_name)(function)
        globals()["FORMATS"] = checker
        return checker
    raise AttributeError(name)


class Validator:
    """One schema: compiled code says whether data is valid; jsonschema explains why not."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self._fast: Callable[[Any], Any] | None = None
        self._full: jsonschema.Draft202012Validator | None = None

    def is_valid(self, data: Any) -> bool:
        if self._fast is None:
            self._fast = _compile(self.schema)
        try:
            self._fast(data)
        except Exception:  # JsonSchemaException, or a surprise: the full check is the judge
            return False
        return True

    def iter_errors(self, data: Any) -> Iterator[jsonschema.ValidationError]:
        if self._full is None:
            import jsonschema

            self._full = jsonschema.Draft202012Validator(
                self.schema, format_checker=__getattr__("FORMATS"))
        return self._full.iter_errors(data)


_COMPILED: dict[str, Callable[[Any], Any]] = {}  # by schema, for processes that build often


def _compile(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """fastjsonschema's validator of `schema` (drafts 4 to 7 cover every keyword used)."""
    import json

    import fastjsonschema

    definition = {k: v for k, v in schema.items() if k != "$schema"}
    definition["$schema"] = "http://json-schema.org/draft-07/schema#"
    key = json.dumps(definition, sort_keys=True)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _COMPILED[key] = fastjsonschema.compile(definition, formats=FORMAT_CHECKS)
    return compiled


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


def validator_for(schema: dict[str, Any]) -> Validator:
    """A reusable validator (building one per record would dominate load time)."""
    return Validator(schema)


def check(data: Any, schema: dict[str, Any] | Validator, tree: Tree,
          rel_path: str, limit: int = MAX_PER_FILE) -> list[Diagnostic]:
    """Every way `data` breaks `schema`, located in the file `tree` came from.

    After `limit` diagnostics one more says that there are more: a file with 100,000
    wrong values gets a readable report, and quickly.
    """
    validator = schema if isinstance(schema, Validator) else Validator(schema)
    if validator.is_valid(data):
        return []
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
    if kind in ("oneOf", "anyOf") and error.context:  # say what the nearest form lacks
        from jsonschema.exceptions import best_match

        yield from _diagnose(best_match([error]), tree, rel_path)  # it looks inside
    elif "propertyNames" in error.schema_path and isinstance(value, str):
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
