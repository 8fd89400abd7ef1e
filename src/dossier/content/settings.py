"""Site settings from content/site.yml, checked in one pass."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dossier.content.documents import SLUG_RE
from dossier.content.validation import check
from dossier.core.diagnostics import DossierError
from dossier.core.yamltree import Tree

# An absolute http(s) address ending in '/', without characters that would need escaping
# in HTML or XML (it is written into canonical links, the sitemap and the feed).
# site.yml's keys that name records: the organisation that publishes the databank and the
# content page the home page introduces.
PUBLISHER_KEY = "uitgever"
INTRO_KEY = "introductie"
# site.yml's key that asks for the web editor under admin/ (outputs/admin.py).
ADMIN_KEY = "beheer"
BASE_URL_PATTERN = r"^https?://[^\s/\"'<>\\`{}|^]+(/[^\s\"'<>\\`{}|^]*)?/$"

SITE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["titel"],
    "additionalProperties": False,
    "properties": {
        "titel": {"type": "string", "minLength": 1},
        "beschrijving": {"type": "string"},
        "taal": {"enum": ["nl", "en"]},
        "base_url": {
            "type": "string", "pattern": BASE_URL_PATTERN,
            "x-expected": "an absolute web address ending in '/' (https://…/)",
        },
        PUBLISHER_KEY: {"type": "string", "pattern": SLUG_RE.pattern,
                     "x-expected": "the slug of an organisation"},
        "per_pagina": {"type": "integer", "minimum": 1, "maximum": 1000},
        INTRO_KEY: {"type": "string", "pattern": SLUG_RE.pattern,
                    "x-expected": "the slug of a content page"},
        ADMIN_KEY: {"type": "boolean", "x-expected": "true or false"},
        "menu": {
            "type": "array",
            "items": {
                "type": "object", "required": ["titel", "pad"], "additionalProperties": False,
                "properties": {
                    "titel": {"type": "string", "minLength": 1},
                    "pad": {"type": "string", "pattern": r"^([a-z0-9-]+/)*$",
                            "x-expected": "a path inside the site ending in '/', e.g. 'over/'"},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class MenuItem:
    title: str
    path: str


@dataclass(frozen=True)
class SiteConfig:
    """Settings of one dossier site."""

    title: str
    description: str = ""
    lang: str = "nl"
    base_url: str = ""
    publisher: str = ""
    page_size: int = 20
    intro: str = ""  # slug of the content page introduced on the home page
    menu: tuple[MenuItem, ...] = ()
    admin: bool = False  # write the web editor under admin/ (docs/admin.md)
    positions: Mapping[str, tuple[int, int]] = field(default_factory=dict, compare=False)

    def position(self, key: str) -> tuple[int, int]:
        """Line and column of a setting in site.yml (1, 1 when it is not there)."""
        return self.positions.get(key, (1, 1))


def parse_config(tree: Tree, rel_path: str, base_url: str | None = None) -> SiteConfig:
    """Build SiteConfig from site.yml; `base_url` from the command line wins."""
    problems = check(tree.data, SITE_SCHEMA, tree, rel_path)
    if problems:
        raise DossierError(problems)
    raw = tree.data
    url = raw.get("base_url", "") if base_url is None else base_url
    if url and not url.endswith("/"):
        url += "/"
    return SiteConfig(
        title=raw["titel"],
        description=raw.get("beschrijving", ""),
        lang=raw.get("taal", "nl"),
        base_url=url,
        publisher=raw.get(PUBLISHER_KEY, ""),
        page_size=raw.get("per_pagina", 20),
        intro=raw.get(INTRO_KEY, ""),
        menu=tuple(MenuItem(m["titel"], m["pad"]) for m in raw.get("menu", [])),
        admin=raw.get(ADMIN_KEY, False),
        positions={str(k[0]): v for k, v in tree.positions.items() if len(k) == 1},
    )
