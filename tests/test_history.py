"""Dates from git history (issue 17): a record without `bijgewerkt` gets the date of the
last commit that changed its file, in its page, the feed, the sitemap and the exports.

Every test makes its own git repository in a temporary folder, with fixed commit dates.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import dossier.content.history
from dossier.build import BuildOptions, build
from dossier.content.history import parse_log
from helpers import copy_example, edit, make_site, snapshot

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

PROJECTS = Path("content") / "projecten"
# project-een carries bijgewerkt: 2012-06-14 of its own; the other two carry none.
OWN_DATE = "2012-06-14"


def git(site: Path, *args: str, date: str = "2021-03-04T10:00:00+00:00") -> None:
    """Run git in `site`, untouched by the machine's git configuration."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "Redactie", "GIT_AUTHOR_EMAIL": "redactie@example.org",
           "GIT_COMMITTER_NAME": "Redactie", "GIT_COMMITTER_EMAIL": "redactie@example.org",
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", *args], cwd=site, env=env, check=True, capture_output=True)


def commit(site: Path, date: str, *paths: str) -> None:
    git(site, "add", *(paths or ["-A"]), date=date)
    git(site, "commit", "-q", "-m", f"Wijziging van {date}", date=date)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The base test site in a git repository: one commit of everything (2021-03-04), then
    project-drie changed in a second commit, late in the evening east of Greenwich."""
    site = make_site("_base", tmp_path)
    git(site, "init", "-q", "-b", "main")
    (site / ".gitignore").write_text("build/\n.dossier-cache/\n")
    commit(site, "2021-03-04T10:00:00+00:00")
    edit(site / PROJECTS / "project-drie.md", "## Doel\n", "## Doel\n\nEen nieuwe zin.\n")
    commit(site, "2022-05-06T23:30:00+02:00")  # 21:30 UTC: the committer's day counts
    return site


def page(site: Path, slug: str, out: str = "build") -> str:
    return (site / out / "projecten" / slug / "index.html").read_text()


def exported(site: Path, out: str = "build") -> dict[str, object]:
    rows = json.loads((site / out / "data" / "projecten.json").read_text())
    return {row["slug"]: row.get("bijgewerkt") for row in rows}


def test_committed_records_get_their_commit_dates_everywhere(repo: Path) -> None:
    build(repo)
    assert exported(repo) == {"project-een": OWN_DATE, "project-twee": "2021-03-04",
                              "project-drie": "2022-05-06"}
    drie = page(repo, "project-drie")
    assert '<time datetime="2022-05-06">6 mei 2022</time>' in drie
    assert '"dateModified": "2022-05-06"' in drie
    record = json.loads((repo / "build" / "projecten" / "project-drie" / "index.json")
                        .read_text())
    assert record["bijgewerkt"] == "2022-05-06"
    csv_rows = (repo / "build" / "data" / "projecten.csv").read_text()
    assert "2022-05-06" in csv_rows and "2021-03-04" in csv_rows
    feed = (repo / "build" / "feed.xml").read_text()
    assert feed.count("<entry>") == 3
    assert feed.index("project-drie") < feed.index("project-twee") < feed.index("project-een")
    assert "<updated>2022-05-06T00:00:00Z</updated>" in feed
    sitemap = (repo / "build" / "sitemap.xml").read_text()
    assert "projecten/project-twee/</loc><lastmod>2021-03-04</lastmod>" in sitemap
    home = (repo / "build" / "index.html").read_text()
    recent = home[home.index('id="home-recent"'):]
    assert recent.index("Project drie") < recent.index("Project twee")
    assert "Laatst bijgewerkt: 6 mei 2022" in home  # the newest date is the site's date


def test_a_records_own_date_wins(repo: Path) -> None:
    build(repo)
    een = page(repo, "project-een")
    assert f'<time datetime="{OWN_DATE}">' in een and "2021-03-04" not in een


def test_uncommitted_and_modified_records_get_no_date(repo: Path) -> None:
    shutil.copy(repo / PROJECTS / "project-twee.md", repo / PROJECTS / "project-vier.md")
    edit(repo / PROJECTS / "project-drie.md", "## Aanpak\n", "## Aanpak\n\nNog niet vastgelegd.\n")
    build(repo)
    assert exported(repo) == {"project-een": OWN_DATE, "project-twee": "2021-03-04",
                              "project-drie": None, "project-vier": None}
    git(repo, "add", str(PROJECTS / "project-drie.md"))  # staged is not committed either
    build(repo)
    assert exported(repo)["project-drie"] is None
    assert "fact-bijgewerkt" not in page(repo, "project-vier")


def test_a_build_outside_git_uses_no_dates(repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "kopie"
    shutil.copytree(repo, elsewhere, ignore=shutil.ignore_patterns(".git"))
    build(elsewhere)
    assert exported(elsewhere) == {"project-een": OWN_DATE, "project-twee": None,
                                   "project-drie": None}
    assert (elsewhere / "build" / "feed.xml").read_text().count("<entry>") == 1


def test_two_builds_of_the_same_commits_are_byte_identical(repo: Path, tmp_path: Path) -> None:
    build(repo, BuildOptions(out=tmp_path / "een", cache=False))
    clone = tmp_path / "kloon"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    build(clone, BuildOptions(out=tmp_path / "twee", cache=False))
    assert snapshot(tmp_path / "een") == snapshot(tmp_path / "twee")
    assert "2022-05-06" in page(tmp_path, "project-drie", "twee")


def test_a_commit_alone_updates_an_incremental_build(repo: Path, tmp_path: Path) -> None:
    """A commit changes no file; the build still notices, and equals a clean build."""
    edit(repo / PROJECTS / "project-twee.md", "## Doel\n", "## Doel\n\nNieuw.\n")
    build(repo)
    assert exported(repo)["project-twee"] is None
    commit(repo, "2023-07-08T12:00:00+00:00")
    result = build(repo)
    assert not result.unchanged
    assert exported(repo)["project-twee"] == "2023-07-08"
    assert "2023-07-08" in page(repo, "project-twee")
    build(repo, BuildOptions(out=tmp_path / "schoon", cache=False))
    assert snapshot(repo / "build") == snapshot(tmp_path / "schoon")
    assert build(repo).unchanged  # and then nothing is to do


def test_one_git_log_for_the_site_and_none_for_a_known_commit(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logs: list[list[str]] = []
    run = subprocess.run

    def counting(args: list[str], **kwargs: object) -> object:
        if "log" in args:
            logs.append(args)
        return run(args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(dossier.content.history.subprocess, "run", counting)
    build(repo)
    assert len(logs) == 1
    edit(repo / "content" / "site.yml", "per_pagina: 2", "per_pagina: 3")
    build(repo)  # same commit: the dates come from the build cache
    assert len(logs) == 1
    commit(repo, "2024-01-02T12:00:00+00:00")
    build(repo)
    assert len(logs) == 2


def test_a_change_merged_from_a_branch_counts_from_the_merge(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "zijtak")
    edit(repo / PROJECTS / "project-twee.md", "## Doel\n", "## Doel\n\nOp een zijtak.\n")
    commit(repo, "2023-01-01T12:00:00+00:00")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Samenvoegen", "zijtak",
        date="2023-02-02T12:00:00+00:00")
    build(repo)
    assert exported(repo)["project-twee"] == "2023-02-02"
    assert exported(repo)["project-drie"] == "2022-05-06"


def test_a_forged_history_cache_is_ignored(repo: Path) -> None:
    build(repo)
    kept = repo / ".dossier-cache" / "history.json"
    raw = json.loads(kept.read_text())
    raw["dates"]["content/projecten/project-twee.md"] = "2099-99-99"
    kept.write_text(json.dumps(raw))
    build(repo, BuildOptions(out=repo / "opnieuw"))
    assert exported(repo, "opnieuw")["project-twee"] == "2021-03-04"


def test_parse_log_keeps_the_newest_date_of_each_file() -> None:
    output = (b"2022-05-06T23:30:00+02:00\0\ncontent/projecten/a.md\0\0"
              b"2021-03-04T10:00:00+00:00\0\ncontent/projecten/a.md\0content/projecten/b c.md\0"
              b"\0not-a-date\0\ncontent/projecten/d.md\0")
    assert parse_log(output) == {"content/projecten/a.md": "2022-05-06",
                                 "content/projecten/b c.md": "2021-03-04"}


def test_the_example_has_a_feed_and_recent_projects_from_its_history(tmp_path: Path) -> None:
    """The repository's example carries no `bijgewerkt`: its dates come from git."""
    site = copy_example(tmp_path / "voorbeeld")
    git(site, "init", "-q", "-b", "main")
    (site / ".gitignore").write_text("build/\n.dossier-cache/\n")
    commit(site, "2012-06-14T12:00:00+02:00")
    build(site)
    assert (site / "build" / "feed.xml").read_text().count("<entry>") >= 5
    home = (site / "build" / "index.html").read_text()
    assert 'id="home-recent"' in home and "14 juni 2012" in home
