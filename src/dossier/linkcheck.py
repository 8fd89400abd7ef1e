"""Check stage: every internal href/src in the output leads to a file (and #anchor to an id)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import unquote, urlsplit

from dossier.diagnostics import Diagnostic
from dossier.urls import is_external, output_path

_LINK_ATTRS = {"href", "src", "action", "poster", "data"}


@dataclass
class PageLinks:
    """What one output page links to and which ids it has."""

    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


# A regular expression is many times faster than html.parser on large sites. It accepts
# every way of writing an attribute (a site's own templates may use ' or no quotes or
# capitals) and skips comments and the contents of script and style elements.
_SKIP_RE = re.compile(r"<!--.*?-->|(<(script|style)\b[^>]*>).*?</\2\s*>", re.S | re.I)
_TAG_RE = re.compile(r"<[a-zA-Z][^>]*>")
_PAIR_RE = re.compile(
    r"""\s([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")


def collect(html: str) -> PageLinks:
    """Links and ids of one HTML page."""
    found = PageLinks()
    html = _SKIP_RE.sub(lambda m: m.group(1) or "", html)
    for tag in _TAG_RE.findall(html):
        pairs = [(m[0].lower(), m[1] or m[2] or m[3]) for m in _PAIR_RE.findall(tag)]
        if not pairs:
            continue
        canonical = tag[:5].lower() == "<link" and ("rel", "canonical") in pairs
        for name, raw in pairs:
            value = unescape(raw)
            if name == "id":
                found.ids.add(value)
            elif name in _LINK_ATTRS and not canonical:
                found.links.append(value)
            elif name == "srcset":
                found.links.extend(p.split()[0] for p in value.split(",") if p.strip())
    return found


def check_links(
    pages: dict[str, PageLinks], files: set[str], prefix: str = "/"
) -> list[Diagnostic]:
    """Broken internal links, each an error naming the page (its output file) and the link."""
    problems: list[Diagnostic] = []
    for path in sorted(pages):
        messages, anchors = page_problems(path, pages[path], files, prefix)
        for link, target, fragment in anchors:
            if target in pages and fragment not in pages[target].ids:
                messages.append(missing_anchor(link, target, fragment))
        problems.extend(Diagnostic(path, 1, 1, "error", "", m) for m in messages)
    return problems


def missing_anchor(link: str, target: str, fragment: str) -> str:
    return f"broken link '{link}': {target} has no id '{fragment}'"


def page_problems(path: str, found: PageLinks, files: set[str],
                  prefix: str = "/") -> tuple[list[str], list[tuple[str, str, str]]]:
    """Messages for one page's broken links, and the (link, page, id)s it needs elsewhere."""
    messages: list[str] = []
    elsewhere: list[tuple[str, str, str]] = []
    for link in dict.fromkeys(found.links):
        target, fragment, message = _resolve(path, link, files, prefix)
        if message:
            messages.append(message)
        elif fragment and target == path:
            if fragment not in found.ids:
                messages.append(missing_anchor(link, target, fragment))
        elif fragment and target.endswith(".html"):
            elsewhere.append((link, target, fragment))
    return messages, elsewhere


def _resolve(path: str, link: str, files: set[str], prefix: str) -> tuple[str, str, str]:
    """(output file, fragment, '') for a good internal link; ('', '', message) otherwise."""
    if is_external(link) or link.startswith("data:"):
        return "", "", ""
    parts = urlsplit(link)
    target_path = unquote(parts.path)
    if target_path.startswith("/"):
        if not target_path.startswith(prefix):
            return "", "", f"link '{link}' is outside the site's path {prefix}"
        resolved = target_path[len(prefix):]
    elif target_path:
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target_path))
        if target_path.endswith("/") and resolved != ".":
            resolved += "/"
        if resolved == ".":
            resolved = ""
        elif resolved.startswith(".."):
            return "", "", f"link '{link}' leads outside the site"
    else:
        resolved = path
    target = resolved if resolved in files else output_path(resolved.rstrip("/") + "/"
                                                            if resolved else "")
    if target not in files:
        shown = resolved if "." in resolved.rsplit("/", 1)[-1] else target
        return "", "", f"broken link '{link}': no file {shown}"
    return target, unquote(parts.fragment), ""
