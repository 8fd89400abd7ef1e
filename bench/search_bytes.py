"""What a visitor's browser fetches for a search: the index in parts against one index.

For each corpus size it builds the generated corpus twice (the index in one part, and in
parts of the default size), serves each on localhost and opens, in a fresh headless
Chromium, the search page with a one-word query and with that query plus one filter. It
prints the bytes and requests of the Pagefind files (the index and Pagefind's program) and
of everything the page loaded. Bytes, not times: they do not depend on the machine.

    python bench/search_bytes.py [--sizes 1000 10000] [--word ouders] [--filter thema=jeugdzorg]
                                 [--index one parts] [--delta N]

`--delta N`: after each build, N projects are edited (a sentence with the word added) and
the site is built again, so the index has a delta part of N records beside its parts; the
projects are restored afterwards.

(`--index parts` alone at 100,000 projects: one index of that size needs some 16 GB.)

Needs Playwright and Chromium (as the browser tests do). The corpora live in $BENCH_DIR
(default .bench/), like `make bench`'s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import generate  # noqa: E402

WORK = Path(os.environ.get("BENCH_DIR", HERE.parent / ".bench"))
ONE_PART = 10**9  # a part size no corpus reaches: the index in one part


@dataclass
class Fetched:
    """What one page load fetched: all of it, and of that the Pagefind files."""

    requests: int = 0
    bytes: int = 0
    index_requests: int = 0
    index_bytes: int = 0
    results: str = ""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """`folder` at http://127.0.0.1:PORT/ (the built site works under any path)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def corpus(projects: int) -> Path:
    site = WORK / f"corpus-{projects}"
    if not (site / "content").exists():
        print(f"generating {projects} projects …", file=sys.stderr)
        generate(site, projects, organisations=projects // 5, dossiers=max(5, projects // 40))
    return site


def build(site: Path, out: Path, part_size: int | None) -> int:
    """Build the site into `out`; return how many parts its index has."""
    sizes = [] if part_size is None else ["--search-part-size", str(part_size)]
    subprocess.run([sys.executable, "-m", "dossier", "build", str(site), "--out", str(out),
                    "--quiet", *sizes], check=True)
    return len(json.loads((out / "pagefind" / "parts.json").read_text())["parts"]) + 1


def with_delta(site: Path, out: Path, part_size: int | None, edits: int, word: str) -> int:
    """Edit `edits` projects, build again (the index then has a delta part), restore them."""
    files = sorted((site / "content" / "projecten").glob("*.md"))[:edits]
    saved = {file: file.read_text("utf-8") for file in files}
    try:
        for file, text in saved.items():
            file.write_text(f"{text}\nDeze aanpak werkt ook voor {word}.\n", "utf-8")
        parts = build(site, out, part_size)
    finally:
        for file, text in saved.items():
            file.write_text(text, "utf-8")
    listed = json.loads((out / "pagefind" / "parts.json").read_text())
    assert len(listed.get("delta", {}).get("places", [])) == edits, "no delta part"
    return parts


def visit(browser: Any, url: str) -> Fetched:
    """Open `url` in a fresh context (nothing cached) and add up what it fetched."""
    context = browser.new_context()
    page = context.new_page()
    fetched = Fetched()

    def count(response: Any) -> None:
        try:
            size = len(response.body())
        except Exception:  # a redirect or an aborted request has no body
            size = 0
        fetched.requests += 1
        fetched.bytes += size
        if "/pagefind/" in response.url:
            fetched.index_requests += 1
            fetched.index_bytes += size

    page.on("response", count)
    page.goto(url)
    page.wait_for_selector("#zoekresultaten:not([aria-busy])", state="attached")
    status = page.locator("#zoekstatus").filter(has_text=re.compile(r"\S"))
    status.wait_for()
    page.wait_for_load_state("networkidle")
    fetched.results = status.inner_text()
    context.close()
    return fetched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--word", default="ouders")
    parser.add_argument("--filter", default="thema=jeugdzorg")
    parser.add_argument("--index", nargs="+", choices=["one", "parts"], default=["one", "parts"])
    parser.add_argument("--delta", type=int, default=0,
                        help="projects edited after the build (a delta part of as many)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    name, value = args.filter.split("=", 1)
    queries = {"word": urlencode({"q": args.word}),
               "word + filter": urlencode([("q", args.word), (name, value)])}
    chromium = os.environ.get("DOSSIER_CHROMIUM") or shutil.which("chromium")
    print(f"{'projects':>9} {'index':<9} {'parts':>5} {'search':<14} {'results':<16} "
          f"{'index KB':>9} {'index req':>9} {'page KB':>8} {'requests':>8}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=["--no-sandbox", "--disable-gpu"])
        for projects in args.sizes:
            site = corpus(projects)
            for label, part_size in (("one", ONE_PART), ("in parts", None)):
                if label.split()[-1] not in args.index:
                    continue
                out = site / ("build-search-one" if part_size else "build-search-parts")
                parts = build(site, out, part_size)
                if args.delta:
                    parts = with_delta(site, out, part_size, args.delta, args.word)
                with served(out) as base:
                    for search, query in queries.items():
                        f = visit(browser, f"{base}zoeken/?{query}")
                        print(f"{projects:>9} {label:<9} {parts:>5} {search:<14} "
                              f"{f.results:<16} {f.index_bytes / 1000:>9.0f} "
                              f"{f.index_requests:>9} {f.bytes / 1000:>8.0f} "
                              f"{f.requests:>8}", flush=True)
                shutil.rmtree(out)
        browser.close()
    print("index: the files under pagefind/ (Pagefind's program, the index, the 20 result "
          "cards shown); page: everything the search page loaded.")


if __name__ == "__main__":
    main()
