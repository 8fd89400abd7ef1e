"""Discovery files: sitemap.xml, robots.txt and an Atom feed of updated projects."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial

from dossier.core.diagnostics import Diagnostic
from dossier.core.urls import absolute
from dossier.model.site import Site
from dossier.plan.pages import Page

FEED_SIZE = 50


def escape(text: str, entities: dict[str, str] | None = None) -> str:
    """Text for XML: '&', '<' and '>' as entities, and any of `entities` (as xml.sax.saxutils
    does; importing that module imports urllib.request, which a build never uses)."""
    text = text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    for char, entity in (entities or {}).items():
        text = text.replace(char, entity)
    return text


def _attr(value: str) -> str:
    """Text for a double-quoted XML attribute."""
    return escape(value, {'"': "&quot;"})


def discovery_files(site: Site, pages: Sequence[Page]) -> Iterator[tuple[str, bytes]]:
    """robots.txt always; sitemap.xml and feed.xml only with a base_url."""
    return ((rel, make()) for rel, make in discovery_makers(site, pages))


def discovery_makers(site: Site,
                     pages: Sequence[Page]) -> list[tuple[str, Callable[[], bytes]]]:
    """The discovery files, each with what makes it when it is written (the sitemap of
    10,000 projects takes 0.1 s: made by the process that writes the open data, not
    while the build plans)."""
    base = site.config.base_url
    robots = "User-agent: *\nAllow: /\n"
    makers: list[tuple[str, Callable[[], bytes]]] = []
    if base:
        robots += f"Sitemap: {absolute(base, 'sitemap.xml')}\n"
        makers.append(("sitemap.xml", lambda: sitemap(site, pages).encode()))
        makers.append(("feed.xml", lambda: atom_feed(site).encode()))
    makers.append(("robots.txt", partial(bytes, robots.encode())))
    return makers


def discovery_warnings(site: Site) -> list[Diagnostic]:
    if site.config.base_url:
        return []
    return [Diagnostic("content/site.yml", 1, 1, "warning", "base_url",
                       "not set, so no sitemap.xml, feed.xml or canonical links are written")]


def sitemap(site: Site, pages: Sequence[Page]) -> str:
    """Every page except the 404 page and printable copies, with the date of its record's
    last update where known."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for page in pages:
        if page.url == "404.html" or page.kind == "print":
            continue
        lines.append(f"<url><loc>{escape(absolute(site.config.base_url, page.url))}</loc>")
        updated = page.record.role_value("updated") if page.record else None
        if isinstance(updated, str):
            lines[-1] += f"<lastmod>{updated}</lastmod>"
        lines[-1] += "</url>"
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def atom_feed(site: Site) -> str:
    """Projects by the date of their last update, newest first (records without that date
    are left out)."""
    base = site.config.base_url
    dated = [r for r in site.role_records("project")
             if isinstance(r.role_value("updated"), str)]
    dated.sort(key=lambda r: (r.role_value("updated"), r.slug), reverse=True)
    dated = dated[:FEED_SIZE]
    updated = dated[0].role_value("updated") if dated else (site.build_date or "1970-01-01")
    feed_url = absolute(base, "feed.xml")
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{site.config.lang}">',
           f"<title>{escape(site.config.title)}</title>",
           f"<id>{escape(feed_url)}</id>",
           f'<link rel="self" href="{_attr(feed_url)}"/>',
           f'<link rel="alternate" href="{_attr(base)}"/>',
           f"<updated>{updated}T00:00:00Z</updated>"]
    if site.publisher:
        out.append(f"<author><name>{escape(site.publisher.title)}</name></author>")
    else:
        out.append(f"<author><name>{escape(site.config.title)}</name></author>")
    for record in dated:
        url = absolute(base, record.url)
        summary = str(record.role_value("summary") or "").strip()
        out += ["<entry>",
                f"<title>{escape(record.title)}</title>",
                f'<link rel="alternate" href="{_attr(url)}"/>',
                f"<id>{escape(url)}</id>",
                f"<updated>{record.role_value('updated')}T00:00:00Z</updated>",
                f"<summary>{escape(summary)}</summary>",
                "</entry>"]
    out.append("</feed>")
    return "\n".join(out) + "\n"
