"""What the search index holds: one entry per record, with text, filters and a result card.

Pure: computed from the Site model (its filters: model/filters.py); `index.py` hands the
entries to Pagefind. Only records of collections with their own folder (projects,
organisations, dossiers) are results; content pages and list pages are not.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from dossier.content.records import Record
from dossier.content.schema import (
    FILE_TITLE,
    IMAGE_ALT,
    IMAGE_CAPTION,
    MEDIA_TYPES,
    Field,
    iter_values,
)
from dossier.model.filters import indexed_collections, record_filters
from dossier.model.site import Site

SORT_KEY = "title"  # the order of results without a query (zoeken.js asks for it)
_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"\s+")
# Markdown syntax that is not words: link targets, reference definitions, footnote marks,
# emphasis, headings, quotes, table rules. Converting every body to HTML would cost more
# than the rest of indexing together.
_MARKDOWN_RES = [
    (re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.M), " "),
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]*)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"\[\^[^\]]*\]"), " "),
    (re.compile(r"\{:?[^}]*\}"), " "),
    (re.compile(r"[*`|~]+|^\s*(?:#+|>|[-=]{3,})", re.M), " "),
]


@dataclass(frozen=True)
class SearchEntry:
    """One search result: where it lives, its text, filters, metadata and sort key."""

    url: str
    content: str
    filters: dict[str, list[str]]
    meta: dict[str, str]
    sort: dict[str, str]


def indexed_records(site: Site) -> list[Record]:
    """Every record that is a search result, in the order of `sort_value` (title order)."""
    found = [r for c in indexed_collections(site) for r in site.records[c.name]]
    return sorted(found, key=sort_value)


def sort_value(record: Record) -> str:
    """What results are sorted by without a query: the title as a reader sorts it, then the
    URL, so no two records tie (a NUL sorts before any character of a title).

    Pagefind compares these strings by code point, as Python does, so the index's parts
    (ranges of this order, see search/index.py) hold their records in one order with it.
    """
    return f"{record.sort_key[0]}\0{record.url}"


def entries(site: Site, card: Callable[[Record], str]) -> Iterator[SearchEntry]:
    """The search entries of a site, one at a time in title order; `card` renders a
    record's result card."""
    for record in indexed_records(site):
        yield entry(site, record, card(record))


def entry(site: Site, record: Record, card: str) -> SearchEntry:
    """The search entry of one record, with its result card."""
    lang = site.config.lang
    texts = [markdown_text(str(value)) for f, value in _text_fields(record) if value]
    # Without zero-width spaces: Pagefind would take them for word breaks and number the
    # words otherwise than zoeken.js does when it makes an excerpt.
    content = " ".join([record.title, *texts, markdown_text(record.body),
                        *_media_texts(record)]).replace("\u200b", "")
    meta = {"title": record.title, "soort": record.collection.singular(lang), "kaart": card}
    summary = record.role_value("summary")
    if summary:
        meta["summary"] = markdown_text(str(summary))
    place = record.role_value("place")
    if isinstance(place, str):
        meta["place"] = place
    return SearchEntry(
        url=record.url,
        content=content.strip(),
        filters=record_filters(site, record),
        meta=meta,
        sort={SORT_KEY: sort_value(record)},
    )


def _text_fields(record: Record) -> Iterable[tuple[Field, object]]:
    for f in record.collection.fields:
        if f.type == "text" and f.name in record.data:
            yield f, record.data[f.name]


def _media_texts(record: Record) -> Iterator[str]:
    """What the record's images and documents say in words: documents' titles, images'
    alternative texts and captions (the files themselves are never indexed)."""
    for f, _, value in iter_values(record.collection.fields, record.data):
        if f.type in MEDIA_TYPES and isinstance(value, dict):
            for name in (FILE_TITLE, IMAGE_ALT, IMAGE_CAPTION):
                if isinstance(value.get(name), str):
                    yield value[name]


def markdown_text(text: str) -> str:
    """The words of a Markdown text, for searching: no markup, link targets or raw HTML."""
    text = _TAG_RE.sub(" ", text)
    for pattern, replacement in _MARKDOWN_RES:
        text = pattern.sub(replacement, text)
    return _SPACE_RE.sub(" ", html.unescape(text)).strip()
