"""`dossier check --report`: what editors should look at next, per collection, from a small
site with one of each finding, and from one with none."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from dossier.build import load_site
from dossier.cli import main
from dossier.model.report import _years_before, report, today
from dossier.render.reportpage import report_page

# Other words than the default schema's: the report goes by roles and flags.
SCHEMA = """\
vocabularies:
  topic: {a: Topic A, b: Topic B, c: Topic C}
  part: {lead: Lead, partner: Partner}
collections:
  works:
    role: project
    folder: works
    label: {nl: Werken, en: Works}
    title: title
    fields:
      title: {type: string, required: true}
      topic: {type: list, items: {type: enum, vocabulary: topic}, recommended: true}
      place: {type: string, recommended: true}
      changed: {type: date, role: updated}
      photo: {type: image}
      by: {type: ref, collection: groups}
      with:
        type: list
        items:
          type: object
          fields:
            group: {type: ref, collection: groups, required: true}
            part: {type: enum, vocabulary: part}
  groups:
    role: organisation
    folder: groups
    label: {nl: Groepen, en: Groups}
    title: name
    fields:
      name: {type: string, required: true}
      logo: {type: image}
"""
# The day the report is made, through SOURCE_DATE_EPOCH: 2025-06-15.
EPOCH = "1750000000"


def _record(site: Path, rel: str, front: str) -> None:
    path = site / "content" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front}---\nText.\n", "utf-8")


def _site(root: Path, name: str) -> Path:
    site = root / name
    (site / "content").mkdir(parents=True)
    (site / "content" / "site.yml").write_text("titel: Rapport\n", "utf-8")
    (site / "content" / "schema.yml").write_text(SCHEMA, "utf-8")
    Image.new("RGB", (40, 30), "teal").save(site / "content" / "beeld.png")
    return site


@pytest.fixture
def untidy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site with one of each finding."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    site = _site(tmp_path, "untidy")
    _record(site, "works/kept.md",
            "title: Kept\ntopic: [a]\nplace: Utrecht\nchanged: 2024-01-02\nby: named\n"
            "photo: {bestand: ../beeld.png, alt: A teal square, bijschrift: Teal}\n")
    _record(site, "works/old.md",
            "title: Old\ntopic: [b]\nplace: Zaandam\nchanged: 2020-06-14\n"
            "with: [{group: partner, part: partner}]\n"
            "photo: {bestand: ../beeld.png, alt: A teal square}\n")
    _record(site, "works/bare.md", "title: Bare\ntopic: []\nchanged: 2020-06-15\n")
    _record(site, "groups/named.md", "name: Named\n")
    _record(site, "groups/partner.md", "name: Partner\n")
    _record(site, "groups/alone.md",
            "name: Alone\nlogo: {bestand: ../beeld.png, decoratief: true}\n")
    return site


@pytest.fixture
def tidy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site with nothing to report."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    site = _site(tmp_path, "tidy")
    _record(site, "works/all.md",
            "title: All\ntopic: [a, b, c]\nplace: Utrecht\nchanged: 2024-01-02\nby: one\n"
            "with: [{group: one, part: lead}, {group: one, part: partner}]\n"
            "photo: {bestand: ../beeld.png, alt: A teal square, bijschrift: Teal}\n")
    _record(site, "groups/one.md", "name: One\n")
    return site


def test_each_kind_of_finding_in_its_collection(untidy: Path) -> None:
    found = report(load_site(untidy), today())
    assert (found.today, found.years) == ("2025-06-15", 5)
    works, groups = found.collections
    assert [(e.slug, e.fields) for e in works.empty_recommended] == [
        ("bare", ("topic", "place"))]
    # Five years before 2025-06-15 is 2020-06-15: older than that is due.
    assert [(e.slug, e.date) for e in works.not_updated] == [("old", "2020-06-14")]
    assert [(u.field, u.terms) for u in works.unused_terms] == [
        ("topic", ("c",)), ("with.part", ("lead",))]
    assert [(e.slug, e.fields) for e in works.images_without_caption] == [("old", ("photo",))]
    assert works.without_projects == ()
    # A group that only a partner list names has a project; a decorative logo needs no
    # caption.
    assert [e.slug for e in groups.without_projects] == ["alone"]
    assert groups.images_without_caption == () and groups.unused_terms == ()
    assert groups.empty_recommended == () and groups.not_updated == ()


def test_a_tidy_site_has_nothing_to_report(tidy: Path) -> None:
    found = report(load_site(tidy), today())
    assert found.empty, found


def test_the_age_comes_from_site_yml(untidy: Path) -> None:
    settings = untidy / "content" / "site.yml"
    settings.write_text(settings.read_text("utf-8") + "herbeoordeling_jaren: 2\n", "utf-8")
    found = report(load_site(untidy), today())
    assert found.years == 2
    assert [e.slug for e in found.collections[0].not_updated] == ["bare", "old"]


def test_check_report_prints_the_report_after_the_diagnostics(untidy: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(untidy), "--report"])
    assert result.exit_code == 0, result.output  # findings are no errors
    assert "check passed" in result.stderr
    assert result.stdout.splitlines() == [
        "Wat redacteuren nu kunnen oppakken (peildatum 2025-06-15)",
        "",
        "Werken (works)",
        "  Aanbevolen velden leeg (1):",
        "    content/works/bare.md: Bare (topic, place)",
        "  Toe aan herbeoordeling: laatst gewijzigd vóór 2020-06-15 (1):",
        "    content/works/old.md: Old (2020-06-14)",
        "  Termen die geen record gebruikt (2):",
        "    topic: c",
        "    with.part: lead",
        "  Afbeeldingen zonder bijschrift (1):",
        "    content/works/old.md: Old (photo)",
        "",
        "Groepen (groups)",
        "  Door geen enkel project genoemd (1):",
        "    content/groups/alone.md: Alone",
    ]


def test_check_report_speaks_english_on_an_english_site(tidy: Path) -> None:
    settings = tidy / "content" / "site.yml"
    settings.write_text(settings.read_text("utf-8") + "taal: en\n", "utf-8")
    result = CliRunner().invoke(main, ["check", str(tidy), "--report"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "What editors could look at next (as of 2025-06-15)", "",
        "Works (works)", "  nothing to do", "", "Groups (groups)", "  nothing to do"]


def test_check_report_as_json(untidy: Path, tidy: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(untidy), "--report", "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert isinstance(data["diagnostics"], list)
    found = data["report"]
    assert (found["today"], found["years"], found["lang"]) == ("2025-06-15", 5, "nl")
    works = found["collections"][0]
    assert works["name"] == "works" and works["label"] == "Werken"
    assert works["not_updated"] == [{"path": "content/works/old.md", "slug": "old",
                                     "title": "Old", "fields": [], "date": "2020-06-14"}]
    assert works["unused_terms"][0] == {"field": "topic", "vocabulary": "topic",
                                        "terms": ["c"]}
    # Without --report, the JSON is the array of diagnostics it always was.
    plain = CliRunner().invoke(main, ["check", str(tidy), "--format", "json"])
    assert isinstance(json.loads(plain.stdout), list)


def test_a_site_with_errors_gets_no_report_and_fails(untidy: Path) -> None:
    _record(untidy, "works/broken.md", "title: Broken\ntopic: [d]\n")
    result = CliRunner().invoke(main, ["check", str(untidy), "--report"])
    assert result.exit_code == 1
    assert "content/works/broken.md:3:9: error: topic: 'd' is not a known term" \
        in result.stderr
    assert "no report: the site has errors" in result.stderr and result.stdout == ""
    as_json = CliRunner().invoke(main, ["check", str(untidy), "--report", "--format", "json"])
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["report"] is None


def test_the_day_is_source_date_epoch_or_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    assert today() == dt.date(2025, 6, 15)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert today() == dt.date.today()
    assert _years_before(dt.date(2024, 2, 29), 5) == dt.date(2019, 2, 28)


def test_the_report_as_a_page_lists_the_same_findings(untidy: Path) -> None:
    page = report_page(report(load_site(untidy), today()), admin_href="../admin/")
    assert page.startswith("<!doctype html>\n<html lang=\"nl\">")
    assert '<p><a href="../admin/">Naar de beheeromgeving</a></p>' in page
    assert "<h2 id=\"c-1\">Werken</h2>" in page and "<h2 id=\"c-2\">Groepen</h2>" in page
    assert "<h3>Toe aan herbeoordeling: laatst gewijzigd vóór 2020-06-15 (1)</h3>" in page
    assert ('<li>Old <code>content/works/old.md</code>: '
            '<time datetime="2020-06-14">2020-06-14</time></li>') in page
    assert "<li><code>with.part</code>: lead</li>" in page
    assert "<script" not in page and "http" not in page
