"""Open data, feeds and discovery: what a researcher or a search engine takes away."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from dossier.build import BuildOptions, build, load_site
from dossier.core.urls import output_path
from dossier.model.site import Site
from dossier.outputs.opendata import LIST_SEPARATOR, collection_files, columns
from dossier.plan.pages import plan
from helpers import copy_example, generated_site

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Site]:
    site_dir = generated_site(tmp_path_factory.mktemp("data"), 60, organisations=10)
    build(site_dir)
    return site_dir, load_site(site_dir, BuildOptions(), [])


COLLECTIONS = ["projecten", "organisaties", "dossiers", "paginas"]


@pytest.mark.parametrize("name", COLLECTIONS)
def test_json_export_validates_against_the_exported_schema(
    generated: tuple[Path, Site], name: str
) -> None:
    site_dir, site = generated
    data = site_dir / "build" / "data"
    rows = json.loads((data / f"{name}.json").read_text())
    schema = json.loads((data / "schema" / f"{name}.json").read_text())
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    assert len(rows) == len(site.records[name]) > 0
    for row in rows:
        assert list(validator.iter_errors(row)) == []
    lines = (data / f"{name}.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == rows


def test_references_are_resolved_to_slug_title_and_url(generated: tuple[Path, Site]) -> None:
    site_dir, site = generated
    rows = json.loads((site_dir / "build" / "data" / "projecten.json").read_text())
    first = rows[0]
    org = site.get("organisaties", first["uitvoerder"]["slug"])
    assert first["uitvoerder"] == {
        "slug": org.slug, "titel": org.title,
        "url": f"https://databank.example.org/gegenereerd/{org.url}",
    }


def flatten(row: dict[str, object], path: tuple[str, ...]) -> str:
    """What the CSV should hold for one column, computed independently from the JSON."""
    def walk(value: object, rest: tuple[str, ...]) -> list[str]:
        if isinstance(value, list):
            return [v for item in value for v in walk(item, rest)]
        if not rest:
            if isinstance(value, dict):
                return [str(value["slug"])]
            return [] if value is None else [str(value)]
        if isinstance(value, dict) and rest[0] in value:
            return walk(value[rest[0]], rest[1:])
        return []
    return LIST_SEPARATOR.join(walk(row, path))


@pytest.mark.parametrize("name", COLLECTIONS)
def test_csv_opens_into_the_same_records(generated: tuple[Path, Site], name: str) -> None:
    site_dir, site = generated
    raw = (site_dir / "build" / "data" / f"{name}.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "spreadsheet programs need the BOM"
    rows = json.loads((site_dir / "build" / "data" / f"{name}.json").read_text())
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    cols = columns(site.schema.collection(name))
    assert list(table[0].keys()) == [".".join(c) for c in cols]
    assert len(table) == len(rows)
    for row, line in zip(rows, table, strict=True):
        for col in cols:
            assert line[".".join(col)] == flatten(row, col), (row["slug"], col)


def test_csv_columns_follow_the_schema_order(generated: tuple[Path, Site]) -> None:
    site_dir, _ = generated
    header = (site_dir / "build" / "data" / "projecten.csv").read_text("utf-8-sig").split("\r\n")[0]
    assert header.startswith("slug,url,titel,samenvatting,dossiers,thema,doelgroep,leeftijd")
    assert "partners.organisatie,partners.rol,programma,looptijd.start,looptijd.eind" in header


def test_datapackage_is_valid_for_frictionless(generated: tuple[Path, Site]) -> None:
    frictionless = pytest.importorskip("frictionless")
    site_dir, _ = generated
    report = frictionless.validate(str(site_dir / "build" / "data" / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]


def test_every_record_page_has_its_json_beside_it(generated: tuple[Path, Site]) -> None:
    site_dir, site = generated
    for record in site.all_records():
        data = json.loads((site_dir / "build" / record.url / "index.json").read_text())
        assert data["slug"] == record.slug


def test_sitemap_lists_every_page_with_absolute_urls(generated: tuple[Path, Site]) -> None:
    site_dir, site = generated
    tree = ET.parse(site_dir / "build" / "sitemap.xml")
    locs = [e.text for e in tree.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    base = "https://databank.example.org/gegenereerd/"
    pages = [p for p in plan(site) if p.url != "404.html" and p.kind != "print"]
    assert sorted(locs) == sorted(base + p.url for p in pages)
    robots = (site_dir / "build" / "robots.txt").read_text()
    assert f"Sitemap: {base}sitemap.xml" in robots


def test_atom_feed_lists_projects_newest_first(generated: tuple[Path, Site]) -> None:
    site_dir, site = generated
    feed = ET.parse(site_dir / "build" / "feed.xml").getroot()
    entries = feed.findall(f"{ATOM}entry")
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    assert len(entries) == 50
    assert updated == sorted(updated, reverse=True)
    newest = max(r.data["bijgewerkt"] for r in site.records["projecten"])
    assert feed.findtext(f"{ATOM}updated") == f"{newest}T00:00:00Z"


def test_without_base_url_there_is_no_sitemap_and_a_warning(base_site: Path) -> None:
    site_yml = base_site / "content" / "site.yml"
    site_yml.write_text("\n".join(line for line in site_yml.read_text().splitlines()
                                  if not line.startswith("base_url")))
    result = build(base_site)
    assert not (base_site / "build" / "sitemap.xml").exists()
    assert "Sitemap" not in (base_site / "build" / "robots.txt").read_text()
    assert any(w.field == "base_url" for w in result.warnings)
    assert 'rel="canonical"' not in (base_site / "build" / "index.html").read_text()


def test_json_ld_cannot_close_its_script_element(base_site: Path) -> None:
    record = base_site / "content" / "projecten" / "project-drie.md"
    text = record.read_text().replace("titel: Project drie (gegenereerd)",
                                      'titel: "Drie </script><script>alert(1)</script> & co"')
    record.write_text(text)
    build(base_site)
    html = (base_site / "build" / "projecten" / "project-drie" / "index.html").read_text()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert block is not None
    data = json.loads(block.group(1))
    assert data["name"] == "Drie </script><script>alert(1)</script> & co"
    assert html.count("<script") == 1


@pytest.fixture(scope="module")
def example_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = copy_example(tmp_path_factory.mktemp("ex"))
    build(site)
    return site


def test_every_example_page_has_breadcrumbs_and_a_canonical_link(example_build: Path) -> None:
    site = load_site(example_build, BuildOptions(), [])
    for page in plan(site):
        html = (example_build / "build" / output_path(page.url)).read_text()
        assert '<nav class="breadcrumbs"' in html, page.url
        if page.url != "404.html":  # a 404 page is not a document to canonicalise
            assert f'<link rel="canonical" href="{site.config.base_url}{page.url}">' in html


def test_example_project_and_organisation_pages_carry_json_ld(example_build: Path) -> None:
    site = load_site(example_build, BuildOptions(), [])
    types = {"projecten": "Project", "organisaties": "Organization"}
    for name, kind in types.items():
        for record in site.records[name]:
            html = (example_build / "build" / record.url / "index.html").read_text()
            block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
            assert block, record.url
            data = json.loads(block.group(1))
            assert data["@type"] == kind and data["name"] == record.title


@pytest.mark.parametrize("name", COLLECTIONS)
def test_exports_written_record_by_record_are_what_the_whole_collection_gives(
    generated: tuple[Path, Site], name: str
) -> None:
    """The build streams a collection's exports to disk (a large site's are hundreds of
    megabytes); the bytes equal those made from the collection held whole."""
    site_dir, site = generated
    made = collection_files(site, site.schema.collection(name))
    for rel, data in made.items():
        assert (site_dir / "build" / rel).read_bytes() == data, rel
    data_csv = (site_dir / "build" / "data" / f"{name}.csv").read_bytes()
    assert data_csv.startswith("\ufeff".encode()) and data_csv.endswith(b"\r\n")


def test_an_unchanged_export_keeps_its_file(tmp_path: Path) -> None:
    """Streamed exports that come out the same are the previous build's files (same inode,
    same mtime), so an upload sends nothing new."""
    site_dir = generated_site(tmp_path, 30, organisations=5)
    build(site_dir)
    export = site_dir / "build" / "data" / "projecten.csv"
    before = export.stat()
    # Blank lines at the end of a body: the file (and so the export's key) changes, the
    # exported text does not.
    record = site_dir / "content" / "projecten" / "project-00003.md"
    record.write_text(record.read_text() + "\n\n")
    result = build(site_dir)
    assert result.rendered > 0
    after = export.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
