"""Render stage: one page of the plan → HTML. Pure: reads only the Site and templates."""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote

import jinja2
import yaml
from markupsafe import Markup

from dossier.diagnostics import Diagnostic, suggest
from dossier.fragments import ROOT, FragmentStore
from dossier.jsonld import record_jsonld, script_json
from dossier.markup import LinkProblem, MarkdownRenderer, Rendered, locate, nest, sanitize
from dossier.model import (
    Facet,
    FacetTerm,
    Site,
    TermCount,
    facet_counts,
    group_by_term,
    related,
    sort_key,
)
from dossier.pages import Page
from dossier.pictures import expand_images, media_helpers
from dossier.records import Record
from dossier.schema import MEDIA_TYPES, Collection, Field
from dossier.urls import absolute, base_path, depth, is_external, relative

THEME = Path(__file__).parent / "theme"
K = TypeVar("K")
V = TypeVar("V")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]|\\")
# A link written from the site root in converted Markdown (see fragments.py).
_ROOT_LINK = re.compile(r'(?<=\s)(href|src)="' + re.escape(ROOT) + r'([^"]*)"')

MONTHS = {
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}


@dataclass(frozen=True)
class RenderedPage:
    """A page's URL, its HTML and the problems found while rendering it."""

    url: str
    html: str
    problems: tuple[Diagnostic, ...] = ()


def load_messages(lang: str, site_templates: Path | None = None) -> dict[str, str]:
    """The interface strings for `lang`, from the theme, overridable per site."""
    messages: dict[str, str] = {}
    for folder in (THEME / "messages", site_templates / "messages" if site_templates else None):
        if folder is not None and (folder / f"{lang}.yml").is_file():
            messages.update(yaml.safe_load((folder / f"{lang}.yml").read_text("utf-8")) or {})
    return messages


def make_environment(site_templates: Path | None) -> jinja2.Environment:
    """Jinja with autoescape and StrictUndefined; the site's templates override the theme's."""
    loaders: list[jinja2.BaseLoader] = []
    if site_templates is not None and site_templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(site_templates))
    loaders.append(jinja2.FileSystemLoader(THEME / "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
        auto_reload=False,  # templates do not change during a build: no stat per include
    )
    env.filters["nest"] = nest
    return env


class Renderer:
    """Renders pages of one site; holds what is costly to set up (Jinja, Markdown)."""

    def __init__(self, site: Site, env: jinja2.Environment, messages: dict[str, str],
                 assets: Mapping[str, str] | None = None,
                 fragments: FragmentStore | None = None) -> None:
        self.site = site
        self.assets = assets or {}  # static file name → published (fingerprinted) path
        self.env = env
        self.messages = messages
        self.lang = site.config.lang
        self.markdown = MarkdownRenderer(messages.get("footnote.back", "Terug naar tekst %d"))
        self.fragments = fragments  # Markdown converted in earlier builds or other workers
        # Converted text fields of records (links from the site root), by record and text.
        self.text_cache: Bounded[tuple[str, str], Rendered] = Bounded(4096)
        # Fragments whose HTML depends only on the page's depth, rendered once per depth.
        # Bounded, so memory follows the site's metadata, not the HTML it renders.
        self.card_cache: Bounded[tuple[tuple[str, str], int], Markup] = Bounded(50_000)
        self.sidebar_cache: Bounded[tuple[str, str, int, int, int],
                                    tuple[Sequence[Record], Markup]] = Bounded(256)
        self.count_cache: Bounded[tuple[str, str, int, int],
                                  tuple[Sequence[Record], list[tuple[Facet, list[TermCount]]]]] \
            = Bounded(256)
        self.by_source = {r.path: r for r in site.all_records()}
        self.terms: dict[tuple[str, str, str], FacetTerm] = {
            (c, facet.name, term.key): term
            for c, facets in site.facets.items() for facet in facets for term in facet.terms
        }
        env.globals.update(site=site, config=site.config, schema=site.schema, lang=self.lang,
                           t=self.translate, date=self.format_date)

    def translate(self, key: str, **values: Any) -> str:
        """An interface string in the site's language; a missing key is a theme bug."""
        if key not in self.messages:
            raise KeyError(f"interface text '{key}' is missing from the {self.lang} catalogue")
        return self.messages[key].format(**values) if values else self.messages[key]

    def format_date(self, value: str) -> str:
        """'2012-06-14' → '14 juni 2012'; '2012-06' → 'juni 2012'."""
        parts = [int(p) for p in value.split("-")]
        month = MONTHS[self.lang][parts[1] - 1] if len(parts) > 1 else ""
        if len(parts) == 3:
            day = dt.date(*parts).day
            if self.lang == "en":
                return f"{month} {day}, {parts[0]}"
            return f"{day} {month} {parts[0]}"
        return f"{month} {parts[0]}".strip()

    def render(self, page: Page) -> RenderedPage:
        """Render one page to HTML."""
        context = _PageContext(self, page)
        template = self.env.select_template(list(page.template))
        html = template.render(page=page, **context.helpers())
        return RenderedPage(page.url, html, tuple(context.problems))

    def card_html(self, record: Record, page: Page) -> str:
        """The card of `record` with links as they are on `page` (search results reuse it)."""
        return str(_PageContext(self, page).card(record))


class _PageContext:
    """Helpers bound to one page: every link they make is relative to it."""

    def __init__(self, renderer: Renderer, page: Page) -> None:
        self.r = renderer
        self.page = page
        self.problems: list[Diagnostic] = []
        # The 404 page is served at any depth, so its links start at the site's path.
        self.prefix = base_path(renderer.site.config.base_url) if page.url == "404.html" else ""
        # Cached fragments are shared by pages whose links look alike: same depth, no prefix.
        self.depth = -1 if self.prefix else depth(page.url)

    def helpers(self) -> dict[str, Callable[..., Any]]:
        return {
            "url": self.url, "abs_url": self.abs_url, "static": self.static,
            "body": self.body, "md": self.md, "ref": self.ref, "term": self.term,
            "facet_of": self.facet_of, "shown_fields": self.shown_fields, "card": self.card,
            "related": lambda record: related(self.r.site, record),
            "facet_counts": self.facet_counts,
            "group_by_term": lambda collection, name, records: group_by_term(
                self.r.site, collection, name, records),
            "jsonld": self.jsonld, "recent": self.recent, "roles": self.roles,
            "first_paragraph": self.first_paragraph, "az_groups": self.az_groups,
            "sidebar": self.sidebar,
            **media_helpers(self.r.site.media, self.url, self.abs_url, self.r.lang,
                            self.r.translate),
        }

    def sidebar(self, records: Sequence[Record]) -> Markup:
        """partials/sidebar.html for a selection: the same on every page of the selection
        (a list and its pagination), so rendered once per selection and depth."""
        facet = self.page.facet.name if self.page.facet else ""
        collection = self.page.collection.name if self.page.collection else ""
        key = (collection, facet, id(records), len(records), self.depth)
        cached = self.r.sidebar_cache.get(key)
        if cached is None or cached[0] is not records:
            template = self.r.env.get_template("partials/sidebar.html")
            html = Markup(template.render(page=self.page, selection_records=records,
                                          **self.helpers()))
            cached = self.r.sidebar_cache[key] = (records, html)
        return cached[1]

    def facet_counts(self, collection: Collection, records: Sequence[Record],
                     skip: str = "") -> list[tuple[Facet, list[TermCount]]]:
        """Term counts within a selection; every page of a paginated list shares them."""
        key = (collection.name, skip, id(records), len(records))
        cached = self.r.count_cache.get(key)
        if cached is None or cached[0] is not records:
            cached = (records, facet_counts(self.r.site, collection, records, skip))
            self.r.count_cache[key] = cached
        return cached[1]

    def jsonld(self, record: Record) -> Markup:
        """The record's schema.org JSON-LD, escaped for a script element ('' if none)."""
        data = record_jsonld(self.r.site, record)
        return Markup(script_json(data)) if data is not None else Markup("")

    def recent(self, collection: str, count: int = 5) -> list[Record]:
        """The records most recently `bijgewerkt`, newest first."""
        dated = [r for r in self.r.site.records.get(collection, ())
                 if isinstance(r.data.get("bijgewerkt"), str)]
        return sorted(dated, key=lambda r: (r.data["bijgewerkt"], r.slug), reverse=True)[:count]

    def roles(self, record: Record, collection: str) -> list[tuple[str, list[Record]]]:
        """Records of `collection` naming `record`, grouped by the field that names it."""
        source = self.r.site.schema.collection(collection)
        groups: dict[str, list[Record]] = {}
        for link in self.r.site.backlinks.get(record.key, ()):
            if link.source.collection.name == collection:
                members = groups.setdefault(link.field.split(".")[0], [])
                if link.source not in members:
                    members.append(link.source)
        result = []
        for f in source.fields:
            if f.name in groups:
                key = f"role.{f.name}"
                label = self.r.messages.get(key) or f.label(self.r.lang)
                result.append((label, sorted(groups[f.name], key=sort_key)))
        return result

    def first_paragraph(self, record: Record) -> Markup:
        """The first paragraph of a record's body, for an introduction."""
        html = self.body(record).html
        start, end = html.find("<p>"), html.find("</p>")
        return Markup(html[start:end + 4]) if 0 <= start < end else Markup("")

    def az_groups(self, collections: list[str]) -> list[tuple[str, list[Record]]]:
        """Records of some collections under their first letter (A–Z, then '#')."""
        groups: dict[str, list[Record]] = {}
        for name in collections:
            for record in self.r.site.records.get(name, ()):
                first = unicodedata.normalize("NFKD", record.title[:1]).upper()[:1]
                letter = first if "A" <= first <= "Z" else "#"
                groups.setdefault(letter, []).append(record)
        order = sorted(groups, key=lambda letter: (letter == "#", letter))
        return [(letter, sorted(groups[letter], key=sort_key)) for letter in order]

    def card(self, record: Record) -> Markup:
        """The record's card (partials/card.html), shared by all pages of the same depth."""
        key = (record.key, self.depth)
        cached = self.r.card_cache.get(key)
        if cached is None:
            template = self.r.env.get_template("partials/card.html")
            cached = Markup(template.render(page=self.page, record=record, **self.helpers()))
            self.r.card_cache[key] = cached
        return cached

    def target(self, target: Record | FacetTerm | Facet | Collection | str) -> str:
        if isinstance(target, Collection):
            return target.url("").rstrip("/") + "/" if target.folder else ""
        if isinstance(target, str):
            return target
        return target.url

    def url(self, target: Record | FacetTerm | Facet | Collection | str) -> str:
        """Relative link from this page to a record, facet, collection or site path."""
        path = self.target(target)
        if self.prefix:
            return self.prefix + path
        return relative(self.page.url, path)

    def abs_url(self, target: Record | FacetTerm | Facet | Collection | str) -> str:
        """Absolute URL (needs base_url; '' without it)."""
        base = self.r.site.config.base_url
        return absolute(base, self.target(target)) if base else ""

    def static(self, path: str) -> str:
        """Link to a static file by its plain name; it is published under a hashed name."""
        return self.url(self.r.assets.get(path, f"static/{path}"))

    def ref(self, f: Field, slug: str) -> Record:
        return self.r.site.get(f.leaf.collection, slug)

    def term(self, collection: Collection, field_name: str, key: Any) -> FacetTerm | None:
        return self.r.terms.get((collection.name, field_name, str(key)))

    def facet_of(self, collection: Collection, field_name: str) -> Facet | None:
        return next((f for f in self.r.site.facets[collection.name] if f.name == field_name),
                    None)

    def shown_fields(self, record: Record, which: str = "all") -> list[tuple[Field, Any]]:
        """The record's present fields in schema order, without its title.

        `which`: "summary" (fields for cards), "facts" (the facts panel), "references"
        (lists of titled items such as publications, shown as reference lists).
        """
        result = []
        for f in record.collection.fields:
            if f.name == record.collection.title_field or f.name not in record.data:
                continue
            if which == "summary" and not f.summary:
                continue
            if which == "facts" and (f.type == "text" or is_reference_list(f)
                                     or f.leaf.type in MEDIA_TYPES):
                continue
            if which == "references" and not is_reference_list(f):
                continue
            result.append((f, record.data[f.name]))
        return result

    def body(self, record: Record) -> Rendered:
        """The record's Markdown body as HTML for this page."""
        return self._localized(self._convert(record.body, record, record.body_line))

    def md(self, text: str, record: Record) -> Rendered:
        """A Markdown text field of `record` as HTML for this page."""
        key = (record.path, text)
        cached = self.r.text_cache.get(key)
        if cached is None:
            cached = self.r.text_cache[key] = self._convert(text, record, 0)
        return self._localized(cached)

    def _localized(self, rendered: Rendered) -> Rendered:
        """Converted Markdown with its links from the site root made relative to this page."""
        if ROOT not in rendered.html:
            return rendered
        html = expand_images(rendered.html, self.r.site.media, self.url)
        html = _ROOT_LINK.sub(lambda m: f'{m[1]}="{self.url(m[2])}"', html)
        return Rendered(html, rendered.toc, rendered.problems)

    def _convert(self, text: str, record: Record, first_line: int) -> Rendered:
        """Markdown → HTML with links from the site root; from the fragment store if it
        has this text of this record, with its links still leading to the same pages."""
        store = self.r.fragments
        key = store.key(record.path, text) if store is not None else ""
        if store is not None:
            stored = store.get(key)
            if stored is not None and self._still_leads(stored[2]) \
                    and sanitize(stored[0]) == stored[0]:
                return Rendered(stored[0], stored[1])
        targets: list[tuple[str, str]] = []
        rendered = self.r.markdown.convert(text, lambda href: self._md_link(href, record,
                                                                              targets))
        for href, message in rendered.problems:
            line_in_text, col = locate(text, href)
            line = first_line + line_in_text - 1 if first_line else 1
            self.problems.append(Diagnostic(record.path, line, col, "error",
                                            "body" if first_line else "", message,
                                            self._hint(href, record)))
        if store is not None and not rendered.problems:
            store.put(key, record.path, rendered.html, rendered.toc, targets)
        return rendered

    def _still_leads(self, targets: list[tuple[str, str]]) -> bool:
        """Whether every record a stored fragment links to is still published at its URL."""
        for path, url in targets:
            found = self.r.by_source.get(path)
            if (found.url if found else self.r.site.media.url_of(path)) != url:
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
        found = self.r.by_source.get(target)
        if found is None:
            published = self.r.site.media.link(record.path, href)  # a file beside records
            if published is None:
                raise LinkProblem(f"link '{href}' does not lead to a published record")
            targets.append((target, published))
            return ROOT + quote(published, safe="/.-_~%") + (f"#{fragment}" if fragment else "")
        targets.append((target, found.url))
        return ROOT + quote(found.url, safe="/.-_~%") + (f"#{fragment}" if fragment else "")

    def _hint(self, href: str, record: Record) -> str:
        path = href.partition("#")[0]
        target = posixpath.normpath(posixpath.join(posixpath.dirname(record.path), unquote(path)))
        close = suggest(target, self.r.by_source)
        if not close:
            return ""
        rel = posixpath.relpath(close.strip("'"), posixpath.dirname(record.path))
        return f"'{rel}'"


class Bounded(dict[K, V]):
    """A dict that forgets its oldest entries beyond `limit` (a cache of fragments)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: K, value: V) -> None:
        if len(self) >= self.limit and key not in self:
            del self[next(iter(self))]
        super().__setitem__(key, value)


def is_reference_list(f: Field) -> bool:
    """A list of items with a title (publications, links, sources) reads best as a list."""
    return f.items is not None and any(sub.name == "titel" for sub in f.items.fields)


def render_all(renderer: Renderer, pages: Iterable[Page]) -> Iterable[RenderedPage]:
    """Render pages one at a time (so they can be written as they come)."""
    for page in pages:
        yield renderer.render(page)
