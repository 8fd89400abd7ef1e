"""Templates compiled once, kept for the next process: Jinja's bytecode cache.

Jinja turns each template into Python code before it renders it: lexing, parsing, code
generation and Python's own compile, about 13 ms a template (0.34 s for the theme's 26 on
this project's 2-core machine). A full build pays that once per worker; a build after an
edit, which renders two pages, pays it for the 11 templates those pages use: half of
rendering them, a fifth of such a build at 1,000 projects under cProfile. So the
compiled code is kept in the process (`dossier serve` builds again and again) and, with
the build cache, on disk in `.dossier-cache/templates-ID/`, one file per template, ID a
hash of what shapes the code Jinja makes (its version and the environment's settings).

A file there is Python code (marshal). The build cache is otherwise plain data, because
anyone who can propose a change to a site (a pull request) can also add files to its
`.dossier-cache/`; so a compiled template is loaded only if it carries a mark that only a
build on this machine sets: an extended attribute (`user.dossier.compiled`) holding the
hash of the file's bytes. Git, patches and archives (unless asked to) do not carry
extended attributes, so a file that came with a change has no mark and is compiled anew
and written over. Where the file system keeps no extended attributes (or the platform has
no os.setxattr), nothing is kept on disk and each process compiles, as before.

Jinja itself checks that a kept template was compiled from the same source (a hash of the
source in the file), and from the same Jinja and Python (a header): an edited template
is compiled again.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import jinja2
import jinja2.bccache

MARK = "user.dossier.compiled"
_PREFIX = "templates-"


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates by Jinja's key: in `memory` (shared by the environments of one
    process), and in the build cache's folder (marked files, see the module) when one is
    given."""

    def __init__(self, memory: dict[str, bytes], env: jinja2.Environment,
                 cache_folder: Path | None = None) -> None:
        self.memory = memory
        self.env, self.cache_folder = env, cache_folder
        self._folder: Path | None = None
        self._made = False

    @property
    def folder(self) -> Path | None:
        """The folder of this environment's compiled templates (its name is taken when a
        template is first loaded: by then every filter is registered)."""
        if self._folder is None and self.cache_folder is not None:
            self._folder = self.cache_folder / (_PREFIX + settings_key(self.env))
        return self._folder

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self.memory.get(bucket.key)
        if code is None and self.folder is not None:
            code = _read_marked(self.folder / bucket.key)
            if code is not None:
                self.memory[bucket.key] = code
        if code is not None:
            bucket.bytecode_from_string(code)  # Jinja resets it if the source changed

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = bucket.bytecode_to_string()
        self.memory[bucket.key] = code
        folder = self.folder
        if folder is not None:
            if not self._made:
                self._made = True
                _make_folder(folder)
            if not _write_marked(folder / bucket.key, code):
                self.cache_folder = self._folder = None  # no marks here: keep nothing


def settings_key(env: jinja2.Environment) -> str:
    """A hash of what shapes the code Jinja makes of a template: its version, the
    environment's syntax, whitespace, autoescape and extension settings, and its filters
    and tests with what each is passed (the code that calls them differs)."""

    def passed(functions: Mapping[str, object]) -> list[tuple[str, str]]:
        return sorted((name, str(getattr(f, "jinja_pass_arg", ""))) for name, f in
                      functions.items())

    shaping = (
        jinja2.__version__, env.block_start_string, env.block_end_string,
        env.variable_start_string, env.variable_end_string, env.comment_start_string,
        env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
        env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
        env.autoescape if isinstance(env.autoescape, bool) else "function",
        env.optimized, env.finalize is not None, env.is_async, sorted(env.extensions),
        passed(env.filters), passed(env.tests),
    )
    return hashlib.blake2b(repr(shaping).encode(), digest_size=8).hexdigest()


def _make_folder(folder: Path) -> None:
    """The folder, owner-only; the folders of other settings (an earlier Jinja or dossier)
    removed, so that the cache does not grow with each upgrade."""
    with contextlib.suppress(OSError):
        folder.mkdir(mode=0o700, exist_ok=True)
        for other in folder.parent.glob(_PREFIX + "*"):
            if other != folder and other.is_dir() and not other.is_symlink():
                shutil.rmtree(other, ignore_errors=True)


def _read_marked(path: Path) -> bytes | None:
    """The file's bytes if it carries the mark of this machine's builds, else None."""
    try:
        code = path.read_bytes()
        mark = os.getxattr(path, MARK, follow_symlinks=False)
    except (OSError, AttributeError):  # no file, no mark, or no xattrs on this platform
        return None
    return code if mark == _digest(code) else None


def _write_marked(path: Path, code: bytes) -> bool:
    """Write `code` with its mark, in one step (workers may write the same template at
    once); False if the mark cannot be set here."""
    if path.parent.is_symlink():  # a folder that came with a change: never written through
        return False
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except OSError:
        return True  # cannot write now (full, read-only): try again for the next template
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(code)
        os.setxattr(temporary, MARK, _digest(code))
        os.replace(temporary, path)
    except (OSError, AttributeError) as error:  # AttributeError: no os.setxattr
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return isinstance(error, OSError) and error.errno not in _NO_MARKS
    return True


_NO_MARKS = (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM)


def _digest(code: bytes) -> bytes:
    return hashlib.blake2b(code, digest_size=16).digest()
