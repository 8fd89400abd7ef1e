"""The build cache: plain JSON, and a cache file planted in the site is never code."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from dossier.build import BuildOptions, build
from dossier.cache import CACHE_DIR, BuildCache


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
    for name in ("documents.pickle", "documents.json", "output-x.pickle"):
        (cache / name).write_bytes(pickle.dumps(_Planted(proof)))
    planted = BuildCache(base_site, base_site / "build")
    planted.manifest_path.write_bytes(pickle.dumps(_Planted(proof)))
    result = build(base_site)
    assert result.rendered == result.pages  # the planted files were ignored: a full build
    assert not proof.exists()


def test_the_cache_is_json_and_is_used_by_the_next_build(base_site: Path) -> None:
    build(base_site)
    cache = BuildCache(base_site, base_site / "build")
    assert cache.documents_path.read_text("utf-8").startswith("{")
    assert cache.manifest_path.read_text("utf-8").startswith("{")
    again = build(base_site)
    assert again.rendered == 0


def test_a_damaged_or_forged_cache_means_a_full_build(base_site: Path) -> None:
    build(base_site)
    cache = BuildCache(base_site, base_site / "build")
    cache.documents_path.write_text('{"format": 2, "schema_key": 1, "entries": {"x": [1]}}')
    cache.manifest_path.write_text('{"format": 2, "key": "k", "files": {"index.html": 7}}')
    (base_site / "content" / "projecten" / "project-een.md").touch()
    result = build(base_site)
    assert result.rendered == result.pages
    assert "Project één" in (base_site / "build" / "projecten" / "project-een" /
                             "index.html").read_text("utf-8")


def test_temporary_cache_files_of_a_killed_build_are_removed(base_site: Path) -> None:
    build(base_site)
    cache = BuildCache(base_site, base_site / "build")
    stale = cache.documents_path.with_suffix(".tmp-99999")
    stale.write_text("half")
    record = base_site / "content" / "projecten" / "project-drie.md"
    record.write_text(record.read_text().replace("Tekst.", "Andere tekst.", 1))
    build(base_site, BuildOptions())  # a build that saves the cache (not merely up to date)
    assert not stale.exists()
