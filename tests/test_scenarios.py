"""Scenario sites: exact diagnostics for the bad ones, golden output for the good ones."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier.cli import main
from helpers import SITES, snapshot

BAD = sorted(p.parent.name for p in SITES.glob("*/expected.txt"))
WARN_ONLY = {"missing-section", "no-base-url", "role-missing"}


def with_mtime(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def test_there_are_bad_scenarios() -> None:
    assert len(BAD) >= 15


@pytest.mark.parametrize("name", BAD)
def test_check_prints_exact_diagnostics(name: str, site_factory: Callable[[str], Path]) -> None:
    site = site_factory(name)
    result = CliRunner().invoke(main, ["check", str(site)])
    expected = (SITES / name / "expected.txt").read_text().splitlines()
    printed = [line for line in result.stderr.splitlines() if not line.startswith("check ")]
    assert printed == expected
    assert result.exit_code == (0 if name in WARN_ONLY else 1)
    assert "Traceback" not in result.output
    assert not (site / "build").exists(), "check must write nothing"


@pytest.mark.parametrize("name", sorted(set(BAD) - WARN_ONLY))
def test_failed_build_leaves_previous_output_untouched(
    name: str, base_site: Path, site_factory: Callable[[str], Path]
) -> None:
    good = CliRunner().invoke(main, ["build", str(base_site), "--quiet"])
    assert good.exit_code == 0, good.output
    before = snapshot(base_site / "build", with_mtime)
    bad = site_factory(name)
    result = CliRunner().invoke(main, ["build", str(bad), "--out", str(base_site / "build")])
    assert result.exit_code == 1
    assert "the output folder was not changed" in result.stderr
    assert snapshot(base_site / "build", with_mtime) == before
    leftovers = [p.name for p in base_site.iterdir() if p.name.startswith(".build.")]
    assert leftovers == []


def test_missing_section_warns_and_fails_only_when_strict(
    site_factory: Callable[[str], Path]
) -> None:
    site = site_factory("missing-section")
    relaxed = CliRunner().invoke(main, ["build", str(site)])
    assert relaxed.exit_code == 0
    assert "warning: body: expected section '## Doel' is missing" in relaxed.stderr
    strict = CliRunner().invoke(main, ["build", str(site), "--strict", "--out",
                                       str(site / "strict")])
    assert strict.exit_code == 1
    assert not (site / "strict").exists()


def test_good_site_matches_golden_output(site_factory: Callable[[str], Path]) -> None:
    """Compare a fresh build with tests/sites/good-minimal/expected, file by file.

    After an intended change of the output, regenerate with DOSSIER_UPDATE_GOLDEN=1.
    """
    site = site_factory("good-minimal")
    # The search bundle is Pagefind's binary format; tests/test_search.py checks it.
    result = CliRunner().invoke(main, ["build", str(site), "--quiet", "--no-search"])
    assert result.exit_code == 0, result.output
    built = snapshot(site / "build")
    golden_dir = SITES / "good-minimal" / "expected"
    if os.environ.get("DOSSIER_UPDATE_GOLDEN"):
        import shutil
        shutil.rmtree(golden_dir, ignore_errors=True)
        shutil.copytree(site / "build", golden_dir)
    golden = snapshot(golden_dir)
    assert sorted(built) == sorted(golden)
    for rel in sorted(golden):
        if built[rel] != golden[rel]:
            diff = difflib.unified_diff(golden[rel].decode().splitlines(),
                                        built[rel].decode().splitlines(),
                                        f"expected/{rel}", f"build/{rel}", lineterm="")
            pytest.fail("\n".join(diff))


def test_site_templates_override_the_theme(site_factory: Callable[[str], Path]) -> None:
    site = site_factory("template-override")
    assert CliRunner().invoke(main, ["build", str(site), "-q"]).exit_code == 0
    home = (site / "build" / "index.html").read_text()
    assert '<p class="overridden">Eigen kop:' in home
    assert 'class="menu"' not in home  # the theme's header is gone
