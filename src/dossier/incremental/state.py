"""What the last build of an output folder left for the next one, in SQLite.

Per output folder (named by its path relative to the site): the generation it was built
under, the stats of the files it read, its warnings; per output file its stat and the
dependencies its making read (RememberedOutput); per part and per derived dependency what
changes.Baseline holds; the files the last build changed and removed, and whether the
standby tree (output.py) holds the site as it was before that build.

Every row is checked on the way in: a forged or damaged row means that output is made
again (or the whole state is ignored), never that anything in it is run. A build writes
only the rows that changed, in one transaction after its swap: a build killed before that
leaves the state of the build before, which is safe (what changed since is made again).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dossier.core.diagnostics import Diagnostic

if TYPE_CHECKING:
    from dossier.outputs.opendata import Rows

_TABLES = (
    "run (out TEXT PRIMARY KEY, generation TEXT, sources TEXT, warnings TEXT, "
    "pages INTEGER, changed TEXT, removed TEXT, standby INTEGER)",
    "output (out TEXT, rel TEXT, size INTEGER, mtime INTEGER, inode INTEGER, deps BLOB, "
    "ids TEXT, anchors TEXT, key TEXT, PRIMARY KEY (out, rel)) WITHOUT ROWID",
    "part (out TEXT, id INTEGER, deps BLOB, PRIMARY KEY (out, id)) WITHOUT ROWID",
    "derived (out TEXT, id INTEGER, dep TEXT, value TEXT, PRIMARY KEY (out, id)) "
    "WITHOUT ROWID",
    "record (out TEXT, key TEXT, digest TEXT, fields TEXT, PRIMARY KEY (out, key)) "
    "WITHOUT ROWID",
    "export_row (out TEXT, collection TEXT, position INTEGER, slug TEXT, deps BLOB, "
    "a INTEGER, b INTEGER, c INTEGER, d INTEGER, e INTEGER, f INTEGER, "
    "PRIMARY KEY (out, collection, position)) WITHOUT ROWID",
    "search (out TEXT, key TEXT, digest TEXT, deps BLOB, PRIMARY KEY (out, key)) "
    "WITHOUT ROWID",
)
TABLES = tuple(f"{t}" for t in _TABLES)

StatKey = tuple[int, int, int]  # size, mtime_ns, inode of a written file


@dataclass(slots=True)  # one per output file: hundreds of thousands on a large site
class RememberedOutput:
    """What the last build knew of one output file."""

    stat: StatKey
    deps: bytes = b""  # packed dependency ids; empty: made anew every build
    ids: tuple[str, ...] = ()  # the ids of a page (for links to them from other pages)
    anchors: tuple[tuple[str, str, tuple[Any, ...]], ...] = ()  # ids it needs elsewhere
    key: str = ""  # of a search index file: the key of its part (search/index.py)


def pack_fields(fingerprints: dict[str, str]) -> str:
    """A record's field fingerprints as one string (as stored, and as kept in memory: a
    site of 100,000 records holds them all, and reads them only for the records that
    changed)."""
    return "\x1e".join(f"{name}\x1f{value}" for name, value in fingerprints.items())


def unpack_fields(packed: str) -> dict[str, str]:
    """The field fingerprints packed by `pack_fields` (a malformed pair is left out)."""
    pairs = (pair.split("\x1f", 1) for pair in packed.split("\x1e")) if packed else ()
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


@dataclass
class Baseline:
    """The state the last build left for one output folder."""

    outputs: dict[str, RememberedOutput] = field(default_factory=dict)
    parts: dict[int, bytes] = field(default_factory=dict)  # part's dep id → its deps
    # Per derived dependency (by id): the dependency and its value then.
    derived: dict[int, tuple[tuple[str, ...], str]] = field(default_factory=dict)
    records: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    rows: dict[str, Rows] = field(default_factory=dict)  # per collection: its export rows
    # Per record: the digest of its search entry and what making that entry read.
    search: dict[tuple[str, str], tuple[str, bytes]] = field(default_factory=dict)


@dataclass
class Remembered:
    """One output folder's state after its last build."""

    generation: str = ""
    sources: dict[str, StatKey] = field(default_factory=dict)
    warnings: tuple[Diagnostic, ...] = ()
    pages: int = 0
    baseline: Baseline = field(default_factory=Baseline)
    changed: list[str] = field(default_factory=list)  # files that build wrote anew
    removed: list[str] = field(default_factory=list)
    standby: bool = False  # the standby tree is the site as it was before that build


def read(db: sqlite3.Connection, out: str, everything: bool = True) -> Remembered | None:
    """The state of `out`, or None when there is none that can be trusted. Without
    `everything`, only what an up-to-date check needs (`read_model` reads the rest)."""
    try:
        row = db.execute("SELECT generation, sources, warnings, pages, changed, removed, "
                         "standby FROM run WHERE out = ?", (out,)).fetchone()
        if row is None:
            return None
        state = Remembered(str(row[0]), _sources(json.loads(row[1])),
                           tuple(_diagnostic(d) for d in json.loads(row[2])), _int(row[3]),
                           changed=_strings(json.loads(row[4])),
                           removed=_strings(json.loads(row[5])), standby=row[6] == 1)
        outputs = state.baseline.outputs
        for r in db.execute("SELECT rel, size, mtime, inode, deps, ids, anchors, key "
                            "FROM output WHERE out = ?", (out,)):
            stat = (_int(r[1]), _int(r[2]), _int(r[3]))
            ids = str(r[5])
            outputs[str(r[0])] = RememberedOutput(
                stat, _blob(r[4]), tuple(ids.split("\n")) if ids else (),
                tuple(_anchor(a) for a in json.loads(r[6])) if r[6] else (), str(r[7] or ""))
        if everything:
            _read_model(db, out, state.baseline)
        return state
    except (sqlite3.Error, ValueError, TypeError, KeyError, IndexError, RecursionError):
        return None


def read_model(db: sqlite3.Connection, out: str, state: Remembered) -> Remembered | None:
    """`state` with what its outputs read (parts, derived dependencies, records, rows)."""
    try:
        _read_model(db, out, state.baseline)
        return state
    except (sqlite3.Error, ValueError, TypeError, KeyError, IndexError, RecursionError):
        return None


def read_model_apart(db: sqlite3.Connection, out: str) -> Baseline | None:
    """What `read_model` adds to a state, in a Baseline of its own (its outputs empty), or
    None when it cannot be trusted: read in another process while the build loads the
    content, then given to the state with `with_model`."""
    read = read_model(db, out, Remembered())
    return read.baseline if read is not None else None


def with_model(state: Remembered, model: Baseline) -> Remembered:
    """`state` with the model that `read_model_apart` read, and its own outputs."""
    model.outputs = state.baseline.outputs
    state.baseline = model
    return state


def _read_model(db: sqlite3.Connection, out: str, baseline: Baseline) -> None:
    for ident, deps in db.execute("SELECT id, deps FROM part WHERE out = ?", (out,)):
        baseline.parts[_int(ident)] = _blob(deps)
    for ident, dep, value in db.execute("SELECT id, dep, value FROM derived WHERE out = ?",
                                        (out,)):
        baseline.derived[_int(ident)] = (tuple(_strings(json.loads(dep))), str(value))
    for key, digest, fields in db.execute("SELECT key, digest, fields FROM record "
                                          "WHERE out = ?", (out,)):
        collection, _, slug = str(key).partition("/")
        baseline.records[(collection, slug)] = (str(digest), str(fields or ""))
    from dossier.outputs.opendata import Rows  # here: the up-to-date check needs none

    for collection, slug, packed, *span in db.execute(
            "SELECT collection, slug, deps, a, b, c, d, e, f FROM export_row WHERE out = ? "
            "ORDER BY collection, position", (out,)):
        rows = baseline.rows.setdefault(str(collection), Rows())
        if not all(type(n) is int for n in span):
            raise ValueError("not the span of a row")
        rows.order.append(str(slug))
        rows.spans[str(slug)] = tuple(span)
        rows.deps[str(slug)] = _blob(packed)
    for key, digest, packed in db.execute("SELECT key, digest, deps FROM search WHERE out = ?",
                                          (out,)):
        collection, _, slug = str(key).partition("/")
        baseline.search[(collection, slug)] = (str(digest), _blob(packed))


@dataclass
class Update:
    """What a build changes in an output folder's state (only that is written)."""

    run: Remembered
    outputs: dict[str, RememberedOutput] = field(default_factory=dict)  # new or changed rows
    gone: list[str] = field(default_factory=list)  # output files no more
    parts: dict[int, bytes] = field(default_factory=dict)
    derived: dict[int, tuple[tuple[str, ...], str]] = field(default_factory=dict)
    records: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    records_gone: list[tuple[str, str]] = field(default_factory=list)
    rows: dict[str, Rows] = field(default_factory=dict)  # collections whose rows changed
    # The search entries' digests and reads, all of them (None: the index was not made).
    search: dict[tuple[str, str], tuple[str, bytes]] | None = None
    fresh: bool = False  # the state is written anew (nothing of the old one is kept)
    found: set[int] = field(default_factory=set)  # what changed (for the preview; not stored)


def write(db: sqlite3.Connection, out: str, update: Update) -> None:
    """Store a build's changes to the state of `out`, in one transaction."""
    run = update.run
    with db:
        db.execute("BEGIN")
        if update.fresh:
            for table in ("output", "part", "derived", "record", "export_row", "search"):
                db.execute(f"DELETE FROM {table} WHERE out = ?", (out,))
        db.execute("INSERT OR REPLACE INTO run VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
            out, run.generation, json.dumps({k: list(v) for k, v in run.sources.items()}),
            json.dumps([list(dataclasses.astuple(d)) for d in run.warnings]), run.pages,
            json.dumps(run.changed), json.dumps(run.removed), int(run.standby)))
        db.executemany("DELETE FROM output WHERE out = ? AND rel = ?",
                       ((out, rel) for rel in update.gone))
        db.executemany("INSERT OR REPLACE INTO output VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (
            (out, rel, *o.stat, o.deps, "\n".join(o.ids),
             json.dumps([[t, f, list(origin)] for t, f, origin in o.anchors])
             if o.anchors else "", o.key)
            for rel, o in update.outputs.items()))
        db.executemany("INSERT OR REPLACE INTO part VALUES (?, ?, ?)",
                       ((out, ident, deps) for ident, deps in update.parts.items()))
        db.executemany("INSERT OR REPLACE INTO derived VALUES (?, ?, ?, ?)", (
            (out, ident, json.dumps(list(dep)), value)
            for ident, (dep, value) in update.derived.items()))
        db.executemany("DELETE FROM record WHERE out = ? AND key = ?",
                       ((out, f"{c}/{s}") for c, s in update.records_gone))
        db.executemany("INSERT OR REPLACE INTO record VALUES (?, ?, ?, ?)", (
            (out, f"{c}/{s}", digest, fields)
            for (c, s), (digest, fields) in update.records.items()))
        for collection, rows in update.rows.items():
            db.execute("DELETE FROM export_row WHERE out = ? AND collection = ?",
                       (out, collection))
            db.executemany("INSERT INTO export_row VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                (out, collection, i, slug, rows.deps.get(slug, b""), *rows.spans[slug])
                for i, slug in enumerate(rows.order)))
        if update.search is not None:
            _write_search(db, out, update.search)


def _write_search(db: sqlite3.Connection, out: str,
                  search: dict[tuple[str, str], tuple[str, bytes]]) -> None:
    """The search rows of `out` become `search`: only rows that differ are written."""
    known = {str(k): (str(d), bytes(p)) for k, d, p in db.execute(
        "SELECT key, digest, deps FROM search WHERE out = ?", (out,))}
    wanted = {f"{c}/{s}": made for (c, s), made in search.items()}
    db.executemany("DELETE FROM search WHERE out = ? AND key = ?",
                   ((out, key) for key in known.keys() - wanted.keys()))
    db.executemany("INSERT OR REPLACE INTO search VALUES (?, ?, ?, ?)", (
        (out, key, digest, packed) for key, (digest, packed) in wanted.items()
        if known.get(key) != (digest, packed)))


def mark_standby_unknown(db: sqlite3.Connection, out: str) -> None:
    """Before the standby tree is touched: its state is not known until the next swap."""
    with db:
        db.execute("UPDATE run SET standby = 0 WHERE out = ?", (out,))


def _int(value: Any) -> int:
    if type(value) is not int:
        raise ValueError("not a number")
    return value


def _blob(value: Any) -> bytes:
    if not isinstance(value, bytes) or len(value) % 8:
        raise ValueError("not packed dependencies")
    return value


def _strings(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise ValueError("not a list of text")
    return raw


def _sources(raw: Any) -> dict[str, StatKey]:
    if not isinstance(raw, dict):
        raise ValueError("not file stats")
    return {str(k): (_int(v[0]), _int(v[1]), _int(v[2])) for k, v in raw.items()}


def _diagnostic(raw: Any) -> Diagnostic:
    path, line, column, severity, name, message, suggestion = raw
    if not all(isinstance(s, str) for s in (path, name, message, suggestion)) \
            or severity not in ("error", "warning"):
        raise ValueError("not a diagnostic")
    return Diagnostic(path, _int(line), _int(column), severity, name, message, suggestion)


def _anchor(raw: Any) -> tuple[str, str, tuple[Any, ...]]:
    target, fragment, origin = raw
    if not (isinstance(target, str) and isinstance(fragment, str)):
        raise ValueError("not an anchor")
    path, line, column, name, href = origin
    if not all(isinstance(s, str) for s in (path, name, href)):
        raise ValueError("not an origin")
    return target, fragment, (path, _int(line), _int(column), name, href)


def changed_files(before: Iterable[str], written: dict[str, bool]) -> list[str]:
    """The files a build wrote anew or added (what the standby will lack)."""
    known = set(before)
    return sorted(rel for rel, new in written.items() if new or rel not in known)
