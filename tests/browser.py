"""Helpers for browser tests: serve a build under a path prefix, open pages in Chromium,
and what the search page tests share.

Every page opened through `open_page` refuses requests to any host but the local server
and records them, so a test can assert that nothing left localhost. The `chromium`
fixture (conftest.py) launches the browser through `launch`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import pytest

from helpers import ROOT, generated_site

if TYPE_CHECKING:
    from dossier.build import BuildOptions
    from dossier.model.site import Site

NODE_MODULES = ROOT / ".cache" / "node" / "node_modules"  # installed by `make test`
PREFIX = "/databank/"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    """The Chromium to test with: $DOSSIER_CHROMIUM, or chromium on the PATH."""
    return (os.environ.get("DOSSIER_CHROMIUM") or shutil.which("chromium")
            or shutil.which("chromium-browser"))


@contextmanager
def launch() -> Iterator[Any]:
    """Headless Chromium through Playwright; skips the test when either is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser test: Playwright is not installed (pip install -e '.[test]')")
    path = chromium_path()
    if path is None:
        pytest.skip("browser test: headless Chromium is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(build: Path, www: Path) -> Iterator[str]:
    """Serve `build` at http://127.0.0.1:PORT/databank/ (and nothing else); yield that URL."""
    www.mkdir(parents=True, exist_ok=True)
    (www / PREFIX.strip("/")).symlink_to(build.resolve())
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Visit:
    """A browser page with what it tried to fetch from elsewhere and the errors it logged."""

    page: Any
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def open_page(browser: Any, base: str, *, width: int = 1280, scheme: str = "light",
              javascript: bool = True, bypass_csp: bool = True) -> Visit:
    """A new page in its own context; requests that would leave the test server are refused.

    `bypass_csp` (the default) lets the test's own scripts run in pages with a CSP: axe-core,
    and Playwright's string predicates, which the page's policy (no eval) would refuse. The
    policy itself is enforced in tests/test_attacks_browser.py.
    """
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  color_scheme=scheme, java_script_enabled=javascript,
                                  bypass_csp=bypass_csp)
    visit = Visit(context.new_page())
    local = urlsplit(base).netloc

    def guard(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).netloc == local:
            route.continue_()
        else:
            visit.outside.append(url)
            route.abort()

    context.route("**/*", guard)
    visit.page.on("pageerror", lambda exc: visit.errors.append(str(exc)))
    visit.page.on("console", lambda msg: visit.errors.append(msg.text)
                  if msg.type == "error" else None)
    return visit


# --- the search page (tests/test_search_browser.py, tests/test_search_parts_browser.py) ----

RARE_WORD = "zeldzaamheidsonderzoek"
RARE_PROJECT = "project-00123"
SMALL_PARTS = 100  # records per part at most: 605 records then make about a dozen parts


@dataclass
class Served:
    """A built site, served; what each indexed record carries, by site path."""

    base: str
    site: Site
    filters: dict[str, dict[str, list[str]]]


def serve_build(site_dir: Path, www: Path, options: BuildOptions | None = None
                ) -> Iterator[Served]:
    """Build `site_dir` (with `options`) and serve the result (a generator: `yield from` it
    in a fixture); the served site carries the filter values of every indexed record."""
    from dossier.build import BuildOptions, build, load_site
    from dossier.model.filters import indexed_collections, record_filters

    options = options or BuildOptions()
    build(site_dir, options)
    site = load_site(site_dir, BuildOptions(), [])
    filters = {r.url: record_filters(site, r) for c in indexed_collections(site)
               for r in site.records[c.name]}
    with serve(options.out or site_dir / "build", www) as base:
        yield Served(base, site, filters)


def with_rare_word(dest: Path) -> Path:
    """500 generated projects; one of them has a word in its body that no other record has."""
    site_dir = generated_site(dest, 500)
    project = site_dir / "content" / "projecten" / f"{RARE_PROJECT}.md"
    project.write_text(project.read_text() + f"\nHier staat het woord {RARE_WORD}.\n")
    return site_dir


def shown_counts(visit: Visit) -> dict[str, dict[str, int]]:
    """The count the search page shows beside every filter value, by filter group."""
    raw = visit.page.evaluate("""() => Object.fromEntries(
        [...document.querySelectorAll('fieldset[data-filter]')].map(f => [f.dataset.filter,
          Object.fromEntries([...f.querySelectorAll('input')].map(i =>
            [i.value, i.labels[0].querySelector('.count').textContent]))]))""")
    return {g: {v: int(text.strip("()")) for v, text in values.items()}
            for g, values in raw.items()}


# Reads every result: asks for more until there are no more (in the page: far quicker).
SHOW_ALL = """async () => {
  const more = document.getElementById("meer-resultaten");
  const list = document.getElementById("zoekresultaten");
  while (!more.hidden) {
    const shown = list.children.length;
    more.click();
    while (list.children.length === shown) await new Promise((r) => setTimeout(r, 5));
  }
  return [...list.querySelectorAll(".card-title a")].map((a) => a.href);
}"""


@dataclass(frozen=True)
class Shown:
    """What the search page shows for one URL: the status, the results, the counts."""

    status: str
    results: list[str]
    counts: dict[str, dict[str, int]]


def show_search(visit: Visit, served: Served, search: Iterable[tuple[str, str]]) -> Shown:
    """Open the search page at the URL of a search (query and filters as (name, value)
    pairs) and read everything it shows: every result, by site path."""
    page = visit.page
    page.goto(f"{served.base}zoeken/?{urlencode(list(search))}")
    page.wait_for_selector("#zoekresultaten:not([aria-busy])", state="attached")
    status = page.locator("#zoekstatus").filter(has_text=re.compile(r"\S"))
    status.wait_for()
    hrefs = page.evaluate(SHOW_ALL)
    prefix = urlsplit(served.base).path
    return Shown(status.inner_text(), [urlsplit(h).path.removeprefix(prefix) for h in hrefs],
                 shown_counts(visit))


def matching(served: Served, selected: dict[str, list[str]]) -> set[str]:
    """Records that carry one of the chosen values of every group (OR within, AND across)."""
    return {url for url, carried in served.filters.items()
            if all(set(values) & set(carried.get(group, [])) for group, values in selected.items())}


def expected_counts(served: Served, selected: dict[str, list[str]],
                    shown: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Per value: records matching every other group's choices that carry the value."""
    result = {}
    for group, values in shown.items():
        pool = matching(served, {g: v for g, v in selected.items() if g != group})
        result[group] = {v: sum(v in served.filters[url].get(group, []) for url in pool)
                         for v in values}
    return result


# --- accessibility and HTML checkers (installed from npm by `make test`) ------------------

AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(visit: Visit) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations in the open page, one line each (open the
    page with bypass_csp=True). Skips the test when axe-core is not installed."""
    if not AXE.is_file():
        pytest.skip("axe-core is not installed: run `make test` (npm ci into .cache/node)")
    visit.page.add_script_tag(path=str(AXE))
    result = visit.page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    assert result["passes"], "axe ran no rule"
    return [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]]


def require_vnu() -> None:
    """Skip the test when the Nu Html Checker (vnu.jar) or Java is missing."""
    if not VNU.is_file():
        pytest.skip("vnu.jar is not installed: run `make test` (npm ci into .cache/node)")
    if shutil.which("java") is None:
        pytest.skip("Java is missing: the Nu Html Checker needs it")


def vnu_errors(pages: list[str]) -> list[str]:
    """The Nu Html Checker's errors in these HTML files, one line each."""
    require_vnu()
    run = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", *pages],
                         capture_output=True, text=True)
    messages = json.loads(run.stderr or run.stdout)["messages"]
    return [f"{m['url']}:{m.get('lastLine')}: {m['message']}" for m in messages]
