"""Faults: a killed build, a full disk or a read-only folder leave the previous site whole,
and the next build needs no cleaning up."""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dossier.cli import main
from dossier.incremental.cache import BuildCache
from dossier.write import files, output
from helpers import assert_same_as_clean, digest, generated_site, mounted, snapshot

TIMEOUT = 900  # seconds: only turns a hang into a failure


def digests(folder: Path) -> dict[str, str]:
    """Every file under `folder` with a hash of its bytes."""
    return snapshot(folder, digest)


def leftovers(parent: Path) -> list[str]:
    """What a build made beside its output folder `build` (there should be nothing)."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".build."))


def private(site: Path, out: Path | None = None) -> Path:
    """The output folder's private folder in the build cache (lock, trees)."""
    return BuildCache(site, out or site / "build").private


def trees(site: Path) -> list[str]:
    """Trees of killed builds in the private folder."""
    return sorted(p.name for p in private(site).iterdir()
                  if p.name.startswith(("tmp-", "old-")))


def dossier_build(site: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "dossier", "build", str(site), "--quiet",
                             *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    _, err = process.communicate(timeout=TIMEOUT)
    return process.returncode, err.decode()


def file_count(folder: Path) -> int:
    return sum(len(names) for _, _, names in os.walk(folder))


def kill_when(process: subprocess.Popen[bytes], moment: Callable[[], bool]) -> bool:
    """SIGKILL the build as soon as `moment()` holds; False if it finished before that."""
    deadline = time.monotonic() + TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        if moment():
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=TIMEOUT)
            return True
        time.sleep(0.02)
    finish(process)
    return False


def lock_is_free(site: Path) -> bool:
    """The output folder's lock can be taken: no process of the killed build survives."""
    fd = os.open(private(site) / "lock", os.O_RDWR)
    try:
        for _ in range(200):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                time.sleep(0.05)
                continue
            fcntl.flock(fd, fcntl.LOCK_UN)
            return True
        return False
    finally:
        os.close(fd)


def edit_projects(site: Path) -> None:
    """Change the text of a few projects, as an editor does between two builds."""
    for file in sorted((site / "content" / "projecten").glob("*.md"))[:3]:
        text = file.read_text()
        file.unlink()
        file.write_text(text.replace("## Doel\n\n", "## Doel\n\nBijgewerkt. ", 1))


def test_a_build_killed_at_any_moment_leaves_the_old_or_the_new_site(tmp_path: Path) -> None:
    """SIGKILL while the new files are written (early, halfway through a full build) and
    just after the swap: build/ is then, file for file, the old site or the new one, and
    the next build succeeds without any cleaning up."""
    site = generated_site(tmp_path / "site", 5000, words=100)
    out = site / "build"
    # Without the cache: no standby is kept, so the next builds assemble a whole new tree.
    assert finish(dossier_build(site, "--no-cache")) == (0, "")
    old, old_inode = digests(out), out.stat().st_ino
    edit_projects(site)
    seen: list[dict[str, str]] = []  # build/ after each kill

    def written(process: subprocess.Popen[bytes], share: float) -> Callable[[], bool]:
        folder = private(site) / f"tmp-{process.pid}"
        return lambda: folder.is_dir() and file_count(folder) >= share * len(old)

    for share, how in ((0.02, ()), (0.5, ("--no-cache",))):
        process = dossier_build(site, *how)
        assert kill_when(process, written(process, share)), f"ended before {share:.0%}"
        assert lock_is_free(site)
        seen.append(digests(out))
        if out.stat().st_ino == old_inode:  # not swapped yet: must be the old site
            assert seen[-1] == old, f"killed at {share:.0%}, build/ is not the old site"
            assert trees(site), "the killed build's temporary folder should be there"
        assert leftovers(site) == []

    process = dossier_build(site)
    kill_when(process, lambda: out.stat().st_ino != old_inode)  # just swapped
    assert lock_is_free(site)
    seen.append(digests(out))

    code, err = finish(dossier_build(site))
    assert (code, err) == (0, "")
    new = digests(out)
    assert new != old
    assert seen[-1] == new  # the killed build had put the whole new site in place
    assert all(state in (old, new) for state in seen)
    assert leftovers(site) == []
    assert trees(site) == []
    assert list((site / ".dossier-cache").glob("*.tmp-*")) == []


def test_a_build_killed_while_it_updates_the_standby_leaves_the_old_site(
        tmp_path: Path) -> None:
    """From the second build on, the tree kept from before the last swap is brought up to
    date in place: killed while that is going on, build/ is the old site file for file,
    and the next build makes the new site as a clean build does."""
    site = generated_site(tmp_path / "site", 2000, words=100)
    out = site / "build"
    assert finish(dossier_build(site)) == (0, "")
    edit_projects(site)
    assert finish(dossier_build(site)) == (0, "")  # now there is a standby tree
    standby = private(site) / "standby"
    assert standby.is_dir()
    old = digests(out)
    # An organisation: its export was the same in the last two builds, so the standby
    # shares that file with the site by hard link (it must be replaced, not written into).
    organisation = site / "content" / "organisaties" / "org-0001.md"
    text = organisation.read_text()
    organisation.unlink()
    organisation.write_text(text.replace("Gegenereerde organisatie 0001", "Hernoemd 0001"))
    export = standby / "data" / "organisaties.json"
    assert export.stat().st_ino == (out / "data" / "organisaties.json").stat().st_ino
    before = export.stat().st_ino
    process = dossier_build(site)
    assert kill_when(process, lambda: export.exists() and export.stat().st_ino != before), \
        "the build ended before it rewrote the export in the standby"
    assert lock_is_free(site)
    assert digests(out) == old
    assert finish(dossier_build(site)) == (0, "")
    # As a clean build, file for file (the search index: what it shows a visitor, since
    # an edit's entries go to a delta part that a clean build does not have).
    assert_same_as_clean(site, tmp_path)
    assert not [p for p in out.rglob("*") if ".part-" in p.name]


def test_a_second_build_of_the_same_folder_is_refused_while_one_runs(base_site: Path) -> None:
    folder = BuildCache(base_site, base_site / "build").private_folder()
    lock = os.open(folder / "lock", os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = CliRunner().invoke(main, ["build", str(base_site)])
    finally:
        os.close(lock)
    assert result.exit_code == 1
    assert "another build is writing this output folder" in result.stderr
    assert not (base_site / "build").exists()


# --- a full disk -------------------------------------------------------------------------

class _FullDisk:
    """`open` for the output module: the n-th file opened for writing finds the disk full."""

    def __init__(self, after: int) -> None:
        self.left = after

    def __call__(self, file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = open(file, mode, *args, **kwargs)  # noqa: SIM115 - returned to the caller
        if "w" in mode:
            self.left -= 1
            if self.left < 0:
                handle.close()
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
        return handle


def change_every_page(site: Path) -> None:
    config = site / "content" / "site.yml"
    config.write_text(config.read_text().replace("titel: ", "titel: Vernieuwd ", 1))


def test_a_full_disk_is_a_clear_error_and_the_old_site_stays(
    base_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert CliRunner().invoke(main, ["build", str(base_site), "-q"]).exit_code == 0
    before = digests(base_site / "build")
    change_every_page(base_site)
    monkeypatch.setattr(files, "open", _FullDisk(after=10), raising=False)
    result = CliRunner().invoke(main, ["build", str(base_site), "--jobs", "1"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{base_site / 'build'}:1:1: error: disk is full; the previous build was left as it was")
    assert digests(base_site / "build") == before
    assert leftovers(base_site) == []
    monkeypatch.undo()
    assert CliRunner().invoke(main, ["build", str(base_site), "-q"]).exit_code == 0


def test_a_really_full_disk_during_a_parallel_build(tmp_path: Path) -> None:
    site = generated_site(tmp_path / "site", 120, words=100)
    disk = tmp_path / "klein"
    disk.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)):
        out = disk / "build"
        assert finish(dossier_build(site, "--out", str(out))) == (0, "")
        before = digests(out)
        space = os.statvfs(disk)
        with open(disk / "vulling", "wb") as filler:
            filler.write(b"\0" * (space.f_bavail * space.f_frsize - 512 * 1024))
        change_every_page(site)
        code, err = finish(dossier_build(site, "--out", str(out), "--jobs", "2"))
        assert code == 1
        assert f"{out}:1:1: error: disk is full; the previous build was left as it was" in err
        assert "Traceback" not in err
        assert digests(out) == before
        assert leftovers(disk) == []


# --- a read-only folder ------------------------------------------------------------------

def test_a_read_only_filesystem_is_a_clear_error(
    base_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert CliRunner().invoke(main, ["build", str(base_site), "-q"]).exit_code == 0
    before = digests(base_site / "build")

    def read_only(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(output.os, "open", read_only)
    # --no-cache: an unchanged site is otherwise up to date and needs no writing at all.
    result = CliRunner().invoke(main, ["build", str(base_site), "--no-cache"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (f"{base_site / 'build'}:1:1: error: cannot lock "
                                             "the output folder: Read-only file system")
    assert digests(base_site / "build") == before


def test_a_read_only_mount_leaves_the_old_site(base_site: Path, tmp_path: Path) -> None:
    folder = tmp_path / "alleen-lezen"
    folder.mkdir()
    out = folder / "build"
    assert finish(dossier_build(base_site, "--out", str(out))) == (0, "")
    before = digests(out)
    change_every_page(base_site)
    with mounted("--bind", "-o", "ro", str(folder), str(folder)):
        if _writable(folder):
            pytest.skip("this mount does not make a bind mount read-only (util-linux < 2.27)")
        code, err = finish(dossier_build(base_site, "--out", str(out)))
    assert code == 1
    assert "Read-only file system" in err
    assert digests(out) == before


def _writable(folder: Path) -> bool:
    try:
        (folder / ".proef").touch()
    except OSError:
        return False
    (folder / ".proef").unlink()
    return True


def test_an_immutable_output_folder_leaves_the_old_site(base_site: Path) -> None:
    out = base_site / "build"
    assert CliRunner().invoke(main, ["build", str(base_site), "-q"]).exit_code == 0
    before = digests(out)
    change_every_page(base_site)
    if subprocess.run(["chattr", "+i", str(out)], capture_output=True,
                      check=False).returncode != 0:
        pytest.skip("chattr +i is not possible here (needs root and ext4 or xfs)")
    try:
        result = CliRunner().invoke(main, ["build", str(base_site)])
    finally:
        subprocess.run(["chattr", "-i", str(out)], check=True)
    assert result.exit_code == 1
    assert "no permission to write (Operation not permitted); the previous build was left " \
           "as it was" in result.stderr
    assert digests(out) == before
    assert leftovers(base_site) == []
