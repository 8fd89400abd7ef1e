"""Markdown of records as parts: a record's body and text fields converted (or taken from
the fragment store), their links to other records' files made into links to their pages,
and a bad link reported at the line the editor wrote it on.

`RecordMarkdown` is part of the Renderer (renderer.py), which holds the state it reads.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from markupsafe import Markup

from dossier.content.markup import LinkProblem, MarkdownRenderer, Rendered, locate, sanitize
from dossier.content.records import Record
from dossier.core import deps
from dossier.core.diagnostics import Diagnostic, DossierError, suggest
from dossier.core.urls import is_external, output_path
from dossier.core.yamltree import parse
from dossier.model.site import Site
from dossier.render.parts import ROOT, Meta, Origin, Part, current
from dossier.render.pictures import expand_images
from dossier.render.stores import FragmentStore

_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]|\\")


class RecordMarkdown:
    """The Renderer's Markdown helpers (`body`, `md`) and the places of content links."""

    site: Site
    site_dir: Path | None
    markdown: MarkdownRenderer
    fragments: FragmentStore | None  # Markdown converted in earlier builds or other workers
    by_source: Mapping[str, Record]  # every record by the path of its file
    cache: MutableMapping[tuple[Any, ...], Part]
    tocs: MutableMapping[str, list[Any]]  # of the bodies in `cache`
    url: Callable[[Any], Markup]  # a link from the site root (the Renderer's `url`)

    def body(self, record: Record) -> Rendered:
        """The record's Markdown body as HTML (a part), with its table of contents."""
        key = ("body", record.path)
        text = record.body
        found = self.cache.get(key)
        toc = self.tocs.get(record.path)
        if found is None or toc is None:
            found, toc = self._converted(text, record, "body")
            self.cache[key], self.tocs[record.path] = found, toc
        if found.meta is not None:
            deps.use_part(("part", "body", record.path), found.meta.deps)
        return Rendered(found, toc)

    def md(self, text: str, record: Record) -> Rendered:
        """A Markdown text field of `record` as HTML (a part)."""
        key = ("text", record.path, text)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self._converted(text, record, "")[0]
        if found.meta is not None:
            deps.use_part(("part", "text", record.path, deps.digest(text)), found.meta.deps)
        return Rendered(found)

    def _converted(self, text: str, record: Record, where: str) -> tuple[Part, list[Any]]:
        """Converted Markdown, with what converting it read (the records it links to)."""
        with deps.recording() as read:
            part, toc = self._convert(text, record, where)
        assert part.meta is not None
        part.meta.deps = frozenset(read)
        return part, toc

    def _convert(self, text: str, record: Record, where: str) -> tuple[Part, list[Any]]:
        """Markdown → HTML with links from the site root; from the fragment store if it
        has this text of this record, with its links still leading to the same pages."""
        store = self.fragments
        key = store.key(record.path, text) if store is not None else ""
        origin = Origin(record.path, 0, 0, where or text_field(record, text), "")
        if store is not None:
            stored = store.get(key)
            if stored is not None and self._still_leads(stored[2]):
                seen: list[tuple[str, str, str]] = []
                if sanitize(stored[0], seen) == stored[0]:
                    return self._markdown_part(stored[0], seen, origin), stored[1]
        targets: list[tuple[str, str]] = []
        rendered = self.markdown.convert(text, lambda href: self._md_link(href, record,
                                                                              targets))
        problems = [self._link_problem(record, text, where, href, message, n)
                    for n, (href, message) in enumerate(rendered.problems)]
        if store is not None and not problems:
            store.put(key, record.path, rendered.html, rendered.toc, targets)
        part = self._markdown_part(rendered.html, rendered.attributes, origin)
        assert part.meta is not None
        part.meta.problems += problems
        collector = current()  # reported with the page even if it never shows the text
        if collector is not None:
            collector.meta.problems += problems
        return part, rendered.toc

    def _link_problem(self, record: Record, text: str, where: str, href: str, message: str,
                      index: int) -> Diagnostic:
        line, col, name = self.position(record, text, where, href)
        return Diagnostic(record.path, line, col, "error", name, message,
                          self._hint(href, record))

    def position(self, record: Record, text: str, where: str,
                 href: str) -> tuple[int, int, str]:
        """Line, column and field of `href` as the editor wrote it in a record's file."""
        if where == "body":
            line, col = locate(text, href)
            return record.body_line + line - 1, col, "body"
        return locate_in_field(self.site_dir, record, text, href)

    def locate(self, origin: Origin, href: str) -> Origin:
        """A content link's place in its file, found when a problem has to be reported."""
        record = self.by_source.get(origin.path)
        if record is None or not origin.in_content:
            return origin
        text = record.body if origin.field == "body" else next(
            (t for t in texts(record) if href in t), "")
        line, col, name = self.position(record, text, "body" if origin.field == "body"
                                        else "", href)
        return Origin(origin.path, line, col, name, href)

    def _markdown_part(self, html: str, attributes: Iterable[tuple[str, str, str]],
                       origin: Origin) -> Part:
        """Converted Markdown as a part, its published images shown in full."""
        part = markdown_part(html, attributes, origin)
        expanded = expand_images(html, self.site.media, self.url)
        return part if expanded == html else Part.made(expanded, part.meta or Meta())

    def _still_leads(self, targets: list[tuple[str, str]]) -> bool:
        """Whether every record a stored fragment links to is still published at its URL."""
        for path, url in targets:
            found = self.by_source.get(path)
            if found is not None:
                deps.note(("has", *found.key))
            if (found.url if found else self.site.media.url_of(path)) != url:
                return False
        return True

    def _md_link(self, href: str, record: Record, targets: list[tuple[str, str]]) -> str:
        """A link in Markdown to another record's file → that page, from the site root."""
        if is_external(href) or href.startswith("#") or not href:
            return href
        if href.startswith("/") or _WINDOWS_PATH.search(href):
            raise LinkProblem(f"link '{href}' must be relative to this file, "
                              "e.g. '../organisaties/al-amal.md'")
        path, _, fragment = href.partition("#")
        target = posixpath.normpath(posixpath.join(posixpath.dirname(record.path), unquote(path)))
        if not target.startswith("content/"):
            raise LinkProblem(f"link '{href}' points outside the content folder")
        found = self.by_source.get(target)
        if found is not None:
            deps.note(("has", *found.key))
        if found is None:
            published = self.site.media.link(record.path, href)  # a file beside records
            if published is None:
                raise LinkProblem(f"link '{href}' does not lead to a published record")
            targets.append((target, published))
            return ROOT + quote(published, safe="/.-_~%") + (f"#{fragment}" if fragment else "")
        targets.append((target, found.url))
        return ROOT + quote(found.url, safe="/.-_~%") + (f"#{fragment}" if fragment else "")

    def _hint(self, href: str, record: Record) -> str:
        path = href.partition("#")[0]
        target = posixpath.normpath(posixpath.join(posixpath.dirname(record.path), unquote(path)))
        close = suggest(target, self.by_source)
        if not close:
            return ""
        rel = posixpath.relpath(close.strip("'"), posixpath.dirname(record.path))
        return f"'{rel}'"


def markdown_part(html: str, attributes: Iterable[tuple[str, str, str]],
                   origin: Origin) -> Part:
    """Converted Markdown as a part: its ids and links are what the sanitiser saw (images
    made into pictures afterwards add only links from the site root)."""
    meta = Meta()
    for tag, name, value in attributes:
        if name == "id":
            meta.ids.add(value)
        elif name in ("href", "src") and not value.startswith(ROOT) and not is_external(value):
            meta.literal.append((name, value, origin))
        elif name == "href" and value.startswith(ROOT) and "#" in value and tag == "a":
            path, _, fragment = value[len(ROOT):].partition("#")
            meta.anchors.append((output_path(unquote(path)), fragment, origin))
    return Part.made(html, meta)


def text_field(record: Record, text: str) -> str:
    """The field a text is the value of (for diagnostics: not a read of the record)."""
    for name, value in record.unrecorded_data.items():
        if value == text:
            return name
    return ""


def texts(record: Record) -> Iterable[str]:
    """The record's Markdown text fields (read as a page reads them)."""
    for f in record.collection.fields:
        value = record.data.get(f.name)
        if f.type == "text" and isinstance(value, str):
            yield value


def locate_in_field(site_dir: Path | None, record: Record, text: str,
                    href: str) -> tuple[int, int, str]:
    """Line, column and field of `href` in a text field, found in the record's file.

    Records keep no positions of their texts (that is most of the memory a large site
    would take); a problem is rare, so the file is read again to find it.
    """
    name = text_field(record, text)
    if site_dir is None:
        return 1, 1, name
    try:
        source = (site_dir / record.path).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return 1, 1, name
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    front, offset = source, 0
    if record.path.endswith(".md") and source.startswith("---"):
        end = source.find("\n---", 3)
        front, offset = source[4:end if end > 0 else len(source)], 1
    try:
        tree = parse(front, record.path, line_offset=offset)
    except DossierError:  # it was read before; any trouble only loses the place
        return 1, 1, name
    line, _ = tree.position((name,))
    lines = source.split("\n")
    for number in range(max(line, 1), len(lines) + 1):
        col = lines[number - 1].find(href)
        if col >= 0:
            return number, col + 1, name
    return line, 1, name
