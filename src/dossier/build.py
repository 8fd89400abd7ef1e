"""The one place that knows the order of the stages.

load → validate → link → render → check → write; every read finishes before any write.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from dossier import history
from dossier.assets import THEME
from dossier.cache import (
    BuildCache,
    DocumentStore,
    Manifest,
    State,
    StatKey,
    generation,
    hash_files,
    source_stats,
    stat_key,
)
from dossier.diagnostics import Diagnostic, DossierError, errors, sort_diagnostics, suggest
from dossier.output import MARKER, MemoryOutput, OutputFolder, WriteStats, tree_stats
from dossier.parts import Anchor

# The stages' own modules (Jinja, Markdown, YAML, the validators) are imported where they
# are used: a build that finds its output up to date, or `dossier --help`, needs none.
if TYPE_CHECKING:
    from dossier.config import SiteConfig
    from dossier.jobs import Job
    from dossier.linkcheck import Trouble
    from dossier.loader import Document
    from dossier.model import Site
    from dossier.pages import Page
    from dossier.records import Record
    from dossier.render import Renderer
    from dossier.schema import Schema
    from dossier.searchindex import SearchStats
    from dossier.workers import Writer
    from dossier.yamltree import Tree

T = TypeVar("T")


class Output(Protocol):
    files: set[str]
    changed: int

    @property
    def writer(self) -> Writer: ...

    def write(self, rel: str, data: bytes) -> None: ...

    def record(self, rel: str, changed: bool) -> None: ...

    def read(self, rel: str) -> str | None: ...

    def reuse(self, rel: str) -> None: ...

    def previous(self) -> dict[str, StatKey] | None: ...

    def same_as_before(self, rel: str, data: bytes) -> bool: ...


@dataclass(frozen=True)
class BuildOptions:
    """What the command line can change about a build."""

    out: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    strict: bool = False
    jobs: int = 0  # worker processes; 0 = one per CPU
    cache: bool = True  # reuse what the previous build made from unchanged inputs
    search: bool = True  # build the Pagefind search index
    minify: bool = False  # collapse white space in HTML


@dataclass
class BuildResult:
    """What a build did: counts, time and the warnings it found."""

    pages: int = 0
    files: int = 0
    changed: int = 0
    removed: int = 0
    rendered: int = 0  # pages rendered (the others were taken over from the previous build)
    seconds: float = 0.0
    out: Path | None = None
    warnings: list[Diagnostic] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    unchanged: bool = False  # nothing to write: the previous output is still right
    outputs: dict[str, tuple[str, tuple[Anchor, ...]]] = field(
        default_factory=dict)  # per file: input key and anchors it links to elsewhere
    generation: str = ""  # the key of templates, schema, settings and options
    previous_files: list[str] = field(default_factory=list)  # per the previous manifest
    search: SearchStats | None = None


def build(site_dir: Path, options: BuildOptions = BuildOptions()) -> BuildResult:
    """Validate, render and write the site; raise DossierError and leave the output as it was."""
    started = time.perf_counter()
    out = options.out or site_dir / "build"
    _refuse_dangerous_output(site_dir, out)
    timings: dict[str, float] = {}
    cache = BuildCache(site_dir, out, enabled=options.cache)
    with _timed(timings, "load"):
        # Before reading: a file saved meanwhile is seen next time; so is a commit.
        sources = source_stats(site_dir) | history.stamp(site_dir)
        done = _up_to_date(site_dir, out, options, cache, sources)
    if done is not None:
        done.out, done.timings = out, timings
        done.seconds = time.perf_counter() - started
        return done
    with OutputFolder(out) as folder:
        result = _generate(site_dir, options, folder, timings, out.name, cache)
        with _timed(timings, "swap"):
            if result.unchanged:
                stats = WriteStats(len(result.outputs), 0, 0)
            else:
                stats = folder.commit(old_files=set(result.previous_files) or None)
    with _timed(timings, "swap"):
        cache.save_manifest(_manifest(result.generation, out, result.outputs))
        cache.save_state(State(result.generation, sources, tuple(result.warnings),
                               result.pages))
    result.files, result.changed, result.removed = stats.written, stats.changed, stats.removed
    result.out, result.seconds = out, time.perf_counter() - started
    return result


def _up_to_date(site_dir: Path, out: Path, options: BuildOptions, cache: BuildCache,
                sources: dict[str, StatKey]) -> BuildResult | None:
    """When no input changed since the last build and its output is untouched, say so.

    Like make: compare file stats with those the last build saw, read and render nothing.
    """
    if not options.cache or options.strict:
        return None
    state = cache.state()
    if state is None or state.sources != sources:
        return None
    generation_key = _generation(site_dir, options)[0]
    manifest = cache.manifest(generation_key)
    if state.generation != generation_key or not manifest.files:
        return None
    written = {rel: entry[1] for rel, entry in manifest.files.items()}
    found = tree_stats(out)
    found.pop(MARKER, None)
    if found != written:
        return None
    return BuildResult(pages=state.pages, files=len(written), warnings=list(state.warnings),
                       unchanged=True)


def check(site_dir: Path, options: BuildOptions = BuildOptions()) -> BuildResult:
    """Everything a build does except writing: all diagnostics, nothing on disk changes."""
    started = time.perf_counter()
    output = MemoryOutput()
    result = _generate(site_dir, replace(options, search=False), output, {}, "build", None)
    result.files, result.seconds = len(output.files), time.perf_counter() - started
    return result


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
    _stop_on_errors([*problems, *media.problems] if errors(problems) else [], strict=False)
    with _timed(timings, "link"):
        site = replace(link(config, schema, records, _build_date()), media=media)
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


def _generate(site_dir: Path, options: BuildOptions, output: Output,
              timings: dict[str, float], out_label: str,
              cache: BuildCache | None) -> BuildResult:
    from dossier.exports import write_collection_files
    from dossier.feeds import discovery_warnings
    from dossier.jobs import plan_jobs
    from dossier.keys import Keys
    from dossier.mediaworkers import publish_media
    from dossier.pages import plan
    from dossier.searchindex import write_search_index
    from dossier.workers import Background, default_jobs, render_pages

    problems: list[Diagnostic] = []
    with _timed(timings, "load"):
        generation, schema_key = _generation(site_dir, options)
    store = cache.documents(schema_key) if cache else None
    site = load_site(site_dir, options, problems, timings, store)
    if cache is not None and store is not None:
        with _timed(timings, "load"):
            cache.save_documents(store, site_dir)
    store = None  # the loaded documents are not needed now
    with _timed(timings, "plan"):
        pages = plan(site)
        problems.extend(_collisions(pages))
        _stop_on_errors(problems, strict=False)
        renderer = make_renderer(site, site_dir, cache)
        keys = Keys(site, generation) if cache else None
        jobs = plan_jobs(site, pages, site_dir, keys)
        manifest = cache.manifest(generation) if cache else Manifest("")
        old = output.previous()
        reuse = {j.rel for j in jobs if j.key and _intact(manifest, j, old)}
    result = BuildResult(pages=len(pages), timings=timings, generation=generation,
                         previous_files=list(manifest.files))
    fresh = {j.rel: j.produce() for j in jobs if not j.key and j.produce is not None}
    problems.extend(site.media.problems)  # errors among them stop the build after rendering
    if cache is not None and not errors(problems) \
            and _nothing_to_do(jobs, reuse, fresh, manifest, output):
        result.unchanged = True
        result.outputs = {rel: (key, anchors) for rel, (key, _, anchors) in manifest.files.items()}
        result.warnings = sort_diagnostics(problems + discovery_warnings(site))
        return result
    files = {j.rel for j in jobs}
    to_render = [j.page for j in jobs if j.page is not None and j.rel not in reuse]
    workers = options.jobs or default_jobs()
    others = [j for j in jobs if j.page is None and j.rel not in reuse
              and (j.produce is not None or j.export_of is not None)]

    def side_outputs() -> _SideResult:
        """Open data and the search index: they need the records, not the pages."""
        side = _SideResult()
        started = time.perf_counter()
        exported: dict[str, bool] = {}
        for job in others:
            if job.export_of is not None:
                if job.rel not in exported:
                    wanted = {j.rel for j in others if j.export_of is job.export_of}
                    exported.update(write_collection_files(site, job.export_of,
                                                           output.writer, wanted))
                side.written.append((job.rel, exported[job.rel]))
                continue
            data = fresh[job.rel] if job.rel in fresh else job.produce()  # type: ignore[misc]
            side.written.append((job.rel, output.writer.put(job.rel, data)))
        side.seconds = time.perf_counter() - started
        if options.search:
            recorder = _Recorder(output.writer)
            memo = cache.search_entries(generation) if cache is not None else None
            side.search = write_search_index(
                site, renderer, pages, recorder, memo, keys.card if keys is not None else None)
            side.search_files = recorder.written
            if cache is not None and memo is not None and keys is not None:
                cache.save_search_entries(generation, {k: memo[k] for r in site.all_records()
                                                       if (k := keys.card(r)) in memo})
        return side

    renderer.files = files
    if workers > 1:
        _share_parts(renderer, cache)
    # With several workers and a real output folder, they are made by a process of their
    # own while the pages are rendered (the search index, made by Pagefind, takes long).
    background = Background(side_outputs) if workers > 1 and isinstance(output, OutputFolder) \
        else None
    try:
        with _timed(timings, "render"):
            results = render_pages(renderer, to_render, output.writer, workers, options.minify)
        anchors: dict[str, tuple[Anchor, ...]] = {}
        ids: dict[str, set[str]] = {}
        troubles: list[Trouble] = []
        for page_result in results:
            output.record(page_result.rel, page_result.changed)
            problems.extend(page_result.problems)
            anchors[page_result.rel] = tuple(page_result.anchors)
            ids[page_result.rel] = page_result.ids
            troubles += page_result.troubles
            name = f"render {page_result.template}"
            timings[name] = timings.get(name, 0.0) + page_result.seconds
        with _timed(timings, "media"):
            media = publish_media(site_dir, site.media, files - reuse, output.writer, workers,
                                  cache.folder / "images" if cache and cache.enabled else None,
                                  make=isinstance(output, OutputFolder))
            problems.extend(media.problems)
            for rel, changed in media.written:
                output.record(rel, changed)
        with _timed(timings, "write"):
            for job in jobs:
                if job.rel in reuse:
                    output.reuse(job.rel)
                    anchors[job.rel] = manifest.files[job.rel][2]
        with _timed(timings, "check"):
            troubles += _anchor_problems(renderer, pages, anchors, ids, problems)
            problems.extend(_trouble_problems(renderer, pages, troubles))
        problems.extend(discovery_warnings(site))
        _stop_on_errors(problems, options.strict)
        with _timed(timings, "wait for open data and search index" if background else "write"):
            side = background.result() if background is not None else side_outputs()
    except BaseException:
        if background is not None:
            background.cancel()
        renderer.close()
        raise
    for rel, changed in side.written:
        output.record(rel, changed)
    timings["open data" + (" (alongside rendering)" if background else "")] = side.seconds
    if renderer.fragments is not None and not renderer.fragments.temporary:
        renderer.fragments.prune(lambda: {r.path: [r.body, *_strings(r.data)]
                                          for r in site.all_records()})
    renderer.close()
    result.rendered = len(to_render)
    result.outputs = {j.rel: (j.key, anchors.get(j.rel, ())) for j in jobs}
    if side.search is not None:
        result.search = side.search
        timings["search index" + (" (alongside rendering)" if background else "")] = \
            side.search.seconds
        for rel, changed in side.search_files:
            output.record(rel, changed)
            result.outputs[rel] = ("", ())
    result.warnings = sort_diagnostics(problems)
    return result


@dataclass
class _SideResult:
    """What the outputs besides pages came to: files written (changed or not), search."""

    written: list[tuple[str, bool]] = field(default_factory=list)
    seconds: float = 0.0
    search: SearchStats | None = None
    search_files: list[tuple[str, bool]] = field(default_factory=list)


@dataclass
class _Recorder:
    """Writes through a writer and remembers what it wrote (in another process, maybe)."""

    writer: Writer
    written: list[tuple[str, bool]] = field(default_factory=list)

    def write(self, rel: str, data: bytes) -> None:
        self.written.append((rel, self.writer.put(rel, data)))


def _generation(site_dir: Path, options: BuildOptions) -> tuple[str, str]:
    """Keys of everything outside the records that output depends on (see cache.py)."""
    schema_key = generation(hash_files(site_dir / "content" / "schema.yml"))
    outputs_key = generation(
        schema_key, hash_files(site_dir / "content" / "site.yml"),
        hash_files(THEME, site_dir / "templates"),
        repr((options.base_url, options.drafts, options.search, options.minify,
              _build_date())))
    return outputs_key, schema_key


def _intact(manifest: Manifest, job: Job, old: dict[str, StatKey] | None) -> bool:
    """Whether the previous build made this file from the same inputs, and it is untouched."""
    entry = manifest.files.get(job.rel)
    if entry is None or old is None or entry[0] != job.key:
        return False
    return bool(old.get(job.rel) == entry[1])


def _nothing_to_do(jobs: list[Job], reuse: set[str], fresh: dict[str, bytes],
                   manifest: Manifest, output: Output) -> bool:
    """Every file would be taken over as it is: then the output folder stays as it is."""
    if len(reuse) + len(fresh) != len(jobs) or set(manifest.files) != {j.rel for j in jobs}:
        return False
    return all(output.same_as_before(rel, data) for rel, data in fresh.items())


def _manifest(key: str, out: Path,
              outputs: dict[str, tuple[str, tuple[Anchor, ...]]]) -> Manifest:
    manifest = Manifest(key)
    for rel, (job_key, anchors) in outputs.items():
        try:
            manifest.files[rel] = (job_key, stat_key((out / rel).stat()), anchors)
        except OSError:
            continue
    return manifest


def _anchor_problems(renderer: Renderer, pages: list[Page],
                     anchors: dict[str, tuple[Anchor, ...]], ids: dict[str, set[str]],
                     problems: list[Diagnostic]) -> Iterator[Trouble]:
    """Links to an #id on another page: that page must have the id. A content link that
    fails is a problem of its record; one a template made, a trouble of its template."""
    from dossier.linkcheck import Trouble, missing_anchor
    from dossier.urls import output_path

    by_rel = {output_path(p.url): p for p in pages}
    for rel in sorted(anchors):
        for target, fragment, origin in anchors[rel]:
            page = by_rel.get(target)
            if page is None:
                continue
            if target not in ids:  # taken over from the previous build: render it again
                ids[target] = renderer.render(page).ids
            if fragment in ids[target]:
                continue
            message = missing_anchor(origin.href or f"{target}#{fragment}", target, fragment)
            if not origin.in_content:
                message = missing_anchor(f"{target}#{fragment}", target, fragment)
            if origin.in_content:
                place = renderer.locate(origin, origin.href or f"#{fragment}")
                problems.append(Diagnostic(place.path, place.line, place.column, "error",
                                           place.field, message))
            else:
                yield Trouble(origin, message, by_rel[rel].url if rel in by_rel else rel)


def _trouble_problems(renderer: Renderer, pages: list[Page],
                      troubles: list[Trouble]) -> list[Diagnostic]:
    """Broken links that templates made, each once, with the first page that shows it."""
    templates = {p.url: p.template[0] for p in pages}
    grouped: dict[tuple[str, int, int, str], dict[str, str]] = {}
    for trouble in troubles:
        origin = trouble.origin
        if not origin.path:
            origin = renderer.locate_literal(origin.href, templates.get(trouble.page, ""))
        grouped.setdefault((origin.path, origin.line, origin.column, trouble.message),
                           {}).setdefault(trouble.page, trouble.detail)
    found = []
    for (path, line, column, message), on in grouped.items():
        shown = sorted(on, key=lambda url: (url.count("/"), url))
        detail = f": {on[shown[0]]}" if on[shown[0]] else ""
        where = f"on page '{shown[0] or '/'}'" + (
            f" and {len(shown) - 1} other page{'s' * (len(shown) > 2)}" if len(shown) > 1
            else "")
        found.append(Diagnostic(path, line, column, "error", "", f"{message}{detail} ({where})"))
    return found


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - started


def make_renderer(site: Site, site_dir: Path, cache: BuildCache | None = None) -> Renderer:
    """A Renderer with the site's templates layered over the theme's; with a build cache,
    converted Markdown is kept in it and taken from it."""
    from dossier import assets
    from dossier.fragments import FragmentStore
    from dossier.render import Renderer, load_messages, make_environment

    templates = site_dir / "templates"
    messages = load_messages(site.config.lang, templates)
    fragments = None
    if cache is not None and cache.enabled:
        fragments = FragmentStore(cache.fragments_path, _converter_settings(messages))
    return Renderer(site, make_environment(templates), messages,
                    assets.manifest(assets.collect(site_dir)), fragments, None, site_dir)


def _converter_settings(messages: dict[str, str]) -> str:
    """The converter's code and the one message it writes into HTML (footnote links)."""
    code = hash_files(*(Path(__file__).parent / name for name in ("markup.py", "render.py")))
    return f"{code}\0{messages.get('footnote.back', '')}"


def _share_parts(renderer: Renderer, cache: BuildCache | None) -> None:
    """Stores through which forked workers share what one of them made (parts, and
    converted Markdown when the build cache is not used)."""
    from dossier.fragments import FragmentStore, PartStore

    if renderer.fragments is None:
        scratch = Path(tempfile.mkdtemp(prefix="dossier-fragments-"))
        renderer.fragments = FragmentStore(scratch / "fragments.sqlite",
                                           _converter_settings(renderer.messages),
                                           temporary=True)
    folder = cache.folder if cache is not None and cache.enabled \
        else renderer.fragments.path.parent
    renderer.store = PartStore.create(folder)


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


def _strings(value: object) -> Iterator[str]:
    """Every string in a record's data (its Markdown text fields among them)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


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
