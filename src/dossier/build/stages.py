"""The stages of a build, one function each, called in order by pipeline.run.

Each takes the run (options, memory, problems so far) and what the stage before made,
and gives what the next one needs. The work itself is done by the package of the stage:
content/ reads and validates, model/ links, plan/ and outputs/files.py plan, render/
renders and checks links, outputs/ and search/ make the other files, write/ swaps.
"""

from __future__ import annotations

import gc
import tempfile
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dossier.build.run import Run
from dossier.build.sides import Sides, side_makers
from dossier.content import history
from dossier.content.load import Content, build_date, read_content, reread, validate_records
from dossier.content.records import Record
from dossier.core.diagnostics import Diagnostic, errors, sort_diagnostics, stop_on_errors
from dossier.core.hashing import hash_files
from dossier.core.timing import add
from dossier.incremental.changes import Model
from dossier.incremental.fragments import SqliteFragmentStore, SqlitePartStore
from dossier.incremental.memory import Todo, strings
from dossier.incremental.state import StatKey
from dossier.model.media import MediaMemo, plan_media
from dossier.model.site import Site
from dossier.model.site import link as link_records
from dossier.outputs.feeds import discovery_warnings
from dossier.outputs.files import Job, plan_jobs
from dossier.outputs.publish import publish_media
from dossier.plan.pages import Page, collisions, plan
from dossier.render import assets
from dossier.render.linkcheck import Trouble, anchor_problems, trouble_problems
from dossier.render.parts import Anchor
from dossier.render.pool import PageWriter, default_jobs, give_back_memory, render_pages
from dossier.render.renderer import Renderer, load_messages
from dossier.render.templating import make_environment
from dossier.write.output import InPlace, OutputFolder, WriteStats


class Destination(Protocol):
    """Where a run's files go: the output folder (a build), nothing (a check), or the
    preview's folder in place."""

    files: set[str]
    changed: int

    @property
    def writer(self) -> PageWriter: ...

    def record(self, rel: str, changed: bool) -> None: ...

    def reuse(self, rel: str) -> None: ...

    def remove(self, rel: str) -> None: ...

    def previous(self) -> dict[str, StatKey] | None: ...

    def commit(self) -> WriteStats: ...


@dataclass
class Reading:
    """The preview's load stage: the content it holds, and the files saved since."""

    content: Content
    changed: list[str]


@dataclass
class Work:
    """What the plan stage made: the pages, every output file, and the renderer."""

    site: Site
    pages: list[Page]
    jobs: list[Job]
    renderer: Renderer
    model: Model


@dataclass
class PagesRendered:
    """What the render stage left for the check and the side outputs."""

    sides: Sides
    earlier_ids: Callable[[str], Collection[str] | None]  # of a page taken over
    pages: int = 0
    ids: dict[str, Collection[str]] = field(default_factory=dict)  # of the pages rendered
    anchors: dict[str, tuple[Anchor, ...]] = field(default_factory=dict)
    troubles: list[Trouble] = field(default_factory=list)


def load(run: Run, reading: Reading | None) -> Content:
    """Settings, schema and record files → documents, each checked on its own."""
    if reading is not None:
        return reread(reading.content, run.site_dir, reading.changed)
    run.store = run.memory.documents()
    return read_content(run.site_dir, run.options, run.store, run.timings)


def validate(run: Run, content: Content) -> tuple[Content, list[Record]]:
    """Documents → records, checked together. Errors need the positions that only a
    fresh read has: when some documents came from the memory, all are read again."""
    found = list(content.problems)
    records = validate_records(content, run.options, found, run.store)
    if errors(found) and content.from_store:
        with run.part("validate", "reading again for positions"):
            content = read_content(run.site_dir, run.options, None, run.timings)
        found = list(content.problems)
        records = validate_records(content, run.options, found, None)
    run.problems.extend(found)
    return content, records


def link(run: Run, content: Content, records: list[Record]) -> Site:
    """Dates from git, the files records refer to, then the linked model."""
    with run.part("link", "dates from git"):
        folder = run.memory.folder if run.store is not None else None
        records = history.dated(records, run.site_dir, folder)
    with run.part("link", "media"):
        # Its problems stay with it, so that those of rendering come in the same pass.
        rows = run.memory.media_rows(run.store)
        memo = MediaMemo(rows) if rows is not None else None
        media = plan_media(run.site_dir, records, content.schema, memo)
    stop_on_errors([*run.problems, *media.problems] if errors(run.problems) else [])
    site = link_records(content.config, content.schema, records, build_date(), media)
    stop_on_errors(run.problems)
    if run.store is not None:
        with run.part("link", "documents kept"):
            if memo is not None:
                run.memory.keep_media(run.store, *memo.rows_to_keep())
            run.memory.save_documents(run.store, run.site_dir)
        run.store = None  # the documents are not needed now
    return site


def plan_outputs(run: Run, site: Site) -> Work:
    """Every page and every other output file, and the renderer that makes pages."""
    pages = plan(site)
    run.problems.extend(collisions(pages))
    stop_on_errors(run.problems)
    renderer = make_renderer(site, run.site_dir, run.memory.fragments_path, run.memory.folder)
    run.on_exit(renderer.close)
    jobs = plan_jobs(site, pages, run.site_dir, run.options.admin_local)
    run.result.pages = len(pages)
    return Work(site, pages, jobs, renderer, Model(site, pages))


def what_changed(run: Run, work: Work, output: Destination) -> Todo:
    """The outputs to make again: those that read something that changed."""
    todo = run.memory.what_changed(work.model, work.jobs, output.previous() or {})
    run.problems.extend(work.site.media.problems)  # errors among them stop after rendering
    same = output.same_as_before if isinstance(output, OutputFolder) else _never
    if run.memory.baseline is not None and not errors(run.problems) \
            and run.memory.nothing_to_do(work.jobs, todo, same):
        todo.nothing_to_do = run.result.unchanged = True
        run.result.warnings = sort_diagnostics(run.problems + discovery_warnings(work.site))
    return todo


def render(run: Run, work: Work, todo: Todo, output: Destination) -> PagesRendered:
    """Pages rendered, written and link-checked (in worker processes), the files records
    refer to published, and the files that read nothing that changed taken over."""
    options, memory, site, renderer = run.options, run.memory, work.site, work.renderer
    files = {j.rel for j in work.jobs}
    to_render = [j.page for j in work.jobs if j.page is not None and j.rel not in todo.reuse]
    workers = options.jobs or default_jobs()
    others = [j for j in work.jobs
              if j.page is None and j.rel not in todo.reuse and j.kind != "media"]
    renderer.files = files
    if workers > 1:
        share_parts(renderer, memory.folder)
    search = memory.search_plan(options, site, todo) if options.search else None
    makers = side_makers(site, renderer, work.pages, others, output.writer, search,
                   memory.intact_rows(site, todo.previous), memory.stale(todo.found))
    # While forked processes share the model, it is left out of garbage collection: a
    # collection in a worker writes to every object it visits, which would copy the pages
    # of the whole model into that worker.
    if workers > 1:
        give_back_memory()
        gc.freeze()
    run.on_exit(gc.unfreeze)  # the preview builds again and again in one process
    sides = Sides(makers, background=workers > 1 and isinstance(output, (OutputFolder, InPlace)))
    run.on_failure(sides.cancel)
    rendered = PagesRendered(sides, memory.taken_over_ids, len(to_render))
    # Problems and troubles in the order of the plan, whatever order pages come in.
    reported: list[tuple[int, list[Diagnostic], list[Trouble]]] = []
    for index, page in render_pages(renderer, to_render, output.writer, workers,
                                    options.minify):
        output.record(page.rel, page.changed)
        if page.problems or page.troubles:
            reported.append((index, page.problems, page.troubles))
        rendered.ids[page.rel] = memory.note_page(page)
        if page.anchors:
            rendered.anchors[page.rel] = tuple(page.anchors)
        add(run.timings, f"render/{page.template}", page.seconds)
    for _, problems, troubles in sorted(reported, key=lambda r: r[0]):
        run.problems.extend(problems)
        rendered.troubles += troubles
    with run.part("render", "media files"):
        published = publish_media(run.site_dir, site.media, files - todo.reuse, output.writer,
                                  workers, memory.folder / "images" if memory.folder else None,
                                  make=isinstance(output, OutputFolder))
        run.problems.extend(published.problems)
        for rel, was_changed in published.written:
            output.record(rel, was_changed)
            memory.note_constant(rel)
    with run.part("render", "taken over"):
        for rel in todo.reuse:
            output.reuse(rel)
        rendered.anchors.update(memory.taken_over_anchors(todo.reuse))
        # Their ids stay with the memory: looked up when a link to one needs them (check).
    return rendered


def check(run: Run, work: Work, rendered: PagesRendered) -> None:
    """Every internal link leads to a file and every #anchor to an id; then the problems
    found so far stop the build if one is an error (or any, with --strict)."""
    troubles = [*rendered.troubles, *anchor_problems(work.renderer, work.pages,
                                                     rendered.anchors, rendered.ids,
                                                     run.problems, rendered.earlier_ids)]
    run.problems.extend(trouble_problems(work.renderer, work.pages, troubles))
    rendered.ids, rendered.anchors = {}, {}  # a large site's ids take much room
    run.problems.extend(discovery_warnings(work.site))
    stop_on_errors(run.problems, run.options.strict)


def open_data_and_search(run: Run, work: Work, rendered: PagesRendered,
                         output: Destination) -> None:
    """Open data and the search index (made alongside rendering, or now); the files of
    the last build that this one has no more; what the next build needs to know."""
    made = rendered.sides.result()
    alongside = " (alongside rendering)" if rendered.sides.background is not None else ""
    memory = run.memory
    derived_noted: set[int] = set()
    for rel, was_changed, packed, read in made.written:
        output.record(rel, was_changed)
        key = made.search_keys.get(rel, "")
        if key and not was_changed and memory.kept_as_before(rel, key):
            # The same part of the search index as the last build's, the same file (most
            # of the index after an edit): what the state holds of it stands.
            if id(read) not in derived_noted:  # the reads the files of one index share
                derived_noted.add(id(read))
                memory.note_derived(read)
            continue
        memory.note(rel, packed, read, key=key)
    run.timings[f"open data and search/open data{alongside}"] = made.seconds
    if made.search is not None:
        run.result.search = made.search
        run.timings[f"open data and search/search index{alongside}"] = made.search.seconds
    if memory.baseline is not None:
        for rel in sorted(set(memory.baseline.outputs) - output.files):
            output.remove(rel)
            memory.note_gone(rel)
    memory.finish(made.rows, made.search_made)
    fragments = work.renderer.fragments
    if isinstance(fragments, SqliteFragmentStore) and not fragments.temporary:
        fragments.prune(lambda: ((r.path, [r.raw_body, *strings(r.unrecorded_data)])
                                 for r in work.site.all_records()))
    run.result.rendered = rendered.pages
    run.result.warnings = sort_diagnostics(run.problems)


def swap(run: Run, output: Destination, out: Path | None) -> None:
    """The new output in place of the old in one step; what it made remembered."""
    result = run.result
    stats = WriteStats(len(output.files), 0, 0) if result.unchanged else output.commit()
    if out is not None:
        run.memory.remember(out, result.pages, result.warnings, result.unchanged,
                            standby_whole=stats.standby_whole)
    result.files, result.changed, result.removed = stats.written, stats.changed, \
        stats.removed


def make_renderer(site: Site, site_dir: Path, fragments_path: Path | None = None,
                  cache_folder: Path | None = None) -> Renderer:
    """A Renderer with the site's templates layered over the theme's; with a path,
    converted Markdown is kept in the store there and taken from it; with the build
    cache's folder, compiled templates are kept there for the next build."""
    templates = site_dir / "templates"
    messages = load_messages(site.config.lang, templates)
    fragments = None
    if fragments_path is not None:
        fragments = SqliteFragmentStore(fragments_path, _converter_settings(messages))
    return Renderer(site, make_environment(templates, cache_folder), messages,
                    assets.manifest(assets.collect(site_dir)), fragments, None, site_dir)


def share_parts(renderer: Renderer, folder: Path | None) -> None:
    """Stores through which forked workers share what one of them made (parts, and
    converted Markdown when the build cache is not used)."""
    if renderer.fragments is None:
        scratch = Path(tempfile.mkdtemp(prefix="dossier-fragments-"))
        renderer.fragments = SqliteFragmentStore(scratch / "fragments.sqlite",
                                                 _converter_settings(renderer.messages),
                                                 temporary=True)
    assert isinstance(renderer.fragments, SqliteFragmentStore)
    renderer.store = SqlitePartStore.create(folder or renderer.fragments.path.parent)


def _converter_settings(messages: dict[str, str]) -> str:
    """The converter's code and the one message it writes into HTML (footnote links)."""
    package = Path(__file__).parent.parent
    code = hash_files(package / "content" / "markup.py", package / "render" / "markdown.py")
    return f"{code}\0{messages.get('footnote.back', '')}"


def _never(rel: str, data: bytes) -> bool:
    return False

