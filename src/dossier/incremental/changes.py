"""What changed since the last build, and so which outputs must be made again.

The last build left, per output file, the ids of the dependencies its making read
(deps.py); per part, the same; per dependency computed from the model (a collection's
records, a term's, a record's related records, a page's place in the plan, …) what it was
then; per record its digest and a fingerprint of each field. Comparing with the model of
this build gives the set of dependencies that changed; an output is made again exactly
when it read one of them. Pure: no I/O (cache.py stores the baseline).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dossier.content.records import Record
from dossier.content.schema import holds_refs
from dossier.core import deps
from dossier.core.deps import Dep, Fingerprints, dep_id, digest, reads_any
from dossier.incremental.state import Baseline, RememberedOutput, pack_fields, unpack_fields
from dossier.model.site import Site, facet_counts, recent, selection
from dossier.plan.pages import Page


def field_fingerprints(record: Record) -> dict[str, str]:
    """What each top-level field of a record is, its body and the whole record, hashed."""
    found = {name: digest(value) for name, value in record.unrecorded_data.items()}
    found["@body"] = digest(record.raw_body)
    found["@all"] = record.digest
    return found


class Model:
    """The values of the dependencies in one site model and its plan."""

    def __init__(self, site: Site, pages: Iterable[Page]) -> None:
        self.site = site
        self.pages = {p.url: p for p in pages}
        self.values = Fingerprints(self.value)

    def value(self, dep: Dep) -> Any:
        """What a derived dependency reads as in this model."""
        site, kind = self.site, dep[0]
        if kind == "list":
            return [r.slug for r in site.unrecorded.records.get(dep[1], ())]
        if kind == "back":
            return [(link.source.key, link.field)
                    for link in site.unrecorded.backlinks.get((dep[1], dep[2]), ())]
        if kind == "related":
            return [r.key for r in site.unrecorded.related.get((dep[1], dep[2]), ())]
        if kind in ("terms", "members", "count"):
            return self._facet(dep)
        if kind == "counts":
            collection = site.schema.collection(dep[1])
            chosen = selection(site, dep[3:])
            return [(facet.name, [(c.term.key, c.count) for c in counts])
                    for facet, counts in facet_counts(site, collection, chosen, dep[2])]
        if kind == "recent":
            return [(r.key, r.unrecorded_data.get(_updated(site, dep[1]))) for r in recent(
                site, dep[1], int(dep[2]))]
        if kind == "config":
            return repr(getattr(site.unrecorded.config, dep[1], None))
        if kind == "date":
            return site.unrecorded.build_date
        if kind == "page":
            page = self.pages.get(dep[1])
            return signature(page) if page is not None else None
        if kind == "media":
            return site.media.digest_of(dep[1])
        return ["unknown", *dep]  # a kind this version does not know: never equal

    def _facet(self, dep: Dep) -> Any:
        facets = self.site.unrecorded.facets.get(dep[1], ())
        facet = next((f for f in facets if f.name == dep[2]), None)
        if facet is None:
            return None
        if dep[0] == "terms":
            return [(t.key, t.slug, t.label) for t in facet.unrecorded_terms]
        term = next((t for t in facet.unrecorded_terms if t.key == dep[3]), None)
        if term is None:
            return None
        return len(term.unrecorded_records) if dep[0] == "count" \
            else [r.key for r in term.unrecorded_records]


def signature(page: Page) -> Any:
    """What the plan says of a page: a page reads all of it (its kind, title, items, …)."""
    p = page.pagination
    return [page.kind, list(page.template), page.title,
            page.record.key if page.record is not None else None,
            page.collection.name if page.collection is not None else None,
            page.facet.name if page.facet is not None else None,
            [page.term.key, page.term.slug, page.term.label] if page.term is not None else None,
            [r.key for r in page.items],
            [p.number, p.count, list(p.urls), p.total] if p is not None else None,
            repr(page.extra)]


def changed(model: Model, baseline: Baseline) -> set[int]:
    """The ids of every dependency whose value differs from the last build's."""
    found: set[int] = set()
    current = model.site.unrecorded.index
    edited: dict[str, set[str]] = {}  # per collection: the fields some record changed
    listed: set[str] = set()  # collections that gained or lost a record
    for key, (record_digest, packed_fields) in baseline.records.items():
        record = current.get(key)
        if record is None:
            found.add(dep_id(("has", *key)))
            found.update(dep_id(("f", *key, name)) for name in unpack_fields(packed_fields))
            listed.add(key[0])
        elif record.digest != record_digest:
            fields = unpack_fields(packed_fields)
            now = field_fingerprints(record)
            names = {name for name in fields.keys() | now.keys()
                     if fields.get(name) != now.get(name)}
            found.update(dep_id(("f", *key, name)) for name in names)
            edited.setdefault(key[0], set()).update(names)
    for key in current.keys() - baseline.records.keys():
        found.add(dep_id(("has", *key)))
        listed.add(key[0])
    relevant = _Relevance(model.site, edited, listed)
    for ident, (dep, value) in baseline.derived.items():
        if relevant(dep) and model.values(dep) != value:
            found.add(ident)
    # A part that read something changed is a change to every page that shows it.
    for ident, packed in baseline.parts.items():
        if reads_any(packed, found):
            found.add(ident)
    return found


def stale(output: RememberedOutput | None, found: set[int]) -> bool:
    """Whether an output must be made again: new, made anew every build, or it read a
    dependency that changed."""
    return output is None or not output.deps or reads_any(output.deps, found)


def record_states(site: Site, baseline: Baseline) -> dict[tuple[str, str], tuple[str, str]]:
    """Each record's digest and field fingerprints (packed), as the next build compares
    them."""
    result = {}
    for key, record in site.unrecorded.index.items():
        known = baseline.records.get(key)
        result[key] = known if known is not None and known[0] == record.digest \
            else (record.digest, pack_fields(field_fingerprints(record)))
    return result


class _Relevance:
    """Whether a derived dependency can have changed, given what changed in the records:
    a body edited changes no listing, term or count, so those are not computed again."""

    def __init__(self, site: Site, edited: dict[str, set[str]], listed: set[str]) -> None:
        self.edited, self.listed = edited, listed
        schema = site.schema
        self.titles = {c.name: c.title_field for c in schema.collections}
        self.updated = {c.name: _updated(site, c.name) for c in schema.collections}
        self.facets = {c.name: {f.name for f in c.facets} for c in schema.collections}
        refs = {c.name: {f.name for f in c.fields if holds_refs(f)} for c in schema.collections}
        self.links = bool(listed) or any(edited.get(c, set()) & names
                                         for c, names in refs.items())
        self.any_title = bool(listed) or any(self.titles[c] in names
                                             for c, names in edited.items())
        self.any_facet = bool(listed) or any(self.facets[c] & names
                                             for c, names in edited.items())

    def __call__(self, dep: Dep) -> bool:
        kind = dep[0]
        if kind in ("config", "date", "media", "recent") or not (self.edited or self.listed):
            return kind != "file" and (kind != "recent" or self._recent(dep))
        if kind == "list":
            return dep[1] in self.listed
        if kind == "back":
            return self.links
        if kind == "related":  # ties go by title
            return dep[1] in self.listed or self._facet(dep[1]) \
                or self.titles[dep[1]] in self.edited.get(dep[1], set())
        if kind in ("terms", "count"):
            return dep[1] in self.listed or dep[2] in self.edited.get(dep[1], set())
        if kind == "members":
            names = self.edited.get(dep[1], set())
            return dep[1] in self.listed or dep[2] in names or self.titles[dep[1]] in names
        if kind == "counts":
            return bool(self.listed) or self._facet(dep[1]) or self.links
        if kind == "page":
            return self.any_title or self.any_facet
        return kind != "file"

    def _facet(self, collection: str) -> bool:
        return bool(self.facets.get(collection, set()) & self.edited.get(collection, set()))

    def _recent(self, dep: Dep) -> bool:
        names = self.edited.get(dep[1], set())
        return dep[1] in self.listed or self.updated.get(dep[1], "") in names


def _updated(site: Site, collection: str) -> str:
    """The name of a collection's field with the role `updated` ('' if it has none)."""
    found = site.schema.find(collection)
    f = found.role_field("updated") if found is not None else None
    return f.name if f is not None else ""


def derived_values(model: Model, baseline: Baseline, found: set[int],
                   seen: Mapping[int, Dep]) -> dict[int, tuple[Dep, str]]:
    """The values of derived dependencies to keep: of those that changed, and of those
    read for the first time (the others keep the value they had)."""
    result = {}
    with deps.paused():
        for ident, (dep, _) in baseline.derived.items():
            if ident in found:
                result[ident] = (dep, model.values(dep))
        for ident, dep in seen.items():
            if ident not in baseline.derived:
                result[ident] = (dep, model.values(dep))
    return result
