"""Markdown → safe HTML: Python-Markdown, links between records rewritten, raw HTML sanitised."""

from __future__ import annotations

import bisect
import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.attr_list import AttrListExtension
from markdown.extensions.footnotes import FootnoteExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension
from markdown.inlinepatterns import LinkInlineProcessor
from markdown.treeprocessors import Treeprocessor

from dossier.content.documents import slugify
from dossier.core.urls import is_external

# Resolves a link found in Markdown: returns the new href, or raises LinkProblem.
LinkResolver = Callable[[str], str]

LINK_SCHEMES = ("http", "https", "mailto", "tel")
# Classes that content may carry: those Markdown itself makes (footnotes, table alignment)
# and any starting with `md-`, for a site's own stylesheet. Others could dress content up
# as the theme's interface (a fake notice, a hidden skip link) or catch the eye of a
# script that looks elements up by class, so they are dropped.
CONTENT_CLASSES = frozenset({"footnote", "footnote-ref", "footnote-backref",
                             "align-left", "align-center", "align-right"})
CONTENT_CLASS_PREFIX = "md-"
_ALIGNMENTS = ("left", "center", "right")

# Limits on what Markdown text may ask of the converter and the sanitiser. Both recurse or
# rescan per level of nesting: Python-Markdown hits Python's recursion limit at a few
# hundred nested lists, html5ever (inside nh3) takes time proportional to tags × depth.
MAX_NESTING = 32  # lists and block quotes inside each other
MAX_HTML_NESTING = 100  # HTML elements inside each other (or left open)
MAX_TAG_CHARS = 65_536  # one link, image or HTML tag
_CONTAINERS = re.compile(r"(?:[ \t]*(?:>|[-*+][ \t]|\d{1,9}[.)][ \t]))+")
_MARKERS = re.compile(r"([ \t]*)(>|[-*+][ \t]|\d{1,9}[.)][ \t])")
_HTML_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^<>]*?(/?)>")
_VOID_OR_SELF_CLOSING = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
    # closed by their next sibling, so they do not pile up
    "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup",
    "rp", "rt", "colgroup", "caption",
})
_LONG_TAG = re.compile(f"<[^<>]{{{MAX_TAG_CHARS},}}>")
# Text is cut into pieces of this many characters by empty comments before sanitising:
# nh3 takes time quadratic in the number of '&' in one text node; the sanitiser drops the
# comments, so the output is the same.
_TEXT_PIECE = 1024
_SEGMENTS = re.compile(r"<[^<>]*>|[^<]+|<")
_TEXT_UNITS = re.compile(f"(?:[^&]|&#?[A-Za-z0-9]{{1,32}};?|&){{1,{_TEXT_PIECE}}}")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details",
    "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start", "reversed"},
    "ul": set(),
}


class LinkProblem(Exception):
    """A link in Markdown that does not lead to a record or file of the site."""


class Reported(LinkProblem):
    """A link whose problem was reported before (by the media stage): left out, silently."""


@dataclass
class Rendered:
    """HTML of one Markdown text, its headings for a table of contents, and bad links."""

    html: str
    toc: list[dict[str, Any]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (href, message)
    # Every attribute the sanitiser kept, as (tag, name, value): the ids and links of the
    # HTML, known without parsing it again.
    attributes: list[tuple[str, str, str]] = field(default_factory=list)


class _LinkRewriter(Treeprocessor):
    def __init__(self, md: markdown.Markdown, owner: MarkdownRenderer) -> None:
        super().__init__(md)
        self.owner = owner

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            attr = {"a": "href", "img": "src"}.get(element.tag)
            if attr is None or attr not in element.attrib:
                continue
            href = element.attrib[attr]
            try:
                check_link(element.tag, href)
                new = self.owner.resolver(href)
                element.set(attr, new)
                self.owner.rewritten.add(new)
            except LinkProblem as exc:
                if not isinstance(exc, Reported):
                    self.owner.problems.append((href, str(exc)))
                del element.attrib[attr]  # reported once, here, not again by the link check


def check_link(tag: str, href: str) -> None:
    """Links may leave the site by http(s), mailto and tel only; images may not leave it."""
    if re.search(r"^[A-Za-z]:[\\/]|\\", href):
        raise LinkProblem(f"link '{href}' is a Windows path; write a relative link with '/', "
                          "e.g. '../organisaties/al-amal.md'")
    if not is_external(href):
        return
    if tag == "img":
        raise LinkProblem(f"image '{href}' is on another website; pages load nothing from "
                          "other websites, so visitors are not tracked")
    scheme = urlsplit(href).scheme.lower()
    if href.startswith("//") or scheme not in LINK_SCHEMES:
        raise LinkProblem(f"link '{href}' is not allowed: a link to another website starts "
                          "with https://, http://, mailto: or tel:")


class _Collector(Treeprocessor):
    """Notes every link and image with its attributes (after attr_list has added those)."""

    def __init__(self, md: markdown.Markdown, owner: MarkdownRenderer) -> None:
        super().__init__(md)
        self.owner = owner

    def run(self, root: etree.Element) -> None:
        if self.owner.seen is None:
            return
        for element in root.iter():
            attr = {"a": "href", "img": "src"}.get(element.tag)
            if attr is not None and attr in element.attrib:
                self.owner.seen.append((element.tag, element.attrib[attr], dict(element.attrib)))


class _AlignClasses(Treeprocessor):
    """Table alignment as a class, not a style attribute: the CSP allows no inline style."""

    def run(self, root: etree.Element) -> None:
        for cell in root.iter():
            if cell.tag not in ("td", "th"):
                continue
            align = cell.attrib.pop("align", None)
            if align in _ALIGNMENTS:
                cell.set("class", f"align-{align}")


class _Rewrite(Extension):
    def __init__(self, owner: MarkdownRenderer) -> None:
        super().__init__()
        self.owner = owner

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # After inline processing (priority 20) so links exist; before toc (5) is irrelevant.
        md.treeprocessors.register(_LinkRewriter(md, self.owner), "dossier-links", 15)
        md.treeprocessors.register(_AlignClasses(md), "dossier-align", 14)
        md.treeprocessors.register(_Collector(md, self.owner), "dossier-collect", 7)
        _find_brackets_fast(md)


_BRACKETS = re.compile(r"[\[\]]")


class BracketEnds:
    """For each index of a text, the index just past the `]` that closes a bracket
    opened before that index, or None: what Python-Markdown's links ask of a text (its
    `LinkInlineProcessor._findBracketEnds`, which answers for every index by stepping
    through the text character by character in Python: a sixth of converting the bodies
    of the editor corpus). Here only the brackets are visited: every index between two
    brackets has the answer of the bracket after it.
    """

    __slots__ = ("_ends", "_positions")

    def __init__(self, text: str) -> None:
        self._positions = positions = [m.start() for m in _BRACKETS.finditer(text)]
        # _ends[k]: the answer for every index after bracket k-1 up to bracket k itself.
        self._ends: list[int | None] = [None] * (len(positions) + 1)
        waiting: list[tuple[int, int]] = []  # (k, depth before bracket k), depth rising
        depth = 0
        for k, pos in enumerate(positions):
            waiting.append((k, depth))
            depth += 1 if text[pos] == "[" else -1
            while waiting and depth < waiting[-1][1]:
                self._ends[waiting.pop()[0]] = pos + 1

    def __getitem__(self, index: int) -> int | None:
        return self._ends[bisect.bisect_left(self._positions, index)]


def _find_brackets_fast(md: markdown.Markdown) -> None:
    """Let the link and image patterns of `md` find closing brackets with BracketEnds
    (a Python-Markdown without `_findBracketEnds` scans as it always did)."""
    for pattern in md.inlinePatterns:
        if isinstance(pattern, LinkInlineProcessor) and hasattr(pattern, "_findBracketEnds"):
            pattern._findBracketEnds = BracketEnds


def _identity(href: str) -> str:
    return href


class MarkdownRenderer:
    """One reusable Markdown converter (building one is costly; reset between texts)."""

    def __init__(self, backlink_title: str = "Terug naar tekst %d") -> None:
        self.resolver: LinkResolver = _identity
        self.problems: list[tuple[str, str]] = []
        self.rewritten: set[str] = set()  # links the rewriter wrote (raw HTML's are the rest)
        self.seen: list[tuple[str, str, dict[str, str]]] | None = None  # see `links`
        # Extensions as objects, not by name: a name is looked up among the entry points
        # of every installed package (importlib.metadata), which costs a build that
        # converts one text more than the conversion.
        self.md = markdown.Markdown(
            extensions=[
                TableExtension(use_align_attribute=True), AttrListExtension(),
                FootnoteExtension(BACKLINK_TITLE=backlink_title), SaneListExtension(),
                TocExtension(slugify=lambda value, sep: slugify(value) or "sectie",
                             toc_depth="2-3"),
                _Rewrite(self)],
            output_format="html",
        )

    def convert(self, text: str, resolver: LinkResolver = _identity) -> Rendered:
        """Markdown text → sanitised HTML with rewritten links.

        Texts beyond the nesting limits are refused by validation (`nesting_problem`);
        should one come through anyway, it is a problem, not a crash.
        """
        self.md.reset()
        self.resolver, self.problems, self.rewritten = resolver, [], set()
        try:
            html = self.md.convert(text)
        except RecursionError:
            return Rendered("", [], [("", f"text is nested too deeply (lists and quotes "
                                         f"at most {MAX_NESTING} levels)")])
        if _LONG_TAG.search(html):
            return Rendered("", [], [("", f"a link, image or HTML tag is longer than "
                                         f"{MAX_TAG_CHARS:,} characters")])
        toc = list(getattr(self.md, "toc_tokens", []))
        seen: list[tuple[str, str, str]] = []
        cleaned = sanitize(html, seen, self._raw_link)
        return Rendered(cleaned, toc, self.problems, seen)

    def _raw_link(self, tag: str, href: str) -> str | None:
        """A link in raw HTML: resolved like a Markdown link (relative to the record's file),
        or None (and a problem) when it leads nowhere."""
        if href in self.rewritten:
            return href
        try:
            check_link(tag, href)
            return self.resolver(href)
        except LinkProblem as exc:
            if not isinstance(exc, Reported):
                self.problems.append((href, str(exc)))
            return None

    def links(self, text: str) -> list[tuple[str, str, dict[str, str]]]:
        """Every link and image Markdown makes of a text: tag, href and attributes."""
        self.seen = []
        try:
            self.convert(text)
            return self.seen
        finally:
            self.seen = None


def locate(text: str, href: str, start: int = 0) -> tuple[int, int]:
    """1-based line and column of `href` in a Markdown text, at or after `start` if it is
    there (1, 1 when not found)."""
    index = text.find(href, start)
    if index < 0 < start:
        index = text.find(href)
    if index < 0:
        return 1, 1
    line = text.count("\n", 0, index)
    return line + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def nesting_problem(text: str) -> tuple[int, str] | None:
    """The first line (1-based) of a Markdown text nested beyond the limits, and why."""
    depth = 0
    for number, line in enumerate(text.split("\n"), 1):
        prefix = _CONTAINERS.match(line)
        if prefix and _levels(prefix[0]) > MAX_NESTING:
            return number, (f"lists and quotes are nested more than {MAX_NESTING} levels "
                            "deep here")
        for tag in _HTML_TAG.finditer(line):
            closing, name, self_closing = tag[1], tag[2].lower(), tag[3]
            if name in _VOID_OR_SELF_CLOSING or self_closing:
                continue
            depth = max(0, depth - 1) if closing else depth + 1
            if depth > MAX_HTML_NESTING:
                return number, (f"HTML elements are nested more than {MAX_HTML_NESTING} "
                                "levels deep here (or many are left open)")
    return None


def _levels(prefix: str) -> int:
    """Nesting of a line's list and quote markers: one per marker, one more per 4 columns
    of indentation before a marker."""
    marks = _MARKERS.findall(prefix)
    return len(marks) + sum(len(space.replace("\t", "    ")) // 4 for space, _ in marks)


# A link written in raw HTML, resolved: the new value, or None to drop it.
RawLinkResolver = Callable[[str, str], "str | None"]
_ROOT = "./@root@/"  # links from the site root, as the link rewriter writes them (parts.py)


def sanitize(html: str, seen: list[tuple[str, str, str]] | None = None,
             resolve: RawLinkResolver | None = None) -> str:
    """Keep only an allowlist of tags, attributes and URL schemes (no scripts, no handlers).

    `seen` receives every attribute kept, so the caller knows the HTML's ids and links;
    `resolve` rewrites the internal links of raw HTML (Markdown's own are rewritten before).
    """
    def keep(tag: str, name: str, value: str) -> str | None:
        kept = _filter_attribute(tag, name, value)
        if kept is not None and resolve is not None and name in ("href", "src") \
                and tag in ("a", "img") and not _resolved(kept):
            kept = resolve(tag, kept)
        if kept is not None and seen is not None:
            seen.append((tag, name, kept))
        return kept

    cleaned: str = nh3.clean(
        _SEGMENTS.sub(_cut_long_text, html),
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(LINK_SCHEMES),
        link_rel=None,
        attribute_filter=keep if (seen is not None or resolve is not None) else _filter_attribute,
    )
    return cleaned


def _resolved(href: str) -> bool:
    """Links Markdown's rewriter made, external ones and fragments need no resolving."""
    return href.startswith(("#", _ROOT)) or not href or is_external(href)


def _cut_long_text(segment: re.Match[str]) -> str:
    """A long run of text, cut into pieces by empty comments (never inside an entity)."""
    text = segment[0]
    if text[0] == "<" or len(text) <= _TEXT_PIECE:
        return text
    return "<!---->".join(_TEXT_UNITS.findall(text))


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    """Drop classes the theme owns, and images from other websites (raw HTML)."""
    if name == "class":
        kept = [c for c in value.split() if c in CONTENT_CLASSES
                or (c.startswith(CONTENT_CLASS_PREFIX) and len(c) > len(CONTENT_CLASS_PREFIX))]
        return " ".join(kept) or None
    if tag == "img" and name == "src" and is_external(value.strip()):
        return None
    return value
