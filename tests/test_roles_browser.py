"""The English-schema site (issue 18) in headless Chromium and the Nu Html Checker: every
page type passes axe and vnu as the example's do (tests/test_theme_browser.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import axe_violations, open_page, require_vnu, serve, vnu_errors
from helpers import SITES

pytestmark = pytest.mark.browser
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


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_axe_finds_no_wcag_a_or_aa_violations_in_the_english_site(
    chromium: Any, base: str, kind: str, width: int, scheme: str
) -> None:
    visit = open_page(chromium, base, width=width, scheme=scheme, bypass_csp=True)
    path = PAGE_TYPES[kind]
    visit.page.goto(base + path)
    if path.startswith("zoeken/"):
        visit.page.wait_for_selector("#zoekstatus:not(:empty)")
    assert visit.page.locator("html").get_attribute("lang") == "en"
    assert axe_violations(visit) == []
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
    require_vnu()
    pages = sorted(str(p) for p in built.rglob("*.html") if "pagefind" not in p.parts)
    assert len(pages) > 40
    assert vnu_errors(pages) == []
