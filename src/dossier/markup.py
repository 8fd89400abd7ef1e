"""Markdown → safe HTML: Python-Markdown, links between records rewritten, raw HTML sanitised."""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from dossier.loader import slugify
from dossier.urls import is_external

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


@dataclass
class Rendered:
    """HTML of one Markdown text, its headings for a table of contents, and bad links."""

    html: str
    toc: list[dict[str, Any]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (href, message)


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
                element.set(attr, self.owner.resolver(href))
            except LinkProblem as exc:
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


def _identity(href: str) -> str:
    return href


class MarkdownRenderer:
    """One reusable Markdown converter (building one is costly; reset between texts)."""

    def __init__(self) -> None:
        self.resolver: LinkResolver = _identity
        self.problems: list[tuple[str, str]] = []
        self.md = markdown.Markdown(
            extensions=["tables", "attr_list", "footnotes", "sane_lists", "toc", _Rewrite(self)],
            extension_configs={
                "toc": {"slugify": lambda value, sep: slugify(value) or "sectie",
                        "toc_depth": "2-3"},
                "footnotes": {"BACKLINK_TITLE": "Terug naar tekst %d"},
                "tables": {"use_align_attribute": True},
            },
            output_format="html",
        )

    def convert(self, text: str, resolver: LinkResolver = _identity) -> Rendered:
        """Markdown text → sanitised HTML with rewritten links."""
        self.md.reset()
        self.resolver, self.problems = resolver, []
        html = sanitize(self.md.convert(text))
        toc = list(getattr(self.md, "toc_tokens", []))
        return Rendered(html, toc, self.problems)


def sanitize(html: str) -> str:
    """Keep only an allowlist of tags, attributes and URL schemes (no scripts, no handlers)."""
    cleaned: str = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(LINK_SCHEMES),
        link_rel=None,
        attribute_filter=_filter_attribute,
    )
    return cleaned


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    """Drop classes the theme owns, and images from other websites (raw HTML)."""
    if name == "class":
        kept = [c for c in value.split() if c in CONTENT_CLASSES
                or (c.startswith(CONTENT_CLASS_PREFIX) and len(c) > len(CONTENT_CLASS_PREFIX))]
        return " ".join(kept) or None
    if tag == "img" and name == "src" and is_external(value.strip()):
        return None
    return value
