"""Write stage: assemble the site in a tree of its own, then swap it in atomically.

Files whose bytes did not change are hard-linked from the previous build, so they keep
their mtime and `rsync`/CDNs upload only what changed. A failed or killed build leaves
the previous output as it was; its leftovers are removed by the next build.

The output folder is the only thing a build creates where the site is published: a web
server that serves the output's parent (and its dotted folders, as nginx and Apache do)
or an `rsync` of it must never find an old or a removed page there. Everything else a
build keeps lives in the output folder's *private* folder inside the site's build cache
(owner-only; see cache.py): the lock, the tree a build assembles and the standby tree.

Two trees take turns. After a swap, the tree that was the site stays in the private
folder as the *standby*, sharing its unchanged files by hard link. The next build brings
the standby up to date by writing only what changed (the files of the last build and of
this one), then swaps again: a build after one edit costs what the edit changed, not a
new tree of every file. A build that had no site to keep (the first) makes the standby as
a copy of its own site by hard links. Which state the standby holds is kept in the build
cache, and it is marked unknown before it is touched: a standby of unknown state is not
used (the build assembles a fresh tree, as a first one does).

A swap needs both trees on one filesystem (`renameat2(RENAME_EXCHANGE)` and `rename`
work across folders, not across filesystems or mounts). Where the build cache is on
another filesystem than the output, no standby is kept: each build assembles a fresh
tree beside the output folder (`.NAME.tmp-PID`, owner-only while it is not the site),
swaps it in and deletes the old tree at once. That transient folder is the one thing
that can exist beside the output folder, and only while a build runs (or until the next
build, when one is killed in the instant between its swap and the deletion).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from dossier.core.diagnostics import DossierError
from dossier.write.files import (
    FileWriter,
    NullWriter,
    explain,
    safe_relpath,
    same_bytes,
    tree_stats,
    write_error,
)

_RENAME_EXCHANGE = 2
MARKER = ".dossier-build"  # marks a folder as ours, so a build never replaces anything else


@dataclass(frozen=True)
class WriteStats:
    """How many files the output has, and how many were new or changed."""

    written: int
    changed: int
    removed: int
    # The standby was made as a copy (by hard links) of the new site: it lacks nothing.
    standby_whole: bool = False


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
        self.files.add(rel)  # a name of the previous build's: checked when it was written

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
    """A new version of the output folder, assembled apart from it and swapped in whole.

    `private` makes (owner-only) and names this output folder's private folder in the
    build cache, where the lock, the tree being assembled and the standby live. Without
    one, or where it cannot be made or is on another filesystem than the output, a fresh
    tree is assembled beside the output folder and no standby is kept; `notices` says why,
    in a line for the user. With a `standby` whose state is known, the tree kept from
    before the last swap is brought up to date in place; without one, a fresh tree is
    assembled (a link to the previous file for every file that did not change). `keep`:
    whether the previous site becomes the standby after the swap (not when the build
    cache is not used: what the standby then holds would not be recorded).
    """

    def __init__(self, out: Path, standby: Standby | None = None,
                 unknown: Callable[[], None] | None = None,
                 private: Callable[[], Path] | None = None, keep: bool = True) -> None:
        self.out = out.absolute()
        self.parent = self.out.parent
        self.make_private = private
        self.private: Path | None = None  # where the trees live, once it is known usable
        self.keep = keep
        self.notices: list[str] = []
        self.tmp = self._beside("tmp")  # moved into the private folder on entering
        self.standby = standby
        # Called before the standby changes: the record of what it holds is wrong from
        # then until the build's state is stored.
        self.unknown = unknown or (standby.unknown if standby is not None else None)
        self.files: set[str] = set()
        self.changed = 0
        self.removed: list[str] = []
        self._lock_fd = -1
        self.writer = FileWriter(self.tmp, self.out)
        self.stats: dict[str, tuple[int, int, int]] | None = None  # of the previous build
        # What gives them, when they are being read already (in another process, say).
        self.stats_later: Callable[[], dict[str, tuple[int, int, int]]] | None = None

    @property
    def in_place(self) -> bool:
        return self.writer.in_place

    @property
    def standby_path(self) -> Path | None:
        return self.private / "standby" if self.private is not None else None

    def _beside(self, kind: str) -> Path:
        return self.parent / f".{self.out.name}.{kind}-{os.getpid()}"

    def __enter__(self) -> OutputFolder:
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_error(self.out, f"cannot create output folder: {exc.strerror}") from None
        private = self._private()
        self._lock(private)
        try:
            self._remove_leftovers(private)
            if self.out.is_dir() and any(self.out.iterdir()) \
                    and not (self.out / MARKER).exists():
                raise write_error(self.out, "folder exists and was not made by dossier build; "
                             "choose another --out or empty it first")
            if private is not None and not _same_filesystem(private, self.parent):
                self.notices.append(
                    f"{self.out} is on another filesystem than the build cache "
                    f"({private.parent}): each build writes a whole new tree, no standby")
                _remove_tree(private / "standby")  # it could not be swapped in
                private = None
            self.private = private
            if private is not None:
                self.tmp = private / f"tmp-{os.getpid()}"
                self.writer = FileWriter(self.tmp, self.out)
            standby_path = self.standby_path
            if self.standby is not None and self.keep and standby_path is not None \
                    and self.out.is_dir() and (standby_path / MARKER).is_file():
                self._bring_up_to_date(self.standby, standby_path)
            else:
                self._fresh()
        except DossierError:
            self._unlock()
            raise
        except OSError as exc:
            self._unlock()
            raise write_error(self.out, f"cannot write the new site: {exc.strerror}") from None
        return self

    def _private(self) -> Path | None:
        if self.make_private is None:
            return None
        try:
            return self.make_private()
        except OSError as exc:
            self.notices.append(f"cannot use the build cache ({exc.strerror}): each build "
                                f"writes a whole new tree for {self.out}, no standby")
            return None

    def _lock(self, private: Path | None) -> None:
        """One build at a time per output folder. The lock is a file in the private folder
        (so it keeps apart the builds of one site; two sites that publish into one output
        folder at the same moment are not kept apart); without a private folder, the
        output's parent folder itself is locked (that creates nothing beside it)."""
        try:
            if private is not None:
                self._lock_fd = os.open(private / "lock", os.O_CREAT | os.O_RDWR, 0o600)
            else:
                self._lock_fd = os.open(self.parent, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise write_error(self.out, f"cannot lock the output folder: {exc.strerror}") from None
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock_fd)
            self._lock_fd = -1
            raise write_error(self.out, "another build is writing this output folder") from None
        # The lock file an older version of dossier left beside the output folder: while
        # it is held, a build of that version runs; else it goes.
        old = self.parent / f".{self.out.name}.lock"
        if not old.is_file() or old.is_symlink():
            return
        try:
            fd = os.open(old, os.O_RDWR)
        except OSError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._unlock()
            raise write_error(self.out, "another build is writing this output folder") from None
        else:
            with contextlib.suppress(OSError):
                old.unlink()
        finally:
            os.close(fd)

    def _fresh(self) -> None:
        # Beside the output folder the tree is owner-only until it is the site (commit).
        self.tmp.mkdir(mode=0o700 if self.private is None else 0o777)
        if (self.out / MARKER).is_file():
            os.link(self.out / MARKER, self.tmp / MARKER)
        else:
            (self.tmp / MARKER).write_bytes(b"")

    def _bring_up_to_date(self, standby: Standby, path: Path) -> None:
        """The standby holds the site as it was before the last build: apply what that
        build changed, so that it equals the output folder."""
        standby.unknown()
        self.writer = FileWriter(path, self.out, in_place=True)
        for rel in standby.changed:
            if (self.out / rel).is_file():
                self.writer.folder_for(safe_relpath(rel))
                self.writer.link(self.out / rel, path / rel)
        for rel in standby.removed:
            self.writer.remove(rel)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.tmp.exists():
            _remove_tree(self.tmp)
        self._unlock()

    def _unlock(self) -> None:
        if self._lock_fd >= 0:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = -1

    def _remove_leftovers(self, private: Path | None) -> None:
        """Trees of builds that were killed (we hold the lock, so none is live), and the
        standby an older version of dossier kept beside the output folder (it holds the
        site as it was, removed pages and all)."""
        prefixes = (f".{self.out.name}.tmp-", f".{self.out.name}.old-")
        found = [p for p in self.parent.iterdir() if p.name.startswith(prefixes)]
        legacy = self.parent / f".{self.out.name}.standby"
        if (legacy / MARKER).is_file():
            found.append(legacy)
        if private is not None:
            found += [p for p in private.iterdir() if p.name.startswith(("tmp-", "old-"))]
        for entry in found:
            _remove_tree(entry)

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
            later, self.stats_later = self.stats_later, None
            try:
                self.stats = later() if later is not None else None
            except (OSError, RuntimeError):  # the process that read them failed: read here
                self.stats = None
            if self.stats is None:
                self.stats = tree_stats(self.out)
                self.stats.pop(MARKER, None)
        return self.stats

    def same_as_before(self, rel: str, data: bytes) -> bool:
        return same_bytes(self.out / safe_relpath(rel), data)

    def read(self, rel: str) -> str | None:
        """A file already written to the new folder, as text (None if it is not there)."""
        try:
            return (self.writer.tmp / safe_relpath(rel)).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def commit(self, old_files: set[str] | None = None) -> WriteStats:
        """Swap the new tree in; the previous one becomes the standby, or is deleted."""
        tree = self.writer.tmp
        if self.in_place:
            removed = len(self.removed)
        else:
            if old_files is None:
                old_files = set(self.previous() or {})
            removed = len(old_files - self.files)
        if not self.in_place and self.unknown is not None:
            self.unknown()  # the standby is about to be replaced
        standby = self.standby_path
        try:
            if self.out.exists() and not self.out.is_dir():
                raise write_error(self.out, "output path exists and is not a folder")
            if not self.in_place and standby is not None and standby.exists():
                _remove_tree(standby)  # of unknown state: replaced by the old site
            if self.private is None:
                tree.chmod(_folder_mode(tree))  # readable as a new folder is, now
            old = self._swap(tree)
            if old is not None:
                if self.private is None:
                    old.chmod(0o700)  # beside the output folder: unreadable at once
                if self.keep and standby is not None:
                    if old != standby:
                        os.rename(old, standby)
                else:
                    _remove_tree(old)
        except OSError as exc:
            raise write_error(self.out, explain(exc)) from None
        whole = old is None and self.keep and standby is not None and self._link_standby(standby)
        return WriteStats(len(self.files), self.changed, removed, standby_whole=whole)

    def _link_standby(self, standby: Path) -> bool:
        """There was no site before this one (a first or a cold build), so no tree became
        the standby: make it now, the site by hard links, so that the next build brings a
        standby up to date rather than linking a whole new tree. A failure only costs the
        next build that; what is half made goes like a killed build's tree."""
        assert self.private is not None
        making = self.private / f"tmp-{os.getpid()}"
        try:
            _link_tree(self.out, making)
            os.rename(making, standby)
        except OSError:
            if making.exists():
                _remove_tree(making)
            return False
        return True

    def _swap(self, tree: Path) -> Path | None:
        """Put `tree` where the output folder is; return where the previous site is now
        (None: there was none). Both are on one filesystem: `tree` is in the private
        folder or beside the output folder (see the module)."""
        if not self.out.is_dir():
            os.rename(tree, self.out)
            return None
        if _exchange(tree, self.out):
            return tree
        # No atomic exchange here: two renames, with a moment without a site between them.
        old = self.private / f"old-{os.getpid()}" if self.private is not None \
            else self._beside("old")
        os.rename(self.out, old)
        os.rename(tree, self.out)
        return old


def _link_tree(source: Path, target: Path) -> None:
    """`target` a new tree of hard links to the files of `source` (a site, which holds
    only folders and files)."""
    target.mkdir()
    for folder, folders, files in os.walk(source):
        inside = os.path.join(target, os.path.relpath(folder, source))
        for name in folders:
            os.mkdir(os.path.join(inside, name))
        for name in files:
            os.link(os.path.join(folder, name), os.path.join(inside, name))


def _remove_tree(path: Path) -> None:
    """Delete a tree of ours, made owner-only first: nothing in it can be read from the
    moment deletion begins (a killed deletion leaves nothing readable either)."""
    if path.is_symlink() or not path.is_dir():
        return
    with contextlib.suppress(OSError):
        path.chmod(0o700)
    shutil.rmtree(path, ignore_errors=True)


def _folder_mode(inside: Path) -> int:
    """The permissions a new folder gets (the umask's), read from one made for it."""
    probe = inside / f".mode-{os.getpid()}"
    probe.mkdir()
    try:
        return stat.S_IMODE(probe.stat().st_mode)
    finally:
        probe.rmdir()


def _same_filesystem(a: Path, b: Path) -> bool:
    """Whether a folder in `a` can be renamed into `b` (a swap needs that)."""
    try:
        if a.stat().st_dev != b.stat().st_dev:
            return False
    except OSError:
        return False
    # Two mounts of one filesystem (a bind mount) share the device but refuse a rename
    # from one to the other. Renaming a name that does not exist tells them apart without
    # creating anything: Linux compares the mounts (EXDEV) before it looks the name up.
    probe = a / f".probe-{os.getpid()}"
    if os.path.lexists(probe):
        return True  # not a name that does not exist: trust the device
    try:
        os.rename(probe, b / probe.name)
    except OSError as exc:
        return exc.errno != errno.EXDEV
    os.rename(b / probe.name, probe)  # it did not exist a moment ago: put it back
    return True


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


