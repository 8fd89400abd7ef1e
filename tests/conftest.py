"""Shared fixtures: scenario sites under tests/sites/, built in temporary folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"


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


@pytest.fixture
def site_factory(tmp_path: Path) -> Callable[[str], Path]:
    """Make a fresh copy of a scenario site in a temporary folder."""
    return lambda name: make_site(name, tmp_path)


@pytest.fixture
def base_site(site_factory: Callable[[str], Path]) -> Path:
    return site_factory("_base")


@pytest.fixture
def example_site(tmp_path: Path) -> Path:
    """A copy of the repository's own example dossier (never build inside the checkout)."""
    site = tmp_path / "example"
    site.mkdir()
    for part in ("content", "templates"):
        shutil.copytree(ROOT / part, site / part)
    return site


def generated_site(dest: Path, projects: int, drafts: int = 0, **kwargs: int) -> Path:
    """A generated corpus (bench/corpus.py): every title says it is generated."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    from corpus import generate  # type: ignore[import-not-found]

    return generate(dest, projects, drafts=drafts, **kwargs)  # type: ignore[no-any-return]
