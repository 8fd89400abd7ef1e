"""Search entries of earlier builds, by their digest: how an entry is stored and hashed,
and the store as the index sees it (the SQLite store is incremental/entries.py).

An entry (text, filters, result card) costs a card render and a pass over the record's
Markdown; the index's parts are keyed by the digests of their entries (search/index.py).
The build's state (state.py) keeps each record's entry digest and what making it read, so
a record whose entry cannot have changed is neither rendered nor read; this store gives an
entry's text only when its part is indexed again. Being addressed by content, it can never
give another entry than the one asked for. The result card (HTML) is not stored: the cache
folder is open to anyone who can add a file to the site, so cards are always rendered
anew, and an entry that then does not come out with its digest is made again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from typing import Protocol

from dossier.search.entries import SearchEntry

CARD = "kaart"  # the meta field that holds the result card
# What a part of the index was made from, per record: its key ("collection/slug"), its sort
# value and its entry's digest (search/index.py hashes these into the part's key).
PartRow = tuple[str, str, str]


def encode(entry: SearchEntry) -> str:
    """An entry as the JSON text that is stored and hashed."""
    return json.dumps(dataclasses.asdict(entry), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))


def digest(data: str) -> str:
    return hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def decode(data: str) -> SearchEntry | None:
    """An entry from its stored JSON, or None if the row is not what `encode` writes."""
    try:
        raw = json.loads(data)
        entry = SearchEntry(raw["url"], raw["content"], raw["filters"], raw["meta"], raw["sort"])
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    fields = [entry.url, entry.content, entry.filters, entry.meta, entry.sort]
    if not (all(isinstance(v, str) for v in fields[:2])
            and all(isinstance(v, dict) for v in fields[2:])
            and all(isinstance(v, list) and all(isinstance(x, str) for x in v)
                    for v in entry.filters.values())
            and all(isinstance(v, str) for d in (entry.meta, entry.sort) for v in d.values())):
        return None
    return entry


class EntryStore(Protocol):
    """The entries of earlier builds by digest; closed when the index is written."""

    def get(self, hashed: str) -> SearchEntry | None:
        """The stored entry with digest `hashed`, without its card."""
        ...

    def put(self, rows: Iterable[tuple[str, SearchEntry]]) -> None:
        """Store entries (without their cards) under their digests."""
        ...

    def part(self, key: str) -> list[PartRow] | None:
        """What the part with this key was made from, if it is stored."""
        ...

    def put_part(self, key: str, rows: list[PartRow]) -> None:
        """Store what the part with this key was made from."""
        ...

    def keep(self, wanted: set[str], parts: set[str]) -> None:
        """Forget every entry whose digest is not in `wanted`, and every part not in `parts`."""
        ...

    def close(self) -> None: ...


def without_card(entry: SearchEntry) -> SearchEntry:
    """An entry as it is stored: the card (HTML) is always rendered anew."""
    return dataclasses.replace(entry, meta={k: v for k, v in entry.meta.items() if k != CARD})
