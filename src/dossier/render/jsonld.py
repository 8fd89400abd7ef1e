"""schema.org JSON-LD for record pages, safe inside a <script> element."""

from __future__ import annotations

import json
from typing import Any

from dossier.content.records import Record
from dossier.content.schema import FILE_NAME, Field
from dossier.core.urls import absolute
from dossier.model.site import Site
from dossier.render.pictures import first_image

# The schema.org type of a record page, by the role of its collection.
_TYPES = {"project": "Project", "organisation": "Organization", "dossier": "Collection"}


def script_json(data: Any) -> str:
    """JSON that no value can break out of: <, > and & are written as \\u escapes."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _url(site: Site, record: Record) -> str:
    return absolute(site.config.base_url, record.url) if site.config.base_url else record.url


def _org(site: Site, f: Field, slug: str) -> dict[str, str]:
    """The organisation a reference field names."""
    org = site.get(f.collection, slug)
    return {"@type": "Organization", "name": org.title, "url": _url(site, org)}


def record_jsonld(site: Site, record: Record) -> dict[str, Any] | None:
    """The JSON-LD object of a record page, or None for collections without a type."""
    kind = _TYPES.get(record.collection.role)
    if kind is None:
        return None
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": kind,
                            "name": record.title, "url": _url(site, record)}
    summary = record.role_value("summary")
    if isinstance(summary, str):
        data["description"] = summary.strip()
    updated = record.role_value("updated")
    if isinstance(updated, str):
        data["dateModified"] = updated
    image = _image(site, record)
    if image:
        data["image"] = image
        if kind == "Organization":
            data["logo"] = image
    if kind == "Project":
        _project(site, record, data)
    elif kind == "Organization":
        _organisation(record, data)
    else:
        project = site.role("project")
        projects = site.referrers(record, project.name) if project is not None else ()
        data["hasPart"] = [{"@type": "Project", "name": p.title, "url": _url(site, p)}
                           for p in projects]
    return data


def _image(site: Site, record: Record) -> str:
    """The address of the record's image (absolute with base_url), or ''."""
    value = first_image(record)
    if value is None:
        return ""
    found = site.media.find(record.path, str(value.get(FILE_NAME, "")))
    if found is None or not found.image:
        return ""
    base = site.config.base_url
    return absolute(base, found.rel) if base else found.rel


def _project(site: Site, record: Record, data: dict[str, Any]) -> None:
    lead = record.collection.role_field("lead")
    if lead is not None and record.data.get(lead.name):
        data["member"] = [_org(site, lead, record.data[lead.name])]
    partners = record.collection.role_field("partners")
    if partners is not None and partners.items is not None:
        names = next(f for f in partners.items.fields if f.type == "ref")  # roles.py
        for partner in record.data.get(partners.name, []):
            if partner.get(names.name):
                org = _org(site, names, partner[names.name])
                role = "funder" if _funds(site, partners.items, partner) else "member"
                data.setdefault(role, []).append(org)
    place = record.role_value("place")
    if place:
        data["location"] = {"@type": "Place", "name": place}
    topic = record.collection.role_field("topic")
    if topic is not None and record.data.get(topic.name):
        data["keywords"] = _keywords(site, topic, record.data[topic.name])


def _funds(site: Site, item: Field, partner: dict[str, Any]) -> bool:
    """Whether a partner's role is a term with the role `funder`."""
    for sub in item.fields:
        if sub.type == "enum" and sub.name in partner:
            term = site.schema.term(sub.vocabulary, str(partner[sub.name]))
            if term is not None and term.role == "funder":
                return True
    return False


def _keywords(site: Site, f: Field, value: Any) -> list[str]:
    """A topic's terms as a reader sees them."""
    values = value if isinstance(value, list) else [value]
    if f.leaf.type != "enum":
        return [str(v) for v in values]
    return [site.schema.term_label(f.leaf.vocabulary, v, site.config.lang) for v in values]


def _organisation(record: Record, data: dict[str, Any]) -> None:
    for role, key in (("website", "sameAs"), ("email", "email"), ("phone", "telephone")):
        value = record.role_value(role)
        if value:
            data[key] = value
    founded = record.role_value("founded")
    if founded:
        data["foundingDate"] = str(founded)
    place = record.role_value("place")
    if place:
        data["address"] = {"@type": "PostalAddress", "addressLocality": place,
                           "addressCountry": "NL"}
