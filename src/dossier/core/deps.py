"""Dependencies recorded while pages render: what each page read of the site model.

While a page (or a part of one) renders, the model's objects note every read: a record's
field, whether a record exists, a collection's records, a facet's terms and the records of
a term, the records that name a record, its related records, a site setting. Templates,
the theme's and the site's own alike, only ever see these objects, so what a page read is
known whatever template rendered it. A page is rendered again exactly when one of its
reads would now give something else (see `Fingerprints`).

A dependency is a tuple of strings, its first the kind:

    ("f", collection, slug, field)     a record's field ("@body": its Markdown body)
    ("has", collection, slug)          whether the record exists
    ("list", collection)               its records, by slug
    ("back", collection, slug)         the records naming it, and in which field
    ("related", collection, slug)      its related records
    ("terms", collection, facet)       a facet's terms: value, label and URL folder
    ("members", collection, facet, v)  the records of a term, in title order
    ("count", collection, facet, v)    how many records a term has
    ("counts", *selection, skip)       the term counts of a selection (a sidebar)
    ("recent", collection, n)          the n records most recently updated
    ("config", name)                   a setting of site.yml
    ("date",)                          the site's date
    ("page", url)                      what the plan says of a page (kind, items, …)
    ("media", record file)             where the files a record refers to are published
    ("part", kind, …)                   a part of pages (parts.py): what it read itself

A page that shows a part (a card, say) notes the part, and the part keeps what it read;
so a list of twenty cards has twenty dependencies of its own, not twenty times a card's.
Pure bookkeeping: no I/O.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

Dep = tuple[str, ...]



class _Recordings(threading.local):
    """The recordings going on in this thread: the preview indexes in a thread of its own
    while the next edit's pages render, and neither must note the other's reads."""

    def __init__(self) -> None:
        self.stack: list[set[Dep] | None] = []  # None: not recorded (see `paused`)
        self.pages: list[bool] = []  # per recording: whether it is a page's


_here = _Recordings()
# What the parts that pages of this process showed read, by the part's dependency.
made_parts: dict[Dep, frozenset[Dep]] = {}


def note(dep: Dep) -> None:
    """Record that the rendering going on read `dep`."""
    stack = _here.stack
    if stack and (top := stack[-1]) is not None:
        top.add(dep)


def adopt(deps: Iterable[Dep]) -> None:
    """Record what something made earlier read (a part taken from a cache)."""
    stack = _here.stack
    if stack and (top := stack[-1]) is not None:
        top.update(deps)


def active() -> bool:
    """Whether reads are being recorded (objects skip their bookkeeping otherwise)."""
    stack = _here.stack
    return bool(stack) and stack[-1] is not None


@contextmanager
def recording(page: bool = False) -> Iterator[set[Dep]]:
    """Record the reads of a rendering into a set of its own; they count for the
    rendering around it too. A page's own recording notes the parts it shows as parts."""
    found: set[Dep] = set()
    here = _here
    here.stack.append(found)
    here.pages.append(page)
    try:
        yield found
    finally:
        here.stack.pop()
        here.pages.pop()
        adopt(found)


def use_part(dep: Dep, read: frozenset[Dep]) -> None:
    """A part is shown: a page notes the part; a part inside a part takes what it read."""
    if not active():
        return
    if _here.pages[-1]:
        note(dep)
        made_parts.setdefault(dep, read)
    else:
        adopt(read)


@contextmanager
def paused() -> Iterator[None]:
    """Reads that are not recorded: a helper that notes one dependency for what it read
    (the counts of a selection, say) reads the records themselves without noting each."""
    here = _here
    here.stack.append(None)
    here.pages.append(False)
    try:
        yield
    finally:
        here.stack.pop()
        here.pages.pop()


_ids: dict[Dep, int] = {}  # dependencies repeat across pages: each is hashed once
_IDS_KEPT = 200_000  # a site of 100,000 records reads millions; this many are kept at once


def dep_id(dep: Dep) -> int:
    """A dependency as a 63-bit number, to store and compare many of them compactly."""
    found = _ids.get(dep)
    if found is None:
        digest = hashlib.blake2b("\x1f".join(dep).encode("utf-8", "surrogatepass"),
                                 digest_size=8).digest()
        if len(_ids) >= _IDS_KEPT:
            _ids.clear()
        found = _ids[dep] = int.from_bytes(digest, "little") >> 1  # fits SQLite's integers
    return found


def pack(found: Iterable[Dep]) -> bytes:
    """Dependencies as their ids, packed (what is stored per output file)."""
    return array("q", sorted({dep_id(d) for d in found})).tobytes()


def unpack(packed: bytes) -> array[int]:
    ids = array("q")
    ids.frombytes(packed)
    return ids


_FEW = 16  # up to this many ids, a search of the packed bytes beats unpacking them


def reads_any(packed: bytes, found: set[int]) -> bool:
    """Whether dependencies packed by `pack` hold one of the ids `found`. After an edit
    few ids changed, and every output file's dependencies are looked through (33,000 at
    10,000 projects): those few are searched for in the bytes (at a multiple of 8, where
    an id starts) rather than every packed id made into a Python int."""
    if len(found) > _FEW:
        return not found.isdisjoint(unpack(packed))
    for ident in found:
        key = ident.to_bytes(8, sys.byteorder, signed=True)
        at = packed.find(key)
        while at >= 0:
            if at % 8 == 0:
                return True
            at = packed.find(key, at + 1)
    return False


RECORD_KINDS = frozenset({"f", "has"})  # compared through the records, not fingerprinted


def derived(found: Iterable[Dep]) -> Iterator[Dep]:
    """The dependencies whose value is computed from the model (those to fingerprint)."""
    return (d for d in found if d[0] not in RECORD_KINDS and d[0] != "part")


def digest(value: Any) -> str:
    """A short hash of a value as JSON (what a fingerprint is made of)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str,
                      separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()


class Fingerprints:
    """What each dependency reads as now, computed once per dependency (memoised).

    `compute` gives the value of a dependency of a derived kind (anything but "f" and
    "has", which the caller compares through the records' own data).
    """

    def __init__(self, compute: Callable[[Dep], Any]) -> None:
        self.compute = compute
        self.known: dict[Dep, str] = {}

    def __call__(self, dep: Dep) -> str:
        found = self.known.get(dep)
        if found is None:
            with paused():
                found = self.known[dep] = digest(self.compute(dep))
        return found
