"""Related records: for every record, the others of its collection that share the most
facet terms."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from dossier.content.records import Record
from dossier.model.facets import Facet

RELATED_COUNT = 3


class RelatedRecords(Mapping[tuple[str, str], tuple[Record, ...]]):
    """For every record, the `count` others sharing most facet terms, ties by title;
    worked out for a record when it is first asked for (a build after an edit asks for
    a few).

    Term memberships are bit masks over the records in title order; a bit-sliced counter
    adds a record's masks, so every other record's number of shared terms is counted at
    once. This keeps the work near-linear where pairwise comparison would be quadratic.
    """

    def __init__(self, records: Iterable[Record], facets: Mapping[str, tuple[Facet, ...]],
                 count: int = RELATED_COUNT) -> None:
        self.records = {r.key: r for r in records}
        self.facets = facets
        self.count = count
        self.known: dict[tuple[str, str], tuple[Record, ...]] = {}
        self.orders: dict[str, tuple[list[Record], dict[tuple[str, str], int],
                                     dict[tuple[str, str], int]]] = {}

    def __getitem__(self, key: tuple[str, str]) -> tuple[Record, ...]:
        found = self.known.get(key)
        if found is None:
            record = self.records[key]
            found = self.known[key] = self._work_out(record)
        return found

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def _order(self, collection: str) -> tuple[list[Record], dict[tuple[str, str], int],
                                               dict[tuple[str, str], int]]:
        """A collection's records in title order, their positions and the terms' masks."""
        found = self.orders.get(collection)
        if found is None:
            ordered = sorted((r for r in self.records.values()
                              if r.collection.name == collection),
                             key=lambda r: r.unrecorded_sort_key())
            position = {r.key: i for i, r in enumerate(ordered)}
            masks: dict[tuple[str, str], int] = {}
            for facet in self.facets.get(collection, ()):
                for term in facet.unrecorded_terms:
                    # Set in bytes, made a number once: OR-ing bits into a growing number
                    # copies it each time (0.4 s for the terms of 10,000 projects).
                    bits = bytearray((len(ordered) + 7) // 8)
                    for member in term.unrecorded_records:
                        at = position[member.key]
                        bits[at >> 3] |= 1 << (at & 7)
                    masks[(facet.name, term.key)] = int.from_bytes(bits, "little")
            found = self.orders[collection] = (ordered, position, masks)
        return found

    def _work_out(self, record: Record) -> tuple[Record, ...]:
        ordered, position, masks = self._order(record.collection.name)
        i = position[record.key]
        values = record.unrecorded_facet_values()
        mine = [masks[(f.name, v)] for f in self.facets.get(record.collection.name, ())
                for v in values.get(f.name, ())]
        planes: list[int] = []  # planes[b]: bit b of each record's count of shared terms
        for carry in mine:
            for b in range(len(planes)):
                planes[b], carry = planes[b] ^ carry, planes[b] & carry
                if not carry:
                    break
            if carry:
                planes.append(carry)
        candidates = 0
        for mask in mine:
            candidates |= mask
        candidates &= ~(1 << i)
        chosen: list[Record] = []
        while candidates and len(chosen) < self.count:
            best = candidates
            for plane in reversed(planes):
                if best & plane:
                    best &= plane
            while best and len(chosen) < self.count:
                low = best & -best
                chosen.append(ordered[low.bit_length() - 1])
                best ^= low
                candidates ^= low
        return tuple(chosen)
