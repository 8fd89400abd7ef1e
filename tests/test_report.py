"""`dossier check --report`: what editors should look at next, per collection, from a small
site with one of each finding, and from one with none."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier.build import load_site
from dossier.cli import main
from dossier.model.report import _years_before, report, today
from dossier.render.reportpage import report_page
from helpers import REPORT_EPOCH, assert_same_as_clean, write_record


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
    write_record(untidy, "works/broken.md", "title: Broken\ntopic: [d]\n")
    result = CliRunner().invoke(main, ["check", str(untidy), "--report"])
    assert result.exit_code == 1
    assert "content/works/broken.md:3:9: error: topic: 'd' is not a known term" \
        in result.stderr
    assert "no report: the site has errors" in result.stderr and result.stdout == ""
    as_json = CliRunner().invoke(main, ["check", str(untidy), "--report", "--format", "json"])
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["report"] is None


def test_the_day_is_source_date_epoch_or_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", REPORT_EPOCH)
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


def test_the_preview_has_the_report_beside_its_editor_and_keeps_it_current(
        untidy: Path, tmp_path: Path) -> None:
    """`dossier serve` builds with the editor's local backend; its admin/ has the report,
    linked from the editor, and a save that fills a recommended field takes the record off
    the list (the page reads the model as pages do, so the incremental build makes it
    again, equal to a clean one). A published build has no report."""
    from dossier.build import BuildOptions, build

    preview = BuildOptions(admin_local=True, search=False)
    build(untidy, preview)
    page = (untidy / "build" / "admin" / "rapport.html").read_text("utf-8")
    assert "Aanbevolen velden leeg (1)" in page and "works/bare.md" in page
    assert 'href="./"' in page
    assert 'href="rapport.html"' in (untidy / "build" / "admin" / "index.html").read_text()
    write_record(untidy, "works/bare.md",
            "title: Bare\ntopic: [a]\nplace: Delft\nchanged: 2020-06-15\n")
    build(untidy, preview)
    page = (untidy / "build" / "admin" / "rapport.html").read_text("utf-8")
    assert "Aanbevolen velden leeg" not in page and "works/bare.md" not in page
    assert_same_as_clean(untidy, tmp_path, preview)
    settings = untidy / "content" / "site.yml"
    settings.write_text(settings.read_text("utf-8") + "beheer: true\n", "utf-8")
    build(untidy, BuildOptions(search=False, out=tmp_path / "published"))
    assert (tmp_path / "published" / "admin" / "index.html").is_file()
    assert not (tmp_path / "published" / "admin" / "rapport.html").exists()
    assert "rapport.html" not in (tmp_path / "published" / "admin" / "index.html").read_text()
