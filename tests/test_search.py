"""The search index (issue 6) without a browser: what is indexed, the bundle, the command line."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier.build import BuildOptions, build, load_site, make_renderer
from dossier.cli import main
from dossier.model.filters import filter_groups
from dossier.plan.pages import plan
from dossier.search import cbor as _cbor
from dossier.search.entries import entries, markdown_text
from dossier.search.pagefind import SIGNATURE, bundle, canonical


@pytest.fixture
def example_entries(example_site: Path) -> list:  # type: ignore[type-arg]
    site = load_site(example_site, BuildOptions(), [])
    renderer = make_renderer(site, example_site)
    page = next(p for p in plan(site) if p.kind == "search")
    return list(entries(site, lambda r: renderer.card_html(r, page)))


def test_records_with_their_own_page_are_indexed_content_pages_are_not(
    example_site: Path, example_entries: list  # type: ignore[type-arg]
) -> None:
    site = load_site(example_site, BuildOptions(), [])
    urls = sorted(e.url for e in example_entries)
    expected = sorted(r.url for c in ("projecten", "organisaties", "dossiers")
                      for r in site.records[c])
    assert urls == expected
    assert not any(e.url in ("over/", "colofon/", "toegankelijkheid/") for e in example_entries)


def test_an_entry_has_title_summary_and_body_text_but_no_markup(
    example_entries: list  # type: ignore[type-arg]
) -> None:
    tussen_in = next(e for e in example_entries if e.url == "projecten/tussen-in/")
    assert tussen_in.content.startswith("Tussen In Tussen In is de methode")
    assert "Kanaleneiland" in tussen_in.content  # from the body
    assert ".md" not in tussen_in.content and "](" not in tussen_in.content
    assert tussen_in.filters == {"soort": ["projecten"],
                                 "thema": ["toegankelijkheid-jeugdvoorzieningen"],
                                 "herkomst": ["marokkaans"], "plaats": ["utrecht"],
                                 "provincie": ["utrecht"]}
    assert tussen_in.meta["place"] == "Utrecht" and tussen_in.meta["soort"] == "Project"
    assert tussen_in.meta["summary"].startswith("Tussen In is de methode")
    # The result card is the list pages' card, with links as seen from zoeken/.
    assert '<a href="../projecten/tussen-in/">Tussen In</a>' in tussen_in.meta["kaart"]


def test_markdown_text_keeps_words_and_drops_syntax() -> None:
    text = "## Doel\n\nZie [Al *Amal*](../organisaties/al-amal.md)[^1] en <b>dit</b> &amp; dat.\n"
    assert markdown_text(text) == "Doel Zie Al Amal en dit & dat."


def test_filter_groups_follow_the_schema_with_counts_of_records(example_site: Path) -> None:
    site = load_site(example_site, BuildOptions(), [])
    groups = {g.name: g for g in filter_groups(site)}
    facets = [f.name for c in site.schema.collections if c.folder for f in c.facets]
    assert [n for n in groups if n != "soort"] == list(dict.fromkeys(
        f for f in facets if any(t for c in site.facets.values() for x in c
                                 if x.name == f for t in x.terms)))
    assert groups["thema"].label == "Thema"
    kinds = {v.value: v.count for v in groups["soort"].values}
    assert kinds == {c: len(site.records[c]) for c in ("projecten", "organisaties", "dossiers")}
    utrecht = next(v for v in groups["plaats"].values if v.value == "utrecht")
    in_utrecht = [r for c in ("projecten", "organisaties") for r in site.records[c]
                  if r.data.get("plaats") == "Utrecht"]
    assert utrecht.count == len(in_utrecht) and utrecht.label == "Utrecht"


def test_pagefind_output_is_byte_identical_across_runs(
    example_entries: list  # type: ignore[type-arg]
) -> None:
    first = bundle(example_entries, "nl")
    assert bundle(example_entries, "nl") == first
    assert "pagefind/pagefind.js" in first and "pagefind/pagefind-entry.json" in first
    assert not any("pagefind-ui" in name for name in first)


def test_canonical_sorts_filter_values_and_renames_files_after_content(
    example_entries: list  # type: ignore[type-arg]
) -> None:
    files = {k.removeprefix("pagefind/"): v for k, v in bundle(example_entries, "nl").items()}
    entry = json.loads(files["pagefind-entry.json"])
    meta_name = f"pagefind.{entry['languages']['nl']['hash']}.pf_meta"
    meta = _cbor.loads(gzip.decompress(files[meta_name])[len(SIGNATURE):])
    names = [name for name, _ in meta[3]]
    assert names == sorted(names) and "thema" in names
    for name, hashed in meta[3]:
        index = _cbor.loads(gzip.decompress(files[f"filter/{hashed}.pf_filter"])[len(SIGNATURE):])
        values = [v for v, _ in index[1]]
        assert index[0] == name and values == sorted(values)
    assert canonical(files) == files  # already canonical: nothing changes


def test_cbor_round_trip_keeps_bytes() -> None:
    value = ["1.5.2", [["nl_abc", 301], ["nl_def", 70000]], {"a": -3}, "één", b"\x00",
             list(range(30))]
    assert _cbor.loads(_cbor.dumps(value)) == value
    assert _cbor.dumps(2**40) == b"\x1b" + (2**40).to_bytes(8, "big")
    with pytest.raises(_cbor.CborError):
        _cbor.loads(b"\x82\x01")


def test_build_writes_the_index_and_reports_indexing_time(example_site: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(example_site)])
    assert result.exit_code == 0, result.output
    assert re.search(r"search indexing \d+\.\d\d s \(15 records in 1 part, 1 made anew, "
                     r"[\d.]+ MB\)", result.stdout)
    out = example_site / "build"
    assert (out / "pagefind" / "pagefind.js").is_file()
    assert list((out / "pagefind" / "fragment").iterdir())
    search_page = (out / "zoeken" / "index.html").read_text()
    assert 'data-index="../pagefind/pagefind.js"' in search_page
    assert json.loads((out / "pagefind" / "parts.json").read_bytes()) == {"parts": []}
    assert '<legend class="visually-hidden">Doelgroep</legend>' in search_page


def test_no_search_skips_the_index(example_site: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(example_site), "--no-search"])
    assert result.exit_code == 0, result.output
    assert "search indexing" not in result.stdout
    assert not (example_site / "build" / "pagefind").exists()
    assert (example_site / "build" / "zoeken" / "index.html").is_file()


def test_every_page_but_the_search_page_has_a_search_form_in_the_header(
    example_site: Path
) -> None:
    build(example_site, BuildOptions(search=False))
    for page in (example_site / "build").rglob("*.html"):
        html = page.read_text()
        forms = re.findall(r'<form class="site-search" action="([^"]+)" method="get"', html)
        if page.parent.name == "zoeken":
            assert forms == []
        else:
            assert len(forms) == 1, page
            if page.name == "404.html":  # served at any depth: starts at the site's path
                assert forms == ["/databank/zoeken/"]
            else:
                assert (page.parent / forms[0]).resolve() == example_site / "build" / "zoeken"


def test_missing_pagefind_fails_the_build_and_keeps_the_previous_output(
    example_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(example_site, BuildOptions(search=False))
    before = (example_site / "build" / "index.html").stat().st_ino
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(example_site / "no-such-program"))
    result = CliRunner().invoke(main, ["build", str(example_site)])
    assert result.exit_code == 1
    assert "search index: cannot start Pagefind" in result.stderr
    assert "--no-search" in result.stderr
    assert (example_site / "build" / "index.html").stat().st_ino == before
