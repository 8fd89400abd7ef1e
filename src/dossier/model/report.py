"""What editors should look at next: `dossier check --report`, made from the linked Site.

Not errors (the build accepts all of it) but the upkeep a databank needs, per collection:

| finding                | what it lists                                                |
| ---------------------- | ------------------------------------------------------------ |
| empty recommended      | records leaving a field marked `recommended` empty           |
| not updated            | records whose date with the role `updated` is older than     |
|                        | `herbeoordeling_jaren` (site.yml, 5 by default)              |
| unused terms           | per field with a vocabulary, the terms no record uses        |
| without projects       | `organisation` records that no `project` record names        |
| images without caption | image fields (not decorative) without `bijschrift`           |

Pure: the Site and the day it is made on in, a Report out; `today()` is the only thing that
looks at the clock (SOURCE_DATE_EPOCH when it is set, so tests and CI get the same day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from dossier.content.load import build_date
from dossier.content.records import Record
from dossier.content.schema import (
    IMAGE_CAPTION,
    IMAGE_DECORATIVE,
    Collection,
    Field,
    iter_values,
    walk_fields,
)
from dossier.core.yamltree import dotted
from dossier.model.site import Site


@dataclass(frozen=True)
class Entry:
    """A record the report names, and what about it (fields, a date)."""

    path: str  # the record file, relative to the site
    slug: str
    title: str
    fields: tuple[str, ...] = ()  # empty recommended fields, or image fields (dotted)
    date: str = ""  # its date with the role `updated`


@dataclass(frozen=True)
class UnusedTerms:
    """The terms of a field's vocabulary that no record of the collection uses."""

    field: str  # dotted, as in a diagnostic
    vocabulary: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class CollectionReport:
    """The findings of one collection (each empty when there is nothing to do)."""

    name: str
    label: str
    empty_recommended: tuple[Entry, ...] = ()
    not_updated: tuple[Entry, ...] = ()
    unused_terms: tuple[UnusedTerms, ...] = ()
    without_projects: tuple[Entry, ...] = ()
    images_without_caption: tuple[Entry, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.empty_recommended or self.not_updated or self.unused_terms
                    or self.without_projects or self.images_without_caption)


@dataclass(frozen=True)
class Report:
    """The whole report: the day it was made, the age limit, and each collection."""

    today: str
    years: int
    lang: str  # the site's language, that of the labels
    collections: tuple[CollectionReport, ...]

    @property
    def empty(self) -> bool:
        return all(c.empty for c in self.collections)

    @property
    def limit(self) -> str:
        """The day `years` before `today`: records last changed before it are due."""
        return _years_before(dt.date.fromisoformat(self.today), self.years).isoformat()

    def as_json(self) -> dict[str, Any]:
        """The report as JSON data (what `dossier check --report --format json` prints)."""
        return asdict(self)


def today() -> dt.date:
    """The day a report is made: SOURCE_DATE_EPOCH's when set, else the real one."""
    fixed = build_date()
    return dt.date.fromisoformat(fixed) if fixed else dt.date.today()


def report(site: Site, on: dt.date) -> Report:
    """What editors should look at next, per collection of the site."""
    years = site.config.review_years
    limit = _years_before(on, years).isoformat()
    projects = site.schema.role("project")
    return Report(on.isoformat(), years, site.config.lang, tuple(
        _collection(site, c, limit, projects) for c in site.schema.collections))


def _collection(site: Site, c: Collection, limit: str,
                projects: Collection | None) -> CollectionReport:
    records = site.records.get(c.name, ())
    lonely: tuple[Entry, ...] = ()
    if c.role == "organisation" and projects is not None:
        lonely = tuple(_entry(r) for r in records if not site.referrers(r, projects.name))
    return CollectionReport(
        name=c.name,
        label=c.label(site.config.lang),
        empty_recommended=tuple(_entry(r, fields) for r in records
                                if (fields := _empty_recommended(r))),
        not_updated=tuple(_entry(r, date=date) for r in records
                          if (date := _updated(r)) and date < limit),
        unused_terms=tuple(_unused_terms(site, c, records)),
        without_projects=lonely,
        images_without_caption=tuple(_entry(r, fields) for r in records
                                     if (fields := _uncaptioned(r))),
    )


def _entry(record: Record, fields: tuple[str, ...] = (), date: str = "") -> Entry:
    return Entry(record.path, record.slug, record.title, fields, date)


def _years_before(day: dt.date, years: int) -> dt.date:
    """The same day `years` earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def _empty_recommended(record: Record) -> tuple[str, ...]:
    """The record's fields marked `recommended` that it leaves out or empty."""
    data = record.data
    return tuple(f.name for f in record.collection.fields
                 if f.recommended and _is_empty(data.get(f.name)))


def _updated(record: Record) -> str:
    """The record's date with the role `updated` (from the record or from git), or ''."""
    value = record.role_value("updated")
    return value if isinstance(value, str) else ""


def _vocabulary_fields(c: Collection) -> Iterator[tuple[str, Field]]:
    """Every field of the collection whose values are terms, with its dotted path."""
    for path, f in walk_fields(c.fields, ()):
        if f.type == "enum":
            yield dotted(tuple(p for p in path if p not in ("items", "fields"))), f


def _unused_terms(site: Site, c: Collection,
                  records: tuple[Record, ...]) -> Iterator[UnusedTerms]:
    used: dict[str, set[str]] = {}
    for record in records:
        for f, path, value in iter_values(c.fields, record.data):
            if f.type == "enum" and isinstance(value, str):
                used.setdefault(dotted(tuple(p for p in path if isinstance(p, str))),
                                set()).add(value)
    seen: set[str] = set()
    for where, f in _vocabulary_fields(c):
        if where in seen:  # a list and its items are one field
            continue
        seen.add(where)
        unused = tuple(t.key for t in site.schema.terms(f.vocabulary)
                       if t.key not in used.get(where, set()))
        if unused:
            yield UnusedTerms(where, f.vocabulary, unused)


def _uncaptioned(record: Record) -> tuple[str, ...]:
    """The record's image fields that have no caption (decorative images need none)."""
    found = []
    for f, path, value in iter_values(record.collection.fields, record.data):
        if f.type == "image" and isinstance(value, Mapping) \
                and not value.get(IMAGE_DECORATIVE) and _is_empty(value.get(IMAGE_CAPTION)):
            found.append(dotted(path))
    return tuple(dict.fromkeys(found))


# The report's words, in the site's language (`taal`).
WORDS: dict[str, dict[str, str]] = {
    "nl": {"head": "Wat redacteuren nu kunnen oppakken (peildatum {today})",
           "empty_recommended": "Aanbevolen velden leeg",
           "not_updated": "Toe aan herbeoordeling: laatst gewijzigd vóór {limit}",
           "unused_terms": "Termen die geen record gebruikt",
           "without_projects": "Door geen enkel project genoemd",
           "images_without_caption": "Afbeeldingen zonder bijschrift",
           "nothing": "niets te doen",
           "title": "Rapport voor redacteuren", "admin": "Naar de beheeromgeving"},
    "en": {"head": "What editors could look at next (as of {today})",
           "empty_recommended": "Recommended fields left empty",
           "not_updated": "Due for re-assessment: last changed before {limit}",
           "unused_terms": "Terms no record uses",
           "without_projects": "Named by no project",
           "images_without_caption": "Images without a caption",
           "nothing": "nothing to do",
           "title": "Report for editors", "admin": "To the editor"},
}
KINDS = ("empty_recommended", "not_updated", "unused_terms", "without_projects",
         "images_without_caption")


def report_text(found: Report, lang: str = "nl") -> str:
    """The report as text: per collection, each kind of finding with its records."""
    words = WORDS.get(lang, WORDS["nl"])
    lines = [words["head"].format(today=found.today)]
    for c in found.collections:
        lines += ["", f"{c.label} ({c.name})"]
        if c.empty:
            lines.append(f"  {words['nothing']}")
        for kind in KINDS:
            items: tuple[Entry | UnusedTerms, ...] = getattr(c, kind)
            if items:
                heading = words[kind].format(limit=found.limit)
                lines.append(f"  {heading} ({len(items)}):")
                lines += [f"    {_line(item)}" for item in items]
    return "\n".join(lines)


def _line(item: Entry | UnusedTerms) -> str:
    if isinstance(item, UnusedTerms):
        return f"{item.field}: {', '.join(item.terms)}"
    what = ", ".join(item.fields) if item.fields else item.date
    return f"{item.path}: {item.title}" + (f" ({what})" if what else "")
