"""Reading a site: its settings, schema and records, validated and linked into the Site.

load → validate → link, every problem of the content reported in one pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from dossier.content import history
from dossier.content.documents import Document
from dossier.content.schema import Schema
from dossier.content.settings import SiteConfig
from dossier.core.diagnostics import Diagnostic, DossierError, errors, suggest
from dossier.incremental.cache import DocumentStore

if TYPE_CHECKING:
    from dossier.build import BuildOptions
    from dossier.content.records import Record
    from dossier.core.yamltree import Tree
    from dossier.model.site import Site

T = TypeVar("T")


@dataclass
class Loaded:
    """A site as read: its settings, schema, documents (kept to check an edit against the
    rest) and the linked model."""

    config: SiteConfig
    schema: Schema
    documents: dict[str, Document]  # by path
    unreadable: set[tuple[str, str]]
    site: Site


def load_site(site_dir: Path, options: BuildOptions, problems: list[Diagnostic],
              timings: dict[str, float] | None = None,
              store: DocumentStore | None = None) -> Site:
    """Load, validate and link the content; raise DossierError if anything is wrong.

    With a `store`, unchanged files are taken from the build cache. Diagnostics need the
    positions that only a fresh parse has, so on errors everything is loaded again.
    """
    return load(site_dir, options, problems, timings, store).site


def load(site_dir: Path, options: BuildOptions, problems: list[Diagnostic],
         timings: dict[str, float] | None = None,
         store: DocumentStore | None = None) -> Loaded:
    """`load_site`, keeping what it read."""
    timings = {} if timings is None else timings
    if store is not None:
        attempt: list[Diagnostic] = []
        try:
            loaded = _load(site_dir, options, attempt, timings, store)
        except DossierError:
            if not store.hits:
                raise
        else:
            problems.extend(attempt)
            return loaded
    return _load(site_dir, options, problems, timings, None)


def _load(site_dir: Path, options: BuildOptions, problems: list[Diagnostic],
          timings: dict[str, float], store: DocumentStore | None) -> Loaded:
    from dossier.content.documents import links_leaving, load_documents
    from dossier.content.records import Settler

    with _timed(timings, "load"):
        problems.extend(links_leaving(site_dir / "templates", "templates"))
        config = _attempt(lambda: load_config(site_dir, options.base_url), problems)
        schema = _attempt(lambda: load_schema(site_dir, problems), problems)
        if schema is None:
            raise DossierError(problems)
        settler = Settler(schema)
        checking = [0.0]  # seconds of the per-file checks done while loading

        def settle(document: Document) -> Document:
            started = time.perf_counter()
            try:
                return settler(document)
            finally:
                checking[0] += time.perf_counter() - started

        documents, unreadable = load_documents(
            site_dir, [c.name for c in schema.collections], problems, store, settle)
    timings["load"] -= checking[0]
    timings["validate"] = timings.get("validate", 0.0) + checking[0]
    if config is None:
        said = any(p.path == "content/site.yml" for p in errors(problems))
        _stop_on_errors(problems if said else [
            *problems, Diagnostic("content/site.yml", 1, 1, "error", "",
                                  "settings could not be read")])
    assert config is not None
    by_path = {d.path: d for d in documents}
    site = _link(site_dir, options, config, schema, by_path, unreadable, problems, timings,
                 store)
    return Loaded(config, schema, by_path, unreadable, site)


def relink(loaded: Loaded, site_dir: Path, changed: list[str], options: BuildOptions,
           problems: list[Diagnostic], timings: dict[str, float]) -> Loaded:
    """The site after `changed` record files were saved: only they are read again, the
    rest is taken as it was; checked and linked as a whole."""
    from dossier.content.documents import collection_files, load_document, record_slug
    from dossier.content.records import Settler

    documents = dict(loaded.documents)
    unreadable = set(loaded.unreadable)
    settler = Settler(loaded.schema)
    with _timed(timings, "load"):
        for rel in changed:
            documents.pop(rel, None)
            collection, slug = rel.split("/")[1], record_slug(rel)
            unreadable.discard((collection, slug))
            file = site_dir / rel
            if not file.is_file():
                continue
            if rel not in loaded.documents:  # a new file: its name is checked as in a build
                found = collection_files(site_dir / "content", collection, problems)
                if rel not in {r for _, r in found}:
                    continue
            try:
                documents[rel] = settler(load_document(file, rel, collection))
            except DossierError as exc:
                problems.extend(exc.diagnostics)
                unreadable.add((collection, slug))
    site = _link(site_dir, options, loaded.config, loaded.schema,
                 dict(sorted(documents.items())), unreadable, problems, timings, None)
    return Loaded(loaded.config, loaded.schema, dict(sorted(documents.items())), unreadable,
                  site)


def _link(site_dir: Path, options: BuildOptions, config: SiteConfig, schema: Schema,
          documents: dict[str, Document], unreadable: set[tuple[str, str]],
          problems: list[Diagnostic], timings: dict[str, float],
          store: DocumentStore | None) -> Site:
    from dossier.content.records import validate
    from dossier.model.media import plan_media
    from dossier.model.site import link

    with _timed(timings, "validate"):
        verdicts: dict[str, tuple[Diagnostic, ...]] = {}
        records = validate(list(documents.values()), schema, options.drafts, problems,
                           unreadable, verdicts)
        if store is not None:
            store.latest = (list(documents.values()), verdicts)
        problems.extend(_config_problems(config, schema, records))
    with _timed(timings, "dates from git"):
        records = history.dated(records, site_dir, store.path.parent
                                if store is not None and store.path is not None else None)
    with _timed(timings, "media"):
        # Its problems stay with it, so that those of rendering come in the same pass.
        media = plan_media(site_dir, records, schema)
    _stop_on_errors([*problems, *media.problems] if errors(problems) else [])
    with _timed(timings, "link"):
        site = link(config, schema, records, build_date(), media)
    _stop_on_errors(problems)
    return site


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
    from dossier.content.schema import parse_schema

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


def _stop_on_errors(problems: list[Diagnostic]) -> None:
    if errors(problems):
        raise DossierError(problems)


def _timed(timings: dict[str, float], stage: str) -> _Timer:
    return _Timer(timings, stage)


class _Timer:
    """Adds the seconds a `with` block takes to a stage's timing."""

    def __init__(self, timings: dict[str, float], stage: str) -> None:
        self.timings, self.stage = timings, stage

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.stage] = self.timings.get(self.stage, 0.0) + \
            time.perf_counter() - self.started


def build_date() -> str:
    """SOURCE_DATE_EPOCH as a date, for reproducible builds; '' when unset."""
    import datetime as dt
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not epoch.isdigit():
        return ""
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date().isoformat()
