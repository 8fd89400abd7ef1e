"""Hostile content in a real browser: no dialog fires, no request leaves localhost, and the
browser's own reading of every page holds no script, handler or inline style from content."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from browser import serve
from dossier.build import BuildOptions, build
from hostile import make_hostile_site

pytestmark = pytest.mark.browser

# Run in the page after it loaded: what in the browser's DOM could run or was injected.
DOM_AUDIT = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith('on')) found.push(el.tagName + ' ' + attr.name);
      if (attr.name === 'style') found.push(el.tagName + ' style');
      if (/^\\s*(javascript|vbscript|data):/i.test(attr.value))
        found.push(el.tagName + ' ' + attr.name + ' url');
    }
  }
  // The theme's own search script and search forms are allowed; content cannot make them.
  for (const s of document.querySelectorAll('script'))
    if (s.type !== 'application/ld+json' &&
        !(s.type === 'module' && new URL(s.src).pathname.includes('/static/zoeken.')))
      found.push('script ' + s.outerHTML.slice(0, 80));
  for (const el of document.querySelectorAll('form'))
    if (!['site-search', 'search'].includes(el.className) || el.method !== 'get' ||
        new URL(el.action).origin !== location.origin) found.push('form');
  for (const tag of ['iframe', 'object', 'embed', 'svg', 'math', 'base', 'style'])
    for (const el of document.querySelectorAll(tag)) found.push(tag);
  const skipLinks = document.querySelectorAll('.skip-link').length;
  if (skipLinks !== 1) found.push(skipLinks + ' skip links');
  return found;
}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """The built site of attacks on http://127.0.0.1:PORT/databank/, and the paths of its
    pages."""
    site = make_hostile_site(tmp_path_factory.mktemp("browser"))
    build(site, BuildOptions(cache=False))
    with serve(site / "build", site / "www") as base:
        yield base, _pages(site / "build")


def _pages(root: Path) -> list[str]:
    """Every record page (they hold the attacks) and a few pages of every other kind."""
    pages: list[str] = []
    seen: dict[str, int] = {}
    for file in sorted(root.rglob("*.html")):
        path = file.relative_to(root).as_posix().removesuffix("index.html")
        kind = path.split("/")[0]
        seen[kind] = seen.get(kind, 0) + 1
        if kind in ("projecten", "organisaties", "dossiers") or seen[kind] <= 3:
            pages.append(path)
    return pages


def test_no_attack_runs_or_calls_out_in_chromium(
        chromium: Any, served: tuple[str, list[str]]) -> None:
    base, pages = served
    dialogs: list[str] = []
    outside: list[str] = []
    refused: list[str] = []
    injected: list[str] = []
    page = chromium.new_page()
    try:

        def route(r: Any) -> None:
            if urlsplit(r.request.url).hostname == "127.0.0.1":
                r.continue_()
            else:
                outside.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("dialog", lambda d: (dialogs.append(f"{page.url}: {d.message}"), d.dismiss()))
        page.on("console", lambda m: refused.append(f"{page.url}: {m.text}")
                if "Content Security Policy" in m.text else None)
        # The test's eyes work: an unsanitised page is seen, and so is its dialog.
        page.set_content('<p onclick="x" style="y"><img src=# onerror="alert(1)">')
        assert len(page.evaluate(DOM_AUDIT)) == 4
        page.wait_for_timeout(200)
        assert len(dialogs) == 1
        dialogs.clear()
        for path in pages:
            page.goto(base + path, wait_until="load")
            page.keyboard.press("Tab")  # focus handlers, if any had survived
            page.mouse.move(200, 300)
            injected += [f"{path}: {x}" for x in page.evaluate(DOM_AUDIT)]
    finally:
        page.context.close()
    assert len(pages) > 80
    assert dialogs == []
    assert outside == []
    assert refused == []  # the theme's own output fits its policy, and content adds nothing
    assert injected == []


# The excerpt of a search result, as the search script builds it: text and <mark> only.
EXCERPT_AUDIT = """() => [...document.querySelectorAll('#zoekresultaten .card-excerpt')].map(p => ({
  text: p.textContent,
  marks: [...p.querySelectorAll('mark')].map(m => m.textContent),
  elements: [...p.querySelectorAll('*')].map(e => e.tagName + '.' + e.className),
}))"""


@pytest.mark.parametrize("query", ["onerror", "mark", "img"])
def test_search_excerpts_show_hostile_text_as_text(
        chromium: Any, served: tuple[str, list[str]], query: str) -> None:
    """Search results show excerpts of the records' text, where every attack stands: no
    markup may come of it but the <mark> around the words found."""
    base, _ = served
    dialogs: list[str] = []
    page = chromium.new_page()
    try:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{base}zoeken/?q={query}")
        page.wait_for_selector("#zoekstatus:not(:empty)")
        page.mouse.move(300, 400)
        excerpts = page.evaluate(EXCERPT_AUDIT)
        injected = page.evaluate(DOM_AUDIT)
    finally:
        page.context.close()
    assert len(excerpts) > 5
    assert {e for x in excerpts for e in x["elements"]} == {"SPAN.visually-hidden", "MARK."}
    assert all(query in mark.casefold() for x in excerpts for mark in x["marks"])
    assert any("<img" in x["text"] for x in excerpts)  # markup in the text, shown as text
    assert dialogs == []
    assert injected == []
