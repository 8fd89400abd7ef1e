"""Check stage: every internal href/src in the output leads to a file (and #anchor to an id)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from dossier.diagnostics import Diagnostic
from dossier.urls import is_external, output_path

_LINK_ATTRS = {"href", "src", "action", "poster", "data"}


@dataclass
class PageLinks:
    """What one output page links to and which ids it has."""

    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = PageLinks()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id":
                self.found.ids.add(value)
            elif name in _LINK_ATTRS and not (tag == "link" and ("rel", "canonical") in attrs):
                self.found.links.append(value)
            elif name == "srcset":
                self.found.links.extend(p.split()[0] for p in value.split(",") if p.strip())


def collect(html: str) -> PageLinks:
    """Links and ids of one HTML page."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.found


def check_links(
    pages: dict[str, PageLinks], files: set[str], prefix: str = "/"
) -> list[Diagnostic]:
    """Broken internal links, each an error naming the page (its output file) and the link."""
    problems = []
    for path in sorted(pages):
        for link in pages[path].links:
            message = _problem(path, link, pages, files, prefix)
            if message:
                problems.append(Diagnostic(path, 1, 1, "error", "", message))
    return problems


def _problem(path: str, link: str, pages: dict[str, PageLinks], files: set[str],
             prefix: str) -> str:
    if is_external(link) or link.startswith("data:"):
        return ""
    parts = urlsplit(link)
    target_path = unquote(parts.path)
    if target_path.startswith("/"):
        if not target_path.startswith(prefix):
            return f"link '{link}' is outside the site's path {prefix}"
        resolved = target_path[len(prefix):]
    elif target_path:
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target_path))
        if target_path.endswith("/") and resolved != ".":
            resolved += "/"
        if resolved == ".":
            resolved = ""
        elif resolved.startswith(".."):
            return f"link '{link}' leads outside the site"
    else:
        resolved = path
    target = resolved if resolved in files else output_path(resolved.rstrip("/") + "/"
                                                            if resolved else "")
    if target not in files:
        return f"broken link '{link}': no file {target}"
    if parts.fragment and target in pages and unquote(parts.fragment) not in pages[target].ids:
        return f"broken link '{link}': {target} has no id '{unquote(parts.fragment)}'"
    return ""
