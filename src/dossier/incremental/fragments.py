"""Markdown converted before: the HTML of a text, kept between builds and shared by workers;
and the parts (render/parts.py) workers share in one build. The renderer sees these stores
through render/stores.py; build/stages.py wires them.

Converting Markdown is the largest part of rendering a record page, and the same body is
converted for the record's page and again for the dossier's printable page. A converted
text does not depend on the page it is shown on: links to other pages are written from the
site root with a marker (`ROOT`), which each page turns into its own relative link. So the
HTML can be stored under a key of the text, the record it belongs to and the converter's
settings, and used again for any page, in this build or a later one.

A stored fragment names the pages its links lead to; it is only used while those pages
still have the same URLs. The store is an SQLite file in the build cache folder (safe to
delete; several worker processes read and write it at once). It sits in the site folder,
where anyone who can propose content can also add a file, so a stored fragment is only used
if the sanitiser leaves it exactly as it is (and the structure of the rest is checked):
a planted fragment cannot put a script into a page.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from dossier import __version__
from dossier.core.diagnostics import Diagnostic
from dossier.incremental.cache import open_store
from dossier.render.parts import Meta, Origin, Part

__all__ = ["SqliteFragmentStore", "SqlitePartStore"]
_FORMAT = 1
_TABLE = "fragment"


class SqliteFragmentStore:
    """Converted Markdown by key, in an SQLite file; every failure is only a miss."""

    def __init__(self, path: Path, settings: str, temporary: bool = False) -> None:
        self.path = path
        self.temporary = temporary  # the file and its folder go when the store is closed
        import markdown  # their versions: here, where Markdown is about to be converted
        import nh3

        nh3_version = nh3.__version__  # type: ignore[attr-defined]  # (not in its stub)
        self.salt = "\0".join((f"fragments {_FORMAT}", f"dossier {__version__}",
                               f"markdown {markdown.__version__}", f"nh3 {nh3_version}",
                               settings))
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._inherited: list[sqlite3.Connection] = []
        self.broken = False

    def key(self, owner: str, text: str) -> str:
        digest = hashlib.blake2b(digest_size=20)
        for part in (self.salt, owner, text):
            digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
        return digest.hexdigest()

    def get(self, key: str) -> tuple[str, list[Any], list[tuple[str, str]]] | None:
        """HTML, table of contents and link targets (source path, URL) stored under `key`."""
        db = self._connection()
        if db is None:
            return None
        try:
            row = db.execute(f"SELECT value FROM {_TABLE} WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            value = json.loads(row[0])
            html, toc, targets = value["html"], value["toc"], value["targets"]
            if not (isinstance(html, str) and _is_toc(toc) and isinstance(targets, list)):
                return None
            links = [(str(path), str(url)) for path, url in targets
                     if isinstance(path, str) and isinstance(url, str)]
            if len(links) != len(targets):
                return None
            return html, toc, links
        except (sqlite3.Error, ValueError, TypeError, KeyError):
            return None

    def put(self, key: str, owner: str, html: str, toc: list[Any],
            targets: Iterable[tuple[str, str]]) -> None:
        db = self._connection()
        if db is None:
            return
        value = json.dumps({"html": html, "toc": toc, "targets": sorted(set(targets))},
                           ensure_ascii=False, separators=(",", ":"))
        with contextlib.suppress(sqlite3.Error, ValueError):
            db.execute(f"INSERT OR REPLACE INTO {_TABLE} (key, owner, value) VALUES (?, ?, ?)",
                       (key, owner, value))

    def prune(self, owners: Callable[[], Iterable[tuple[str, Iterable[str]]]]) -> None:
        """Forget fragments of texts that no record has any more.

        `owners` gives every record's path and its texts, one record at a time (a large
        site's texts are not held all at once). It is only asked for once the
        store has grown by half since the last time, so most builds do not hash every text.
        """
        db = self._connection()
        if db is None:
            return
        try:
            count = db.execute(f"SELECT count(*) FROM {_TABLE}").fetchone()[0]
            row = db.execute("SELECT value FROM meta WHERE key = 'kept'").fetchone()
            kept = int(row[0]) if row else 0
            if count <= max(1000, kept * 3 // 2):
                return
            if not kept:  # filled by this first build: nothing in it can be stale yet
                with db:
                    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('kept', ?)",
                               (str(count),))
                return
            live = {self.key(owner, text) for owner, texts in owners() for text in texts}
            stale = [(key,) for (key,) in db.execute(f"SELECT key FROM {_TABLE}")
                     if key not in live]
            with db:
                db.execute("BEGIN")
                db.executemany(f"DELETE FROM {_TABLE} WHERE key = ?", stale)
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('kept', ?)",
                           (str(count - len(stale)),))
        except (sqlite3.Error, ValueError):
            pass

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None
        if self.temporary:
            shutil.rmtree(self.path.parent, ignore_errors=True)

    def _connection(self) -> sqlite3.Connection | None:
        """A connection of this process (a forked worker opens its own)."""
        if self.broken:
            return None
        if self._db is not None and self._pid == os.getpid():
            return self._db
        if self._db is not None:
            # Opened by the parent before it forked this worker: SQLite connections must
            # not cross a fork, and closing this copy could release the parent's locks.
            self._inherited.append(self._db)
        db = open_store(self.path, f"{_TABLE} (key TEXT PRIMARY KEY, owner TEXT NOT NULL, "
                        "value TEXT NOT NULL)", "meta (key TEXT PRIMARY KEY, value TEXT)")
        if db is None:
            self.broken = True  # cannot be opened now: build without it
            return None
        self._db, self._pid = db, os.getpid()
        return db


def _is_toc(value: Any, depth: int = 0) -> bool:
    """A table of contents as Python-Markdown makes it: headings with ids, names, children."""
    if not isinstance(value, list) or depth > 6:
        return False
    for item in value:
        if not (isinstance(item, dict) and isinstance(item.get("id"), str)
                and isinstance(item.get("name"), str)
                and _is_toc(item.get("children", []), depth + 1)):
            return False
    return True


class SqlitePartStore:
    """Parts made in this build (cards, facts panels), shared by its worker processes.

    One temporary SQLite file per build: a part is made by whichever worker needs it
    first and read by the others, so it is made once. Every failure is only a miss.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._inherited: list[sqlite3.Connection] = []
        self.broken = False

    @classmethod
    def create(cls, folder: Path) -> SqlitePartStore:
        """A new, empty store in `folder` (a leftover of a killed build is replaced)."""
        path = folder / f"parts-{os.getpid()}.sqlite"
        for stale in folder.glob("parts-*.sqlite*"):
            with contextlib.suppress(OSError):
                stale.unlink()
        return cls(path)

    def get(self, key: tuple[Any, ...]) -> Part | None:
        db = self._connection()
        if db is None:
            return None
        try:
            row = db.execute("SELECT value FROM part WHERE key = ?",
                             (json.dumps(key),)).fetchone()
            return None if row is None else _part_from_json(json.loads(row[0]))
        except (sqlite3.Error, ValueError, TypeError, KeyError):
            return None

    def put(self, key: tuple[Any, ...], part: Part) -> None:
        db = self._connection()
        if db is None or part.meta is None:
            return
        with contextlib.suppress(sqlite3.Error, ValueError, TypeError):
            db.execute("INSERT OR REPLACE INTO part (key, value) VALUES (?, ?)",
                       (json.dumps(key), json.dumps(_part_to_json(part), ensure_ascii=False)))

    def remove(self) -> None:
        """Close and delete the file (the build is over)."""
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.unlink(f"{self.path}{suffix}")

    def _connection(self) -> sqlite3.Connection | None:
        if self.broken:
            return None
        if self._db is not None and self._pid == os.getpid():
            return self._db
        if self._db is not None:
            self._inherited.append(self._db)  # the parent's; never closed in a worker
        db = open_store(self.path, "part (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        if db is None:
            self.broken = True
            return None
        self._db, self._pid = db, os.getpid()
        return db


def _origin_to_json(origin: Origin | None) -> list[Any] | None:
    if origin is None:
        return None
    return [origin.path, origin.line, origin.column, origin.field, origin.href]


def _origin_from_json(raw: Any) -> Origin | None:
    return None if raw is None else Origin(str(raw[0]), int(raw[1]), int(raw[2]),
                                           str(raw[3]), str(raw[4]))


def _part_to_json(part: Part) -> dict[str, Any]:
    meta = part.meta
    assert meta is not None
    return {"html": str.__str__(part), "ids": sorted(meta.ids),
            "literal": [[n, v, _origin_to_json(o)] for n, v, o in meta.literal],
            "anchors": [[t, f, _origin_to_json(o)] for t, f, o in meta.anchors],
            "problems": [dataclasses.astuple(d) for d in meta.problems],
            "suspects": {k: _origin_to_json(o) for k, o in meta.suspects.items()},
            "deps": sorted(list(d) for d in meta.deps)}


def _part_from_json(raw: dict[str, Any]) -> Part:
    meta = Meta({str(i) for i in raw["ids"]},
                [(str(n), str(v), _origin_from_json(o)) for n, v, o in raw["literal"]],
                [(str(t), str(f), _origin_from_json(o) or Origin("", 0, 0))
                 for t, f, o in raw["anchors"]],
                [Diagnostic(*row) for row in raw["problems"]],
                {str(k): _origin_from_json(o) or Origin("", 0, 0)
                 for k, o in raw["suspects"].items()},
                frozenset(tuple(str(x) for x in d) for d in raw["deps"]))
    return Part.made(str(raw["html"]), meta)
