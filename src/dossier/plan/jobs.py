"""Output jobs: every file of the output and how to make it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from dossier.content.schema import Collection
from dossier.core import deps
from dossier.core.urls import output_path
from dossier.model.site import Site
from dossier.outputs.feeds import discovery_files
from dossier.outputs.opendata import (
    Rows,
    collection_file_names,
    datapackage,
    record_file,
    to_json,
    write_collection_files,
)
from dossier.plan.pages import Page
from dossier.render import assets

if TYPE_CHECKING:
    from dossier.render.pool import PageWriter
    from dossier.render.renderer import Renderer
    from dossier.search.index import Earlier, SearchStats
    from dossier.search.store import EntryStore


@dataclass
class Job:
    """One output file: a page, a file made of the model, or a file records refer to.

    `produce` makes the bytes; a job without `record` (static files, the sitemap) is made
    anew every build and compared; one with it records what it read of the model, so the
    next build makes it again only when that changed.
    """

    rel: str
    kind: str  # page, file, export, media
    page: Page | None = None
    produce: Callable[[], bytes] | None = None
    record: bool = False
    # One of a collection's export files, which are written together, record by record
    # (exports.write_collection_files), never made as bytes in memory.
    export_of: Collection | None = None


def plan_jobs(site: Site, pages: list[Page], site_dir: Path) -> list[Job]:
    """Pages, static files, open data, discovery files and media, in a stable order."""
    jobs = [Job(output_path(p.url), "page", page=p) for p in pages]
    for rel, data in assets.files(assets.collect(site_dir)):
        jobs.append(Job(rel, "file", produce=partial(bytes, data)))
    for collection in site.schema.collections:
        jobs += [Job(rel, "export", export_of=collection)
                 for rel in collection_file_names(collection)]
        for record in site.unrecorded.records.get(collection.name, ()):
            jobs.append(Job(f"{record.url}index.json", "file", record=True,
                            produce=partial(record_file, site, record)))
    jobs.append(Job("data/datapackage.json", "file",
                    produce=lambda: to_json(datapackage(site)).encode()))
    for rel, data in discovery_files(site, pages):
        jobs.append(Job(rel, "file", produce=partial(bytes, data)))
    # Files records refer to: made by mediaworkers.publish_media, never by `produce`.
    jobs += [Job(rel, "media") for rel, _ in site.media.outputs()]
    return jobs


@dataclass
class Side:
    """What the outputs besides pages came to: per file written whether it changed, what
    it read (packed) and the derived dependencies among that; the search index."""

    written: list[tuple[str, bool, bytes, list[deps.Dep]]] = field(default_factory=list)
    rows: dict[str, Rows] = field(default_factory=dict)  # per collection: its export rows
    seconds: float = 0.0
    search: SearchStats | None = None
    search_keys: dict[str, str] = field(default_factory=dict)  # per search file: its part
    search_made: dict[tuple[str, str], tuple[str, bytes]] | None = None  # per record


@dataclass
class SearchPlan:
    """How to make the search index: the entry store, the entries the last build
    made that are still right, its search files, and the size of a part."""

    store: EntryStore
    trusted: dict[tuple[str, str], tuple[str, bytes]]
    earlier: dict[str, Earlier]
    part_size: int


def side_outputs(site: Site, renderer: Renderer, pages: list[Page], jobs: list[Job],
                 writer: PageWriter, search: SearchPlan | None,
                 rows: dict[str, Rows] | None = None,
                 stale: Callable[[bytes], bool] | None = None) -> Side:
    """Open data and the search index: they need the records, not the pages. With `rows`
    (where the previous build's export files have each record's row), unchanged rows are
    copied from those files."""
    side = Side()
    started = time.perf_counter()
    exported: set[Collection] = set()
    for job in jobs:
        if job.export_of is not None:
            if job.export_of not in exported:
                exported.add(job.export_of)
                name = job.export_of.name
                wanted = {j.rel for j in jobs if j.export_of is job.export_of}
                with deps.recording() as read:
                    written, made = write_collection_files(
                        site, job.export_of, writer, wanted,
                        (rows or {}).get(name), stale)
                side.rows[name] = made
                # The files are checked every build, row by row (what each row read is
                # kept with the rows); the derived dependencies among that are kept.
                derived = list(deps.derived(read))
                side.written += [(rel, was, b"", derived) for rel, was in written.items()]
            continue
        assert job.produce is not None
        if job.record:
            with deps.recording() as read:
                data = job.produce()
            packed, derived = deps.pack(read), list(deps.derived(read))
        else:
            data, packed, derived = job.produce(), b"", []
        side.written.append((job.rel, writer.put(job.rel, data), packed, derived))
    side.seconds = time.perf_counter() - started
    if search is not None:
        from dossier.search.index import write_search_index

        recorder = _Recorder(writer)
        side.search, side.search_made, entries_read = write_search_index(
            site, renderer.card_html, pages, recorder, search.store, search.trusted, search.earlier,
            search.part_size)
        derived = list(dict.fromkeys(entries_read))
        side.written += [(rel, was, b"", derived) for rel, was, _ in recorder.written]
        side.search_keys = {rel: key for rel, _, key in recorder.written}
    return side


@dataclass
class _Recorder:
    """Writes through a writer and remembers what it wrote, and the key of the part of
    the index each file belongs to (in another process, maybe)."""

    writer: PageWriter
    written: list[tuple[str, bool, str]] = field(default_factory=list)

    def write(self, rel: str, data: bytes, key: str) -> None:
        self.written.append((rel, self.writer.put(rel, data), key))

    def reuse(self, rel: str, key: str) -> None:
        self.writer.reuse(rel)
        self.written.append((rel, False, key))
