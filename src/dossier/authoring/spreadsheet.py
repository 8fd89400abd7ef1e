"""Import records from a spreadsheet saved as CSV: one record per row, every row checked first.

Columns are matched to fields by their key or Dutch label (`looptijd.start`, `Looptijd.Start`);
list fields split their cell on `;`. Rows are validated exactly like content files, together
with the records the site already has, and nothing is written unless every row is valid.
The CSV of the site's own open-data export (`data/<collection>.csv`) imports back.
"""

from __future__ import annotations

import copy
import csv
import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dossier.content.documents import (
    SLUG_RE,
    Document,
    load_documents,
    read_text,
    slugify,
    split_front_matter,
)
from dossier.content.load import load_schema
from dossier.content.records import coerce, validate
from dossier.content.schema import DRAFT_FIELD, MEDIA_TYPES, Collection, Field
from dossier.core.diagnostics import Diagnostic, DossierError, errors, suggest
from dossier.core.yamltree import Path as TreePath
from dossier.core.yamltree import Tree, dotted
from dossier.outputs.opendata import BODY_COLUMN, columns

SLUG_COLUMN = "slug"
IGNORED_COLUMNS = ("url",)  # written by the export, derived from the slug
LIST_SEPARATOR = ";"
_TRUE, _FALSE = ("true", "ja", "waar", "1"), ("false", "nee", "onwaar", "0")


@dataclass(frozen=True)
class Column:
    """A CSV column and the field (path) it fills."""

    index: int  # 1-based, as spreadsheet users count
    header: str
    path: tuple[str, ...]


@dataclass
class Row:
    """One CSV row read into a record's data, with where each value came from."""

    line: int
    slug: str
    data: dict[str, Any]
    body: str | None
    positions: dict[TreePath, tuple[int, int]] = field(default_factory=dict)
    slug_column: int = 1


@dataclass
class ImportResult:
    """The files an import created, changed, or left alone because nothing changed."""

    created: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)


def import_csv(site_dir: Path, collection_name: str, csv_file: Path,
               update: bool = False) -> ImportResult:
    """Check every row of `csv_file`, then write one record per row; raise DossierError first."""
    where = str(csv_file)
    schema = load_schema(site_dir)
    collection = schema.collection(collection_name)
    header, table = read_table(read_text(csv_file, where), where)
    cols = _header_columns(collection, header, where)
    rows = [_read_row(collection, cols, line, cells) for line, cells in table]
    # Problems of the records already there are dossier check's business, not the import's.
    existing, unreadable = load_documents(site_dir, [c.name for c in schema.collections], [])
    mine = [d for d in existing if d.collection == collection_name]
    problems = list(_shape_problems(len(header), table, where))
    problems += _slug_problems(rows, collection, mine, unreadable, update, where)
    documents = _documents(rows, collection, mine, update, where, {p.line for p in problems})
    replaced = {d.slug for d in documents}
    others = [d for d in existing if d.collection != collection_name or d.slug not in replaced]
    checked: list[Diagnostic] = []
    validate([*others, *documents], schema, False, checked, unreadable)
    problems += [d for d in checked if d.path == where]
    if errors(problems):
        raise DossierError(problems)
    return _write(site_dir, collection, rows, {d.slug: d for d in mine})


def read_table(text: str, where: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and every non-empty row with the CSV line it starts on."""
    first_line = text.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=",;").delimiter
    except csv.Error:  # a single column: nothing to tell them apart by
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        header = next(reader, [])
        line = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:  # e.g. a cell longer than the csv module allows
        raise DossierError([Diagnostic(where, reader.line_num, 1, "error", "",
                                       f"not a readable CSV file: {exc}")]) from None
    if not any(cell.strip() for cell in header):
        raise DossierError([Diagnostic(where, 1, 1, "error", "",
                                       "the first row must name the columns (the fields)")])
    return header, rows


def _shape_problems(width: int, table: list[tuple[int, list[str]]],
                    where: str) -> Iterator[Diagnostic]:
    """Cells beyond the last column: most often a value with the separator and no quotes."""
    for line, cells in table:
        extra = [i for i in range(width, len(cells)) if cells[i].strip()]
        if extra:
            yield Diagnostic(where, line, extra[0] + 1, "error", "",
                             f"row has {len(cells)} cells but the header has {width} columns; "
                             "a value that contains the separator needs quotes")


def _header_columns(collection: Collection, header: list[str], where: str) -> list[Column]:
    """Match each header to a field; unknown or repeated headers are errors."""
    known = [".".join(c) for c in columns(collection)]
    result: list[Column] = []
    problems = []
    for index, name in enumerate(header, start=1):
        if not name.strip():
            continue
        path = resolve_header(collection, name)
        if path is None:
            problems.append(Diagnostic(where, 1, index, "error", "",
                                       f"column '{name}' is not a field of {collection.name}",
                                       suggest(name.strip().casefold(), known)))
        elif (first := next((c for c in result if c.path == path), None)) is not None:
            problems.append(Diagnostic(where, 1, index, "error", dotted(path),
                                       f"column '{name}' repeats column {first.index} "
                                       f"('{first.header}')"))
        else:
            result.append(Column(index, name, path))
    if problems:
        raise DossierError(problems)
    return result


def resolve_header(collection: Collection, header: str) -> tuple[str, ...] | None:
    """The field path a header names by key or Dutch label, or None."""
    parts = [p.strip().casefold() for p in header.split(".")]
    special = (SLUG_COLUMN, BODY_COLUMN, DRAFT_FIELD, *IGNORED_COLUMNS)
    if len(parts) == 1 and parts[0] in special and collection.field(parts[0]) is None:
        return (parts[0],)
    fields, path = collection.fields, []
    f: Field | None = None
    for part in parts:
        f = next((f for f in fields if part in (f.name.casefold(), f.label.nl.casefold())),
                 None)
        if f is None:
            return None
        path.append(f.name)
        fields = f.leaf.fields
        if f.leaf.type in MEDIA_TYPES:  # the export's image and document columns
            return (*path, *parts[len(path):]) if len(parts) == len(path) + 1 else None
    return tuple(path) if f is not None and f.leaf.type != "object" else None


def _read_row(collection: Collection, cols: list[Column], line: int,
              cells: list[str]) -> Row:
    """A row's cells as record data; positions say which cell each value came from."""
    row = Row(line, "", {}, None, {(): (line, 1)})
    for col in cols:
        cell = cells[col.index - 1].strip() if col.index <= len(cells) else ""
        kind = "field" if collection.field(col.path[0]) else col.path[0]
        if kind == SLUG_COLUMN:
            row.slug, row.slug_column = cell, col.index
        elif kind == BODY_COLUMN:
            row.body = cell + "\n" if cell else None
        elif kind == DRAFT_FIELD and cell:
            row.data[DRAFT_FIELD] = _boolean(cell)
            row.positions[(DRAFT_FIELD,)] = (line, col.index)
        elif kind == "field" and cell and _is_media(collection, col.path):
            continue  # an address of a published file cannot become a file beside the record
        elif kind == "field" and cell:
            _put(collection.fields, row.data, col.path, cell, row.positions, (line, col.index))
    _drop_trailing_empty_items(row.data)
    if not row.slug:
        title = row.data.get(collection.title_field)
        row.slug = slugify(title) if isinstance(title, str) else ""
        title_col = next((c.index for c in cols if c.path == (collection.title_field,)), 1)
        row.slug_column = title_col
    return row


def _is_media(collection: Collection, path: tuple[str, ...]) -> bool:
    f = collection.field(path[0])
    return f is not None and f.leaf.type in MEDIA_TYPES


def _put(fields: tuple[Field, ...], data: dict[str, Any], path: tuple[str, ...], cell: str,
         positions: dict[TreePath, tuple[int, int]], where: tuple[int, int],
         prefix: TreePath = ()) -> None:
    """Store one cell at `path`; a list's cell holds its items separated by ';'."""
    f = next(f for f in fields if f.name == path[0])
    here = (*prefix, f.name)
    positions.setdefault(here, where)
    parts = [p.strip() for p in cell.split(LIST_SEPARATOR)] if f.is_list else [cell]
    if len(path) == 1:
        values = [_typed(f.leaf, p) for p in parts if p]
        data[f.name] = values if f.is_list else values[0]
        for i in range(len(values) if f.is_list else 0):
            positions[(*here, i)] = where
        return
    if not f.is_list:
        _put(f.fields, data.setdefault(f.name, {}), path[1:], cell, positions, where, here)
        return
    items: list[dict[str, Any]] = data.setdefault(f.name, [])
    for i, part in enumerate(parts):
        while len(items) <= i:
            items.append({})
        positions.setdefault((*here, i), where)
        if part:
            _put(f.leaf.fields, items[i], path[1:], part, positions, where, (*here, i))


def _drop_trailing_empty_items(data: dict[str, Any]) -> None:
    """'org-b; ' in every column of a list leaves an empty last item: it is no item."""
    for value in data.values():
        while isinstance(value, list) and value and value[-1] == {}:
            value.pop()


def _typed(f: Field, cell: str) -> Any:
    """A cell as the type YAML would have given it: years are numbers, the rest is text."""
    if f.type == "year" and cell.isdigit():
        return int(cell)
    return cell


def _boolean(cell: str) -> Any:
    low = cell.casefold()
    return True if low in _TRUE else False if low in _FALSE else cell


def _slug_problems(rows: list[Row], collection: Collection, existing: list[Document],
                   unreadable: set[tuple[str, str]], update: bool,
                   where: str) -> Iterator[Diagnostic]:
    """Every row needs a valid slug of its own; an existing one only with --update."""
    on_disk = {d.slug: d.path for d in existing}
    broken = {slug for name, slug in unreadable if name == collection.name}
    seen: dict[str, int] = {}
    for row in rows:
        message, hint = "", ""
        if not row.slug:
            message = f"row has no slug, and no {collection.title_field} to make one from"
        elif not SLUG_RE.match(row.slug):
            message = f"'{row.slug}' is not a slug (lowercase letters, digits and '-')"
            hint = f"'{slugify(row.slug)}'" if slugify(row.slug) else ""
        elif row.slug in seen:
            message = f"'{row.slug}' is also the slug of the row on line {seen[row.slug]}"
        elif row.slug in broken:
            message = (f"record '{row.slug}' exists but cannot be read; run dossier check "
                       "and fix it first")
        elif row.slug in on_disk and not update:
            message = (f"record '{row.slug}' exists ({on_disk[row.slug]}); import with "
                       "--update to change it")
        if message:
            yield Diagnostic(where, row.line, row.slug_column, "error", SLUG_COLUMN, message,
                             hint)
        seen.setdefault(row.slug, row.line)


def _documents(rows: list[Row], collection: Collection, existing: list[Document],
               update: bool, where: str, bad_slugs: set[int]) -> list[Document]:
    """Each row as the document it would become; with --update, merged into its record.

    A merged row keeps the merged data, which is what gets written. A row whose slug was
    refused is still checked, under a name no reference can match.
    """
    on_disk = {d.slug: d for d in existing}
    result = []
    for row in rows:
        slug = f" row {row.line}" if row.line in bad_slugs else row.slug
        if update and slug in on_disk:
            old = on_disk[slug]
            row.data = merge(coerce(collection.fields, old.tree), row.data)
        tree = Tree(row.data, dict(row.positions))
        result.append(Document(collection.name, slug, where, tree, row.body or "", row.line))
    return result


def merge(old: Any, new: Mapping[str, Any]) -> dict[str, Any]:
    """`old` with the fields of `new`: groups of fields merge, other values are replaced."""
    result = copy.deepcopy(old) if isinstance(old, dict) else {}
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


# --- writing -------------------------------------------------------------------------------

def _write(site_dir: Path, collection: Collection, rows: list[Row],
           existing: dict[str, Document]) -> ImportResult:
    result = ImportResult()
    folder = site_dir / "content" / collection.name
    folder.mkdir(parents=True, exist_ok=True)
    for row in rows:
        data = ordered(collection.fields, row.data)
        old = existing.get(row.slug)
        if old is None:
            target = folder / f"{row.slug}.md"
            with open(target, "x", encoding="utf-8") as handle:
                handle.write(front_matter(data) + (row.body or ""))
            result.created.append(target)
        elif data == old.tree.data:
            result.unchanged.append(site_dir / old.path)
        else:
            target = site_dir / old.path
            _replace(target, _updated_text(target, data))
            result.updated.append(target)
    return result


def _updated_text(file: Path, data: dict[str, Any]) -> str:
    """The record file with new fields and its body exactly as it was."""
    if file.suffix != ".md":
        return to_yaml(data)
    text = read_text(file, file.name)
    _, body, _ = split_front_matter(text, file.name)
    return front_matter(data) + body


def _replace(target: Path, text: str) -> None:
    """Write beside the file and rename over it, so a crash never leaves half a record."""
    tmp = target.with_name(f".{target.name}.import-tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, target)


def ordered(fields: tuple[Field, ...], data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `data` in schema order (groups of fields too); `concept` last."""
    result: dict[str, Any] = {}
    for f in fields:
        if f.name in data:
            result[f.name] = _ordered_value(f, data[f.name])
    for key, value in data.items():
        result.setdefault(key, value)
    return result


def _ordered_value(f: Field, value: Any) -> Any:
    leaf = f.leaf
    if leaf.type != "object":
        return value
    if f.is_list and isinstance(value, list):
        return [ordered(leaf.fields, v) if isinstance(v, dict) else v for v in value]
    return ordered(leaf.fields, value) if isinstance(value, dict) else value


class _Dumper(yaml.SafeDumper):
    """YAML as editors write it: list items indented under their field."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Text with line breaks as a literal block, the way it was typed."""
    style = "|" if "\n" in value.strip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def to_yaml(data: Mapping[str, Any]) -> str:
    """Record fields as YAML the loader reads back to the same data."""
    return yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=None, width=100)


def front_matter(data: Mapping[str, Any]) -> str:
    return f"---\n{to_yaml(data)}---\n"
