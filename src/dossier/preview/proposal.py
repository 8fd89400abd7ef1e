"""A save from the web editor, checked as `dossier check` checks the site and only then
written, atomically.

The site as it would be after the save is made beside it, in the preview's own folder: a
copy of content/ and templates/ (hard links where the disk allows, so it costs a link per
file, not the files' bytes), with the save applied. That copy goes through the same
pipeline as `dossier check` (load, validate, link, render, link check), so a save is
refused for exactly what would stop a build: a missing required field, an unknown term, a
reference to no record, an image without alternative text, a link to nowhere. Errors the
site already had before the save are not held against it, so a broken site can still be
mended from the editor.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from dossier.build import BuildOptions, check
from dossier.core.diagnostics import Diagnostic, DossierError

# What a save is: per site-relative path the file's new bytes, or None to remove it.
Changes = Mapping[str, bytes | None]


def new_errors(site_dir: Path, options: BuildOptions, changes: Changes,
               scratch: Path) -> list[Diagnostic]:
    """What would stop a build of the site after `changes` and does not stop it now."""
    after = _errors(site_dir, options, changes, scratch)
    if not after:
        return []
    before = {_key(d) for d in _errors(site_dir, options, {}, scratch)}
    return [d for d in after if _key(d) not in before]


def _key(d: Diagnostic) -> tuple[str, str, str]:
    return d.path, d.field, d.text


def _errors(site_dir: Path, options: BuildOptions, changes: Changes,
            scratch: Path) -> list[Diagnostic]:
    # One process, no search index, no cache, nothing written: a check. Worker
    # processes are not forked from the server's threads.
    options = dataclasses.replace(options, out=None, jobs=1, cache=False, search=False,
                                  admin_local=False)
    with _shadow(site_dir, scratch) as shadow:
        write_changes(shadow, changes)
        try:
            result = check(shadow, options)
        except DossierError as exc:
            return [d for d in exc.diagnostics if d.is_error or options.strict]
    return [d for d in result.warnings if options.strict]


@contextlib.contextmanager
def _shadow(site_dir: Path, scratch: Path) -> Iterator[Path]:
    """A copy of the site's content and templates, removed afterwards."""
    scratch.mkdir(parents=True, exist_ok=True)
    shadow = Path(tempfile.mkdtemp(prefix="save-", dir=scratch))
    try:
        for part in ("content", "templates"):
            if (site_dir / part).is_dir():
                shutil.copytree(site_dir / part, shadow / part, symlinks=True,
                                copy_function=_link)
        yield shadow
    finally:
        shutil.rmtree(shadow, ignore_errors=True)


def _link(source: str, target: str) -> None:
    """A hard link where the disk allows it, else a copy."""
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target)


def write_changes(site_dir: Path, changes: Changes) -> None:
    """Apply a save: every file written atomically (a temporary file beside it, then
    renamed over it), removed files removed, and a record's folder once it is empty."""
    for rel, data in sorted(changes.items(), key=lambda c: c[1] is None):
        target = site_dir / rel
        if data is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            with contextlib.suppress(OSError):  # only when empty, and never content/<c>
                if len(rel.split("/")) == 4:
                    target.parent.rmdir()
        else:
            write_atomically(target, data)


def write_atomically(target: Path, data: bytes) -> None:
    """Write a file so that a reader sees the old bytes or the new, never a part."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
