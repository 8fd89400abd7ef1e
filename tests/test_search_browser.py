"""Faceted search in headless Chromium (issue 6), on the example site and 500 generated projects.

The sites are served on localhost under /databank/; the generated one twice, with its
index in one part and in a dozen (issue 14). Expected results and counts are computed here
from the records, not from the index.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import expect

from browser import (
    RARE_PROJECT,
    RARE_WORD,
    SMALL_PARTS,
    Served,
    Visit,
    expected_counts,
    matching,
    open_page,
    serve_build,
    shown_counts,
    with_rare_word,
)
from dossier.build import BuildOptions
from dossier.model.filters import filter_value, indexed_collections
from dossier.search.entries import markdown_text
from helpers import copy_example

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    site_dir = copy_example(tmp_path_factory.mktemp("example"))
    yield from serve_build(site_dir, site_dir / "www")


@pytest.fixture(scope="module")
def generated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_rare_word(tmp_path_factory.mktemp("gen500"))


@pytest.fixture(scope="module")
def generated(generated_dir: Path) -> Iterator[Served]:
    yield from serve_build(generated_dir, generated_dir / "www")


@pytest.fixture(scope="module")
def generated_in_parts(generated_dir: Path) -> Iterator[Served]:
    """The same site with its search index in parts of at most SMALL_PARTS records."""
    options = BuildOptions(out=generated_dir / "build-parts", search_part_size=SMALL_PARTS)
    for served in serve_build(generated_dir, generated_dir / "www-parts", options):
        listed = json.loads((generated_dir / "build-parts" / "pagefind" / "parts.json").read_text())
        assert len(listed["parts"]) >= 5
        yield served


@pytest.fixture(params=["example", "generated", "generated_in_parts"])
def served(request: pytest.FixtureRequest) -> Served:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


@pytest.fixture
def visit(chromium: Any, served: Served) -> Iterator[Visit]:
    visit = open_page(chromium, served.base)
    yield visit
    assert visit.outside == [], "requests left localhost"
    assert visit.errors == []
    visit.page.context.close()


# --- helpers -----------------------------------------------------------------------------

def wait_for_results(visit: Visit, expected: int) -> None:
    """Wait until the search has finished and announces `expected` results."""
    page = visit.page
    page.wait_for_selector("#zoekresultaten:not([aria-busy])", state="attached")
    status = page.locator("#zoekstatus")
    if expected == 0:
        pattern = re.compile("Geen resultaten")
    else:
        shown = f"{expected:,}".replace(",", ".")
        pattern = re.compile(rf"^{shown} resulta(at|ten)$")
    expect(status).to_have_text(pattern)
    assert status.get_attribute("role") == "status"


def shown_results(visit: Visit, served: Served) -> list[str]:
    """Site paths of every result, after asking for more until all are shown."""
    page = visit.page
    more = page.locator("#meer-resultaten")
    while more.is_visible():
        before = page.locator("#zoekresultaten > li").count()
        more.click()
        page.wait_for_function(
            f"document.querySelectorAll('#zoekresultaten > li').length > {before}")
    hrefs = page.eval_on_selector_all("#zoekresultaten .card-title a",
                                      "links => links.map(a => a.href)")
    return sorted(urlsplit(h).path.removeprefix(urlsplit(served.base).path) for h in hrefs)


def check(visit: Visit, group: str, value: str) -> None:
    visit.page.locator(f"input[name='{group}'][value='{value}']").check()


def pick_facets(served: Served) -> tuple[str, list[str], str, str]:
    """Two values of one facet, and a value of another that narrows their union."""
    groups: dict[str, dict[str, int]] = {}
    for carried in served.filters.values():
        for group, values in carried.items():
            tally = groups.setdefault(group, {})
            for v in values:
                tally[v] = tally.get(v, 0) + 1
    for group, counts in sorted(groups.items()):
        if group == "soort" or len(counts) < 2:
            continue
        pair = sorted(counts, key=lambda v: (-counts[v], v))[:2]
        union = matching(served, {group: pair})
        for other, values in sorted(groups.items()):
            if other in (group, "soort"):
                continue
            for v in sorted(values):
                both = matching(served, {group: pair, other: [v]})
                if 0 < len(both) < len(union):
                    return group, pair, other, v
    raise AssertionError("no facets to combine")


# --- tests ------------------------------------------------------------------------------

def rare_word(served: Served) -> tuple[str, str]:
    """A word in exactly one project's body and in no other record: (word, project path)."""
    if any(r.slug == RARE_PROJECT for r in served.site.records["projecten"]):
        return RARE_WORD, f"projecten/{RARE_PROJECT}/"
    texts = {r.url: markdown_text(f"{r.title} {r.body} {r.data}").casefold()
             for c in indexed_collections(served.site) for r in served.site.records[c.name]}
    for record in served.site.records["projecten"]:
        for word in sorted(set(re.findall(r"[a-z]{10,}", markdown_text(record.body)))):
            # Pagefind finds other forms of a word too: its stem must be rare as well.
            if sum(word[:-4] in text for text in texts.values()) == 1:
                return word, record.url
    raise AssertionError("no rare word")


def test_a_word_from_one_project_body_finds_that_project(visit: Visit, served: Served) -> None:
    word, project = rare_word(served)
    page = visit.page
    page.goto(served.base + "zoeken/")
    page.get_by_label("Zoek in de databank").fill(word)
    wait_for_results(visit, 1)
    assert shown_results(visit, served) == [project]
    assert urlsplit(page.url).query == f"q={word}"


def test_header_search_field_leads_to_results(visit: Visit, served: Served) -> None:
    word, project = rare_word(served)
    page = visit.page
    page.goto(served.base + project)
    field = page.get_by_role("search").get_by_label("Zoek in de databank")
    field.fill(word)
    field.press("Enter")
    page.wait_for_url(re.compile(r"/databank/zoeken/\?q="))
    wait_for_results(visit, 1)
    assert shown_results(visit, served) == [project]


def test_filters_combine_or_within_and_across_groups_with_exact_counts(
    visit: Visit, served: Served
) -> None:
    group, pair, other, value = pick_facets(served)
    page = visit.page
    page.goto(served.base + "zoeken/")
    wait_for_results(visit, len(served.filters))  # no query, no filter: everything

    check(visit, group, pair[0])
    wait_for_results(visit, len(matching(served, {group: pair[:1]})))
    check(visit, group, pair[1])
    union = matching(served, {group: pair})
    wait_for_results(visit, len(union))
    assert len(union) > max(len(matching(served, {group: [v]})) for v in pair)
    counts = shown_counts(visit)
    assert counts == expected_counts(served, {group: pair}, counts)

    check(visit, other, value)
    both = matching(served, {group: pair, other: [value]})
    wait_for_results(visit, len(both))
    assert shown_results(visit, served) == sorted(both)
    selected = {group: pair, other: [value]}
    counts = shown_counts(visit)
    assert counts == expected_counts(served, selected, counts)

    # The URL holds the state: reloading restores it, the back button undoes a step.
    assert f"{group}={pair[0]}" in page.url and f"{other}={value}" in page.url
    page.reload()
    wait_for_results(visit, len(both))
    assert page.locator(f"input[name='{other}'][value='{value}']").is_checked()
    assert shown_counts(visit) == counts
    page.go_back()
    wait_for_results(visit, len(union))
    assert not page.locator(f"input[name='{other}'][value='{value}']").is_checked()
    assert page.locator(f"input[name='{group}'][value='{pair[1]}']").is_checked()


def test_filters_work_from_the_keyboard(visit: Visit, served: Served) -> None:
    group, pair, _, _ = pick_facets(served)
    page = visit.page
    page.goto(served.base + "zoeken/")
    wait_for_results(visit, len(served.filters))
    box = page.locator(f"input[name='{group}'][value='{pair[0]}']")
    page.get_by_label("Zoek in de databank").focus()
    for _ in range(200):
        page.keyboard.press("Tab")
        if box.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the checkbox cannot be reached with Tab")
    page.keyboard.press("Space")
    wait_for_results(visit, len(matching(served, {group: pair[:1]})))
    assert box.is_checked()
    page.keyboard.press("Space")
    wait_for_results(visit, len(served.filters))


def test_query_and_filters_restore_from_a_shared_url(visit: Visit, served: Served) -> None:
    group, pair, _, _ = pick_facets(served)
    page = visit.page
    page.goto(f"{served.base}zoeken/?q=samenwerking&{group}={pair[0]}&{group}={pair[1]}")
    page.wait_for_selector("#zoekresultaten:not([aria-busy])", state="attached")
    page.locator("#zoekstatus").filter(has_text=re.compile(r"\S")).wait_for()
    assert page.get_by_label("Zoek in de databank").input_value() == "samenwerking"
    assert all(page.locator(f"input[name='{group}'][value='{v}']").is_checked() for v in pair)
    found = shown_results(visit, served)
    assert found and set(found) <= matching(served, {group: pair})


def test_without_javascript_the_search_page_explains_and_links_to_browse_pages(
    chromium: Any, example: Served
) -> None:
    visit = open_page(chromium, example.base, javascript=False)
    page = visit.page
    page.goto(example.base + "zoeken/?q=utrecht")
    assert "Zoeken werkt alleen met JavaScript" in page.inner_text("main")
    assert not page.locator("#zoeken").is_visible()
    links = [urljoin(page.url, h) for h in page.eval_on_selector_all(
        "main a", "links => links.map(a => a.getAttribute('href'))")]
    assert example.base + "thema/" in links
    assert visit.outside == []
    visit.page.context.close()


# --- issue 17: drill-down, excerpts, phones ---------------------------------------------

def _largest_term(served: Served, facet_name: str) -> Any:
    facet = next(f for f in served.site.facets["projecten"] if f.name == facet_name)
    return max(facet.terms, key=lambda t: (t.count, t.key))


def test_a_count_within_a_selection_gives_that_many_results(
    chromium: Any, generated: Served
) -> None:
    """On thema/<term>/, 'Ouders (25)' leads to the 25 projects with both terms, where
    the page of all Ouders projects has many more."""
    term = _largest_term(generated, "thema")
    visit = open_page(chromium, generated.base)
    page = visit.page
    narrower = 0
    for facet in ("doelgroep", "plaats", "provincie", "status"):
        page.goto(generated.base + term.url)
        link = page.locator(f"section[aria-labelledby='side-{facet}'] a").first
        count = int(link.locator("xpath=following-sibling::span[@class='count']")
                    .inner_text().strip("()"))
        assert link.get_attribute("aria-describedby") == "sidebar-search"
        link.click()
        page.wait_for_url(re.compile(r"/zoeken/\?"))
        wait_for_results(visit, count)
        chosen = {k: [v] for k, v in re.findall(r"([^?&=]+)=([^&]+)", urlsplit(page.url).query)}
        assert chosen.keys() == {"soort", "thema", facet}
        expected = matching(generated, chosen)
        assert len(expected) == count
        assert shown_results(visit, generated) == sorted(expected)
        other = next(t for f in generated.site.facets["projecten"] if f.name == facet
                     for t in f.terms if [filter_value(f.field, t.key)] == chosen[facet])
        narrower += other.count > count
    assert narrower  # the clicked count is not simply the other term's total
    assert visit.errors == [] and visit.outside == []
    visit.page.context.close()


def test_without_javascript_a_count_leads_to_the_terms_own_page(
    chromium: Any, generated: Served
) -> None:
    term = _largest_term(generated, "thema")
    visit = open_page(chromium, generated.base, javascript=False)
    page = visit.page
    page.goto(generated.base + term.url)
    link = page.locator("section[aria-labelledby='side-doelgroep'] a").first
    target = urljoin(page.url, link.get_attribute("href") or "")
    assert re.fullmatch(re.escape(generated.base) + r"doelgroep/[a-z0-9-]+/", target)
    assert link.get_attribute("aria-describedby") is None  # it is just the term's link
    label = link.inner_text()
    link.click()
    assert page.locator("h1").inner_text() == f"Doelgroep: {label}"
    visit.page.context.close()


def test_a_query_shows_excerpts_with_its_words_marked(visit: Visit, served: Served) -> None:
    word, _ = rare_word(served)
    page = visit.page
    page.goto(f"{served.base}zoeken/?q={word}")
    wait_for_results(visit, 1)
    marks = page.eval_on_selector_all("#zoekresultaten .card-excerpt mark",
                                      "marks => marks.map(m => m.textContent)")
    assert marks and all(m.casefold().startswith(word[:-4]) for m in marks)
    # Under the card's title and summary, before its facts.
    order = page.eval_on_selector_all(
        "#zoekresultaten article > *", "els => els.map(e => e.className)")
    assert order.index("card-excerpt") > order.index("card-title")
    assert order.index("card-excerpt") > max(
        (i for i, c in enumerate(order) if c == "card-summary"), default=0)
    assert order.index("card-excerpt") < order.index("card-facts")

    page.goto(f"{served.base}zoeken/?q=samenwerking")
    page.locator("#zoekstatus").filter(has_text=re.compile(r"\d")).wait_for()
    cards = page.locator("#zoekresultaten > li").count()
    assert cards and page.locator("#zoekresultaten .card-excerpt").count() == cards
    marks = page.eval_on_selector_all("#zoekresultaten .card-excerpt mark",
                                      "marks => marks.map(m => m.textContent)")
    assert marks and all(m.casefold().startswith("samenwerk") for m in marks)


def test_browsing_by_filters_alone_shows_the_cards_without_excerpts(
    visit: Visit, served: Served
) -> None:
    group, pair, _, _ = pick_facets(served)
    page = visit.page
    page.goto(f"{served.base}zoeken/?{group}={pair[0]}")
    wait_for_results(visit, len(matching(served, {group: pair[:1]})))
    assert page.locator("#zoekresultaten > li").count() > 0
    assert page.locator(".card-excerpt, #zoekresultaten mark").count() == 0


def test_on_a_phone_the_results_come_right_after_one_filter_control(
    chromium: Any, served: Served
) -> None:
    group, pair, other, value = pick_facets(served)
    visit = open_page(chromium, served.base, width=375)
    page = visit.page
    page.goto(f"{served.base}zoeken/?q=samenwerking&{group}={pair[0]}&{other}={value}")
    page.locator("#zoekstatus").filter(has_text=re.compile(r"\S")).wait_for()
    panel = page.locator("#filterpaneel > summary")
    assert re.sub(r"\s+", " ", panel.inner_text()) == "Filters (2 gekozen)"
    first_group = page.locator(".filter-group").first
    assert not first_group.is_visible()
    status = page.locator("#zoekstatus").bounding_box()
    result = page.locator("#zoekresultaten > li").first.bounding_box()
    assert status and result and status["y"] < result["y"] < 900  # on the first screen

    headings = page.eval_on_selector_all(
        "main h1, main h2", "hs => hs.filter(h => !h.closest('[hidden]'))"
        ".map(h => h.tagName + ' ' + h.textContent.trim())")
    assert headings == ["H1 Zoeken", "H2 Filters", "H2 Resultaten"]

    # Keyboard: search field, its button, the one filter control, then the results.
    page.get_by_label("Zoek in de databank").focus()
    reached = []
    for _ in range(3):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("""() => {
            const el = document.activeElement;
            if (el.matches('#filterpaneel > summary')) return 'filters';
            return el.closest('#zoekresultaten') ? 'result' : el.tagName.toLowerCase();
        }"""))
    assert reached == ["button", "filters", "result"]
    page.locator("#filterpaneel > summary").focus()
    page.keyboard.press("Enter")
    expect(first_group).to_be_visible()
    chosen = page.locator(f".filter-group:has(input[name='{group}'])")
    assert chosen.evaluate("d => d.open")  # a group with a choice is unfolded
    assert visit.errors == [] and visit.outside == []
    visit.page.context.close()


def test_on_a_wide_screen_the_filters_are_open_beside_the_results(
    visit: Visit, served: Served
) -> None:
    page = visit.page
    page.goto(served.base + "zoeken/")
    wait_for_results(visit, len(served.filters))
    assert page.locator(".filter-group").first.is_visible()
    groups = page.locator(".filter-group").first.bounding_box()
    results = page.locator("#zoekresultaten > li").first.bounding_box()
    assert groups and results and groups["x"] < results["x"]
    assert page.locator("#filters-actief").inner_text() == ""
