"""The one place that knows the order of the stages.

load → validate → link → render → check → write; every read finishes before any write.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, TypeVar

import jinja2

from dossier import assets
from dossier.config import SiteConfig, parse_config
from dossier.diagnostics import Diagnostic, DossierError, errors, sort_diagnostics, suggest
from dossier.exports import export_files
from dossier.feeds import discovery_files, discovery_warnings
from dossier.linkcheck import PageLinks, check_links, collect
from dossier.loader import load_documents, read_text
from dossier.minify import minify_html
from dossier.model import Site, link
from dossier.output import MemoryOutput, OutputFolder
from dossier.pages import Page, plan
from dossier.records import Record, validate
from dossier.render import Renderer, load_messages, make_environment
from dossier.schema import Schema, parse_schema
from dossier.searchindex import SearchStats, write_search_index
from dossier.urls import base_path, output_path
from dossier.yamltree import Tree, parse

T = TypeVar("T")


class Output(Protocol):
    files: set[str]

    def write(self, rel: str, data: bytes) -> None: ...


@dataclass(frozen=True)
class BuildOptions:
    """What the command line can change about a build."""

    out: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    strict: bool = False
    search: bool = True
    minify: bool = False


@dataclass
class BuildResult:
    """What a build did: counts, time and the warnings it found."""

    pages: int = 0
    files: int = 0
    changed: int = 0
    removed: int = 0
    seconds: float = 0.0
    out: Path | None = None
    warnings: list[Diagnostic] = field(default_factory=list)
    search: SearchStats | None = None


def build(site_dir: Path, options: BuildOptions = BuildOptions()) -> BuildResult:
    """Validate, render and write the site; raise DossierError and leave the output as it was."""
    started = time.perf_counter()
    out = options.out or site_dir / "build"
    _refuse_dangerous_output(site_dir, out)
    with OutputFolder(out) as folder:
        result = _generate(site_dir, options, folder)
        stats = folder.commit()
    result.files, result.changed, result.removed = stats.written, stats.changed, stats.removed
    result.out, result.seconds = out, time.perf_counter() - started
    return result


def check(site_dir: Path, options: BuildOptions = BuildOptions()) -> BuildResult:
    """Everything a build does except writing: all diagnostics, nothing on disk changes."""
    started = time.perf_counter()
    output = MemoryOutput()
    result = _generate(site_dir, replace(options, search=False), output)
    result.files, result.seconds = len(output.files), time.perf_counter() - started
    return result


def load_site(site_dir: Path, options: BuildOptions, problems: list[Diagnostic]) -> Site:
    """Load, validate and link the content; raise DossierError if anything is wrong."""
    config = _attempt(lambda: load_config(site_dir, options.base_url), problems)
    schema = _attempt(lambda: load_schema(site_dir), problems)
    if schema is None:
        raise DossierError(problems)
    documents, unreadable = load_documents(
        site_dir, [c.name for c in schema.collections], problems)
    records = validate(documents, schema, options.drafts, problems, unreadable)
    if config is None:
        raise DossierError(problems)
    problems.extend(_config_problems(config, records))
    _stop_on_errors(problems, strict=False)
    site = link(config, schema, records, _build_date())
    problems.extend(_collisions(plan(site)))
    _stop_on_errors(problems, strict=False)
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
    return parse_config(_read_yaml(site_dir, "content/site.yml"), "content/site.yml", base_url)


def load_schema(site_dir: Path) -> Schema:
    """Read content/schema.yml."""
    return parse_schema(_read_yaml(site_dir, "content/schema.yml"), "content/schema.yml")


def _read_yaml(site_dir: Path, rel: str) -> Tree:
    file = site_dir / rel
    if not file.is_file():
        raise DossierError([Diagnostic(rel, 1, 1, "error", "", "file is missing")])
    return parse(read_text(file, rel), rel)


def _generate(site_dir: Path, options: BuildOptions, output: Output) -> BuildResult:
    problems: list[Diagnostic] = []
    site = load_site(site_dir, options, problems)
    pages = plan(site)
    renderer = make_renderer(site, site_dir)
    links: dict[str, PageLinks] = {}
    for rel, html in _render(renderer, pages, problems):
        links[rel] = collect(html)
        output.write(rel, (minify_html(html) if options.minify else html).encode("utf-8"))
    for rel, data in static_files(site_dir):
        output.write(rel, data)
    for rel, data in export_files(site):
        output.write(rel, data)
    for rel, data in discovery_files(site, pages):
        output.write(rel, data)
    problems.extend(discovery_warnings(site))
    problems.extend(check_links(links, output.files, base_path(site.config.base_url)))
    _stop_on_errors(problems, options.strict)
    search = write_search_index(site, renderer, pages, output) if options.search else None
    return BuildResult(pages=len(pages), warnings=sort_diagnostics(problems), search=search)


def make_renderer(site: Site, site_dir: Path) -> Renderer:
    """A Renderer with the site's templates layered over the theme's."""
    templates = site_dir / "templates"
    return Renderer(site, make_environment(templates), load_messages(site.config.lang, templates),
                    assets.manifest(assets.collect(site_dir)))


def _render(renderer: Renderer, pages: list[Page],
            problems: list[Diagnostic]) -> Iterator[tuple[str, str]]:
    for page in pages:
        try:
            rendered = renderer.render(page)
        except jinja2.TemplateError as exc:
            problems.append(_template_problem(exc, page))
            continue
        problems.extend(rendered.problems)
        yield output_path(page.url), rendered.html


def _template_problem(exc: jinja2.TemplateError, page: Page) -> Diagnostic:
    name = getattr(exc, "name", None) or getattr(exc, "filename", None) or "templates"
    line = getattr(exc, "lineno", None) or 1
    where = f"templates/{name}" if not str(name).startswith("/") else str(name)
    return Diagnostic(where, line, 1, "error", "",
                      f"template error while rendering '{page.url or '/'}': {exc.message}")


def static_files(site_dir: Path) -> Iterator[tuple[str, bytes]]:
    """The theme's and the site's static files, under fingerprinted names (see assets.py)."""
    return assets.files(assets.collect(site_dir))


def _config_problems(config: SiteConfig, records: list[Record]) -> Iterator[Diagnostic]:
    """site.yml's references to records name published records."""
    for key, collection, slug in (("uitgever", "organisaties", config.publisher),
                                  ("introductie", "paginas", config.intro)):
        slugs = {r.slug for r in records if r.collection.name == collection}
        if slug and slug not in slugs:
            line, col = config.position(key)
            yield Diagnostic("content/site.yml", line, col, "error", key,
                             f"no record '{slug}' in {collection}", suggest(slug, slugs))


def _collisions(pages: list[Page]) -> Iterator[Diagnostic]:
    """Two pages with one URL (a content page named like a folder, say) cannot both exist."""
    seen: dict[str, Page] = {}
    for page in pages:
        first = seen.setdefault(page.url, page)
        if first is not page:
            culprit = page.record or first.record
            path = culprit.path if culprit else "content/schema.yml"
            yield Diagnostic(path, 1, 1, "error", "",
                             f"two pages would have the URL '{page.url}' "
                             f"({first.kind} and {page.kind}); rename one")


def _build_date() -> str:
    """SOURCE_DATE_EPOCH as a date, for reproducible builds; '' when unset."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not epoch.isdigit():
        return ""
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date().isoformat()


def _stop_on_errors(problems: list[Diagnostic], strict: bool) -> None:
    if errors(problems) or (strict and problems):
        raise DossierError(problems)


def _refuse_dangerous_output(site_dir: Path, out: Path) -> None:
    """The output folder is replaced whole: it may not hold the site itself."""
    site, target = site_dir.resolve(), out.resolve()
    if target == site or site.is_relative_to(target) or target == site / "content":
        raise DossierError([Diagnostic(str(out), 1, 1, "error", "",
                                       "output folder would replace the site's own files; "
                                       "choose another --out")])
