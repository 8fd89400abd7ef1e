"""The one place that knows the order of the stages.

load → validate → link → plan → render → check → write; every read finishes before any
write. What a build remembers for the next one (cache.py) decides what it makes again:
only the outputs that read something that changed (changes.py).
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dossier.content import history
from dossier.content.load import build_date, load_config, load_schema, load_site
from dossier.core.diagnostics import Diagnostic, DossierError, errors, sort_diagnostics
from dossier.core.hashing import hash_files
from dossier.incremental.cache import BuildCache, StatKey, generation, source_stats, stat_key
from dossier.incremental.entries import SqliteEntryStore
from dossier.incremental.fragments import SqliteFragmentStore, SqlitePartStore
from dossier.incremental.state import Remembered, Update
from dossier.incremental.state import RememberedOutput as Remembered_output
from dossier.render.assets import THEME
from dossier.write.output import MARKER, MemoryOutput, OutputFolder, Standby, WriteStats, tree_stats

if TYPE_CHECKING:
    from dossier.incremental.state import Baseline
    from dossier.model.site import Site
    from dossier.outputs.opendata import Rows
    from dossier.plan.jobs import Job, SearchPlan, Side
    from dossier.render.linkcheck import Trouble
    from dossier.render.parts import Anchor
    from dossier.render.pool import PageWriter
    from dossier.render.renderer import Renderer
    from dossier.search.index import SearchStats

__all__ = ["BuildOptions", "BuildResult", "build", "check", "load_config", "load_schema",
           "load_site", "make_renderer"]


class Output(Protocol):
    files: set[str]
    changed: int

    @property
    def writer(self) -> PageWriter: ...

    def record(self, rel: str, changed: bool) -> None: ...

    def reuse(self, rel: str) -> None: ...

    def remove(self, rel: str) -> None: ...

    def previous(self) -> dict[str, StatKey] | None: ...


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
    # Records per part of the search index at most (searchparts.py: Pagefind then holds
    # some 260 MB).
    search_part_size: int = 2000
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
    search: SearchStats | None = None


def build(site_dir: Path, options: BuildOptions = BuildOptions()) -> BuildResult:
    """Validate, render and write the site; raise DossierError and leave the output as it was."""
    started = time.perf_counter()
    out = options.out or site_dir / "build"
    _refuse_dangerous_output(site_dir, out)
    timings: dict[str, float] = {}
    cache = BuildCache(site_dir, out, enabled=options.cache)
    try:
        with _timed(timings, "load"):
            # Before reading: a file saved meanwhile is seen next time; so is a commit.
            sources = source_stats(site_dir) | history.stamp(site_dir)
            key, schema_key = _generation(site_dir, options)
            found: dict[str, StatKey] = {}
            before = last = cache.remembered(everything=False) if options.cache else None
            if before is not None and before.generation != key:
                before = None
            done = _up_to_date(out, options, before, sources, found)
        if done is not None:
            done.out, done.timings, done.seconds = out, timings, time.perf_counter() - started
            return done
        if before is not None:
            with _timed(timings, "load"):
                before = cache.complete(before)
        standby = Standby(before.changed, before.removed, cache.standby_unknown) \
            if before is not None and before.standby else None
        with OutputFolder(out, standby, cache.standby_unknown) as folder:
            if found:
                folder.stats = found  # read by the up-to-date check: not twice
            result, update = _generate(site_dir, options, folder, timings, cache, before,
                                       key, schema_key, last=last)
            with _timed(timings, "swap"):
                stats = WriteStats(len(folder.files), 0, 0) if result.unchanged \
                    else folder.commit()
        with _timed(timings, "swap"):
            _remember(cache, update, before, result, folder, out, key, sources)
    finally:
        cache.close()
    result.files, result.changed, result.removed = stats.written, stats.changed, stats.removed
    result.out, result.seconds = out, time.perf_counter() - started
    return result


def _up_to_date(out: Path, options: BuildOptions, before: Remembered | None,
                sources: dict[str, StatKey], found: dict[str, StatKey]) -> BuildResult | None:
    """When no input changed since the last build and its output is untouched, say so.

    Like make: compare file stats with those the last build saw, read and render nothing.
    The output folder's stats are left in `found` (a build that goes on needs them).
    """
    if before is None or options.strict or not before.baseline.outputs:
        return None
    found.update(tree_stats(out))
    found.pop(MARKER, None)
    if before.sources != sources:
        return None
    written = {rel: o.stat for rel, o in before.baseline.outputs.items()}
    if found != written:
        return None
    return BuildResult(pages=before.pages, files=len(written), warnings=list(before.warnings),
                       unchanged=True)


def check(site_dir: Path, options: BuildOptions = BuildOptions()) -> BuildResult:
    """Everything a build does except writing: all diagnostics, nothing on disk changes."""
    started = time.perf_counter()
    output = MemoryOutput()
    key, schema_key = _generation(site_dir, options)
    result, _ = _generate(site_dir, replace(options, search=False), output, {}, None, None,
                          key, schema_key)
    result.files, result.seconds = len(output.files), time.perf_counter() - started
    return result


def _generate(site_dir: Path, options: BuildOptions, output: Output,
              timings: dict[str, float], cache: BuildCache | None, before: Remembered | None,
              key: str, schema_key: str, site: Site | None = None,
              problems: list[Diagnostic] | None = None, last: Remembered | None = None
              ) -> tuple[BuildResult, Update]:
    """Make every output whose inputs changed since `before` (all, without it). `site`:
    a model already loaded (the preview keeps one); else the content is read. `last`:
    the last build's state whatever it was built under (for the search index)."""
    from dossier.incremental.changes import Model, changed, stale
    from dossier.outputs.feeds import discovery_warnings
    from dossier.outputs.publish import publish_media
    from dossier.plan.jobs import plan_jobs, side_outputs
    from dossier.plan.pages import collisions, plan
    from dossier.render.linkcheck import anchor_problems, trouble_problems
    from dossier.render.pool import Background, default_jobs, give_back_memory, render_pages

    problems = [] if problems is None else problems
    if site is None:
        store = cache.documents(schema_key) if cache else None
        site = load_site(site_dir, options, problems, timings, store)
        if cache is not None and store is not None:
            with _timed(timings, "load"):
                cache.save_documents(store, site_dir)
        store = None  # the loaded documents are not needed now
    with _timed(timings, "plan"):
        pages = plan(site)
        problems.extend(collisions(pages))
        _stop_on_errors(problems, strict=False)
        renderer = make_renderer(site, site_dir, cache)
        jobs = plan_jobs(site, pages, site_dir)
        model = Model(site, pages)
    with _timed(timings, "what changed"):
        baseline = before.baseline if before is not None else None
        found = changed(model, baseline) if baseline is not None else set()
        previous = output.previous() or {}
        reuse = set() if baseline is None else {
            j.rel for j in jobs if (o := baseline.outputs.get(j.rel)) is not None and o.deps
            and previous.get(j.rel) == o.stat and not stale(o, found)}
    problems.extend(site.media.problems)  # errors among them stop the build after rendering
    result = BuildResult(pages=len(pages), timings=timings)
    update = Update(Remembered(), fresh=baseline is None, found=found)
    if baseline is not None and not errors(problems) \
            and _nothing_to_do(jobs, reuse, baseline, output):
        result.unchanged = True
        result.warnings = sort_diagnostics(problems + discovery_warnings(site))
        return result, update
    files = {j.rel for j in jobs}
    to_render = [j.page for j in jobs if j.page is not None and j.rel not in reuse]
    workers = options.jobs or default_jobs()
    others = [j for j in jobs if j.page is None and j.rel not in reuse and j.kind != "media"]
    renderer.files = files
    if workers > 1:
        _share_parts(renderer, cache)
    search = _search_plan(options, cache, site, baseline, found, last, previous) \
        if options.search else None

    def side() -> Side:
        """Open data and the search index: they need the records, not the pages."""
        return side_outputs(site, renderer, pages, others, output.writer, search,
                            _intact_rows(site, baseline, previous),
                            lambda packed: stale(Remembered_output((0, 0, 0), packed), found))

    # With several workers and a real output folder, they are made by a process of their
    # own while the pages are rendered (the search index, made by Pagefind, takes long).
    # While forked processes share the model, it is left out of garbage collection: a
    # collection in a worker writes to every object it visits, which would copy the pages
    # of the whole model into that worker.
    if workers > 1:
        give_back_memory()
        gc.freeze()
    background = Background(side) if workers > 1 and isinstance(output, OutputFolder) else None
    try:
        ids: dict[str, Collection[str]] = {}
        anchors: dict[str, tuple[Anchor, ...]] = {}
        # Problems and troubles in the order of the plan, whatever order pages come in.
        reported: list[tuple[int, list[Diagnostic], list[Trouble]]] = []
        with _timed(timings, "render"):
            for index, page_result in render_pages(renderer, to_render, output.writer,
                                                   workers, options.minify):
                rel = page_result.rel
                output.record(rel, page_result.changed)
                if page_result.problems or page_result.troubles:
                    reported.append((index, page_result.problems, page_result.troubles))
                # The same ids (a section, the table of contents) recur on every page.
                kept_ids = tuple(sorted(sys.intern(i) for i in page_result.ids))
                ids[rel] = kept_ids
                if page_result.anchors:
                    anchors[rel] = tuple(page_result.anchors)
                update.outputs[rel] = Remembered_output(
                    (0, 0, 0), page_result.deps, kept_ids,
                    tuple((t, f, _origin_tuple(o)) for t, f, o in page_result.anchors))
                update.parts.update(page_result.parts)
                _seen(update, page_result.derived)
                name = f"render {page_result.template}"
                timings[name] = timings.get(name, 0.0) + page_result.seconds
        troubles: list[Trouble] = []
        for _, problems_of_page, troubles_of_page in sorted(reported, key=lambda r: r[0]):
            problems.extend(problems_of_page)
            troubles += troubles_of_page
        with _timed(timings, "media"):
            media = publish_media(site_dir, site.media, files - reuse, output.writer, workers,
                                  cache.folder / "images" if cache and cache.enabled else None,
                                  make=isinstance(output, OutputFolder))
            problems.extend(media.problems)
            for rel, was_changed in media.written:
                output.record(rel, was_changed)
                update.outputs[rel] = Remembered_output((0, 0, 0), _constant(rel))
        with _timed(timings, "write"):
            for job in jobs:
                if job.rel in reuse:
                    output.reuse(job.rel)
                    if baseline is not None:
                        kept = baseline.outputs[job.rel]
                        if kept.anchors:
                            anchors[job.rel] = tuple(_anchor(a) for a in kept.anchors)
                        ids.setdefault(job.rel, kept.ids)
        with _timed(timings, "check"):
            troubles += anchor_problems(renderer, pages, anchors, ids, problems)
            problems.extend(trouble_problems(renderer, pages, troubles))
        del ids, anchors, troubles  # a large site's ids take much room, and are done with
        problems.extend(discovery_warnings(site))
        _stop_on_errors(problems, options.strict)
        with _timed(timings, "wait for open data and search index" if background else "write"):
            made = background.result() if background is not None else side()
    except BaseException:
        if background is not None:
            background.cancel()
        renderer.close()
        raise
    finally:
        gc.unfreeze()  # the preview builds again and again in one process
    for rel, was_changed, packed, read in made.written:
        output.record(rel, was_changed)
        update.outputs[rel] = Remembered_output((0, 0, 0), packed,
                                                key=made.search_keys.get(rel, ""))
        _seen(update, read)
    update.rows = made.rows
    timings["open data" + (" (alongside rendering)" if background else "")] = made.seconds
    if baseline is not None:
        for rel in sorted(set(baseline.outputs) - output.files):
            output.remove(rel)
            update.gone.append(rel)
    _finish_state(update, model, baseline, found)
    update.search = made.search_made
    if isinstance(renderer.fragments, SqliteFragmentStore) and not renderer.fragments.temporary:
        renderer.fragments.prune(lambda: ((r.path, [r.raw_body, *_strings(r.unrecorded_data)])
                                          for r in site.all_records()))
    renderer.close()
    result.rendered = len(to_render)
    if made.search is not None:
        result.search = made.search
        timings["search index" + (" (alongside rendering)" if background else "")] = \
            made.search.seconds
    result.warnings = sort_diagnostics(problems)
    return result, update


def _seen(update: Update, read: list[tuple[str, ...]]) -> None:
    """Derived dependencies an output read: their values are stored with the state."""
    from dossier.core.deps import dep_id

    for dep in read:
        update.derived.setdefault(dep_id(dep), (dep, ""))


def _constant(rel: str) -> bytes:
    """The dependencies of a file named after its content (an image, a document): none
    that can change, so it is kept while it is there."""
    from dossier.core.deps import pack

    return pack([("file", rel)])


def _finish_state(update: Update, model: object, baseline: object, found: set[int]) -> None:
    """The values of the derived dependencies and the records, as the next build compares."""
    from dossier.incremental.changes import Model, derived_values, record_states
    from dossier.incremental.state import Baseline

    assert isinstance(model, Model)
    old = baseline if isinstance(baseline, Baseline) else Baseline()
    seen = {ident: dep for ident, (dep, _) in update.derived.items()}
    update.derived = derived_values(model, old, found, seen)
    states = record_states(model.site, old)
    update.records = {k: v for k, v in states.items() if old.records.get(k) != v}
    update.records_gone = sorted(set(old.records) - set(states))


def _remember(cache: BuildCache, update: Update, before: Remembered | None,
              result: BuildResult, folder: OutputFolder, out: Path, key: str,
              sources: dict[str, StatKey]) -> None:
    """What this build leaves for the next: the stats of what it wrote, what it read."""
    if result.unchanged and before is not None:
        update.run = replace(before, sources=sources, warnings=tuple(result.warnings))
        update.outputs = {}
    else:
        for rel in list(update.outputs):
            try:
                update.outputs[rel].stat = stat_key((out / rel).stat())
            except OSError:
                del update.outputs[rel]
        kept = before.baseline.outputs if before is not None else {}
        changed = sorted(rel for rel in update.outputs if rel not in kept
                         or kept[rel].stat != update.outputs[rel].stat)
        update.run = Remembered(key, sources, tuple(result.warnings), result.pages,
                                changed=changed, removed=sorted(update.gone), standby=True)
    cache.remember(update)


def _intact_rows(site: Site, baseline: Baseline | None,
                 previous: dict[str, StatKey]) -> dict[str, Rows] | None:
    """The previous build's export rows of each collection whose files are still the
    ones they describe (a build killed after its swap, before its state was stored,
    leaves newer files than the state knows: their rows are made again)."""
    if baseline is None:
        return None
    intact = {}
    from dossier.outputs.opendata import collection_file_names

    for name, rows in baseline.rows.items():
        collection = next((c for c in site.schema.collections if c.name == name), None)
        if collection is None:
            continue
        rels = collection_file_names(collection)[:3]
        if all((o := baseline.outputs.get(rel)) is not None and previous.get(rel) == o.stat
               for rel in rels):
            intact[name] = rows
    return intact


def _nothing_to_do(jobs: list[Job], reuse: set[str], baseline: object, output: Output) -> bool:
    """Every file would be taken over as it is: then the output folder stays as it is."""
    from dossier.incremental.state import Baseline

    assert isinstance(baseline, Baseline)
    rest = [j for j in jobs if j.rel not in reuse]
    if any(j.produce is None for j in rest) or set(baseline.outputs) - {j.rel for j in jobs} \
            - {rel for rel in baseline.outputs if rel.startswith("pagefind/")}:
        return False
    return all(isinstance(output, OutputFolder) and output.same_as_before(j.rel, j.produce())
               for j in rest if j.produce is not None)


def _search_plan(options: BuildOptions, cache: BuildCache | None, site: Site,
                 baseline: Baseline | None, found: set[int], last: Remembered | None,
                 previous: dict[str, StatKey]) -> SearchPlan:
    """What the search index can take from before: the entries of records whose entry read
    nothing that changed (with the state they were made under), and the search files of
    the last build of this folder, whatever it was built under (a part is named by the
    digests of its entries, so one with the same entries is the same part)."""
    from dossier.incremental.changes import stale
    from dossier.plan.jobs import SearchPlan
    from dossier.search.index import Earlier

    trusted = {} if baseline is None else {
        key: made for key, made in baseline.search.items()
        if key in site.unrecorded.index and not stale(Remembered_output((0, 0, 0), made[1]), found)}
    outputs = last.baseline.outputs if last is not None else {}
    earlier = {rel: Earlier(o.key, o.stat[0], previous.get(rel) == o.stat)
               for rel, o in outputs.items() if o.key}
    store = SqliteEntryStore(cache.search_path if cache is not None and cache.enabled else None)
    return SearchPlan(store, trusted, earlier, options.search_part_size)


def _anchor(raw: tuple[str, str, tuple[Any, ...]]) -> Anchor:
    from dossier.render.parts import Origin

    target, fragment, origin = raw
    return target, fragment, Origin(*origin)


def _origin_tuple(origin: object) -> tuple[object, ...]:
    from dossier.render.parts import Origin

    assert isinstance(origin, Origin)
    return (origin.path, origin.line, origin.column, origin.field, origin.href)


def _generation(site_dir: Path, options: BuildOptions) -> tuple[str, str]:
    """Keys of everything outside the records that output depends on (see cache.py).

    site.yml is not among them: each setting a page reads is one of its dependencies;
    the language and the site's address are, as every page shows them.
    """
    schema_key = generation(hash_files(site_dir / "content" / "schema.yml"))
    try:
        config = load_config(site_dir, options.base_url)
        site_key = repr((config.lang, config.base_url))
    except DossierError:
        site_key = "?"
    outputs_key = generation(
        schema_key, site_key, hash_files(THEME, site_dir / "templates"),
        repr((options.base_url, options.drafts, options.search, options.minify,
              build_date())))
    return outputs_key, schema_key


@dataclass
class _Timer:
    timings: dict[str, float]
    stage: str
    started: float = 0.0

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.stage] = self.timings.get(self.stage, 0.0) + \
            time.perf_counter() - self.started


def _timed(timings: dict[str, float], stage: str) -> _Timer:
    return _Timer(timings, stage)


def make_renderer(site: Site, site_dir: Path, cache: BuildCache | None = None) -> Renderer:
    """A Renderer with the site's templates layered over the theme's; with a build cache,
    converted Markdown is kept in it and taken from it."""
    from dossier.render import assets
    from dossier.render.renderer import Renderer, load_messages
    from dossier.render.templating import make_environment

    templates = site_dir / "templates"
    messages = load_messages(site.config.lang, templates)
    fragments = None
    if cache is not None and cache.enabled:
        fragments = SqliteFragmentStore(cache.fragments_path, _converter_settings(messages))
    return Renderer(site, make_environment(templates), messages,
                    assets.manifest(assets.collect(site_dir)), fragments, None, site_dir)


def _converter_settings(messages: dict[str, str]) -> str:
    """The converter's code and the one message it writes into HTML (footnote links)."""
    package = Path(__file__).parent
    code = hash_files(package / "content" / "markup.py", package / "render" / "markdown.py")
    return f"{code}\0{messages.get('footnote.back', '')}"


def _share_parts(renderer: Renderer, cache: BuildCache | None) -> None:
    """Stores through which forked workers share what one of them made (parts, and
    converted Markdown when the build cache is not used)."""
    if renderer.fragments is None:
        scratch = Path(tempfile.mkdtemp(prefix="dossier-fragments-"))
        renderer.fragments = SqliteFragmentStore(scratch / "fragments.sqlite",
                                                 _converter_settings(renderer.messages),
                                                 temporary=True)
    assert isinstance(renderer.fragments, SqliteFragmentStore)
    folder = cache.folder if cache is not None and cache.enabled \
        else renderer.fragments.path.parent
    renderer.store = SqlitePartStore.create(folder)


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
