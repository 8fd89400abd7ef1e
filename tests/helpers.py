"""Plain helpers shared by the tests: import them (`from helpers import make_site`).

Fixtures are in conftest.py (pytest finds them without an import); browser helpers are in
browser.py, attack strings and the HTML audit in hostile.py. See tests/README.md.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

if TYPE_CHECKING:
    from dossier.build import BuildOptions, BuildResult
    from dossier.core.diagnostics import Diagnostic

ROOT = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"


# --- sites -------------------------------------------------------------------------------

def make_site(name: str, dest: Path) -> Path:
    """A scenario site: tests/sites/_base with tests/sites/<name>/ laid over it.

    Files in the scenario replace the base's; `remove.txt` lists base files to delete.
    The default schema is the repository's own content/schema.yml unless the scenario has one.
    """
    site = dest / name
    shutil.copytree(SITES / "_base", site)
    shutil.copy(ROOT / "content" / "schema.yml", site / "content" / "schema.yml")
    scenario = SITES / name
    if name != "_base":
        for file in sorted(scenario.rglob("*")):
            rel = file.relative_to(scenario)
            if rel.parts[0] in ("content", "templates") and file.is_file():
                (site / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, site / rel)
        removals = scenario / "remove.txt"
        if removals.exists():
            for line in removals.read_text().split():
                (site / line).unlink()
    return site


def copy_example(site: Path) -> Path:
    """A copy of the repository's own example dossier in `site` (never build in the checkout)."""
    site.mkdir(parents=True, exist_ok=True)
    for part in ("content", "templates"):
        shutil.copytree(ROOT / part, site / part)
    return site


def generated_site(dest: Path, projects: int, drafts: int = 0, **kwargs: int) -> Path:
    """A generated corpus (bench/corpus.py): every title says it is generated."""
    sys.path.insert(0, str(ROOT / "bench"))
    from corpus import generate  # type: ignore[import-not-found]

    return generate(dest, projects, drafts=drafts, **kwargs)  # type: ignore[no-any-return]


def generated_project(site: Path, n: int) -> Path:
    """The record of project number `n` in a generated site."""
    return site / "content" / "projecten" / f"project-{n:05d}.md"


def linked_copy(site: Path, copy: Path) -> Path:
    """A built site copied with hard links: same files, same cache, no rebuild needed.

    Edits must replace files (see `edit`), never write into them, so that the original
    stays as it is. The cache's SQLite files, written in place, are copied; its standby
    trees are linked, as they share their files with the output folder by hard link.
    """
    shutil.copytree(site, copy, copy_function=os.link)
    shutil.rmtree(copy / ".dossier-cache")

    def copy_file(source: str, target: str) -> None:
        if f"{os.sep}standby{os.sep}" in source:
            os.link(source, target)
        else:
            shutil.copy2(source, target)

    shutil.copytree(site / ".dossier-cache", copy / ".dossier-cache", copy_function=copy_file)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a file (which must hold it) the way editors save: a new
    file in its place, so a hard-linked copy's original is left alone."""
    text = path.read_text()
    assert old in text
    path.unlink()
    path.write_text(text.replace(old, new, 1))


# --- output folders ----------------------------------------------------------------------

def _bytes(path: Path) -> bytes:
    return path.read_bytes()


def snapshot(folder: Path, read: Callable[[Path], Any] = _bytes) -> dict[str, Any]:
    """Every file under `folder` (links to folders are not followed), by its path relative
    to `folder` in / form, with its bytes, or with what `read` makes of each file."""
    return {p.relative_to(folder).as_posix(): read(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def digest(path: Path) -> str:
    """A short hash of a file's bytes (for snapshots of large folders)."""
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


def assert_same_as_clean(site: Path, tmp_path: Path, options: BuildOptions | None = None) -> None:
    """The site's build/ (made incrementally) equals a build from scratch, file for file."""
    from dossier.build import BuildOptions, build

    clean = tmp_path / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    build(site, replace(options or BuildOptions(), out=clean, cache=False))
    incremental, fresh = snapshot(site / "build"), snapshot(clean)
    if b'"delta"' in incremental.get("pagefind/parts.json", b""):
        # Beside a delta part the index's bytes differ from a clean build's; what it holds
        # for a visitor must not (zoeken.js leaves the stale entries out).
        assert search_records(site / "build") == search_records(clean)
        loader = ("pagefind/pagefind.js", "pagefind/pagefind-worker.js", "pagefind/wasm.")
        incremental, fresh = ({rel: data for rel, data in files.items()
                               if not rel.startswith("pagefind/") or rel.startswith(loader)}
                              for files in (incremental, fresh))
    assert sorted(incremental) == sorted(fresh)
    different = [rel for rel in fresh if incremental[rel] != fresh[rel]]
    assert different == []


def search_records(out: Path) -> list[dict[str, object]]:
    """What a built search index shows a visitor: every record's fragment (its text,
    filters and card), without its position in its part and without the stale entries
    that parts.json tells the search page to leave out, sorted by URL."""
    listed = json.loads((out / "pagefind" / "parts.json").read_text("utf-8"))
    folders = ["", *listed["parts"]]
    delta = listed.get("delta") or {"places": [], "stale": []}
    stale = {(folders[i], str(p)) for i, positions in delta["stale"] for p in positions}
    found = []
    for i, folder in enumerate(folders):
        for file in sorted((out / "pagefind" / folder / "fragment").glob("*.pf_fragment")):
            data = json.loads(gzip.decompress(file.read_bytes())[len(b"pagefind_dcd"):])
            (position,) = data["filters"].pop("dossier:nr")
            if (folder, position) not in stale:
                found.append(data)
        assert i == 0 or (out / "pagefind" / folder / "pagefind-entry.json").is_file()
    return sorted(found, key=lambda data: str(data["url"]))


def rename_projects(site: Path) -> None:
    """What a new user does to call `projecten` `praktijken`: the key and folder in the
    schema, the content folder, the Markdown links and the menu."""
    schema = site / "content" / "schema.yml"
    text = schema.read_text("utf-8")
    assert "\n  projecten:\n" in text and "folder: projecten\n" in text
    schema.write_text(text.replace("\n  projecten:\n", "\n  praktijken:\n")
                      .replace("folder: projecten\n", "folder: praktijken\n")
                      .replace("collection: projecten", "collection: praktijken"), "utf-8")
    (site / "content" / "projecten").rename(site / "content" / "praktijken")
    for file in sorted((site / "content").rglob("*")):
        if file.suffix in (".md", ".yml") and file.is_file():
            text = file.read_text("utf-8")
            changed = text.replace("../projecten/", "../praktijken/").replace(
                "pad: projecten/", "pad: praktijken/")
            if changed != text:
                file.write_text(changed, "utf-8")


@contextmanager
def mounted(*args: str) -> Iterator[None]:
    """Run the body with a filesystem mounted; skip where mounting is not allowed."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a filesystem needs root")
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", args[-1]], check=False)


START_TIMEOUT = 60.0  # hang guards, not performance bounds
SETTLE_TIMEOUT = 10.0
EXAMPLE_IMAGE = "content/projecten/opbrengsten-lokale-initiatieven/succesfactoren.png"


@dataclass
class ServeReporter:
    """Tells when `dossier serve` listens, and where."""

    url: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    def serving(self, url: str) -> None:
        self.url.append(url)
        self.ready.set()

    def built(self, result: BuildResult, changed: list[str]) -> None:
        pass

    def failed(self, diagnostics: list[Diagnostic], changed: list[str]) -> None:
        pass


@dataclass
class Editor:
    """A `dossier serve` started in this process, and a client of its local backend."""

    site: Path
    url: str  # of the home page, with the site's path

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def api(self) -> str:
        return urlsplit(self.url).path + "api/v1"

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        sent = {"Content-Type": "application/json", **(headers or {})}
        conn = http.client.HTTPConnection(self.host, timeout=30)
        try:
            conn.request("POST", self.api, body=body, headers=sent)
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            conn.close()

    def call(self, action: str, headers: dict[str, str] | None = None,
             **params: Any) -> tuple[int, Any]:
        body = json.dumps({"action": action, "params": {"branch": "main", **params}})
        return self.post(body.encode(), headers)

    def get(self, rel: str) -> tuple[int, str, str]:
        conn = http.client.HTTPConnection(self.host, timeout=10)
        try:
            conn.request("GET", urlsplit(self.url).path + rel)
            response = conn.getresponse()
            return (response.status, response.getheader("Content-Type") or "",
                    response.read().decode("utf-8", "replace"))
        finally:
            conn.close()


def poll(check_: Callable[[], bool], timeout: float = SETTLE_TIMEOUT) -> bool:
    """Whether `check_` comes true within `timeout` seconds (a hang guard, not a bound)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check_():
            return True
        time.sleep(0.1)
    return check_()


# Other words than the default schema's: the report goes by roles and flags.
REPORT_SCHEMA = """\
vocabularies:
  topic: {a: Topic A, b: Topic B, c: Topic C}
  part: {lead: Lead, partner: Partner}
collections:
  works:
    role: project
    folder: works
    label: {nl: Werken, en: Works}
    title: title
    fields:
      title: {type: string, required: true}
      topic: {type: list, items: {type: enum, vocabulary: topic}, recommended: true}
      place: {type: string, recommended: true}
      changed: {type: date, role: updated}
      photo: {type: image}
      by: {type: ref, collection: groups}
      with:
        type: list
        items:
          type: object
          fields:
            group: {type: ref, collection: groups, required: true}
            part: {type: enum, vocabulary: part}
  groups:
    role: organisation
    folder: groups
    label: {nl: Groepen, en: Groups}
    title: name
    fields:
      name: {type: string, required: true}
      logo: {type: image}
"""
# The day the report is made, through SOURCE_DATE_EPOCH: 2025-06-15.
REPORT_EPOCH = "1750000000"


def write_record(site: Path, rel: str, front: str) -> None:
    """A record file with this front matter and one line of text."""
    path = site / "content" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front}---\nText.\n", "utf-8")


def report_site(root: Path, name: str) -> Path:
    """A site of REPORT_SCHEMA with one image and no records yet."""
    site = root / name
    (site / "content").mkdir(parents=True)
    (site / "content" / "site.yml").write_text("titel: Rapport\n", "utf-8")
    (site / "content" / "schema.yml").write_text(REPORT_SCHEMA, "utf-8")
    Image.new("RGB", (40, 30), "teal").save(site / "content" / "beeld.png")
    return site
