"""The delta part of the search index (issue 25): after a small change every part is taken
over as it is and the changed records go into one small part; beyond a bound the parts are
made anew. In headless Chromium the search page shows what a clean build shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import Served, Shown, open_page, serve_build, show_search
from dossier.build import BuildOptions, build
from dossier.search.index import PARTS_FILE, delta_bound
from helpers import assert_same_as_clean, edit, generated_project, generated_site, snapshot

PART_SIZE = 100  # 150 projects with their organisations and dossiers: a few parts
OLD_WORD, NEW_WORD = "kwartelkoningsnest", "zeepbelmachinerie"
GONE_WORD = "qxwolkenfiets"  # in the title of the project that is deleted


def parts_json(out: Path) -> dict[str, Any]:
    return json.loads((out / PARTS_FILE).read_text())  # type: ignore[no-any-return]


def inodes(out: Path) -> dict[str, int]:
    return snapshot(out / "pagefind", lambda p: p.stat().st_ino)


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """A built corpus, then one project's text edited, one added and one deleted, built
    again; with what the second build did."""
    site = generated_site(tmp_path_factory.mktemp("delta"), 150, organisations=20, words=60)
    edit(generated_project(site, 20), "## Aanpak\n", f"## Aanpak\n\nHet {OLD_WORD} telt.\n")
    edit(generated_project(site, 33), "project 00033", f"project 00033 {GONE_WORD}")
    options = BuildOptions(search_part_size=PART_SIZE)
    first = build(site, options)
    assert first.search is not None and first.search.parts >= 2 and first.search.delta == 0
    before = inodes(site / "build")
    balanced = parts_json(site / "build")["parts"]
    edit(generated_project(site, 20), OLD_WORD, NEW_WORD)
    added = generated_project(site, 77).with_name("nieuw.md")
    added.write_text(generated_project(site, 77).read_text().replace(
        'titel: "Gegenereerd project 00077', 'titel: "Gegenereerd project 00077b'))
    generated_project(site, 33).unlink()
    result = build(site, options)
    yield site, {"result": result, "before": before, "balanced": balanced}


def test_a_small_change_makes_only_a_delta(changed: tuple[Path, dict[str, Any]]) -> None:
    site, done = changed
    stats = done["result"].search
    assert stats is not None
    assert (stats.remade, stats.delta, stats.stale) == (1, 2, 2)  # edited, added; edited, deleted
    listed = parts_json(site / "build")
    assert listed["parts"][:-1] == done["balanced"]  # the parts as they were, the delta last
    assert len(listed["delta"]["places"]) == 2
    after = inodes(site / "build")
    kept = {rel: inode for rel, inode in done["before"].items() if rel != "parts.json"}
    assert kept and {rel: after.get(rel) for rel in kept} == kept  # untouched, every one
    delta = site / "build" / "pagefind" / listed["parts"][-1]
    assert len(list((delta / "fragment").glob("*.pf_fragment"))) == 2
    assert not (delta / "pagefind.js").exists()


def test_the_delta_holds_what_a_clean_build_holds(changed: tuple[Path, dict[str, Any]],
                                                  tmp_path: Path) -> None:
    site, _ = changed
    assert_same_as_clean(site, tmp_path, BuildOptions(search_part_size=PART_SIZE))


def test_a_cold_build_has_no_delta(changed: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    site, _ = changed
    build(site, BuildOptions(out=tmp_path / "koud", cache=False, search_part_size=PART_SIZE))
    assert "delta" not in parts_json(tmp_path / "koud")


def test_a_delta_beyond_the_bound_is_folded_back(tmp_path: Path) -> None:
    site = generated_site(tmp_path, 60, organisations=10, words=40)
    options = BuildOptions(search_part_size=PART_SIZE)
    build(site, options)
    bound = delta_bound(PART_SIZE)
    for n in range(1, bound + 1):
        edit(generated_project(site, n), "## Aanpak\n", f"## Aanpak\n\nZin {n}.\n")
        result = build(site, options)
        assert result.search is not None and result.search.delta == n
        assert len(parts_json(site / "build")["delta"]["places"]) == n
    edit(generated_project(site, bound + 1), "## Aanpak\n", "## Aanpak\n\nEen zin te veel.\n")
    result = build(site, options)
    assert result.search is not None and (result.search.delta, result.search.stale) == (0, 0)
    assert result.search.remade == 1
    assert "delta" not in parts_json(site / "build")
    assert_same_as_clean(site, tmp_path, options)  # byte for byte again


# --- in the browser ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(changed: tuple[Path, dict[str, Any]]) -> Iterator[tuple[Served, Served]]:
    """The site with a delta, and a clean build of the same content, served."""
    site, _ = changed
    incremental = serve_build(site, site / "www-delta", BuildOptions(search_part_size=PART_SIZE))
    fresh = serve_build(site, site / "www-schoon", BuildOptions(
        out=site / "schoon", cache=False, search_part_size=PART_SIZE))
    a, b = next(incremental), next(fresh)
    yield a, b
    for generator in (incremental, fresh):
        generator.close()


def show(chromium: Any, served: Served, search: list[tuple[str, str]]) -> Shown:
    visit = open_page(chromium, served.base)
    shown = show_search(visit, served, search)
    assert visit.outside == [] and visit.errors == []
    visit.page.context.close()
    return shown


def test_the_search_page_shows_what_a_clean_build_shows(
    chromium: Any, served: tuple[Served, Served]
) -> None:
    delta, fresh = served
    tally: dict[tuple[str, str], int] = {}
    for carried in fresh.filters.values():
        for group, values in carried.items():
            for value in values:
                tally[group, value] = tally.get((group, value), 0) + 1
    common = sorted(tally, key=lambda gv: (-tally[gv], gv))
    other = next(gv for gv in common if gv[0] != common[0][0])
    searches = [[], [common[0]], [common[1]], [common[0], other], [min(tally, key=tally.get)],
                [("q", NEW_WORD)], [("q", OLD_WORD)], [("q", GONE_WORD)], [("q", "ouders")],
                [("q", "ouders"), common[0]], [("q", "gegenereerd project")]]
    for search in searches:
        a, b = show(chromium, delta, search), show(chromium, fresh, search)
        assert (a.status, a.counts) == (b.status, b.counts), search  # the status and every count
        if any(name == "q" for name, _ in search):  # ranked by relevance: the same set
            assert sorted(a.results) == sorted(b.results), search
        else:  # sorted by title: the same list
            assert a.results == b.results, search
        if search == [("q", NEW_WORD)]:
            assert a.results == ["projecten/project-00020/"]
        if search in ([("q", OLD_WORD)], [("q", GONE_WORD)]):
            assert a.results == []
        if search == []:  # the new record at its place, the deleted one gone
            at = a.results.index("projecten/project-00077/")
            assert a.results[at + 1] == "projecten/nieuw/"
            assert "projecten/project-00033/" not in a.results
