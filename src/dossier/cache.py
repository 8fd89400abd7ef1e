"""The build cache: what the previous build read and wrote, so the next one can skip work.

It lives in `SITE/.dossier-cache/` (outside the output folder; deleting it is always safe,
the next build is then a full one). It holds two files:

- documents: every valid record file by path, with the stat of the file it came from;
  a file whose size, mtime and inode are unchanged is not read, parsed or validated again;
- a manifest per output folder: for every output file, the key of the inputs it was
  made from and the stat of the file written; a file whose key is unchanged and which is
  still in place untouched is taken over from the previous build instead of re-rendered.

Both are only trusted when `generation` matches: a hash of the generator's version, the
schema, the site settings, the templates and the build options.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dossier import __version__
from dossier.loader import Document
from dossier.output import tree_stats
from dossier.yamltree import Tree

CACHE_DIR = ".dossier-cache"
_FORMAT = 1

StatKey = tuple[int, int, int]  # size, mtime_ns, inode


def stat_key(stat: os.stat_result) -> StatKey:
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def hash_files(*roots: Path) -> str:
    """A hash over the names and bytes of every file under some folders."""
    digest = hashlib.blake2b(digest_size=16)
    for root in roots:
        if not root.exists():
            continue
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for file in files:
            digest.update(str(file.relative_to(root.parent)).encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def generation(*parts: str) -> str:
    """The key everything in the cache depends on."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (f"dossier {__version__}", f"cache format {_FORMAT}", *parts):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


@dataclass
class DocumentStore:
    """Valid documents of the previous run, by site-relative path."""

    schema_key: str
    entries: dict[str, tuple[StatKey, str, Any, str, int, tuple[Any, ...]]] = field(
        default_factory=dict)
    hits: int = 0
    # What this run loaded and how it validated, to be saved for the next run.
    latest: tuple[list[Document], dict[str, tuple[Any, ...]]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"schema_key": self.schema_key, "entries": self.entries}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["schema_key"], state["entries"])  # type: ignore[misc]

    def get(self, rel: str, stat: os.stat_result) -> Document | None:
        entry = self.entries.get(rel)
        if entry is None or entry[0] != stat_key(stat):
            return None
        _, digest, data, body, body_line, verdict = entry
        collection, name = rel.split("/")[1:3]
        self.hits += 1
        return Document(collection, Path(name).stem, rel, Tree(data), body, body_line,
                        digest, verdict)


def source_stats(site_dir: Path) -> dict[str, StatKey]:
    """Stats of every file a build reads: content/ and templates/."""
    found = {f"content/{k}": v for k, v in tree_stats(site_dir / "content").items()}
    found.update({f"templates/{k}": v for k, v in tree_stats(site_dir / "templates").items()})
    return found


@dataclass
class State:
    """What the last successful build saw and said, for an up-to-date check."""

    generation: str
    sources: dict[str, StatKey]
    warnings: tuple[Any, ...]
    pages: int


@dataclass
class Manifest:
    """Per output file: the key of its inputs and the stat of what was written."""

    key: str
    files: dict[str, tuple[str, StatKey, tuple[tuple[str, str, str], ...]]] = field(
        default_factory=dict)


class BuildCache:
    """Reads and writes the cache files of one site and output folder."""

    def __init__(self, site_dir: Path, out: Path, enabled: bool = True) -> None:
        self.folder = site_dir / CACHE_DIR
        self.enabled = enabled
        # Named by the output folder's path relative to the site, so a site folder that is
        # moved or copied (with its build/) keeps its cache.
        where = os.path.relpath(out.absolute(), site_dir.absolute())
        out_id = hashlib.blake2b(where.encode(), digest_size=6).hexdigest()
        self.manifest_path = self.folder / f"output-{out_id}.pickle"
        self.state_path = self.folder / f"state-{out_id}.pickle"
        self.search_path = self.folder / "search.pickle"
        self.documents_path = self.folder / "documents.pickle"

    def documents(self, schema_key: str) -> DocumentStore:
        stored = self._load(self.documents_path)
        if isinstance(stored, DocumentStore) and stored.schema_key == schema_key:
            stored.hits = 0
            return stored
        return DocumentStore(schema_key)

    def manifest(self, key: str) -> Manifest:
        stored = self._load(self.manifest_path)
        if isinstance(stored, Manifest) and stored.key == key:
            return stored
        return Manifest(key)

    def save_documents(self, schema_key: str, documents: list[Document],
                       verdicts: dict[str, tuple[Any, ...]], site_dir: Path) -> None:
        store = DocumentStore(schema_key)
        for doc in documents:
            verdict = verdicts.get(doc.path)
            if verdict is None or any(d.is_error for d in verdict):
                continue
            try:
                stat = (site_dir / doc.path).stat()
            except OSError:
                continue
            store.entries[doc.path] = (stat_key(stat), doc.digest, doc.tree.data, doc.body,
                                       doc.body_line, verdict)
        self._save(self.documents_path, store)

    def save_manifest(self, manifest: Manifest) -> None:
        self._save(self.manifest_path, manifest)

    def search_entries(self, key: str) -> dict[str, Any]:
        """Search entries by record key, made under the same generation key."""
        stored = self._load(self.search_path)
        if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key:
            return dict(stored[1])
        return {}

    def save_search_entries(self, key: str, entries: dict[str, Any]) -> None:
        self._save(self.search_path, (key, entries))

    def state(self) -> State | None:
        stored = self._load(self.state_path)
        return stored if isinstance(stored, State) else None

    def save_state(self, state: State) -> None:
        self._save(self.state_path, state)

    def _load(self, path: Path) -> Any:
        if not self.enabled:
            return None
        try:
            with open(path, "rb") as handle:
                return pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
                TypeError, ValueError):
            return None  # a missing or damaged cache only means a full build

    def _save(self, path: Path, value: Any) -> None:
        if not self.enabled:
            return
        try:
            self.folder.mkdir(exist_ok=True)
            (self.folder / ".gitignore").write_text("*\n")
            tmp = path.with_suffix(f".tmp-{os.getpid()}")
            with open(tmp, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:
            pass  # the cache is an optimisation; failing to write it must not fail a build
