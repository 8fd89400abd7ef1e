"""Reading schema.yml: its form checked against a JSON Schema, its meaning (references,
vocabularies, sections, roles) checked after, every problem in one pass."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dossier.content import roles
from dossier.content.documents import SLUG_RE
from dossier.content.schema import (
    ALL_TYPES,
    Collection,
    Field,
    Label,
    Schema,
    Term,
    holds_refs,
    walk_fields,
)
from dossier.content.validation import check
from dossier.core.diagnostics import Diagnostic, DossierError, suggest
from dossier.core.yamltree import Path, Tree, dotted

# --- reading schema.yml -----------------------------------------------------------------

_LABEL = {
    "oneOf": [
        {"type": "string", "x-expected": "a label"},
        {"type": "object", "properties": {"nl": {"type": "string"}, "en": {"type": "string"}},
         "required": ["nl"], "additionalProperties": False},
    ]
}
# Field names become URL folders (facets), ids and export columns.
_FIELD_NAMES = {"pattern": r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$",
                "x-expected": "a field name (lowercase letters, digits, '-' or '_')"}
_FIELD: dict[str, Any] = {
    "type": "object",
    "x-expected": "a field declaration (type, label, …)",
    "required": ["type"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": list(ALL_TYPES)},
        "label": _LABEL,
        "required": {"type": "boolean"},
        "recommended": {"type": "boolean"},
        "facet": {"type": "boolean"},
        "summary": {"type": "boolean"},
        "vocabulary": {"type": "string"},
        "collection": {"type": "string"},
        "items": {"$ref": "#/$defs/field"},
        "fields": {"type": "object", "additionalProperties": {"$ref": "#/$defs/field"},
                   "propertyNames": _FIELD_NAMES},
        "order": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
        "description": {"type": "string"},
        "role": {"enum": list(roles.FIELD_ROLES)},
        "reverse_label": _LABEL,
    },
}
_TERM = {
    "oneOf": [
        {"type": "string", "x-expected": "a label"},
        {"type": "object", "properties": {"nl": {"type": "string"}, "en": {"type": "string"},
                                          "role": {"enum": list(roles.TERM_ROLES)}},
         "required": ["nl"], "additionalProperties": False},
    ]
}
META_SCHEMA: dict[str, Any] = {
    "$defs": {"field": _FIELD},
    "type": "object",
    "required": ["collections"],
    "additionalProperties": False,
    "properties": {
        "vocabularies": {
            "type": "object",
            "additionalProperties": {
                "type": "object", "x-expected": "a list of terms (term: label)",
                "propertyNames": {"pattern": r"^-?[a-z0-9]+(?:-[a-z0-9]+)*$"},
                "additionalProperties": _TERM,
            },
        },
        "collections": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["folder", "fields", "title"],
                "additionalProperties": False,
                "properties": {
                    "folder": {"type": "string", "pattern": r"^([a-z0-9]+(?:-[a-z0-9]+)*)?$",
                               "x-expected": "a folder name (lowercase, or '' for the root)"},
                    "label": _LABEL,
                    "singular": _LABEL,
                    "title": {"type": "string"},
                    "facet_root": {"type": "boolean"},
                    "role": {"enum": list(roles.COLLECTION_ROLES)},
                    "sections": {"type": "array", "items": {"type": "string"}},
                    "fields": {"type": "object",
                               "additionalProperties": {"$ref": "#/$defs/field"},
                               "propertyNames": _FIELD_NAMES},
                },
            },
        },
    },
}


def _label(raw: Any, fallback: str) -> Label:
    if isinstance(raw, dict):
        return Label(str(raw["nl"]), str(raw.get("en") or raw["nl"]))
    if isinstance(raw, str):
        return Label(raw, raw)
    text = fallback.replace("-", " ").replace("_", " ").capitalize()
    return Label(text, text)


def _field(name: str, raw: dict[str, Any]) -> Field:
    return Field(
        name=name,
        type=raw["type"],
        label=_label(raw.get("label"), name),
        required=raw.get("required", False),
        recommended=raw.get("recommended", False),
        facet=raw.get("facet", False),
        summary=raw.get("summary", False),
        vocabulary=raw.get("vocabulary", ""),
        collection=raw.get("collection", ""),
        items=_field(name, raw["items"]) if "items" in raw else None,
        fields=tuple(_field(k, v) for k, v in raw.get("fields", {}).items()),
        order=tuple(raw.get("order", ())),
        role=raw.get("role", ""),
        reverse_label=_label(raw["reverse_label"], name) if "reverse_label" in raw else None,
        description=raw.get("description", ""),
    )


def parse_schema(tree: Tree, rel_path: str,
                 warnings: list[Diagnostic] | None = None) -> Schema:
    """Turn schema.yml's data into a Schema, reporting every problem in one pass.

    `warnings` receives what a valid schema leaves out (a role the theme needs).
    """
    problems = check(tree.data, META_SCHEMA, tree, rel_path)
    try:
        schema = _build_schema(tree.data)
    except (KeyError, TypeError, AttributeError):
        raise DossierError(problems) from None  # too broken to look further
    problems.extend(_semantic_problems(schema, tree, rel_path))
    problems.extend(roles.problems(schema, tree, rel_path))
    if problems:
        raise DossierError(problems)
    if warnings is not None:
        warnings.extend(roles.warnings(schema, tree, rel_path))
    return schema


def _build_schema(raw: Any) -> Schema:
    vocabularies = {
        name: tuple(Term(str(k), _label(v, str(k)),
                         v.get("role", "") if isinstance(v, dict) else "")
                    for k, v in (terms or {}).items())
        for name, terms in (raw.get("vocabularies") or {}).items()
    }
    collections = tuple(
        Collection(
            name=name,
            folder=spec["folder"],
            label=_label(spec.get("label"), name),
            singular=_label(spec.get("singular"), name),
            title_field=spec["title"],
            fields=tuple(_field(k, v) for k, v in spec["fields"].items()),
            sections=tuple(spec.get("sections", ())),
            facet_root=spec.get("facet_root", False),
            role=spec.get("role", ""),
        )
        for name, spec in raw["collections"].items()
    )
    return Schema(collections, vocabularies)


def _semantic_problems(schema: Schema, tree: Tree, rel: str) -> Iterator[Diagnostic]:
    names = [c.name for c in schema.collections]
    roots = [c.name for c in schema.collections if c.facet_root]
    if len(roots) > 1:
        line, col = tree.position(("collections", roots[1], "facet_root"))
        yield Diagnostic(rel, line, col, "error", "facet_root",
                         "only one collection can have its facet pages at the site root")
    for c in schema.collections:
        base: Path = ("collections", c.name)
        if not SLUG_RE.match(c.name):
            line, col = tree.key_position(base)
            yield Diagnostic(rel, line, col, "error", c.name,
                             "collection names must be lowercase letters, digits and '-'")
        title = c.field(c.title_field)
        if title is None or title.type != "string":
            line, col = tree.position((*base, "title"))
            yield Diagnostic(rel, line, col, "error", dotted((*base, "title")),
                             f"'{c.title_field}' is not a text field of {c.name}",
                             suggest(c.title_field, [f.name for f in c.fields
                                                     if f.name != c.title_field]))
        for path, f in walk_fields(c.fields, (*base, "fields")):
            yield from _field_problems(f, path, schema, names, tree, rel)


def _field_problems(f: Field, path: Path, schema: Schema, names: list[str],
                    tree: Tree, rel: str) -> Iterator[Diagnostic]:
    def problem(key: str, message: str, hint: str = "") -> Diagnostic:
        line, col = tree.position((*path, key)) if (*path, key) in tree.positions \
            else tree.key_position(path)
        return Diagnostic(rel, line, col, "error", dotted((*path, key)), message, hint)

    if f.type == "enum" and f.vocabulary not in schema.vocabularies:
        yield problem("vocabulary", f"'{f.vocabulary}' is not a declared vocabulary",
                      suggest(f.vocabulary, schema.vocabularies))
    if f.type == "ref" and f.collection not in names:
        yield problem("collection", f"'{f.collection}' is not a declared collection",
                      suggest(f.collection, names))
    if f.type == "list" and f.items is None:
        yield problem("type", "a list needs 'items', the declaration of one item")
    if f.type == "object" and not f.fields:
        yield problem("type", "an object needs 'fields'")
    if f.facet and f.leaf.type not in ("enum", "string"):
        yield problem("facet", "only enum and string fields (or lists of them) can be facets")
    for name in f.order:
        if not any(sub.name == name for sub in f.fields):
            yield problem("order", f"'{name}' is not a field of {f.name}",
                          suggest(name, [s.name for s in f.fields]))
    if f.reverse_label is not None and not holds_refs(f):
        yield problem("reverse_label", "only a field that names other records (a ref, or "
                      "a list or object holding one) has a reverse side")
