"""Hostile content: attack strings in every field and body never become something that runs.

A site with every attack in every free-text place is built; every output file is parsed
(HTML, XML, JSON, CSV) and nothing in it may run or load from another host. Attack strings
in typed fields (web address, e-mail, date, term, reference...) are refused.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier.build import BuildOptions, build
from dossier.cli import main
from helpers import make_site
from hostile import ATTACKS, EVIL, MARKDOWN_ATTACKS, audit, make_hostile_site, yaml_string

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of the site full of attacks."""
    site = make_hostile_site(tmp_path_factory.mktemp("aanval"))
    result = build(site, BuildOptions(cache=False))
    assert result.warnings == []
    return site / "build"


def test_the_corpus_is_big_enough() -> None:
    assert len(ATTACKS) >= 30


def test_the_audit_finds_what_it_looks_for() -> None:
    """The audit is the test's eyes: on unsanitised HTML it must see every kind of threat."""
    pages = ['<a class="skip-link" href="#inhoud">x</a>' + attack for attack in ATTACKS]
    pages.append('<a class="skip-link" href="#inhoud">x</a><p style="x">y</p>')
    problems = "\n".join(problem for page in pages for problem in audit(page).problems)
    for expected in ("<script> element", "onerror=...>: an event handler", "javascript: URL",
                     "<iframe> element", "<p style=...>", "<object> element", "data: URL",
                     f"<img src='https://{EVIL}/pixel.gif'>: loads from outside",
                     f"<link href='https://{EVIL}/x.css'>: loads from outside",
                     "<base> element", "vbscript: URL",
                     "2 skip links"):
        assert expected in problems


def test_no_page_has_anything_that_could_run_or_load_from_outside(hostile: Path) -> None:
    pages = sorted(hostile.rglob("*.html"))
    assert len(pages) > 100
    found = [f"{page.relative_to(hostile)}: {problem}" for page in pages
             for problem in audit(page.read_text("utf-8")).problems]
    assert found == []


def test_every_page_sends_the_content_security_policy(hostile: Path) -> None:
    for page in hostile.rglob("*.html"):
        head = page.read_text("utf-8").split("<meta", 3)
        assert head[2].startswith(
            ' http-equiv="Content-Security-Policy" content="default-src '
            "'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self';")


class _Heading(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.h1, self._inside = "", False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._inside = self._inside or tag == "h1"

    def handle_endtag(self, tag: str) -> None:
        self._inside = self._inside and tag != "h1"

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.h1 += data


@pytest.mark.parametrize("i", range(len(ATTACKS)))
def test_a_title_is_shown_as_the_text_it_is(hostile: Path, i: int) -> None:
    page = (hostile / "projecten" / f"aanval-{i:02d}" / "index.html").read_text("utf-8")
    heading = _Heading()
    heading.feed(page)
    assert heading.h1 == ATTACKS[i]
    [block] = audit(page).ld_json
    assert json.loads(block)["name"] == ATTACKS[i]


def test_feed_and_sitemap_are_well_formed_and_hold_titles_as_text(hostile: Path) -> None:
    feed = ET.parse(hostile / "feed.xml").getroot()
    titles = {entry.findtext(f"{ATOM}title") for entry in feed.iter(f"{ATOM}entry")}
    assert set(ATTACKS) <= titles
    assert feed.findtext(f"{ATOM}title", "").startswith("Databank <script>")
    assert {element.tag.removeprefix(ATOM) for element in feed.iter()} <= {
        "feed", "title", "id", "link", "updated", "author", "name", "entry", "summary"}
    urls = ET.parse(hostile / "sitemap.xml").getroot()
    assert len(list(urls)) > 100


def test_open_data_holds_the_values_unchanged(hostile: Path) -> None:
    rows = json.loads((hostile / "data" / "projecten.json").read_text("utf-8"))
    assert set(ATTACKS) <= {row["titel"] for row in rows}
    table = csv.DictReader(io.StringIO((hostile / "data" / "projecten.csv")
                                       .read_text("utf-8-sig"), newline=""))
    assert set(ATTACKS) <= {row["titel"] for row in table}
    for file in hostile.rglob("*.json"):
        json.loads(file.read_text("utf-8"))


@pytest.mark.parametrize("attack", MARKDOWN_ATTACKS)
@pytest.mark.parametrize("where", ["body", "samenvatting"])
def test_a_markdown_link_attack_is_a_diagnostic(base_site: Path, attack: str,
                                                 where: str) -> None:
    record = base_site / "content" / "projecten" / "project-drie.md"
    text = record.read_text()
    if where == "body":
        text += f"\n{attack}\n"
    else:
        text = text.replace("samenvatting: Het derde gegenereerde project.",
                            f"samenvatting: '{attack}'")
    record.write_text(text)
    result = CliRunner().invoke(main, ["build", str(base_site)])
    assert result.exit_code == 1
    [line] = [x for x in result.stderr.splitlines() if ": error: " in x]
    assert line.startswith("content/projecten/project-drie.md:")
    assert ("is not allowed" in line) or ("is on another website" in line)
    assert not (base_site / "build").exists()


# Typed fields, and where the test puts them: (collection, YAML line with {value}).
TYPED = {
    "url": ("organisaties", "website: {value}"),
    "email": ("organisaties", "email: {value}"),
    "phone": ("organisaties", "telefoon: {value}"),
    "year": ("organisaties", "opgericht: {value}"),
    "enum": ("organisaties", "provincie: {value}"),
    "date": ("projecten", "bijgewerkt: {value}"),
    "month": ("projecten", "looptijd: {{start: {value}}}"),
    "ref": ("projecten", "partners: [{{organisatie: {value}}}]"),
}


def test_attacks_in_typed_fields_are_refused(tmp_path: Path) -> None:
    site = make_site("_base", tmp_path)
    base = {"organisaties": "naam: Aanval\ntype: welzijn\n",
            "projecten": "titel: Aanval\nsamenvatting: x\nuitvoerder: org-a\n"}
    for kind, (collection, line) in TYPED.items():
        for i, attack in enumerate(ATTACKS):
            value = yaml_string(attack)
            (site / "content" / collection / f"{kind}-{i:02d}.yml").write_text(
                base[collection] + line.format(value=value) + "\n")
    result = CliRunner().invoke(main, ["build", str(site)])
    assert result.exit_code == 1
    errors = [x for x in result.stderr.splitlines() if ": error: " in x]
    for kind, (collection, line) in TYPED.items():
        field = line.split(":")[0] + (".start" if kind == "month" else "")
        field = "partners.organisatie" if kind == "ref" else field
        for i in range(len(ATTACKS)):
            wanted = f"content/{collection}/{kind}-{i:02d}.yml:"
            mine = [x for x in errors if x.startswith(wanted)]
            assert len(mine) == 1, (kind, i, mine)
            assert f": error: {field}: " in mine[0]
    assert not (site / "build").exists()
