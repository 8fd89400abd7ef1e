"""Validate stage: documents → records, every problem reported in one pass."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from dossier.content.documents import SLUG_RE, Document, pack_text, unpack_text
from dossier.content.markup import nesting_problem
from dossier.content.schema import DRAFT_FIELD, Collection, Field, Schema, iter_values, json_schema
from dossier.content.validation import check, validator_for
from dossier.core import deps
from dossier.core.diagnostics import Diagnostic, shorten, suggest
from dossier.core.yamltree import Path, Tree, dotted

_TEXT_TYPES = ("string", "text", "phone")
_HEADING_RE = re.compile(r"^##\s+(.+?)\s*#*\s*$")
_FENCE_RE = re.compile(r"^(```|~~~)")


class Record:
    """A valid record: its collection, slug, data and Markdown body.

    While a page renders (deps.py), what is read of a record is noted: each field of its
    data, its body, its title; so is what is read through its references and facets.
    """

    __slots__ = (
        "_body",
        "_data",
        "_facets",
        "_ref_fields",
        "_refs",
        "_sort_key",
        "body_line",
        "collection",
        "digest",
        "key",
        "path",
        "slug",
    )

    def __init__(self, collection: Collection, slug: str, path: str, data: Mapping[str, Any],
                 body: str | bytes, body_line: int, digest: str = "") -> None:
        self.collection = collection
        self.slug = slug
        self.path = path
        self._data = data
        self._body = pack_text(body)
        self.body_line = body_line
        self.digest = digest  # hash of the source file: what incremental builds compare
        self._refs: tuple[tuple[str, str, str], ...] | None = None
        self._facets: dict[str, tuple[str, ...]] | None = None
        self._sort_key: tuple[str, str] | None = None
        self._ref_fields: tuple[str, ...] = ()
        self.key: tuple[str, str] = (collection.name, slug)

    def with_data(self, data: Mapping[str, Any], digest: str) -> Record:
        """The same record with other data (a date from history, say)."""
        twin = Record(self.collection, self.slug, self.path, data, "", self.body_line, digest)
        twin._body = self._body  # as it is kept: not unpacked and packed again
        return twin

    @property
    def data(self) -> Mapping[str, Any]:
        """The record's fields; while a page renders, every field it reads is noted."""
        if deps.active():
            return _Fields(self)
        return self._data

    @property
    def unrecorded_data(self) -> Mapping[str, Any]:
        """The record's fields, read without noting a dependency (to compute one's value)."""
        return self._data

    @property
    def body(self) -> str:
        if deps.active():
            deps.note(("f", self.collection.name, self.slug, "@body"))
        return unpack_text(self._body)

    @property
    def raw_body(self) -> str:
        """The Markdown body, without noting that it was read (for the build's bookkeeping)."""
        return unpack_text(self._body)

    def read(self, name: str) -> None:
        """Note that the field `name` was read (for what is made of it, like the title)."""
        if deps.active():
            deps.note(("f", self.collection.name, self.slug, name))

    @property
    def refs(self) -> tuple[tuple[str, str, str], ...]:
        """Every reference: (dotted field, collection, slug), in schema order."""
        if self._refs is None:
            found = [(dotted(path), f.collection, value)
                     for f, path, value in iter_values(self.collection.ref_fields, self._data)
                     if f.type == "ref" and isinstance(value, str) and SLUG_RE.match(value)]
            self._refs = tuple(found)
            self._ref_fields = tuple(dict.fromkeys(where.split(".")[0] for where, _, _ in found))
        if deps.active():
            for name in self._ref_fields:
                self.read(name)
        return self._refs

    def facet(self, name: str) -> tuple[str, ...]:
        """The term keys this record carries for one facet field."""
        self.read(name)
        return self.unrecorded_facet_values().get(name, ())

    @property
    def facets(self) -> dict[str, tuple[str, ...]]:
        found = self.unrecorded_facet_values()
        if deps.active():
            for f in self.collection.facets:
                self.read(f.name)
        return found

    def unrecorded_facet_values(self) -> dict[str, tuple[str, ...]]:
        """Every facet field's term keys, without noting the read (for the model's own
        bookkeeping)."""
        if self._facets is None:
            found = {}
            for f in self.collection.facets:
                value = self._data.get(f.name)
                if value is not None:
                    values = value if isinstance(value, list) else [value]
                    found[f.name] = tuple(dict.fromkeys(str(v) for v in values))
            self._facets = found
        return self._facets

    def role_value(self, role: str) -> Any:
        """The value of the field that plays `role` in the record's collection (None when
        no field does, or the record leaves it out)."""
        f = self.collection.role_field(role)
        if f is None:
            return None
        self.read(f.name)
        return self._data.get(f.name)

    @property
    def title(self) -> str:
        self.read(self.collection.title_field)
        return str(self._data.get(self.collection.title_field, self.slug))

    @property
    def url(self) -> str:
        return self.collection.url(self.slug)

    @property
    def sort_key(self) -> tuple[str, str]:
        """Title as a reader sorts it (case and accents ignored), then slug."""
        self.read(self.collection.title_field)
        return self.unrecorded_sort_key()

    def unrecorded_sort_key(self) -> tuple[str, str]:
        """`sort_key` without noting the read (for the model's own bookkeeping)."""
        if self._sort_key is None:
            title = str(self._data.get(self.collection.title_field, self.slug))
            if title.isascii():  # nothing to decompose, no accents to drop
                self._sort_key = (title.casefold(), self.slug)
            else:
                decomposed = unicodedata.normalize("NFKD", title.casefold())
                self._sort_key = ("".join(c for c in decomposed
                                          if not unicodedata.combining(c)), self.slug)
        return self._sort_key

    @property
    def draft(self) -> bool:
        return self._data.get(DRAFT_FIELD) is True

    def __repr__(self) -> str:
        return f"Record({self.collection.name}/{self.slug})"


class _Fields(Mapping[str, Any]):
    """A record's data that notes which fields are read (a view, made per access)."""

    __slots__ = ("_record",)

    def __init__(self, record: Record) -> None:
        self._record = record

    def __getitem__(self, name: str) -> Any:
        self._record.read(name)
        return self._record._data[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self._record.read(name)
        return name in self._record._data

    def get(self, name: str, default: Any = None) -> Any:
        self._record.read(name)
        return self._record._data.get(name, default)

    def __iter__(self) -> Iterator[str]:
        self._record.read("@all")
        return iter(self._record._data)

    def __len__(self) -> int:
        self._record.read("@all")
        return len(self._record._data)

    def __eq__(self, other: object) -> bool:
        self._record.read("@all")
        return dict(self._record._data) == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._record._data)


def validate(documents: list[Document], schema: Schema, drafts: bool,
             problems: list[Diagnostic],
             unreadable: set[tuple[str, str]] | None = None,
             verdicts: dict[str, tuple[Diagnostic, ...]] | None = None,
             made: dict[str, tuple[Document, Record]] | None = None) -> list[Record]:
    """Check every document against the schema and each other; return the publishable records.

    `verdicts` receives each document's own diagnostics (for the build cache); documents
    that come from that cache carry their verdict and are not checked again. `made`: the
    records made of the documents before, by path; a document that is the same object
    gives the same record (what it worked out is kept); it is left holding this run's.
    """
    before = dict(made) if made is not None else {}
    now: dict[str, tuple[Document, Record]] = {}
    schemas = {c.name: validator_for(json_schema(c, schema)) for c in schema.collections}
    checked: list[tuple[Document, Record]] = []
    broken: list[tuple[Document, Record]] = []  # with errors of their own, still ref-checked
    for doc in documents:
        collection = schema.collection(doc.collection)
        data = doc.tree.data if doc.verdict is not None else coerce(collection.fields, doc.tree)
        found = list(doc.verdict) if doc.verdict is not None else _check_document(
            collection, data, doc, schemas[doc.collection])
        problems.extend(found)
        if verdicts is not None:
            verdicts[doc.path] = tuple(found)
        if isinstance(data, dict):
            known = before.get(doc.path)
            if known is not None and known[0] is doc and known[1].collection is collection:
                record = known[1]
            else:
                record = Record(collection, doc.slug, doc.path, data, doc.body, doc.body_line,
                                doc.digest)
            if made is not None:
                now[doc.path] = doc, record
            (broken if any(d.is_error for d in found) else checked).append((doc, record))
    if made is not None:
        made.clear()
        made.update(now)
    duplicates = list(_duplicates(documents))
    problems.extend(_duplicate_problem(doc, first) for doc, first in duplicates)
    dropped = {id(doc) for doc, _ in duplicates}
    checked = [(d, r) for d, r in checked if id(d) not in dropped]
    published = [(d, r) for d, r in checked if drafts or not r.draft]
    # Records with errors of their own are not published, but their references are checked
    # too: all problems in one pass.
    problems.extend(_reference_problems(published + broken, checked, documents,
                                        unreadable or set()))
    return [r for _, r in published]


class Settler:
    """Checks each document on its own as soon as it is loaded, and keeps of its positions
    only those of references (what the checks between records may have to point at).

    A site's documents are then never all held with the position of every value: that
    is most of the memory a large site takes while it loads.
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.validators = {c.name: validator_for(json_schema(c, schema))
                           for c in schema.collections}

    def __call__(self, doc: Document) -> Document:
        if doc.verdict is not None:
            return doc
        collection = self.schema.collection(doc.collection)
        data = coerce(collection.fields, doc.tree)
        found = _check_document(collection, data, doc, self.validators[doc.collection])
        refs = {path: doc.tree.position(path)
                for f, path, _ in iter_values(collection.ref_fields, data)
                if f.type == "ref"} if isinstance(data, dict) else {}
        return replace(doc, tree=Tree(data, refs), verdict=tuple(found),
                       body=pack_text(doc.body))


def _check_document(collection: Collection, data: Any, doc: Document,
                    validator: Any) -> list[Diagnostic]:
    """What is wrong with one document on its own (not its references)."""
    found = check(data, validator, doc.tree, doc.path)
    if isinstance(data, dict):
        found += list(_order_problems(collection.fields, data, doc))
    found += list(_section_problems(collection, doc))
    found += list(_nesting_problems(collection, data, doc))
    if isinstance(data, dict):
        found += list(_image_problems(collection, data, doc))
    return found


def _image_problems(collection: Collection, data: Mapping[str, Any],
                    doc: Document) -> Iterator[Diagnostic]:
    """Every image says what it shows (`alt`), or that it only decorates (`decoratief`)."""
    for f, path, value in iter_values(collection.fields, data):
        if f.type != "image" or not isinstance(value, dict):
            continue
        decorative = value.get("decoratief") is True
        if decorative and value.get("alt"):
            line, col = doc.tree.position((*path, "decoratief"))
            yield Diagnostic(doc.path, line, col, "error", dotted((*path, "decoratief")),
                             "a decorative image has no alternative text; remove 'alt' or "
                             "'decoratief: true'")
        elif not decorative and "alt" not in value:
            line, col = doc.tree.position(path)
            yield Diagnostic(doc.path, line, col, "error", dotted((*path, "alt")),
                             "an image needs alternative text: 'alt: …' says what it shows, "
                             "for visitors who cannot see it (an image that only decorates "
                             "says 'decoratief: true')")


def _nesting_problems(collection: Collection, data: Any, doc: Document) -> Iterator[Diagnostic]:
    """Markdown nested beyond what the converter and sanitiser handle in bounded time."""
    if doc.body and (problem := nesting_problem(unpack_text(doc.body))):
        line, message = problem
        yield Diagnostic(doc.path, doc.body_line + line - 1, 1, "error", "body", message)
    if not isinstance(data, dict):
        return
    for f, path, value in iter_values(collection.fields, data):
        if f.type == "text" and isinstance(value, str) and (problem := nesting_problem(value)):
            line, col = doc.tree.position(path)
            yield Diagnostic(doc.path, line, col, "error", dotted(path), problem[1])


def coerce(fields: tuple[Field, ...], tree: Tree) -> Any:
    """Give text fields back what the editor typed where YAML read a number or yes/no."""
    data = tree.data
    if not isinstance(data, dict) or not tree.raw:
        return data
    for f, path, value in iter_values(fields, data):
        if f.type in _TEXT_TYPES and not isinstance(value, str) and path in tree.raw:
            _set(data, path, tree.raw[path])
    return data


def _set(data: Any, path: Path, value: Any) -> None:
    for step in path[:-1]:
        data = data[step]
    data[path[-1]] = value


def _order_problems(fields: tuple[Field, ...], data: Mapping[str, Any],
                    doc: Document, path: Path = ()) -> Iterator[Diagnostic]:
    """Object fields with `order: [start, eind]`: eind may not come before start."""
    for f in fields:
        value = data.get(f.name)
        here = (*path, f.name)
        if f.type == "object" and isinstance(value, dict):
            if f.order:
                first, second = (value.get(k) for k in f.order)
                if isinstance(first, str) and isinstance(second, str) and second < first:
                    line, col = doc.tree.position((*here, f.order[1]))
                    yield Diagnostic(doc.path, line, col, "error", dotted((*here, f.order[1])),
                                     f"'{second}' is before {f.order[0]} '{first}'")
            yield from _order_problems(f.fields, value, doc, here)
        elif f.type == "list" and f.items is not None and isinstance(value, list):
            for i, item in enumerate(value):
                if f.items.type == "object" and isinstance(item, dict):
                    yield from _order_problems(f.items.fields, item, doc, (*here, i))


def headings(body: str) -> Iterator[tuple[int, str]]:
    """`## ` headings of a Markdown body (outside code blocks), with their line index."""
    fenced = False
    for i, line in enumerate(body.split("\n")):
        if _FENCE_RE.match(line):
            fenced = not fenced
        elif not fenced and (m := _HEADING_RE.match(line)):
            yield i, m.group(1)


def _section_problems(collection: Collection, doc: Document) -> Iterator[Diagnostic]:
    if not collection.sections or not doc.path.endswith(".md"):
        return
    present = {title.strip().lower() for _, title in headings(unpack_text(doc.body))}
    for section in collection.sections:
        if section.lower() not in present:
            yield Diagnostic(doc.path, doc.body_line, 1, "warning", "body",
                             f"expected section '## {section}' is missing")


def _duplicates(documents: list[Document]) -> Iterator[tuple[Document, Document]]:
    """Each document whose slug an earlier document of its collection already has."""
    seen: dict[tuple[str, str], Document] = {}
    for doc in documents:
        first = seen.setdefault((doc.collection, doc.slug), doc)
        if first is not doc:
            yield doc, first


def _duplicate_problem(doc: Document, first: Document) -> Diagnostic:
    return Diagnostic(doc.path, 1, 1, "error", "",
                      f"duplicate slug '{doc.slug}': {first.path} has it too")


def _reference_problems(published: list[tuple[Document, Record]],
                        checked: list[tuple[Document, Record]],
                        documents: list[Document],
                        unreadable: set[tuple[str, str]]) -> Iterator[Diagnostic]:
    """Every ref names a record that exists and is published."""
    existing: dict[str, set[str]] = {}
    for collection, slug in [*((d.collection, d.slug) for d in documents), *unreadable]:
        existing.setdefault(collection, set()).add(slug)
    live = {r.key for _, r in published}
    drafts = {r.key for _, r in checked if r.draft}
    for doc, record in published:
        for where, collection, value in record.refs:
            if (collection, value) in live:
                continue
            path = _path_of(record, where, collection, value)
            line, col = doc.tree.position(path)
            if (collection, value) in drafts:
                yield Diagnostic(doc.path, line, col, "error", where, f"'{shorten(value)}' is a "
                                 "draft (concept: true) and is not published")
            elif value not in existing.get(collection, set()):
                hint = suggest(value, existing.get(collection, set()))
                yield Diagnostic(doc.path, line, col, "error", where,
                                 f"no record '{shorten(value)}' in {collection}", hint)


def _path_of(record: Record, where: str, collection: str, value: str) -> Path:
    """The full path (with list positions) of a reference, to find its line and column."""
    for f, path, found in iter_values(record.collection.fields, record.data):
        if f.type == "ref" and found == value and dotted(path) == where:
            return path
    return ()
