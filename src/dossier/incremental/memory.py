"""What a build remembers: the one object the pipeline asks about earlier builds.

A build asks its memory four things, in the order of the stages (build/pipeline.py):

| stage        | asks                                                            |
| ------------ | --------------------------------------------------------------- |
| load         | the documents of unchanged files (`documents`)                   |
| what changed | which outputs read something that changed (`what_changed`)       |
| render, …    | nothing: it tells what each output read (`note_page`, `note`)    |
| swap         | to keep what this build made for the next one (`remember`)       |

Behind it: the build cache (cache.py, SQLite in the site's `.dossier-cache/`), the state
of the last build of this output folder (state.py) and the comparison of the two
(changes.py). `dossier check` uses a memory that remembers nothing and keeps nothing; the
preview keeps its state in memory (preview/session.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dossier.core.diagnostics import Diagnostic, DossierError
from dossier.core.hashing import hash_files
from dossier.core.options import BuildOptions
from dossier.incremental.cache import (
    BuildCache,
    DocumentStore,
    generation,
    source_stats,
    stat_key,
)
from dossier.incremental.state import Baseline, Remembered, StatKey, Update, with_model
from dossier.incremental.state import RememberedOutput as OutputRecord
from dossier.write.files import tree_stats
from dossier.write.output import MARKER, Standby

# The up-to-date check (`recall`) needs only the state; what a build that runs needs is
# imported where it is used, so that a build with nothing to do starts quickly.
if TYPE_CHECKING:
    from dossier.incremental.changes import Model
    from dossier.model.site import Site
    from dossier.outputs.files import Job
    from dossier.outputs.opendata import Rows
    from dossier.render.parts import Anchor, Origin
    from dossier.render.pool import PageResult
    from dossier.search.index import Earlier
    from dossier.search.store import EntryStore


@dataclass
class SearchPlan:
    """How to make the search index: where the entry store is, the entries the last build
    made that are still right, its search files, and the size of a part."""

    store: EntryStore
    trusted: dict[tuple[str, str], tuple[str, bytes]]
    earlier: dict[str, Earlier]
    part_size: int


@dataclass
class Todo:
    """What the `what changed` stage found: the dependencies that changed, the outputs
    taken over as they are, and the stats of the output folder's files."""

    found: set[int] = field(default_factory=set)
    reuse: set[str] = field(default_factory=set)
    previous: dict[str, StatKey] = field(default_factory=dict)
    nothing_to_do: bool = False


class Memory:
    """One output folder's memory of its last build, and what this build will leave."""

    def __init__(self, cache: BuildCache | None, key: str, schema_key: str,
                 before: Remembered | None = None, last: Remembered | None = None) -> None:
        self.cache = cache if cache is not None and cache.enabled else None
        self.site_cache = cache  # its private folder is used even when nothing is remembered
        self.key, self.schema_key = key, schema_key
        self.before = before  # the last build, when it was built under the same key
        self.last = last  # the last build, whatever it was built under (search files)
        self.sources: dict[str, StatKey] = {}
        self.update = Update(Remembered(), fresh=True)
        self.model: Model | None = None
        self.reading: Callable[[], None] | None = None  # ends what `recall` set reading
        # The rest of the last build's state, being read in another process (`recall`).
        self.model_later: Callable[[], Baseline | None] | None = None

    @classmethod
    def nothing(cls) -> Memory:
        """A memory that remembers nothing and keeps nothing (`dossier check`)."""
        return cls(None, "", "")

    @property
    def baseline(self) -> Baseline | None:
        self._settle()
        return self.before.baseline if self.before is not None else None

    def _settle(self) -> None:
        """Take the rest of the state from the process `recall` set reading it, the first
        time it is needed (the `what changed` stage); if that process could not read it,
        read it here."""
        if self.model_later is None:
            return
        later, self.model_later = self.model_later, None
        try:
            model = later()
        except RuntimeError:  # the process ended without a result
            model = None
        if self.before is not None and self.cache is not None:
            self.before = with_model(self.before, model) if model is not None \
                else self.cache.complete(self.before)

    @property
    def folder(self) -> Path | None:
        """The cache folder (images made before, the parsed git log), if there is one."""
        return self.cache.folder if self.cache is not None else None

    @property
    def fragments_path(self) -> Path | None:
        return self.cache.fragments_path if self.cache is not None else None

    def documents(self) -> DocumentStore | None:
        """The documents of the last build, for files that did not change."""
        return self.cache.documents(self.schema_key) if self.cache is not None else None

    def save_documents(self, store: object, site_dir: Path) -> None:
        """Keep the documents this run read and checked (`store`: from `documents`)."""
        if self.cache is not None and isinstance(store, DocumentStore):
            self.cache.save_documents(store, site_dir)

    def media_rows(self, store: object) -> dict[str, tuple[str, str]] | None:
        """What planning media read in the last build, kept beside the documents (`store`:
        from `documents`); None without a cache."""
        if self.cache is not None and isinstance(store, DocumentStore):
            return store.media_rows()
        return None

    def keep_media(self, store: object, made: dict[str, tuple[str, str]],
                   used: set[str]) -> None:
        """Keep what planning media read anew, for the next build."""
        if self.cache is not None and isinstance(store, DocumentStore):
            store.keep_media(made, used)

    def standby(self) -> Standby | None:
        """What the standby tree lacks to be the output folder, when that is known."""
        before = self.before
        if before is None or not before.standby or self.cache is None:
            return None
        return Standby(before.changed, before.removed, self.cache.standby_unknown)

    def private_folder(self) -> Path:
        """The output folder's private folder in the cache: the lock and the trees."""
        assert self.site_cache is not None
        return self.site_cache.private_folder()

    def standby_unknown(self) -> None:
        """The standby tree is about to change: until the swap its state is unknown."""
        if self.cache is not None:
            self.cache.standby_unknown()

    def what_changed(self, model: Model, jobs: list[Job],
                     previous: dict[str, StatKey]) -> Todo:
        """The dependencies that changed since the last build, and the outputs that read
        none of them and are still on disk as it left them."""
        from dossier.incremental.changes import changed, stale

        self.model = model
        baseline = self.baseline
        if baseline is None:
            return Todo(previous=previous)
        found = changed(model, baseline)
        reuse = {j.rel for j in jobs if (o := baseline.outputs.get(j.rel)) is not None
                 and o.deps and previous.get(j.rel) == o.stat and not stale(o, found)}
        self.update = Update(Remembered(), found=found)
        return Todo(found, reuse, previous)

    def stale(self, found: set[int]) -> Callable[[bytes], bool]:
        """Whether something packed reads a dependency among `found`."""
        from dossier.incremental.changes import stale

        return lambda packed: stale(OutputRecord((0, 0, 0), packed), found)

    def nothing_to_do(self, jobs: list[Job], todo: Todo,
                      same_as_before: Callable[[str, bytes], bool] | None) -> bool:
        """Every file would be taken over as it is: then the output folder stays as it is."""
        baseline = self.baseline
        if baseline is None or same_as_before is None:
            return False
        rest = [j for j in jobs if j.rel not in todo.reuse]
        if any(j.produce is None for j in rest) or set(baseline.outputs) \
                - {j.rel for j in jobs} \
                - {rel for rel in baseline.outputs if rel.startswith("pagefind/")}:
            return False
        return all(same_as_before(j.rel, j.produce()) for j in rest if j.produce is not None)

    def search_plan(self, options: BuildOptions, site: Site, todo: Todo) -> SearchPlan:
        """What the search index can take from before: the entries of records whose entry
        read nothing that changed (with the state they were made under), and the search
        files of the last build of this folder, whatever it was built under (a part is
        named by the digests of its entries, so one with the same entries is the same)."""
        from dossier.incremental.entries import SqliteEntryStore
        from dossier.search.index import Earlier

        baseline = self.baseline
        trusted = {} if baseline is None else {
            key: made for key, made in baseline.search.items()
            if key in site.unrecorded.index and not self.stale(todo.found)(made[1])}
        outputs = self.last.baseline.outputs if self.last is not None else {}
        earlier = {rel: Earlier(o.key, o.stat[0], todo.previous.get(rel) == o.stat)
                   for rel, o in outputs.items() if o.key}
        store = SqliteEntryStore(self.cache.search_path if self.cache is not None else None)
        return SearchPlan(store, trusted, earlier, options.search_part_size)

    def intact_rows(self, site: Site, previous: dict[str, StatKey]) -> dict[str, Rows] | None:
        """The previous build's export rows of each collection whose files are still the
        ones they describe (a build killed after its swap, before its state was stored,
        leaves newer files than the state knows: their rows are made again)."""
        from dossier.outputs.opendata import collection_file_names

        baseline = self.baseline
        if baseline is None:
            return None
        intact = {}
        for name, rows in baseline.rows.items():
            collection = next((c for c in site.schema.collections if c.name == name), None)
            if collection is None:
                continue
            rels = collection_file_names(collection)[:3]
            if all((o := baseline.outputs.get(rel)) is not None and previous.get(rel) == o.stat
                   for rel in rels):
                intact[name] = rows
        return intact

    def taken_over_anchors(self, rels: Iterable[str]) -> dict[str, tuple[Anchor, ...]]:
        """The links to anchors of the files taken over from the last build, of those that
        have any (few do: one look-up each, not a call per file of the site)."""
        if self.baseline is None:  # nothing was taken over
            return {}
        outputs = self.baseline.outputs
        return {rel: tuple(_anchor(a) for a in kept) for rel in rels
                if (kept := outputs[rel].anchors)}

    def taken_over_ids(self, rel: str) -> tuple[str, ...] | None:
        """The ids of a file the last build made (None: not one it knows)."""
        kept = self.baseline.outputs.get(rel) if self.baseline is not None else None
        return kept.ids if kept is not None else None

    def note_page(self, page: PageResult) -> tuple[str, ...]:
        """What a rendered page read, its ids and its links to anchors; its ids, interned
        (the same ids, a section or the table of contents, recur on every page)."""
        ids = tuple(sorted(sys.intern(i) for i in page.ids))
        self.update.outputs[page.rel] = OutputRecord(
            (0, 0, 0), page.deps, ids,
            tuple((t, f, _origin_tuple(o)) for t, f, o in page.anchors))
        self.update.parts.update(page.parts)
        self.note_derived(page.derived)
        return ids

    def note(self, rel: str, packed: bytes, read: Iterable[tuple[str, ...]] = (),
             key: str = "") -> None:
        """What making an output file read (packed; `key`: its part of the search index)."""
        self.update.outputs[rel] = OutputRecord((0, 0, 0), packed, key=key)
        self.note_derived(read)

    def kept_as_before(self, rel: str, key: str) -> bool:
        """Whether the last build's state has `rel` as a file of the search index's part
        `key` (the file itself is the same: it was taken over, or written as it was)."""
        kept = self.baseline.outputs.get(rel) if self.baseline is not None else None
        return kept is not None and kept.key == key and not self.update.fresh

    def note_constant(self, rel: str) -> None:
        """A file named after its content (an image, a document): it reads nothing that
        can change, so it is kept while it is there."""
        from dossier.core.deps import pack

        self.note(rel, pack([("file", rel)]))

    def note_derived(self, read: Iterable[tuple[str, ...]]) -> None:
        """Derived dependencies an output read: their values are stored with the state."""
        from dossier.core.deps import dep_id

        for dep in read:
            self.update.derived.setdefault(dep_id(dep), (dep, ""))

    def note_gone(self, rel: str) -> None:
        self.update.gone.append(rel)

    def finish(self, rows: dict[str, Rows],
               search: dict[tuple[str, str], tuple[str, bytes]] | None) -> None:
        """The values of the derived dependencies and the records, as the next build
        compares them."""
        from dossier.incremental.changes import derived_values, record_states

        update, model = self.update, self.model
        assert model is not None
        old = self.baseline or Baseline()
        # A collection's rows as the state has them (its export files were taken over)
        # are not written again.
        update.rows = {name: made for name, made in rows.items()
                       if update.fresh or old.rows.get(name) != made}
        update.search = search
        seen = {ident: dep for ident, (dep, _) in update.derived.items()}
        update.derived = derived_values(model, old, update.found, seen)
        states = record_states(model.site, old)
        update.records = {k: v for k, v in states.items() if old.records.get(k) != v}
        update.records_gone = sorted(set(old.records) - set(states))

    def remember(self, out: Path, pages: int, warnings: list[Diagnostic],
                 unchanged: bool, standby_whole: bool = False) -> None:
        """Keep what this build made for the next one (after its swap); `standby_whole`:
        the standby tree is a copy of this build's site (it lacks nothing)."""
        if self.cache is None:
            return
        self._settle()
        update, before = self.update, self.before
        if unchanged and before is not None:
            update.run = replace(before, sources=self.sources, warnings=tuple(warnings))
            update.outputs = {}
        else:
            for rel in list(update.outputs):
                try:
                    update.outputs[rel].stat = stat_key((out / rel).stat())
                except OSError:
                    del update.outputs[rel]
            kept = before.baseline.outputs if before is not None else {}
            changed = [] if standby_whole else sorted(
                rel for rel in update.outputs
                if rel not in kept or kept[rel].stat != update.outputs[rel].stat)
            removed = [] if standby_whole else sorted(update.gone)
            update.run = Remembered(self.key, self.sources, tuple(warnings), pages,
                                    changed=changed, removed=removed, standby=True)
        self.cache.remember(update)

    def close(self) -> None:
        if self.reading is not None:  # a build that failed before it asked for them
            self.reading()
        if self.site_cache is not None:
            self.site_cache.close()


def recall(site_dir: Path, out: Path, options: BuildOptions, sources: dict[str, StatKey]
           ) -> tuple[Memory, Callable[[], dict[str, StatKey]] | None, bool]:
    """The memory of the last build into `out`; the stats of the output folder's files
    (when they are being read: a function that gives them); whether nothing changed
    since that build (like make: the stats of inputs and outputs are those the last
    build saw)."""
    cache = BuildCache(site_dir, out, enabled=options.cache)
    key, schema_key = keys(site_dir, options)
    before = last = cache.remembered(everything=False) if options.cache else None
    if before is not None and before.generation != key:
        before = None
    memory = Memory(cache, key, schema_key, before, last)
    memory.sources = sources
    if before is None or options.strict or not before.baseline.outputs:
        return memory, None, False
    if before.sources != sources:
        # A build with something to do needs them only to see what changed: a process of
        # its own takes them (33,000 files at 10,000 projects) on another CPU while this
        # one reads the content, and with them the rest of the state (what each part and
        # derived value read, the records' fingerprints: 0.2 s at 10,000 projects).
        reading = _ReadingApart(out, cache)
        memory.reading, memory.model_later = reading.cancel, reading.model
        return memory, reading.stats, False
    found = output_stats(out)
    written = {rel: o.stat for rel, o in before.baseline.outputs.items()}
    return memory, lambda: found, found == written


def output_stats(out: Path) -> dict[str, StatKey]:
    """Size, mtime and inode of every file of the output folder."""
    found = tree_stats(out)
    found.pop(MARKER, None)
    return found


class _ReadingApart:
    """The stats of the output folder's files and the rest of the state (`complete`), read
    in one other process while this one reads the content; each is asked for once."""

    def __init__(self, out: Path, cache: BuildCache) -> None:
        from dossier.render.pool import Background

        self.process = Background(partial(_read_apart, out, cache))
        self.value: tuple[dict[str, StatKey], Baseline | None] | None = None
        self.failure: RuntimeError | None = None

    def _result(self) -> tuple[dict[str, StatKey], Baseline | None]:
        # The process gives its result once: a failure is kept for the second question.
        if self.failure is not None:
            raise self.failure
        if self.value is None:
            try:
                self.value = self.process.result()
            except RuntimeError as exc:
                self.failure = exc
                raise
        return self.value

    def stats(self) -> dict[str, StatKey]:
        return self._result()[0]

    def model(self) -> Baseline | None:
        return self._result()[1]

    def cancel(self) -> None:
        self.process.cancel()


def _read_apart(out: Path, cache: BuildCache) -> tuple[dict[str, StatKey], Baseline | None]:
    return output_stats(out), cache.model_apart()


def complete(memory: Memory) -> None:
    """Read the rest of the last build's state (the up-to-date check reads only a part),
    unless another process is reading it (then it is taken when first needed)."""
    if memory.before is not None and memory.cache is not None and memory.model_later is None:
        memory.before = memory.cache.complete(memory.before)


def keys(site_dir: Path, options: BuildOptions) -> tuple[str, str]:
    """Keys of everything outside the records that output depends on (see cache.py): of
    the outputs, and of the schema (the documents' checks depend on it).

    site.yml is not among them: each setting a page reads is one of its dependencies;
    the language and the site's address are, as every page shows them.
    """
    from dossier.content.load import build_date, load_config
    from dossier.render.assets import THEME

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


def current_sources(site_dir: Path) -> dict[str, StatKey]:
    """The stats of every input (and the git history's head), taken before reading: a
    file saved meanwhile is seen next time; so is a commit."""
    from dossier.content import history

    return source_stats(site_dir) | history.stamp(site_dir)


def _anchor(raw: tuple[str, str, tuple[Any, ...]]) -> Anchor:
    from dossier.render.parts import Origin

    target, fragment, origin = raw
    return target, fragment, Origin(*origin)


def _origin_tuple(origin: Origin) -> tuple[object, ...]:
    return (origin.path, origin.line, origin.column, origin.field, origin.href)


def strings(value: object) -> Iterator[str]:
    """Every string in a record's data (its Markdown text fields among them)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
