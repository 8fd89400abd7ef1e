"""Publishing where a web server serves the output's parent folder: a record that is
removed from the site leaves no copy anywhere the server (or an `rsync` of the parent) can
reach. The build's own state (its lock, the standby tree) lives in the private build
cache, and nothing but the output folder is created beside it."""

from __future__ import annotations

import contextlib
import gzip
import shutil
import stat
from pathlib import Path

from click.testing import CliRunner

from dossier.cli import main
from dossier.incremental.cache import CACHE_DIR, BuildCache
from helpers import mounted

TITLE = "Zwaluwstaart uitschrijving"  # the record a participant asked to be taken off

PROJECT = f"""---
titel: {TITLE}
samenvatting: Een project dat weer van de site gaat.
thema: [gezondheid]
uitvoerder: org-a
status: lopend
---
## Aanleiding

Tekst.

## Doel

Tekst.

## Aanpak

Tekst.

## Samenwerking

Tekst.

## Resultaten

Tekst.
"""


def publish(site: Path, out: Path) -> list[str]:
    """Build into `out`; the notices it printed."""
    result = CliRunner().invoke(main, ["build", str(site), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.parent.iterdir()] == [out.name], "only the output folder"
    return [line for line in result.stderr.splitlines() if line.startswith("notice: ")]


def holding(root: Path, text: str) -> list[str]:
    """Every file under `root` (dotted ones too) whose bytes, or gzipped bytes, hold `text`."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":  # the search index's fragments are compressed
            with contextlib.suppress(OSError, EOFError):
                data += gzip.decompress(data)
        if text.encode() in data:
            found.append(path.relative_to(root).as_posix())
    return found


def add_edit_remove(site: Path, out: Path) -> list[list[str]]:
    """Add a project, build; edit another, build; remove the first, build. The notices of
    each build."""
    notices = [publish(site, out)]
    record = site / "content" / "projecten" / "uitschrijving.md"
    record.write_text(PROJECT)
    notices.append(publish(site, out))
    assert len(holding(out, TITLE)) >= 3, "the page, the A-Z page, the lists"
    other = site / "content" / "projecten" / "project-een.md"
    text = other.read_text()
    other.unlink()
    other.write_text(text.replace("## Doel\n\n", "## Doel\n\nBijgewerkt. ", 1))
    notices.append(publish(site, out))
    record.unlink()
    notices.append(publish(site, out))
    assert (out / "projecten" / "project-een" / "index.html").is_file()
    assert not (out / "projecten" / "uitschrijving").exists()
    return notices


def test_a_removed_record_is_in_no_file_the_web_server_can_reach(
        base_site: Path, tmp_path: Path) -> None:
    www = tmp_path / "www"
    out = www / "databank"
    notices = add_edit_remove(base_site, out)
    assert notices == [[], [], [], []]
    assert holding(www, TITLE) == []
    # The site as it was (the standby tree) is kept, in the private cache only.
    cache = base_site / CACHE_DIR
    private = BuildCache(base_site, out).private
    assert holding(private, TITLE) != []
    for folder in (cache, private):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert (private / "lock").is_file()
    assert (private / "standby" / "index.html").is_file()


def test_the_same_with_the_output_on_another_filesystem(
        base_site: Path, tmp_path: Path) -> None:
    """No standby can be swapped in from the cache there: each build writes a whole new
    tree beside the output folder and deletes the old one; one notice says so."""
    www = tmp_path / "www"
    www.mkdir()
    out = www / "databank"
    with mounted("-t", "tmpfs", "-o", "size=64m", "tmpfs", str(www)):
        notices = add_edit_remove(base_site, out)
        assert holding(www, TITLE) == []
        assert [p.name for p in www.iterdir()] == ["databank"]
    assert all(len(lines) == 1 and "another filesystem" in lines[0] for lines in notices), \
        notices
    private = BuildCache(base_site, out).private
    assert not (private / "standby").exists()


def test_an_older_version_s_standby_and_lock_beside_the_output_are_removed(
        base_site: Path, tmp_path: Path) -> None:
    """What dossier used to leave beside the output folder goes with the next build."""
    www = tmp_path / "www"
    out = www / "databank"
    publish(base_site, out)
    standby = www / ".databank.standby" / "projecten" / "weg"
    standby.mkdir(parents=True)
    (standby / "index.html").write_text(TITLE)
    (www / ".databank.standby" / ".dossier-build").touch()
    (www / ".databank.lock").touch()
    result = CliRunner().invoke(main, ["build", str(base_site), "--out", str(out),
                                       "--no-cache"])
    assert result.exit_code == 0, result.output
    assert [p.name for p in www.iterdir()] == ["databank"]


def test_a_first_build_leaves_a_standby_so_the_next_edit_writes_only_what_changed(
        base_site: Path, tmp_path: Path) -> None:
    """There is no old site for a first build to keep: it makes the standby as a copy of
    its site by hard links, so the first edit after it brings that tree up to date (the
    tree the site is then served from is the standby's, folders and all) instead of
    linking every file into a new one; the result is what a clean build makes."""
    from helpers import assert_same_as_clean

    out = tmp_path / "www" / "databank"
    publish(base_site, out)
    standby = BuildCache(base_site, out).private / "standby"
    page = Path("projecten") / "project-een" / "index.html"
    assert (standby / page).stat().st_ino == (out / page).stat().st_ino, "shared by link"
    folder = (standby / "projecten").stat().st_ino
    record = base_site / "content" / "projecten" / "project-een.md"
    text = record.read_text()
    record.unlink()
    record.write_text(text.replace("## Doel\n\n", "## Doel\n\nBijgewerkt. ", 1))
    publish(base_site, out)
    assert (out / "projecten").stat().st_ino == folder, "the standby's tree is the site now"
    assert "Bijgewerkt." in (out / page).read_text()
    assert "Bijgewerkt." not in (standby / page).read_text(), "the old site is the standby"
    shutil.copytree(out, base_site / "build")  # where assert_same_as_clean looks
    assert_same_as_clean(base_site, tmp_path)
