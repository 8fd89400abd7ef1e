"""Open data: records as JSON, JSON Lines and CSV, with JSON Schemas and a Data Package."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from dossier.content.records import Record
from dossier.content.schema import MEDIA_TYPES, Collection, Field, Schema
from dossier.core import deps
from dossier.core.urls import absolute
from dossier.model.site import Site, sort_key
from dossier.write.files import Stream

LIST_SEPARATOR = "; "
BODY_COLUMN = "tekst"


# Where a record's row lies: start and end (bytes) in the .json, .jsonl and .csv file.
Span = tuple[int, int, int, int, int, int]


@dataclass
class Rows:
    """Where each record's row lies in a collection's export files, and what making it
    read: the next build copies the rows whose record and references did not change (the
    build's state keeps them, incremental/state.py)."""

    order: list[str] = field(default_factory=list)  # slugs, in the order of the files
    spans: dict[str, Span] = field(default_factory=dict)
    deps: dict[str, bytes] = field(default_factory=dict)  # per slug: what its row read


def _ref(site: Site, collection: str, slug: str) -> dict[str, str]:
    target = site.get(collection, slug)
    result = {"slug": slug, "titel": target.title, "url": target.url}
    if site.config.base_url:
        result["url"] = absolute(site.config.base_url, target.url)
    return result


def _value(site: Site, record: Record, f: Field, value: Any) -> Any:
    if f.type == "ref":
        return _ref(site, f.collection, value)
    if f.type in MEDIA_TYPES:
        return _media(site, record, value)
    if f.type == "list" and f.items is not None:
        return [_value(site, record, f.items, v) for v in value]
    if f.type == "object":
        return {sub.name: _value(site, record, sub, value[sub.name]) for sub in f.fields
                if sub.name in value}
    return value


# What an image or document becomes in the open data: its address instead of its file name.
MEDIA_EXPORT = {"image": ("url", "alt", "decoratief", "bijschrift"),
                "file": ("url", "titel", "mediatype", "bytes")}


def _media(site: Site, record: Record, value: dict[str, Any]) -> dict[str, Any]:
    """An image or document as its published address (absolute with base_url), like refs."""
    found = site.media.find(record.path, value["bestand"])
    url = found.rel if found is not None else ""
    if url and site.config.base_url:
        url = absolute(site.config.base_url, url)
    result: dict[str, Any] = {"url": url}
    result.update((k, v) for k, v in value.items() if k != "bestand")
    if found is not None and not found.image:
        result.update(mediatype=found.kind.mediatype, bytes=found.size)
    return result


def record_data(site: Site, record: Record) -> dict[str, Any]:
    """One record as open data: slug, URL, fields in schema order with resolved refs."""
    url = record.url
    data: dict[str, Any] = {
        "slug": record.slug,
        "url": absolute(site.config.base_url, url) if site.config.base_url else url,
    }
    for f in record.collection.fields:
        if f.name in record.data:
            data[f.name] = _value(site, record, f, record.data[f.name])
    if record.body.strip():
        data[BODY_COLUMN] = record.body.strip() + "\n"
    return data


def collection_data(site: Site, collection: Collection) -> list[dict[str, Any]]:
    """All published records of a collection, sorted by title."""
    records = sorted(site.records.get(collection.name, ()), key=sort_key)
    return [record_data(site, r) for r in records]


def to_json(rows: list[dict[str, Any]] | dict[str, Any]) -> str:
    """Indented JSON, for files people open to read (one record, a schema)."""
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


def to_compact_json(rows: list[dict[str, Any]]) -> str:
    """JSON without indentation for whole collections: the C encoder is many times faster."""
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":")) + "\n"


def to_jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


# --- CSV: one row per record, one column per leaf field -----------------------------------

def columns(collection: Collection) -> list[tuple[str, ...]]:
    """CSV columns in schema order: nested fields become `looptijd.start`, `partners.rol`."""
    result: list[tuple[str, ...]] = [("slug",), ("url",)]
    for f in collection.fields:
        result.extend(_columns(f, (f.name,)))
    return [*result, (BODY_COLUMN,)]


def _columns(f: Field, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    leaf = f.leaf
    if leaf.type in MEDIA_TYPES:
        yield from ((*path, sub) for sub in MEDIA_EXPORT[leaf.type][:2])
    elif leaf.type == "object":
        for sub in leaf.fields:
            yield from _columns(sub, (*path, sub.name))
    else:
        yield path


def _cell(value: Any) -> str:
    if isinstance(value, dict) and "slug" in value:
        return str(value["slug"])
    if isinstance(value, list):
        return LIST_SEPARATOR.join(_cell(v) for v in value)
    return "" if value is None else str(value)


def _lookup(row: Any, path: tuple[str, ...]) -> Any:
    """Follow `path` into a record; through a list, collect from every item."""
    if not path:
        return row
    if isinstance(row, list):
        return [_lookup(item, path) for item in row]
    if isinstance(row, dict) and path[0] in row:
        return _lookup(row[path[0]], path[1:])
    return None


def to_csv(collection: Collection, rows: list[dict[str, Any]]) -> bytes:
    """CSV with a header, UTF-8 with BOM so spreadsheet programs read the accents right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    cols = columns(collection)
    writer.writerow(".".join(c) for c in cols)
    for row in rows:
        writer.writerow(_cell(_lookup(row, c)) for c in cols)
    return buffer.getvalue().encode("utf-8-sig")


# --- JSON Schema of the export, and the Data Package -------------------------------------

_REF_SCHEMA = {
    "type": "object",
    "required": ["slug", "titel", "url"],
    "properties": {"slug": {"type": "string"}, "titel": {"type": "string"},
                   "url": {"type": "string"}},
    "additionalProperties": False,
}


def _export_field(f: Field, schema: Schema, lang: str) -> dict[str, Any]:
    base: dict[str, Any] = {"title": f.label(lang)}
    if f.type == "ref":
        return {**base, **_REF_SCHEMA}
    if f.type in MEDIA_TYPES:
        names = MEDIA_EXPORT[f.type]
        props: dict[str, Any] = {n: {"type": "string"} for n in names}
        props.update(decoratief={"type": "boolean"}, bytes={"type": "integer"})
        return {**base, "type": "object", "required": ["url"], "additionalProperties": False,
                "properties": {n: props[n] for n in names}}
    if f.type == "list" and f.items is not None:
        return {**base, "type": "array", "items": _export_field(f.items, schema, lang)}
    if f.type == "object":
        return {**base, "type": "object", "additionalProperties": False,
                "properties": {s.name: _export_field(s, schema, lang) for s in f.fields}}
    if f.type == "year":
        return {**base, "type": "integer"}
    if f.type == "enum":
        return {**base, "enum": [t.key for t in schema.terms(f.vocabulary)]}
    pattern = {"date": r"^\d{4}-\d{2}-\d{2}$", "month": r"^\d{4}-\d{2}$"}.get(f.type)
    return {**base, "type": "string", **({"pattern": pattern} if pattern else {})}


def export_schema(collection: Collection, schema: Schema, lang: str) -> dict[str, Any]:
    """The JSON Schema that every record in data/<collection>.json satisfies."""
    props = {"slug": {"type": "string"}, "url": {"type": "string"}}
    props.update({f.name: _export_field(f, schema, lang) for f in collection.fields})
    props[BODY_COLUMN] = {"type": "string", "title": "Markdown"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": collection.label(lang),
        "type": "object",
        "required": ["slug", "url", *(f.name for f in collection.fields if f.required)],
        "properties": props,
        "additionalProperties": False,
    }


_TABLE_TYPES = {"year": "integer", "date": "date"}


def _table_field(collection: Collection, path: tuple[str, ...]) -> dict[str, Any]:
    name = ".".join(path)
    f: Field | None = collection.field(path[0])
    for step in path[1:]:
        f = next((s for s in f.leaf.fields if s.name == step), None) if f else None
    kind = "string"
    if f is not None and not f.is_list and path == (f.name,):
        kind = _TABLE_TYPES.get(f.type, "string")
    return {"name": name, "type": kind}


def datapackage(site: Site) -> dict[str, Any]:
    """A Frictionless Data Package describing the CSV files."""
    lang = site.config.lang
    resources = []
    for collection in site.schema.collections:
        resources.append({
            "name": collection.name,
            "title": collection.label(lang),
            "path": f"{collection.name}.csv",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8-sig",
            "schema": {"fields": [_table_field(collection, c) for c in columns(collection)],
                       "primaryKey": ["slug"]},
        })
    package: dict[str, Any] = {
        "name": "dossier-" + (site.config.base_url.rstrip("/").rsplit("/", 1)[-1] or "data"),
        "title": site.config.title,
        "resources": resources,
    }
    if site.config.description:
        package["description"] = site.config.description
    return package


def record_file(site: Site, record: Record) -> bytes:
    """The `index.json` beside a record's page."""
    return to_json(record_data(site, record)).encode()


def collection_files(site: Site, collection: Collection) -> dict[str, bytes]:
    """data/<name>.json, .jsonl, .csv and schema/<name>.json of one collection."""
    rows = collection_data(site, collection)
    name = collection.name
    schema = export_schema(collection, site.schema, site.config.lang)
    return {
        f"data/{name}.json": to_compact_json(rows).encode(),
        f"data/{name}.jsonl": to_jsonl(rows).encode(),
        f"data/{name}.csv": to_csv(collection, rows),
        f"data/schema/{name}.json": to_json(schema).encode(),
    }


def write_collection_files(site: Site, collection: Collection, writer: ExportWriter,
                           wanted: set[str], before: Rows | None = None,
                           stale: Callable[[bytes], bool] | None = None
                           ) -> tuple[dict[str, bool], Rows]:
    """Write the `wanted` export files of one collection record by record, the three data
    files in one pass, so that a large collection is never held whole; bytes are the same
    as `collection_files` makes. With `before` (the rows of the previous build's files)
    a row whose record read nothing `stale` is copied from those files, not made again.
    Returns per file whether it changed, and where the rows are now."""
    name = collection.name
    json_rel, jsonl_rel, csv_rel, schema_rel = collection_file_names(collection)
    records = sorted(site.records.get(name, ()), key=sort_key)
    data_rels = (json_rel, jsonl_rel, csv_rel)
    # Rows are copied only when all three files are made: their places are kept together.
    old = _Previous(writer, data_rels, before if wanted >= set(data_rels) else None, stale)
    changed: dict[str, bool] = {}
    rows = Rows()
    try:
        if old.unchanged([r.slug for r in records]):
            for rel in data_rels:
                writer.reuse(rel)
                changed[rel] = False
            assert before is not None
            rows = before
        else:
            changed, rows = _write_rows(site, collection, records, writer, wanted, old)
    finally:
        old.close()
    if schema_rel in wanted:
        schema = export_schema(collection, site.schema, site.config.lang)
        changed[schema_rel] = writer.put(schema_rel, to_json(schema).encode())
    return changed, rows


def _write_rows(site: Site, collection: Collection, records: list[Record], writer: ExportWriter,
                wanted: set[str], old: _Previous) -> tuple[dict[str, bool], Rows]:
    json_rel, jsonl_rel, csv_rel, _ = collection_file_names(collection)
    rows = Rows()
    with ExitStack() as stack:
        files = {rel: stack.enter_context(writer.stream(rel))
                 for rel in (json_rel, jsonl_rel, csv_rel) if rel in wanted}
        sink = _Sink(files)
        cols = columns(collection)
        line = io.StringIO()
        row_writer = csv.writer(line, lineterminator="\r\n")
        sink.put(json_rel, b"[")
        row_writer.writerow(".".join(c) for c in cols)
        sink.put(csv_rel, "\ufeff".encode() + line.getvalue().encode())
        # Unchanged records that follow each other in the previous files as they do now:
        # their rows are copied in one piece (an edit of one of 10,000 records copies two).
        run: list[tuple[Record, Span]] = []

        def made(record: Record) -> tuple[bytes, bytes, bytes, bytes]:
            with deps.recording() as read:
                row = record_data(site, record)
            compact = json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode()
            lined = (json.dumps(row, ensure_ascii=False) + "\n").encode()
            line.seek(0)
            line.truncate()
            row_writer.writerow(_cell(_lookup(row, c)) for c in cols)
            return compact, lined, line.getvalue().encode(), deps.pack(read)

        def put(kept: tuple[bytes, bytes, bytes], spans: list[tuple[str, Span, bytes]],
                origin: Span) -> None:
            """Rows as the three files have them (one, or a run of them copied), and each
            record's place in the new files."""
            sink.put(json_rel, b"," if rows.order else b"")
            starts = sink.at(json_rel), sink.at(jsonl_rel), sink.at(csv_rel)
            sink.put(json_rel, kept[0])
            sink.put(jsonl_rel, kept[1])
            sink.put(csv_rel, kept[2])
            json_by, jsonl_by, csv_by = (starts[0] - origin[0], starts[1] - origin[2],
                                         starts[2] - origin[4])
            for slug, span, read in spans:
                rows.order.append(slug)
                rows.spans[slug] = (span[0] + json_by, span[1] + json_by, span[2] + jsonl_by,
                                    span[3] + jsonl_by, span[4] + csv_by, span[5] + csv_by)
                rows.deps[slug] = read

        def copy_run() -> None:
            if not run:
                return
            first, last = run[0][1], run[-1][1]
            copied = old.read(first, last)
            if copied is None:  # the previous files are not what they were: made anew
                for record, _ in run:
                    row = made(record)
                    put(row[:3], [(record.slug, _spans_of(row), row[3])], (0,) * 6)
            else:
                put(copied, [(r.slug, span, old.deps(r.slug)) for r, span in run], first)
            run.clear()

        for record in records:
            span = old.span(record.slug)
            if span is not None and (not run or (_follows(run[-1][1], span)
                                     and _length(run[0][1], span) <= _COPIED_AT_ONCE)):
                run.append((record, span))
                continue
            copy_run()
            if span is not None:
                run.append((record, span))
                continue
            row = made(record)
            put(row[:3], [(record.slug, _spans_of(row), row[3])], (0,) * 6)
        copy_run()
        sink.put(json_rel, b"]\n")
    return {rel: stream.changed for rel, stream in files.items()}, rows


class _Previous:
    """The previous build's export files of a collection, to copy unchanged rows from."""

    def __init__(self, writer: ExportWriter, rels: tuple[str, str, str], before: Rows | None,
                 stale: Callable[[bytes], bool] | None) -> None:
        self.before, self.stale = before, stale
        self.handles: list[BinaryIO] = []
        out = getattr(writer, "out", None)
        if before is None or stale is None or not isinstance(out, Path):
            self.before = None
            return
        try:
            self.handles = [open(out / rel, "rb") for rel in rels]  # noqa: SIM115
        except OSError:
            self.close()
            self.before = None

    def unchanged(self, order: list[str]) -> bool:
        """The same records in the same order, none of them changed: the files are."""
        return self.before is not None and self.before.order == order \
            and all(self.span(slug) is not None for slug in order)

    def span(self, slug: str) -> Span | None:
        """Where a record's row is in the previous files, if its record did not change."""
        before = self.before
        if before is None or slug not in before.spans or self.stale is None \
                or self.stale(before.deps.get(slug, b"")):
            return None
        return before.spans[slug]

    def deps(self, slug: str) -> bytes:
        assert self.before is not None
        return self.before.deps[slug]

    def read(self, first: Span, last: Span) -> tuple[bytes, bytes, bytes] | None:
        """The bytes of the three files from the row at `first` to the row at `last`."""
        try:
            parts = [os.pread(h.fileno(), last[2 * i + 1] - first[2 * i], first[2 * i])
                     for i, h in enumerate(self.handles)]
        except OSError:
            return None
        if len(parts) != 3 or any(len(p) != last[2 * i + 1] - first[2 * i]
                                  for i, p in enumerate(parts)):
            return None
        return parts[0], parts[1], parts[2]

    def close(self) -> None:
        for handle in self.handles:
            handle.close()
        self.handles = []


_COPIED_AT_ONCE = 1 << 20  # bytes of one file: a large collection is never held whole


def _length(first: Span, last: Span) -> int:
    """The bytes from the row at `first` to the row at `last`, in the longest file."""
    return max(last[1] - first[0], last[3] - first[2], last[5] - first[4])


def _follows(before: Span, span: Span) -> bool:
    """Whether a row comes right after another in all three files (a comma between them
    in the JSON array)."""
    return span[0] == before[1] + 1 and span[2] == before[3] and span[4] == before[5]


def _spans_of(row: tuple[bytes, bytes, bytes, bytes]) -> Span:
    """The span of a row written at the start of the files (`put` moves it to its place)."""
    return 0, len(row[0]), 0, len(row[1]), 0, len(row[2])


class ExportWriter(Protocol):
    def put(self, rel: str, data: bytes) -> bool: ...

    def stream(self, rel: str) -> Stream: ...

    def reuse(self, rel: str) -> None: ...


class _Sink:
    """Writes to whichever of a collection's export files are wanted, counting bytes."""

    def __init__(self, files: dict[str, Stream]) -> None:
        self.files = files
        self.written = dict.fromkeys(files, 0)

    def put(self, rel: str, data: bytes) -> None:
        stream = self.files.get(rel)
        if stream is not None:
            stream.write(data)
            self.written[rel] += len(data)

    def at(self, rel: str) -> int:
        return self.written.get(rel, 0)


def collection_file_names(collection: Collection) -> list[str]:
    name = collection.name
    return [f"data/{name}.json", f"data/{name}.jsonl", f"data/{name}.csv",
            f"data/schema/{name}.json"]


def export_files(site: Site) -> Iterator[tuple[str, bytes]]:
    """Every file under data/, and an index.json beside every record's page."""
    for collection in site.schema.collections:
        yield from collection_files(site, collection).items()
        for record in site.records.get(collection.name, ()):
            yield f"{record.url}index.json", record_file(site, record)
    yield "data/datapackage.json", to_json(datapackage(site)).encode()
