"""Load stage: read content files into documents (front matter + body, with positions)."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dossier.core.diagnostics import Diagnostic, DossierError
from dossier.core.yamltree import Tree, parse

RECORD_SUFFIXES = (".md", ".yml", ".yaml")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Explicit limits (see docs/security.md, Limits): beyond them a diagnostic, never a hang or a crash.
# Real records are a few KB; Python-Markdown slows down more than linearly on some texts
# (many links in one paragraph, thousands of footnotes), so a record is kept small.
MAX_FILE_BYTES = 256 * 1024  # one record file
MAX_RECORDS = 200_000  # record files in one collection folder
MAX_CONTENT_BYTES = 1024 * 1024 * 1024  # all record files together (held in memory)


@dataclass(frozen=True)
class Document:
    """One content file: its collection, slug, front matter tree and Markdown body."""

    collection: str
    slug: str
    path: str  # relative to the site folder, with forward slashes
    tree: Tree
    body: str | bytes  # the Markdown body; bytes: compressed (pack_text), once checked
    body_line: int  # line number of the body's first line in the file
    digest: str = ""  # hash of the file's bytes: what incremental builds compare
    # Per-document validation result from the build cache (None: validate it now).
    verdict: tuple[Diagnostic, ...] | None = None


# A body longer than this is kept compressed once it is checked: bodies are most of what a
# loaded site holds (about a third at 10,000 projects), and each is read a few times per
# build, which costs less than holding it whole.
_PACK_ABOVE = 1024


def pack_text(text: str | bytes) -> str | bytes:
    """A body as it is kept: compressed when it is long (bytes stay as they are)."""
    if isinstance(text, bytes) or len(text) <= _PACK_ABOVE:
        return text
    return zlib.compress(text.encode("utf-8", "surrogatepass"), 1)


def unpack_text(kept: str | bytes) -> str:
    """A body as kept, as text. At most a record file's size comes out: a compressed body
    from the build cache (a file anyone who can add files to the site can plant) cannot
    inflate into more."""
    if isinstance(kept, str):
        return kept
    inflate = zlib.decompressobj()
    data = inflate.decompress(kept, MAX_FILE_BYTES * 4)
    if inflate.unconsumed_tail or not inflate.eof:
        raise ValueError("a kept body is damaged or too large")
    return data.decode("utf-8", "surrogatepass")


def read_text(file: Path, rel_path: str) -> str:
    """Read a file as UTF-8 (a BOM is allowed); CRLF and CR become LF."""
    return decode(read_bytes(file, rel_path), rel_path)


def read_bytes(file: Path, rel_path: str) -> bytes:
    """The bytes of one content file, refusing files over the size limit.

    Reads at most one byte more than the limit, whatever the file claims its size is.
    """
    try:
        with open(file, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
            size = max(os.fstat(handle.fileno()).st_size, len(data))
    except OSError as exc:
        raise DossierError(
            [Diagnostic(rel_path, 1, 1, "error", "", f"cannot read file: {exc.strerror}")]
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise DossierError([Diagnostic(
            rel_path, 1, 1, "error", "",
            f"file has {size:,} bytes; a record may have at most {MAX_FILE_BYTES:,} "
            f"bytes ({MAX_FILE_BYTES // 1024} KB)")])
    return data


def decode(data: bytes, rel_path: str) -> str:
    """UTF-8 text with LF line ends, or a diagnostic pointing at the first bad byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DossierError([Diagnostic(
            rel_path, 1, 1, "error", "",
            "file is saved as UTF-16 (it starts with a UTF-16 byte order mark); "
            "save it as UTF-8")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start]
        guess = bytes([byte]).decode("cp1252", "replace")
        hint = f", '{guess}' in Windows-1252 or Latin-1" if guess.isprintable() else ""
        raise DossierError([Diagnostic(
            rel_path, line, col, "error", "",
            f"file is not UTF-8 (byte 0x{byte:02x}{hint}); save it as UTF-8")]) from None
    if "\x00" in text:
        at = text.index("\x00")
        line = text.count("\n", 0, at) + 1
        col = at - (text.rfind("\n", 0, at) + 1) + 1
        raise DossierError([Diagnostic(
            rel_path, line, col, "error", "", "file contains NUL bytes; is it a text file?")])
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
    if not text.strip():
        raise DossierError([Diagnostic(rel_path, 1, 1, "error", "",
                                       "file is empty; fill it in or remove it")])
    if file.suffix == ".md":
        front, body, body_line = split_front_matter(text, rel_path)
        tree = parse(front, rel_path, line_offset=1)
    else:
        tree, body, body_line = parse(text, rel_path), "", 0
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    return Document(collection, record_slug(rel_path), rel_path, tree, body, body_line, digest)


def record_slug(rel: str) -> str:
    """The slug of a record file: its name, or its folder's for a bundle's index.md."""
    parts = rel.split("/")
    stem = os.path.splitext(parts[-1])[0]
    return parts[-2] if len(parts) == 4 and stem == "index" and parts[-1] != stem else stem


def is_bundle(rel: str) -> bool:
    """Whether a record file is the index.md (or .yml) of a folder with its files."""
    return len(rel.split("/")) == 4


class DocumentCache(Protocol):
    """Documents from an earlier run, valid while their file is unchanged."""

    def get_many(self, wanted: dict[str, os.stat_result]) -> dict[str, Document]: ...


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


def collection_files(content: Path, collection: str,
                     problems: list[Diagnostic]) -> list[tuple[Path, str]]:
    """Record files of one collection, sorted, with their site-relative paths.

    Everything else in the folder is skipped without being opened; what is odd about it
    (a link out of the content folder, a subfolder, a name that is not a slug, two names
    for one slug) is added to `problems`.
    """
    folder = content / collection
    rel_folder = f"content/{collection}"
    if folder.is_symlink() and not _inside(folder, content):
        problems.append(Diagnostic(rel_folder, 1, 1, "error", "", _OUTSIDE))
        return []
    if not folder.is_dir():
        return []
    with os.scandir(folder) as entries:
        names = sorted((e for e in entries if not is_ignored(e.name)), key=lambda e: e.name)
    found: list[tuple[Path, str]] = []
    for entry in names:
        rel = f"{rel_folder}/{entry.name}"
        if entry.is_dir() and (not entry.is_symlink() or _inside(Path(entry.path), content)):
            index = _bundle_index(entry, rel, content, problems)
            if index is not None:
                found.append(index)
        elif not entry.name.endswith(RECORD_SUFFIXES):
            problems.extend(_other_file_problem(entry, rel, content))
        elif problem := _entry_problem(entry, rel, content):
            problems.append(problem)
        else:
            found.append((Path(entry.path), rel))
    if len(found) > MAX_RECORDS:
        raise DossierError([Diagnostic(
            rel_folder, 1, 1, "error", "",
            f"folder has {len(found):,} record files; a collection may have at most "
            f"{MAX_RECORDS:,} (none was read)")])
    return _valid_names(found, problems)


def _bundle_index(entry: os.DirEntry[str], rel: str, content: Path,
                  problems: list[Diagnostic]) -> tuple[Path, str] | None:
    """A folder with an index.md (or .yml) is one record with its files: a page bundle.

    A folder without one is skipped: a warning if it holds record files (or nothing),
    silently if it only holds other files (images, documents that records refer to).
    """
    indexes = [f"index{suffix}" for suffix in RECORD_SUFFIXES
               if os.path.lexists(os.path.join(entry.path, f"index{suffix}"))]
    if len(indexes) > 1:
        problems.append(Diagnostic(f"{rel}/{indexes[1]}", 1, 1, "error", "",
                                   f"a folder holds one record, and {indexes[0]} is it; "
                                   "keep one of the two"))
    if indexes:
        index = Path(entry.path, indexes[0])
        if index.is_symlink() and not _inside(index, content):
            problems.append(Diagnostic(f"{rel}/{indexes[0]}", 1, 1, "error", "", _OUTSIDE))
            return None
        return index, f"{rel}/{indexes[0]}"
    try:
        with os.scandir(entry.path) as inside:
            names = [e.name for e in inside if not is_ignored(e.name)]
    except OSError:
        names = []
    if not names or any(n.endswith(RECORD_SUFFIXES) for n in names):
        problems.append(Diagnostic(rel, 1, 1, "warning", "", _SUBFOLDER))
    return None


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def links_leaving(folder: Path, rel_folder: str) -> list[Diagnostic]:
    """Symbolic links under `folder` that point outside it: they are errors, not followed.

    A template or static file linked to, say, /proc/self/environ would publish the
    secrets of the machine that builds the site.
    """
    found = []
    for root, dirs, files in os.walk(folder):
        for name in sorted(dirs + files):
            path = Path(root, name)
            if path.is_symlink() and not _inside(path, folder):
                rel = f"{rel_folder}/{path.relative_to(folder).as_posix()}"
                found.append(Diagnostic(rel, 1, 1, "error", "",
                                        f"symbolic link points outside {rel_folder}/; "
                                        "it is not read"))
    return found


_OUTSIDE = "symbolic link points outside the content folder; it is not read"
_SUBFOLDER = ("subfolders are not read unless they hold an index.md (a record with its "
              "files); move its records up one level")


def _entry_problem(entry: os.DirEntry[str], rel: str, content: Path) -> Diagnostic | None:
    """A symlink out of the content folder, a subfolder or a device is not read."""
    if entry.is_symlink() and not _inside(Path(entry.path), content):
        return Diagnostic(rel, 1, 1, "error", "", _OUTSIDE)
    if entry.is_dir():
        return Diagnostic(rel, 1, 1, "warning", "", _SUBFOLDER)
    if not entry.is_file():
        return Diagnostic(rel, 1, 1, "error", "", "not a regular file; it is not read")
    return None


def _other_file_problem(entry: os.DirEntry[str], rel: str,
                        content: Path) -> Iterable[Diagnostic]:
    """Other files are skipped unopened; a record saved with an odd suffix is named."""
    suffix = os.path.splitext(entry.name)[1]
    if suffix.lower() in (*RECORD_SUFFIXES, ".markdown"):
        yield Diagnostic(rel, 1, 1, "warning", "",
                         f"not read: record files end in .md, .yml or .yaml, not {suffix}")
    elif entry.is_symlink() and not _inside(Path(entry.path), content):
        yield Diagnostic(rel, 1, 1, "error", "", _OUTSIDE)
    elif entry.is_dir():
        yield Diagnostic(rel, 1, 1, "warning", "", _SUBFOLDER)


def _valid_names(files: list[tuple[Path, str]],
                 problems: list[Diagnostic]) -> list[tuple[Path, str]]:
    """Files whose names are slugs; two names for one slug (capitals, Unicode) are an error.

    On a case-sensitive disk `Project.md` and `project.md` can both exist, and so can the
    two Unicode spellings of `café.md` (é as one character, or as e and an accent).
    """
    first: dict[str, str] = {}
    for _, rel in sorted(files, key=lambda f: (bool(slug_problem(record_slug(f[1]))), f[1])):
        first.setdefault(_folded(record_slug(rel)), rel)
    valid = []
    for file, rel in files:
        stem, other = record_slug(rel), first[_folded(record_slug(rel))]
        if other != rel and record_slug(other) != stem:
            how = ("capitals" if unicodedata.normalize("NFC", stem)
                   != unicodedata.normalize("NFC", record_slug(other)) else "how its accents "
                   "are encoded (Unicode NFC or NFD)")
            problems.append(Diagnostic(
                rel, 1, 1, "error", "",
                f"duplicate slug '{slugify(stem) or stem}': {other} has the same name apart "
                f"from {how}; keep one of the two files"))
        elif reason := slug_problem(stem):
            suggestion = slugify(stem)
            tail = "/" if is_bundle(rel) else file.suffix
            if is_bundle(rel):
                reason = reason.replace("file name", "folder name")
            problems.append(Diagnostic(rel, 1, 1, "error", "", reason,
                                       f"'{suggestion}{tail}'" if suggestion else ""))
        else:
            valid.append((file, rel))
    return valid


def _folded(stem: str) -> str:
    return unicodedata.normalize("NFC", stem).casefold()


_BATCH = 500  # documents asked of the cache at once


def load_documents(
    site_dir: Path, collections: Iterable[str], problems: list[Diagnostic],
    cache: DocumentCache | None = None,
    settle: Callable[[Document], Document] | None = None,
) -> tuple[list[Document], set[tuple[str, str]]]:
    """Load every readable record; add what is wrong to `problems`.

    Also returns the (collection, slug) of records that exist but could not be read, so
    references to them are not reported a second time as dangling. `settle` is applied to
    each document as soon as it is loaded (see records.Settler).
    """
    documents: list[Document] = []
    unreadable: set[tuple[str, str]] = set()
    content = site_dir / "content"
    files = [(collection, file, rel) for collection in collections
             for file, rel in collection_files(content, collection, problems)]
    stats = _sizes(files, problems)
    cached: dict[str, Document] = {}
    for at, (collection, file, rel) in enumerate(files):
        stat = stats.get(rel)
        if stat is None:
            unreadable.add((collection, record_slug(rel)))
            continue
        if cache is not None and at % _BATCH == 0:  # one query per batch of files
            cached = cache.get_many({r: stats[r] for _, _, r in files[at:at + _BATCH]
                                     if r in stats})
        try:
            document = cached.pop(rel, None) or load_document(file, rel, collection)
            documents.append(settle(document) if settle is not None else document)
        except DossierError as exc:
            problems.extend(exc.diagnostics)
            unreadable.add((collection, record_slug(rel)))
    return documents, unreadable


def _sizes(files: list[tuple[str, Path, str]],
           problems: list[Diagnostic]) -> dict[str, os.stat_result]:
    """The stat of every record file; all of them together must fit the content limit."""
    stats: dict[str, os.stat_result] = {}
    for _, file, rel in files:
        try:
            stats[rel] = file.stat()
        except OSError as exc:
            problems.append(Diagnostic(rel, 1, 1, "error", "",
                                       f"cannot read file: {exc.strerror}"))
    total = sum(st.st_size for st in stats.values())
    if total > MAX_CONTENT_BYTES:
        raise DossierError([Diagnostic(
            "content", 1, 1, "error", "",
            f"the record files have {total:,} bytes together; a site may have at most "
            f"{MAX_CONTENT_BYTES:,} bytes ({MAX_CONTENT_BYTES // 1_048_576} MB) of records")])
    return stats
