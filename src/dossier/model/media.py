"""Files beside records: which images and documents the records refer to, and where they go.

A record refers to a file in an `image` or `file` field (`bestand: foto.jpg`) or in its
Markdown (`![Wat erop staat](foto.jpg)`, `[Het rapport](rapport.pdf)`), always relative to
the record file. The file may lie anywhere inside `content/`: beside the record in its own
folder (a page bundle, `content/projecten/tussen-in/index.md` with its files, which move
with it when the folder is renamed) or in a shared folder (`../bestanden/rapport.pdf`).

This stage checks every reference (the file exists, lies inside `content/`, is of an
allowed kind by its content, is within the limits) and says where each file is published:
beside its bundle's page, or under its own folder's path, named by a slug of its name and
a short hash of its content (and, for images, of how they are made), so names are safe on
any web server and stable between builds. Nothing is written here; see outputs/publish.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from dossier.content.documents import RECORD_SUFFIXES, read_text, slugify, split_front_matter
from dossier.content.markup import MarkdownRenderer, Reported, locate
from dossier.content.records import Record
from dossier.content.schema import MEDIA_TYPES, Schema, iter_values
from dossier.core import deps
from dossier.core.diagnostics import Diagnostic, Severity, shorten, suggest
from dossier.core.urls import is_external
from dossier.core.yamltree import Path as TreePath
from dossier.core.yamltree import Tree, dotted, parse
from dossier.model.filekinds import (
    IMAGE_WARN_BYTES,
    KINDS,
    MAX_FILE_BYTES,
    Kind,
    Refused,
    sniff,
)
from dossier.model.variants import Header, Variant, image_key, plan_variants, probe

_WINDOWS_PATH = ("\\", ":\\", ":/")
# Where Markdown may name a file: an inline link or image, or a reference definition. Texts
# with no such target that could be a file are not converted (most link only to records).
_INLINE = re.compile(r"\]\(\s*<?([^)\s>]+)")  # [text](target), ![alt](target)
_DEFINITION = re.compile(r"^[ ]{0,3}\[[^\]]+\]:\s*<?([^\s>]+)", re.M)  # [label]: target


@dataclass(frozen=True)
class MediaFile:
    """One file that records refer to, and where it is published."""

    source: str  # site-relative path, content/…
    kind: Kind
    size: int
    digest: str
    rel: str  # what a link to it leads to: the document, or an image's largest fallback
    variants: tuple[Variant, ...] = ()  # an image's published files
    key: str = ""  # an image's key in the cache (its bytes and how it is made)

    @property
    def image(self) -> bool:
        return bool(self.variants)

    def outputs(self) -> Iterator[tuple[str, str]]:
        """Each published file with the key of what it is made from."""
        if self.variants:
            yield from ((v.rel, self.key) for v in self.variants)
        else:
            yield self.rel, self.digest


@dataclass(frozen=True)
class Use:
    """Where a record refers to a file: for diagnostics about it later (in the build)."""

    record: str
    field: str
    yaml_path: TreePath | None  # of the value in the front matter; None: Markdown
    line: int = 0
    column: int = 0


@dataclass(frozen=True)
class Media:
    """Every file the published records refer to, by source path."""

    files: Mapping[str, MediaFile] = field(default_factory=dict)
    uses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # record → sources
    first_use: Mapping[str, Use] = field(default_factory=dict)  # source → a use of it
    reported: frozenset[tuple[str, str]] = frozenset()  # (record, href) already reported
    problems: tuple[Diagnostic, ...] = ()  # what is wrong with the references or files

    def find(self, record_path: str, name: str) -> MediaFile | None:
        """The file `name` (relative to the record file) refers to, if it is published."""
        deps.note(("media", record_path))
        return self.files.get(posixpath.normpath(posixpath.join(
            posixpath.dirname(record_path), name)))

    def link(self, record_path: str, href: str) -> str | None:
        """Where a Markdown link to a file leads (site-relative), or None if it is not one;
        raises Reported for a link whose problem this stage reported."""
        found = self.find(record_path, unquote(href.partition("#")[0]))
        if found is not None:
            return found.rel
        if (record_path, href) in self.reported:
            raise Reported(href)
        return None

    def url_of(self, source: str) -> str:
        """The published path of a file by its source path ('' when it has none)."""
        found = self.files.get(source)
        return found.rel if found is not None else ""

    @cached_property
    def by_rel(self) -> dict[str, MediaFile]:
        return {f.rel: f for f in self.files.values()}

    def digest(self, record: Record) -> str:
        """The files a record refers to, as they are now: a record's pages change with them."""
        return self.digest_of(record.path)

    def digest_of(self, record_path: str) -> str:
        """`digest` for the record in the file `record_path`."""
        sources = self.uses.get(record_path, ())
        if not sources:
            return ""
        parts = [f"{s}:{self.files[s].rel}" for s in sources if s in self.files]
        return hashlib.blake2b("\0".join(parts).encode(), digest_size=16).hexdigest()

    def outputs(self) -> list[tuple[str, str]]:
        """Every published file (once, also when two sources have the same bytes), sorted."""
        found: dict[str, str] = {}
        for media_file in self.files.values():
            for rel, key in media_file.outputs():
                found.setdefault(rel, key)
        return sorted(found.items())

    def locate(self, site_dir: Path, source: str) -> tuple[str, int, int, str]:
        """The record, line, column and field of a use of `source`, for a diagnostic."""
        use = self.first_use[source]
        if use.yaml_path is None:
            return use.record, use.line, use.column, use.field
        line, col = _front_matter(site_dir, use.record).position(use.yaml_path)
        return use.record, line, col, use.field


@dataclass(frozen=True)
class _Reference:
    record: Record
    field: str
    href: str
    image: bool  # must be an image (a field of type image, or Markdown ![…](…))
    yaml_path: TreePath | None = None  # where a field's value is; None for Markdown
    line: int = 0  # of Markdown references
    column: int = 0
    markdown: bool = False
    alt_problem: str = ""  # a Markdown image without alternative text (or with, but decorative)


def plan_media(site_dir: Path, records: Iterable[Record], schema: Schema,
               memo: MediaMemo | None = None) -> Media:
    """Check every reference of every record to a file and plan its publication; what
    `memo` (by default this process's) knows is not read again."""
    memo = _PROCESS_MEMO if memo is None else memo
    memo.start()
    planner = _Planner(site_dir, schema, memo)
    for record in records:
        planner.add(record)
    return Media(planner.found, {k: tuple(v) for k, v in planner.uses.items()},
                 planner.first_use, frozenset(planner.reported), tuple(planner.problems))


class _Planner:
    def __init__(self, site_dir: Path, schema: Schema, memo: MediaMemo) -> None:
        self.site_dir = site_dir
        self.memo = memo
        self.content = (site_dir / "content").resolve()
        self.schema = schema
        self.markdown = MarkdownRenderer()
        self.examined: dict[str, MediaFile | tuple[str, str]] = {}  # source → file, problem
        self.found: dict[str, MediaFile] = {}
        self.uses: dict[str, list[str]] = {}
        self.first_use: dict[str, Use] = {}
        self.reported: set[tuple[str, str]] = set()
        self.problems: list[Diagnostic] = []
        self.trees: dict[str, Tree] = {}

    def add(self, record: Record) -> None:
        for ref in self.memo.references_of(record, self.markdown):
            self.check(ref)

    def check(self, ref: _Reference) -> None:
        if ref.alt_problem:
            self.report(ref, "error", ref.alt_problem, "", reported=False)
        source, problem, hint = self.resolve(ref)
        result: MediaFile | tuple[str, str] = (problem, hint)
        if source and not problem:
            result = self.examine(source)
            if isinstance(result, MediaFile) and ref.image and not result.image:
                result = (f"'{shorten(ref.href)}' is {_article(result.kind)}, not an image; "
                          + ("link to it: [title](…)" if ref.markdown
                             else "give it a field of type file"), "")
        if isinstance(result, tuple):
            self.report(ref, "error", *result)
            return
        if result.image and result.size > IMAGE_WARN_BYTES:
            self.report(ref, "warning", f"'{shorten(ref.href)}' has {_mb(result.size)}; it "
                        "is published resized, but an original this big slows every build "
                        "down: save it at most 1920 pixels wide", "", reported=False)
        self.found[source] = result
        mine = self.uses.setdefault(ref.record.path, [])
        if source not in mine:
            mine.append(source)
        self.first_use.setdefault(source, Use(ref.record.path, ref.field, ref.yaml_path,
                                              ref.line, ref.column))

    def report(self, ref: _Reference, severity: Severity, message: str, hint: str,
               reported: bool = True) -> None:
        if ref.yaml_path is not None:
            line, col = self.tree(ref.record.path).position(ref.yaml_path)
        else:
            line, col = ref.line, ref.column
        self.problems.append(Diagnostic(ref.record.path, line, col, severity, ref.field,
                                        message, hint))
        if reported:
            self.reported.add((ref.record.path, ref.href))

    def tree(self, record_path: str) -> Tree:
        if record_path not in self.trees:
            self.trees[record_path] = _front_matter(self.site_dir, record_path)
        return self.trees[record_path]

    def resolve(self, ref: _Reference) -> tuple[str, str, str]:
        """(source path, problem, suggestion) of one reference."""
        href = ref.href
        shown = f"'{shorten(href)}'"
        if is_external(href):
            return "", (f"{shown} is a web address; 'bestand' names a file beside the record: "
                        "save the file there"), ""
        if href.startswith("/") or any(mark in href for mark in _WINDOWS_PATH):
            return "", f"{shown} must be relative to this file, with '/', e.g. 'foto.jpg'", ""
        name = unquote(href.partition("#")[0]) if ref.markdown else href
        here = posixpath.dirname(ref.record.path)
        source = posixpath.normpath(posixpath.join(here, name))
        if not source.startswith("content/"):
            return "", f"{shown} points outside the content folder", ""
        if source.lower().endswith(RECORD_SUFFIXES):
            return "", f"{shown} is a record file, not an image or document", ""
        file = self.site_dir / source
        try:
            mode = self._mode(source)
        except OSError:
            return "", f"{shown} does not exist ({source})", self.nearby(file, here)
        if mode is None:
            return "", (f"{shown} is a symbolic link that points outside the content folder; "
                        "it is not read"), ""
        if stat.S_ISDIR(mode):
            return "", f"{shown} is a folder, not a file", ""
        if not stat.S_ISREG(mode):
            return "", f"{shown} is not a regular file; it is not read", ""
        return source, "", ""

    def _mode(self, source: str) -> int | None:
        """The file type of a path under content/ (what it leads to, if a symbolic link
        does), or None when it leads outside the content folder; OSError when it is not
        there. Each folder on the way is looked at once (a build checks every reference,
        the preview on every save); only where one is a symbolic link is the whole path
        resolved."""
        path, mode = str(self.content), 0
        for name in source.split("/")[1:]:
            path = f"{path}/{name}"
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                real = Path(os.path.realpath(self.site_dir / source))
                if not real.is_relative_to(self.content):
                    return None
                try:
                    return os.stat(real).st_mode
                except OSError:
                    return 0  # a link that leads nowhere: not a regular file
        return mode

    def nearby(self, file: Path, here: str) -> str:
        """The closest name of a file in the folder a missing file was looked for in."""
        try:
            names = [e.name for e in os.scandir(file.parent) if e.is_file()]
        except OSError:
            return ""
        folder = posixpath.relpath(file.parent.relative_to(self.site_dir).as_posix(), here)
        hint = suggest(file.name, names)
        return f"'{posixpath.join(folder, hint.strip(chr(39)))}'" if hint and folder != "." \
            else hint

    def examine(self, source: str) -> MediaFile | tuple[str, str]:
        """Kind, size and publication of one file (once per file)."""
        if source not in self.examined:
            try:
                self.examined[source] = self._examine(source)
            except Refused as exc:
                self.examined[source] = (f"'{posixpath.basename(source)}' {exc}", "")
            except OSError as exc:
                self.examined[source] = (f"cannot read '{posixpath.basename(source)}': "
                                         f"{exc.strerror}", "")
        return self.examined[source]

    def _examine(self, source: str) -> MediaFile:
        kind, size, digest, header = self.memo.read_file(self.site_dir, source)
        stem = posixpath.splitext(posixpath.basename(source))[0]
        base = f"{self.destination(source)}{slugify(stem)[:60].rstrip('-') or 'bestand'}"
        if header is None:
            return MediaFile(source, kind, size, digest, f"{base}-{digest[:8]}.{kind.ext}")
        key = image_key(digest)
        variants = plan_variants(header, f"{base}-{key[:8]}", kind.name)
        link = max((v for v in variants if v.format != "webp"), key=lambda v: v.width)
        return MediaFile(source, kind, size, digest, link.rel, variants, key)

    def destination(self, source: str) -> str:
        """The published folder of a file: beside its bundle's page, or its own path."""
        parts = source.split("/")[1:-1]  # the folders between content/ and the file
        if len(parts) >= 2 and parts[0] in {c.name for c in self.schema.collections}:
            bundle = self.site_dir / "content" / parts[0] / parts[1]
            if any((bundle / f"index{suffix}").is_file() for suffix in RECORD_SUFFIXES):
                url = self.schema.collection(parts[0]).url(parts[1])
                return url + "".join(f"{slugify(p) or 'map'}/" for p in parts[2:])
        return "".join(f"{slugify(p) or 'map'}/" for p in parts)


class MediaMemo:
    """What planning read in an earlier build, so that a build reads again only what
    changed: a record's references while its file's digest is the same, and a file's kind,
    size, digest and image header while its stat is.

    A long-running process (the preview) keeps one in memory. A build in a process of its
    own starts from `rows`, plain strings kept by the build cache (key → stamp, JSON);
    a row is decoded when it is asked for, and one that is not exactly what `row_of`
    writes is ignored (the record or file is read again). `rows_to_keep` gives what the
    next build needs: the rows of what this build used.
    """

    def __init__(self, rows: Mapping[str, tuple[str, str]] | None = None) -> None:
        self.rows = dict(rows or {})
        self.references: dict[str, tuple[str, Any, tuple[_Reference, ...]]] = {}
        self.files: dict[str, tuple[str, tuple[Kind, int, str, Header | None]]] = {}
        self.used: set[str] = set()
        self.fresh: set[str] = set()

    def references_of(self, record: Record, markdown: MarkdownRenderer
                      ) -> tuple[_Reference, ...]:
        key = "r:" + record.path
        if record.digest:
            self.used.add(key)
            known = self.references.get(record.path)
            if known is None and self.rows.get(key, ("",))[0] == record.digest:
                known = _decoded_references(self.rows[key][1], record)
            if known is not None and known[0] == record.digest \
                    and known[1] is record.collection:
                return tuple(replace(ref, record=record) for ref in known[2])
        found = tuple(references(record, markdown))
        if record.digest:
            self.references[record.path] = record.digest, record.collection, found
            self.fresh.add(key)
        return found

    def read_file(self, site_dir: Path, source: str) -> tuple[Kind, int, str, Header | None]:
        """A file's kind, size, digest and (of an image) header; read again when its stat
        changed."""
        file = site_dir / source
        st = file.stat()
        stamp = f"{st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {st.st_ino} {st.st_dev}"
        key = "f:" + source
        self.used.add(key)
        known = self.files.get(source)
        if known is None and self.rows.get(key, ("",))[0] == stamp:
            known = _decoded_file(self.rows[key][1], stamp)
        if known is not None and known[0] == stamp:
            return known[1]
        if st.st_size > MAX_FILE_BYTES:
            raise Refused(f"has {_mb(st.st_size)}; a file may have at most "
                          f"{_mb(MAX_FILE_BYTES)}")
        kind = sniff(file)
        header = probe(file) if kind.image else None
        digest = hashlib.blake2b(file.read_bytes(), digest_size=16).hexdigest()
        self.files[source] = stamp, (kind, st.st_size, digest, header)
        self.fresh.add(key)
        return kind, st.st_size, digest, header

    def rows_to_keep(self) -> tuple[dict[str, tuple[str, str]], set[str]]:
        """(the rows made anew in this build, the keys of every row it used)."""
        made: dict[str, tuple[str, str]] = {}
        for key in self.fresh & self.used:
            if key.startswith("r:"):
                digest, _, refs = self.references[key[2:]]
                made[key] = digest, json.dumps([_plain_reference(ref) for ref in refs])
            else:
                stamp, (kind, size, digest, header) = self.files[key[2:]]
                made[key] = stamp, json.dumps([kind.name, size, digest, header and [
                    header.width, header.height, header.alpha, header.animated]])
        return made, set(self.used)

    def start(self) -> None:
        """A new build: nothing used yet, and what the last one made is now known."""
        self.used, self.fresh = set(), set()


def _plain_reference(ref: _Reference) -> list[Any]:
    return [ref.field, ref.href, ref.image, None if ref.yaml_path is None else list(
        ref.yaml_path), ref.line, ref.column, ref.markdown, ref.alt_problem]


def _decoded_references(raw: str, record: Record
                        ) -> tuple[str, Any, tuple[_Reference, ...]] | None:
    if raw == "[]":
        return record.digest, record.collection, ()
    try:
        refs = []
        for where, href, image, path, line, column, markdown, problem in json.loads(raw):
            if not (all(isinstance(s, str) for s in (where, href, problem))
                    and all(type(b) is bool for b in (image, markdown))
                    and all(type(n) is int for n in (line, column))
                    and (path is None or (isinstance(path, list) and all(
                        type(p) in (str, int) for p in path)))):
                return None
            refs.append(_Reference(record, where, href, image, None if path is None
                                   else tuple(path), line, column, markdown, problem))
    except (ValueError, TypeError, RecursionError):
        return None
    return record.digest, record.collection, tuple(refs)


def _decoded_file(raw: str, stamp: str) -> tuple[str, tuple[Kind, int, str, Header | None]
                                                 ] | None:
    try:
        name, size, digest, header = json.loads(raw)
        kind = KINDS[name]
        if not (type(size) is int and isinstance(digest, str) and len(digest) == 32):
            return None
        if header is not None:
            width, height, alpha, animated = header
            if not (type(width) is int and type(height) is int and width > 0 and height > 0
                    and type(alpha) is bool and type(animated) is bool):
                return None
            header = Header(width, height, alpha, animated)
        elif kind.image:
            return None
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    return stamp, (kind, size, digest, header)


# What a long-running process (the preview) read before, for its next build.
_PROCESS_MEMO = MediaMemo()


def references(record: Record, markdown: MarkdownRenderer) -> Iterator[_Reference]:
    """Every reference of a record to a file: fields first, then its Markdown."""
    for f, path, value in iter_values(_may_refer(record.collection), record.unrecorded_data):
        if f.type in MEDIA_TYPES and isinstance(value, dict) \
                and isinstance(value.get("bestand"), str):
            yield _Reference(record, dotted((*path, "bestand")), value["bestand"],
                             f.type == "image", (*path, "bestand"))
        elif f.type == "text" and isinstance(value, str):
            for ref in _markdown(record, value, markdown, dotted(path)):
                yield replace(ref, yaml_path=path)
    body = record.body  # unpacked once: a long body is kept compressed
    if body:
        yield from _markdown(record, body, markdown, "body")


_REFERRING: dict[int, tuple[Any, ...]] = {}


def _may_refer(collection: Any) -> tuple[Any, ...]:
    """A collection's fields that can hold a file or Markdown (the others are not read)."""
    found = _REFERRING.get(id(collection))
    if found is None or found[0] is not collection:
        fields = tuple(f for f in collection.fields if _refers(f))
        found = _REFERRING[id(collection)] = (collection, fields)
    return found[1]  # type: ignore[no-any-return]


def _refers(f: Any) -> bool:
    if f.type in (*MEDIA_TYPES, "text"):
        return True
    return any(_refers(sub) for sub in (*f.fields, *([f.items] if f.items else [])))


def _markdown(record: Record, text: str, markdown: MarkdownRenderer,
              where: str) -> Iterator[_Reference]:
    """References to files in Markdown, located in the record file (bodies) or at their
    field; texts with no link at all are not converted."""
    targets = [m[1] for m in _INLINE.finditer(text)]
    if "]:" in text:
        targets += [m[1] for m in _DEFINITION.finditer(text)]
    files = [target for target in targets if is_file_link(target)]
    if not files:
        return
    here = posixpath.dirname(record.path)
    after: dict[str, int] = {}
    for tag, href, attrs in markdown.links(_blocks_with(text, files)):
        # Links that leave the content folder are the render stage's to report.
        if not is_file_link(href) or not posixpath.normpath(posixpath.join(
                here, unquote(href.partition("#")[0]))).startswith("content/"):
            continue
        # The same file may be named twice: each mention is found after the one before.
        start = text.find(href, after.get(href, 0))
        after[href] = start + 1 if start >= 0 else 0
        line, col = locate(text, href, max(start, 0))
        line += record.body_line - 1 if where == "body" else 0
        problem = _alt_problem(href, attrs) if tag == "img" else ""
        yield _Reference(record, where, href, tag == "img", None, line, col, True, problem)


_BLANK_LINES = re.compile(r"\n[ \t]*\n")
# Markdown in which a block's meaning can depend on another block: reference definitions and
# footnotes, fenced code, HTML comments.
_ACROSS_BLOCKS = ("]:", "[^", "```", "~~~", "<!--")


def _blocks_with(text: str, targets: list[str]) -> str:
    """The blocks (paragraphs, lists, tables, quotes) of `text` that mention one of
    `targets`, for Markdown to find the links in: a long body with one photo is not
    converted whole. The whole text where a block alone could read otherwise than in its
    place (an indented block, which may belong to a list item; see _ACROSS_BLOCKS)."""
    if any(mark in text for mark in _ACROSS_BLOCKS):
        return text
    blocks = [block for block in _BLANK_LINES.split(text)
              if any(target in block for target in targets)]
    if any(block[:1] in (" ", "\t") for block in blocks):
        return text
    return "\n\n".join(blocks)


def _alt_problem(href: str, attrs: Mapping[str, Any]) -> str:
    """What is wrong with the alternative text of a Markdown image ('' if nothing)."""
    alt, decorative = str(attrs.get("alt", "")).strip(), "decoratief" in attrs
    shown = shorten(href)
    if decorative and alt:
        return (f"image '{shown}' is marked decorative but has alternative text; "
                "remove one of the two")
    if not decorative and not alt:
        return (f"image '{shown}' has no alternative text: write what it shows between the "
                f"brackets, ![…]({shown}), or mark it as decorative: "
                f"![]({shown}){{: decoratief}}")
    return ""


def is_file_link(href: str) -> bool:
    """A link in Markdown that can only lead to a file: relative, not to a record file."""
    path = href.partition("#")[0].partition("?")[0]
    # The cheap tests first: most links in a body lead to records or to other sites.
    if not path or path.startswith("/") or path.lower().endswith((*RECORD_SUFFIXES, "/")) \
            or path in (".", ".."):
        return False
    return not is_external(href) and not any(mark in path for mark in _WINDOWS_PATH)


def _front_matter(site_dir: Path, record_path: str) -> Tree:
    """A record's front matter parsed again, for the positions of its values."""
    try:
        text = read_text(site_dir / record_path, record_path)
        if record_path.endswith(".md"):
            front, _, _ = split_front_matter(text, record_path)
            return parse(front, record_path, line_offset=1)
        return parse(text, record_path)
    except Exception:  # it parsed when it was loaded; if it changed since, no position
        return Tree(None)


def _article(kind: Kind) -> str:
    names = {"pdf": "a PDF", "csv": "a CSV file", "txt": "a text file"}
    return names.get(kind.name, f"a document ({kind.ext})")


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
