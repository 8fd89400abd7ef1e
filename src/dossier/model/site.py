"""Link stage: records → Site model with references resolved, derived sides and facets.

Pure: no I/O. Everything a template needs to know about other records is computed here once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dossier.content.documents import slugify
from dossier.content.records import Record
from dossier.content.schema import Collection, Field, Schema
from dossier.content.settings import SiteConfig
from dossier.core import deps
from dossier.core.deps import Dep
from dossier.model.facets import Facet, FacetTerm, Selection
from dossier.model.media import Media
from dossier.model.related import RelatedRecords


@dataclass(frozen=True)
class Backlink:
    """`source` names the target record in its field `field` (dotted path)."""

    source: Record
    field: str


@dataclass(frozen=True)
class Unrecorded:
    """A site's parts read without noting a dependency: for the code that plans outputs
    and computes what a dependency reads as, never for what a page shows."""

    config: SiteConfig
    records: Mapping[str, Selection]
    backlinks: Mapping[tuple[str, str], tuple[Backlink, ...]]
    facets: Mapping[str, tuple[Facet, ...]]
    related: Mapping[tuple[str, str], tuple[Record, ...]]
    build_date: str
    index: Mapping[tuple[str, str], Record]  # every record by key


class Site:
    """The whole dossier, linked: what every page is rendered from.

    Read through its properties while a page renders, it notes what was read (deps.py).
    """

    def __init__(self, config: SiteConfig, schema: Schema,
                 records: Mapping[str, tuple[Record, ...]],
                 backlinks: Mapping[tuple[str, str], tuple[Backlink, ...]],
                 facets: Mapping[str, tuple[Facet, ...]],
                 related: Mapping[tuple[str, str], tuple[Record, ...]] | None = None,
                 build_date: str = "", media: Media | None = None) -> None:
        self.schema = schema
        self._config = config
        self._records = {name: Selection.of(rs, ("list", name)) for name, rs in records.items()}
        self._backlinks = backlinks
        self._facets = facets
        self._related = related or {}
        self._build_date = build_date  # YYYY-MM-DD from SOURCE_DATE_EPOCH or the newest date
        self.media = media or Media()  # files records refer to
        self._index = {r.key: r for rs in self._records.values() for r in rs}
        self.unrecorded = Unrecorded(config, self._records, backlinks, facets, self._related,
                                     build_date, self._index)

    def with_media(self, media: Media) -> Site:
        site = object.__new__(Site)
        site.__dict__.update(self.__dict__)
        site.media = media
        return site

    @property
    def config(self) -> SiteConfig:
        return _Settings(self._config) if deps.active() else self._config  # type: ignore

    @property
    def records(self) -> Mapping[str, Selection]:
        """Per collection, its records sorted by slug."""
        return _Noted(self._records, lambda name: ("list", name)) if deps.active() \
            else self._records

    @property
    def backlinks(self) -> Mapping[tuple[str, str], tuple[Backlink, ...]]:
        return _Noted(self._backlinks, lambda key: ("back", *key)) if deps.active() \
            else self._backlinks

    @property
    def facets(self) -> Mapping[str, tuple[Facet, ...]]:
        """Per collection, its facets (their terms are noted when they are read)."""
        return self._facets

    @property
    def related(self) -> Mapping[tuple[str, str], tuple[Record, ...]]:
        """Per record: the most similar records of its collection."""
        return _Noted(self._related, lambda key: ("related", *key)) if deps.active() \
            else self._related

    @property
    def build_date(self) -> str:
        deps.note(("date",))
        return self._build_date

    def get(self, collection: str, slug: str) -> Record:
        """The record a reference names (validation made sure it exists)."""
        deps.note(("has", collection, slug))
        return self._index[(collection, slug)]

    def find(self, collection: str, slug: str) -> Record | None:
        deps.note(("has", collection, slug))
        return self._index.get((collection, slug))

    def all_records(self) -> Iterable[Record]:
        for collection in self.schema.collections:
            yield from self.records.get(collection.name, ())

    def role(self, role: str) -> Collection | None:
        """The collection that plays `role` (project, organisation, dossier, page)."""
        return self.schema.role(role)

    def role_records(self, role: str) -> Selection:
        """The records of the collection that plays `role` (none if no collection does)."""
        collection = self.schema.role(role)
        return self.records.get(collection.name, Selection()) if collection else Selection()

    def referrers(self, record: Record, collection: str = "",
                  fields: Iterable[str] = ()) -> Selection:
        """Records that name `record`, optionally only from one collection or some fields."""
        wanted = set(fields)
        seen: dict[tuple[str, str], Record] = {}
        for link in self.backlinks.get(record.key, ()):
            if collection and link.source.collection.name != collection:
                continue
            if wanted and link.field not in wanted:
                continue
            seen.setdefault(link.source.key, link.source)
        return Selection.of(sorted(seen.values(), key=sort_key),
                            ("referrers", *record.key, collection, *sorted(wanted)))

    def refs(self, record: Record, collection: str) -> list[Record]:
        """Records of `collection` that `record` names, in any field."""
        found = {slug: self.get(kind, slug) for _, kind, slug in record.refs
                 if kind == collection}
        return sorted(found.values(), key=sort_key)

    @property
    def publisher(self) -> Record | None:
        """The organisation that publishes the databank (site.yml's `uitgever`)."""
        return self._find_in_role("organisation", self.config.publisher)

    @property
    def introduction(self) -> Record | None:
        """The content page the home page introduces (site.yml's `introductie`)."""
        return self._find_in_role("page", self.config.intro)

    def _find_in_role(self, role: str, slug: str) -> Record | None:
        if not slug:
            return None
        for collection in self.schema.with_role(role):
            found = self.find(collection.name, slug)
            if found is not None:
                return found
        return None


def settings(site: Site) -> SiteConfig:
    """The site's settings as templates get them: each one read is noted."""
    return _Settings(site._config)  # type: ignore[return-value]


def recent(site: Site, collection: str, count: int) -> list[Record]:
    """The `count` records of a collection most recently updated (the field with the role
    `updated`), newest first."""
    chosen = site.schema.find(collection)
    updated = chosen.role_field("updated") if chosen is not None else None
    if updated is None:
        return []
    name = updated.name
    dated = [r for r in site.records.get(collection, ()) if isinstance(r.data.get(name), str)]
    return sorted(dated, key=lambda r: (r.data[name], r.slug), reverse=True)[:count]


class _Noted(Mapping[Any, Any]):
    """A mapping of the model that notes which of its entries are read."""

    __slots__ = ("_dep", "_items")

    def __init__(self, items: Mapping[Any, Any], dep: Callable[[Any], Dep]) -> None:
        self._items, self._dep = items, dep

    def __getitem__(self, key: Any) -> Any:
        deps.note(self._dep(key))
        return self._items[key]

    def get(self, key: Any, default: Any = None) -> Any:
        deps.note(self._dep(key))
        return self._items.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class _Settings:
    """The site's settings, noting each one read."""

    __slots__ = ("_config",)

    def __init__(self, config: SiteConfig) -> None:
        self._config = config

    def __getattr__(self, name: str) -> Any:
        deps.note(("config", name))
        return getattr(self._config, name)


def sort_key(record: Record) -> tuple[str, str]:
    """Records sort by title as a reader sees it (Één with the E's), then slug."""
    return record.sort_key


def link(config: SiteConfig, schema: Schema, records: list[Record], build_date: str = "",
         media: Media | None = None) -> Site:
    """Assemble the Site: group records, compute backlinks and facets."""
    grouped: dict[str, list[Record]] = {c.name: [] for c in schema.collections}
    for record in records:
        grouped[record.collection.name].append(record)
    by_collection = {name: tuple(sorted(rs, key=lambda r: r.slug)) for name, rs in grouped.items()}
    backlinks: dict[tuple[str, str], list[Backlink]] = {}
    for record in records:
        for where, collection, value in record.refs:
            backlinks.setdefault((collection, value), []).append(Backlink(record, where))
    facets = {c.name: tuple(_facets(c, by_collection[c.name], schema, config.lang))
              for c in schema.collections}
    related = RelatedRecords(records, facets)
    return Site(
        config=config,
        schema=schema,
        records=by_collection,
        backlinks={k: tuple(sorted(v, key=lambda b: (b.source.key, b.field)))
                   for k, v in backlinks.items()},
        facets=facets,
        related=related,
        build_date=build_date or _newest_date(records),
        media=media,
    )


def facet_values(record: Record, f: Field) -> tuple[str, ...]:
    """The term keys a record carries for a facet field (each once)."""
    return record.facet(f.name)


def _facets(collection: Collection, records: tuple[Record, ...], schema: Schema,
            lang: str) -> list[Facet]:
    result = []
    ordered = sorted(records, key=lambda r: r.unrecorded_sort_key())
    # Per facet field, its values' records in title order: one pass over the records.
    by_field: dict[str, dict[str, list[Record]]] = {f.name: {} for f in collection.facets}
    for record in ordered:
        for name, values in record.unrecorded_facet_values().items():
            members = by_field[name]
            for value in values:
                members.setdefault(value, []).append(record)
    for f in collection.facets:
        facet = Facet(collection, f, f.label(lang))
        members = by_field[f.name]
        leaf = f.leaf
        if leaf.type == "enum":
            keys = [t.key for t in schema.terms(leaf.vocabulary) if t.key in members]
        else:
            keys = sorted(members, key=str.casefold)
        slugs: set[str] = set()
        for key in keys:
            label = schema.term_label(leaf.vocabulary, key, lang) if leaf.type == "enum" else key
            slug = _unique(key if leaf.type == "enum" else _term_slug(key), slugs)
            facet.add(FacetTerm(facet, key, label, slug, tuple(members[key])))
        result.append(facet)
    return result


MAX_TERM_SLUG = 80  # characters of a URL folder made from a free-text facet value


def _term_slug(value: str) -> str:
    """The URL folder of a free-text facet value; a long value must not make a file name
    longer than the disk allows (255 bytes)."""
    return slugify(value)[:MAX_TERM_SLUG].rstrip("-") or "leeg"


def _unique(slug: str, taken: set[str]) -> str:
    """'den-haag' twice (from 'Den Haag' and 'den haag') becomes 'den-haag-2'."""
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _newest_date(records: Iterable[Record]) -> str:
    dates: list[Any] = [r.role_value("updated") for r in records]
    return max((d for d in dates if isinstance(d, str)), default="")


def related(site: Site, record: Record) -> list[Record]:
    """Records of the same collection sharing the most facet terms (ties: by title)."""
    return list(site.related.get(record.key, ()))


@dataclass(frozen=True)
class TermCount:
    """A facet term with the number of records of some selection that carry it."""

    term: FacetTerm
    count: int


def facet_counts(site: Site, collection: Collection, records: Iterable[Record],
                 skip: str = "") -> list[tuple[Facet, list[TermCount]]]:
    """For a selection of records: per facet, the terms they carry and how often.

    The counts of a selection with a known rule (a collection, a term, the records
    naming one) are noted as one dependency, not as every record's facet fields.
    """
    source = records.source if isinstance(records, Selection) else ()
    if not source or not deps.active():
        return _facet_counts(site, collection, records, skip)
    deps.note(("counts", collection.name, skip, *source))
    with deps.paused():
        found = _facet_counts(site, collection, records, skip)
    for facet, _ in found:  # their terms' labels and URLs are what a sidebar shows
        deps.note(("terms", collection.name, facet.name))
    return found


def _facet_counts(site: Site, collection: Collection, records: Iterable[Record],
                  skip: str) -> list[tuple[Facet, list[TermCount]]]:
    chosen = list(records)
    result = []
    for facet in site.facets.get(collection.name, ()):
        if facet.name == skip:
            continue
        tally: dict[str, int] = {}
        for record in chosen:
            for value in record.facet(facet.name):
                tally[value] = tally.get(value, 0) + 1
        counts = [TermCount(t, tally[t.key]) for t in facet.terms if t.key in tally]
        if counts:
            result.append((facet, counts))
    return result


def selection(site: Site, source: Dep) -> Selection:
    """The records a selection's rule chooses in `site` (for its dependency)."""
    kind = source[0]
    if kind == "list":
        return site._records.get(source[1], Selection())
    if kind == "members":
        for facet in site._facets.get(source[1], ()):
            if facet.name == source[2]:
                return next((t.unrecorded_records for t in facet.unrecorded_terms
                             if t.key == source[3]),
                            Selection())
        return Selection()
    record = site._index.get((source[1], source[2]))
    if record is None:
        return Selection()
    return site.referrers(record, source[3], source[4:])


def group_by_term(site: Site, collection: Collection, field_name: str,
                  records: Iterable[Record]) -> list[tuple[FacetTerm | None, list[Record]]]:
    """Records grouped under each term of a facet (a record can be in several groups)."""
    chosen = sorted(records, key=sort_key)
    facet = next((f for f in site.facets.get(collection.name, ()) if f.name == field_name), None)
    if facet is None:
        return [(None, chosen)]
    groups: list[tuple[FacetTerm | None, list[Record]]] = []
    for term in facet.terms:
        members = [r for r in chosen if term.key in facet_values(r, facet.field)]
        if members:
            groups.append((term, members))
    rest = [r for r in chosen if not facet_values(r, facet.field)]
    if rest:
        groups.append((None, rest))
    return groups
