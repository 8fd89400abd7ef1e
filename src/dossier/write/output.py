"""Write stage: assemble the site beside the output folder, then swap it in atomically.

Files whose bytes did not change are hard-linked from the previous build, so they keep
their mtime and `rsync`/CDNs upload only what changed. A failed or killed build leaves
the previous output as it was; its leftovers are removed by the next build.

Two trees take turns. After a swap, the tree that was the site stays beside it as the
*standby* (`.build.standby`), sharing its unchanged files by hard link. The next build
brings the standby up to date by writing only what changed (the files of the last build
and of this one), then swaps again: a build after one edit costs what the edit changed,
not a new tree of every file. Which state the standby holds is kept in the build cache,
and it is marked unknown before it is touched: a standby of unknown state is not used
(the build assembles a fresh tree, as the first one does).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import posixpath
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from dossier.core.diagnostics import Diagnostic, DossierError

_RENAME_EXCHANGE = 2
MARKER = ".dossier-build"  # marks a folder as ours, so a build never replaces anything else


@dataclass(frozen=True)
class WriteStats:
    """How many files the output has, and how many were new or changed."""

    written: int
    changed: int
    removed: int


def _error(out: Path, message: str) -> DossierError:
    return DossierError([Diagnostic(str(out), 1, 1, "error", "", message)])


def safe_relpath(rel: str) -> str:
    """Refuse any output path that could land outside the output folder."""
    norm = posixpath.normpath(rel)
    if (not rel or rel.startswith(("/", "\\")) or norm.startswith("..") or "\\" in rel
            or ":" in rel.split("/")[0] or "\x00" in rel):
        raise ValueError(f"unsafe output path {rel!r}")
    return norm


@dataclass(frozen=True)
class FileWriter:
    """Writes files into the new folder; small and plain, so worker processes can use it.

    In a fresh folder files are created; in the standby (`in_place`) one that is there
    is replaced, through a temporary name, so the folder never holds half a file.
    """

    tmp: Path
    out: Path
    made: set[str] = field(default_factory=set, compare=False)  # folders known to exist
    in_place: bool = False

    def _folder_for(self, rel: str) -> None:
        folder = rel.rpartition("/")[0]
        if folder and folder not in self.made:
            os.makedirs(os.path.join(self.tmp, folder), exist_ok=True)
            self.made.add(folder)

    def put(self, rel: str, data: bytes) -> bool:
        """Write one file; return False when the previous build had the same bytes."""
        rel = safe_relpath(rel)
        target = self.tmp / rel
        previous = self.out / rel
        try:
            self._folder_for(rel)
            if _same_bytes(previous, data):
                self._link(previous, target)
                return False
            if self.in_place:
                partial = target.with_name(f".{target.name}.part-{os.getpid()}")
                with open(partial, "wb") as handle:
                    handle.write(data)
                os.replace(partial, target)
            else:
                with open(target, "wb") as handle:
                    handle.write(data)
        except OSError as exc:
            raise _error(self.out, _explain(exc)) from None
        return True

    def _link(self, previous: Path, target: Path) -> None:
        """The previous build's file, by hard link (in place: replacing what is there)."""
        if not self.in_place:
            _link_or_copy(previous, target)
            return
        try:
            if os.path.samefile(previous, target):
                return
        except OSError:
            pass
        partial = target.with_name(f".{target.name}.part-{os.getpid()}")
        _link_or_copy(previous, partial)
        os.replace(partial, target)

    def stream(self, rel: str) -> Stream:
        """A file written piece by piece (a large export is never held whole); on close it
        is replaced by a link to the previous build's file if the bytes are the same."""
        rel = safe_relpath(rel)
        target = self.tmp / rel
        try:
            self._folder_for(rel)
            if self.in_place:  # never into a file the site shares by hard link
                partial = target.with_name(f".{target.name}.part-{os.getpid()}")
                return Stream(open(partial, "wb"), self.out / rel, self.out, target)
            return Stream(open(target, "wb"), self.out / rel, self.out)
        except OSError as exc:
            raise _error(self.out, _explain(exc)) from None

    def reuse(self, rel: str) -> None:
        """Take the previous build's file as it is (its inputs did not change); the
        standby has it already."""
        rel = safe_relpath(rel)
        if self.in_place:
            return
        try:
            self._folder_for(rel)
            _link_or_copy(os.path.join(self.out, rel), os.path.join(self.tmp, rel))
        except OSError as exc:
            raise _error(self.out, _explain(exc)) from None

    def remove(self, rel: str) -> None:
        """A file the previous build had and this one does not (standby only)."""
        rel = safe_relpath(rel)
        if not self.in_place:
            return
        try:
            os.unlink(self.tmp / rel)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise _error(self.out, _explain(exc)) from None
        folder = (self.tmp / rel).parent
        while folder != self.tmp and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


class Stream:
    """One output file being written; `changed` tells, once closed, whether it differs
    from the previous build's."""

    def __init__(self, handle: BinaryIO | None, previous: Path | None, out: Path,
                 final: Path | None = None) -> None:
        self.handle, self.previous, self.out = handle, previous, out
        self.final = final  # where a file written under a temporary name goes on close
        self.changed = True

    def write(self, data: bytes) -> None:
        if self.handle is not None:
            try:
                self.handle.write(data)
            except OSError as exc:
                raise _error(self.out, _explain(exc)) from None

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if self.handle is None:
            return
        try:
            self.handle.close()
        except OSError as exc:
            if kind is None:
                raise _error(self.out, _explain(exc)) from None
        written = Path(self.handle.name)
        if kind is not None:
            if self.final is not None:
                written.unlink(missing_ok=True)
            return
        try:
            if self.previous is not None and _same_files(self.previous, written):
                written.unlink()
                _link_or_copy(self.previous, written)
                self.changed = False
            if self.final is not None:
                # rename() of a hard link onto the same file does nothing: drop the name
                if self.final.exists() and os.path.samefile(written, self.final):
                    written.unlink()
                else:
                    os.replace(written, self.final)
        except OSError as exc:
            raise _error(self.out, _explain(exc)) from None


def _same_files(a: Path, b: Path) -> bool:
    """Whether two files hold the same bytes (read a block at a time)."""
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        with open(a, "rb") as first, open(b, "rb") as second:
            while True:
                block = first.read(1 << 20)
                if block != second.read(1 << 20):
                    return False
                if not block:
                    return True
    except OSError:
        return False


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    """Hard-link keeps the file's mtime and costs no copying; copy where links fail."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


class NullWriter:
    """A writer that writes nothing (for `dossier check`)."""

    def put(self, rel: str, data: bytes) -> bool:
        safe_relpath(rel)
        return True

    def stream(self, rel: str) -> Stream:
        safe_relpath(rel)
        return Stream(None, None, Path(rel))

    def reuse(self, rel: str) -> None:
        safe_relpath(rel)


class MemoryOutput:
    """Collects the names of output files without writing anything (for `dossier check`)."""

    def __init__(self) -> None:
        self.files: set[str] = set()
        self.changed = 0
        self.writer = NullWriter()

    def write(self, rel: str, data: bytes) -> None:
        self.files.add(safe_relpath(rel))

    def record(self, rel: str, changed: bool) -> None:
        self.files.add(rel)

    def read(self, rel: str) -> str | None:
        return None

    def reuse(self, rel: str) -> None:
        self.files.add(rel)

    def remove(self, rel: str) -> None:
        pass

    def previous(self) -> dict[str, tuple[int, int, int]] | None:
        return None

    def same_as_before(self, rel: str, data: bytes) -> bool:
        return False

    def commit(self) -> WriteStats:
        """Nothing to swap: only the count of the files a build would write."""
        return WriteStats(len(self.files), 0, 0)


class InPlace:
    """The output folder itself, written file by file (the preview: nothing else reads it
    while it changes, so it needs no second tree)."""

    def __init__(self, out: Path,
                 known: Callable[[], dict[str, tuple[int, int, int]]] | None = None) -> None:
        self.out = out.absolute()
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / MARKER).touch()
        self.writer = FileWriter(self.out, self.out, in_place=True)
        # The stats of the files as the only writer of the folder knows them (the preview
        # keeps them), so that a save does not stat every file of the site.
        self.known = known
        self.files: set[str] = set()
        self.changed = 0
        self.removed: list[str] = []

    def write(self, rel: str, data: bytes) -> None:
        self.record(rel, self.writer.put(rel, data))

    def record(self, rel: str, changed: bool) -> None:
        self.files.add(safe_relpath(rel))
        self.changed += changed

    def reuse(self, rel: str) -> None:
        self.files.add(safe_relpath(rel))

    def remove(self, rel: str) -> None:
        self.writer.remove(rel)
        self.removed.append(rel)

    def previous(self) -> dict[str, tuple[int, int, int]] | None:
        return self.known() if self.known is not None else tree_stats(self.out)

    def commit(self) -> WriteStats:
        """Nothing to swap: every file went in place as it was written."""
        return WriteStats(len(self.files), self.changed, len(self.removed))


@dataclass
class Standby:
    """What the standby tree lacks to be the output folder as it is: the files the last
    build changed and removed. `unknown` is called before it is touched, to record (in
    the build cache) that its state is not known until the swap."""

    changed: list[str]
    removed: list[str]
    unknown: Callable[[], None]


class OutputFolder:
    """A new version of the output folder, assembled beside it and swapped in whole.

    With a `standby` whose state is known, the tree kept from before the last swap is
    brought up to date in place; without one, a fresh tree is assembled (a link to the
    previous file for every file that did not change).
    """

    def __init__(self, out: Path, standby: Standby | None = None,
                 unknown: Callable[[], None] | None = None) -> None:
        self.out = out.absolute()
        self.parent = self.out.parent
        self.lock_path = self.parent / f".{self.out.name}.lock"
        self.standby_path = self.parent / f".{self.out.name}.standby"
        self.tmp = self.parent / f".{self.out.name}.tmp-{os.getpid()}"
        self.standby = standby
        # Called before anything beside the output folder changes: the record of what the
        # standby holds is wrong from then until the build's state is stored.
        self.unknown = unknown or (standby.unknown if standby is not None else None)
        self.files: set[str] = set()
        self.changed = 0
        self.removed: list[str] = []
        self._lock_fd = -1
        self.writer = FileWriter(self.tmp, self.out)
        self.stats: dict[str, tuple[int, int, int]] | None = None  # of the previous build

    @property
    def in_place(self) -> bool:
        return self.writer.in_place

    def __enter__(self) -> OutputFolder:
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _error(self.out, f"cannot create output folder: {exc.strerror}") from None
        try:
            self._lock_fd = os.open(self.lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as exc:
            raise _error(self.out, f"cannot write beside the output folder: "
                         f"{exc.strerror}") from None
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock_fd)
            raise _error(self.out, "another build is writing this output folder") from None
        self._remove_leftovers()
        if self.out.is_dir() and any(self.out.iterdir()) and not (self.out / MARKER).exists():
            self._unlock()
            raise _error(self.out, "folder exists and was not made by dossier build; "
                         "choose another --out or empty it first")
        try:
            if self.standby is not None and self.out.is_dir() \
                    and (self.standby_path / MARKER).is_file():
                self._bring_up_to_date(self.standby)
            else:
                self._fresh()
        except OSError as exc:
            self._unlock()
            raise _error(self.out,
                         f"cannot write beside the output folder: {exc.strerror}") from None
        return self

    def _fresh(self) -> None:
        self.tmp.mkdir()
        if (self.out / MARKER).is_file():
            os.link(self.out / MARKER, self.tmp / MARKER)
        else:
            (self.tmp / MARKER).write_bytes(b"")

    def _bring_up_to_date(self, standby: Standby) -> None:
        """The standby holds the site as it was before the last build: apply what that
        build changed, so that it equals the output folder."""
        standby.unknown()
        self.writer = FileWriter(self.standby_path, self.out, in_place=True)
        for rel in standby.changed:
            if (self.out / rel).is_file():
                self.writer._folder_for(safe_relpath(rel))
                self.writer._link(self.out / rel, self.standby_path / rel)
        for rel in standby.removed:
            self.writer.remove(rel)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.tmp.exists():
            shutil.rmtree(self.tmp, ignore_errors=True)
        self._unlock()

    def _unlock(self) -> None:
        if self._lock_fd >= 0:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = -1

    def _remove_leftovers(self) -> None:
        """Temporary folders of builds that were killed (we hold the lock, so none is live)."""
        for entry in self.parent.glob(f".{self.out.name}.tmp-*"):
            shutil.rmtree(entry, ignore_errors=True)
        for entry in self.parent.glob(f".{self.out.name}.old-*"):
            shutil.rmtree(entry, ignore_errors=True)

    def write(self, rel: str, data: bytes) -> None:
        """Add one file; reuse the previous build's file when the bytes are the same."""
        self.record(rel, self.writer.put(rel, data))

    def record(self, rel: str, changed: bool) -> None:
        """Count a file that was written through `writer` (perhaps by another process)."""
        rel = safe_relpath(rel)
        if rel in self.files:
            raise ValueError(f"two outputs would be written to {rel}")
        self.files.add(rel)
        self.changed += changed

    def reuse(self, rel: str) -> None:
        """Take over the previous build's file without reading it."""
        self.writer.reuse(rel)
        if rel in self.files:
            raise ValueError(f"two outputs would be written to {rel}")
        self.files.add(rel)  # a name of the previous build's: checked when it was written

    def remove(self, rel: str) -> None:
        """A file of the previous build that this one does not have."""
        self.writer.remove(rel)
        self.removed.append(rel)

    def previous(self) -> dict[str, tuple[int, int, int]] | None:
        """Size, mtime and inode of every file of the previous build (None if there is none)."""
        if self.stats is None and self.out.is_dir():
            self.stats = tree_stats(self.out)
            self.stats.pop(MARKER, None)
        return self.stats

    def same_as_before(self, rel: str, data: bytes) -> bool:
        return _same_bytes(self.out / safe_relpath(rel), data)

    def read(self, rel: str) -> str | None:
        """A file already written to the new folder, as text (None if it is not there)."""
        try:
            return (self.writer.tmp / safe_relpath(rel)).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def commit(self, old_files: set[str] | None = None) -> WriteStats:
        """Swap the new tree in; the previous one stays beside it as the standby."""
        tree = self.writer.tmp
        if self.in_place:
            removed = len(self.removed)
        else:
            if old_files is None:
                old_files = set(self.previous() or {})
            removed = len(old_files - self.files)
        if not self.in_place and self.unknown is not None:
            self.unknown()  # the standby is about to be replaced
        try:
            if self.out.exists() and not self.out.is_dir():
                raise _error(self.out, "output path exists and is not a folder")
            if not self.in_place and self.standby_path.exists():
                shutil.rmtree(self.standby_path)  # of unknown state: replaced by the old site
            if self.out.is_dir() and _exchange(tree, self.out):
                if not self.in_place:
                    os.rename(tree, self.standby_path)
            elif self.out.is_dir():
                old = self.parent / f".{self.out.name}.old-{os.getpid()}"
                os.rename(self.out, old)
                os.rename(tree, self.out)
                os.rename(old, self.standby_path)
            else:
                os.rename(tree, self.out)
        except OSError as exc:
            raise _error(self.out, _explain(exc)) from None
        return WriteStats(len(self.files), self.changed, removed)


def tree_stats(root: Path) -> dict[str, tuple[int, int, int]]:
    """Size, mtime and inode of every file under `root`, by relative path ('/'-separated).

    Symbolic links are listed as themselves, never followed.
    """
    found: dict[str, tuple[int, int, int]] = {}
    folders = [(str(root), "")]
    while folders:
        folder, prefix = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders.append((entry.path, f"{prefix}{entry.name}/"))
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            found[prefix + entry.name] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return found


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two folders (Linux renameat2); False where that is not available."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _explain(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "disk is full; the previous build was left as it was"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"no permission to write ({exc.strerror}); the previous build was left as it was"
    return f"cannot write output: {exc.strerror}"
