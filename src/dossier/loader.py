"""Load stage: read content files into documents (front matter + body, with positions)."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dossier.diagnostics import Diagnostic, DossierError
from dossier.yamltree import Tree, parse

RECORD_SUFFIXES = (".md", ".yml", ".yaml")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_FILE_BYTES = 10 * 1024 * 1024  # one record; a larger file is almost surely a mistake


@dataclass(frozen=True)
class Document:
    """One content file: its collection, slug, front matter tree and Markdown body."""

    collection: str
    slug: str
    path: str  # relative to the site folder, with forward slashes
    tree: Tree
    body: str
    body_line: int  # line number of the body's first line in the file
    digest: str = ""  # hash of the file's bytes: what incremental builds compare
    # Per-document validation result from the build cache (None: validate it now).
    verdict: tuple[Diagnostic, ...] | None = None


def read_text(file: Path, rel_path: str) -> str:
    """Read a file as UTF-8 (a BOM is allowed); CRLF and CR become LF."""
    return decode(read_bytes(file, rel_path), rel_path)


def read_bytes(file: Path, rel_path: str) -> bytes:
    """The bytes of one content file, refusing files over the size limit."""
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DossierError([Diagnostic(
                rel_path, 1, 1, "error", "",
                f"file has {size:,} bytes; a record may have at most {MAX_FILE_BYTES:,} "
                f"bytes ({MAX_FILE_BYTES // 1_048_576} MB)")])
        return file.read_bytes()
    except OSError as exc:
        raise DossierError(
            [Diagnostic(rel_path, 1, 1, "error", "", f"cannot read file: {exc.strerror}")]
        ) from None


def decode(data: bytes, rel_path: str) -> str:
    """UTF-8 text with LF line ends, or a diagnostic pointing at the first bad byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DossierError([Diagnostic(
            rel_path, line, col, "error", "",
            f"file is not UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8")]) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise DossierError([Diagnostic(
            rel_path, line, 1, "error", "", "file contains NUL bytes; is it a text file?")])
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str, rel_path: str) -> tuple[str, str, int]:
    """Split `---` front matter from the body; return (yaml, body, body's first line)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        raise DossierError([Diagnostic(
            rel_path, 1, 1, "error", "",
            "a record starts with a line '---', then its fields, then another '---'")])
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1:]), i + 2
    raise DossierError([Diagnostic(
        rel_path, 1, 1, "error", "",
        "front matter is not closed: add a line '---' after the last field")])


def load_document(file: Path, rel_path: str, collection: str) -> Document:
    """Read one record file into a Document."""
    data = read_bytes(file, rel_path)
    text = decode(data, rel_path)
    if file.suffix == ".md":
        front, body, body_line = split_front_matter(text, rel_path)
        tree = parse(front, rel_path, line_offset=1)
    else:
        tree, body, body_line = parse(text, rel_path), "", 0
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    return Document(collection, file.stem, rel_path, tree, body, body_line, digest)


class DocumentCache(Protocol):
    """Documents from an earlier run, valid while their file is unchanged."""

    def get(self, rel: str, stat: os.stat_result) -> Document | None: ...


def is_ignored(name: str) -> bool:
    """Hidden files, editor backups and OS litter are not content."""
    return (name.startswith((".", "#", "~")) or name.endswith(("~", ".swp", ".bak", ".tmp"))
            or name in ("Thumbs.db", "desktop.ini"))


def slug_problem(stem: str) -> str:
    """Why a file name is not a valid slug, or '' when it is."""
    return "" if SLUG_RE.match(stem) else "file name must be lowercase letters, digits and '-'"


_TRANSLITERATE = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
                                "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d"})


def slugify(text: str) -> str:
    """A URL-safe, lowercase ASCII slug for any text."""
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    text = text.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def collection_files(content: Path, collection: str) -> Iterable[tuple[Path, str]]:
    """Record files of one collection, sorted, with their site-relative paths."""
    folder = content / collection
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if is_ignored(entry.name):
            continue
        found.append((Path(entry.path), f"content/{collection}/{entry.name}"))
    return found


def load_documents(
    site_dir: Path, collections: Iterable[str], problems: list[Diagnostic],
    cache: DocumentCache | None = None,
) -> tuple[list[Document], set[tuple[str, str]]]:
    """Load every readable record; add what is wrong to `problems`.

    Also returns the (collection, slug) of records that exist but could not be read, so
    references to them are not reported a second time as dangling.
    """
    documents: list[Document] = []
    unreadable: set[tuple[str, str]] = set()
    content = site_dir / "content"
    for collection in collections:
        for file, rel in collection_files(content, collection):
            problem = _file_problem(file, rel, content)
            if problem:
                problems.append(problem)
                continue
            if file.suffix not in RECORD_SUFFIXES:
                continue
            if reason := slug_problem(file.stem):
                problems.append(Diagnostic(
                    rel, 1, 1, "error", "", reason,
                    f"'{slugify(file.stem)}{file.suffix}'" if slugify(file.stem) else ""))
                continue
            try:
                cached = cache.get(rel, file.stat()) if cache is not None else None
                documents.append(cached or load_document(file, rel, collection))
            except OSError as exc:
                problems.append(Diagnostic(rel, 1, 1, "error", "",
                                           f"cannot read file: {exc.strerror}"))
            except DossierError as exc:
                problems.extend(exc.diagnostics)
                unreadable.add((collection, file.stem))
    return documents, unreadable


def _file_problem(file: Path, rel: str, content: Path) -> Diagnostic | None:
    """A symlink out of the content folder or a subfolder is reported, not followed."""
    if file.is_symlink():
        target = file.resolve()
        if not target.is_relative_to(content.resolve()):
            return Diagnostic(rel, 1, 1, "error", "",
                              "symbolic link points outside the content folder; it is not read")
    if file.is_dir():
        return Diagnostic(rel, 1, 1, "warning", "",
                          "subfolders are not read; move its records up one level")
    return None

