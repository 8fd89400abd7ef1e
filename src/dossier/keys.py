"""Input keys of output files: a page is re-rendered only when its key changes.

A key hashes everything a page is made from, following the relations of the Site model:
a record page depends on the record, the titles of what it names, the cards of what
names it and of its related records; a list or facet page on the cards it shows and on
the facet values of its whole selection (the sidebar counts). Adding, removing or
renaming a record changes the `structure` part of every key, so such builds are full
builds; so is any change to templates, schema, settings or the generator (the caller's
`generation`). Pure: no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import cached_property

from dossier.model import Site
from dossier.pages import Page
from dossier.records import Record


def _hash(*parts: str) -> str:
    text = "\0".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16).hexdigest()


# Page kinds whose inputs `Keys.page` spells out; any other kind depends on everything.
_KNOWN = frozenset({"home", "record", "list", "facet", "term", "print", "search", "az",
                    "data", "404"})


class Keys:
    """Computes (and remembers) the input keys of one site's outputs."""

    def __init__(self, site: Site, generation: str) -> None:
        self.site = site
        self.generation = generation
        self._cards: dict[tuple[str, str], str] = {}
        self._facets: dict[tuple[str, str], str] = {}
        self._selections: dict[int, tuple[Sequence[Record], str]] = {}

    @cached_property
    def structure(self) -> str:
        """Which records exist: any add, delete or rename changes it."""
        return _hash(*(f"{r.collection.name}/{r.slug}" for r in self.site.all_records()))

    def _base(self, kind: str, url: str) -> list[str]:
        # The build date is in every page's footer (it may come from a record's date).
        return [self.generation, self.structure, self.site.build_date, kind, url]

    def card(self, record: Record) -> str:
        """A record as it shows on other pages: its own bytes and its references' titles."""
        key = self._cards.get(record.key)
        if key is None:
            refs = [f"{kind}/{slug}:{self.site.get(kind, slug).title}"
                    for _, kind, slug in record.refs]
            # The record's own name too: two files with the same bytes are two records.
            key = _hash(record.collection.name, record.slug, record.digest,
                        self.site.media.digest(record), *refs)
            self._cards[record.key] = key
        return key

    def facet_signature(self, record: Record) -> str:
        """The facet values of a record (what sidebar counts and groups are made of)."""
        key = self._facets.get(record.key)
        if key is None:
            key = _hash(repr(sorted(record.facets.items())))
            self._facets[record.key] = key
        return key

    def cards(self, records: Iterable[Record]) -> str:
        return _hash(*(self.card(r) for r in records))

    def selection(self, records: Sequence[Record]) -> str:
        """The facet values of a set of records; the pages of one list share the set."""
        cached = self._selections.get(id(records))
        if cached is None or cached[0] is not records:
            cached = (records, _hash(*(self.facet_signature(r) for r in records)))
            self._selections[id(records)] = cached
        return cached[1]

    @cached_property
    def everything(self) -> str:
        """Every record as it shows on pages: for outputs whose inputs are not spelled out."""
        return self.cards(self.site.all_records())

    @cached_property
    def all_facets(self) -> str:
        """Every facet term with its count."""
        return _hash(*(f"{f.name}:{t.key}:{t.slug}:{t.label}:{t.count}"
                       for fs in self.site.facets.values() for f in fs for t in f.terms))

    def page(self, page: Page) -> str:
        """The key of one page of the plan."""
        parts = self._base(page.kind, page.url)
        site = self.site
        if page.pagination is not None:
            p = page.pagination
            parts.append(f"{p.number}/{p.count}/{p.total}")
        if page.record is not None:
            record = page.record
            referrers = [link.source for link in site.backlinks.get(record.key, ())]
            parts += [self.card(record), self.cards(referrers),
                      self.cards(site.related.get(record.key, ())),
                      self.selection(referrers)]
        if page.items:
            parts.append(self.cards(page.items))
        if page.term is not None:
            parts += [self.selection(page.term.records), page.term.label]
        elif page.kind == "list" and page.collection is not None:
            parts.append(self.selection(site.records[page.collection.name]))
        if page.facet is not None or page.kind in ("home", "data", "search"):
            parts.append(self.all_facets)
        if page.kind not in _KNOWN:
            parts.append(self.everything)  # a page kind whose inputs we do not know
        if page.kind == "home":
            parts.append(self.cards(site.records.get("dossiers", ())))
            parts.append(self.cards(site.records.get("paginas", ())))
            parts += [f"{r.title}:{r.data.get('bijgewerkt')}" for rs in site.records.values()
                      for r in rs if "bijgewerkt" in r.data]
        if page.kind == "az":
            parts.append(_hash(*(r.title for r in site.all_records())))
        if site.publisher is not None:
            parts.append(site.publisher.title)
        return _hash(*parts)

    def record_export(self, record: Record) -> str:
        return _hash(*self._base("record-json", record.url), self.card(record))

    def collection_export(self, name: str) -> str:
        return _hash(*self._base("collection", name), self.cards(self.site.records[name]))
