"""The English-schema site (issue 18) in headless Chromium and the Nu Html Checker: every
page type passes axe and vnu as the example's do (tests/test_theme_browser.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import NODE_MODULES, launch, open_page, serve
from conftest import SITES

pytestmark = pytest.mark.browser
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
COLLECTION = "collections/example-collection-one/"
PAGE_TYPES = {
    "home": "",
    "dossier": COLLECTION,
    "project": "projects/example-project-two/",
    "project with image and documents": "projects/example-project-one/",
    "organisation": "organisations/example-organisation-one/",
    "list": "projects/",
    "facet": "topic/",
    "facet term": "topic/parenting/",
    "A-Z": "a-z/",
    "open data": "data/",
    "content page": "about/",
    "search": "zoeken/?region=north",
    "search with a query": "zoeken/?q=generated&region=north",
    "404": "404.html",
    "printable dossier": COLLECTION + "afdrukken/",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dossier.build import build

    site = tmp_path_factory.mktemp("english") / "site"
    shutil.copytree(SITES / "english-schema", site)
    build(site)
    return site / "build"


@pytest.fixture(scope="module")
def base(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(built, tmp_path_factory.mktemp("www")) as url:
        yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launch() as browser:
        yield browser


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_axe_finds_no_wcag_a_or_aa_violations_in_the_english_site(
    chromium: Any, base: str, kind: str, width: int, scheme: str
) -> None:
    if not AXE.is_file():
        pytest.skip("axe-core is not installed: run `make test` (npm ci into .cache/node)")
    visit = open_page(chromium, base, width=width, scheme=scheme, bypass_csp=True)
    path = PAGE_TYPES[kind]
    visit.page.goto(base + path)
    if path.startswith("zoeken/"):
        visit.page.wait_for_selector("#zoekstatus:not(:empty)")
    assert visit.page.locator("html").get_attribute("lang") == "en"
    visit.page.add_script_tag(path=str(AXE))
    result = visit.page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    problems = [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
                for v in result["violations"]]
    assert problems == []
    assert result["passes"], "axe ran no rule"
    assert visit.outside == [] and visit.errors == []
    visit.page.context.close()


def test_the_english_search_finds_records_by_their_topic(chromium: Any, base: str) -> None:
    visit = open_page(chromium, base)
    visit.page.goto(base + "zoeken/?topic=parenting")
    visit.page.wait_for_selector("#zoekstatus:not(:empty)")
    titles = visit.page.locator("#zoekresultaten .card-title").all_inner_texts()
    assert titles == ["Example project one (generated)"]
    assert visit.outside == [] and visit.errors == []
    visit.page.context.close()


def test_vnu_finds_no_errors_in_any_page_of_the_english_site(built: Path) -> None:
    jar = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
    if not jar.is_file():
        pytest.skip("vnu.jar is not installed: run `make test` (npm ci into .cache/node)")
    if shutil.which("java") is None:
        pytest.skip("Java is missing: the Nu Html Checker needs it")
    pages = sorted(str(p) for p in built.rglob("*.html") if "pagefind" not in p.parts)
    assert len(pages) > 40
    run = subprocess.run(["java", "-jar", str(jar), "--errors-only", "--format", "json", *pages],
                         capture_output=True, text=True)
    messages = json.loads(run.stderr or run.stdout)["messages"]
    assert [f"{m['url']}:{m.get('lastLine')}: {m['message']}" for m in messages] == []
