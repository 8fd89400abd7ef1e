"""The repository's own example dossier: complete, deterministic, self-contained, relocatable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import urlopen

import pytest
from click.testing import CliRunner

from browser import serve
from dossier.build import BuildOptions, build, load_site
from dossier.cli import main
from dossier.core.urls import output_path
from dossier.plan.pages import plan
from dossier.render.linkcheck import collect
from helpers import snapshot


@pytest.fixture
def built(example_site: Path) -> Path:
    result = CliRunner().invoke(main, ["build", str(example_site)])
    assert result.exit_code == 0, result.output
    return example_site / "build"


def test_every_record_and_facet_term_has_a_page(example_site: Path, built: Path) -> None:
    site = load_site(example_site, BuildOptions(), [])
    records = list(site.all_records())
    assert len(records) >= 18
    for record in records:
        page = built / output_path(record.url)
        assert page.is_file(), record.url
        assert f"<h1>{record.title}</h1>" in page.read_text().replace("&#39;", "'")
    for facets in site.facets.values():
        for facet in facets:
            for term in facet.terms:
                assert (built / output_path(term.url)).is_file(), term.url


def test_example_names_the_organisations_of_the_public_record(built: Path) -> None:
    names = {"Verwey-Jonker Instituut", "FORUM", "Nederlands Jeugdinstituut", "ZonMw",
             "BVO Zaandam", "Vice Versa", "Al Amal"}
    listing = (built / "organisaties" / "index.html").read_text()
    for name in names:
        assert name in listing


def test_two_builds_are_identical_and_the_second_rewrites_nothing(
    example_site: Path, built: Path
) -> None:
    first = snapshot(built)
    stats = {p: p.stat() for p in built.rglob("*") if p.is_file()}
    result = CliRunner().invoke(main, ["build", str(example_site)])
    assert "0 changed" in result.output
    assert snapshot(built) == first
    for path, before in stats.items():
        after = path.stat()
        assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino), path


def test_same_content_in_another_folder_gives_the_same_bytes(
    example_site: Path, tmp_path: Path, built: Path
) -> None:
    other = build(example_site, BuildOptions(out=tmp_path / "elsewhere"))
    assert other.files == len(snapshot(built)) - 1  # the marker file is not counted
    assert snapshot(tmp_path / "elsewhere") == snapshot(built)


def test_source_date_epoch_sets_the_footer_date(
    example_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1339632000")  # 2012-06-14
    build(example_site)
    assert "14 juni 2012" in (example_site / "build" / "index.html").read_text()


EXTERNAL_LOAD = re.compile(
    r"<(?:script|img|iframe|audio|video|source|embed|object)\b[^>]*\b(?:src|data)=\"(?:https?:)?//"
    r"|<link\b(?![^>]*rel=\"canonical\")[^>]*href=\"(?:https?:)?//", re.I)


def test_no_page_loads_anything_from_another_host(built: Path) -> None:
    for rel, data in snapshot(built).items():
        text = data.decode("utf-8", "replace")
        if rel.endswith(".html"):
            assert not EXTERNAL_LOAD.search(text), rel
        if rel.endswith(".css"):
            assert "@import" not in text and not re.search(r"url\(\s*['\"]?(https?:)?//", text)


@pytest.fixture
def served_under_prefix(built: Path) -> Iterator[str]:
    """Serve build/ at http://127.0.0.1:PORT/databank/ and nothing else."""
    with serve(built, built.parent / "www") as url:
        yield url


def test_all_links_resolve_under_a_path_prefix(
    example_site: Path, built: Path, served_under_prefix: str
) -> None:
    start = served_under_prefix
    seen: set[str] = set()
    queue = [start]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        with urlopen(url, timeout=5) as response:
            assert response.status == 200, url
            data = response.read()
        if not url.endswith((".html", "/")):
            continue  # images and documents are fetched, not read for links
        body = data.decode("utf-8")
        for link in collect(body).links:
            target = urljoin(url, link).split("#")[0]
            if urlsplit(target).netloc == urlsplit(start).netloc:
                assert target.startswith(start), f"{url} links outside the prefix: {link}"
                queue.append(target)
    site = load_site(example_site, BuildOptions(), [])
    pages = {start + p.url for p in plan(site) if p.url != "404.html"}
    assert pages <= seen, sorted(pages - seen)
