"""The build cache: what a build remembers between runs, behind one small interface.

It lives in `SITE/.dossier-cache/` (outside the output folder; deleting it is always safe
when no build runs, the next build is then a full one). It is private: it holds the text
of every record (drafts and removed ones too) and the site as it was before the last
build, so it is made owner-only (0700) and its SQLite files are readable by the owner
alone. One SQLite file (`cache-N.sqlite`, N its format) is shared by the build and its
worker processes:

- documents: every valid record file by path, with the stat of the file it came from; a
  file whose size, mtime and inode are unchanged is not read, parsed or validated again;
- media: which files each record names while its digest is the same, and each file's kind,
  digest and image header while its stat is (model/media.py's MediaMemo);
- fragments: converted Markdown (incremental/fragments.py);
- per output folder, what its last build left (state.py): the stats of the files it read
  and wrote, what each output file read of the model (deps.py), and the state of the
  standby tree (output.py);

and, in `search.sqlite`, the search entries (incremental/entries.py). Per output folder there is
also a private folder (`output-ID/`, ID a hash of the output's path relative to the site):
the lock of its builds, the standby tree and the tree a build assembles (output.py).
Everything is only trusted under the same `generation`: a hash of the generator's
version, the schema, the templates and the theme, the language and address of the site
and the build options.

The files are SQLite, never pickle: the cache folder sits in the site folder,
where anyone who can propose a change to the content can also add a file, and unpickling
runs code. A row that is not exactly what this module writes is ignored. The one kind of
file in the folder that is code, compiled templates (`templates-ID/`), is render/compiled.py's,
trusted only with the mark a build on this machine sets.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sqlite3
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dossier import __version__
from dossier.core.diagnostics import Diagnostic
from dossier.incremental import state
from dossier.incremental.state import Remembered, StatKey, Update
from dossier.write.files import tree_stats

if TYPE_CHECKING:
    from dossier.content.documents import Document

CACHE_DIR = ".dossier-cache"
_FORMAT = 7



def stat_key(stat: os.stat_result) -> StatKey:
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def generation(*parts: str) -> str:
    """The key everything in the cache depends on."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (f"dossier {__version__}", f"cache format {_FORMAT}", *parts):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


_DOCUMENT_TABLE = ("document (path TEXT PRIMARY KEY, size INTEGER, mtime INTEGER, "
                   "inode INTEGER, digest TEXT, data TEXT, body TEXT, body_line INTEGER, "
                   "verdict TEXT)")
_META_TABLE = "meta (key TEXT PRIMARY KEY, value TEXT)"
# What planning media read (model/media.py's MediaMemo): by "r:" + record path or "f:" +
# file path, a stamp (the record's digest, the file's stat) and the JSON of what was found.
_MEDIA_TABLE = "media (key TEXT PRIMARY KEY, stamp TEXT, value TEXT)"


def owner_only(folder: Path) -> None:
    """Make `folder` (its parent exists) readable by its owner alone; an existing one made
    by an older version is closed too."""
    folder.mkdir(mode=0o700, exist_ok=True)
    with contextlib.suppress(OSError):  # not ours to change (a shared temporary folder)
        if stat.S_IMODE(folder.stat().st_mode) & 0o077:
            folder.chmod(0o700)


def open_store(path: Path, *tables: str) -> sqlite3.Connection | None:
    """An SQLite file of the cache, with its tables (several processes may use it at once).

    A file that is damaged or no database is removed and made anew; a store that cannot
    be opened now (busy, unwritable) is None: the build goes on without it.
    """
    for _ in range(2):
        try:
            owner_only(path.parent)
            db = sqlite3.connect(path, timeout=60, isolation_level=None,
                                 check_same_thread=False)
            with contextlib.suppress(OSError):  # its -wal and -shm files take its mode
                if stat.S_IMODE(path.stat().st_mode) & 0o077:
                    path.chmod(0o600)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=OFF")
                for table in tables:
                    db.execute(f"CREATE TABLE IF NOT EXISTS {table}")
            except sqlite3.Error:
                db.close()
                raise
            return db
        except sqlite3.OperationalError:
            return None  # locked or unwritable: not proof of damage
        except sqlite3.DatabaseError:
            for stale in (path, path.with_name(path.name + "-wal"),
                          path.with_name(path.name + "-shm")):
                stale.unlink(missing_ok=True)
        except OSError:
            return None
    return None


class DocumentStore:
    """Valid documents of earlier runs, by site-relative path, in an SQLite file.

    A document is read from it only when its file's stat is unchanged, one at a time:
    a large site's documents are never all loaded as one file, and a build after one
    edit writes one row, not the whole store. A row that is not what this module writes
    is ignored (that file is loaded again).
    """

    def __init__(self, path: Path | None, schema_key: str) -> None:
        self.path = path
        self.schema_key = schema_key
        self.hits = 0
        self.served: set[str] = set()  # paths taken from the store in this run
        # What this run loaded and how it validated, to be saved for the next run.
        self.latest: tuple[list[Document], dict[str, tuple[Any, ...]]] | None = None
        self._db: sqlite3.Connection | None = None
        self._usable = path is not None and path.is_file()

    def _connection(self, create: bool = False) -> sqlite3.Connection | None:
        if self._db is not None or self.path is None or not (self._usable or create):
            return self._db
        db = open_store(self.path, _DOCUMENT_TABLE, _META_TABLE, _MEDIA_TABLE)
        if db is None:
            return None
        try:
            made_by = f"{_FORMAT} {__version__} {self.schema_key}"
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None or row[0] != made_by:
                db.execute("DELETE FROM document")  # made under another schema
                db.execute("DELETE FROM media")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (made_by,))
        except sqlite3.Error:
            db.close()
            return None
        self._db = db
        return db

    def get(self, rel: str, stat: os.stat_result) -> Document | None:
        return self.get_many({rel: stat}).get(rel)

    def get_many(self, wanted: dict[str, os.stat_result]) -> dict[str, Document]:
        """The stored documents of the files in `wanted` whose stat is still the same."""
        db = self._connection()
        if db is None or not wanted:
            return {}
        from dossier.content.documents import Document, record_slug
        from dossier.core.yamltree import Tree

        found: dict[str, Document] = {}
        try:
            rows = db.execute(
                "SELECT path, size, mtime, inode, digest, data, body, body_line, verdict "
                f"FROM document WHERE path IN ({','.join('?' * len(wanted))})",
                list(wanted)).fetchall()
        except sqlite3.Error:
            return {}
        for rel, *row in rows:
            try:
                if _stat(row[:3]) != stat_key(wanted[rel]):
                    continue
                digest, data, body, body_line = row[3], json.loads(row[4]), row[5], row[6]
                if not (isinstance(digest, str) and isinstance(data, dict)
                        and isinstance(body, str | bytes) and type(body_line) is int):
                    continue
                verdict = () if row[7] == "[]" else tuple(
                    Diagnostic(*_strings_and_ints(d)) for d in json.loads(row[7]))
            except (KeyError, ValueError, TypeError, RecursionError):
                continue
            found[rel] = Document(rel.split("/")[1], record_slug(rel), rel, Tree(data), body,
                                  body_line, digest, verdict)
        self.hits += len(found)
        self.served.update(found)
        return found

    def media_rows(self) -> dict[str, tuple[str, str]]:
        """What planning media read in the last build (see `_MEDIA_TABLE`)."""
        db = self._connection()
        if db is None:
            return {}
        try:
            rows = db.execute("SELECT key, stamp, value FROM media").fetchall()
        except sqlite3.Error:
            return {}
        return {key: (stamp, value) for key, stamp, value in rows
                if isinstance(key, str) and isinstance(stamp, str) and isinstance(value, str)}

    def keep_media(self, made: dict[str, tuple[str, str]], used: set[str]) -> None:
        """Store the rows planning made anew; forget those of records and files no longer
        used."""
        db = self._connection(create=True)
        if db is None:
            return
        _keep_rows(db, "media", "key", used, [(key, *row) for key, row in made.items()])

    def save(self, site_dir: Path) -> None:
        """Store what this run loaded anew; forget files that are gone or now invalid."""
        if self.latest is None:
            return
        documents, verdicts = self.latest
        db = self._connection(create=True)
        if db is None:
            return
        rows, keep = [], set()
        for doc in documents:
            verdict = verdicts.get(doc.path)
            if verdict is None or any(d.is_error for d in verdict):
                continue
            keep.add(doc.path)
            if doc.path in self.served:
                continue
            try:
                stat = stat_key((site_dir / doc.path).stat())
                rows.append((doc.path, *stat, doc.digest, json.dumps(doc.tree.data), doc.body,
                             doc.body_line,
                             json.dumps([list(dataclasses.astuple(d)) for d in verdict])))
            except (OSError, TypeError, ValueError):
                continue
        _keep_rows(db, "document", "path", keep, rows)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _keep_rows(db: sqlite3.Connection, table: str, key: str, keep: set[str],
               rows: list[tuple[Any, ...]]) -> None:
    """In one transaction: forget the rows of `table` whose `key` is not in `keep`, and
    store `rows` (new or replacing). The cache is an optimisation: failing to write it
    must not fail a build."""
    try:
        with db:
            db.execute("BEGIN")
            gone = [(k,) for (k,) in db.execute(f"SELECT {key} FROM {table}") if k not in keep]
            db.executemany(f"DELETE FROM {table} WHERE {key} = ?", gone)
            if rows:
                marks = ",".join("?" * len(rows[0]))
                db.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", rows)
    except (sqlite3.Error, ValueError):
        pass


def source_stats(site_dir: Path) -> dict[str, StatKey]:
    """Stats of every file a build reads: content/ and templates/."""
    found = {f"content/{k}": v for k, v in tree_stats(site_dir / "content").items()}
    found.update({f"templates/{k}": v for k, v in tree_stats(site_dir / "templates").items()})
    return found


class BuildCache:
    """What builds of one site into one output folder remember (see the module)."""

    def __init__(self, site_dir: Path, out: Path, enabled: bool = True) -> None:
        self.folder = site_dir / CACHE_DIR
        self.enabled = enabled
        # Named by the output folder's path relative to the site, so a site folder that is
        # moved or copied (with its build/) keeps its cache.
        where = os.path.relpath(out.absolute(), site_dir.absolute())
        self.out_id = hashlib.blake2b(where.encode(), digest_size=6).hexdigest()
        # Named after the format: a file of another version of dossier is left alone.
        self.path = self.folder / f"cache-{_FORMAT}.sqlite"
        self.documents_path = self.path  # see DocumentStore
        self.fragments_path = self.path  # see fragments.py
        self.search_path = self.folder / "search.sqlite"  # see entries.py
        # The output folder's lock, standby tree and the tree a build assembles (output.py).
        self.private = self.folder / f"output-{self.out_id}"
        self._db: sqlite3.Connection | None = None

    def private_folder(self) -> Path:
        """Make the output folder's private folder (owner-only, as the cache folder is);
        it is used whether or not the cache is: the lock and the trees live there."""
        owner_only(self.folder)
        self._ignored()
        owner_only(self.private)
        return self.private

    def documents(self, schema_key: str) -> DocumentStore:
        return DocumentStore(self.documents_path if self.enabled else None, schema_key)

    def save_documents(self, store: DocumentStore, site_dir: Path) -> None:
        if self.enabled:
            store.save(site_dir)
        store.close()

    def remembered(self, everything: bool = True) -> Remembered | None:
        """What the last build of this output folder left (None: nothing to trust)."""
        db = self._connection()
        return state.read(db, self.out_id, everything) if db is not None else None

    def complete(self, remembered: Remembered) -> Remembered | None:
        """The rest of what `remembered(everything=False)` left out."""
        db = self._connection()
        return state.read_model(db, self.out_id, remembered) if db is not None else None

    def model_apart(self) -> state.Baseline | None:
        """What `complete` adds, read through a connection of its own (for another process:
        an SQLite connection must not be used on both sides of a fork). It only reads: a
        file that cannot be read is None, and the build reads it again itself."""
        if not self.enabled or not self.path.is_file():
            return None
        try:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        except sqlite3.Error:
            return None
        try:
            return state.read_model_apart(db, self.out_id)
        finally:
            db.close()

    def standby_unknown(self) -> None:
        """The standby tree is about to change: until the swap its state is unknown."""
        db = self._connection()
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                state.mark_standby_unknown(db, self.out_id)

    def remember(self, update: Update) -> None:
        """Store what this build changed (after its swap)."""
        db = self._connection(create=True)
        if db is None:
            return
        with contextlib.suppress(sqlite3.Error, ValueError, TypeError):
            state.write(db, self.out_id, update)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _connection(self, create: bool = False) -> sqlite3.Connection | None:
        """The cache's SQLite file; reading never creates it (a failed first build leaves
        nothing behind)."""
        if not self.enabled:
            return None
        if self._db is None and (create or self.path.is_file()):
            self._db = open_store(self.path, *state.TABLES)
            if self._db is not None:
                self._ignored()
        return self._db

    def _ignored(self) -> None:
        """Tell git that nothing in the cache folder is content."""
        ignore = self.folder / ".gitignore"
        with contextlib.suppress(OSError):
            if not ignore.is_file():
                ignore.write_text("*\n")


def _strings_and_ints(row: Any) -> list[Any]:
    """A diagnostic's fields: path, line, column, severity, field, message, suggestion."""
    path, line, column, severity, name, message, suggestion = row
    if (not all(isinstance(s, str) for s in (path, name, message, suggestion))
            or severity not in ("error", "warning")
            or not all(type(n) is int for n in (line, column))):
        raise ValueError("not a diagnostic")
    return [path, line, column, severity, name, message, suggestion]


def _stat(raw: Any) -> StatKey:
    size, mtime, inode = raw
    if not all(type(n) is int for n in (size, mtime, inode)):
        raise ValueError("not a stat key")
    return size, mtime, inode
