"""The build cache: JSON and SQLite, and a cache file planted in the site is never code."""

from __future__ import annotations

import os
import pickle
import sqlite3
from pathlib import Path

import pytest

from dossier.build import build
from dossier.incremental.cache import CACHE_DIR, BuildCache
from helpers import edit


class _Planted:
    """Unpickling this creates a folder: proof that the cache file ran code."""

    def __init__(self, proof: Path) -> None:
        self.proof = proof

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.mkdir, (str(self.proof),)


def test_a_pickle_planted_in_the_cache_folder_is_never_loaded(
    base_site: Path, tmp_path: Path
) -> None:
    proof = tmp_path / "code-ran"
    cache = base_site / CACHE_DIR
    cache.mkdir()
    for name in ("documents.pickle", "documents.json", "documents.sqlite", "output-x.pickle",
                 BuildCache(base_site, base_site / "build").path.name, "search.json"):
        (cache / name).write_bytes(pickle.dumps(_Planted(proof)))
    result = build(base_site)
    assert result.rendered == result.pages  # the planted files were ignored: a full build
    assert not proof.exists()


def test_the_cache_is_data_and_is_used_by_the_next_build(base_site: Path) -> None:
    build(base_site)
    cache = BuildCache(base_site, base_site / "build")
    assert cache.path.read_bytes().startswith(b"SQLite format 3\x00")
    assert cache.search_path.read_bytes().startswith(b"SQLite format 3\x00")
    again = build(base_site)
    assert again.rendered == 0


def test_an_edit_reads_only_the_edited_file_again(
        base_site: Path, documents_read: list[str]) -> None:
    build(base_site)
    documents_read.clear()
    record = base_site / "content" / "projecten" / "project-drie.md"
    record.write_text(record.read_text().replace("Tekst.", "Andere tekst.", 1))
    build(base_site)
    assert documents_read == ["content/projecten/project-drie.md"]
    assert "Andere tekst." in (base_site / "build" / "projecten" / "project-drie" /
                               "index.html").read_text("utf-8")


def test_a_damaged_or_forged_cache_means_a_full_build(base_site: Path) -> None:
    build(base_site)
    cache = BuildCache(base_site, base_site / "build")
    db = sqlite3.connect(cache.documents_path)
    with db:
        db.execute("UPDATE document SET data = '[1]'")
        db.execute("UPDATE output SET deps = x'00'")  # not packed dependencies
    db.close()
    (base_site / "content" / "projecten" / "project-een.md").touch()
    result = build(base_site)
    assert result.rendered == result.pages
    assert "Project één" in (base_site / "build" / "projecten" / "project-een" /
                             "index.html").read_text("utf-8")


@pytest.mark.parametrize("damage", [
    "UPDATE derived SET dep = 'not json'",
    "UPDATE part SET deps = x'00'",
    "UPDATE record SET digest = NULL, fields = 1",
])
def test_a_damaged_row_of_what_pages_read_means_a_full_build(base_site: Path,
                                                             damage: str) -> None:
    """Those rows are read in another process while the content loads: a damaged one is
    not trusted there either."""
    build(base_site)
    db = sqlite3.connect(BuildCache(base_site, base_site / "build").path)
    with db:
        db.execute(damage)
    db.close()
    edit(base_site / "content" / "projecten" / "project-een.md", "## Doel\n",
         "## Doel\n\nBewerkte zin.\n")
    result = build(base_site)
    assert result.rendered == result.pages
    assert "Bewerkte zin." in (base_site / "build" / "projecten" / "project-een" /
                               "index.html").read_text("utf-8")


def test_a_damaged_documents_store_means_reading_every_file(
        base_site: Path, documents_read: list[str]) -> None:
    build(base_site)
    cache = BuildCache(base_site, base_site / "build")
    cache.documents_path.write_bytes(b"not a database" * 100)
    (base_site / "content" / "projecten" / "project-een.md").touch()
    documents_read.clear()
    build(base_site)
    records = [p for p in (base_site / "content").glob("*/*") if p.suffix in (".md", ".yml")]
    assert len(documents_read) == len(records) > 1
    assert cache.documents_path.read_bytes().startswith(b"SQLite format 3\x00")
