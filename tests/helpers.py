"""Plain helpers shared by the tests: import them (`from helpers import make_site`).

Fixtures are in conftest.py (pytest finds them without an import); browser helpers are in
browser.py, attack strings and the HTML audit in hostile.py. See tests/README.md.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from dossier.build import BuildOptions

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
    stays as it is. The cache's SQLite files, written in place, are copied.
    """
    shutil.copytree(site, copy, copy_function=os.link)
    shutil.rmtree(copy / ".dossier-cache")
    shutil.copytree(site / ".dossier-cache", copy / ".dossier-cache")
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
    assert sorted(incremental) == sorted(fresh)
    different = [rel for rel in fresh if incremental[rel] != fresh[rel]]
    assert different == []


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
