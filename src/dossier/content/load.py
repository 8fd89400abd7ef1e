"""Reading a site's content: settings, schema and record files into documents (the load
stage), and documents into records (the validate stage), every problem in one pass.

Linking the records into the site model is the model's (model/site.py); the order of
the stages is the pipeline's (build/pipeline.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from dossier.content.documents import Document
from dossier.content.schema import Schema
from dossier.content.settings import SiteConfig
from dossier.core.diagnostics import Diagnostic, DossierError, errors, stop_on_errors, suggest
from dossier.core.options import BuildOptions
from dossier.core.timing import add

if TYPE_CHECKING:
    from dossier.content.records import Record
    from dossier.core.yamltree import Tree

T = TypeVar("T")


class DocumentSource(Protocol):
    """Documents of an earlier run (the build cache's), valid while their file is
    unchanged; told what this run validated, to keep it for the next."""

    hits: int
    latest: tuple[list[Document], dict[str, tuple[Any, ...]]] | None

    def get_many(self, wanted: dict[str, os.stat_result]) -> dict[str, Document]: ...


@dataclass
class Content:
    """A site's content as read: its settings, schema and documents (by path), the
    records that exist but could not be read, and the problems found while reading."""

    config: SiteConfig
    schema: Schema
    documents: dict[str, Document]
    unreadable: set[tuple[str, str]]
    problems: list[Diagnostic] = field(default_factory=list)
    from_store: bool = False  # some documents came from a DocumentSource (no positions)
    # The records validation made of these documents, by path, when they are kept (None:
    # not): a process that builds again from the same documents (the preview) takes the
    # record of a document that is the same object, with its references, facet values
    # and sort key already worked out.
    records: dict[str, tuple[Document, Record]] | None = None


def read_content(site_dir: Path, options: BuildOptions,
                 store: DocumentSource | None = None,
                 timings: dict[str, float] | None = None) -> Content:
    """Read settings, schema and every record file, each file checked on its own as it is
    read (so a large site never holds every value's position at once).

    With a `store`, unchanged files are taken from it. Diagnostics need the positions
    that only a fresh parse has, so on errors everything is read again.
    """
    timings = {} if timings is None else timings
    if store is not None:
        try:
            content = _read(site_dir, options, store, timings)
        except DossierError:
            if not store.hits:
                raise
        else:
            content.from_store = store.hits > 0
            return content
    return _read(site_dir, options, None, timings)


def _read(site_dir: Path, options: BuildOptions, store: DocumentSource | None,
          timings: dict[str, float]) -> Content:
    from dossier.content.documents import links_leaving, load_documents
    from dossier.content.records import Settler

    problems: list[Diagnostic] = []
    problems.extend(links_leaving(site_dir / "templates", "templates"))
    config = _attempt(lambda: load_config(site_dir, options.base_url), problems)
    schema = _attempt(lambda: load_schema(site_dir, problems), problems)
    if schema is None:
        raise DossierError(problems)
    settler = Settler(schema)
    checking = [0.0]  # seconds of the per-file checks done while reading

    def settle(document: Document) -> Document:
        started = time.perf_counter()
        try:
            return settler(document)
        finally:
            checking[0] += time.perf_counter() - started

    documents, unreadable = load_documents(
        site_dir, [c.name for c in schema.collections], problems, store, settle)
    add(timings, "load/checking each file", checking[0])
    if config is None:
        said = any(p.path == "content/site.yml" for p in errors(problems))
        stop_on_errors(problems if said else [
            *problems, Diagnostic("content/site.yml", 1, 1, "error", "",
                                  "settings could not be read")])
    assert config is not None
    return Content(config, schema, {d.path: d for d in documents}, unreadable, problems)


def reread(content: Content, site_dir: Path, changed: list[str]) -> Content:
    """The content after `changed` record files were saved: only they are read again,
    the rest is taken as it was."""
    from dossier.content.documents import collection_files, load_document, record_slug
    from dossier.content.records import Settler

    problems: list[Diagnostic] = []
    documents = dict(content.documents)
    unreadable = set(content.unreadable)
    settler = Settler(content.schema)
    for rel in changed:
        documents.pop(rel, None)
        collection, slug = rel.split("/")[1], record_slug(rel)
        unreadable.discard((collection, slug))
        file = site_dir / rel
        if not file.is_file():
            continue
        if rel not in content.documents:  # a new file: its name is checked as in a build
            found = collection_files(site_dir / "content", collection, problems)
            if rel not in {r for _, r in found}:
                continue
        try:
            documents[rel] = settler(load_document(file, rel, collection))
        except DossierError as exc:
            problems.extend(exc.diagnostics)
            unreadable.add((collection, slug))
    return Content(content.config, content.schema, dict(sorted(documents.items())),
                   unreadable, problems, records=content.records)


def validate_records(content: Content, options: BuildOptions, problems: list[Diagnostic],
                     store: DocumentSource | None = None) -> list[Record]:
    """Documents → records: the checks between records (references, duplicates) and
    site.yml's references to records; what was checked is told to the `store`."""
    from dossier.content.records import validate

    verdicts: dict[str, tuple[Diagnostic, ...]] = {}
    documents = list(content.documents.values())
    records = validate(documents, content.schema, options.drafts, problems,
                       content.unreadable, verdicts, content.records)
    if store is not None:
        store.latest = (documents, verdicts)
    problems.extend(_config_problems(content.config, content.schema, records))
    return records


def _attempt(load: Callable[[], T], problems: list[Diagnostic]) -> T | None:
    """Run one loader; on bad input keep its diagnostics and go on with the next."""
    try:
        return load()
    except DossierError as exc:
        problems.extend(exc.diagnostics)
        return None


def load_config(site_dir: Path, base_url: str | None = None) -> SiteConfig:
    """Read content/site.yml."""
    from dossier.content.settings import parse_config

    return parse_config(_read_yaml(site_dir, "content/site.yml"), "content/site.yml", base_url)


def load_schema(site_dir: Path, warnings: list[Diagnostic] | None = None) -> Schema:
    """Read content/schema.yml; `warnings` receives what it leaves out of the site."""
    from dossier.content.schemafile import parse_schema

    return parse_schema(_read_yaml(site_dir, "content/schema.yml"), "content/schema.yml",
                        warnings)


def _read_yaml(site_dir: Path, rel: str) -> Tree:
    from dossier.content.documents import read_text
    from dossier.core.yamltree import parse

    file = site_dir / rel
    if not file.is_file():
        raise DossierError([Diagnostic(rel, 1, 1, "error", "", "file is missing")])
    if not file.resolve().is_relative_to((site_dir / "content").resolve()):
        raise DossierError([Diagnostic(rel, 1, 1, "error", "", "symbolic link points "
                                       "outside the content folder; it is not read")])
    return parse(read_text(file, rel), rel)


def _config_problems(config: SiteConfig, schema: Schema,
                     records: list[Record]) -> Iterator[Diagnostic]:
    """site.yml's references to records name published records of the collections with
    the roles they need."""
    from dossier.content.settings import INTRO_KEY, PUBLISHER_KEY

    for key, role, slug in ((PUBLISHER_KEY, "organisation", config.publisher),
                            (INTRO_KEY, "page", config.intro)):
        collections = [c.name for c in schema.with_role(role)]
        slugs = {r.slug for r in records if r.collection.name in collections}
        if not slug or slug in slugs:
            continue
        line, col = config.position(key)
        if not collections:
            yield Diagnostic("content/site.yml", line, col, "error", key,
                             f"no collection has the role '{role}' in schema.yml, so "
                             f"'{slug}' names no record")
        else:
            yield Diagnostic("content/site.yml", line, col, "error", key,
                             f"no record '{slug}' in {' or '.join(collections)}",
                             suggest(slug, slugs))


def build_date() -> str:
    """SOURCE_DATE_EPOCH as a date, for reproducible builds; '' when unset."""
    import datetime as dt
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not epoch.isdigit():
        return ""
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date().isoformat()
