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
"""

from __future__ import annotations

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
from dossier.search.entries import SearchEntry, entry, indexed_records
from dossier.search.pagefind import FOLDER, bundle, is_loader, signature
from dossier.search.store import CARD, EntryStore, digest, encode

PARTS_FILE = f"{FOLDER}/parts.json"
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
    """What indexing did: records, parts (and how many were made anew), files, bytes, time."""

    records: int
    parts: int
    remade: int
    files: int
    bytes: int
    seconds: float


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


def _ends_before(record: Record, every: int) -> bool:
    hashed = hashlib.blake2b(record.url.encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(hashed.digest(), "big") % every == 0


def part_key(tool: str, digests: Sequence[str]) -> str:
    """The key of a part: its entries' digests, in order, and the tools that index them."""
    hashed = hashlib.blake2b(digest_size=16)
    for text in ("dossier search part", tool, *digests):
        hashed.update(text.encode() + b"\0")
    return hashed.hexdigest()


def folder_of(index: int, key: str) -> str:
    """Where a part lives in the bundle: the first at its root, the others by key."""
    return f"{FOLDER}/" if index == 0 else f"{FOLDER}/{key[:16]}/"


Made = dict[tuple[str, str], tuple[str, bytes]]  # per record: its entry's digest and reads


@dataclass
class _Plan:
    """One part as the build sees it: its records and the digests of their entries."""

    records: list[Record]
    digests: list[str] = field(default_factory=list)
    fresh: dict[int, SearchEntry] = field(default_factory=dict)  # made in this build


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
        self.made: Made = {}
        self.read: list[deps.Dep] = []  # derived dependencies the new entries read
        self.by_key: dict[str, list[str]] = {}
        for rel, earlier_file in sorted(earlier.items()):
            self.by_key.setdefault(earlier_file.key, []).append(rel)

    def write(self, part_size: int) -> tuple[int, int]:
        """Every part, then the list of them; returns (records, parts)."""
        records = indexed_records(self.site)
        folders = []
        parts = cut(records, part_size)
        for index, plan in enumerate(self._plans(parts)):
            folders.append(self._part(index, plan))
        listed = {"parts": [folder.removeprefix(f"{FOLDER}/") for folder in folders[1:]]}
        self._write(PARTS_FILE, json.dumps(listed).encode("utf-8"), "")
        self.store.keep({hashed for hashed, _ in self.made.values()})
        return len(records), len(parts)

    def card(self, record: Record) -> str:
        """A record's result card, with links as from the search page."""
        return self.card_on(record, self.page)

    def _plans(self, parts: list[list[Record]]) -> Iterator[_Plan]:
        """Each part with the digests of its entries: as the state has them, if nothing
        their making read changed, or made (and stored)."""
        for records in parts:
            plan = _Plan(records)
            rows = []
            for i, record in enumerate(records):
                known = self.trusted.get(record.key)
                if known is None:
                    with deps.recording() as read:
                        made = entry(self.site, record, self.card(record))
                    known = digest(encode(made)), deps.pack(read)
                    self.read += deps.derived(read)
                    plan.fresh[i] = made
                    rows.append((known[0], made))
                self.made[record.key] = known
                plan.digests.append(known[0])
            self.store.put(rows)
            yield plan

    def _part(self, index: int, plan: _Plan) -> str:
        """Take the part over from the previous build, or index it; return its folder."""
        key = part_key(self.tool, plan.digests)
        folder = folder_of(index, key)
        if self._take_over(folder, key):
            return folder
        digests: list[str] = []

        def made() -> Iterator[SearchEntry]:
            """Entries made while Pagefind indexes the ones before (another process)."""
            for i in range(len(plan.records)):
                found, hashed = self._entry(plan, i)
                digests.append(hashed)
                yield found

        files = bundle(made(), self.site.config.lang)
        key = part_key(self.tool, digests)
        folder = folder_of(index, key)
        self.remade += 1
        for rel, data in files.items():
            inside = rel.removeprefix(f"{FOLDER}/")
            if index == 0 or not is_loader(inside):
                self._write(folder + inside, data, key)
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

    def _take_over(self, folder: str, key: str) -> bool:
        """The previous build's files of this part, if all are there, untouched, in place."""
        rels = self.by_key.get(key, [])
        if (folder + ENTRY not in rels or not all(rel.startswith(folder) for rel in rels)
                or not all(self.earlier[rel].intact for rel in rels)):
            return False
        for rel in rels:
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
    taken over). Returns the figures, every record's digest and reads, and the derived
    dependencies the entries made now read.
    """
    started = time.perf_counter()
    try:
        index = SearchIndex(site, card, pages, output, store, trusted, earlier)
        records, parts = index.write(part_size)
    finally:
        store.close()
    stats = SearchStats(records, parts, index.remade, index.files, index.bytes,
                        time.perf_counter() - started)
    return stats, index.made, index.read
