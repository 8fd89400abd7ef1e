"""A broken link is reported where the editor wrote it: file, line, column and field.

Records are generated with one broken link of every kind (inline, reference-style,
autolink, raw HTML `a` and `img`) in every text-bearing place (the body, a text field in
front matter written as a literal block, a folded block or a quoted string, and a text
field of a `.yml` record), after a random number of lines and words.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier.build import check
from dossier.core.diagnostics import DossierError
from helpers import make_site

WORDS = ["tekst", "over", "ouders", "en", "de", "wijk", "samen", "met", "scholen", "hulp"]
KINDS = ["inline", "reference", "autolink", "raw-a", "raw-img"]
PLACES = ["body", "literal-block", "folded-block", "quoted", "yml-record"]


@dataclass(frozen=True)
class Planted:
    """Where the broken link was put, and the file around it."""

    path: str
    line: int
    column: int
    field: str
    text: str


def link(kind: str, n: int, quote: str = '"') -> tuple[str, str]:
    """Markdown (or raw HTML) with one broken link, and the link target as written."""
    if kind == "inline":
        href = f"../organisaties/bestaat-niet-{n}.md"
        return f"[een organisatie]({href})", href
    if kind == "reference":
        href = f"../organisaties/ook-niet-{n}.md"
        return f"[zie hier][r{n}]\n\n[r{n}]: {href}", href
    if kind == "autolink":
        href = f"ftp://voorbeeld.org/{n}"
        return f"<{href}>", href
    if kind == "raw-a":
        href = f"../organisaties/weg-{n}.md"
        return f"<a href={quote}{href}{quote}>weg</a>", href
    href = f"ontbreekt-{n}.png"
    return f"<img src={quote}{href}{quote} alt={quote}Een foto{quote}>", href


def markdown_lines(before: list[str], prefix: str, snippet: str) -> list[str]:
    """Lines of Markdown: some paragraphs, then the snippet after some words."""
    lines: list[str] = []
    for words in before:
        lines += [words, ""]
    return lines + (prefix + snippet).split("\n")


def planted_record(kind: str, place: str, n: int, before: list[str], prefix: str) -> Planted:
    """A record file's text with the broken link, and where it is."""
    quote = "'" if place == "quoted" else '"'
    snippet, href = link(kind, n, quote)
    if kind == "reference" and place == "quoted":
        snippet = snippet.replace("\n\n", "\n\n")
    sections = "\n".join(f"## {s}\n\nTekst.\n" for s in
                         ("Aanleiding", "Doel", "Aanpak", "Samenwerking", "Resultaten"))
    if place == "yml-record":
        body = markdown_lines(before, prefix, snippet)
        head = ["titel: Dossier twee (gegenereerd)", "samenvatting: |"]
        text = "\n".join([*head, *("  " + line if line else "" for line in body)]) + "\n"
        return _find(Planted("content/dossiers/dossier-twee.yml", 0, 0, "samenvatting", text),
                     href)
    front = ["---", "titel: Project vier (gegenereerd)", "uitvoerder: org-b",
             "thema: [jeugdzorg]"]
    if place == "body":
        body = markdown_lines(before, prefix, snippet)
        text = "\n".join([*front, "samenvatting: Gegenereerd.", "---", *body, "", sections])
        return _find(Planted("content/projecten/project-vier.md", 0, 0, "body", text), href)
    value = markdown_lines(before, prefix, snippet)
    if place == "quoted":
        escaped = [line.replace("\\", "\\\\").replace('"', '\\"') for line in value]
        # In a double-quoted scalar an empty line is a line break; the others fold.
        field = ['samenvatting: "' + escaped[0], *("  " + line if line else "" for line in
                                                  escaped[1:])]
        field[-1] += '"'
    else:
        indicator = "|" if place == "literal-block" else ">"
        field = [f"samenvatting: {indicator}", *("  " + line if line else "" for line in value)]
    text = "\n".join([*front, *field, "---", sections])
    return _find(Planted("content/projecten/project-vier.md", 0, 0, "samenvatting", text), href)


def _find(planted: Planted, href: str) -> Planted:
    """The line and column of `href` in the file (it occurs once)."""
    text = planted.text
    assert text.count(href) == 1, text
    at = text.index(href)
    line = text.count("\n", 0, at) + 1
    return Planted(planted.path, line, at - (text.rfind("\n", 0, at) + 1) + 1, planted.field,
                   text)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = make_site("_base", tmp_path_factory.mktemp("positions"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


sentences = st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join),
                     max_size=5)
prefixes = st.lists(st.sampled_from(WORDS), max_size=6).map(
    lambda words: " ".join(words) + " " if words else "")


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(KINDS), place=st.sampled_from(PLACES), n=st.integers(1, 999),
       before=sentences, prefix=prefixes)
def test_a_broken_link_is_reported_where_it_was_written(
        site: Path, kind: str, place: str, n: int, before: list[str], prefix: str) -> None:
    planted = planted_record(kind, place, n, before, prefix)
    file = site / planted.path
    file.write_text(planted.text, encoding="utf-8")
    try:
        with pytest.raises(DossierError) as failed:
            check(site)
    finally:
        file.unlink()
    errors = [d for d in failed.value.diagnostics if d.is_error]
    assert [(d.path, d.line, d.column, d.field) for d in errors] == [
        (planted.path, planted.line, planted.column, planted.field)], planted.text
