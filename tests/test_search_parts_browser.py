"""An index in parts gives a visitor what one index gives (issue 14), in headless Chromium.

500 generated projects are built twice: with the search index in one part, and in about a
dozen. The same queries and filter combinations, opened as search page URLs, must show the
same results (in the same order, where results are sorted by title) and the same count
for every filter term. Filter-only results are also checked against the records.

Where Pagefind itself makes a difference (a word that some parts lack entirely makes
those parts fall back to a shorter word, see docs/search.md), the test says what still holds.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import (
    RARE_PROJECT,
    RARE_WORD,
    SMALL_PARTS,
    Served,
    Shown,
    Visit,
    expected_counts,
    matching,
    open_page,
    serve,
    serve_build,
    show_search,
    with_rare_word,
)
from dossier.build import BuildOptions
from dossier.search.entries import SearchEntry, entries, indexed_records, sort_value

pytestmark = pytest.mark.browser
# Words of the generated text (in most records), of titles and places (in a few), a prefix,
# a word in one record, a word in none, and two-word queries.
WORDS = ["ouders", "samenwerking", "organisatie", "dossier", "utrecht", "zwolle",
         "leeuwarden", "samenw", RARE_WORD, "onvindbaarwoord",
         "ouders wijk", "gegenereerd project", "ouders utrecht", "jeugdzorg zwolle"]
# Words that some parts lack while they have a shorter word that begins them ('0012' for
# '00123'), and a word whose longer forms lie in the index where its cutting puts them.
LACKED = ["00123", "0042", "project 00123", "gemeente"]


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_rare_word(tmp_path_factory.mktemp("parts500"))


@pytest.fixture(scope="module")
def single(site_dir: Path) -> Iterator[Served]:
    options = BuildOptions(out=site_dir / "een", cache=False, search_part_size=100_000)
    yield from serve_build(site_dir, site_dir / "www-een", options)


@pytest.fixture(scope="module")
def parts(site_dir: Path) -> Iterator[Served]:
    options = BuildOptions(out=site_dir / "delen", cache=False, search_part_size=SMALL_PARTS)
    yield from serve_build(site_dir, site_dir / "www-delen", options)


def parts_of(out: Path) -> list[str]:
    listed = json.loads((out / "pagefind" / "parts.json").read_text())
    return list(listed["parts"])


def combinations(served: Served) -> list[dict[str, list[str]]]:
    """At least 30 searches: filter-only ones (one term, OR within a group, AND across
    groups, a rare term that most parts lack), words, and words with filters."""
    tally: dict[str, dict[str, int]] = {}
    for carried in served.filters.values():
        for group, values in carried.items():
            for value in values:
                tally.setdefault(group, {}).setdefault(value, 0)
                tally[group][value] += 1
    common = {g: sorted(c, key=lambda v: (-c[v], v)) for g, c in sorted(tally.items())}
    rare = sorted((n, g, v) for g, c in tally.items() for v, n in c.items())[0]
    groups = [g for g in common if len(common[g]) > 1]
    found: list[dict[str, list[str]]] = [{}]
    found += [{g: common[g][:1]} for g in groups]
    found += [{g: common[g][:2]} for g in groups[:3]]
    found += [{groups[0]: common[groups[0]][:2], groups[1]: common[groups[1]][:1]},
              {groups[1]: common[groups[1]][1:3], groups[2]: common[groups[2]][:1],
               groups[3]: common[groups[3]][:2]},
              {rare[1]: [rare[2]]}]
    found += [{"q": [word]} for word in WORDS]
    found += [{"q": [WORDS[0]], groups[0]: common[groups[0]][:1]},
              {"q": [WORDS[1]], groups[1]: common[groups[1]][:2], groups[2]: common[groups[2]][:1]},
              {"q": [WORDS[2]], rare[1]: [rare[2]]}]
    assert len(found) >= 30 and sum("q" not in f for f in found) >= 10
    return found


def show(visit: Visit, served: Served, search: dict[str, list[str]]) -> Shown:
    """Open the search page at the URL of a search and read everything it shows."""
    return show_search(visit, served, [(name, v) for name, values in search.items()
                                       for v in values])


def compare(chromium: Any, one: Served, other: Served) -> int:
    """Every search of `combinations` shows the same in both sites; returns how many."""
    searches = combinations(one)
    visits = [open_page(chromium, one.base), open_page(chromium, other.base)]
    try:
        for search in searches:
            a, b = (show(v, s, search) for v, s in zip(visits, (one, other), strict=True))
            assert (a.status, a.counts) == (b.status, b.counts), search
            if "q" in search:  # ranked by relevance: the same set
                assert sorted(a.results) == sorted(b.results), search
            else:  # sorted by title: the same list
                assert a.results == b.results, search
        for visit in visits:
            assert visit.outside == [] and visit.errors == []
    finally:
        for visit in visits:
            visit.page.context.close()
    return len(searches)


def test_an_index_in_parts_shows_what_one_index_shows(
    chromium: Any, single: Served, parts: Served, site_dir: Path
) -> None:
    assert parts_of(site_dir / "een") == [] and len(parts_of(site_dir / "delen")) >= 5
    assert compare(chromium, single, parts) >= 30


def test_filter_only_results_are_the_matching_records_in_title_order(
    chromium: Any, parts: Served
) -> None:
    """Independent of Pagefind: the records that carry the chosen terms, sorted by title."""
    order = {r.url: sort_value(r) for r in indexed_records(parts.site)}
    visit = open_page(chromium, parts.base)
    for search in [s for s in combinations(parts) if "q" not in s]:
        shown = show(visit, parts, search)
        assert shown.results == sorted(matching(parts, search), key=order.__getitem__), search
        assert shown.counts == expected_counts(parts, search, shown.counts), search
    assert visit.outside == [] and visit.errors == []
    visit.page.context.close()


def test_a_word_some_parts_lack_still_finds_every_record_with_it(
    chromium: Any, single: Served, parts: Served
) -> None:
    """Pagefind looks a word up in each part on its own: a part without the word (or any
    longer one) matches a shorter word instead ('0012' for '00123'), and where a word's
    longer forms lie in the index depends on how it is cut. What a visitor needs holds for
    both: every record that has the word is found, and for a title word it comes first."""
    content = {e.url: e.content.casefold() for e in _entries(parts)}
    for word in LACKED:
        having = {url for url, text in content.items()
                  if all(re.search(rf"\b{w}\b", text) for w in word.split())}
        assert having
        for served in (single, parts):
            visit = open_page(chromium, served.base)
            shown = show(visit, served, {"q": [word]})
            visit.page.context.close()
            assert having <= set(shown.results), (word, served.base)
            if word == "00123":
                assert shown.results[0] == f"projecten/{RARE_PROJECT}/"


def _entries(served: Served) -> list[SearchEntry]:
    return list(entries(served.site, lambda record: ""))


def test_a_part_left_out_is_noticed(chromium: Any, parts: Served, single: Served,
                                    site_dir: Path, tmp_path: Path) -> None:
    """The comparison above fails when one part of the index is missing from the list."""
    crippled = tmp_path / "zonder-deel"
    shutil.copytree(site_dir / "delen", crippled)
    listed = parts_of(crippled)
    del listed[len(listed) // 2]
    (crippled / "pagefind" / "parts.json").write_text(json.dumps({"parts": listed}))
    for served in _serve_built(crippled, tmp_path / "www", parts):
        with pytest.raises(AssertionError):
            compare(chromium, single, served)


def _serve_built(out: Path, www: Path, like: Served) -> Iterator[Served]:
    """A build folder served as it is, with what `like` knows of its records."""
    with serve(out, www) as base:
        yield Served(base, like.site, like.filters)
