"""Resource limits: hostile input gets a clear diagnostic or a bounded build, never a hang.

The big cases run `dossier` in a subprocess with a memory ceiling and a generous timeout:
an out-of-memory error or a hang then fails the test instead of the CI machine.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from dossier.content.documents import MAX_CONTENT_BYTES, MAX_FILE_BYTES, MAX_RECORDS
from dossier.content.markup import MAX_HTML_NESTING, MAX_NESTING, MAX_TAG_CHARS, MarkdownRenderer
from dossier.core.diagnostics import MAX_PER_FILE
from dossier.core.yamltree import MAX_NODES

SECTIONS = ("Aanleiding", "Doel", "Aanpak", "Samenwerking", "Resultaten")

MEMORY = 2 * 1024**3  # bytes of address space a check may use
TIMEOUT = 600  # seconds: only turns a hang into a failure


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run(site: Path, command: str = "check") -> tuple[int, list[str]]:
    """Exit code and diagnostics of `dossier check` (or build) in a bounded process."""
    result = subprocess.run(
        [sys.executable, "-m", "dossier", command, str(site)], capture_output=True,
        text=True, timeout=TIMEOUT, preexec_fn=_limit_memory, check=False)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines()
             if not line.startswith(("check ", "build failed"))]
    return result.returncode, lines


def project(site: Path, name: str = "project-drie.md") -> Path:
    return site / "content" / "projecten" / name


def with_body(site: Path, body: str) -> int:
    """Add `body` after project-drie's five sections; return the line it starts on."""
    file = project(site)
    text = file.read_text()
    file.write_text(text + "\n" + body + "\n", encoding="utf-8")
    return text.count("\n") + 2


# --- size ------------------------------------------------------------------------------

def test_a_50_mb_record_is_refused_unread(base_site: Path) -> None:
    with open(project(base_site, "enorm.md"), "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: costs no disk
    code, lines = run(base_site)
    assert code == 1
    assert lines == [f"content/projecten/enorm.md:1:1: error: file has 52,428,800 bytes; a "
                     f"record may have at most {MAX_FILE_BYTES:,} bytes (256 KB)"]


def test_a_line_of_10_mb_is_refused(base_site: Path) -> None:
    with_body(base_site, "lang " * 2_000_000)
    code, lines = run(base_site)
    assert code == 1
    size = project(base_site).stat().st_size
    assert lines == [f"content/projecten/project-drie.md:1:1: error: file has {size:,} bytes; "
                     f"a record may have at most {MAX_FILE_BYTES:,} bytes (256 KB)"]


@pytest.mark.parametrize(
    "line",
    ["woord & " * 30_000,  # one text node with many '&': quadratic in the sanitiser
     "[a](https://example.org/?x=1&y=2) " * 6_000,  # many links in one paragraph
     "*a " * 80_000],
    ids=["ampersands", "links", "emphasis"],
)
def test_a_long_line_under_the_limit_builds(base_site: Path, line: str) -> None:
    with_body(base_site, line[:MAX_FILE_BYTES - 2_000])
    code, lines = run(base_site, "build")
    assert (code, lines) == (0, [])
    page = (base_site / "build" / "projecten" / "project-drie" / "index.html").read_text()
    assert line[:20].replace("&", "&amp;").split("[")[0] in page


def test_records_together_over_the_limit_are_refused_before_reading(base_site: Path) -> None:
    count = MAX_CONTENT_BYTES // (MAX_FILE_BYTES - 1) + 1
    for i in range(count):
        with open(project(base_site, f"groot-{i:04d}.md"), "wb") as handle:
            handle.truncate(MAX_FILE_BYTES - 1)  # sparse, and each one is allowed
    code, lines = run(base_site)
    assert code == 1
    [line] = lines
    assert line.startswith("content:1:1: error: the record files have ")
    assert (f"a site may have at most {MAX_CONTENT_BYTES:,} bytes "
            f"({MAX_CONTENT_BYTES // 1_048_576} MB) of records") in line


# --- YAML ------------------------------------------------------------------------------

def test_a_yaml_alias_bomb_is_a_diagnostic(base_site: Path) -> None:
    lines = ["---", "titel: Bom", 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    lines.append("---")
    project(base_site, "bom.md").write_text("\n".join(lines) + "\n")
    code, found = run(base_site)
    assert code == 1
    assert found == [f"content/projecten/bom.md:3:4: error: document has more than "
                     f"{MAX_NODES:,} values (alias expansion?)"]


def test_a_record_full_of_wrong_values_gets_a_short_report(base_site: Path) -> None:
    project(base_site, "breed.md").write_text(
        "---\ntitel: Breed\nsamenvatting: x\nuitvoerder: org-a\nthema: ["
        + "onbekend," * 25_000 + "]\n---\n" + "".join(f"## {s}\n" for s in SECTIONS))
    code, found = run(base_site)
    assert code == 1
    assert len(found) == MAX_PER_FILE + 1
    assert found[-1].endswith(f"error: more problems from here on are not shown (at most "
                              f"{MAX_PER_FILE} per file)")


def test_deeply_nested_yaml_is_a_diagnostic(base_site: Path) -> None:
    project(base_site, "diep.md").write_text("---\ntitel: [" + "[" * 100_000 + "\n---\n")
    code, found = run(base_site)
    assert code == 1
    [line] = found
    assert line.startswith("content/projecten/diep.md:2:")
    assert "nesting" in line


# --- Markdown --------------------------------------------------------------------------

def test_ten_thousand_nested_quotes_are_a_diagnostic(base_site: Path) -> None:
    line = with_body(base_site, ">" * 10_000 + " diep")
    code, found = run(base_site)
    assert code == 1
    assert found == [f"content/projecten/project-drie.md:{line}:1: error: "
                     f"body: lists and quotes are nested more than {MAX_NESTING} levels "
                     "deep here"]


@pytest.mark.parametrize("indent", ["  ", "    ", "\t"])
def test_deeply_nested_lists_are_a_diagnostic(base_site: Path, indent: str) -> None:
    with_body(base_site, "\n".join(indent * i + "- punt" for i in range(300)))
    code, [found] = run(base_site)
    assert code == 1
    assert f"body: lists and quotes are nested more than {MAX_NESTING} levels" in found


def test_nesting_at_the_limit_builds(base_site: Path) -> None:
    with_body(base_site, "\n".join("    " * i + "- punt" for i in range(MAX_NESTING)) + "\n\n"
              + "\n".join("> " * i + "citaat" for i in range(1, MAX_NESTING + 1)))
    code, found = run(base_site, "build")
    assert (code, found) == (0, [])


def test_deeply_nested_html_is_a_diagnostic(base_site: Path) -> None:
    line = with_body(base_site, "<div>" * 50_000)
    code, found = run(base_site)
    assert code == 1
    assert found == [f"content/projecten/project-drie.md:{line}:1: error: "
                     f"body: HTML elements are nested more than {MAX_HTML_NESTING} levels "
                     "deep here (or many are left open)"]


def test_deep_nesting_in_a_text_field_is_a_diagnostic(base_site: Path) -> None:
    file = project(base_site)
    file.write_text(file.read_text().replace(
        "samenvatting: Het derde gegenereerde project.",
        "samenvatting: '" + ">" * 5_000 + " diep'"))
    code, found = run(base_site)
    assert code == 1
    assert found == ["content/projecten/project-drie.md:3:15: error: samenvatting: lists "
                     f"and quotes are nested more than {MAX_NESTING} levels deep here"]


def test_a_very_long_link_is_a_problem_not_a_slow_build() -> None:
    rendered = MarkdownRenderer().convert("[x](https://example.org/?" + "&" * 100_000 + ")")
    assert rendered.html == ""
    assert rendered.problems == [("", "a link, image or HTML tag is longer than "
                                      f"{MAX_TAG_CHARS:,} characters")]


def test_markdown_that_recurses_too_deep_is_a_problem_not_a_crash(
        monkeypatch: pytest.MonkeyPatch) -> None:
    too_deep = [("", f"text is nested too deeply (lists and quotes at most {MAX_NESTING} "
                     "levels)")]
    text = "\n".join("    " * i + "- x" for i in range(350))  # validation refuses this
    # Python-Markdown before 3.11 recursed once per level and ran out of stack here; 3.11
    # does not. Either way the conversion returns, with the problem or with HTML.
    assert MarkdownRenderer().convert(text).problems in ([], too_deep)
    # Whatever in the converter recurses too deep comes back as that problem.
    renderer = MarkdownRenderer()

    def recursing(text: str) -> str:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(renderer.md, "convert", recursing)
    assert renderer.convert("- x").problems == too_deep


# --- many files ------------------------------------------------------------------------

def test_100000_files_that_are_not_records_are_skipped(base_site: Path) -> None:
    folder = base_site / "content" / "projecten"
    for i in range(100_000):
        name = ("notitie-{:05d}.txt", ".verborgen-{:05d}.md", "kopie-{:05d}.md~",
                "wissel-{:05d}.swp")[i % 4].format(i)
        (folder / name).write_bytes(b"x")
    code, found = run(base_site, "build")
    assert (code, found) == (0, [])
    assert (base_site / "build" / "projecten" / "project-drie" / "index.html").is_file()


def test_a_folder_with_too_many_records_is_refused_before_reading(base_site: Path) -> None:
    folder = base_site / "content" / "projecten"
    for i in range(MAX_RECORDS - 2):  # with the base site's three: one too many
        (folder / f"p-{i:06d}.md").write_bytes(b"---\ntitel: [kapot\n")  # never read
    code, found = run(base_site)
    assert code == 1
    assert found == [f"content/projecten:1:1: error: folder has {MAX_RECORDS + 1:,} record "
                     f"files; a collection may have at most {MAX_RECORDS:,} (none was read)"]
