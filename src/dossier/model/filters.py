"""Search filters: which facets a visitor can filter the search results by, their values
as the search page's URL writes them, and what each record carries.

Model knowledge, not search machinery: browse pages link to the search page with a query
(`selection_query`) and the search page lists the filters (`filter_groups`); the search
index gives each entry its `record_filters`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from dossier.content.documents import slugify
from dossier.content.records import Record
from dossier.content.schema import Collection, Field
from dossier.model.facets import FacetTerm
from dossier.model.site import Site, facet_values

KIND = "soort"  # the filter that tells projects, organisations and dossiers apart


@dataclass(frozen=True)
class FilterValue:
    """One value of a search filter: what the URL says, what a visitor reads, how many have it."""

    value: str
    label: str
    count: int


@dataclass(frozen=True)
class FilterGroup:
    """A search filter: a facet field (merged over collections that share its name)."""

    name: str
    label: str
    values: tuple[FilterValue, ...]


def indexed_collections(site: Site) -> list[Collection]:
    """Collections whose records are search results: those with their own URL folder."""
    return [c for c in site.schema.collections if c.folder and site.records.get(c.name)]


def filter_value(f: Field, key: str) -> str:
    """The URL form of a term: a vocabulary key as it is, free text as a slug."""
    return key if f.leaf.type == "enum" else slugify(key) or "leeg"


def selection_query(site: Site, terms: Sequence[FacetTerm]) -> str:
    """The search page's query (`?soort=projecten&thema=…&doelgroep=…`) whose results are
    exactly the records of one collection that carry every one of `terms`, as
    `zoeken.js` reads it; '' if that collection's records are not searched."""
    collections = indexed_collections(site)
    if not terms or terms[0].facet.collection not in collections:
        return ""
    pairs = [(KIND, terms[0].facet.collection.name)] if len(collections) > 1 else []
    pairs += [(t.facet.name, filter_value(t.facet.field, t.key)) for t in terms]
    return "?" + urlencode(pairs)


def record_filters(site: Site, record: Record) -> dict[str, list[str]]:
    """The filter values a record carries: its collection, and the terms of its facets."""
    filters = {KIND: [record.collection.name]} if len(indexed_collections(site)) > 1 else {}
    for f in record.collection.facets:
        values = [filter_value(f, key) for key in facet_values(record, f)]
        if values:
            filters[f.name] = list(dict.fromkeys(values))
    return filters


def filter_groups(site: Site) -> list[FilterGroup]:
    """Every search filter with its values in browse order and their counts over all results."""
    lang = site.config.lang
    collections = indexed_collections(site)
    groups: dict[str, tuple[str, dict[str, FilterValue]]] = {}
    if len(collections) > 1:
        kinds = {c.name: FilterValue(c.name, c.label(lang), len(site.records[c.name]))
                 for c in collections}
        groups[KIND] = ("", kinds)  # the theme names it: t('search.kind')
    for collection in collections:
        for facet in site.facets.get(collection.name, ()):
            if facet.name == KIND or not facet.terms:
                continue
            _, values = groups.setdefault(facet.name, (facet.label, {}))
            for term in facet.terms:
                value = filter_value(facet.field, term.key)
                known = values.get(value)
                count = term.count + (known.count if known else 0)
                values[value] = FilterValue(value, known.label if known else term.label, count)
    return [FilterGroup(name, label, _ordered(name, values, site))
            for name, (label, values) in groups.items()]


def _ordered(name: str, values: dict[str, FilterValue], site: Site) -> tuple[FilterValue, ...]:
    """Vocabulary terms in vocabulary order (already so), free text alphabetically."""
    vocabulary = any(f.leaf.type == "enum" for c in indexed_collections(site)
                     for f in c.facets if f.name == name)
    if name == KIND or vocabulary:
        return tuple(values.values())
    return tuple(sorted(values.values(), key=lambda v: (v.label.casefold(), v.value)))
