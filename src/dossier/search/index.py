"""The search index in parts: each a Pagefind bundle of a range of records in title order.

One Pagefind process indexes one part, so no process holds more than `part_size` records
(Pagefind keeps some 130 KB per record in memory), and a build re-makes only the parts
whose entries changed. In the browser, Pagefind's multisite mode merges the parts
(`mergeIndex`); zoeken.js lists results sorted by title part after part, which is why a
part is a range of that order. The layout of `pagefind/`:

    pagefind.js, pagefind-worker.js, wasm.*     Pagefind's loader, once
    pagefind-entry.json, *.pf_meta, index/, filter/, fragment/
                                                the first part (a site of one part has
                                                the layout of a plain Pagefind bundle)
    <key>/pagefind-entry.json, ...              every other part, named after its key
    parts.json                                  {"parts": ["<key>/", ...]}: the others, in order

A part's key hashes the digests of its entries, the language and the Pagefind program and
this code, so a part whose records show the same as before is taken over from the previous
build, file for file, and the same records always give the same bytes.

The delta part. Making a part of 2,000 records anew for one edited record costs seconds,
so a rebuild whose records changed only a little since the parts were made (at most
`delta_bound` records edited, added or removed) takes every part over as it is, stale
entries and all, and indexes the changed and new records' entries into one small part of
their own, listed last in parts.json, which then also has `"delta": {"places": [[part,
position], ...], "stale": [[part, [position, ...]], ...]}`. Every entry has a hidden
filter `dossier:nr`, its position in its part: zoeken.js leaves the stale positions out of
every search (results and filter counts alike) and lists each of the delta's results by
title before the position `places` gives it. What each part was made from (per record its
key, sort value and entry digest) is kept in the entry store under the part's key, which
hashes the same; the delta's files are noted under "delta:" and its key. A delta that
would grow beyond the bound is folded back: the records are cut into parts anew, as
without a cache, and only the parts whose records changed are made anew. A build without a
cache never has a delta.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dossier.content.records import Record
from dossier.core import deps
from dossier.core.hashing import hash_files
from dossier.model.site import Site
from dossier.plan.pages import Page
from dossier.search.entries import SearchEntry, entry, indexed_records, sort_value
from dossier.search.pagefind import FOLDER, bundle, is_loader, signature
from dossier.search.store import CARD, EntryStore, PartRow, digest, encode

PARTS_FILE = f"{FOLDER}/parts.json"
NUMBER = "dossier:nr"  # hidden filter: an entry's position in its part (zoeken.js)
DELTA = "delta:"  # the delta part's files are noted under this and its key
Card = Callable[[Record, Page], str]  # a record's result card, links as from that page
ENTRY = "pagefind-entry.json"


class IndexFolder(Protocol):
    """Where the bundle goes: a file written, or the previous build's taken over."""

    def write(self, rel: str, data: bytes, key: str) -> None: ...

    def reuse(self, rel: str, key: str) -> None: ...


@dataclass(frozen=True)
class Earlier:
    """A search file of the previous build: the key of its part, its size, and whether it
    is still there untouched."""

    key: str
    size: int
    intact: bool


@dataclass(frozen=True)
class SearchStats:
    """What indexing did: records, parts (and how many were made anew), files, bytes, time;
    and the records in the delta part and the stale entries it stands in for."""

    records: int
    parts: int
    remade: int
    files: int
    bytes: int
    seconds: float
    delta: int = 0
    stale: int = 0


def cut(records: Sequence[Record], most: int) -> list[list[Record]]:
    """Records in title order as consecutive parts of at most `most` records each.

    Up to `most` records are one part: the index of such a site is a plain Pagefind
    bundle, and searches behave exactly as with one index (see docs/search.md on where parts
    differ). Beyond that, where a part ends depends on the records themselves, not on their
    positions: before a record whose URL hashes to a multiple of most/4, once the part has
    most/4 records (so parts average about most/2). An edit never moves an end; an add, a
    delete or a new title moves the ends of the part it falls in and rarely of the next.
    """
    if len(records) <= most:
        return [list(records)]
    least = max(1, most // 4)
    parts: list[list[Record]] = []
    current: list[Record] = []
    for record in records:
        if current and (len(current) >= most
                        or (len(current) >= least and _ends_before(record, least))):
            parts.append(current)
            current = []
        current.append(record)
    return [*parts, current]


def delta_bound(part_size: int) -> int:
    """How many records may be edited, added or removed since the parts were made before
    the delta is folded back: a twentieth of a part (100 of 2,000), which Pagefind indexes
    in a fraction of a second and which adds little to what a query fetches."""
    return max(1, part_size // 20)


def _ends_before(record: Record, every: int) -> bool:
    hashed = hashlib.blake2b(record.url.encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(hashed.digest(), "big") % every == 0


def part_key(tool: str, rows: Sequence[PartRow]) -> str:
    """The key of a part: its records, sort values and entries' digests, in order, and the
    tools that index them."""
    hashed = hashlib.blake2b(digest_size=16)
    for text in ("dossier search part", tool, *("\0".join(row) for row in rows)):
        hashed.update(text.encode("utf-8", "surrogatepass") + b"\0")
    return hashed.hexdigest()


def folder_of(index: int, key: str) -> str:
    """Where a part lives in the bundle: the first at its root, the others by key."""
    return f"{FOLDER}/" if index == 0 else f"{FOLDER}/{key[:16]}/"


def numbered(found: SearchEntry, position: int) -> SearchEntry:
    """An entry as its part indexes it: with its position in the part as a hidden filter."""
    return SearchEntry(found.url, found.content, {**found.filters, NUMBER: [str(position)]},
                       found.meta, found.sort)


Made = dict[tuple[str, str], tuple[str, bytes]]  # per record: its entry's digest and reads


def _row(record: Record, hashed: str) -> PartRow:
    return f"{record.key[0]}/{record.key[1]}", sort_value(record), hashed


@dataclass
class _Plan:
    """One part as the build sees it: its records and the digests of their entries."""

    records: list[Record]
    digests: list[str] = field(default_factory=list)
    fresh: dict[int, SearchEntry] = field(default_factory=dict)  # made in this build

    def rows(self, digests: Sequence[str] | None = None) -> list[PartRow]:
        return [_row(r, d) for r, d in zip(self.records, digests or self.digests, strict=True)]


@dataclass(frozen=True)
class _Balanced:
    """A part of the previous build that is not the delta: its folder, key and rows."""

    folder: str
    key: str
    rows: list[PartRow]


@dataclass
class _Delta:
    """The records whose entries no part holds as they are now, where each falls among the
    parts' records, and the parts' positions whose entries are stale."""

    records: list[Record]
    places: list[tuple[int, int]]
    stale: dict[int, list[int]]


class SearchIndex:
    """Makes the parts of one site's index and writes them (or takes them over)."""

    def __init__(self, site: Site, card: Card, pages: list[Page], output: IndexFolder,
                 store: EntryStore, trusted: Made, earlier: dict[str, Earlier]) -> None:
        self.site, self.output, self.store, self.earlier = site, output, store, earlier
        self.card_on = card
        self.page = next(p for p in pages if p.kind == "search")
        self.trusted = trusted
        code = hash_files(Path(__file__), Path(__file__).with_name("pagefind.py"))
        self.tool = f"{signature()}\0{code}\0{site.config.lang}"
        self.files = self.bytes = self.remade = 0
        self.delta = self.stale = 0
        self.made: Made = {}
        self.fresh: dict[tuple[str, str], SearchEntry] = {}  # made in this build, a few
        self.read: list[deps.Dep] = []  # derived dependencies the new entries read
        self.parts: set[str] = set()  # the keys of the parts made or taken over
        self.by_key: dict[str, list[str]] = {}
        for rel, earlier_file in sorted(earlier.items()):
            self.by_key.setdefault(earlier_file.key, []).append(rel)

    def write(self, part_size: int) -> tuple[int, int]:
        """Every part (or the delta beside the previous parts), then the list of them;
        returns (records, parts)."""
        records = indexed_records(self.site)
        layout = self._layout()
        if layout is not None:
            bound = delta_bound(part_size)
            for record in records:
                self._known(record, self.fresh if len(self.fresh) < bound else None)
            delta = self._delta(layout, records, bound)
            if delta is not None:
                return len(records), self._write_delta(layout, delta)
        folders = []
        parts = cut(records, part_size)
        for index, plan in enumerate(self._plans(parts)):
            folders.append(self._part(index, plan))
        listed = {"parts": [folder.removeprefix(f"{FOLDER}/") for folder in folders[1:]]}
        self._write(PARTS_FILE, json.dumps(listed).encode("utf-8"), "")
        self._keep()
        return len(records), len(parts)

    def card(self, record: Record) -> str:
        """A record's result card, with links as from the search page."""
        return self.card_on(record, self.page)

    def _keep(self) -> None:
        self.store.keep({hashed for hashed, _ in self.made.values()}, self.parts)

    def _known(self, record: Record, fresh: dict[tuple[str, str], SearchEntry] | None) -> str:
        """The digest of a record's entry: made in this build, as the state has it if
        nothing its making read changed, or made now (and stored; kept in `fresh`)."""
        known = self.made.get(record.key) or self.trusted.get(record.key)
        if known is None:
            with deps.recording() as read:
                made = entry(self.site, record, self.card(record))
            known = digest(encode(made)), deps.pack(read)
            self.read += deps.derived(read)
            self.store.put([(known[0], made)])
            if fresh is not None:
                fresh[record.key] = made
        self.made[record.key] = known
        return known[0]

    def _plans(self, parts: list[list[Record]]) -> Iterator[_Plan]:
        """Each part with the digests of its entries."""
        for records in parts:
            plan = _Plan(records)
            fresh: dict[tuple[str, str], SearchEntry] = {}
            for i, record in enumerate(records):
                plan.digests.append(self._known(record, fresh))
                made = fresh.get(record.key) or self.fresh.get(record.key)
                if made is not None:
                    plan.fresh[i] = made
            yield plan

    def _layout(self) -> list[_Balanced] | None:
        """The previous build's parts but its delta, in order, with what each was made from
        (checked against its key), if every one of them is still there untouched."""
        parts = []
        for key, rels in self.by_key.items():
            if not key or key.startswith(DELTA):
                continue
            folder = f"{FOLDER}/" if f"{FOLDER}/{ENTRY}" in rels else f"{FOLDER}/{key[:16]}/"
            rows = self.store.part(key)
            if not rows or part_key(self.tool, rows) != key or not self._intact(folder, key):
                return None
            parts.append(_Balanced(folder, key, rows))
        parts.sort(key=lambda part: (part.folder != f"{FOLDER}/", part.rows[0][1]))
        sorts = [row[1] for part in parts for row in part.rows]
        if not parts or parts[0].folder != f"{FOLDER}/" or sorts != sorted(set(sorts)):
            return None
        return parts

    def _delta(self, layout: list[_Balanced], records: list[Record],
               bound: int) -> _Delta | None:
        """What the delta would hold beside the previous parts, if within `bound`."""
        now = {row[0]: row for row in (_row(r, self.made[r.key][0]) for r in records)}
        live: set[str] = set()
        stale: dict[int, list[int]] = {}
        for i, part in enumerate(layout):
            for position, row in enumerate(part.rows):
                if now.get(row[0]) == row:
                    live.add(row[0])
                else:
                    stale.setdefault(i, []).append(position)
        changed = [r for r in records if _row(r, "")[0] not in live]
        if max(len(changed), sum(map(len, stale.values()))) > bound:
            return None
        if changed:  # a delta that holds what a part holds (a folder of that name): none
            key = part_key(self.tool, [_row(r, self.made[r.key][0]) for r in changed])
            if folder_of(1, key) in {part.folder for part in layout}:
                return None
        firsts = [part.rows[0][1] for part in layout]
        places = []
        for record in changed:
            i = max(0, bisect.bisect_right(firsts, sort_value(record)) - 1)
            sorts = [row[1] for row in layout[i].rows]
            places.append((i, bisect.bisect_left(sorts, sort_value(record))))
        return _Delta(changed, places, stale)

    def _write_delta(self, layout: list[_Balanced], delta: _Delta) -> int:
        """The previous parts taken over, the delta part made (or taken over), and the list
        of them; returns the number of parts."""
        folders = [part.folder for part in layout]
        if delta.records:
            plan = _Plan(delta.records, [self.made[r.key][0] for r in delta.records])
            plan.fresh = {i: self.fresh[r.key] for i, r in enumerate(delta.records)
                          if r.key in self.fresh}
            key = part_key(self.tool, plan.rows())
            folder = folder_of(1, key)
            if not self._take_over(folder, DELTA + key):
                folder = self._index(plan, 1, DELTA)
            folders.append(folder)
        for part in layout:
            self._take_over(part.folder, part.key)
            self.parts.add(part.key)
        self.delta = len(delta.records)
        self.stale = sum(map(len, delta.stale.values()))
        listed: dict[str, object] = {
            "parts": [folder.removeprefix(f"{FOLDER}/") for folder in folders[1:]]}
        if delta.records or delta.stale:  # nothing changed: the list a clean build writes
            listed["delta"] = {"places": [list(place) for place in delta.places],
                               "stale": [[i, positions] for i, positions
                                         in sorted(delta.stale.items())]}
        self._write(PARTS_FILE, json.dumps(listed).encode("utf-8"), "")
        self._keep()
        return len(folders)

    def _part(self, index: int, plan: _Plan) -> str:
        """Take the part over from the previous build, or index it; return its folder."""
        key = part_key(self.tool, plan.rows())
        folder = folder_of(index, key)
        if self._take_over(folder, key):
            self.store.put_part(key, plan.rows())
            self.parts.add(key)
            return folder
        return self._index(plan, index, "")

    def _index(self, plan: _Plan, index: int, prefix: str) -> str:
        """Index a part with Pagefind and write its files (noted under `prefix` and its
        key); return its folder."""
        digests: list[str] = []

        def made() -> Iterator[SearchEntry]:
            """Entries made while Pagefind indexes the ones before (another process)."""
            for i in range(len(plan.records)):
                found, hashed = self._entry(plan, i)
                digests.append(hashed)
                yield numbered(found, i)

        files = bundle(made(), self.site.config.lang)
        rows = plan.rows(digests)
        key = part_key(self.tool, rows)
        folder = folder_of(index, key)
        if not prefix:
            self.store.put_part(key, rows)
            self.parts.add(key)
        self.remade += 1
        for rel, data in files.items():
            inside = rel.removeprefix(f"{FOLDER}/")
            if index == 0 or not is_loader(inside):
                self._write(folder + inside, data, prefix + key)
        return folder

    def _entry(self, plan: _Plan, i: int) -> tuple[SearchEntry, str]:
        """An entry of a part to index, with its digest: made in this build, or stored and
        given its card anew (the store keeps no HTML), or, if that does not come out as
        listed, made again."""
        if i in plan.fresh:
            return plan.fresh[i], plan.digests[i]
        record = plan.records[i]
        card = self.card(record)
        stored = self.store.get(plan.digests[i])
        if stored is not None:
            found = SearchEntry(stored.url, stored.content, stored.filters,
                                {**stored.meta, CARD: card}, stored.sort)
            hashed = digest(encode(found))
            if hashed == plan.digests[i]:
                return found, hashed
        with deps.recording() as read:
            found = entry(self.site, record, self.card(record))
        hashed = digest(encode(found))
        self.made[record.key] = hashed, deps.pack(read)
        self.read += deps.derived(read)
        self.store.put([(hashed, found)])
        return found, hashed

    def _intact(self, folder: str, key: str) -> bool:
        """Whether the previous build's files of this part are all there, untouched, in place."""
        rels = self.by_key.get(key, [])
        return (folder + ENTRY in rels and all(rel.startswith(folder) for rel in rels)
                and all(self.earlier[rel].intact for rel in rels))

    def _take_over(self, folder: str, key: str) -> bool:
        """The previous build's files of this part, if all are there, untouched, in place."""
        if not self._intact(folder, key):
            return False
        for rel in self.by_key[key]:
            self.output.reuse(rel, key)
            self.files += 1
            self.bytes += self.earlier[rel].size
        return True

    def _write(self, rel: str, data: bytes, key: str) -> None:
        self.output.write(rel, data, key)
        self.files += 1
        self.bytes += len(data)


def write_search_index(site: Site, card: Card, pages: list[Page], output: IndexFolder,
                       store: EntryStore, trusted: Made, earlier: dict[str, Earlier],
                       part_size: int) -> tuple[SearchStats, Made, list[deps.Dep]]:
    """Index the site's records in parts and write the bundle through `output`.

    `card`: a record's result card as HTML, with links as from a page (the search page);
    `trusted`: per record, the digest of its entry and what making it read, where nothing
    of that changed since (those entries are not made again; `store`, the build cache's
    entries, gives their text when their part is indexed again, and is closed here);
    `earlier`: the previous build's search files (parts whose entries are unchanged are
    taken over; with few records changed, every part is, beside a delta part). Returns the
    figures, every record's digest and reads, and the derived dependencies the entries
    made now read.
    """
    started = time.perf_counter()
    try:
        index = SearchIndex(site, card, pages, output, store, trusted, earlier)
        records, parts = index.write(part_size)
    finally:
        store.close()
    stats = SearchStats(records, parts, index.remade, index.files, index.bytes,
                        time.perf_counter() - started, index.delta, index.stale)
    return stats, index.made, index.read
