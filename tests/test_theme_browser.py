"""The default theme in headless Chromium (issue 7): accessibility, layout, keyboard, print.

The example site is served on localhost under /databank/. axe-core comes from npm
(`make test` installs it into .cache/node).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import Visit, axe_violations, open_page, require_vnu, serve, vnu_errors
from helpers import copy_example

pytestmark = pytest.mark.browser
DOSSIER = "dossiers/samenwerken-met-migrantenorganisaties/"
PAGE_TYPES = {
    "home": "",
    "dossier": DOSSIER,
    "project": "projecten/tussen-in/",
    "project with image and documents": "projecten/opbrengsten-lokale-initiatieven/",
    "organisation": "organisaties/al-amal/",
    "list": "projecten/",
    "facet": "thema/",
    "facet term": "thema/toegankelijkheid-jeugdvoorzieningen/",
    "A-Z": "a-z/",
    "open data": "data/",
    "content page": "toegankelijkheid/",
    "search": "zoeken/?provincie=utrecht",
    "search with a query": "zoeken/?q=samenwerking&provincie=utrecht",  # excerpts
    "404": "404.html",
    "printable dossier": DOSSIER + "afdrukken/",
}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from dossier.build import build

    site = copy_example(tmp_path_factory.mktemp("example"))
    build(site)
    with serve(site / "build", site / "www") as url:
        yield url


def visit_page(chromium: Any, base: str, path: str, **options: Any) -> Visit:
    visit = open_page(chromium, base, **options)
    visit.page.goto(base + path)
    if path.startswith("zoeken/"):
        visit.page.wait_for_selector("#zoekstatus:not(:empty)")
    return visit


def close(visit: Visit) -> None:
    assert visit.outside == [], "requests left localhost"
    visit.page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_axe_finds_no_wcag_a_or_aa_violations(
    chromium: Any, base: str, kind: str, width: int, scheme: str
) -> None:
    visit = visit_page(chromium, base, PAGE_TYPES[kind], width=width, scheme=scheme,
                       bypass_csp=True)
    assert axe_violations(visit) == []
    close(visit)


@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_no_horizontal_scrolling_at_320_px(chromium: Any, base: str, kind: str) -> None:
    visit = visit_page(chromium, base, PAGE_TYPES[kind], width=320)
    overflow = visit.page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    close(visit)


@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_one_h1_landmarks_and_language(chromium: Any, base: str, kind: str) -> None:
    visit = visit_page(chromium, base, PAGE_TYPES[kind])
    page = visit.page
    assert page.locator("h1").count() == 1
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator("main").count() == 1
    assert page.locator("header.site-header").count() == 1
    assert page.locator("footer").count() == 1
    close(visit)


@pytest.mark.parametrize(("width", "expected"), [(375, "-480.webp"), (1280, "-960.webp")])
def test_a_record_image_loads_its_smallest_fitting_variant(
    chromium: Any, base: str, width: int, expected: str
) -> None:
    visit = open_page(chromium, base, width=width)
    requested: list[str] = []
    visit.page.on("request", lambda request: requested.append(request.url))
    visit.page.goto(base + PAGE_TYPES["project with image and documents"])
    img = visit.page.locator(".record-image img")
    img.evaluate("i => i.decode()")
    assert img.evaluate("i => i.currentSrc").endswith(expected)
    assert img.evaluate("i => i.complete")
    variants = [u for u in requested if "/succesfactoren-" in u]
    assert len(variants) == 1 and variants[0].endswith(expected), variants
    close(visit)


def test_keyboard_reaches_the_first_facet_link_with_focus_always_visible(
    chromium: Any, base: str
) -> None:
    visit = visit_page(chromium, base, "projecten/tussen-in/")
    page = visit.page
    first_facet = page.locator(".facts a[href*='thema/']").first
    target = first_facet.evaluate("a => a.href")
    stops = []
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => {
            const el = document.activeElement, style = getComputedStyle(el);
            const box = el.getBoundingClientRect();
            return {tag: el.tagName, text: el.textContent.trim().slice(0, 40), href: el.href || '',
                    outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
                    visible: box.width > 0 && box.height > 0 && box.bottom > 0 &&
                             box.top < innerHeight};
        }""")
        stops.append(focused)
        assert focused["outline"] != "none" and focused["width"] >= 2, focused
        assert focused["visible"], focused
        if focused["href"] == target:
            break
    else:
        pytest.fail(f"the first facet link was not reached: {[s['text'] for s in stops]}")
    assert stops[0]["text"] == "Naar de inhoud"  # the skip link comes first
    close(visit)


def test_skip_link_moves_focus_to_the_main_content(chromium: Any, base: str) -> None:
    visit = visit_page(chromium, base, "projecten/tussen-in/")
    page = visit.page
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "inhoud"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    close(visit)


def test_print_hides_navigation_and_shows_link_targets(chromium: Any, base: str) -> None:
    visit = visit_page(chromium, base, DOSSIER)
    page = visit.page
    page.emulate_media(media="print")
    for selector in (".site-header nav", ".site-search", ".breadcrumbs", ".site-footer",
                     ".skip-link"):
        assert not page.locator(selector).is_visible(), selector
    after = page.locator(".references a[href^='http']").first.evaluate(
        "a => getComputedStyle(a, '::after').content")
    assert "https://www.verwey-jonker.nl" in after
    close(visit)


def test_printable_dossier_prints_every_project_in_order(
    chromium: Any, base: str, tmp_path: Path
) -> None:
    visit = visit_page(chromium, base, DOSSIER + "afdrukken/")
    page = visit.page
    titles = page.locator(".print-record h2").all_inner_texts()
    contents = page.locator(".print-contents li").all_inner_texts()
    assert contents == ["Inleiding", *titles] and len(titles) == 6
    pdf = tmp_path / "dossier.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=False)
    close(visit)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is missing: cannot read the PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = text.split("\f")
    assert "Kruimelpad" not in text and "Zoek in de databank" not in text
    def heading(title: str) -> re.Pattern[str]:  # a title alone on its line(s)
        return re.compile(r"^\s*" + r"\s+".join(map(re.escape, title.split())) + r"\s*$", re.M)

    starts = [next((i for i, p in enumerate(pages) if heading(t).search(p)), -1)
              for t in titles]
    assert -1 not in starts, starts
    assert starts == sorted(starts) and len(set(starts)) == len(starts)  # one page each
    assert "Tussenpersonen leiden gezinnen naar professionele hulp" in text


def test_vnu_finds_no_errors_in_any_page(tmp_path: Path) -> None:
    """The Nu Html Checker (vnu.jar from npm) on every HTML page of the example site."""
    from dossier.build import BuildOptions, build

    require_vnu()
    site = copy_example(tmp_path / "example")
    build(site, BuildOptions(search=False))
    pages = sorted(str(p) for p in (site / "build").rglob("*.html"))
    assert len(pages) > 50
    assert vnu_errors(pages) == []
