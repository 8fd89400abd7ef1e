"""Markdown → safe HTML: Python-Markdown, links between records rewritten, raw HTML sanitised."""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

from dossier.loader import slugify

# Resolves a link found in Markdown: returns the new href, or raises LinkProblem.
LinkResolver = Callable[[str], str]

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
    "td": {"colspan", "rowspan", "style"},
    "th": {"colspan", "rowspan", "scope", "style"},
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
                element.set(attr, self.owner.resolver(href))
            except LinkProblem as exc:
                self.owner.problems.append((href, str(exc)))
                del element.attrib[attr]  # reported once, here, not again by the link check


class _Rewrite(Extension):
    def __init__(self, owner: MarkdownRenderer) -> None:
        super().__init__()
        self.owner = owner

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # After inline processing (priority 20) so links exist; before toc (5) is irrelevant.
        md.treeprocessors.register(_LinkRewriter(md, self.owner), "dossier-links", 15)


def _identity(href: str) -> str:
    return href


class MarkdownRenderer:
    """One reusable Markdown converter (building one is costly; reset between texts)."""

    def __init__(self, backlink_title: str = "Terug naar tekst %d") -> None:
        self.resolver: LinkResolver = _identity
        self.problems: list[tuple[str, str]] = []
        self.md = markdown.Markdown(
            extensions=["tables", "attr_list", "footnotes", "sane_lists", "toc", _Rewrite(self)],
            extension_configs={
                "toc": {"slugify": lambda value, sep: slugify(value) or "sectie",
                        "toc_depth": "2-3"},
                "footnotes": {"BACKLINK_TITLE": backlink_title},
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


_ID_OR_ANCHOR_RE = re.compile(r'(?<=\s)(id="|href="#)([^"]*)"')
_HEADING_RE = re.compile(r"<(/?)h([2-5])\b")


def nest(html: str, prefix: str, levels: int = 1) -> Markup:
    """Body HTML placed inside a page with other bodies: ids and #anchors get `prefix`, and
    headings move down `levels` (h2 → h3), so several records can share one page."""
    html = _ID_OR_ANCHOR_RE.sub(lambda m: f'{m[1]}{prefix}{m[2]}"', html)
    if levels:
        html = _HEADING_RE.sub(lambda m: f"<{m[1]}h{min(6, int(m[2]) + levels)}", html)
    return Markup(html)


def sanitize(html: str) -> str:
    """Keep only an allowlist of tags, attributes and URL schemes (no scripts, no handlers)."""
    cleaned: str = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        filter_style_properties={"text-align"},
    )
    return cleaned
