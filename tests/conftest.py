"""Shared fixtures, found by pytest without an import. Plain helper functions are in
helpers.py (`from helpers import ...`); see tests/README.md."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import launch
from dossier.build import BuildOptions
from dossier.preview.server import serve
from helpers import (
    REPORT_EPOCH,
    START_TIMEOUT,
    Editor,
    ServeReporter,
    copy_example,
    make_site,
    report_site,
    write_record,
)


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


@pytest.fixture
def editor(example_site: Path) -> Iterator[Editor]:
    """`dossier serve` of a copy of the example, in this process, and a client of its
    local backend."""
    reporter, stop = ServeReporter(), threading.Event()
    thread = threading.Thread(target=serve, args=(example_site, BuildOptions(search=False),
                                                  "127.0.0.1", 0, reporter, stop),
                              daemon=True)
    thread.start()
    assert reporter.ready.wait(START_TIMEOUT), "dossier serve did not start"
    yield Editor(example_site, reporter.url[0])
    stop.set()
    thread.join(START_TIMEOUT)


@pytest.fixture
def untidy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site with one of each finding."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", REPORT_EPOCH)
    site = report_site(tmp_path, "untidy")
    write_record(site, "works/kept.md",
            "title: Kept\ntopic: [a]\nplace: Utrecht\nchanged: 2024-01-02\nby: named\n"
            "photo: {bestand: ../beeld.png, alt: A teal square, bijschrift: Teal}\n")
    write_record(site, "works/old.md",
            "title: Old\ntopic: [b]\nplace: Zaandam\nchanged: 2020-06-14\n"
            "with: [{group: partner, part: partner}]\n"
            "photo: {bestand: ../beeld.png, alt: A teal square}\n")
    write_record(site, "works/bare.md", "title: Bare\ntopic: []\nchanged: 2020-06-15\n")
    write_record(site, "groups/named.md", "name: Named\n")
    write_record(site, "groups/partner.md", "name: Partner\n")
    write_record(site, "groups/alone.md",
            "name: Alone\nlogo: {bestand: ../beeld.png, decoratief: true}\n")
    return site


@pytest.fixture
def tidy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site with nothing to report."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", REPORT_EPOCH)
    site = report_site(tmp_path, "tidy")
    write_record(site, "works/all.md",
            "title: All\ntopic: [a, b, c]\nplace: Utrecht\nchanged: 2024-01-02\nby: one\n"
            "with: [{group: one, part: lead}, {group: one, part: partner}]\n"
            "photo: {bestand: ../beeld.png, alt: A teal square, bijschrift: Teal}\n")
    write_record(site, "groups/one.md", "name: One\n")
    return site
