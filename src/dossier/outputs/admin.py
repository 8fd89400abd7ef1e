"""The web editor under admin/: Decap CMS's configuration made from schema.yml, the page
that loads it, and the editor's bundle served beside them (docs/admin.md).

The configuration is a second description of the content model, so it is never written by
hand: every collection becomes a folder collection, every field a widget, every term an
option, and the editor agrees with `dossier check` by construction.

| schema.yml                 | the editor's widget                                      |
| -------------------------- | -------------------------------------------------------- |
| string / text              | string / text (Markdown allowed)                         |
| date                       | datetime, date only, stored as YYYY-MM-DD                |
| month, url, email, phone   | string with the build's pattern                          |
| year                       | number, a whole one                                      |
| enum (a list of enum)      | select (multiple), the terms in the site's language      |
| ref (a list of ref)        | relation (multiple), storing the slug, searching titles  |
| object / list              | object / list                                            |
| image                      | object: the image file, its alt text, decorative, caption|
| file                       | object: the file and its title                           |
| the Markdown body          | markdown                                                 |

Records are written as the build reads them: Markdown files with YAML front matter. A
collection that no reference points to gets its new records as folders
(`<slug>/index.md`) with their files beside them; the others as `<slug>.md` with their
files in the collection's folder, because Decap calls a folder's record `<slug>/index` and
a relation would store that, which is no slug.

Where the editor saves is site.yml's to say (`beheer: {backend: github|gitlab|gitea, …}`):
it commits to that repository, and the host's CI builds the site again. Without a git
backend it runs on Decap's in-browser test backend, and nothing is saved. The page's policy
allows connections to that host's API and login, and to nothing else.

Pure: a schema and the settings in, a dict and its YAML out. `local` is for `dossier
serve` alone: its editor saves through the preview's local backend (preview/localbackend.py),
whose address a small script of its own gives Decap, which wants it absolute while only the
page knows the host it was opened by. A build never sets it, so the published editor has no
write endpoint and no local backend.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import yaml

from dossier.content.schema import (
    DRAFT_FIELD,
    FILE_NAME,
    FILE_TITLE,
    IMAGE_ALT,
    IMAGE_CAPTION,
    IMAGE_DECORATIVE,
    PHONE_PATTERN,
    Collection,
    Field,
    Schema,
)
from dossier.content.settings import GitBackend, SiteConfig
from dossier.content.validation import BROWSER_PATTERNS

FOLDER = "admin"  # where the editor is published, under the site
CONFIG = "config.yml"
BUNDLE = "decap-cms.js"
# Published beside the bundle: its licence, and the licences of what it bundles (the
# bundle's first line names that file).
LICENCES = ("LICENSE", "decap-cms.js.LICENSE.txt")
BODY = "body"  # the name Decap gives the Markdown body of a front-matter file
# Where `dossier serve` answers Decap's proxy protocol (relative to admin/), and the
# script that tells Decap so, written by the preview only.
LOCAL_API = "../api/v1"
LOCAL_SCRIPT = "lokaal.js"
REPORT_PAGE = "rapport.html"  # the preview's report for editors, beside the editor

# The API of each git host when site.yml names none (Decap's defaults; Gitea has none that
# is not a demo, so site.yml must name its server).
API_ROOTS = {"github": "https://api.github.com", "gitlab": "https://gitlab.com/api/v4"}
# Where GitLab logs in when site.yml names no server of its own.
GITLAB = "https://gitlab.com"

# The page's own policy. Decap validates its configuration with ajv, which compiles the
# schema into a function (`new Function`), so scripts need 'unsafe-eval'; its styles are
# made at run time as <style> elements (emotion), so styles need 'unsafe-inline'. Images
# it previews before saving are blob: and data: URLs. Nothing may come from another host.
POLICY = ("default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self' "
          "'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
          "connect-src 'self'; manifest-src 'self'; form-action 'self'; base-uri 'none'")

# Help under a field, by type, in the site's language (a field's `description` wins).
_HINTS: dict[str, dict[str, str]] = {
    "nl": {
        "text": "Markdown mag.",
        "month": "Maand als JJJJ-MM, bijvoorbeeld 2012-06.",
        "url": "Een webadres dat begint met https:// (of mailto:).",
        "email": "Een e-mailadres, bijvoorbeeld info@example.org.",
        "phone": "Een telefoonnummer, bijvoorbeeld +31 30 123 45 67.",
        "alt": "Wat de afbeelding laat zien, voor wie haar niet ziet. Verplicht, tenzij "
               "de afbeelding alleen versiert.",
        "decorative": "Aan als de afbeelding alleen versiert; dan geen alternatieve tekst.",
        "inside": "Verplicht als u dit onderdeel invult.",
        "sections": "Verwachte kopjes (## …): {}.",
    },
    "en": {
        "text": "Markdown is allowed.",
        "month": "Month as YYYY-MM, for example 2012-06.",
        "url": "A web address starting with https:// (or mailto:).",
        "email": "An e-mail address, for example info@example.org.",
        "phone": "A phone number, for example +31 30 123 45 67.",
        "alt": "What the image shows, for those who cannot see it. Required unless the "
               "image is only decoration.",
        "decorative": "On when the image is only decoration; then no alternative text.",
        "inside": "Required when this group is filled in.",
        "sections": "Expected headings (## …): {}.",
    },
}
# The words of the parts the generator adds itself, in the site's language.
_WORDS: dict[str, dict[str, str]] = {
    "nl": {"body": "Tekst", "draft": "Concept (niet gepubliceerd)", "image": "Afbeelding",
           "alt": "Alternatieve tekst", "decorative": "Decoratief", "caption": "Bijschrift",
           "file": "Bestand", "file_title": "Titel van het document",
           "pattern_month": "Schrijf een maand als JJJJ-MM.",
           "pattern_url": "Schrijf een volledig webadres (https://…).",
           "pattern_email": "Schrijf een geldig e-mailadres.",
           "pattern_phone": "Schrijf een telefoonnummer (cijfers, spaties, + ( ) -)."},
    "en": {"body": "Text", "draft": "Draft (not published)", "image": "Image",
           "alt": "Alternative text", "decorative": "Decorative", "caption": "Caption",
           "file": "File", "file_title": "Title of the document",
           "pattern_month": "Write a month as YYYY-MM.",
           "pattern_url": "Write a full web address (https://…).",
           "pattern_email": "Write a valid e-mail address.",
           "pattern_phone": "Write a phone number (digits, spaces, + ( ) -)."},
}
_PATTERNS = {**BROWSER_PATTERNS, "phone": PHONE_PATTERN}


def admin_config(schema: Schema, config: SiteConfig, local: bool = False) -> dict[str, Any]:
    """Decap CMS's configuration for a site: a folder collection per collection.

    Without a git backend in site.yml, the editor runs on Decap's in-browser test backend:
    the forms work, nothing is saved. `local` turns on the local backend of `dossier serve`
    (its address comes from LOCAL_SCRIPT).
    """
    lang = config.lang
    result: dict[str, Any] = {
        "backend": backend(config.git),
        "locale": lang,
        # Files uploaded outside a record (the media library's own button).
        "media_folder": "content/bestanden",
        "slug": {"encoding": "ascii", "clean_accents": True, "sanitize_replacement": "-"},
        "collections": [_collection(c, schema, lang, _referenced(schema))
                        for c in schema.collections],
    }
    if local:
        result["local_backend"] = True
    return result


def backend(git: GitBackend | None) -> dict[str, Any]:
    """Decap's `backend`: the repository it commits to, and how editors log in."""
    if git is None:
        return {"name": "test-repo"}
    result: dict[str, Any] = {"name": git.name, "repo": git.repository, "branch": git.branch}
    if git.api_root:
        result["api_root"] = git.api_root.rstrip("/")
    base_url = _login_host(git)
    if base_url:
        result["base_url"] = base_url
    if git.auth_endpoint:
        result["auth_endpoint"] = git.auth_endpoint
    if git.app_id:
        result["app_id"] = git.app_id
        if git.name == "gitlab":
            result["auth_type"] = "pkce"  # in the browser, no server with a secret
    return result


def _login_host(git: GitBackend) -> str:
    """Where editors log in: GitHub's OAuth proxy, or the GitLab or Gitea server itself
    (by default the server whose API it is)."""
    if git.base_url:
        return git.base_url.rstrip("/")
    if git.name in ("gitlab", "gitea") and git.api_root:
        return re.sub(r"/api/v\d+/?$", "", git.api_root.rstrip("/"))
    return ""


def _origin(url: str) -> str:
    """scheme://host[:port] of an address (what a policy names)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def policy(git: GitBackend | None, local: bool = False) -> str:
    """The page's policy: the site itself, and the git host's API and login if any. In
    the preview (`local`), saving reads uploads back from the blob: URLs of their previews
    (fetch), so its editor may connect to those too."""
    sources = ["'self'"] + (["blob:"] if local else [])
    if git is not None:
        api = git.api_root or API_ROOTS.get(git.name, "")
        login = _login_host(git) or (GITLAB if git.name == "gitlab" else "")
        sources += dict.fromkeys(_origin(u) for u in (api, login) if u)
    return POLICY.replace("connect-src 'self'", "connect-src " + " ".join(sources))


def _referenced(schema: Schema) -> set[str]:
    """The collections that a ref field points to."""
    return {f.leaf.collection for c in schema.collections for f in _all_fields(c.fields)
            if f.leaf.type == "ref"}


def _all_fields(fields: tuple[Field, ...]) -> Iterator[Field]:
    for f in fields:
        yield f
        yield from _all_fields(f.fields)
        if f.items is not None:
            yield from _all_fields((f.items,))


def _collection(c: Collection, schema: Schema, lang: str,
                referenced: set[str]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "name": c.name,
        "label": c.label(lang),
        "label_singular": c.singular(lang),
        "folder": f"content/{c.name}",
        "create": True,
        "extension": "md",
        "format": "yaml-frontmatter",
        "identifier_field": c.title_field,
        "slug": "{{slug}}",
        "summary": "{{" + c.title_field + "}}",
        "media_folder": "",
        "public_folder": "",
    }
    if c.name not in referenced:
        result["path"] = "{{slug}}/index"
    fields = [_field(f, schema, lang, inside_optional=False) for f in c.fields]
    fields.append({"name": DRAFT_FIELD, "label": _WORDS[lang]["draft"], "widget": "boolean",
                   "required": False, "default": False})
    body: dict[str, Any] = {"name": BODY, "label": _WORDS[lang]["body"],
                            "widget": "markdown", "required": False}
    if c.sections:
        body["hint"] = _HINTS[lang]["sections"].format(", ".join(c.sections))
    fields.append(body)
    result["fields"] = fields
    return result


def _field(f: Field, schema: Schema, lang: str, inside_optional: bool) -> dict[str, Any]:
    """One field's widget. Inside an optional object a required field is not required in
    the editor (Decap would refuse to save without the object); its hint says so, and
    `dossier check` still requires it once the object is there."""
    result: dict[str, Any] = {"name": f.name, "label": f.label(lang)}
    result.update(_widget(f, schema, lang, inside_optional))
    result["required"] = f.required and not inside_optional
    hint = f.description or _HINTS[lang].get(f.leaf.type, "")
    if f.required and inside_optional:
        hint = f"{hint} {_HINTS[lang]['inside']}".strip()
    if hint and "hint" not in result:
        result["hint"] = hint
    return result


def _widget(f: Field, schema: Schema, lang: str, inside_optional: bool) -> dict[str, Any]:
    t, words = f.type, _WORDS[lang]
    if t == "list":
        assert f.items is not None
        return _list(f.items, schema, lang)
    if t == "string":
        return {"widget": "string"}
    if t == "text":
        return {"widget": "text"}
    if t == "date":
        return {"widget": "datetime", "format": "YYYY-MM-DD", "date_format": "DD-MM-YYYY",
                "time_format": False, "picker_utc": True}
    if t == "year":
        return {"widget": "number", "value_type": "int", "min": 1000, "max": 2999}
    if t in _PATTERNS:
        return {"widget": "string", "pattern": [_PATTERNS[t], words[f"pattern_{t}"]]}
    if t == "enum":
        return _select(f, schema, lang, multiple=False)
    if t == "ref":
        return _relation(f, schema, multiple=False)
    optional = inside_optional or not f.required
    if t == "object":
        return {"widget": "object", "collapsed": False,
                "fields": [_field(sub, schema, lang, optional) for sub in f.fields]}
    return {"widget": "object", "fields": _media_fields(t, lang, optional)}


def _list(item: Field, schema: Schema, lang: str) -> dict[str, Any]:
    """A list: of terms a multiple select, of references a multiple relation, of groups
    (objects, images, documents) their fields per item, else one field per item."""
    if item.type == "enum":
        return _select(item, schema, lang, multiple=True)
    if item.type == "ref":
        return _relation(item, schema, multiple=True)
    if item.type == "object":
        return {"widget": "list", "fields": [_field(sub, schema, lang, False)
                                             for sub in item.fields]}
    if item.type in ("image", "file"):
        return {"widget": "list", "fields": _media_fields(item.type, lang, False)}
    one = {"name": item.name, "label": item.label(lang)}
    one.update(_widget(item, schema, lang, False))
    return {"widget": "list", "field": one}


def _select(f: Field, schema: Schema, lang: str, multiple: bool) -> dict[str, Any]:
    options = [{"label": t.label(lang), "value": t.key} for t in schema.terms(f.vocabulary)]
    return {"widget": "select", "multiple": multiple, "options": options}


def _relation(f: Field, schema: Schema, multiple: bool) -> dict[str, Any]:
    title = schema.collection(f.collection).title_field
    return {"widget": "relation", "collection": f.collection, "value_field": "{{slug}}",
            "search_fields": [title], "display_fields": [title], "multiple": multiple}


def _media_fields(kind: str, lang: str, optional: bool) -> list[dict[str, Any]]:
    """The fields of an image or a document (schema.MEDIA_FIELDS): the file beside the
    record and what describes it."""
    words, hints = _WORDS[lang], _HINTS[lang]
    name = {"name": FILE_NAME, "widget": "image" if kind == "image" else "file",
            "label": words["image" if kind == "image" else "file"], "required": not optional,
            "choose_url": False}
    if optional:
        name["hint"] = hints["inside"]
    if kind == "file":
        return [name, {"name": FILE_TITLE, "label": words["file_title"], "widget": "string",
                       "required": not optional}]
    return [name,
            {"name": IMAGE_ALT, "label": words["alt"], "widget": "string",
             "required": False, "hint": hints["alt"]},
            {"name": IMAGE_DECORATIVE, "label": words["decorative"], "widget": "boolean",
             "required": False, "default": False, "hint": hints["decorative"]},
            {"name": IMAGE_CAPTION, "label": words["caption"], "widget": "string",
             "required": False}]


def config_text(data: dict[str, Any]) -> str:
    """The configuration as YAML, with a line saying where it comes from."""
    head = ("# Made by dossier from content/schema.yml and content/site.yml: change those, "
            "not this file.\n")
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def admin_page(config: SiteConfig, local: bool = False) -> str:
    """admin/index.html: the editor's bundle, its configuration, and a policy of its own;
    `local`: with the script that points Decap at `dossier serve`'s local backend."""
    lang = config.lang
    title = f"{'Beheer' if lang == 'nl' else 'Editor'} – {config.title}"
    noscript = ("De beheeromgeving werkt alleen met JavaScript aan." if lang == "nl" else
                "The editor needs JavaScript.")
    # The preview has the report for editors beside the editor (outputs/files.py).
    # Its own colours: Decap's stylesheet colours the page around it (dark blue on grey).
    report = ('<p style="margin:0;padding:.5rem 1rem;background:#fff">'
              f'<a href="{REPORT_PAGE}" style="color:#0b4a8b">'
              f'{"Wat redacteuren nu kunnen oppakken" if lang == "nl" else "What to look at next"}'
              "</a></p>\n") if local else ""
    return (
        "<!doctype html>\n"
        f'<html lang="{html.escape(lang)}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy(config.git, local)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<link href="{CONFIG}" type="text/yaml" rel="cms-config-url">\n'
        "</head>\n"
        "<body>\n"
        f"<noscript><p>{html.escape(noscript)}</p></noscript>\n"
        + report
        + (f'<script src="{LOCAL_SCRIPT}"></script>\n' if local else "")
        + f'<script src="{BUNDLE}"></script>\n'
        "</body>\n"
        "</html>\n"
    )


def vendored(name: str) -> bytes:
    """A file of the editor's pinned release (outputs/cms/, see scripts/update-cms.sh)."""
    return (resources.files("dossier.outputs") / "cms" / name).read_bytes()


# Decap reads its configuration file first and merges what CMS.init is given into it; the
# backend's address is made from the page's own, so the editor talks to the host and port
# it was opened from (the preview refuses any other).
_LOCAL_JS = f"""\
// Written by dossier serve only: save through the preview's local backend.
window.CMS_MANUAL_INIT = true;
window.addEventListener("DOMContentLoaded", function () {{
  window.CMS.init({{config: {{local_backend: {{
    url: new URL("{LOCAL_API}", location.href).href,
    allowed_hosts: [location.hostname]
  }}}}}});
}});
"""


def admin_files(schema: Schema, config: SiteConfig,
                local: bool = False) -> Iterator[tuple[str, bytes]]:
    """Every file under admin/ with its path in the output; `local` for `dossier serve`."""
    yield f"{FOLDER}/index.html", admin_page(config, local).encode()
    yield f"{FOLDER}/{CONFIG}", config_text(admin_config(schema, config, local)).encode()
    if local:
        yield f"{FOLDER}/{LOCAL_SCRIPT}", _LOCAL_JS.encode()
    for name in (BUNDLE, *LICENCES):
        yield f"{FOLDER}/{name}", vendored(name)
