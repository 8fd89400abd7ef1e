"""The default theme without a browser (issue 7): messages, language, print page, assets."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dossier.build import BuildOptions, build
from dossier.cli import main
from dossier.render.assets import hashed_name
from dossier.render.renderer import THEME
from dossier.render.templating import nest

ROOT = Path(__file__).resolve().parent.parent
T_CALL = re.compile(r"""\bt\(\s*['"]([^'"]+)['"]""")
DOSSIER = "dossiers/samenwerken-met-migrantenorganisaties/"


def catalogue(lang: str) -> dict[str, str]:
    return yaml.safe_load((THEME / "messages" / f"{lang}.yml").read_text("utf-8"))


def test_dutch_and_english_catalogues_have_the_same_keys() -> None:
    nl, en = catalogue("nl"), catalogue("en")
    assert sorted(nl) == sorted(en)
    for key in nl:
        placeholders = set(re.findall(r"\{(\w+)\}", nl[key]))
        assert placeholders == set(re.findall(r"\{(\w+)\}", en[key])), key
        assert (nl[key] == "") == (en[key] == ""), key


def test_every_message_used_in_a_template_exists() -> None:
    used: dict[str, str] = {}
    for folder in (THEME / "templates", ROOT / "templates"):
        for template in folder.rglob("*.html"):
            for key in T_CALL.findall(template.read_text("utf-8")):
                used[key] = template.name
    assert len(used) > 40
    for lang in ("nl", "en"):
        missing = {k: where for k, where in used.items() if k not in catalogue(lang)}
        assert missing == {}, lang


def english_site(example_site: Path) -> Path:
    config = example_site / "content" / "site.yml"
    config.write_text(config.read_text().replace("taal: nl", "taal: en"))
    (example_site / "templates" / "messages" / "nl.yml").unlink()
    return example_site


def test_taal_en_switches_the_interface_dates_and_labels(
    example_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1339632000")  # 2012-06-14
    build(english_site(example_site), BuildOptions(search=False))
    out = example_site / "build"
    project = (out / "projecten" / "tussen-in" / "index.html").read_text()
    assert '<html lang="en">' in project
    assert "Skip to content" in project and ">Facts</h2>" in project
    assert "<dt>Theme</dt>" in project and "<dt>Province</dt>" in project
    assert "Access to youth services" in project  # term label in English
    assert '>Search the databank</label>' in project
    home = (out / "index.html").read_text()
    assert "June 14, 2012" in home
    assert "6 projects" in (out / "projecten" / "index.html").read_text()
    assert "1 dossier<" in (out / "dossiers" / "index.html").read_text()
    search = (out / "zoeken" / "index.html").read_text()
    assert "<h1>Search</h1>" in search and "Search only works with JavaScript" in search
    printable = (out / DOSSIER / "afdrukken" / "index.html").read_text()
    assert ">Contents</h2>" in printable and ">Introduction</a>" in printable
    for dutch in ("Naar de inhoud", "Kruimelpad", "Zoek in de databank", "Gegevens<",
                  "Inhoudsopgave", "Afdrukversie", "Laatst bijgewerkt"):
        for page in (project, home, search, printable):
            assert dutch not in page, dutch


def test_list_pages_count_in_the_collections_own_words(example_site: Path) -> None:
    build(example_site, BuildOptions(search=False))
    out = example_site / "build"
    assert '<h2 class="result-count">6 projecten</h2>' in (
        out / "projecten" / "index.html").read_text()
    assert '<h2 class="result-count">8 organisaties</h2>' in (
        out / "organisaties" / "index.html").read_text()
    assert '<h2 class="result-count">1 dossier</h2>' in (
        out / "dossiers" / "index.html").read_text()
    assert " records" not in (out / "thema" / "toegankelijkheid-jeugdvoorzieningen" /
                              "index.html").read_text()


def test_printable_dossier_holds_introduction_and_every_project_in_full(
    example_site: Path
) -> None:
    build(example_site, BuildOptions(search=False))
    out = example_site / "build"
    dossier_page = (out / DOSSIER / "index.html").read_text()
    assert f'<a href="../../{DOSSIER}afdrukken/">Afdrukversie van dit dossier' in dossier_page
    html = (out / DOSSIER / "afdrukken" / "index.html").read_text()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate ids"
    for anchor in re.findall(r'href="#([^"]+)"', html):
        assert anchor in ids, anchor
    titles = re.findall(r'<h2 id="kop-[^"]+">([^<]+)</h2>', html)
    assert len(titles) == 6 and "Tussen In" in titles
    contents = re.findall(r'<li><a href="#project-[^"]+">([^<]+)</a></li>', html)
    assert contents == titles
    assert html.count("<h1>") == 1
    # The projects' own '## Aanleiding' sections become h3 under the project's h2.
    assert re.search(r'<h3 id="tussen-in-aanleiding">Aanleiding</h3>', html)
    assert "Tussenpersonen leiden gezinnen naar professionele hulp." in html
    assert "De drempels zijn" in html  # the dossier's introduction
    assert '<meta name="robots" content="noindex">' in html
    assert "afdrukken" not in (out / "sitemap.xml").read_text()  # a copy, not a page to find


def test_nest_prefixes_ids_and_anchors_and_moves_headings_down() -> None:
    html = ('<h2 id="doel">Doel</h2><p>Zie<sup id="fnref:1"><a href="#fn:1">1</a></sup> '
            '<a href="../x/">x</a></p><li id="fn:1"><a href="#fnref:1">↩</a></li>')
    assert nest(html, "p-") == (
        '<h3 id="p-doel">Doel</h3><p>Zie<sup id="p-fnref:1"><a href="#p-fn:1">1</a></sup> '
        '<a href="../x/">x</a></p><li id="p-fn:1"><a href="#p-fnref:1">↩</a></li>')


def test_static_files_are_published_under_a_content_hash(example_site: Path) -> None:
    build(example_site, BuildOptions(search=False))
    out = example_site / "build"
    css = (THEME / "static" / "dossier.css").read_bytes()
    digest = hashlib.sha256(css).hexdigest()[:8]
    assert (out / "static" / f"dossier.{digest}.css").read_bytes() == css
    assert not (out / "static" / "dossier.css").exists()
    assert f'href="../../static/dossier.{digest}.css"' in (
        out / "projecten" / "tussen-in" / "index.html").read_text()
    assert f'<link rel="stylesheet" href="/databank/static/dossier.{digest}.css">' in (
        out / "404.html").read_text()
    assert hashed_name("img/logo.png", b"x") == (
        f"img/logo.{hashlib.sha256(b'x').hexdigest()[:8]}.png")


def test_a_changed_stylesheet_gets_a_new_name(example_site: Path) -> None:
    build(example_site, BuildOptions(search=False))
    before = sorted(p.name for p in (example_site / "build" / "static").glob("dossier.*.css"))
    own = example_site / "templates" / "static" / "dossier.css"
    own.parent.mkdir(parents=True)
    own.write_text((THEME / "static" / "dossier.css").read_text() + "\nbody { margin: 1px; }\n")
    build(example_site, BuildOptions(search=False))
    after = sorted(p.name for p in (example_site / "build" / "static").glob("dossier.*.css"))
    assert len(before) == len(after) == 1 and before != after


def test_minify_is_optional_and_keeps_text_and_preformatted_content(
    example_site: Path, tmp_path: Path
) -> None:
    page = example_site / "content" / "paginas" / "over.md"
    page.write_text(page.read_text() + "\n\n    code   met\n        ruimte\n")
    build(example_site, BuildOptions(search=False))
    plain = (example_site / "build" / "over" / "index.html").read_text()
    result = CliRunner().invoke(main, ["build", str(example_site), "--no-search", "--minify",
                                       "--out", str(tmp_path / "min")])
    assert result.exit_code == 0, result.output
    small = (tmp_path / "min" / "over" / "index.html").read_text()
    assert len(small) < len(plain) and "\n  " not in small.split("<pre>")[0]
    assert "code   met\n    ruimte" in small
    words = re.compile(r"\s+")
    assert words.sub(" ", small) == words.sub(" ", plain)
