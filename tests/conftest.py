"""Shared fixtures, found by pytest without an import. Plain helper functions are in
helpers.py (`from helpers import ...`); see tests/README.md."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import launch
from helpers import copy_example, make_site


@pytest.fixture
def site_factory(tmp_path: Path) -> Callable[[str], Path]:
    """Make a fresh copy of a scenario site in a temporary folder."""
    return lambda name: make_site(name, tmp_path)


@pytest.fixture
def base_site(site_factory: Callable[[str], Path]) -> Path:
    return site_factory("_base")


@pytest.fixture
def example_site(tmp_path: Path) -> Path:
    """A copy of the repository's own example dossier (never build inside the checkout)."""
    return copy_example(tmp_path / "example")


@pytest.fixture
def documents_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The record files read and parsed (not taken from a cache) while the test runs, by
    their path in the site; clear the list to count from a later point."""
    import dossier.content.documents

    files: list[str] = []
    original = dossier.content.documents.load_document

    def counting(file: Path, rel: str, collection: str) -> object:
        files.append(rel)
        return original(file, rel, collection)

    monkeypatch.setattr(dossier.content.documents, "load_document", counting)
    return files


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Chromium (browser.launch), one per test module; skips without it."""
    with launch() as browser:
        yield browser
