"""The command line: exit codes, summary line, output formats."""

from __future__ import annotations

import json
import pstats
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from dossier.cli import main


def test_build_prints_a_one_line_summary(base_site: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(base_site)])
    assert result.exit_code == 0
    line = result.stdout.strip()
    assert line.startswith("built ") and " pages (" in line and " changed" in line
    assert line.count("\n") == 0


def test_quiet_build_prints_nothing(base_site: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(base_site), "--quiet"])
    assert result.exit_code == 0
    assert result.output == ""


def test_wrong_usage_exits_2(tmp_path: Path) -> None:
    assert CliRunner().invoke(main, ["build", "--no-such-option"]).exit_code == 2
    assert CliRunner().invoke(main, ["frobnicate"]).exit_code == 2
    not_a_site = CliRunner().invoke(main, ["build", str(tmp_path)])
    assert not_a_site.exit_code == 2
    assert "no content/ folder" in not_a_site.output


def test_check_json_lists_every_diagnostic(site_factory: Callable[[str], Path]) -> None:
    site = site_factory("unknown-term")
    result = CliRunner().invoke(main, ["check", str(site), "--format", "json"])
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert rows[1] == {
        "path": "content/projecten/project-twee.md", "line": 6, "column": 20,
        "severity": "error", "field": "thema",
        "message": "'opvoedingsondersteunig' is not a known term",
        "suggestion": "opvoedingsondersteuning",
    }
    assert len(rows) == 2


def test_check_json_on_a_good_site_is_an_empty_array(base_site: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(base_site), "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_check_json_reports_warnings_and_nothing_else(
    site_factory: Callable[[str], Path]
) -> None:
    site = site_factory("missing-section")
    result = CliRunner().invoke(main, ["check", str(site), "--format", "json"])
    assert result.exit_code == 0, "warnings alone do not fail"
    assert result.stderr == "", "stdout is only the JSON, so CI can pipe it"
    rows = json.loads(result.stdout)
    assert {(r["severity"], r["field"], r["suggestion"]) for r in rows} == {
        ("warning", "body", None)}
    assert [r["line"] for r in rows] == [6, 6, 6]
    strict = CliRunner().invoke(main, ["check", str(site), "--format", "json", "--strict"])
    assert strict.exit_code == 1
    assert json.loads(strict.stdout) == rows


def test_check_github_names_a_file_with_a_comma_so_github_can_find_it(
    base_site: Path
) -> None:
    (base_site / "content" / "projecten" / "a,b.md").write_text("---\ntitel: x\n---\n")
    result = CliRunner().invoke(main, ["check", str(base_site), "--format", "github"])
    assert result.exit_code == 1
    assert result.stdout.startswith("::error file=content/projecten/a%2Cb.md,line=1,col=1::")


def test_check_github_prints_annotations(site_factory: Callable[[str], Path]) -> None:
    site = site_factory("broken-ref")
    result = CliRunner().invoke(main, ["check", str(site), "--format", "github"])
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("::error file=content/projecten/project-twee.md,line=4,col=12::")
    assert "did you mean 'dossier-een'?" in first


def test_python_dash_m_runs_the_cli(base_site: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "dossier", "check", str(base_site)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "check passed" in done.stderr


def test_the_command_exits_with_its_code_and_everything_said(base_site: Path) -> None:
    """The process ends without tearing the loaded site down: what it printed and wrote
    is all there, and its exit code is the command's (0 built, 1 errors, 2 usage)."""
    built = subprocess.run([sys.executable, "-m", "dossier", "build", str(base_site)],
                           capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("built ") and (base_site / "build" / "index.html").is_file()
    record = base_site / "content" / "projecten" / "project-twee.md"
    record.write_text(record.read_text().replace("dossier-een", "dossier-eem", 1))
    failed = subprocess.run([sys.executable, "-m", "dossier", "build", str(base_site)],
                            capture_output=True, text=True, check=False)
    assert failed.returncode == 1
    assert "did you mean 'dossier-een'?" in failed.stderr and "Traceback" not in failed.stderr
    wrong = subprocess.run([sys.executable, "-m", "dossier", "build", "--jobs", "x"],
                           capture_output=True, text=True, check=False)
    assert wrong.returncode == 2 and "Invalid value for '--jobs'" in wrong.stderr


def test_output_folder_may_not_be_the_site(base_site: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(base_site), "--out", str(base_site)])
    assert result.exit_code == 1
    assert "would replace the site's own files" in result.stderr
    assert (base_site / "content" / "site.yml").is_file()


def test_refuses_to_replace_a_folder_it_did_not_make(base_site: Path, tmp_path: Path) -> None:
    precious = tmp_path / "documenten"
    precious.mkdir()
    (precious / "brief.txt").write_text("niet weggooien")
    result = CliRunner().invoke(main, ["build", str(base_site), "--out", str(precious)])
    assert result.exit_code == 1
    assert "was not made by dossier build" in result.stderr
    assert (precious / "brief.txt").read_text() == "niet weggooien"


def test_a_base_url_that_would_need_escaping_is_wrong_usage(base_site: Path) -> None:
    for url in ('https://x.nl/"><script>alert(1)</script>/', "javascript:alert(1)//",
                "https://x.nl/a b/"):
        result = CliRunner().invoke(main, ["build", str(base_site), "--base-url", url])
        assert result.exit_code == 2
        assert "absolute web address" in result.output
    assert not (base_site / "build").exists()


def test_a_base_url_in_site_yml_that_would_need_escaping_is_an_error(base_site: Path) -> None:
    site_yml = base_site / "content" / "site.yml"
    site_yml.write_text(site_yml.read_text().replace(
        "base_url: https://databank.example.org/test/",
        "base_url: 'https://databank.example.org/\"><x/'"))
    result = CliRunner().invoke(main, ["check", str(base_site)])
    assert result.exit_code == 1
    assert "content/site.yml:5:11: error: base_url: " in result.stderr


# What a rebuild that finds nothing to do must not load: the renderer and its libraries
# are most of the start-up time of such a build (a build with nothing to do is what
# `make site` and an editor's second build do most often).
HEAVY = ("markdown", "jinja2", "PIL", "nh3", "dossier.render.renderer", "dossier.model.site")


def test_a_build_with_nothing_to_do_loads_neither_renderer_nor_markdown(
        example_site: Path) -> None:
    out = example_site / "build"
    run = [sys.executable, "-c",
           "import sys\nfrom dossier.cli import main\n"
           f"sys.argv = ['dossier', 'build', {str(example_site)!r}, '--quiet', '--no-search']\n"
           "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
           f"print(sorted(m for m in sys.modules if m.startswith({HEAVY!r})))"]
    first = subprocess.run(run, capture_output=True, text=True, check=True)
    assert "markdown" in first.stdout and (out / "index.html").is_file()  # it did build
    again = subprocess.run(run, capture_output=True, text=True, check=True)
    assert again.stdout.strip() == "[]", again.stdout


def test_no_build_reads_the_metadata_of_every_installed_package(base_site: Path) -> None:
    """Naming a Markdown extension by its name, or asking a package for its version through
    importlib.metadata, reads the metadata of every installed package: at the start of
    every build, more time than converting an edited record takes."""
    record = base_site / "content" / "projecten" / "project-een.md"
    run = [sys.executable, "-c",
           "import sys\nfrom dossier.cli import main\n"
           f"sys.argv = ['dossier', 'build', {str(base_site)!r}, '--quiet', '--jobs', '1']\n"
           "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
           "print('markdown' in sys.modules, 'importlib.metadata' in sys.modules)"]
    first = subprocess.run(run, capture_output=True, text=True, check=True)
    record.write_text(record.read_text(encoding="utf-8") + "\nEen bewerkte zin.\n",
                      encoding="utf-8")
    edit = subprocess.run(run, capture_output=True, text=True, check=True)
    assert (first.stdout.split(), edit.stdout.split()) == (["True", "False"], ["True", "False"])


def test_a_profile_of_a_build_is_written(base_site: Path, tmp_path: Path) -> None:
    """`python -m cProfile -m dossier …` (how the issues profile a build) gets its report:
    under a profiler the command exits as Python does, not at once."""
    profile = tmp_path / "build.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), "-m",
                           "dossier", "build", str(base_site), "--quiet"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    profiled = pstats.Stats(str(profile)).get_stats_profile().func_profiles.values()
    assert any(f.file_name.endswith("build/pipeline.py") for f in profiled)
