"""Markdown bodies become safe HTML with links to records rewritten."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown.inlinepatterns import LinkInlineProcessor

from dossier.content.markup import BracketEnds, LinkProblem, MarkdownRenderer, sanitize


@pytest.fixture(scope="module")
def renderer() -> MarkdownRenderer:
    return MarkdownRenderer()


def html(renderer: MarkdownRenderer, text: str) -> str:
    return renderer.convert(text).html


# --- Markdown features ------------------------------------------------------------------

def test_table(renderer: MarkdownRenderer) -> None:
    out = html(renderer, "| Jaar | Deelnemers |\n|---|---:|\n| 2010 | 42 |\n")
    assert "<table>" in out
    assert "<th>Jaar</th>" in out
    assert '<td class="align-right">42</td>' in out
    assert "style" not in out  # the Content-Security-Policy allows no inline style


def test_footnote_links_to_its_note(renderer: MarkdownRenderer) -> None:
    out = html(renderer, "Tekst[^1].\n\n[^1]: Bron: jaarverslag.\n")
    assert '<a class="footnote-ref" href="#fn:1">1</a>' in out
    assert '<li id="fn:1">' in out
    assert 'href="#fnref:1"' in out
    assert 'title="Terug naar tekst 1"' in out


def test_attr_list_sets_id_and_an_md_class(renderer: MarkdownRenderer) -> None:
    out = html(renderer, "## Aanpak {#werkwijze .md-uitgelicht}\n")
    assert out == '<h2 class="md-uitgelicht" id="werkwijze">Aanpak</h2>'


@pytest.mark.parametrize(
    "text",
    ["## Aanpak {: .skip-link .md-ok }\n",
     '<div class="skip-link md-ok facts-panel">x</div>\n'],
)
def test_classes_of_the_theme_are_dropped_from_content(
    renderer: MarkdownRenderer, text: str
) -> None:
    out = html(renderer, text)
    assert 'class="md-ok"' in out
    assert "skip-link" not in out
    assert "facts-panel" not in out


def test_a_class_that_is_only_the_prefix_is_dropped(renderer: MarkdownRenderer) -> None:
    assert html(renderer, "<span class=\"md-\">x</span>\n") == "<p><span>x</span></p>"


def test_headings_get_slug_ids(renderer: MarkdownRenderer) -> None:
    out = html(renderer, "## Doel & aanpak\n\n### Één stap\n")
    assert '<h2 id="doel-aanpak">Doel &amp; aanpak</h2>' in out
    assert '<h3 id="een-stap">Één stap</h3>' in out


def test_heading_without_slug_letters_gets_a_fallback_id(renderer: MarkdownRenderer) -> None:
    assert html(renderer, "## ???\n") == '<h2 id="sectie">???</h2>'


def test_toc_tokens_for_level_two_headings(renderer: MarkdownRenderer) -> None:
    rendered = renderer.convert("## Aanleiding\n\nTekst.\n\n### Cijfers\n\n## Doel\n\n#### Diep\n")
    assert [(t["level"], t["id"], t["name"]) for t in rendered.toc] == [
        (2, "aanleiding", "Aanleiding"), (2, "doel", "Doel")]
    assert [c["id"] for c in rendered.toc[0]["children"]] == ["cijfers"]
    assert rendered.toc[1]["children"] == []


def test_toc_is_reset_between_texts(renderer: MarkdownRenderer) -> None:
    renderer.convert("## Aanleiding\n")
    assert renderer.convert("Geen koppen.\n").toc == []


def test_repeated_heading_ids_are_unique(renderer: MarkdownRenderer) -> None:
    out = html(renderer, "## Doel\n\n## Doel\n")
    assert 'id="doel"' in out
    assert 'id="doel_1"' in out


# --- sanitising raw HTML ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("<script>alert(1)</script>\n", "alert"),
        ("<style>body { display: none }</style>\n", "display"),
        ("<iframe src=\"https://example.org/\"></iframe>\n", "iframe"),
        ("<img src=\"x.png\" onerror=\"alert(1)\">\n", "onerror"),
        ("<p onclick=\"alert(1)\">x</p>\n", "onclick"),
        ("<object data=\"x.swf\"></object><embed src=\"x.swf\">\n", "swf"),
        ("<form action=\"https://example.org/\"><input name=\"q\"></form>\n", "form"),
        ("<p style=\"position: fixed\">x</p>\n", "position"),
    ],
)
def test_dangerous_raw_html_is_removed(
    renderer: MarkdownRenderer, text: str, forbidden: str
) -> None:
    assert forbidden not in html(renderer, text)


def test_script_inside_a_paragraph_is_removed_with_its_content(
    renderer: MarkdownRenderer,
) -> None:
    assert html(renderer, "Voor <script>alert(1)</script> na\n") == "<p>Voor  na</p>"


@pytest.mark.parametrize(
    "text",
    [
        "[klik](javascript:alert(1))",
        "[klik](JaVaScRiPt:alert(1))",
        '<a href="javascript:alert(1)">klik</a>',
        "[klik](vbscript:msgbox(1))",
        "[klik](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_dangerous_link_loses_its_href_but_keeps_its_text(
    renderer: MarkdownRenderer, text: str
) -> None:
    assert html(renderer, text) == "<p><a>klik</a></p>"


def test_data_url_image_loses_its_src(renderer: MarkdownRenderer) -> None:
    assert html(renderer, "![logo](data:image/png;base64,iVBORw0KGgo=)") == (
        '<p><img alt="logo"></p>'
    )


def test_ordinary_links_and_images_are_kept(renderer: MarkdownRenderer) -> None:
    out = html(renderer, "[site](https://example.org/) ![logo](logo.png) [mail](mailto:a@b.nl)")
    assert renderer.convert("![logo](logo.png)").problems == []
    assert '<a href="https://example.org/">site</a>' in out
    assert '<img alt="logo" src="logo.png">' in out
    assert 'href="mailto:a@b.nl"' in out


def test_harmless_raw_html_is_kept(renderer: MarkdownRenderer) -> None:
    out = html(renderer, "<details><summary>Meer</summary>Tekst</details>\n")
    assert out == "<details><summary>Meer</summary>Tekst</details>"


def test_sanitize_keeps_no_style_at_all() -> None:
    cell = '<table><tr><td style="text-align:left; color:red">x</td></tr></table>'
    assert "<td>x</td>" in sanitize(cell)


def test_raw_html_image_from_another_website_loses_its_src() -> None:
    assert sanitize('<img src="https://example.org/pixel.gif" alt="x">') == '<img alt="x">'
    assert sanitize('<img src="//example.org/pixel.gif">') == "<img>"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[klik](javascript:alert(1))", "is not allowed"),
        ("[klik](data:text/html;base64,PHNjcmlwdD4=)", "is not allowed"),
        ("[klik](//example.org/x)", "is not allowed"),
        ("[klik](file:///etc/passwd)", "is not allowed"),
        ("![pixel](https://example.org/pixel.gif)", "on another website"),
        ("![logo](data:image/png;base64,iVBORw0KGgo=)", "on another website"),
        ("[klik](C:/Users/x/project.md)", "Windows path"),
        ("[klik](c:\\x.md)", "Windows path"),
        ("[klik](..\\organisaties\\al-amal.md)", "Windows path"),
    ],
)
def test_links_that_leave_the_site_unsafely_are_problems(
    renderer: MarkdownRenderer, text: str, message: str
) -> None:
    rendered = renderer.convert(text)
    [(_, found)] = rendered.problems
    assert message in found
    assert "href" not in rendered.html and "src" not in rendered.html


@pytest.mark.parametrize(
    "text", ["[bel](tel:+31201234567)", "[mail](mailto:a@b.nl)", "[site](https://example.org/)"]
)
def test_ordinary_external_links_are_no_problem(renderer: MarkdownRenderer, text: str) -> None:
    rendered = renderer.convert(text)
    assert rendered.problems == []
    assert "href=" in rendered.html


# --- link rewriting ---------------------------------------------------------------------

def test_resolver_is_called_for_relative_links_and_its_result_is_used(
    renderer: MarkdownRenderer,
) -> None:
    seen: list[str] = []

    def resolver(href: str) -> str:
        seen.append(href)
        return {"../organisaties/al-amal.md": "../../organisaties/al-amal/",
                "foto.png": "../../static/foto.png"}.get(href, href)

    rendered = renderer.convert(
        "Zie [Al Amal](../organisaties/al-amal.md) en ![foto](foto.png).", resolver)
    assert seen == ["../organisaties/al-amal.md", "foto.png"]
    assert '<a href="../../organisaties/al-amal/">Al Amal</a>' in rendered.html
    assert 'src="../../static/foto.png"' in rendered.html
    assert rendered.problems == []


def test_resolver_sees_fragment_links(renderer: MarkdownRenderer) -> None:
    rendered = renderer.convert("[naar doel](../x.md#doel)", lambda href: "../x/#doel")
    assert rendered.html == '<p><a href="../x/#doel">naar doel</a></p>'


def test_link_problem_is_recorded_and_href_removed(renderer: MarkdownRenderer) -> None:
    def resolver(href: str) -> str:
        if href.endswith(".md"):
            raise LinkProblem(f"link '{href}' does not lead to a published record")
        return href

    rendered = renderer.convert(
        "[weg](../organisaties/weg.md) en [site](https://example.org/)", resolver)
    assert rendered.problems == [
        ("../organisaties/weg.md", "link '../organisaties/weg.md' does not lead to a published "
                                   "record")]
    assert rendered.html == '<p><a>weg</a> en <a href="https://example.org/">site</a></p>'


def test_problems_are_reset_between_texts(renderer: MarkdownRenderer) -> None:
    def failing(href: str) -> str:
        raise LinkProblem("kapot")

    assert len(renderer.convert("[a](a.md)", failing).problems) == 1
    assert renderer.convert("[a](a.md)").problems == []


def test_default_resolver_leaves_links_alone(renderer: MarkdownRenderer) -> None:
    assert html(renderer, "[a](../a/)") == '<p><a href="../a/">a</a></p>'


# --- long texts -------------------------------------------------------------------------

@pytest.mark.parametrize("offset", range(1015, 1030))
def test_long_text_is_sanitised_unchanged_whatever_the_entity_boundary(offset: int) -> None:
    text = "a" * offset + "&eacute;&amp;&#233;&nbsp;" + "b & c " * 500
    expected = "a" * offset + "é&amp;é&nbsp;" + "b &amp; c " * 500
    assert sanitize(f"<p>{text}</p>") == f"<p>{expected}</p>"


def test_long_text_in_a_raw_html_attribute_is_left_whole() -> None:
    title = "x" * 3000
    assert sanitize(f'<abbr title="{title}">y</abbr>') == f'<abbr title="{title}">y</abbr>'


# --- finding closing brackets -------------------------------------------------------------

_BRACKET_TEXT = st.text(alphabet="[]()!ab \\`\n", max_size=60)
# Python-Markdown before 3.11 scans brackets another way, and nothing is replaced there.
_SCANS_EVERY_CHARACTER = pytest.mark.skipif(
    not hasattr(LinkInlineProcessor, "_findBracketEnds"),
    reason="this Python-Markdown has no _findBracketEnds to replace")


@_SCANS_EVERY_CHARACTER
@given(_BRACKET_TEXT)
@settings(max_examples=400, deadline=None)
def test_closing_brackets_are_where_python_markdown_finds_them(text: str) -> None:
    markdowns = LinkInlineProcessor._findBracketEnds(text)
    ours = BracketEnds(text)
    assert [ours[i] for i in range(len(text) + 1)] == markdowns


@_SCANS_EVERY_CHARACTER
@given(st.text(alphabet="[]()!ab <>'\"*_\n", max_size=80))
@settings(max_examples=300, deadline=None)
def test_links_and_images_come_out_as_python_markdown_makes_them(text: str) -> None:
    fast, plain = MarkdownRenderer(), MarkdownRenderer()
    for pattern in plain.md.inlinePatterns:
        pattern.__dict__.pop("_findBracketEnds", None)  # Python-Markdown's own scan
    assert fast.convert(text).html == plain.convert(text).html


@_SCANS_EVERY_CHARACTER
def test_the_renderer_finds_brackets_without_stepping_through_every_character() -> None:
    renderer = MarkdownRenderer()
    links = [p for p in renderer.md.inlinePatterns if isinstance(p, LinkInlineProcessor)]
    assert links and all(p._findBracketEnds is BracketEnds for p in links)
