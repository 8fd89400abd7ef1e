"""bench/report.py: `make bench` records its table in docs/benchmarks.md, between markers."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

from helpers import ROOT


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "bench" / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


report = _load()
TABLE = (" projects  tool     scenario                     runs   pages\n"
         "     1000  dossier  cold build                      3    1300")
BEFORE = "# Benchmarks\n\nWhat the columns mean.\n\n"
AFTER = "\n\nAfter the block: kept.\n"


def test_the_marked_block_is_replaced_and_the_text_around_it_kept(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(f"{BEFORE}{report.START}\nold figures\n{report.END}{AFTER}", encoding="utf-8")
    report.write_report(page, TABLE, "BENCH_SIZES=1000 make bench", date(2026, 12, 5))
    text = page.read_text(encoding="utf-8")
    assert text.startswith(BEFORE + report.START + "\n")
    assert text.endswith(report.END + AFTER)
    assert "old figures" not in text
    assert "`BENCH_SIZES=1000 make bench`, 2026-12-05" in text
    assert f"```text\n{TABLE}\n```" in text
    assert text.count(report.START) == text.count(report.END) == 1
    assert list(tmp_path.iterdir()) == [page]  # no temporary file left


def test_a_second_run_replaces_the_first(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(f"{BEFORE}{report.START}\n{report.END}{AFTER}", encoding="utf-8")
    report.write_report(page, TABLE, "make bench", date(2026, 12, 5))
    report.write_report(page, "second table", "make bench", date(2026, 12, 6))
    text = page.read_text(encoding="utf-8")
    assert "second table" in text and TABLE not in text and "2026-12-05" not in text
    assert text.startswith(BEFORE) and text.endswith(AFTER)


def test_without_markers_the_block_is_added_at_the_end(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(BEFORE, encoding="utf-8")
    report.write_report(page, TABLE, "make bench", date(2026, 12, 5))
    text = page.read_text(encoding="utf-8")
    assert text.startswith(BEFORE) and text.rstrip().endswith(report.END)
    missing = tmp_path / "new.md"
    report.write_report(missing, TABLE, "make bench", date(2026, 12, 5))
    assert missing.read_text(encoding="utf-8").startswith(report.START)


def test_a_lone_marker_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError):
        report.replace_block(f"{report.END}\n{report.START}\n", "new")


def test_the_command_names_the_settings_of_the_run() -> None:
    environ = {"BENCH_SIZES": "1000", "BENCH_RUNS": "1", "HOME": "/x", "BENCH_REPORT": "a.md"}
    assert report.command(environ) == "BENCH_RUNS=1 BENCH_SIZES=1000 make bench"
    assert report.command({}) == "make bench"


def test_the_docs_page_has_exactly_one_marked_block() -> None:
    text = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert text.count(report.START) == 1 and text.count(report.END) == 1
    assert text.index(report.START) < text.index(report.END)
