"""The schema really is data (issue 18): the theme and the code ask for roles, never for
the default schema's names, so a databank with other words builds as the example does."""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
import tokenize
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier.build import BuildOptions, build, load_site
from dossier.cli import main
from dossier.content.schema import ALL_TYPES, Collection, Label
from dossier.core.yamltree import parse
from dossier.plan.pages import plan, record_templates
from helpers import ROOT, SITES, rename_projects, snapshot

SOURCE = ROOT / "src" / "dossier"
THEME = SOURCE / "theme"
ENGLISH = SITES / "english-schema"


# --- no name of the default schema in the code or the theme ------------------------------

def default_schema_names() -> set[str]:
    """Every name the default schema gives: collections, folders, fields (nested ones
    too) and vocabularies."""
    data = parse((ROOT / "content" / "schema.yml").read_text("utf-8"), "schema.yml").data
    names = set(data["vocabularies"])
    for name, spec in data["collections"].items():
        names |= {name, spec["folder"]}
        names |= {path[-1] for path, _ in _fields(spec["fields"], ())}
    return {n for n in names if n} - GENERATOR_WORDS


def _fields(fields: dict, path: tuple) -> Iterator[tuple[tuple, dict]]:  # type: ignore[type-arg]
    for name, spec in fields.items():
        yield (*path, name), spec
        yield from _fields(spec.get("fields", {}), (*path, name))
        yield from _fields(spec.get("items", {}).get("fields", {}), (*path, name))


# Words that are the generator's own as well as names in the default schema: the field
# types and keys of schema.yml itself (a field `type`, a field `url` and a field `email`
# of type email).
GENERATOR_WORDS = {*ALL_TYPES, "type", "title", "label", "fields", "items", "role"}

# Where a word of the default schema is also a word of something else, file by file (a
# test below makes sure each is still needed).
EXAMPLE = "an example in a message for editors"
ROLE = "the name of a role"
ALLOWED: dict[str, dict[str, str]] = {
    "titel": {"content/settings.py": "site.yml's keys",
              "content/schema.py": "the file type's subfield",
              "authoring/editor.py": "the file type's subfield",
              "outputs/opendata.py": "the open data's key for the title of a reference or "
                                     "document",
              "cli.py": "the option --titel of dossier new"},
    "uitgever": {"content/settings.py": "site.yml's key for the publishing organisation",
                 "content/roles.py": "site.yml's key, in a message"},
    "foto": {"content/schema.py": EXAMPLE, "model/media.py": EXAMPLE,
             "authoring/editor.py": EXAMPLE},
    "organisaties": {"content/markup.py": EXAMPLE, "render/markdown.py": EXAMPLE},
    "naam": {"preview/contentpaths.py": "Dutch interface text"},
    "dossiers": {"content/roles.py": "English text in a message"},
    "bijgewerkt": {"preview/server.py": "Dutch interface text"},
    "logo": {"render/jsonld.py": "schema.org's property"},
    # English words that are Dutch field names too.
    "status": {"preview/server.py": 'HTML role="status"', "templates/search.html": 'role="status"',
               "static/zoeken.js": "a variable"},
    "start": {"content/markup.py": "an attribute of <ol>", "search/pagefind.py": "English text",
              "static/zoeken.js": "a variable", "static/dossier.css": "a CSS value"},
    "links": {"outputs/feeds.py": "English text",
              "content/markup.py": "the name of a Markdown extension",
              "static/dossier.css": "a class", "templates/search.html": "a class"},
    # Roles named like the default schema's fields (the role `partners` of the field
    # `partners`): where roles are declared and asked for.
    "partners": {"content/roles.py": ROLE, "render/jsonld.py": ROLE},
    "website": {"content/roles.py": ROLE, "render/jsonld.py": ROLE,
                "content/markup.py": "English text"},
    "isbn": {"content/roles.py": ROLE, "templates/partials/fields.html": ROLE},
}


def code_strings(file: Path) -> Iterator[tuple[int, str]]:
    """The string literals of a Python file that are not docstrings (comments and
    docstrings explain; they may use the example's words)."""
    text = file.read_text("utf-8")
    docstrings = set()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value,
                                                                           str):
            docstrings.add((body[0].lineno, body[0].col_offset))
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING and token.start not in docstrings:
            yield token.start[0], token.string


def theme_texts() -> Iterator[tuple[str, int, str]]:
    """The theme's templates without Jinja comments, its scripts and stylesheets without
    comments, and the keys of its messages (their values are interface text)."""
    comment = {".html": re.compile(r"\{#.*?#\}", re.S), ".css": re.compile(r"/\*.*?\*/", re.S),
               ".js": re.compile(r"/\*.*?\*/|(?<![:\"'])//[^\n]*", re.S)}
    for file in sorted(THEME.rglob("*")):
        rel = file.relative_to(THEME).as_posix()
        if file.suffix in comment:
            text = comment[file.suffix].sub(lambda m: "\n" * m[0].count("\n"),
                                             file.read_text("utf-8"))
            for number, line in enumerate(text.splitlines(), 1):
                yield rel, number, line
        elif file.suffix == ".yml":
            for number, line in enumerate(file.read_text("utf-8").splitlines(), 1):
                if line and not line.startswith("#"):
                    yield rel, number, line.split(":", 1)[0]


def test_no_name_of_the_default_schema_in_the_code_or_the_theme() -> None:
    names = default_schema_names()
    assert {"projecten", "bijgewerkt", "uitvoerder", "partners", "thema", "foto"} <= names
    word = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(names)) + r")(?![A-Za-z0-9_])")
    found = []
    for file in sorted(SOURCE.rglob("*.py")):
        if "scaffold" in file.parts:
            continue
        for line, text in code_strings(file):
            rel = file.relative_to(SOURCE).as_posix()
            found += [f"{rel}:{line}: {m[1]}" for m in word.finditer(text)
                      if rel not in ALLOWED.get(m[1], {})]
    for rel, line, text in theme_texts():
        found += [f"theme/{rel}:{line}: {m[1]}" for m in word.finditer(text)
                  if rel not in ALLOWED.get(m[1], {})]
    assert found == []


def test_the_allowed_names_are_still_needed() -> None:
    """An allowance that nothing uses any more goes (so the list stays precise)."""
    texts = {file.relative_to(SOURCE).as_posix(): "\n".join(s for _, s in code_strings(file))
             for file in SOURCE.rglob("*.py") if "scaffold" not in file.parts}
    for rel, _, line in theme_texts():
        texts[rel] = texts.get(rel, "") + "\n" + line
    names = default_schema_names()
    unused = [(name, where) for name, places in ALLOWED.items() for where in places
              if name not in names or not re.search(rf"\b{name}\b", texts.get(where, ""))]
    assert unused == []


# --- the example with its projects renamed ------------------------------------------------

# The collection's name where it shows in the output: in URLs, file names, ids, classes,
# JSON and search filters; never after a space or a letter (that is text: the label
# "Projecten" lowercased, "participatieprojecten" in a body).
AS_NAME = re.compile(rb"(?<![\w\s])projecten\b")


def test_the_example_with_projects_renamed_builds_the_same_pages(
    example_site: Path, tmp_path: Path
) -> None:
    renamed = tmp_path / "renamed"
    shutil.copytree(example_site, renamed)
    rename_projects(renamed)
    runner = CliRunner()
    for site in (example_site, renamed):
        result = runner.invoke(main, ["build", str(site), "--no-search", "--quiet"])
        assert result.exit_code == 0, result.output
        assert "error" not in result.output
    before, after = snapshot(example_site / "build"), snapshot(renamed / "build")
    assert len(before) > 100
    expected = {re.sub(r"\bprojecten\b", "praktijken", rel): AS_NAME.sub(b"praktijken", data)
                for rel, data in before.items()}
    assert sorted(after) == sorted(expected)
    different = [rel for rel in expected if after[rel] != expected[rel]]
    assert different == []
    assert "praktijken/tussen-in/index.html" in after


# --- a schema in English ------------------------------------------------------------------

@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The English-schema site, built with its search index."""
    site = tmp_path_factory.mktemp("english") / "site"
    shutil.copytree(ENGLISH, site)
    result = CliRunner().invoke(main, ["build", str(site)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output and "error" not in result.output
    return site / "build"


def roles_of_pages(site: Path) -> set[tuple[str, str, str]]:
    """What pages a site has, by kind and the role of their collection (not its name),
    and for facet pages whether the facet is the topic."""
    model = load_site(site, BuildOptions(), [])
    found = set()
    for page in plan(model):
        role = page.collection.role if page.collection else ""
        topic = page.facet is not None and page.facet.field.role == "topic"
        found.add((page.kind, role, "topic" if topic else ""))
    return found


def test_the_english_site_has_the_pages_of_the_example_by_role(
    example_site: Path, tmp_path: Path
) -> None:
    english = tmp_path / "english"
    shutil.copytree(ENGLISH, english)
    assert roles_of_pages(english) == roles_of_pages(example_site)


def test_the_english_site_has_every_page_type(english: Path) -> None:
    for rel in ("index.html", "projects/index.html", "projects/example-project-one/index.html",
                "organisations/example-organisation-one/index.html",
                "collections/example-collection-one/index.html",
                "collections/example-collection-one/afdrukken/index.html",
                "about/index.html", "topic/index.html", "topic/parenting/index.html",
                "a-z/index.html", "zoeken/index.html", "data/index.html", "404.html",
                "feed.xml", "sitemap.xml", "data/projects.json", "data/collections.csv",
                "data/datapackage.json", "projects/example-project-one/index.json",
                "pagefind/pagefind.js"):
        assert (english / rel).is_file(), rel
    html = (english / "index.html").read_text()
    assert '<html lang="en">' in html
    assert "Recently updated projects" in html and "Example project one (generated)" in html
    assert 'href="collections/example-collection-one/"' in html  # the dossiers' cards
    assert 'href="about/"' in html  # the introduction


def jsonld(page: Path) -> dict:  # type: ignore[type-arg]
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page.read_text())
    assert found is not None
    return json.loads(found[1])  # type: ignore[no-any-return]


def test_the_english_site_has_json_ld_from_roles(english: Path) -> None:
    project = jsonld(english / "projects/example-project-one/index.html")
    assert project["@type"] == "Project"
    assert project["dateModified"] == "2024-05-01"
    assert project["description"].startswith("A generated example project")
    assert [m["name"] for m in project["member"]] == [
        "Example organisation one (generated)", "Example organisation two (generated)"]
    assert [m["name"] for m in project["funder"]] == ["Example organisation three (generated)"]
    assert project["keywords"] == ["Parenting", "Health"]
    assert project["location"] == {"@type": "Place", "name": "Northtown"}
    assert project["image"].endswith(".png")
    organisation = jsonld(english / "organisations/example-organisation-one/index.html")
    assert organisation["@type"] == "Organization"
    assert (organisation["sameAs"], organisation["email"], organisation["telephone"],
            organisation["foundingDate"]) == ("https://example.org/organisation-one",
                                              "one@example.org", "+31 00 000 0001", "2001")
    assert organisation["address"]["addressLocality"] == "Northtown"
    collection = jsonld(english / "collections/example-collection-one/index.html")
    assert collection["@type"] == "Collection"
    assert len(collection["hasPart"]) == 3


def test_the_english_site_shows_what_the_roles_give(english: Path) -> None:
    collection = (english / "collections/example-collection-one/index.html").read_text()
    groups = re.findall(r'<h3 id="groep-\d+">(.*?) <span', collection)
    assert groups == ['<a href="../../topic/parenting/">Parenting</a>',
                      '<a href="../../topic/health/">Health</a>',
                      '<a href="../../topic/education/">Education</a>', "No theme"]
    assert "Organisations involved (3)" in collection
    assert "ISBN 000-0-00-000000-0" in collection  # the reading list, by the isbn role
    assert '<a href="https://example.org/publication">A generated publication</a>' in collection
    organisation = (english / "organisations/example-organisation-one/index.html").read_text()
    assert re.findall(r'<h2 id="(?:genoemd|dossierrol)-\d">([^<]+)</h2>', organisation) == [
        "Leads", "Partner in", "Curates"]
    printable = (english / "collections/example-collection-one/afdrukken/index.html").read_text()
    assert printable.count('class="print-record"') == 3
    feed = (english / "feed.xml").read_text()
    assert feed.count("<entry>") == 2 and "<updated>2024-05-01T00:00:00Z</updated>" in feed
    assert "<author><name>Example organisation one (generated)</name></author>" in feed
    cards = (english / "projects/index.html").read_text()
    assert 'class="card-image"' in cards  # the image role
    az = (english / "a-z/index.html").read_text()
    assert 'id="az-projects"' in az and 'id="az-organisations"' in az
    record = (english / "projects/example-project-one/index.html").read_text()
    assert '<meta property="og:image"' in record
    assert '<meta name="description" content="A generated example project' in record
    sitemap = (english / "sitemap.xml").read_text()
    assert "<lastmod>2024-05-01</lastmod>" in sitemap


@pytest.mark.parametrize(("file", "old", "new"), [
    # The date of the last update (the home page's recent projects, the feed, the site's
    # date) and a topic (a dossier's groups), under their English names.
    ("projects/example-project-two.md", "updated: 2024-03-12", "updated: 2024-05-15"),
    ("projects/example-project-three.md", "stage: running", "topic: [health]\nstage: running"),
    ("projects/example-project-three.md", "stage: running", "updated: 2024-05-20\nstage: running"),
    ("organisations/example-organisation-two.yml", "name: Example organisation two",
     "name: Example organisation 2"),
])
def test_an_incremental_build_of_the_english_site_equals_a_clean_one(
    tmp_path: Path, file: str, old: str, new: str
) -> None:
    site = tmp_path / "site"
    shutil.copytree(ENGLISH, site)
    build(site, BuildOptions(search=False))
    path = site / "content" / file
    text = path.read_text("utf-8")
    assert old in text
    path.unlink()
    path.write_text(text.replace(old, new), "utf-8")
    result = build(site, BuildOptions(search=False))
    assert 0 < result.rendered < result.pages
    clean = tmp_path / "clean"
    build(site, BuildOptions(search=False, out=clean, cache=False))
    assert snapshot(site / "build") == snapshot(clean)


# --- record templates: the site's per collection, the theme's per role ---------------------

def test_a_site_template_for_a_collection_wins_over_the_theme_s_for_its_role(
    base_site: Path
) -> None:
    own = base_site / "templates" / "record" / "projecten.html"
    own.parent.mkdir(parents=True)
    own.write_text('{% extends "record/project.html" %}\n{% block summary %}'
                   '<p class="eigen">Eigen sjabloon</p>{{ super() }}{% endblock %}\n')
    result = CliRunner().invoke(main, ["build", str(base_site), "--no-search", "--quiet"])
    assert result.exit_code == 0, result.output
    project = (base_site / "build/projecten/project-een/index.html").read_text()
    assert '<p class="eigen">Eigen sjabloon</p>' in project
    assert 'aria-labelledby="verwant"' in project  # the theme's template for projects
    organisation = (base_site / "build/organisaties/org-a/index.html").read_text()
    assert "Eigen sjabloon" not in organisation


def test_record_templates_by_name_then_role() -> None:
    def collection(name: str, role: str) -> Collection:
        return Collection(name, name, Label(name, name), Label(name, name), "titel", (),
                          role=role)

    assert record_templates(collection("projecten", "project")) == (
        "record/projecten.html", "record/project.html", "record.html")
    assert record_templates(collection("project", "project")) == (
        "record/project.html", "record.html")
    # A collection named like another role does not get the theme's template of that role.
    assert record_templates(collection("dossier", "project")) == (
        "record/project.html", "record.html")
    assert record_templates(collection("notities", "")) == (
        "record/notities.html", "record.html")


# --- a schema without a role the theme needs -----------------------------------------------

def test_a_schema_without_dossiers_builds_without_printable_dossiers(
    site_factory: Callable[[str], Path]
) -> None:
    site = site_factory("role-missing")
    result = CliRunner().invoke(main, ["build", str(site), "--no-search"])
    assert result.exit_code == 0, result.output
    assert "no collection has the role 'dossier'" in result.stderr
    build = site / "build"
    assert (build / "dossiers/dossier-een/index.html").is_file()
    assert not list(build.rglob("afdrukken"))
    assert 'class="print-link"' not in (build / "dossiers/dossier-een/index.html").read_text()
    assert "home-dossierlijst" not in (build / "index.html").read_text()
