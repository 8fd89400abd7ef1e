"""Files in an output tree: written through a writer that keeps the previous build's copy
(by hard link, mtime and all) when the bytes did not change, streamed, compared, listed.

The trees themselves, the lock and the swap are output.py's.
"""

from __future__ import annotations

import errno
import os
import posixpath
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from dossier.core.diagnostics import Diagnostic, DossierError


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

    def folder_for(self, rel: str) -> None:
        """Make the folder of `rel` in the new tree (once per folder)."""
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
            self.folder_for(rel)
            if same_bytes(previous, data):
                self.link(previous, target)
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
            raise write_error(self.out, explain(exc)) from None
        return True

    def link(self, previous: Path, target: Path) -> None:
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
            self.folder_for(rel)
            if self.in_place:  # never into a file the site shares by hard link
                partial = target.with_name(f".{target.name}.part-{os.getpid()}")
                return Stream(open(partial, "wb"), self.out / rel, self.out, target)
            return Stream(open(target, "wb"), self.out / rel, self.out)
        except OSError as exc:
            raise write_error(self.out, explain(exc)) from None

    def reuse(self, rel: str) -> None:
        """Take the previous build's file as it is (its inputs did not change); the
        standby has it already."""
        rel = safe_relpath(rel)
        if self.in_place:
            return
        try:
            self.folder_for(rel)
            _link_or_copy(os.path.join(self.out, rel), os.path.join(self.tmp, rel))
        except OSError as exc:
            raise write_error(self.out, explain(exc)) from None

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
            raise write_error(self.out, explain(exc)) from None
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
                raise write_error(self.out, explain(exc)) from None

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if self.handle is None:
            return
        try:
            self.handle.close()
        except OSError as exc:
            if kind is None:
                raise write_error(self.out, explain(exc)) from None
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
            raise write_error(self.out, explain(exc)) from None


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


def same_bytes(path: Path, data: bytes) -> bool:
    """Whether the file at `path` holds exactly `data`."""
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def write_error(out: Path, message: str) -> DossierError:
    """A diagnostic about the output folder, raised as the build's error."""
    return DossierError([Diagnostic(str(out), 1, 1, "error", "", message)])


def explain(exc: OSError) -> str:
    """Why a write failed, in the words of a diagnostic."""
    if exc.errno == errno.ENOSPC:
        return "disk is full; the previous build was left as it was"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"no permission to write ({exc.strerror}); the previous build was left as it was"
    return f"cannot write output: {exc.strerror}"
