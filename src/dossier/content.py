"""Reading a site: its settings, schema and records, validated and linked into the Site.

load → validate → link, every problem of the content reported in one pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from dossier import history
from dossier.cache import DocumentStore
from dossier.diagnostics import Diagnostic, DossierError, errors, suggest

if TYPE_CHECKING:
    from dossier.build import BuildOptions
    from dossier.config import SiteConfig
    from dossier.loader import Document
    from dossier.model import Site
    from dossier.records import Record
    from dossier.schema import Schema
    from dossier.yamltree import Tree

T = TypeVar("T")


def load_site(site_dir: Path, options: BuildOptions, problems: list[Diagnostic],
              timings: dict[str, float] | None = None,
              store: DocumentStore | None = None) -> Site:
    """Load, validate and link the content; raise DossierError if anything is wrong.

    With a `store`, unchanged files are taken from the build cache. Diagnostics need the
    positions that only a fresh parse has, so on errors everything is loaded again.
    """
    timings = {} if timings is None else timings
    if store is not None:
        attempt: list[Diagnostic] = []
        try:
            site = _load_site(site_dir, options, attempt, timings, store)
        except DossierError:
            if not store.hits:
                raise
        else:
            problems.extend(attempt)
            return site
    return _load_site(site_dir, options, problems, timings, None)


def _load_site(site_dir: Path, options: BuildOptions, problems: list[Diagnostic],
               timings: dict[str, float], store: DocumentStore | None) -> Site:
    from dossier.loader import links_leaving, load_documents
    from dossier.media import plan_media
    from dossier.model import link
    from dossier.records import Settler, validate

    with _timed(timings, "load"):
        problems.extend(links_leaving(site_dir / "templates", "templates"))
        config = _attempt(lambda: load_config(site_dir, options.base_url), problems)
        schema = _attempt(lambda: load_schema(site_dir), problems)
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
    with _timed(timings, "validate"):
        verdicts: dict[str, tuple[Diagnostic, ...]] = {}
        records = validate(documents, schema, options.drafts, problems, unreadable, verdicts)
        if store is not None:
            store.latest = (documents, verdicts)
        if config is None:
            raise DossierError(problems)
        problems.extend(_config_problems(config, records))
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
    from dossier.config import parse_config

    return parse_config(_read_yaml(site_dir, "content/site.yml"), "content/site.yml", base_url)


def load_schema(site_dir: Path) -> Schema:
    """Read content/schema.yml."""
    from dossier.schema import parse_schema

    return parse_schema(_read_yaml(site_dir, "content/schema.yml"), "content/schema.yml")


def _read_yaml(site_dir: Path, rel: str) -> Tree:
    from dossier.loader import read_text
    from dossier.yamltree import parse

    file = site_dir / rel
    if not file.is_file():
        raise DossierError([Diagnostic(rel, 1, 1, "error", "", "file is missing")])
    if not file.resolve().is_relative_to((site_dir / "content").resolve()):
        raise DossierError([Diagnostic(rel, 1, 1, "error", "", "symbolic link points "
                                       "outside the content folder; it is not read")])
    return parse(read_text(file, rel), rel)


def _config_problems(config: SiteConfig, records: list[Record]) -> Iterator[Diagnostic]:
    """site.yml's references to records name published records."""
    for key, collection, slug in (("uitgever", "organisaties", config.publisher),
                                  ("introductie", "paginas", config.intro)):
        slugs = {r.slug for r in records if r.collection.name == collection}
        if slug and slug not in slugs:
            line, col = config.position(key)
            yield Diagnostic("content/site.yml", line, col, "error", key,
                             f"no record '{slug}' in {collection}", suggest(slug, slugs))


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
