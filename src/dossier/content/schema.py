"""The content model: collections, fields and vocabularies (schemafile.py reads them
from schema.yml)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from dossier.content.documents import SLUG_RE
from dossier.core.diagnostics import suggest
from dossier.core.yamltree import Path

SCALAR_TYPES = ("string", "text", "date", "month", "year", "url", "email", "phone", "enum", "ref")
MEDIA_TYPES = ("image", "file")  # a file beside the record, with the fields below
ALL_TYPES = (*SCALAR_TYPES, *MEDIA_TYPES, "object", "list")
LANGUAGES = ("nl", "en")
DRAFT_FIELD = "concept"  # every collection accepts `concept: true` for unpublished records

# What each type expects, in the words a diagnostic uses.
EXPECTED = {
    "string": "text",
    "text": "text (Markdown)",
    "date": "a date (YYYY-MM-DD)",
    "month": "a month (YYYY-MM)",
    "year": "a year (e.g. 2012)",
    "url": "a web address starting with https://, http:// or mailto:",
    "email": "an e-mail address",
    "phone": "a phone number",
    "ref": "the slug of a record (its file name without .md)",
    "image": "an image: 'bestand' (a file beside the record) and 'alt' (what it shows)",
    "file": "a document: 'bestand' (a file beside the record) and 'titel'",
}
_FILE_NAME = {"type": "string", "minLength": 1, "x-expected": "the name of a file beside "
              "the record (e.g. foto.jpg), relative to the record file"}
_TEXT = {"type": "string", "minLength": 1, "x-expected": "text that is not empty"}
# The fields of the two media types, the same in every schema; what they mean is in
# docs/redacteuren.md.
FILE_NAME, FILE_TITLE = "bestand", "titel"
IMAGE_ALT, IMAGE_DECORATIVE, IMAGE_CAPTION = "alt", "decoratief", "bijschrift"
MEDIA_FIELDS: dict[str, dict[str, Any]] = {
    "image": {FILE_NAME: _FILE_NAME, IMAGE_ALT: _TEXT,
              IMAGE_DECORATIVE: {"type": "boolean", "x-expected": "true or false"},
              IMAGE_CAPTION: _TEXT},
    "file": {FILE_NAME: _FILE_NAME, FILE_TITLE: _TEXT},
}
PHONE_PATTERN = r"^\+?[0-9][0-9 ()\-]{5,}$"
MEDIA_REQUIRED = {"image": [FILE_NAME], "file": [FILE_NAME, FILE_TITLE]}


@dataclass(frozen=True)
class Label:
    """A Dutch label with an English variant."""

    nl: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.en if lang == "en" else self.nl


@dataclass(frozen=True)
class Field:
    """One field of a collection (or of an object field)."""

    name: str
    type: str
    label: Label
    required: bool = False
    recommended: bool = False  # `dossier check --report` lists records that leave it empty
    facet: bool = False
    summary: bool = False
    vocabulary: str = ""  # enum
    collection: str = ""  # ref
    items: Field | None = None  # list
    fields: tuple[Field, ...] = ()  # object
    order: tuple[str, ...] = ()  # object: these subfields may not decrease
    role: str = ""  # what the theme and the outputs need it for (roles.py)
    # How the records it names call the records naming them through it ("Voert uit").
    reverse_label: Label | None = None
    description: str = ""  # help for editors, from schema.yml's `description`

    def role_field(self, role: str) -> Field | None:
        """The subfield of an object that plays `role` (a publication's title), if any."""
        return next((f for f in self.fields if f.role == role), None)

    @property
    def leaf(self) -> Field:
        """The item field of a list, or the field itself."""
        return self.items if self.items is not None else self

    @property
    def is_list(self) -> bool:
        return self.type == "list"


@dataclass(frozen=True)
class Collection:
    """A kind of record (projects, organisations, dossiers, pages in the default schema)."""

    name: str
    folder: str
    label: Label
    singular: Label
    title_field: str
    fields: tuple[Field, ...]
    sections: tuple[str, ...] = ()
    facet_root: bool = False
    role: str = ""  # what its records are to the theme: project, organisation, … (roles.py)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def role_field(self, role: str) -> Field | None:
        """The field that plays `role` in this collection (its `updated` date, say)."""
        return self._roles.get(role)

    @cached_property
    def _roles(self) -> dict[str, Field]:
        found: dict[str, Field] = {}
        for f in self.fields:
            if f.role:
                found.setdefault(f.role, f)
        return found

    @property
    def facets(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.facet)

    @cached_property
    def ref_fields(self) -> tuple[Field, ...]:
        """The fields that hold a reference to a record, at any depth, in schema order:
        where a record's references are looked for."""
        return tuple(f for f in self.fields if holds_refs(f))

    def url(self, slug: str) -> str:
        return f"{self.folder}/{slug}/" if self.folder else f"{slug}/"

    def facet_folder(self, field_name: str) -> str:
        return field_name if self.facet_root else f"{self.folder}/{field_name}"


@dataclass(frozen=True)
class Term:
    """A term of a controlled vocabulary."""

    key: str
    label: Label
    role: str = ""  # `funder`: what schema.org calls a partner in this role (roles.py)


@dataclass(frozen=True)
class Schema:
    """The whole content model."""

    collections: tuple[Collection, ...]
    vocabularies: Mapping[str, tuple[Term, ...]] = field(default_factory=dict)

    def find(self, name: str) -> Collection | None:
        """The collection called `name`, or None."""
        return next((c for c in self.collections if c.name == name), None)

    def collection(self, name: str) -> Collection:
        found = self.find(name)
        if found is None:  # not StopIteration: Jinja would make that an empty value
            raise LookupError(f"no collection '{name}' in schema.yml"
                              + hint(name, [c.name for c in self.collections]))
        return found

    def role(self, role: str) -> Collection | None:
        """The collection that plays `role` (the first, for `page`), or None."""
        return next((c for c in self.collections if c.role == role), None)

    def with_role(self, role: str) -> tuple[Collection, ...]:
        """Every collection that plays `role` (several may be pages)."""
        return tuple(c for c in self.collections if c.role == role)

    def terms(self, vocabulary: str) -> tuple[Term, ...]:
        return self.vocabularies[vocabulary]

    def term(self, vocabulary: str, key: str) -> Term | None:
        return next((t for t in self.vocabularies.get(vocabulary, ()) if t.key == key), None)

    def term_label(self, vocabulary: str, key: str, lang: str) -> str:
        for term in self.vocabularies.get(vocabulary, ()):
            if term.key == key:
                return term.label(lang)
        return key


def hint(name: str, known: list[str]) -> str:
    """"; did you mean …?" for the closest of `known`, or ''."""
    close = suggest(name, known)
    return f"; did you mean {close}?" if close else ""


def holds_refs(f: Field) -> bool:
    """Whether a field (or something inside it) names other records."""
    return f.type == "ref" or any(holds_refs(sub) for sub in
                                  (*f.fields, *([f.items] if f.items else [])))


def walk_fields(fields: tuple[Field, ...], path: Path) -> Iterator[tuple[Path, Field]]:
    """Every field declaration, nested ones included, with its path in schema.yml."""
    for f in fields:
        here = (*path, f.name)
        yield here, f
        if f.items is not None:
            yield (*here, "items"), f.items
            yield from walk_fields(f.items.fields, (*here, "items", "fields"))
        yield from walk_fields(f.fields, (*here, "fields"))


# --- the JSON Schema of a collection ----------------------------------------------------

def json_schema(collection: Collection, schema: Schema, lang: str = "nl") -> dict[str, Any]:
    """The JSON Schema that a record's front matter must satisfy."""
    result = _object_schema(collection.fields, schema, lang)
    result["properties"][DRAFT_FIELD] = {
        "type": "boolean", "x-expected": "true or false",
        "description": "Concept: not published unless built with --drafts",
    }
    result["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    result["title"] = collection.singular(lang)
    return result


def _object_schema(fields: tuple[Field, ...], schema: Schema, lang: str) -> dict[str, Any]:
    return {
        "type": "object",
        "x-expected": "a group of fields (name: value)",
        "properties": {f.name: _field_schema(f, schema, lang) for f in fields},
        "required": [f.name for f in fields if f.required],
        "additionalProperties": False,
    }


def _field_schema(f: Field, schema: Schema, lang: str) -> dict[str, Any]:
    base: dict[str, Any] = {"title": f.label(lang)}
    if f.type in EXPECTED:
        base["x-expected"] = EXPECTED[f.type]
    t = f.type
    if t in ("string", "text"):
        base.update(type="string", minLength=1)
        base["x-expected"] = "text that is not empty"
    elif t in ("date", "month", "email", "url"):
        base.update(type="string", format=f"dossier-{t}")
    elif t == "year":
        base.update(type="integer", minimum=1000, maximum=2999)
    elif t == "phone":
        base.update(type="string", pattern=PHONE_PATTERN)
    elif t == "ref":
        base.update(type="string", pattern=SLUG_RE.pattern)
    elif t == "enum":
        base["enum"] = [term.key for term in schema.vocabularies.get(f.vocabulary, ())]
    elif t in MEDIA_TYPES:
        base.update(type="object", properties=dict(MEDIA_FIELDS[t]),
                    required=MEDIA_REQUIRED[t], additionalProperties=False)
    elif t == "object":
        base.update(_object_schema(f.fields, schema, lang))
    elif t == "list":
        assert f.items is not None
        base.update(type="array", items=_field_schema(f.items, schema, lang))
        base["x-expected"] = "a list (one '- item' per line, or [a, b])"
    return base


def iter_values(
    fields: tuple[Field, ...], data: Mapping[str, Any], path: Path = ()
) -> Iterator[tuple[Field, Path, Any]]:
    """Every present scalar value in `data` with the (leaf) field that declares it."""
    for f in fields:
        if f.name not in data:
            continue
        yield from _iter_field(f, data[f.name], (*path, f.name))


def _iter_field(f: Field, value: Any, path: Path) -> Iterator[tuple[Field, Path, Any]]:
    if f.type == "list" and f.items is not None and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _iter_field(f.items, item, (*path, i))
    elif f.type == "object" and isinstance(value, dict):
        yield from iter_values(f.fields, value, path)
    else:
        yield f, path, value
