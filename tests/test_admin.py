"""The web editor under admin/ (docs/admin.md): Decap CMS's configuration made from
schema.yml agrees with it field by field, and the build publishes the editor only when
site.yml asks, with nothing fetched from another host and no way to write."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from dossier.cli import main
from dossier.content.load import load_config, load_schema
from dossier.content.schema import (
    DRAFT_FIELD,
    FILE_NAME,
    FILE_TITLE,
    IMAGE_ALT,
    Field,
    Schema,
    walk_fields,
)
from dossier.outputs.admin import BODY, admin_config, admin_page, config_text
from helpers import ROOT, SITES, rename_projects

# The widget each scalar type becomes.
WIDGET = {"string": "string", "text": "text", "date": "datetime", "month": "string",
          "year": "number", "url": "string", "email": "string", "phone": "string",
          "enum": "select", "ref": "relation", "object": "object", "image": "object",
          "file": "object"}


def renamed_example(tmp_path: Path) -> Path:
    site = tmp_path / "renamed"
    site.mkdir()
    shutil.copytree(ROOT / "content", site / "content")
    rename_projects(site)
    return site


def english_site(tmp_path: Path) -> Path:
    site = tmp_path / "english"
    shutil.copytree(SITES / "english-schema", site)
    return site


@pytest.fixture(params=["example", "renamed", "english"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return {"example": lambda: ROOT, "renamed": lambda: renamed_example(tmp_path),
            "english": lambda: english_site(tmp_path)}[request.param]()


def check_field(f: Field, widget: dict[str, Any], schema: Schema, lang: str,
                optional: bool) -> None:
    """One widget against its field declaration: name, label, kind, required, terms."""
    assert widget["name"] == f.name
    assert widget["label"] == f.label(lang)
    assert widget["required"] is (f.required and not optional), f.name
    if f.type == "list":
        assert f.items is not None
        check_list(f.items, widget, schema, lang)
    else:
        check_kind(f, widget, schema, lang, optional or not f.required)


def check_kind(f: Field, widget: dict[str, Any], schema: Schema, lang: str,
               optional: bool) -> None:
    assert widget["widget"] == WIDGET[f.type], f.name
    if f.type == "enum":
        assert widget["multiple"] is False
        check_options(f, widget, schema, lang)
    elif f.type == "ref":
        assert widget["multiple"] is False
        check_relation(f, widget, schema)
    elif f.type == "object":
        assert [w["name"] for w in widget["fields"]] == [sub.name for sub in f.fields]
        for sub, w in zip(f.fields, widget["fields"], strict=True):
            check_field(sub, w, schema, lang, optional)
    elif f.type in ("image", "file"):
        check_media(f.type, widget["fields"], optional)
    elif f.type in ("month", "url", "email", "phone"):
        assert widget["pattern"][0].startswith("^")


def check_list(item: Field, widget: dict[str, Any], schema: Schema, lang: str) -> None:
    if item.type == "enum":
        assert widget["widget"] == "select" and widget["multiple"] is True
        check_options(item, widget, schema, lang)
    elif item.type == "ref":
        assert widget["widget"] == "relation" and widget["multiple"] is True
        check_relation(item, widget, schema)
    elif item.type == "object":
        assert widget["widget"] == "list"
        assert [w["name"] for w in widget["fields"]] == [sub.name for sub in item.fields]
        for sub, w in zip(item.fields, widget["fields"], strict=True):
            check_field(sub, w, schema, lang, optional=False)  # an item is added on purpose
    elif item.type in ("image", "file"):
        assert widget["widget"] == "list"
        check_media(item.type, widget["fields"], optional=False)
    else:
        assert widget["widget"] == "list"
        check_kind(item, widget["field"], schema, lang, optional=False)


def check_options(f: Field, widget: dict[str, Any], schema: Schema, lang: str) -> None:
    """Every term is an option, labelled in the site's language, and nothing else is."""
    assert widget["options"] == [{"label": t.label(lang), "value": t.key}
                                 for t in schema.terms(f.vocabulary)]


def check_relation(f: Field, widget: dict[str, Any], schema: Schema) -> None:
    title = schema.collection(f.collection).title_field
    assert widget["collection"] == f.collection
    assert widget["value_field"] == "{{slug}}"
    assert widget["search_fields"] == [title] and widget["display_fields"] == [title]


def check_media(kind: str, fields: list[dict[str, Any]], optional: bool) -> None:
    by_name = {w["name"]: w for w in fields}
    assert by_name[FILE_NAME]["widget"] == ("image" if kind == "image" else "file")
    assert by_name[FILE_NAME]["required"] is not optional
    if kind == "image":
        assert by_name[IMAGE_ALT]["widget"] == "string"
        assert by_name[IMAGE_ALT]["required"] is False  # not when decorative; the build checks
    else:
        assert by_name[FILE_TITLE]["required"] is not optional


def test_the_config_agrees_with_the_schema_field_by_field(site: Path) -> None:
    schema, config = load_schema(site), load_config(site)
    data = yaml.safe_load(config_text(admin_config(schema, config)))
    assert data["locale"] == config.lang
    assert [c["name"] for c in data["collections"]] == [c.name for c in schema.collections]
    for collection, cms in zip(schema.collections, data["collections"], strict=True):
        assert cms["folder"] == f"content/{collection.name}"
        assert cms["label"] == collection.label(config.lang)
        assert cms["identifier_field"] == collection.title_field
        assert cms["format"] == "yaml-frontmatter" and cms["extension"] == "md"
        widgets = cms["fields"]
        assert [w["name"] for w in widgets] == [f.name for f in collection.fields] + [
            DRAFT_FIELD, BODY]
        for f, widget in zip(collection.fields, widgets[:-2], strict=True):
            check_field(f, widget, schema, config.lang, optional=False)
        assert widgets[-1]["widget"] == "markdown"


def test_records_that_references_name_stay_files_so_relations_store_their_slug() -> None:
    """Decap calls a folder's record `<slug>/index`, which is no slug: a collection that a
    relation points to gets its new records as `<slug>.md`, the others as folders."""
    schema, config = load_schema(ROOT), load_config(ROOT)
    paths = {c["name"]: c.get("path") for c in admin_config(schema, config)["collections"]}
    targets = {f.collection for c in schema.collections
               for _, f in walk_fields(c.fields, ()) if f.type == "ref"}
    assert targets == {"dossiers", "organisaties"}
    assert {name for name, path in paths.items() if path is None} == targets
    assert {path for name, path in paths.items() if name not in targets} == {"{{slug}}/index"}


def test_a_build_writes_no_local_backend_and_no_write_endpoint() -> None:
    data = admin_config(load_schema(ROOT), load_config(ROOT))
    assert "local_backend" not in data
    assert data["backend"] == {"name": "test-repo"}  # in the browser only: nothing is saved
    local = admin_config(load_schema(ROOT), load_config(ROOT), local=True)
    assert local["local_backend"] is True  # `dossier serve`'s editor alone


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.policy = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.links += [v for k, v in attrs if k in ("src", "href") and v]
        if found.get("http-equiv") == "Content-Security-Policy":
            self.policy = found.get("content") or ""


def _build(site: Path) -> Path:
    result = CliRunner().invoke(main, ["build", str(site), "--no-search", "--quiet"])
    assert result.exit_code == 0, result.output
    return site / "build"


def test_the_build_publishes_the_editor_only_when_site_yml_asks(example_site: Path) -> None:
    out = _build(example_site)
    assert not (out / "admin").exists()
    public_policy = _Links()
    public_policy.feed((out / "index.html").read_text("utf-8"))

    settings = example_site / "content" / "site.yml"
    settings.write_text(settings.read_text("utf-8") + "beheer: true\n", "utf-8")
    out = _build(example_site)
    assert sorted(p.name for p in (out / "admin").iterdir()) == [
        "LICENSE", "config.yml", "decap-cms.js", "decap-cms.js.LICENSE.txt", "index.html"]
    page = _Links()
    page.feed((out / "admin" / "index.html").read_text("utf-8"))
    assert page.links == ["config.yml", "decap-cms.js"]
    assert "default-src 'none'" in page.policy and "http" not in page.policy
    # The public pages keep their own, stricter policy.
    again = _Links()
    again.feed((out / "index.html").read_text("utf-8"))
    assert again.policy == public_policy.policy and "'unsafe-eval'" not in again.policy
    config = (out / "admin" / "config.yml").read_text("utf-8")
    assert not re.search(r"https?://\w", config)  # a hint may say "begint met https://"
    assert "local_backend" not in config and "proxy" not in config
    bundle = (out / "admin" / "decap-cms.js").read_bytes()
    assert bundle.startswith(b"/*! For license information please see decap-cms.js.LICENSE")
    assert b"sourceMappingURL" not in bundle


def test_the_page_speaks_the_site_s_language(tmp_path: Path) -> None:
    page = admin_page(load_config(english_site(tmp_path)))
    assert '<html lang="en">' in page and "needs JavaScript" in page
    dutch = admin_page(load_config(ROOT))
    assert '<html lang="nl">' in dutch and "alleen met JavaScript" in dutch


def test_beheer_must_be_true_or_false(example_site: Path) -> None:
    settings = example_site / "content" / "site.yml"
    settings.write_text(settings.read_text("utf-8") + "beheer: ja\n", "utf-8")
    result = CliRunner().invoke(main, ["check", str(example_site)])
    assert result.exit_code == 1
    assert "site.yml" in result.output and "beheer" in result.output


def _with_settings(site: Path, text: str) -> None:
    settings = site / "content" / "site.yml"
    settings.write_text(settings.read_text("utf-8") + text, "utf-8")


def test_a_git_backend_in_site_yml_is_where_the_editor_saves(example_site: Path) -> None:
    _with_settings(example_site, "beheer:\n  backend: github\n  repository: nji/databank\n"
                   "  base_url: https://auth.example.org/\n  auth_endpoint: oauth/auth\n")
    config = load_config(example_site)
    assert config.admin
    assert admin_config(load_schema(example_site), config)["backend"] == {
        "name": "github", "repo": "nji/databank", "branch": "main",
        "base_url": "https://auth.example.org", "auth_endpoint": "oauth/auth"}
    out = _build(example_site)
    assert "repo: nji/databank" in (out / "admin" / "config.yml").read_text("utf-8")
    page = _Links()
    page.feed((out / "admin" / "index.html").read_text("utf-8"))
    # The page may talk to the host's API and the login proxy, and to nothing else.
    assert "connect-src 'self' https://api.github.com https://auth.example.org;" in page.policy
    assert page.policy.count("https://") == 2


def test_gitlab_and_gitea_log_in_on_their_own_server(example_site: Path) -> None:
    _with_settings(example_site, "beheer:\n  backend: gitea\n  repository: nji/databank\n"
                   "  branch: content\n  api_root: https://codeberg.org/api/v1\n"
                   "  app_id: 4f2c\n")
    config = load_config(example_site)
    assert admin_config(load_schema(example_site), config)["backend"] == {
        "name": "gitea", "repo": "nji/databank", "branch": "content",
        "api_root": "https://codeberg.org/api/v1", "base_url": "https://codeberg.org",
        "app_id": "4f2c"}
    assert "connect-src 'self' https://codeberg.org;" in admin_page(config)
    _with_settings(example_site, "")
    settings = example_site / "content" / "site.yml"
    settings.write_text(settings.read_text("utf-8").split("beheer:")[0]
                        + "beheer:\n  backend: gitlab\n  repository: jeugd/kennis/databank\n"
                        "  app_id: 9a1b\n", "utf-8")
    config = load_config(example_site)
    assert admin_config(load_schema(example_site), config)["backend"] == {
        "name": "gitlab", "repo": "jeugd/kennis/databank", "branch": "main",
        "app_id": "9a1b", "auth_type": "pkce"}
    assert "connect-src 'self' https://gitlab.com/api/v4" not in admin_page(config)
    assert "connect-src 'self' https://gitlab.com;" in admin_page(config)


def _problems(site: Path) -> list[str]:
    result = CliRunner().invoke(main, ["check", str(site)])
    assert result.exit_code == 1
    return [line for line in result.stderr.splitlines() if line.startswith("content/")]


def test_a_wrong_git_backend_is_reported_at_its_line(example_site: Path) -> None:
    lines = len((example_site / "content" / "site.yml").read_text("utf-8").splitlines())
    _with_settings(example_site, "beheer:\n  backend: githb\n  repository: nji/databank\n")
    assert _problems(example_site) == [
        f"content/site.yml:{lines + 2}:12: error: beheer.backend: 'githb' is not a known "
        "term; did you mean 'github'?"]


def test_what_a_git_backend_lacks_is_reported_at_once(example_site: Path) -> None:
    n = len((example_site / "content" / "site.yml").read_text("utf-8").splitlines())
    _with_settings(example_site, "beheer:\n  backend: gitea\n  branch: main\n"
                   "  api_root: http://gitea.example.org/api/v1\n")
    assert _problems(example_site) == [
        f"content/site.yml:{n + 2}:3: error: beheer.repository: required field is missing",
        f"content/site.yml:{n + 2}:12: error: beheer.backend: gitea needs 'app_id': the "
        "client ID of an OAuth2 application in Gitea or Forgejo",
        f"content/site.yml:{n + 4}:13: error: beheer.api_root: "
        "'http://gitea.example.org/api/v1' is not an absolute https:// address"]
    settings = example_site / "content" / "site.yml"
    settings.write_text(settings.read_text("utf-8").split("beheer:")[0]
                        + "beheer:\n  backend: github\n  repository: nji\n", "utf-8")
    assert _problems(example_site) == [
        f"content/site.yml:{n + 2}:12: error: beheer.backend: github needs 'base_url': the "
        "address of the OAuth proxy that logs editors in (GitHub cannot log in from the "
        "browser alone)",
        f"content/site.yml:{n + 3}:15: error: beheer.repository: 'nji' is not a repository "
        "on github: write owner/name"]
