"""Check stage: every internal href/src in the output leads to a file (and #anchor to an id).

`collect` and `check_links` read finished HTML (tests and the example-site crawl use them);
a build checks each page as it is made (`PageCheck`, below), without parsing it again.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from html import unescape
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlsplit

from dossier.core.diagnostics import Diagnostic
from dossier.core.urls import is_external, output_path, root_link_maker
from dossier.render.parts import (
    LINK_ATTRS,
    PAIR,
    ROOT,
    SKIP,
    TAG,
    Anchor,
    Collector,
    Meta,
    Origin,
    assemble,
    scan,
)

if TYPE_CHECKING:
    from dossier.plan.pages import Page


@dataclass
class PageLinks:
    """What one output page links to and which ids it has."""

    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


def collect(html: str) -> PageLinks:
    """Links and ids of one HTML page."""
    found = PageLinks()
    html = SKIP.sub(lambda m: m.group(1) or "", html)
    for tag in TAG.findall(html):
        pairs = [(m[0].lower(), m[1] or m[2] or m[3]) for m in PAIR.findall(tag)]
        if not pairs:
            continue
        canonical = tag[:5].lower() == "<link" and ("rel", "canonical") in pairs
        for name, raw in pairs:
            value = unescape(raw)
            if name == "id":
                found.ids.add(value)
            elif name in LINK_ATTRS and not canonical:
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


# --- checking a page as it is made ------------------------------------------------------
#
# Links made by `url()` and by the Markdown rewriter are written from the site root behind
# a marker (parts.ROOT); the one pass that makes them relative to the page also checks them
# against the set of output files. Links that templates wrote literally, and ids, come from
# scanning the page's shell and, once, each part (parts.py). No finished page is parsed.


# After ROOT: the path, then a query and a fragment, each perhaps empty.
_TAIL = re.compile(r"""([^"'\s<>#,?]*)((?:\?[^"'\s<>#,]*)?(?:#[^"'\s<>,]*)?)""")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:.")


@dataclass(frozen=True)
class Trouble:
    """A broken link that a template made: reported once, however many pages show it.

    `message` is the same on every page (it groups them); `detail` says what was wrong on
    this page (a link written relative to the page leads elsewhere on each).
    """

    origin: Origin
    message: str
    page: str
    detail: str = ""


def target_file(path: str, files: set[str]) -> str | None:
    """The output file a site path leads to ('projecten/x/' → its index.html), if any."""
    if path in files:
        return path
    target = output_path(path.rstrip("/") + "/" if path else "")
    return target if target in files else None


def marked_links(html: str) -> Iterator[tuple[int, int, str, str, str]]:
    """Every link from the site root in `html`: (start, end, attribute, path, and query
    and fragment).

    `attribute` is the name of the attribute it is the value of, in lowercase ('' outside
    one); the later entries of a `srcset` list carry `srcset` too.
    """
    attribute = ""
    at = html.find(ROOT)
    while at >= 0:
        tail = _TAIL.match(html, at + len(ROOT))
        assert tail is not None
        attribute = _attribute_before(html, at, attribute)
        yield at, tail.end(), attribute, tail[1], tail[2]
        at = html.find(ROOT, tail.end())


def _attribute_before(html: str, at: int, previous: str) -> str:
    """The attribute whose value starts at `at` (a continued srcset keeps `previous`)."""
    k = at
    if k and html[k - 1] in "\"'":
        k -= 1
    while k and html[k - 1] == " ":
        k -= 1
    if not k or html[k - 1] != "=":
        return previous if previous == "srcset" and html[at - 2:at].strip() == "," else ""
    end = k - 1
    while end and html[end - 1] == " ":
        end -= 1
    start = end
    while start and html[start - 1] in _NAME_CHARS:
        start -= 1
    return html[start:end].lower()


def localize(html: str, page_url: str, prefix: str) -> str:
    """HTML with its links from the site root made relative to the page at `page_url`."""
    if ROOT not in html:
        return html
    rel = root_link_maker(page_url, prefix)
    pieces: list[str] = []
    done = 0
    for start, end, _, qpath, suffix in marked_links(html):
        pieces += (html[done:start], rel(qpath, suffix))
        done = end
    pieces.append(html[done:])
    return "".join(pieces)


class PageCheck:
    """Makes one page's links relative and checks them; collects what is wrong."""

    def __init__(self, page_url: str, files: set[str] | None, prefix: str,
                 locate: Callable[[Origin, str], Origin]) -> None:
        self.url = page_url
        self.rel_path = output_path(page_url)
        self.files = files
        self.prefix = prefix
        self.locate = locate
        self.problems: list[Diagnostic] = []
        self.troubles: list[Trouble] = []
        self.anchors: list[Anchor] = []
        self.ids: set[str] = set()

    def finish(self, shell: str, collector: Collector) -> str:
        """The page's HTML: parts put in place, links made relative and checked."""
        meta = collector.meta
        scan(shell, meta)
        for part in collector.parts:
            assert part.meta is not None
            meta.add(part.meta)
        self.ids = meta.ids
        self.problems += meta.problems
        html = assemble(shell, collector.parts)
        declared = {(target, fragment) for target, fragment, _ in meta.anchors}
        for target, fragment, origin in meta.anchors:
            if target != self.rel_path:
                self.anchors.append((target, fragment, origin))
            elif fragment not in self.ids:  # a content link to an id on its own page
                place = self.locate(origin, origin.href or f"#{fragment}")
                self.problems.append(Diagnostic(place.path, place.line, place.column, "error",
                                                place.field, missing_anchor(
                                                    place.href or f"#{fragment}", target,
                                                    fragment)))
        html = self._localize(html, meta, declared)
        for _, value, written in meta.literal:
            self._literal(value, written)
        return html

    def _localize(self, html: str, meta: Meta, declared: set[tuple[str, str]]) -> str:
        if ROOT not in html:
            return html
        rel = root_link_maker(self.url, self.prefix)
        pieces: list[str] = []
        done = 0
        checked: set[tuple[str, str]] = set()
        for start, end, attribute, qpath, suffix in marked_links(html):
            link = rel(qpath, suffix)
            pieces += (html[done:start], link)
            done = end
            if (attribute in LINK_ATTRS or attribute == "srcset") \
                    and (qpath, suffix) not in checked:
                checked.add((qpath, suffix))
                fragment = suffix[suffix.find("#"):] if "#" in suffix else ""
                self._marked(qpath, fragment, link, meta, declared)
        pieces.append(html[done:])
        return "".join(pieces)

    def _marked(self, qpath: str, fragment: str, link: str, meta: Meta,
                declared: set[tuple[str, str]]) -> None:
        """A link from the site root: its file must exist, its fragment an id there."""
        if self.files is None:
            return
        path = unquote(qpath)
        target = target_file(path, self.files)
        origin: Origin | None = meta.suspects.get(ROOT + qpath + fragment)
        if target is None:
            shown = path if "." in path.rsplit("/", 1)[-1] else output_path(
                path.rstrip("/") + "/" if path else "")
            self._trouble(origin, f"broken link to '{path}{fragment}': no file {shown}")
        elif fragment and target == self.rel_path:
            if unquote(fragment[1:]) not in self.ids:
                self._trouble(origin, missing_anchor(f"{path}{fragment}", target,
                                                     unquote(fragment[1:])))
        elif fragment and target.endswith(".html") and (target, fragment[1:]) not in declared:
            self.anchors.append((target, unquote(fragment[1:]),
                                 origin or Origin("", 0, 0, "", link)))

    def _literal(self, value: str, origin: Origin | None) -> None:
        """A link written as it is: relative to the page, or a fragment of it."""
        if self.files is None:
            return
        target, fragment, message = _resolve(self.rel_path, value, self.files, self.prefix)
        if not message and fragment and target == self.rel_path:
            if fragment not in self.ids:
                message = missing_anchor(value, target, fragment)
        elif not message and fragment and target.endswith(".html"):
            self.anchors.append((target, fragment, origin or Origin("", 0, 0, "", value)))
        if not message:
            return
        if origin is not None and origin.in_content:
            place = self.locate(origin, value)
            self.problems.append(Diagnostic(place.path, place.line, place.column, "error",
                                            place.field, message))
        else:
            detail = message.split(": ", 1)[1] if message.startswith("broken link") \
                else message.replace(f"link '{value}' ", "")
            self._trouble(origin or Origin("", 0, 0, "", value), f"broken link '{value}'",
                          detail)

    def _trouble(self, origin: Origin | None, message: str, detail: str = "") -> None:
        self.troubles.append(Trouble(origin or Origin("", 0, 0), message, self.url, detail))


# --- problems of links to other pages, once every page is rendered --------------------

class PageIds(Protocol):
    @property
    def ids(self) -> Collection[str]: ...


class PageMaker(Protocol):
    """What the checks after rendering ask of the renderer: a page's ids (by rendering
    it), and where a link was written."""

    def render(self, page: Page) -> PageIds: ...

    def locate(self, origin: Origin, href: str) -> Origin: ...

    def locate_literal(self, href: str, fallback: str) -> Origin: ...


def anchor_problems(renderer: PageMaker, pages: list[Page],
                     anchors: dict[str, tuple[Anchor, ...]],
                     ids: dict[str, Collection[str]],
                     problems: list[Diagnostic],
                     earlier: Callable[[str], Collection[str] | None]) -> Iterator[Trouble]:
    """Links to an #id on another page: that page must have the id (`ids`: of the pages
    rendered; `earlier`: of a page taken over, as the last build found them). A content
    link that fails is a problem of its record; one a template made, a trouble of its
    template."""
    by_rel = {output_path(p.url): p for p in pages}
    for rel in sorted(anchors):
        for target, fragment, origin in anchors[rel]:
            page = by_rel.get(target)
            if page is None:
                continue
            known = ids.get(target)
            if known is None:
                known = earlier(target)
            if known is None:  # its ids are not known: render it again
                known = ids[target] = renderer.render(page).ids
            if fragment in known:
                continue
            message = missing_anchor(origin.href or f"{target}#{fragment}", target, fragment)
            if not origin.in_content:
                message = missing_anchor(f"{target}#{fragment}", target, fragment)
            if origin.in_content:
                place = renderer.locate(origin, origin.href or f"#{fragment}")
                problems.append(Diagnostic(place.path, place.line, place.column, "error",
                                           place.field, message))
            else:
                yield Trouble(origin, message, by_rel[rel].url if rel in by_rel else rel)


def trouble_problems(renderer: PageMaker, pages: list[Page],
                      troubles: list[Trouble]) -> list[Diagnostic]:
    """Broken links that templates made, each once, with the first page that shows it."""
    templates = {p.url: p.template[0] for p in pages}
    grouped: dict[tuple[str, int, int, str], dict[str, str]] = {}
    for trouble in troubles:
        origin = trouble.origin
        if not origin.path:
            origin = renderer.locate_literal(origin.href, templates.get(trouble.page, ""))
        grouped.setdefault((origin.path, origin.line, origin.column, trouble.message),
                           {}).setdefault(trouble.page, trouble.detail)
    found = []
    for (path, line, column, message), on in grouped.items():
        shown = sorted(on, key=lambda url: (url.count("/"), url))
        detail = f": {on[shown[0]]}" if on[shown[0]] else ""
        where = f"on page '{shown[0] or '/'}'" + (
            f" and {len(shown) - 1} other page{'s' * (len(shown) > 2)}" if len(shown) > 1
            else "")
        found.append(Diagnostic(path, line, column, "error", "", f"{message}{detail} ({where})"))
    return found
