"""schema.org JSON-LD for record pages, safe inside a <script> element."""

from __future__ import annotations

import json
from typing import Any

from dossier.model import Site
from dossier.records import Record
from dossier.urls import absolute

_TYPES = {"projecten": "Project", "organisaties": "Organization", "dossiers": "Collection"}


def script_json(data: Any) -> str:
    """JSON that no value can break out of: <, > and & are written as \\u escapes."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _url(site: Site, record: Record) -> str:
    return absolute(site.config.base_url, record.url) if site.config.base_url else record.url


def _org(site: Site, slug: str) -> dict[str, str]:
    org = site.get("organisaties", slug)
    return {"@type": "Organization", "name": org.title, "url": _url(site, org)}


def record_jsonld(site: Site, record: Record) -> dict[str, Any] | None:
    """The JSON-LD object of a record page, or None for collections without a type."""
    kind = _TYPES.get(record.collection.name)
    if kind is None:
        return None
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": kind,
                            "name": record.title, "url": _url(site, record)}
    d = record.data
    if isinstance(d.get("samenvatting"), str):
        data["description"] = d["samenvatting"].strip()
    if isinstance(d.get("bijgewerkt"), str):
        data["dateModified"] = d["bijgewerkt"]
    image = _image(site, record)
    if image:
        data["image"] = image
        if kind == "Organization":
            data["logo"] = image
    if kind == "Project":
        _project(site, record, data)
    elif kind == "Organization":
        _organisation(site, record, data)
    else:
        projects = site.referrers(record, "projecten", ["dossiers"])
        data["hasPart"] = [{"@type": "Project", "name": p.title, "url": _url(site, p)}
                           for p in projects]
    return data


def _image(site: Site, record: Record) -> str:
    """The address of the record's first image (absolute with base_url), or ''."""
    for f in record.collection.fields:
        value = record.data.get(f.name)
        if f.type == "image" and isinstance(value, dict):
            found = site.media.find(record.path, str(value.get("bestand", "")))
            if found is None or not found.image:
                return ""
            base = site.config.base_url
            return absolute(base, found.rel) if base else found.rel
    return ""


def _project(site: Site, record: Record, data: dict[str, Any]) -> None:
    d = record.data
    if d.get("uitvoerder"):
        data["member"] = [_org(site, d["uitvoerder"])]
    for partner in d.get("partners", []):
        org = _org(site, partner["organisatie"])
        if partner.get("rol") == "financier":
            data.setdefault("funder", []).append(org)
        else:
            data.setdefault("member", []).append(org)
    if d.get("plaats"):
        data["location"] = {"@type": "Place", "name": d["plaats"]}
    if d.get("thema"):
        data["keywords"] = [site.schema.term_label("thema", t, site.config.lang)
                            for t in d["thema"]]


def _organisation(site: Site, record: Record, data: dict[str, Any]) -> None:
    d = record.data
    if d.get("website"):
        data["sameAs"] = d["website"]
    if d.get("email"):
        data["email"] = d["email"]
    if d.get("telefoon"):
        data["telephone"] = d["telefoon"]
    if d.get("opgericht"):
        data["foundingDate"] = str(d["opgericht"])
    if d.get("plaats"):
        data["address"] = {"@type": "PostalAddress", "addressLocality": d["plaats"],
                           "addressCountry": "NL"}
