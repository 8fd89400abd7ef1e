"""Browsing without JavaScript: facet pages, pagination, A–Z, drafts (issue: navigation)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from dossier.build import BuildOptions, build, load_site
from dossier.core.urls import output_path
from dossier.model.site import Site, facet_values
from helpers import generated_site

LINK_RE = re.compile(r'<h3 class="card-title"><a href="([^"]+)">')


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Site]:
    """70 generated projects, the last 4 of them drafts; built once for the module."""
    site_dir = generated_site(tmp_path_factory.mktemp("gen"), 70, drafts=4, organisations=12)
    build(site_dir)
    return site_dir, load_site(site_dir, BuildOptions(), [])


def card_targets(page: Path) -> list[str]:
    """The records a list page shows as cards, as site paths."""
    return LINK_RE.findall(page.read_text())


def pages_of(build_dir: Path, url: str) -> list[Path]:
    """A paginated list: its first page and every /pagina/N/ after it."""
    first = build_dir / output_path(url)
    rest = sorted((build_dir / url / "pagina").glob("*/index.html"),
                  key=lambda p: int(p.parent.name))
    return [first, *rest]


def resolve(page: Path, href: str, build_dir: Path) -> str:
    return (page.parent / href).resolve().relative_to(build_dir.resolve()).as_posix() + "/"


def test_generated_corpus_says_it_is_generated(generated: tuple[Path, Site]) -> None:
    _, site = generated
    assert all("Gegenereerd" in r.title for r in site.records["projecten"])


def test_project_list_pagination_covers_every_record_once(generated: tuple[Path, Site]) -> None:
    site_dir, site = generated
    out = site_dir / "build"
    shown = [resolve(p, href, out) for p in pages_of(out, "projecten/")
             for href in card_targets(p)]
    published = sorted(r.url for r in site.records["projecten"])
    assert len(published) == 66
    assert sorted(shown) == published
    assert len(shown) == len(set(shown))
    assert len(pages_of(out, "projecten/")) == 4  # 66 records at 20 a page


def test_pagination_links_prev_and_next(generated: tuple[Path, Site]) -> None:
    site_dir, _ = generated
    first, second, *_ = pages_of(site_dir / "build", "projecten/")
    assert '<link rel="next" href="../projecten/pagina/2/">' in first.read_text()
    assert 'rel="prev"' not in first.read_text()
    html = second.read_text()
    assert '<link rel="prev" href="../../../projecten/">' in html
    assert 'aria-current="page"' in html


def test_facet_pages_count_and_list_exactly_the_records_with_the_term(
    generated: tuple[Path, Site]
) -> None:
    site_dir, site = generated
    out = site_dir / "build"
    projects = site.records["projecten"]
    for facet in site.facets["projecten"]:
        overview = (out / output_path(facet.url)).read_text()
        for term in facet.terms:
            carriers = sorted(r.url for r in projects if term.key in facet_values(r, facet.field))
            assert term.count == len(carriers) > 0
            assert f">{term.count}</td>" in overview
            shown = [resolve(p, h, out) for p in pages_of(out, term.url)
                     for h in card_targets(p)]
            assert sorted(shown) == carriers, term.url


def test_sidebar_counts_are_within_the_current_selection(generated: tuple[Path, Site]) -> None:
    site_dir, site = generated
    thema = next(f for f in site.facets["projecten"] if f.name == "thema")
    term = thema.terms[0]
    html = (site_dir / "build" / output_path(term.url)).read_text()
    sidebar = html[html.index('class="sidebar"'):]
    status = Counter(r.data["status"] for r in term.records)
    for key, count in status.items():
        label = site.schema.term_label("status", key, "nl")
        assert re.search(rf">{label}</a> <span class=\"count\">\({count}\)</span>", sidebar)


def test_a_to_z_lists_every_published_project_and_organisation(
    generated: tuple[Path, Site]
) -> None:
    site_dir, site = generated
    page = site_dir / "build" / "a-z" / "index.html"
    lists = re.findall(r'<ul class="az-list">(.*?)</ul>', page.read_text(), re.S)
    hrefs = [h for block in lists for h in re.findall(r'<a href="\.\./([^"]+)">', block)]
    expected = sorted(r.url for c in ("projecten", "organisaties") for r in site.records[c])
    assert sorted(hrefs) == expected


def test_drafts_appear_nowhere_without_the_drafts_flag(generated: tuple[Path, Site]) -> None:
    site_dir, site = generated
    drafts = [f"project-{i:05d}" for i in range(66, 70)]
    published = {r.slug for r in site.records["projecten"]}
    assert not published & set(drafts)
    for file in (site_dir / "build").rglob("*"):
        if file.is_file():
            text = file.read_bytes().decode("utf-8-sig", "replace")
            for slug in drafts:
                assert slug not in text, f"{slug} in {file}"
    counts = sum(t.count for f in site.facets["projecten"] if f.name == "status" for t in f.terms)
    assert counts == 66


def test_drafts_are_built_with_the_drafts_flag(
    generated: tuple[Path, Site], tmp_path: Path
) -> None:
    site_dir, _ = generated
    build(site_dir, BuildOptions(out=tmp_path / "met-concepten", drafts=True))
    assert (tmp_path / "met-concepten" / "projecten" / "project-00069" / "index.html").is_file()
