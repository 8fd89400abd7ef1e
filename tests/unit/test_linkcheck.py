"""Link check: every internal link in the output leads to a file, and #anchors to an id."""

from __future__ import annotations

import pytest

from dossier.render.linkcheck import PageLinks, check_links, collect

FILES = {
    "index.html",
    "404.html",
    "projecten/index.html",
    "projecten/tussen-in/index.html",
    "organisaties/al-amal/index.html",
    "static/dossier.css",
    "static/logo.png",
}


def messages(pages: dict[str, str], prefix: str = "/") -> list[str]:
    """`page: message` for each broken link, from pages given as HTML."""
    found = {path: collect(html) for path, html in pages.items()}
    for path in FILES:
        found.setdefault(path, PageLinks())
    return [f"{d.path}: {d.message}" for d in check_links(found, FILES, prefix)]


# --- collect ----------------------------------------------------------------------------

def test_collect_finds_href_src_and_srcset() -> None:
    found = collect(
        '<link rel="stylesheet" href="../static/dossier.css">'
        '<a href="../organisaties/al-amal/">Al Amal</a>'
        '<img src="logo.png" srcset="logo-1x.png 1x, logo-2x.png 2x">'
        '<form action="zoeken/"></form>'
    )
    assert found.links == [
        "../static/dossier.css", "../organisaties/al-amal/", "logo.png", "logo-1x.png",
        "logo-2x.png", "zoeken/"]


def test_collect_finds_ids() -> None:
    found = collect('<h2 id="aanpak">Aanpak</h2><li id="fn:1"></li><a name="oud"></a>')
    assert found.ids == {"aanpak", "fn:1"}


def test_collect_skips_the_canonical_link() -> None:
    found = collect('<link rel="canonical" href="https://example.nl/x/">')
    assert found.links == []


@pytest.mark.parametrize(
    "html",
    ["<a href='weg/' id='doel'>x</a>", "<a href=weg/ id=doel>x</a>",
     '<A HREF="weg/" ID="doel">x</A>'],
)
def test_collect_finds_links_and_ids_however_attributes_are_written(html: str) -> None:
    found = collect(html)
    assert (found.links, found.ids) == (["weg/"], {"doel"})


def test_collect_ignores_links_in_html_comments() -> None:
    assert collect('<!-- <a href="oud/">oud menu</a> --><a href="nieuw/">x</a>').links == [
        "nieuw/"]


def test_collect_decodes_entities_in_links() -> None:
    assert collect('<a href="zoeken/?q=a&amp;b=c">x</a>').links == ["zoeken/?q=a&b=c"]


# --- check_links ------------------------------------------------------------------------

def test_good_relative_links_pass() -> None:
    assert messages({
        "projecten/tussen-in/index.html":
            '<a href="../../">home</a><a href="../">projecten</a>'
            '<a href="../../organisaties/al-amal/">org</a>'
            '<link href="../../static/dossier.css">',
    }) == []


def test_dot_dot_link_to_a_folder_means_its_index_html() -> None:
    assert messages({"organisaties/al-amal/index.html": '<a href="../../projecten/">p</a>'}) == []


def test_link_to_index_html_itself_is_accepted() -> None:
    assert messages({"projecten/tussen-in/index.html": '<a href="../../index.html">h</a>'}) == []


def test_missing_file_is_reported_naming_page_and_link() -> None:
    assert messages({"index.html": '<a href="projecten/weg/">weg</a>'}) == [
        "index.html: broken link 'projecten/weg/': no file projecten/weg/index.html"]


def test_missing_static_file_is_reported() -> None:
    [message] = messages({"projecten/index.html": '<img src="../static/foto.jpg">'})
    assert message.startswith("projecten/index.html: broken link '../static/foto.jpg': no file")


def test_missing_anchor_on_another_page_is_reported() -> None:
    pages = {
        "projecten/tussen-in/index.html": '<h2 id="aanpak">Aanpak</h2>',
        "index.html": '<a href="projecten/tussen-in/#aanpak">ok</a>'
                      '<a href="projecten/tussen-in/#resultaten">weg</a>',
    }
    assert messages(pages) == [
        "index.html: broken link 'projecten/tussen-in/#resultaten': "
        "projecten/tussen-in/index.html has no id 'resultaten'"]


def test_missing_anchor_on_the_same_page_is_reported() -> None:
    pages = {"projecten/index.html": '<h2 id="doel">Doel</h2><a href="#doel">ok</a>'
                                     '<a href="#aanpak">weg</a>'}
    assert messages(pages) == [
        "projecten/index.html: broken link '#aanpak': projecten/index.html has no id 'aanpak'"]


def test_link_leaving_the_site_is_reported() -> None:
    assert messages({"projecten/index.html": '<a href="../../elders/">x</a>'}) == [
        "projecten/index.html: link '../../elders/' leads outside the site"]


def test_external_links_are_not_checked() -> None:
    assert messages({"index.html":
                     '<a href="https://example.org/weg/">x</a><a href="mailto:a@b.nl">m</a>'
                     '<a href="//cdn.example.org/x.js">c</a><img src="data:image/png;base64,AA">'
                     }) == []


def test_absolute_links_under_the_prefix_are_checked_from_the_root() -> None:
    page = ('<a href="/databank/">home</a><link href="/databank/static/dossier.css">'
            '<a href="/databank/projecten/tussen-in/">p</a>'
            '<a href="/databank/projecten/weg/">x</a>')
    assert messages({"404.html": page}, prefix="/databank/") == [
        "404.html: broken link '/databank/projecten/weg/': no file projecten/weg/index.html"]


def test_absolute_link_outside_the_prefix_is_reported() -> None:
    assert messages({"404.html": '<a href="/andere-site/">x</a>'}, prefix="/databank/") == [
        "404.html: link '/andere-site/' is outside the site's path /databank/"]


def test_absolute_links_with_root_prefix() -> None:
    assert messages({"404.html": '<a href="/">home</a><a href="/static/logo.png">l</a>'}) == []


def test_percent_encoded_link_is_decoded_before_lookup() -> None:
    files = {"index.html", "plaats/den haag/index.html"}
    pages = {"index.html": collect('<a href="plaats/den%20haag/">Den Haag</a>')}
    assert check_links(pages, files) == []


def test_diagnostic_names_the_output_file() -> None:
    pages = {"projecten/index.html": collect('<a href="weg/">x</a>')}
    [problem] = check_links(pages, FILES)
    assert (problem.path, problem.severity) == ("projecten/index.html", "error")


def test_problems_come_in_page_order() -> None:
    pages = {
        "projecten/index.html": '<a href="b/">x</a>',
        "index.html": '<a href="a/">x</a>',
    }
    assert [m.split(":")[0] for m in messages(pages)] == ["index.html", "projecten/index.html"]
