"""Render stage: one page of the plan → HTML. Pure: reads only the Site and templates.

A page is assembled from parts made once (parts.py): a record's body, facts panel, card and
JSON-LD, a selection's sidebar. The templates stay what a site overrides to change the look:
the parts are rendered by templates too (partials/card.html, partials/facts.html, …).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any, TypeVar
from urllib.parse import quote, unquote

import jinja2
import yaml
from markupsafe import Markup

from dossier.content.markup import MarkdownRenderer
from dossier.content.records import Record
from dossier.content.roles import COLLECTION_ROLES
from dossier.content.schema import MEDIA_TYPES, Collection, Field
from dossier.core import deps
from dossier.core.deps import Dep
from dossier.core.diagnostics import Diagnostic
from dossier.core.urls import absolute, base_path
from dossier.model.facets import Facet, FacetTerm
from dossier.model.filters import selection_query
from dossier.model.site import (
    Site,
    TermCount,
    facet_counts,
    group_by_term,
    recent,
    related,
    settings,
    sort_key,
)
from dossier.plan.pages import SEARCH_URL, Page
from dossier.render import linkcheck
from dossier.render.assets import THEME
from dossier.render.jsonld import record_jsonld, script_json
from dossier.render.markdown import RecordMarkdown
from dossier.render.parts import (
    ROOT,
    Anchor,
    Meta,
    Origin,
    Part,
    collect,
    current,
    make_part,
)
from dossier.render.pictures import media_helpers
from dossier.render.stores import FragmentStore, PartStore
from dossier.render.templating import template_origin, template_path

K = TypeVar("K")
V = TypeVar("V")

MONTHS = {
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}


@dataclass
class RenderedPage:
    """A page's URL and HTML, the problems found while rendering it, and its links' needs."""

    url: str
    html: str
    problems: list[Diagnostic] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    anchors: list[Anchor] = field(default_factory=list)  # ids on other pages
    troubles: list[linkcheck.Trouble] = field(default_factory=list)  # broken template links
    deps: set[Dep] = field(default_factory=set)  # what it read of the model


def load_messages(lang: str, site_templates: Path | None = None) -> dict[str, str]:
    """The interface strings for `lang`, from the theme, overridable per site."""
    messages: dict[str, str] = {}
    for folder in (THEME / "messages", site_templates / "messages" if site_templates else None):
        if folder is not None and (folder / f"{lang}.yml").is_file():
            messages.update(yaml.safe_load((folder / f"{lang}.yml").read_text("utf-8")) or {})
    return messages


class _SidebarPage:
    """What a sidebar may know of the page it is on: it is shared by a whole selection."""

    def __init__(self, page: Page) -> None:
        self.collection = page.collection
        self.facet = page.facet

    def __getattr__(self, name: str) -> Any:
        raise jinja2.UndefinedError(
            f"partials/sidebar.html may only use page.collection and page.facet, not "
            f"page.{name}: one sidebar serves every page of a selection")


class Renderer(RecordMarkdown):
    """Renders pages of one site; holds what is costly to set up (Jinja, Markdown)."""

    def __init__(self, site: Site, env: jinja2.Environment, messages: dict[str, str],
                 assets: Mapping[str, str] | None = None,
                 fragments: FragmentStore | None = None,
                 parts: PartStore | None = None, site_dir: Path | None = None) -> None:
        self.site = site
        self.assets = assets or {}  # static file name → published (fingerprinted) path
        self.env = env
        self.messages = messages
        self.lang = site.config.lang
        self.markdown = MarkdownRenderer(messages.get("footnote.back", "Terug naar tekst %d"))
        self.fragments = fragments  # Markdown converted in earlier builds or other workers
        self.store = parts  # parts made by other workers in this build
        self.site_dir = site_dir
        self.files: set[str] | None = None  # every output file, to check links against
        self.prefix = base_path(site.config.base_url)
        self.page: Page | None = None  # the page being rendered
        # Parts of this process, by what they show; bounded, so memory follows the site's
        # metadata, not the HTML it renders.
        self.cache: Bounded[tuple[Any, ...], Part] = Bounded(20_000)
        self.tocs: Bounded[str, list[Any]] = Bounded(20_000)  # of the bodies in `cache`
        self.sidebars: Bounded[tuple[Any, ...], tuple[Sequence[Record], Part]] = Bounded(256)
        self.counts: Bounded[tuple[str, str, int, int],
                             tuple[Sequence[Record], list[tuple[Facet, list[TermCount]]],
                                   frozenset[Dep]]] = Bounded(256)
        self.by_source = {r.path: r for r in site.all_records()}
        self.terms: dict[tuple[str, str, str], FacetTerm] = {
            (c, facet.name, term.key): term
            for c, facets in site.facets.items() for facet in facets for term in facet.terms
        }
        self.urls: dict[int, tuple[Any, str]] = {}  # id(target) → (target, marked URL)
        helpers: dict[str, Callable[..., Any]] = {"t": self.translate, "date": self.format_date,
                                                  **self.helpers()}
        env.globals.update(site=site, config=settings(site), schema=site.schema, lang=self.lang,
                           **helpers)
        # A helper's code → the name templates call it by (for its errors).
        self.helper_names = {code: name for name, f in helpers.items()
                             if (code := _code_of(f)) is not None}

    def helpers(self) -> dict[str, Callable[..., Any]]:
        return {
            "url": self.url, "abs_url": self.abs_url, "static": self.static,
            "body": self.body, "md": self.md, "ref": self.ref, "term": self.term,
            "facet_of": self.facet_of, "shown_fields": self.shown_fields, "card": self.card,
            "related": lambda record: related(self.site, record),
            "facet_counts": self.facet_counts,
            "group_by_term": self.group_by_term,
            "jsonld": self.jsonld, "recent": self.recent, "referred_by": self.referred_by,
            "first_paragraph": self.first_paragraph, "az_groups": self.az_groups,
            "sidebar": self.sidebar, "facts_panel": self.facts_panel,
            "search_url": self.search_url,
            **media_helpers(self.site.media, self.url, self.abs_url, self.lang,
                            self.translate),
        }

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

    # --- pages --------------------------------------------------------------------------

    def render(self, page: Page) -> RenderedPage:
        """Render one page to HTML, with its links made relative to it and checked, and
        what it read of the model (deps.py)."""
        template = self.env.select_template(list(page.template))
        self.page = page
        try:
            with deps.recording(page=True) as read:
                deps.note(("page", page.url))
                shell, collector = collect(lambda: template.render(page=page))
        finally:
            self.page = None
        checked = linkcheck.PageCheck(page.url, self.files, self.prefix, self.locate)
        html = checked.finish(shell, collector)
        return RenderedPage(page.url, html, checked.problems, checked.ids, checked.anchors,
                            checked.troubles, read)

    def close(self) -> None:
        """Close the stores (a temporary one goes with its file)."""
        if self.fragments is not None:
            self.fragments.close()
        if self.store is not None:
            self.store.remove()

    def locate_literal(self, href: str, fallback: str) -> Origin:
        """The template that writes a link literally (the first that has it), else the
        page's own template: a scan finds such a link, not the template code."""
        loader = self.env.loader
        assert loader is not None
        for name in sorted(self.env.list_templates()):
            source, filename, _ = loader.get_source(self.env, name)
            at = source.find(href) if href else -1
            if at >= 0:
                line = source.count("\n", 0, at) + 1
                col = at - (source.rfind("\n", 0, at) + 1) + 1
                return Origin(template_path(filename, name), line, col)
        return Origin(template_path(None, fallback), 1, 1)

    def card_html(self, record: Record, page: Page) -> str:
        """The card of `record` with links as they are on `page` (search results reuse it)."""
        return linkcheck.localize(str.__str__(self.card(record)), page.url, self.prefix)

    # --- parts --------------------------------------------------------------------------

    def _part(self, key: tuple[Any, ...], make: Callable[[], Part], shared: bool = True) -> Part:
        """A part from this process, another worker (`store`), or made now; whoever takes
        it reads what it read (deps.py)."""
        found = self.cache.get(key)
        if found is None:
            found = self.store.get(key) if shared and self.store is not None else None
            if found is None:
                found = make()
                if shared and self.store is not None:
                    self.store.put(key, found)
            self.cache[key] = found
        if found.meta is not None:
            deps.use_part(("part", *map(str, key)), found.meta.deps)
        return found

    def card(self, record: Record) -> Part:
        """The record's card (partials/card.html), made once for every page that shows it."""
        return self._part(("card", *record.key), lambda: self._template_part(
            "partials/card.html", record=record))

    def facts_panel(self, record: Record) -> Part:
        """The record's facts (partials/facts.html), for its page and the printable dossier."""
        return self._part(("facts", *record.key), lambda: self._template_part(
            "partials/facts.html", record=record))

    def jsonld(self, record: Record) -> Part:
        """The record's schema.org JSON-LD, escaped for a script element ('' if none)."""
        def make() -> Part:
            with deps.recording() as read:
                data = record_jsonld(self.site, record)
            meta = Meta(deps=frozenset(read))
            return Part.made(script_json(data) if data is not None else "", meta)
        return self._part(("jsonld", *record.key), make, shared=False)

    def sidebar(self, records: Sequence[Record]) -> Part:
        """partials/sidebar.html for a selection: the same on every page of the selection
        (a list and its pagination), so rendered once per selection."""
        page = self.page
        assert page is not None
        facet = page.facet.name if page.facet else ""
        collection = page.collection.name if page.collection else ""
        key = (collection, facet, id(records), len(records))
        cached = self.sidebars.get(key)
        if cached is None or cached[0] is not records:
            part = self._template_part("partials/sidebar.html", page=_SidebarPage(page),
                                       selection_records=records)
            cached = self.sidebars[key] = (records, part)
        if cached[1].meta is not None:
            deps.use_part(("part", "sidebar", collection, facet, *_source(records)),
                          cached[1].meta.deps)
        return cached[1]

    def search_url(self, *terms: FacetTerm) -> str:
        """The search page showing the records that carry all `terms` ('' if none can)."""
        query = selection_query(self.site, terms)
        return self.url(SEARCH_URL) + query if query else ""

    def _template_part(self, name: str, **context: Any) -> Part:
        template = self.env.get_template(name)
        return make_part(lambda: template.render(**context))

    # --- helpers for templates ----------------------------------------------------------

    def facet_counts(self, collection: Collection, records: Sequence[Record],
                     skip: str = "") -> list[tuple[Facet, list[TermCount]]]:
        """Term counts within a selection; every page of a paginated list shares them."""
        key = (collection.name, skip, id(records), len(records))
        cached = self.counts.get(key)
        if cached is None or cached[0] is not records:
            with deps.recording() as read:
                found = facet_counts(self.site, collection, records, skip)
            cached = self.counts[key] = (records, found, frozenset(read))
        else:
            deps.adopt(cached[2])
        return cached[1]

    def recent(self, role: str = "project", count: int = 5) -> list[Record]:
        """The records of the collection that plays `role` most recently updated, newest
        first (noted as one dependency: what is shown of them is noted as it is read)."""
        if role not in COLLECTION_ROLES:
            known = ", ".join(COLLECTION_ROLES)
            raise ValueError(f"'{role}' is not a role of a collection ({known})")
        collection = self.site.role(role)
        if collection is None:
            return []
        deps.note(("recent", collection.name, str(count)))
        with deps.paused():
            return recent(self.site, collection.name, count)

    def referred_by(self, record: Record,
                    collection: Collection | None) -> list[tuple[str, list[Record]]]:
        """Records of `collection` naming `record`, grouped by the field that names it,
        each group with that field's `reverse_label` (else its label)."""
        if collection is None:
            return []
        groups: dict[str, list[Record]] = {}
        for link in self.site.backlinks.get(record.key, ()):
            if link.source.collection.name == collection.name:
                members = groups.setdefault(link.field.split(".")[0], [])
                if link.source not in members:
                    members.append(link.source)
        result = []
        for f in collection.fields:
            if f.name in groups:
                label = (f.reverse_label or f.label)(self.lang)
                result.append((label, sorted(groups[f.name], key=sort_key)))
        return result

    def group_by_term(self, collection: Collection | None, f: Field | None,
                      records: Iterable[Record]) -> list[tuple[FacetTerm | None, list[Record]]]:
        """Records under each term of a facet field; all under None without the field."""
        if collection is None or f is None:
            return [(None, sorted(records, key=sort_key))]
        return group_by_term(self.site, collection, f.name, records)

    def first_paragraph(self, record: Record) -> Markup:
        """The first paragraph of a record's body, for an introduction."""
        html = str.__str__(self.body(record).html)
        start, end = html.find("<p>"), html.find("</p>")
        return Markup(html[start:end + 4]) if 0 <= start < end else Markup("")

    def az_groups(self, collections: list[str]) -> list[tuple[str, list[Record]]]:
        """Records of some collections under their first letter (A–Z, then '#')."""
        groups: dict[str, list[Record]] = {}
        for name in collections:
            for record in self.site.records.get(name, ()):
                first = unicodedata.normalize("NFKD", record.title[:1]).upper()[:1]
                letter = first if "A" <= first <= "Z" else "#"
                groups.setdefault(letter, []).append(record)
        order = sorted(groups, key=lambda letter: (letter == "#", letter))
        return [(letter, sorted(groups[letter], key=sort_key)) for letter in order]

    def url(self, target: Record | FacetTerm | Facet | Collection | str) -> Markup:
        """Link to a record, facet, collection or site path, from the site root (each page
        makes it relative to itself)."""
        known = self.urls.get(id(target))
        if known is not None and known[0] is target:
            marked = known[1]
        else:
            path = _target(target)
            marked = ROOT + quote(path, safe="/.-_~%#")
            if not isinstance(target, str):
                self.urls[id(target)] = (target, marked)
        if "#" in marked or not self._exists(marked):
            self._note_origin(marked)
        return Markup(marked)

    def _exists(self, marked: str) -> bool:
        return self.files is None or linkcheck.target_file(
            unquote(marked[len(ROOT):]), self.files) is not None

    def _note_origin(self, marked: str) -> None:
        """Remember which template line made a link that may have to be reported."""
        collector = current()
        if collector is not None and marked not in collector.meta.suspects:
            collector.meta.suspects[marked] = template_origin() or Origin("templates", 1, 1)

    def abs_url(self, target: Record | FacetTerm | Facet | Collection | str) -> str:
        """Absolute URL (needs base_url; '' without it)."""
        base = self.site.config.base_url
        return absolute(base, _target(target)) if base else ""

    def static(self, path: str) -> Markup:
        """Link to a static file by its plain name; it is published under a hashed name."""
        return self.url(self.assets.get(path, f"static/{path}"))

    def ref(self, f: Field, slug: str) -> Record:
        return self.site.get(f.leaf.collection, slug)

    def term(self, collection: Collection, field_name: str, key: Any) -> FacetTerm | None:
        deps.note(("terms", collection.name, field_name))
        return self.terms.get((collection.name, field_name, str(key)))

    def facet_of(self, collection: Collection, field_name: str) -> Facet | None:
        return next((f for f in self.site.facets[collection.name] if f.name == field_name),
                    None)

    def shown_fields(self, record: Record, which: str = "all") -> list[tuple[Field, Any]]:
        """The record's present fields in schema order, without its title.

        `which`: "summary" (fields for cards), "facts" (the facts panel), "references"
        (lists of titled items such as publications, shown as reference lists).
        """
        result = []
        data = record.data
        for f in record.collection.fields:
            if f.name == record.collection.title_field:
                continue
            if which == "summary" and not f.summary:
                continue
            if which == "facts" and (f.type == "text" or is_reference_list(f)
                                     or f.leaf.type in MEDIA_TYPES):
                continue
            if which == "references" and not is_reference_list(f):
                continue
            if f.name in data:
                result.append((f, data[f.name]))
        return result


def _code_of(function: Callable[..., Any]) -> CodeType | None:
    """The code of a function or bound method."""
    inner = getattr(function, "__func__", function)
    code = getattr(inner, "__code__", None)
    return code if isinstance(code, CodeType) else None


def _source(records: Sequence[Record]) -> tuple[str, ...]:
    """The rule that chose a selection, or the records themselves."""
    source = getattr(records, "source", ())
    return tuple(source) if source else tuple(f"{c}/{s}" for c, s in (r.key for r in records))


def _target(target: Record | FacetTerm | Facet | Collection | str) -> str:
    if isinstance(target, Collection):
        return target.url("").rstrip("/") + "/" if target.folder else ""
    if isinstance(target, str):
        return target
    return target.url


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
    """A list of items with a title (publications, links, sources: a field with the role
    `title`) reads best as a list of references."""
    return f.items is not None and f.items.role_field("title") is not None
