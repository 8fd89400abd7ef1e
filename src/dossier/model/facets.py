"""Facets: the fields marked `facet`, their terms in use, and selections of records.

A term's records and a facet's terms note a dependency when a page reads them
(core/deps.py); the `unrecorded_` accessors are for the code that computes what a
dependency reads as.
"""

from __future__ import annotations

from collections.abc import Iterable

from dossier.content.records import Record
from dossier.content.schema import Collection, Field
from dossier.core import deps
from dossier.core.deps import Dep


class Selection(tuple[Record, ...]):
    """Records chosen by one rule (a collection, a facet term, the records naming one):
    the rule is kept, so that what is counted of them can be noted as one dependency."""

    source: Dep = ()

    @classmethod
    def of(cls, records: Iterable[Record], source: Dep) -> Selection:
        chosen = cls(records)
        chosen.source = source
        return chosen


class FacetTerm:
    """One value of a facet with the records that carry it."""

    __slots__ = ("_records", "facet", "key", "label", "slug")

    def __init__(self, facet: Facet, key: str, label: str, slug: str,
                 records: tuple[Record, ...]) -> None:
        self.facet, self.key, self.label, self.slug = facet, key, label, slug
        self._records = Selection.of(records, ("members", facet.collection.name, facet.name,
                                               key))

    @property
    def records(self) -> Selection:
        deps.note(self._records.source)
        return self._records

    @property
    def unrecorded_records(self) -> Selection:
        """The records, read without noting a dependency (to compute one's value)."""
        return self._records

    @property
    def count(self) -> int:
        deps.note(("count", *self._records.source[1:]))
        return len(self._records)

    @property
    def url(self) -> str:
        return f"{self.facet.folder}/{self.slug}/"


class Facet:
    """A field marked `facet` in one collection, with its terms in use."""

    __slots__ = ("_terms", "collection", "field", "label")

    def __init__(self, collection: Collection, field: Field, label: str) -> None:
        self.collection, self.field, self.label = collection, field, label
        self._terms: list[FacetTerm] = []

    @property
    def terms(self) -> list[FacetTerm]:
        deps.note(("terms", self.collection.name, self.field.name))
        return self._terms

    def add(self, term: FacetTerm) -> None:
        """One more term in use (while the model is linked)."""
        self._terms.append(term)

    @property
    def unrecorded_terms(self) -> list[FacetTerm]:
        """The terms, read without noting a dependency (to compute one's value)."""
        return self._terms

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def folder(self) -> str:
        return self.collection.facet_folder(self.field.name)

    @property
    def url(self) -> str:
        return f"{self.folder}/"
