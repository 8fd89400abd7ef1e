"""Helpers for browser tests: serve a build under a path prefix, open pages in Chromium.

Every page opened through `open_page` refuses requests to any host but the local server
and records them, so a test can assert that nothing left localhost.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
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
