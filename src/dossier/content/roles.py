"""Roles: what the theme and the outputs need of a collection, a field or a term.

The theme and the code never name a collection or field of the default schema; they ask
for the collection whose `role` is `project`, for the field of a record whose `role` is
`updated`, and so on. schema.yml declares the roles, so a databank with other words (or
in English) renames its collections and fields without touching a template. This module
says which roles exist, what each needs, and what a schema gets wrong about them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dossier.core.diagnostics import Diagnostic
from dossier.core.yamltree import Path, Tree, dotted

if TYPE_CHECKING:
    from dossier.content.schema import Field, Schema

# A collection's role: what its records are to the theme. Only `page` may be the role of
# several collections.
COLLECTION_ROLES = ("project", "organisation", "dossier", "page")
SHARED_ROLES = ("page",)
# Without these, pages of the built-in theme are left out (a warning says which).
NEEDED = {
    "project": "the recently updated projects on the home page, the feed and the "
               "projects of each dossier are left out",
    "organisation": "the A-Z index lists no organisations and site.yml's 'uitgever' "
                    "cannot name one",
    "dossier": "there are no printable dossiers and the home page lists no dossiers",
}
# A term's role: `funder` marks the term of a partner's role that schema.org calls funder.
TERM_ROLES = ("funder",)

RECORD = "record"  # a field of the record itself
ITEM = "item"  # a field of the items of a list (a publication's title, say)


@dataclass(frozen=True)
class FieldRole:
    """What a field with this role must be, and what it is for."""

    types: tuple[str, ...]  # the field's type (of its items, where a list may have it)
    lists: bool  # whether a list of such values may have the role
    level: str  # RECORD or ITEM
    needs: str  # the field it must be, in the words of a diagnostic
    facet: bool = False  # must be a facet


FIELD_ROLES: dict[str, FieldRole] = {
    # Shown under the title, in the description of the page, the feed and JSON-LD.
    "summary": FieldRole(("text",), False, RECORD, "a text field"),
    # The date of the last change: the feed, recent updates, sitemap, dates from git.
    "updated": FieldRole(("date",), False, RECORD, "a date field"),
    # The organisation that runs a project, and the organisations it works with.
    "lead": FieldRole(("ref",), False, RECORD, "a ref field"),
    "partners": FieldRole(("object",), True, RECORD,
                          "a list of objects with a ref field (the organisation)"),
    # The facet a dossier groups its projects by; also JSON-LD keywords.
    "topic": FieldRole(("enum", "string"), True, RECORD,
                       "a facet field (enum or string, or a list of them)", facet=True),
    "place": FieldRole(("string",), False, RECORD, "a string field"),
    # The image that stands for the record: cards, link previews, JSON-LD.
    "image": FieldRole(("image",), True, RECORD, "an image field (or a list of images)"),
    # An organisation's contact details and founding year, for JSON-LD.
    "website": FieldRole(("url",), False, RECORD, "a url field"),
    "email": FieldRole(("email",), False, RECORD, "an email field"),
    "phone": FieldRole(("phone",), False, RECORD, "a phone field"),
    "founded": FieldRole(("year",), False, RECORD, "a year field"),
    # The title of an item of a list (a publication, a source): such a list is shown as a
    # list of references; `isbn` is shown with 'ISBN' before it.
    "title": FieldRole(("string",), False, ITEM, "a string field"),
    "isbn": FieldRole(("string",), False, ITEM, "a string field"),
}


def _kind(f: Field, role: FieldRole) -> str:
    """A field's type in words: 'a string field', 'a list of enum', 'an enum field that is
    not a facet'."""
    if f.items is not None:
        kind = f"a list of {f.items.type}"
    else:
        kind = f"an {f.type} field" if f.type[0] in "aeiou" else f"a {f.type} field"
    if role.facet and not f.facet and f.leaf.type in role.types:
        return f"{kind} that is not a facet"
    return kind


def fits(role: FieldRole, f: Field) -> bool:
    """Whether a field is what a role needs."""
    leaf = f.items if f.items is not None and role.lists else f
    if leaf.type not in role.types or (f.items is not None and not role.lists):
        return False
    if leaf.type == "object":  # partners: the organisation is a ref among its fields
        return f.items is not None and any(sub.type == "ref" for sub in leaf.fields)
    return f.facet or not role.facet


def problems(schema: Schema, tree: Tree, rel: str) -> Iterator[Diagnostic]:
    """Roles that are unknown to a place, doubled, or on a field that cannot play them."""
    owner: dict[str, str] = {}
    for c in schema.collections:
        if c.role not in COLLECTION_ROLES:
            continue
        first = owner.setdefault(c.role, c.name)
        if first != c.name and c.role not in SHARED_ROLES:
            yield _at(tree, rel, ("collections", c.name, "role"),
                      f"'{c.role}' is already the role of collection '{first}'; only "
                      f"{_quoted(SHARED_ROLES)} may be the role of several collections")
    for c in schema.collections:
        base: Path = ("collections", c.name, "fields")
        yield from _field_roles(c.fields, base, RECORD, tree, rel)
        for f in c.fields:
            if f.items is not None and f.items.fields:
                yield from _field_roles(f.items.fields, (*base, f.name, "items", "fields"),
                                        ITEM, tree, rel)
            yield from _nested(f, (*base, f.name), tree, rel)


def _field_roles(fields: tuple[Field, ...], base: Path, level: str, tree: Tree,
                 rel: str) -> Iterator[Diagnostic]:
    """The roles of one level of fields: each fits its field and is there once."""
    owner: dict[str, str] = {}
    for f in fields:
        role = FIELD_ROLES.get(f.role)
        if role is None:  # none, or one the check of schema.yml's form reports
            continue
        where = (*base, f.name, "role")
        first = owner.setdefault(f.role, f.name)
        if first != f.name:
            yield _at(tree, rel, where, f"'{f.role}' is already the role of field "
                      f"'{first}'; a role belongs to one field")
        elif role.level != level:
            yield _at(tree, rel, where, _level_message(f.role, role.level))
        elif not fits(role, f):
            yield _at(tree, rel, where, f"the role '{f.role}' needs {role.needs}, not "
                      f"{_kind(f, role)}")


def _nested(f: Field, path: Path, tree: Tree, rel: str) -> Iterator[Diagnostic]:
    """Roles deeper than a record's fields and its lists' items: no role lives there."""
    if f.items is not None and f.items.role in FIELD_ROLES:
        yield _at(tree, rel, (*path, "items", "role"), f"the role '{f.items.role}' belongs "
                  f"to the list '{f.name}', not to the declaration of its items")
    inner: list[tuple[Path, Field]] = [((*path, "fields", sub.name), sub) for sub in f.fields]
    if f.items is not None:
        inner += [((*path, "items", "fields", sub.name, "fields", deep.name), deep)
                  for sub in f.items.fields for deep in sub.fields]
    for where, sub in inner:
        if sub.role in FIELD_ROLES:
            yield _at(tree, rel, (*where, "role"),
                      _level_message(sub.role, FIELD_ROLES[sub.role].level))
        yield from _nested(sub, where, tree, rel)


def _level_message(role: str, level: str) -> str:
    """Where a role belongs, said of one found elsewhere."""
    if level == ITEM:
        return (f"the role '{role}' is for a field of a list's items (a publication's "
                "title, say), not of a record")
    return f"the role '{role}' is for a field of the record itself, not of a part of one"


def warnings(schema: Schema, tree: Tree, rel: str) -> Iterator[Diagnostic]:
    """The roles the built-in theme needs that no collection has: their pages are left out."""
    present = {c.role for c in schema.collections}
    line, col = tree.key_position(("collections",))
    for role, consequence in NEEDED.items():
        if role not in present:
            yield Diagnostic(rel, line, col, "warning", "collections",
                             f"no collection has the role '{role}', so {consequence}")


def _at(tree: Tree, rel: str, path: Path, message: str) -> Diagnostic:
    line, col = tree.position(path)
    return Diagnostic(rel, line, col, "error", dotted(path), message)


def _quoted(names: tuple[str, ...]) -> str:
    return ", ".join(f"'{n}'" for n in names)
