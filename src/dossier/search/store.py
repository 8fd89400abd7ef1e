"""Search entries of earlier builds, by their digest, in SQLite.

An entry (text, filters, result card) costs a card render and a pass over the record's
Markdown; the index's parts are keyed by the digests of their entries (searchparts.py).
The build's state (state.py) keeps each record's entry digest and what making it read, so
a record whose entry cannot have changed is neither rendered nor read; this store gives an
entry's text only when its part is indexed again. Being addressed by content, it can never
give another entry than the one asked for. The result card (HTML) is not stored: the cache
folder is open to anyone who can add a file to the site, so cards are always rendered
anew, and an entry that then does not come out with its digest is made again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from dossier.incremental.cache import open_store
from dossier.search.entries import SearchEntry

_TABLE = "entry (key TEXT PRIMARY KEY, data TEXT) WITHOUT ROWID"  # key: the digest
CARD = "kaart"  # the meta field that holds the result card


def encode(entry: SearchEntry) -> str:
    """An entry as the JSON text that is stored and hashed."""
    return json.dumps(dataclasses.asdict(entry), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))


def digest(data: str) -> str:
    return hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def decode(data: str) -> SearchEntry | None:
    """An entry from its stored JSON, or None if the row is not what `encode` writes."""
    try:
        raw = json.loads(data)
        entry = SearchEntry(raw["url"], raw["content"], raw["filters"], raw["meta"], raw["sort"])
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    fields = [entry.url, entry.content, entry.filters, entry.meta, entry.sort]
    if not (all(isinstance(v, str) for v in fields[:2])
            and all(isinstance(v, dict) for v in fields[2:])
            and all(isinstance(v, list) and all(isinstance(x, str) for x in v)
                    for v in entry.filters.values())
            and all(isinstance(v, str) for d in (entry.meta, entry.sort) for v in d.values())):
        return None
    return entry


class EntryStore:
    """The entries of earlier builds; with no path (no cache) it holds nothing."""

    def __init__(self, path: Path | None) -> None:
        self._db: sqlite3.Connection | None = open_store(path, _TABLE) if path else None

    def get(self, hashed: str) -> SearchEntry | None:
        """The stored entry with digest `hashed`, without its card."""
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT data FROM entry WHERE key = ?", (hashed,)).fetchone()
        except sqlite3.Error:
            return None
        return decode(row[0]) if row is not None and isinstance(row[0], str) else None

    def put(self, rows: Iterable[tuple[str, SearchEntry]]) -> None:
        """Store entries (without their cards) under their digests."""
        self._write("INSERT OR REPLACE INTO entry VALUES (?, ?)", (
            (hashed, encode(dataclasses.replace(
                found, meta={k: v for k, v in found.meta.items() if k != CARD})))
            for hashed, found in rows))

    def keep(self, wanted: set[str]) -> None:
        """Forget every entry whose digest is not in `wanted`."""
        if self._db is None:
            return
        try:
            stored = {str(k) for (k,) in self._db.execute("SELECT key FROM entry")}
        except sqlite3.Error:
            return
        self._write("DELETE FROM entry WHERE key = ?", ((k,) for k in stored - wanted))

    def _write(self, sql: str, rows: Iterable[tuple[str, ...]]) -> None:
        if self._db is None:
            return
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(sql, rows)
        except sqlite3.Error:
            pass  # the cache is an optimisation; failing to write it must not fail a build

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
