"""Site settings from content/site.yml, checked in one pass."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dossier.content.documents import SLUG_RE
from dossier.content.validation import check
from dossier.core.diagnostics import Diagnostic, DossierError, shorten
from dossier.core.yamltree import Tree

# An absolute http(s) address ending in '/', without characters that would need escaping
# in HTML or XML (it is written into canonical links, the sitemap and the feed).
# site.yml's keys that name records: the organisation that publishes the databank and the
# content page the home page introduces.
PUBLISHER_KEY = "uitgever"
INTRO_KEY = "introductie"
# site.yml's key that asks for the web editor under admin/ (outputs/admin.py): `true`, or
# the git backend it saves to.
ADMIN_KEY = "beheer"
# site.yml's key for the age, in years, at which `dossier check --report` lists a record
# for re-assessment (by the date of its field with the role `updated`).
REVIEW_KEY = "herbeoordeling_jaren"
BASE_URL_PATTERN = r"^https?://[^\s/\"'<>\\`{}|^]+(/[^\s\"'<>\\`{}|^]*)?/$"
# Since the editor's page allows connections to them, only https, and nothing that needs
# escaping in its policy.
HTTPS_PATTERN = r"^https://[^\s/\"'<>\\`{}|^;,]+(/[^\s\"'<>\\`{}|^;,]*)?$"
# The git hosts Decap CMS can save to, by the name its `backend` takes.
GIT_BACKENDS = ("github", "gitlab", "gitea")
# owner/name; GitLab allows groups within groups (group/subgroup/name).
_REPO_PART = r"[A-Za-z0-9_.-]+"
REPOSITORY_PATTERNS = {"github": rf"^{_REPO_PART}/{_REPO_PART}$",
                       "gitlab": rf"^{_REPO_PART}(/{_REPO_PART})+$",
                       "gitea": rf"^{_REPO_PART}/{_REPO_PART}$"}
_URL = {"type": "string", "pattern": HTTPS_PATTERN,
        "x-expected": "an absolute https:// address"}
# `beheer`: true or false, or a mapping (the keywords of an object do not apply to a boolean).
GIT_SCHEMA: dict[str, Any] = {
    "type": ["boolean", "object"],
    "x-expected": "true or false, or the settings of a git backend (backend, repository, …)",
    "required": ["backend", "repository"],
    "additionalProperties": False,
    "properties": {
        "backend": {"enum": list(GIT_BACKENDS)},
        "repository": {"type": "string", "minLength": 1,
                       "x-expected": "owner/name of the repository"},
        "branch": {"type": "string", "pattern": r"^[^\s~^:?*\[\\]+$",
                   "x-expected": "the name of a branch, e.g. main"},
        "app_id": {"type": "string", "minLength": 1,
                   "x-expected": "the client ID of the OAuth application"},
        "api_root": _URL,
        "base_url": _URL,
        "auth_endpoint": {"type": "string", "pattern": r"^[A-Za-z0-9_./-]+$",
                          "x-expected": "a path on base_url, e.g. auth"},
    },
}

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
        REVIEW_KEY: {"type": "integer", "minimum": 1, "maximum": 100,
                     "x-expected": "a number of years"},
        INTRO_KEY: {"type": "string", "pattern": SLUG_RE.pattern,
                    "x-expected": "the slug of a content page"},
        ADMIN_KEY: GIT_SCHEMA,
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
class GitBackend:
    """Where the web editor saves: a repository on GitHub, GitLab or Gitea (docs/admin.md)."""

    name: str  # github, gitlab or gitea
    repository: str  # owner/name
    branch: str = "main"
    app_id: str = ""  # the OAuth application's client ID (GitLab and Gitea log in by PKCE)
    api_root: str = ""  # the host's API, for self-hosted GitLab and Gitea
    base_url: str = ""  # GitHub: the OAuth proxy; GitLab, Gitea: the host itself
    auth_endpoint: str = ""  # GitHub: the path of the OAuth proxy's login


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
    git: GitBackend | None = None  # where the web editor saves; None: nowhere
    review_years: int = 5  # `dossier check --report`: records updated longer ago
    positions: Mapping[str, tuple[int, int]] = field(default_factory=dict, compare=False)

    def position(self, key: str) -> tuple[int, int]:
        """Line and column of a setting in site.yml (1, 1 when it is not there)."""
        return self.positions.get(key, (1, 1))


def parse_config(tree: Tree, rel_path: str, base_url: str | None = None) -> SiteConfig:
    """Build SiteConfig from site.yml; `base_url` from the command line wins."""
    problems = check(tree.data, SITE_SCHEMA, tree, rel_path)
    problems += _git_problems(tree, rel_path)
    if problems:
        raise DossierError(problems)
    raw = tree.data
    admin = raw.get(ADMIN_KEY, False)
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
        admin=admin is not False,
        git=_git_backend(admin) if isinstance(admin, dict) else None,
        review_years=raw.get(REVIEW_KEY, 5),
        positions={str(k[0]): v for k, v in tree.positions.items() if len(k) == 1},
    )


def _git_backend(raw: dict[str, str]) -> GitBackend:
    """`beheer`'s mapping (checked) as a GitBackend: its `backend` is the name."""
    return GitBackend(name=raw["backend"], **{k: v for k, v in raw.items() if k != "backend"})


def _git_problems(tree: Tree, rel: str) -> list[Diagnostic]:
    """What each git host needs beyond the form of `beheer` (checked by SITE_SCHEMA)."""
    raw = tree.data.get(ADMIN_KEY) if isinstance(tree.data, dict) else None
    if not isinstance(raw, dict) or raw.get("backend") not in GIT_BACKENDS:
        return []
    name, found = raw["backend"], []

    def problem(key: str, message: str) -> None:
        line, col = tree.position((ADMIN_KEY, key))
        found.append(Diagnostic(rel, line, col, "error", f"{ADMIN_KEY}.{key}", message))

    repo = raw.get("repository")
    if isinstance(repo, str) and not re.match(REPOSITORY_PATTERNS[name], repo):
        problem("repository", f"'{shorten(repo)}' is not a repository on {name}: write "
                "owner/name" + (" (or group/subgroup/name)" if name == "gitlab" else ""))
    for key, why in _NEEDS[name].items():
        if key not in raw:
            problem("backend", f"{name} needs '{key}': {why}")
    if name == "github" and "app_id" in raw:
        problem("app_id", "github logs in through the OAuth proxy at base_url, which "
                "holds the client ID; remove app_id")
    return found


# What a backend cannot do without (docs/admin.md says how to get each).
_NEEDS = {
    "github": {"base_url": "the address of the OAuth proxy that logs editors in "
               "(GitHub cannot log in from the browser alone)"},
    "gitlab": {"app_id": "the application ID of an OAuth application in GitLab "
               "(logging in by PKCE, without a server)"},
    "gitea": {"app_id": "the client ID of an OAuth2 application in Gitea or Forgejo",
              "api_root": "the API of the Gitea or Forgejo server, "
              "e.g. https://codeberg.org/api/v1"},
}
