"""Search entries of earlier builds, by their digest, in SQLite (`search.sqlite` in the
build cache; what an entry is and why it is stored: search/store.py)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from dossier.incremental.cache import open_store
from dossier.search.entries import SearchEntry
from dossier.search.store import PartRow, decode, encode, without_card

_TABLE = "entry (key TEXT PRIMARY KEY, data TEXT) WITHOUT ROWID"  # key: the digest
_PARTS = "part (key TEXT PRIMARY KEY, data TEXT) WITHOUT ROWID"  # key: the part's key


class SqliteEntryStore:
    """The entries of earlier builds; with no path (no cache) it holds nothing."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._opened = False
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection | None:
        """The connection, opened on first use (so in the process that indexes)."""
        if not self._opened and self.path is not None:
            self._db = open_store(self.path, _TABLE, _PARTS)
        self._opened = True
        return self._db

    def get(self, hashed: str) -> SearchEntry | None:
        """The stored entry with digest `hashed`, without its card."""
        db = self.db
        if db is None:
            return None
        try:
            row = db.execute("SELECT data FROM entry WHERE key = ?", (hashed,)).fetchone()
        except sqlite3.Error:
            return None
        return decode(row[0]) if row is not None and isinstance(row[0], str) else None

    def put(self, rows: Iterable[tuple[str, SearchEntry]]) -> None:
        """Store entries (without their cards) under their digests."""
        self._write("INSERT OR REPLACE INTO entry VALUES (?, ?)", (
            (hashed, encode(without_card(found))) for hashed, found in rows))

    def part(self, key: str) -> list[PartRow] | None:
        """What the part with this key was made from, if it is stored (the index checks
        it against the key, which hashes it)."""
        db = self.db
        if db is None:
            return None
        try:
            row = db.execute("SELECT data FROM part WHERE key = ?", (key,)).fetchone()
            rows = json.loads(row[0]) if row is not None else None
        except (sqlite3.Error, ValueError, TypeError, RecursionError):
            return None
        if not (isinstance(rows, list) and all(
                isinstance(r, list) and len(r) == 3 and all(isinstance(x, str) for x in r)
                for r in rows)):
            return None
        return [(r[0], r[1], r[2]) for r in rows]

    def put_part(self, key: str, rows: list[PartRow]) -> None:
        """Store what the part with this key was made from (the key hashes it)."""
        data = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
        self._write("INSERT OR REPLACE INTO part VALUES (?, ?)", [(key, data)])

    def keep(self, wanted: set[str], parts: set[str]) -> None:
        """Forget every entry whose digest is not in `wanted`, and every part not in `parts`."""
        db = self.db
        if db is None:
            return
        try:
            stored = {str(k) for (k,) in db.execute("SELECT key FROM entry")}
            known = {str(k) for (k,) in db.execute("SELECT key FROM part")}
        except sqlite3.Error:
            return
        self._write("DELETE FROM entry WHERE key = ?", ((k,) for k in stored - wanted))
        self._write("DELETE FROM part WHERE key = ?", ((k,) for k in known - parts))

    def _write(self, sql: str, rows: Iterable[tuple[str, ...]]) -> None:
        db = self.db
        if db is None:
            return
        try:
            with db:
                db.execute("BEGIN")
                db.executemany(sql, rows)
        except sqlite3.Error:
            pass  # the cache is an optimisation; failing to write it must not fail a build

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
