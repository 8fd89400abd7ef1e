"""The one URL resolver: every internal link is made relative to the page it is on."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlsplit


def output_path(url: str) -> str:
    """Where a page URL lives in the output folder: `projecten/x/` → `projecten/x/index.html`."""
    return f"{url}index.html" if url == "" or url.endswith("/") else url


def depth(page_url: str) -> int:
    """How many folders deep a page is: '' → 0, 'projecten/x/' → 2, '404.html' → 0."""
    return page_url.count("/")


def relative(from_url: str, to_url: str) -> str:
    """Link from the page at `from_url` to `to_url` (both site-relative, '' is the home page).

    Links always climb to the site root and descend again ('../../organisaties/a/'), so a
    link depends only on the page's depth: fragments of HTML can be shared between pages.
    """
    path, _, fragment = to_url.partition("#")
    if fragment and path == from_url:
        return f"#{fragment}"
    up = "../" * depth(from_url)
    rel = quote(f"{up}{path}", safe="/.-_~%") or "./"
    return f"{rel}#{fragment}" if fragment else rel


def root_link_maker(page_url: str, prefix: str) -> Callable[[str, str], str]:
    """How the page at `page_url` writes a link from the site root, given its quoted path
    and its query and fragment: `relative` for paths already quoted, made once per page.

    The 404 page is served at any depth, so its links start at the site's path `prefix`.
    """
    if page_url == "404.html":
        return lambda qpath, suffix: prefix + qpath + suffix
    up = "../" * depth(page_url)
    here = quote(page_url, safe="/.-_~%")

    def rel(qpath: str, suffix: str) -> str:
        if suffix.startswith("#") and qpath == here:
            return suffix
        return (up + qpath or "./") + suffix
    return rel


def absolute(base_url: str, url: str) -> str:
    """An absolute URL from `base_url` (for sitemap, feed, canonical links)."""
    return base_url + quote(url, safe="/.-_~%#")


def base_path(base_url: str) -> str:
    """The path prefix of `base_url`: `https://x.nl/databank/` → `/databank/`."""
    return urlsplit(base_url).path or "/" if base_url else "/"


def is_external(href: str) -> bool:
    """Links with a scheme (https:, mailto:) or protocol-relative ones leave the site."""
    return bool(urlsplit(href).scheme) or href.startswith("//")
