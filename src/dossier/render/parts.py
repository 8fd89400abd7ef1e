"""Parts: HTML made once per build and shared by every page that shows it.

A record's body, facts panel, card and JSON-LD, and a selection's sidebar, look the same on
every page that shows them except for their links, which depend on where the page sits. So
they are rendered with every internal link written from the site root behind a marker
(`ROOT`), and each page turns the marked links into its own relative ones in one pass.

While a template renders, a part it outputs is not copied into the page: Jinja's `finalize`
hook (`finalize` below) puts a short token in its place. What the templates wrote around the
parts (the page's *shell*) is small; it is scanned for the ids and the links that templates
wrote literally, and then the tokens are replaced by the parts. A part was scanned once,
when it was made, and Markdown's links and ids are known from converting it, so the bulk of
a page (its bodies, cards and facts) is never parsed again.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from markupsafe import Markup

from dossier.core import deps
from dossier.core.diagnostics import Diagnostic
from dossier.core.urls import is_external

ROOT = "./@root@/"  # a link from the site root, made relative by each page (see localize)

# A link another page must have an id for: (output file, id, where it was written).
Anchor = tuple[str, str, "Origin"]


@dataclass(frozen=True)
class Origin:
    """Where a link was written: a place in a content file, or a template (and its line)."""

    path: str
    line: int
    column: int
    field: str = ""  # the record's field ("body" for the body); "" for a template
    href: str = ""  # the link as the editor or the template wrote it

    @property
    def in_content(self) -> bool:
        return self.path.startswith("content/")


@dataclass
class Meta:
    """What is known about a part without parsing it again."""

    ids: set[str] = field(default_factory=set)
    # Links written as they are (not from the site root): (attribute, value, where, if
    # content wrote it). A fragment (`#aanpak`) or a path relative to the page; they are
    # checked on each page.
    literal: list[tuple[str, str, Origin | None]] = field(default_factory=list)
    # Content links to an id on another page, checked once every page is rendered.
    anchors: list[Anchor] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    # Links from the site root to files the site does not have, with where a template made
    # them (url() knows when it is called; the page knows whether the link is followed).
    suspects: dict[str, Origin] = field(default_factory=dict)
    # What making it read of the model (deps.py): whoever takes the part reads it too.
    deps: frozenset[tuple[str, ...]] = frozenset()

    def add(self, other: Meta) -> None:
        self.ids |= other.ids
        self.literal += other.literal
        self.anchors += other.anchors
        self.problems += other.problems
        for path, origin in other.suspects.items():
            self.suspects.setdefault(path, origin)

    def nested(self, prefix: str) -> Meta:
        """The same, for the HTML with its ids and #anchors prefixed (markup.nest)."""
        return Meta({prefix + i for i in self.ids},
                    [(name, f"#{prefix}{value[1:]}" if name == "href" and value.startswith("#")
                      else value, origin) for name, value, origin in self.literal],
                    list(self.anchors), list(self.problems), dict(self.suspects), self.deps)


class Part(Markup):
    """A piece of HTML made once, with links from the site root, and what is known of it.

    Markup's own methods return a Part without `meta`: such a result is ordinary HTML to
    the page (it is scanned with the page's shell).
    """

    meta: Meta | None = None

    @classmethod
    def made(cls, html: str, meta: Meta) -> Part:
        part = cls(html)
        part.meta = meta
        return part


class Collector:
    """What one template rendering puts into its output: the parts, and its own findings."""

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.meta = Meta()

    def token(self, part: Part) -> Markup:
        self.parts.append(part)
        return Markup(f"\x00{len(self.parts) - 1}\x00")


class _Renderings(threading.local):
    """The renderings going on in this thread (the preview renders result cards for the
    search index in a thread of its own while the next edit's pages render)."""

    def __init__(self) -> None:
        self.stack: list[Collector] = []


_here = _Renderings()


def current() -> Collector | None:
    """The collector of the innermost rendering going on in this thread, if any."""
    stack = _here.stack
    return stack[-1] if stack else None


def finalize(value: Any) -> Any:
    """Jinja's `finalize`: a part in a template's output is kept aside behind a token."""
    if type(value) is Part and value.meta is not None:
        stack = _here.stack
        if stack:
            return stack[-1].token(value)
    return value


def mark_safe(value: Any) -> Markup:
    """The `safe` filter, which leaves a part a part (Jinja's would make it plain HTML)."""
    return value if isinstance(value, Markup) else Markup(value)


def collect(render: Callable[[], str]) -> tuple[str, Collector]:
    """Run one template rendering with a collector of its own; return its shell."""
    collector = Collector()
    stack = _here.stack
    stack.append(collector)
    try:
        shell = render()
    finally:
        stack.pop()
    return shell, collector


def make_part(render: Callable[[], str], extra: Meta | None = None) -> Part:
    """Render a part: its shell is scanned once, the parts inside it are put in place, and
    what it read of the model is kept with it."""
    with deps.recording() as read:
        shell, collector = collect(render)
    meta = collector.meta
    meta.deps = frozenset(read)
    if extra is not None:
        meta.add(extra)
    scan(shell, meta)
    for inner in collector.parts:
        assert inner.meta is not None
        meta.add(inner.meta)
    return Part.made(assemble(shell, collector.parts), meta)


_TOKEN = re.compile("\x00(\\d+)\x00")


def assemble(shell: str, parts: list[Part]) -> str:
    """The shell with every token replaced by its part's HTML."""
    if not parts:
        return shell
    return _TOKEN.sub(lambda m: str.__str__(parts[int(m[1])]), shell)


# --- scanning what templates wrote ------------------------------------------------------

LINK_ATTRS = frozenset({"href", "src", "action", "poster", "data"})
# Comments and the contents of script and style elements hold no links or ids; a site's
# own templates may write attributes with ' or without quotes, or in capitals.
# (A regular expression is many times faster than html.parser on large pages.)
SKIP = re.compile(r"<!--.*?-->|(<(script|style)\b[^>]*>).*?</\2\s*>", re.S | re.I)
TAG = re.compile(r"<[a-zA-Z][^>]*>")
PAIR = re.compile(
    r"""\s([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")


def scan(html: str, meta: Meta) -> None:
    """Add the ids and the literal internal links of some template output to `meta`."""
    if "<!--" in html or "<script" in html or "<style" in html:
        html = SKIP.sub(lambda m: m.group(1) or "", html)
    for tag in TAG.findall(html):
        if "=" not in tag:
            continue
        pairs = [(m[0].lower(), m[1] or m[2] or m[3]) for m in PAIR.findall(tag)]
        canonical = tag[:5].lower() == "<link" and ("rel", "canonical") in pairs
        for name, raw in pairs:
            if name == "id":
                meta.ids.add(unescape(raw))
            elif name in LINK_ATTRS and not canonical:
                _literal(meta, name, unescape(raw))
            elif name == "srcset":
                for item in unescape(raw).split(","):
                    if item.strip():
                        _literal(meta, name, item.split()[0])


def _literal(meta: Meta, name: str, value: str) -> None:
    if value.startswith(ROOT) or is_external(value) or value.startswith("data:"):
        return
    meta.literal.append((name, value, None))
