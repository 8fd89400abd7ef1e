"""The one URL resolver: links are relative, so the site works under any path."""

from __future__ import annotations

import posixpath
from urllib.parse import quote

import pytest

from dossier.core.urls import (
    absolute,
    base_path,
    is_external,
    output_path,
    relative,
    root_link_maker,
)

PAGES = ["", "404.html", "projecten/", "projecten/tussen-in/", "organisaties/al-amal/",
         "thema/jeugdzorg/", "thema/jeugdzorg/2/", "over/"]
TARGETS = [*PAGES, "static/dossier.css", "static/img/logo.png", "sitemap.xml",
           "zoeken/index.json"]


def resolve(from_url: str, link: str) -> str:
    """Where a browser on the page at `from_url` ends up when it follows `link`."""
    folder = from_url if from_url.endswith("/") else posixpath.dirname(from_url)
    path = link.partition("#")[0]
    target = posixpath.normpath(posixpath.join(folder, path)) if path else from_url
    if target == ".":
        return ""
    return target + "/" if path.endswith("/") and target else target


@pytest.mark.parametrize("from_url", PAGES)
@pytest.mark.parametrize("to_url", TARGETS)
def test_relative_link_leads_to_the_target(from_url: str, to_url: str) -> None:
    link = relative(from_url, to_url)
    assert not link.startswith("/")
    assert resolve(from_url, link) == to_url


@pytest.mark.parametrize("from_url", PAGES)
@pytest.mark.parametrize("to_url", ["projecten/tussen-in/#aanpak", "#inhoud", "over/#doel"])
def test_relative_link_with_fragment_keeps_the_fragment(from_url: str, to_url: str) -> None:
    link = relative(from_url, to_url)
    path, _, fragment = to_url.partition("#")
    assert link.endswith(f"#{fragment}")
    assert resolve(from_url, link) == path


@pytest.mark.parametrize(
    ("from_url", "to_url", "link"),
    [
        ("", "", "./"),
        ("", "projecten/tussen-in/", "projecten/tussen-in/"),
        ("", "static/dossier.css", "static/dossier.css"),
        ("projecten/tussen-in/", "", "../../"),
        ("projecten/tussen-in/", "organisaties/al-amal/", "../../organisaties/al-amal/"),
        ("projecten/tussen-in/", "static/dossier.css", "../../static/dossier.css"),
        ("projecten/tussen-in/", "sitemap.xml", "../../sitemap.xml"),
        ("thema/jeugdzorg/2/", "static/dossier.css", "../../../static/dossier.css"),
        ("404.html", "", "./"),
        ("404.html", "projecten/tussen-in/", "projecten/tussen-in/"),
        ("404.html", "static/dossier.css", "static/dossier.css"),
        ("sitemap.xml", "feed.xml", "feed.xml"),
    ],
)
def test_relative(from_url: str, to_url: str, link: str) -> None:
    assert relative(from_url, to_url) == link


@pytest.mark.parametrize(
    ("from_url", "to_url", "link"),
    [
        ("projecten/tussen-in/", "projecten/tussen-in/#aanpak", "#aanpak"),
        ("", "#inhoud", "#inhoud"),
        ("404.html", "404.html#top", "#top"),
    ],
)
def test_fragment_on_the_same_page_is_just_the_fragment(
    from_url: str, to_url: str, link: str
) -> None:
    assert relative(from_url, to_url) == link


@pytest.mark.parametrize(
    ("from_url", "to_url", "link"),
    [
        ("projecten/tussen-in/", "organisaties/al-amal/#doel", "../../organisaties/al-amal/#doel"),
        ("projecten/tussen-in/", "#inhoud", "../../#inhoud"),
        ("", "projecten/tussen-in/#doel", "projecten/tussen-in/#doel"),
    ],
)
def test_fragment_on_another_page_keeps_the_path(from_url: str, to_url: str, link: str) -> None:
    assert relative(from_url, to_url) == link


def test_spaces_in_paths_are_percent_encoded() -> None:
    assert relative("projecten/x/", "plaats/den haag/") == "../../plaats/den%20haag/"


def test_relative_link_has_no_characters_that_need_escaping_in_html() -> None:
    link = relative("projecten/x/", 'plaats/a"b<c>/')
    assert not set(link) & set('"<> ')


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("", "index.html"),
        ("projecten/tussen-in/", "projecten/tussen-in/index.html"),
        ("zoeken/", "zoeken/index.html"),
        ("404.html", "404.html"),
        ("static/dossier.css", "static/dossier.css"),
    ],
)
def test_output_path(url: str, path: str) -> None:
    assert output_path(url) == path


@pytest.mark.parametrize(
    ("base_url", "path"),
    [
        ("", "/"),
        ("https://example.nl/", "/"),
        ("https://example.nl", "/"),
        ("https://example.nl/databank/", "/databank/"),
        ("https://example.nl/a/b/", "/a/b/"),
    ],
)
def test_base_path(base_url: str, path: str) -> None:
    assert base_path(base_url) == path


def test_absolute_joins_base_url_and_encodes() -> None:
    assert absolute("https://example.nl/db/", "plaats/den haag/") == (
        "https://example.nl/db/plaats/den%20haag/"
    )


@pytest.mark.parametrize(
    "href",
    ["https://example.nl/", "http://example.nl", "mailto:info@example.nl", "//cdn.example.nl/x.js",
     "tel:+31301234567"],
)
def test_external_links(href: str) -> None:
    assert is_external(href)


@pytest.mark.parametrize(
    "href", ["../organisaties/al-amal/", "#aanpak", "static/dossier.css", "/databank/", ""]
)
def test_internal_links(href: str) -> None:
    assert not is_external(href)


def test_link_depends_only_on_the_page_depth() -> None:
    """Pages at one depth can share rendered fragments (menus, cards) with their links."""
    assert relative("projecten/a/", "projecten/b/") == relative("organisaties/x/", "projecten/b/")
    assert relative("", "static/x.css") == relative("404.html", "static/x.css")


@pytest.mark.parametrize("from_url", [p for p in PAGES if p != "404.html"])
@pytest.mark.parametrize("to_url", [*TARGETS, "projecten/tussen-in/#aanpak", "over/#doel"])
def test_root_link_maker_writes_the_same_link_as_relative(from_url: str, to_url: str) -> None:
    path, hash_, fragment = to_url.partition("#")
    rel = root_link_maker(from_url, "/databank/")
    assert rel(quote(path, safe="/.-_~%"), hash_ + fragment) == relative(from_url, to_url)


def test_root_links_on_the_404_page_start_at_the_site_path() -> None:
    rel = root_link_maker("404.html", "/databank/")
    assert rel("static/dossier.css", "") == "/databank/static/dossier.css"
