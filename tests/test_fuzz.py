"""Property-based tests: whatever a record holds, the build says what is wrong or makes a
safe site. Never a traceback, never markup that came from a field.

Seeded (derandomize) and bounded, so CI runs the same examples every time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dossier.build import BuildOptions, build, load_site
from dossier.core.diagnostics import Diagnostic, DossierError
from dossier.outputs.feeds import discovery_files
from dossier.outputs.opendata import export_files
from dossier.plan.pages import plan
from dossier.render.linkcheck import collect
from dossier.render.renderer import Renderer, load_messages
from dossier.render.templating import make_environment
from helpers import make_site
from hostile import ATTACKS, MARKDOWN_ATTACKS, audit

FUZZ = settings(derandomize=True, deadline=None, database=None, max_examples=60,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
ENV = make_environment(None)  # compiling the templates once keeps each example fast
MESSAGES = load_messages("nl")
SECTIONS = "".join(f"## {s}\n\nTekst.\n\n"
                   for s in ("Aanleiding", "Doel", "Aanpak", "Samenwerking", "Resultaten"))

# --- what a record may hold ------------------------------------------------------------

# Text with the characters that matter to YAML, Markdown, HTML, JSON and XML, plus any.
special = st.sampled_from([*"<>&\"'`=/\\:;#[]{}()*_!|~-+.%@$^?\t\n\r ",
                           "\u2028", "\u00a0", "\ufeff", "\x00", "\x1b", "\ud800", "é", "ß",
                           "\u202e", "🙂"])
any_text = st.text(alphabet=st.one_of(special, st.characters()), min_size=1, max_size=60)
# Mostly text the loader accepts (so it reaches the pages), sometimes characters it refuses.
clean_text = any_text.map(lambda t: "".join(
    c for c in t if c in "\t\n" or not (c < " " or "\ud800" <= c <= "\udfff")) or "x")
texts = st.one_of(clean_text, clean_text, clean_text, any_text,
                  st.sampled_from(ATTACKS + MARKDOWN_ATTACKS))
scalars = st.one_of(texts, st.integers(-10**6, 10**25), st.floats(), st.booleans(), st.none(),
                    st.sampled_from(["2012-06-14", "2012-13", "org-a", "jeugdzorg", "utrecht",
                                     "https://example.org/", "a@b.nl", "0201234567", "2001"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(["organisatie", "rol", "titel", "url",
                                                         "start", "eind", "naam", "x"]),
                                        inner, max_size=3), max_leaves=12)
def _terms(*keys: str) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(keys), max_size=3)


# Per field of a project: mostly values of the right kind (so the later stages see them),
# sometimes any value at all.
PLAUSIBLE: dict[str, st.SearchStrategy[object]] = {
    "titel": texts, "samenvatting": texts, "plaats": texts, "programma": texts,
    "dossiers": _terms("dossier-een", "dossier-twee"),
    "thema": _terms("jeugdzorg", "gezondheid", "veiligheid"),
    "doelgroep": _terms("ouders", "kinderen"), "leeftijd": _terms("0-4", "-9m-0"),
    "herkomst": _terms("turks", "divers"),
    "provincie": st.sampled_from(["utrecht", "zeeland"]),
    "status": st.sampled_from(["lopend", "afgerond"]),
    "uitvoerder": st.sampled_from(["org-a", "org-b"]),
    "partners": st.lists(st.fixed_dictionaries(
        {"organisatie": st.sampled_from(["org-a", "org-b"])},
        optional={"rol": st.sampled_from(["partner", "financier"])}), max_size=2),
    "looptijd": st.fixed_dictionaries({}, optional={"start": st.sampled_from(["2009-01"]),
                                                    "eind": st.sampled_from(["2011-12"])}),
    "contact": st.fixed_dictionaries({}, optional={
        "naam": texts, "functie": texts, "organisatie": st.just("org-b"),
        "email": st.sampled_from(["a@b.nl"]), "telefoon": st.sampled_from(["0201234567"])}),
    "bronnen": st.lists(st.fixed_dictionaries(
        {"titel": texts}, optional={"url": st.sampled_from(["https://example.org/x?a=1&b=2"])}),
        max_size=2),
    "bijgewerkt": st.sampled_from(["2012-06-14", "2013-01-31"]),
    "concept": st.booleans(),
}
front_matter = st.fixed_dictionaries(
    {"titel": texts, "samenvatting": texts, "uitvoerder": PLAUSIBLE["uitvoerder"]},
    optional={**{name: st.one_of(*[strategy] * 8, values)
                 for name, strategy in PLAUSIBLE.items()
                 if name not in ("titel", "samenvatting", "uitvoerder")}, "onbekend": values})

# Raw YAML-ish text: what a careless or hostile editor could type between the '---' lines.
yaml_text = st.lists(st.sampled_from([
    *":-[]{}&*!|>'\"#%@`, \t\n?", "titel", "thema", "a", "1", "\u00e9", "<<", "!!python/object",
    "&a", "*a", "!!binary", "\\u0000", "\\ud800"]), max_size=60).map("".join)

# Markdown built from the pieces that stress a converter and a sanitiser (NUL bytes and
# surrogates are left out: the loader refuses the whole file for them, tested above).
md_texts = st.one_of(clean_text, st.sampled_from(ATTACKS + MARKDOWN_ATTACKS))
md_piece = st.one_of(
    md_texts,
    st.sampled_from(["\n", "\n\n", "# ", "## ", "### ", "> ", "- ", "1. ", "    ", "* ", "**",
                     "_", "`", "```\n", "---\n", "| a | b |\n|:-|-:|\n| 1 | 2 |\n", "[^1]",
                     "[^1]: voet\n", "{: .md-x #y }", "&amp;", "&#0;", "&#x110000;", "<!--",
                     "-->", "<div>", "</div>", "<p", "<a href='", "'>", "<![CDATA[", "\\"]),
    st.builds(lambda text, href: f"[{text}]({href})", texts,
              st.sampled_from(["../organisaties/org-a.md", "x.md", "#doel", "", "..",
                               "../../../etc/passwd", "C:\\x", "javascript:alert(1)",
                               "https://example.org/a b", "mailto:", "%zz", "../a%00.md"])),
    st.builds(lambda tag, attr, value: f"<{tag} {attr}=\"{value}\">", st.sampled_from(
        ["a", "img", "div", "span", "td", "svg", "math", "x", "script", "style", "iframe"]),
        st.sampled_from(["href", "src", "class", "style", "onclick", "id", "title"]), texts),
)
bodies = st.lists(md_piece, max_size=25).map("".join)


# --- running the stages ----------------------------------------------------------------

def outputs(site_dir: Path) -> Iterator[tuple[str, str]]:
    """Load, validate, link and render the fuzzed record's pages, its cards and all exports
    (what a build does, without writing); raises DossierError for bad input."""
    problems: list[Diagnostic] = []
    site = load_site(site_dir, BuildOptions(), problems)
    renderer = Renderer(site, ENV, MESSAGES)
    pages = plan(site)
    for page in pages:
        if page.kind != "record" or (page.record is not None and page.record.slug == "fuzz"):
            rendered = renderer.render(page)
            collect(rendered.html)
            yield page.url, rendered.html
    for rel, data in [*export_files(site), *discovery_files(site, pages)]:
        yield rel, data.decode("utf-8-sig")


def write_record(site: Path, text: str) -> None:
    (site / "content" / "projecten" / "fuzz.md").write_text(
        text, encoding="utf-8", errors="surrogatepass")


def only_diagnostics(site: Path) -> list[tuple[str, str]]:
    """The outputs, or [] when the input was refused with diagnostics (never a traceback)."""
    try:
        found = list(outputs(site))
    except DossierError as exc:
        assert exc.diagnostics, "a DossierError must say what is wrong"
        for d in exc.diagnostics:
            str(d).encode("utf-8")  # printable, whatever the input
        event("refused with diagnostics")
        return []
    event("built")
    return found


@pytest.fixture(scope="module")
def fuzz_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = make_site("_base", tmp_path_factory.mktemp("fuzz"))
    config = site / "content" / "site.yml"
    config.write_text(config.read_text().replace("per_pagina: 2", "per_pagina: 50"))
    return site


# --- the properties ----------------------------------------------------------------------

@settings(FUZZ, max_examples=100)  # most examples stop at a first error: give it more
@given(data=front_matter)
def test_any_front_matter_gives_diagnostics_or_safe_pages(fuzz_site: Path,
                                                          data: dict[str, object]) -> None:
    front = yaml.safe_dump(data, allow_unicode=True)
    write_record(fuzz_site, f"---\n{front}---\n{SECTIONS}")
    for rel, text in only_diagnostics(fuzz_site):
        if rel.endswith((".html", "/")) or rel == "":
            assert audit(text).problems == [], rel


@FUZZ
@given(text=yaml_text)
def test_any_yaml_text_gives_diagnostics_or_safe_pages(fuzz_site: Path, text: str) -> None:
    write_record(fuzz_site, f"---\ntitel: x\nsamenvatting: y\nuitvoerder: org-a\n{text}\n---\n")
    for rel, html in only_diagnostics(fuzz_site):
        if rel.endswith("/") or rel == "":
            assert audit(html).problems == [], rel


@FUZZ
@given(body=bodies, summary=bodies)
def test_any_markdown_gives_diagnostics_or_safe_pages(fuzz_site: Path, body: str,
                                                      summary: str) -> None:
    front = {"titel": "Fuzz", "samenvatting": summary or "x", "uitvoerder": "org-a"}
    write_record(fuzz_site, "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n"
                 + SECTIONS + body)
    for rel, html in only_diagnostics(fuzz_site):
        if rel.endswith("/") or rel == "":
            assert audit(html).problems == [], rel


@FUZZ
@given(title=texts, place=texts, name=texts)
def test_text_in_any_field_is_shown_as_text(fuzz_site: Path, title: str, place: str,
                                            name: str) -> None:
    """The record page shows the title exactly as typed (so it was escaped, not parsed),
    the JSON-LD and the open data hold it as data, and nothing on any page can run."""
    data = {"titel": title, "samenvatting": "Fuzz.", "uitvoerder": "org-a", "plaats": place,
            "contact": {"naam": name}, "bijgewerkt": "2013-01-01"}
    front = yaml.safe_dump(data, allow_unicode=True)
    write_record(fuzz_site, "---\n" + front + "---\n" + SECTIONS)
    found = dict(only_diagnostics(fuzz_site))
    if not found:
        return
    title = yaml.safe_load(front)["titel"]  # what YAML makes of it, e.g. of trailing spaces
    page = found["projecten/fuzz/"]
    assert audit(page).problems == []
    assert f"<h1>{_escaped(title)}</h1>" in page
    [block] = audit(page).ld_json
    assert json.loads(block)["name"] == title
    assert json.loads(found["projecten/fuzz/index.json"])["titel"] == title
    for rel, text in found.items():
        if rel.endswith("/") or rel == "":
            assert audit(text).problems == [], rel


def _escaped(text: str) -> str:
    """How Jinja's autoescape writes text."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


@settings(FUZZ, max_examples=8)
@given(body=bodies, title=texts)
def test_the_whole_build_gives_diagnostics_or_a_site(tmp_path_factory: pytest.TempPathFactory,
                                                     body: str, title: str) -> None:
    site = make_site("_base", tmp_path_factory.mktemp("heel"))
    write_record(site, "---\n" + yaml.safe_dump({"titel": title, "samenvatting": "x",
                                                 "uitvoerder": "org-a"}, allow_unicode=True)
                 + "---\n" + SECTIONS + body)
    try:
        build(site, BuildOptions(jobs=1))
    except DossierError as exc:
        assert exc.diagnostics
        assert not (site / "build").exists()
    else:
        assert (site / "build" / "projecten" / "fuzz" / "index.html").is_file()
