"""Which pages a site has: one plan, computed from the Site model (pure)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from dossier.content.records import Record
from dossier.content.roles import COLLECTION_ROLES
from dossier.content.schema import Collection
from dossier.core.diagnostics import Diagnostic
from dossier.model.facets import Facet, FacetTerm
from dossier.model.filters import filter_groups
from dossier.model.site import Site, sort_key

SEARCH_URL = "zoeken/"
PRINT_FOLDER = "afdrukken"  # <dossier>/afdrukken/: the whole dossier on one page


@dataclass(frozen=True, eq=False)
class Page:
    """One output page: its URL, the template that renders it and what it is about."""

    url: str
    template: tuple[str, ...]  # candidates, first found wins (site templates override)
    kind: str
    title: str
    record: Record | None = None
    collection: Collection | None = None
    facet: Facet | None = None
    term: FacetTerm | None = None
    items: Sequence[Record] = ()
    pagination: Pagination | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pagination:
    """Where a list page sits among its siblings."""

    number: int
    count: int
    urls: tuple[str, ...]  # URL of every page, index 0 = page 1
    total: int  # items over all pages

    @property
    def prev_url(self) -> str:
        return self.urls[self.number - 2] if self.number > 1 else ""

    @property
    def next_url(self) -> str:
        return self.urls[self.number] if self.number < self.count else ""

    def window(self, around: int = 2) -> list[int]:
        """Page numbers to link: first, last and a few around the current one; 0 = a gap.

        Linking every page would make each page of a long list as long as the list of pages.
        """
        shown = {1, self.count, *range(self.number - around, self.number + around + 1)}
        numbers = sorted(n for n in shown if 1 <= n <= self.count)
        result: list[int] = []
        for n in numbers:
            if result and n - result[-1] > 1:
                result.append(0)
            result.append(n)
        return result


def plan(site: Site) -> list[Page]:
    """Every page of the site, in a stable order."""
    pages = [Page("", ("home.html",), "home", site.config.title)]
    for collection in site.schema.collections:
        template = record_templates(collection)
        for record in site.records[collection.name]:
            pages.append(Page(record.url, template, "record", record.title, record=record,
                              collection=collection))
        if collection.folder:
            items = sorted(site.records[collection.name], key=sort_key)
            pages.extend(_paginate(
                collection.url("").rstrip("/") + "/" if collection.folder else "",
                items, site.config.page_size,
                (f"list/{collection.name}.html", "list.html"), "list",
                collection.label(site.config.lang), collection=collection))
        for facet in site.facets[collection.name]:
            if not facet.terms:
                continue
            pages.append(Page(facet.url, ("facet.html",), "facet", facet.label,
                              collection=collection, facet=facet))
            for term in facet.terms:
                pages.extend(_paginate(
                    term.url, term.records, site.config.page_size, ("term.html",), "term",
                    f"{facet.label}: {term.label}", collection=collection, facet=facet,
                    term=term))
    lang = site.config.lang
    for dossier in site.role_records("dossier"):
        pages.append(Page(f"{dossier.url}{PRINT_FOLDER}/", ("print.html",), "print",
                          dossier.title, record=dossier, collection=dossier.collection))
    pages.append(Page(SEARCH_URL, ("search.html",), "search",
                      "Search" if lang == "en" else "Zoeken",
                      extra={"filters": filter_groups(site)}))
    pages.append(Page("a-z/", ("az.html",), "az", "A–Z" if lang == "nl" else "A–Z index"))
    pages.append(Page("data/", ("data.html",), "data",
                      "Open data" if lang == "en" else "Open data: de gegevens"))
    pages.append(Page("404.html", ("404.html",), "404",
                      "Page not found" if lang == "en" else "Pagina niet gevonden"))
    return pages


def record_templates(collection: Collection) -> tuple[str, ...]:
    """The templates a record page may have, first found wins: the site's own for its
    collection (`record/<name>.html`), the theme's for its role (`record/<role>.html`),
    then `record.html`.

    A collection named like another role (a collection `dossier` of projects) skips the
    first: `record/dossier.html` is the theme's template for dossiers.
    """
    own = f"record/{collection.name}.html"
    by_role = f"record/{collection.role}.html" if collection.role else ""
    named_like_a_role = collection.name in COLLECTION_ROLES and collection.name != collection.role
    found = [] if named_like_a_role else [own]
    if by_role and by_role != own:
        found.append(by_role)
    return (*found, "record.html")


def _paginate(url: str, items: Sequence[Record], size: int, template: tuple[str, ...],
              kind: str, title: str, **about: Any) -> Iterator[Page]:
    count = max(1, -(-len(items) // size))
    urls = tuple(url if n == 1 else f"{url}pagina/{n}/" for n in range(1, count + 1))
    for n in range(1, count + 1):
        yield Page(urls[n - 1], template, kind, title,
                   items=items[(n - 1) * size:n * size],
                   pagination=Pagination(n, count, urls, len(items)), **about)


def collisions(pages: list[Page]) -> Iterator[Diagnostic]:
    """Two pages with one URL (a content page named like a folder, say) cannot both exist."""
    seen: dict[str, Page] = {}
    for page in pages:
        first = seen.setdefault(page.url, page)
        if first is not page:
            culprit = page.record or first.record
            path = culprit.path if culprit else "content/schema.yml"
            yield Diagnostic(path, 1, 1, "error", "",
                             f"two pages would have the URL '{page.url}' "
                             f"({first.kind} and {page.kind}); rename one")
