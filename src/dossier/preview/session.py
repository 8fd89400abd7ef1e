"""A site kept in memory between builds, for `dossier serve`.

The first build is an ordinary one. After it the site stays loaded: on each save only the
files that changed are read and checked again, the model is linked anew from the
documents in memory, and only the outputs that read something that changed (changes.py)
are made again, written into the preview folder in place. The search index follows in a
thread of its own, after the pages, so a reload never waits for it. A change to the schema,
the settings or a template is a build of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dossier.build import BuildOptions, BuildResult, Loaded, Reading, build, run
from dossier.build.pipeline import load
from dossier.core.diagnostics import Diagnostic, DossierError
from dossier.incremental.cache import BuildCache, source_stats, stat_key
from dossier.incremental.memory import Memory, keys
from dossier.incremental.state import Baseline, Remembered, Update
from dossier.write.output import InPlace


class Session:
    """One site's model, state and preview folder, brought up to date save by save."""

    def __init__(self, site_dir: Path, options: BuildOptions, out: Path,
                 indexed: Callable[[], None] | None = None) -> None:
        self.site_dir = site_dir
        self.options = dataclasses.replace(options, out=out)
        self.out = out
        self.indexed = indexed  # called when the search index has caught up
        self.loaded: Loaded | None = None
        self.before: Remembered | None = None
        self.key = self.schema_key = ""
        self.indexing = threading.Event()  # set while the search index is being updated
        self._search: threading.Thread | None = None
        self._search_wanted = False
        self._lock = threading.Lock()
        # What the last index run made, and what changed in the model since it read it.
        self._indexed = Indexed()
        self._changed: set[int] = set()

    def start(self) -> BuildResult:
        """An ordinary build; then the site, as built, is kept in memory."""
        result = build(self.site_dir, dataclasses.replace(self.options, search=False))
        with self._lock:  # a new tree without an index: nothing of the last one is there
            self._indexed, self._changed = Indexed(), set()
        self._keep()
        self._index()
        return result

    def update(self, changed: Iterable[str],
               pages_ready: Callable[[list[Diagnostic]], None] | None = None) -> BuildResult:
        """Bring the preview up to date after `changed` (site-relative paths) were saved;
        `pages_ready` is called (with the warnings) as soon as the pages are."""
        paths = sorted(changed)
        if self.loaded is None or self.before is None or not all(
                self._is_record(p) for p in paths):
            return self.start()
        started = time.perf_counter()
        before = self.before
        output = InPlace(self.out, known=lambda: {
            rel: o.stat for rel, o in before.baseline.outputs.items()})
        memory = _PreviewMemory(self, BuildCache(self.site_dir, self.out,
                                                 enabled=self.options.cache), paths)
        try:
            result, loaded = run(self.site_dir, dataclasses.replace(self.options, search=False),
                                 output, memory, Reading(self.loaded.content, paths),
                                 out=self.out, pages_ready=pages_ready)
        finally:
            memory.close()
        with self._lock:
            self.loaded = loaded
            self._changed |= memory.update.found
        result.out, result.seconds = self.out, time.perf_counter() - started
        self._index()
        return result

    def missed(self) -> list[str]:
        """Files that changed since the last build was made from them (a save that came
        before anything watched for it)."""
        if self.before is None:
            return []
        now = source_stats(self.site_dir)
        known = self.before.sources
        return sorted(rel for rel in now.keys() | known.keys()
                      if rel != "(git history)" and now.get(rel) != known.get(rel))

    def _keep(self) -> None:
        """Load what the build just made from (taken from its cache: quick)."""
        self.key, self.schema_key = keys(self.site_dir,
                                         dataclasses.replace(self.options, search=False))
        cache = BuildCache(self.site_dir, self.out, enabled=True)
        try:
            self.loaded = load(self.site_dir, self.options,
                               Memory(cache, self.key, self.schema_key))
            self.loaded.content.records = {}  # kept from save to save (content/load.py)
            self.before = cache.remembered()
            cache.standby_unknown()  # the preview is written in place from now on
        finally:
            cache.close()
        if self.before is None or self.before.generation != self.key:
            self.before = Remembered(self.key, baseline=Baseline())

    def _is_record(self, rel: str) -> bool:
        """A record file of a collection (anything else: a build of its own)."""
        assert self.loaded is not None
        parts = rel.split("/")
        names = {c.name for c in self.loaded.content.schema.collections}
        return (len(parts) >= 3 and parts[0] == "content" and parts[1] in names
                and rel.endswith((".md", ".yml", ".yaml")))

    def _apply(self, update: Update, saved: list[str]) -> None:
        """The state after this update, in memory (the next update compares with it)."""
        before = self.before
        assert before is not None
        baseline = before.baseline
        for rel, made in update.outputs.items():
            try:
                made.stat = stat_key((self.out / rel).stat())
            except OSError:
                continue
            baseline.outputs[rel] = made
        for rel in update.gone:
            baseline.outputs.pop(rel, None)
        baseline.parts.update(update.parts)
        baseline.derived.update(update.derived)
        # The export rows as the files now have them: the next save copies rows from there.
        baseline.rows.update(update.rows)
        baseline.records.update(update.records)
        for key in update.records_gone:
            baseline.records.pop(key, None)
        for rel in saved:  # the other sources are as the last build found them
            try:
                before.sources[rel] = stat_key((self.site_dir / rel).stat())
            except OSError:
                before.sources.pop(rel, None)

    def _index(self) -> None:
        """Bring the search index up to date in the background (once more if a save comes
        in while it runs)."""
        if not self.options.search:
            return
        with self._lock:
            self._search_wanted = True
            if self._search is not None and self._search.is_alive():
                return
            self.indexing.set()
            self._search = threading.Thread(target=self._indexer, daemon=True)
            self._search.start()

    def close(self, wait: float = 10.0) -> None:
        """Ask for no more index runs, and give the one going on `wait` seconds to end (the
        process exits after that; what it left in the preview folder is made anew by the
        next start)."""
        with self._lock:
            self._search_wanted = False
            thread = self._search
        if thread is not None and thread.ident is not None:  # Ctrl+C may come as it starts
            thread.join(wait)

    def _indexer(self) -> None:
        while True:
            with self._lock:
                if not self._search_wanted:
                    self.indexing.clear()
                    break
                self._search_wanted = False
                loaded, indexed, changed = self.loaded, self._indexed, self._changed
                self._changed = set()
            if loaded is not None:
                try:
                    indexed = index_in_place(self.site_dir, self.out, loaded, indexed, changed,
                                             self.options.search_part_size)
                except DossierError:  # the old index stays; the next build says why
                    indexed = Indexed(files=indexed.files)
                with self._lock:
                    self._indexed = indexed
        if self.indexed is not None:
            self.indexed()


class _PreviewMemory(Memory):
    """The preview's memory: the state after its last update, kept in memory (the
    session is the only writer of its folder)."""

    def __init__(self, session: Session, cache: BuildCache, saved: list[str]) -> None:
        super().__init__(cache, session.key, session.schema_key, session.before)
        self.session, self.saved = session, saved

    def remember(self, out: Path, pages: int, warnings: list[Diagnostic],
                 unchanged: bool, standby_whole: bool = False) -> None:
        if not unchanged:
            self.session._apply(self.update, self.saved)


@dataclass
class Indexed:
    """What an index run made: per record its entry's digest and reads, per file the key
    of its part of the index."""

    made: dict[tuple[str, str], tuple[str, bytes]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


def index_in_place(site_dir: Path, out: Path, loaded: Loaded, before: Indexed,
                   changed: set[int], part_size: int) -> Indexed:
    """The search index of a site as loaded, written into `out` in place: entries whose
    reads are not among `changed` (since `before` was made) are taken as they were, and
    parts whose entries are all the same are left as they are."""
    from dossier.build import make_renderer
    from dossier.incremental.changes import stale
    from dossier.incremental.entries import SqliteEntryStore
    from dossier.incremental.state import RememberedOutput
    from dossier.plan.pages import plan
    from dossier.search.index import Earlier, write_search_index

    cache = BuildCache(site_dir, out, enabled=True)
    try:
        renderer = make_renderer(loaded.site, site_dir, cache.fragments_path, cache.folder)
        pages = plan(loaded.site)
        trusted = {key: made for key, made in before.made.items()
                   if not stale(RememberedOutput((0, 0, 0), made[1]), changed)}
        earlier = {}
        for rel, key in before.files.items():
            with contextlib.suppress(OSError):
                earlier[rel] = Earlier(key, (out / rel).stat().st_size, True)
        output = _SearchFiles(InPlace(out))
        _, made, _ = write_search_index(loaded.site, renderer.card_html, pages, output,
                                        SqliteEntryStore(cache.search_path), trusted, earlier,
                                        part_size)
        old = {p.relative_to(out).as_posix() for p in (out / "pagefind").rglob("*")
               if p.is_file()}
        for rel in sorted(old - output.output.files):
            output.output.remove(rel)
        renderer.close()
    finally:
        cache.close()
    return Indexed(made, output.keys)


class _SearchFiles:
    """The preview folder as the search index writes it, noting each file's part."""

    def __init__(self, output: InPlace) -> None:
        self.output = output
        self.keys: dict[str, str] = {}

    def write(self, rel: str, data: bytes, key: str) -> None:
        self.output.write(rel, data)
        self.keys[rel] = key

    def reuse(self, rel: str, key: str) -> None:
        self.output.reuse(rel)
        self.keys[rel] = key
