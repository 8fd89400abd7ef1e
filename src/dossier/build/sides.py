"""Open data and the search index: the outputs that need the records, not the pages.

With several workers and an output folder (the preview's too) each is made by a process
of its own while the pages are rendered (the search index, made by Pagefind, takes long;
open data of a large site too): neither waits for the other. Otherwise they are made
after the pages. Either way the pipeline's "open data and search" stage takes the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from dossier.core.deps import Dep
from dossier.incremental.memory import SearchPlan
from dossier.model.site import Site
from dossier.outputs.files import Job, write_files
from dossier.outputs.opendata import Rows
from dossier.plan.pages import Page
from dossier.render.pool import Background, PageWriter
from dossier.render.renderer import Renderer
from dossier.search.index import SearchStats


@dataclass
class Side:
    """What the outputs besides pages came to: per file written whether it changed, what
    it read (packed) and the derived dependencies among that; the search index."""

    written: list[tuple[str, bool, bytes, list[Dep]]] = field(default_factory=list)
    rows: dict[str, Rows] = field(default_factory=dict)  # per collection: its export rows
    seconds: float = 0.0
    search: SearchStats | None = None
    search_keys: dict[str, str] = field(default_factory=dict)  # per search file: its part
    search_made: dict[tuple[str, str], tuple[str, bytes]] | None = None  # per record


class Sides:
    """The side outputs of one build: started in the background or made when asked."""

    def __init__(self, makers: list[Callable[[], Side]], background: bool) -> None:
        self.makers = makers
        self.background: list[Background[Side]] | None = \
            [Background(make) for make in makers] if background else None

    def result(self) -> Side:
        if self.background is None:
            return merged([make() for make in self.makers])
        try:
            return merged([process.result() for process in self.background])
        except BaseException:
            self.cancel()
            raise

    def cancel(self) -> None:
        for process in self.background or ():
            process.cancel()


def merged(sides: list[Side]) -> Side:
    """One Side of several: what each made."""
    whole = Side()
    for side in sides:
        whole.written += side.written
        whole.rows.update(side.rows)
        whole.seconds += side.seconds
        whole.search = side.search or whole.search
        whole.search_keys.update(side.search_keys)
        whole.search_made = side.search_made if side.search_made is not None \
            else whole.search_made
    return whole


def side_makers(site: Site, renderer: Renderer, pages: list[Page], jobs: list[Job],
                writer: PageWriter, search: SearchPlan | None,
                rows: dict[str, Rows] | None = None,
                stale: Callable[[bytes], bool] | None = None) -> list[Callable[[], Side]]:
    """What makes open data, and the search index (with a plan for it)."""
    makers: list[Callable[[], Side]] = [partial(open_data, site, jobs, writer, rows, stale)]
    if search is not None:
        makers.append(partial(search_index, site, renderer, pages, writer, search))
    return makers


def open_data(site: Site, jobs: list[Job], writer: PageWriter, rows: dict[str, Rows] | None,
              stale: Callable[[bytes], bool] | None) -> Side:
    """The files made of the model: open data, record files, discovery files."""
    written = write_files(site, jobs, writer, rows, stale)
    return Side(written.files, written.rows, written.seconds)


def search_index(site: Site, renderer: Renderer, pages: list[Page], writer: PageWriter,
                 search: SearchPlan) -> Side:
    from dossier.search.index import write_search_index

    side = Side()
    recorder = _Recorder(writer)
    side.search, side.search_made, entries_read = write_search_index(
        site, renderer.card_html, pages, recorder, search.store, search.trusted, search.earlier,
        search.part_size)
    derived = list(dict.fromkeys(entries_read))
    side.written = [(rel, was, b"", derived) for rel, was, _ in recorder.written]
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
