"""Open data and the search index: the outputs that need the records, not the pages.

With several workers and a real output folder they are made by a process of their own
while the pages are rendered (the search index, made by Pagefind, takes long); otherwise
after the pages. Either way the pipeline's "open data and search" stage takes the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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

    def __init__(self, make: Callable[[], Side], background: bool) -> None:
        self.make = make
        self.background: Background[Side] | None = Background(make) if background else None

    def result(self) -> Side:
        return self.background.result() if self.background is not None else self.make()

    def cancel(self) -> None:
        if self.background is not None:
            self.background.cancel()


def side_outputs(site: Site, renderer: Renderer, pages: list[Page], jobs: list[Job],
                 writer: PageWriter, search: SearchPlan | None,
                 rows: dict[str, Rows] | None = None,
                 stale: Callable[[bytes], bool] | None = None) -> Side:
    """Open data and the search index."""
    written = write_files(site, jobs, writer, rows, stale)
    side = Side(written.files, written.rows, written.seconds)
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
