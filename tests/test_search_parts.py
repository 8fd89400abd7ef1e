"""The search index in parts (issue 14): how records are cut into parts, and builds that
re-make only the parts whose records changed."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from dossier.build import BuildOptions, BuildResult, build, load_site
from dossier.search.entries import indexed_records
from dossier.search.index import PARTS_FILE, cut
from helpers import (
    assert_same_as_clean,
    edit,
    generated_project,
    generated_site,
    linked_copy,
    snapshot,
)

PART_SIZE = 40  # 200 projects with their organisations and dossiers make some ten parts


def records(names: list[str]) -> list[SimpleNamespace]:
    return [SimpleNamespace(url=f"projecten/{name}/") for name in names]


def urls(parts: list[list[SimpleNamespace]]) -> list[tuple[str, ...]]:
    return [tuple(r.url for r in part) for part in parts]


def test_parts_are_consecutive_ranges_of_bounded_size() -> None:
    items = records([f"p-{i:05d}" for i in range(10_000)])
    parts = cut(items, 400)
    assert [r for part in parts for r in part] == items
    assert max(len(part) for part in parts) <= 400
    assert 10_000 / 400 < len(parts) < 10_000 / 100
    assert cut(items[:400], 400) == [items[:400]]  # up to the size: one part


@pytest.mark.parametrize("change", ["add", "delete"])
def test_an_add_or_delete_changes_at_most_two_parts(change: str) -> None:
    names = [f"p-{i:05d}" for i in range(0, 20_000, 2)]
    before = urls(cut(records(names), 400))
    for at in range(5, len(names), 997):
        changed = ([*names[:at], f"p-{2 * at - 1:05d}", *names[at:]] if change == "add"
                   else names[:at] + names[at + 1:])
        after = urls(cut(records(changed), 400))
        assert len(set(after) - set(before)) <= 2, at


# --- builds ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = generated_site(tmp_path_factory.mktemp("parts"), 200, organisations=30, words=80)
    build(site, BuildOptions(search_part_size=PART_SIZE))
    return site


@pytest.fixture
def site(corpus: Path, tmp_path: Path) -> Path:
    """The built corpus, copied with hard links (shared by the tests, left as it is)."""
    return linked_copy(corpus, tmp_path / "site")


def rebuild(site: Path) -> BuildResult:
    return build(site, BuildOptions(search_part_size=PART_SIZE))


def clean(site: Path, tmp_path: Path) -> None:
    assert_same_as_clean(site, tmp_path, BuildOptions(search_part_size=PART_SIZE))


def inodes(site: Path) -> dict[str, int]:
    folder = site / "build" / "pagefind"
    return snapshot(folder, lambda p: p.stat().st_ino)


def test_the_corpus_has_several_parts(corpus: Path) -> None:
    listed = json.loads((corpus / "build" / PARTS_FILE).read_text())["parts"]
    assert len(listed) >= 4
    assert all((corpus / "build" / "pagefind" / p / "pagefind-entry.json").is_file()
               for p in listed)
    assert not (corpus / "build" / "pagefind" / listed[0] / "pagefind.js").exists()


def test_an_edit_makes_one_part_anew_and_takes_the_others_over(site: Path,
                                                               tmp_path: Path) -> None:
    before = inodes(site)
    edit(generated_project(site, 8), "## Aanpak\n", "## Aanpak\n\nEen nieuwe zin.\n")
    result = rebuild(site)
    assert result.search is not None and result.search.remade == 1
    assert result.search.parts == len(json.loads((site / "build" / PARTS_FILE).read_text())
                                      ["parts"]) + 1
    after = inodes(site)
    kept = [rel for rel in after if before.get(rel) == after[rel]]
    assert len(kept) > len(after) * 0.7  # the other parts' files are the previous ones
    clean(site, tmp_path)


@pytest.mark.parametrize("change", ["add", "delete", "title"])
def test_adds_deletes_and_titles_make_few_parts_anew(change: str, site: Path,
                                                     tmp_path: Path) -> None:
    if change == "add":
        shutil.copy(generated_project(site, 13), generated_project(site, 13).with_name("nieuw.md"))
    elif change == "delete":
        generated_project(site, 11).unlink()
    else:
        edit(generated_project(site, 7), 'titel: "Gegenereerd project 00007',
             'titel: "Aaa hernoemd project 00007')
    result = rebuild(site)
    # A small change goes into the delta part (a delete only into parts.json's stale list).
    assert result.search is not None and result.search.remade == (change != "delete")
    assert (result.search.delta, result.search.stale) == {"add": (1, 0), "delete": (0, 1),
                                                          "title": (1, 1)}[change]
    clean(site, tmp_path)


def test_a_template_change_that_leaves_cards_alone_makes_no_part_anew(site: Path) -> None:
    folder = site / "templates" / "partials"
    folder.mkdir(parents=True)
    footer = Path(__file__).parent.parent / "src/dossier/theme/templates/partials/footer.html"
    (folder / "footer.html").write_text(footer.read_text().replace("</footer>",
                                                                   "<!-- x --></footer>"))
    result = rebuild(site)
    assert result.rendered == result.pages  # every page, but no part of the index
    assert result.search is not None and result.search.remade == 0


def test_a_part_changed_by_hand_is_made_again(site: Path, tmp_path: Path) -> None:
    listed = json.loads((site / "build" / PARTS_FILE).read_text())["parts"]
    entry = site / "build" / "pagefind" / listed[1] / "pagefind-entry.json"
    entry.unlink()
    entry.write_text("{}")
    result = rebuild(site)
    assert result.search is not None and result.search.remade == 1
    clean(site, tmp_path)


def test_a_tampered_entry_in_the_cache_never_reaches_the_index(site: Path) -> None:
    """Entries are stored without their cards; one whose text was changed in the store is
    made anew when its part is indexed again."""
    loaded = load_site(site, BuildOptions(), [])
    part = next(p for p in cut(indexed_records(loaded), PART_SIZE)
                if any(r.url == "projecten/project-00008/" for r in p))
    victim = next(r.url for r in part if r.url.startswith("projecten/")
                  and r.url != "projecten/project-00008/")
    store = sqlite3.connect(site / ".dossier-cache" / "search.sqlite")
    rows = store.execute("SELECT key, data FROM entry").fetchall()
    assert rows and not any('"kaart"' in data for _, data in rows)
    for key, data in rows:
        if f'"url":"{victim}"' in data:
            planted = json.loads(data)
            planted["content"] = "geplantetekst"
            store.execute("UPDATE entry SET data = ? WHERE key = ?",
                          (json.dumps(planted), key))
    store.commit()
    store.close()
    # Edits of other projects in the same part, more than the delta part takes, make that
    # part anew.
    for n in (8, 9, 10):
        edit(generated_project(site, n), "## Aanpak\n", "## Aanpak\n\nEen nieuwe zin.\n")
    result = rebuild(site)
    assert result.search is not None and result.search.remade >= 1
    fragments = (site / "build" / "pagefind").rglob("*.pf_fragment")
    texts = [gzip.decompress(f.read_bytes()) for f in fragments]
    assert any(victim.encode() in t for t in texts)
    assert not any(b"geplantetekst" in t for t in texts)
