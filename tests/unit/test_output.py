"""Write stage: the output folder is swapped in whole, and unchanged files are not touched."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from dossier.core.diagnostics import DossierError
from dossier.write import output
from dossier.write.files import safe_relpath
from dossier.write.output import MARKER, MemoryOutput, OutputFolder, WriteStats
from helpers import snapshot

SITE = {"index.html": b"<p>home</p>", "projecten/tussen-in/index.html": b"<p>project</p>",
        "static/dossier.css": b"body {}"}


def build(out: Path, files: dict[str, bytes]) -> WriteStats:
    with OutputFolder(out) as folder:
        for rel, data in files.items():
            folder.write(rel, data)
        return folder.commit()


def stamped(path: Path) -> tuple[bytes, int, int]:
    """A file's bytes, inode and mtime: what a rewrite would change."""
    return path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns


def leftovers(parent: Path, name: str = "build") -> list[str]:
    return sorted(p.name for p in parent.iterdir()
                  if p.name.startswith((f".{name}.tmp-", f".{name}.old-")))


def test_first_build_creates_the_folder_with_the_files(tmp_path: Path) -> None:
    out = tmp_path / "build"
    stats = build(out, SITE)
    assert {rel: data for rel, data in snapshot(out).items() if rel != MARKER} == SITE
    assert (out / MARKER).is_file()
    assert stats == WriteStats(written=3, changed=3, removed=0)
    assert leftovers(tmp_path) == []


def test_first_build_creates_missing_parent_folders(tmp_path: Path) -> None:
    out = tmp_path / "diep" / "genest" / "build"
    build(out, SITE)
    assert (out / "index.html").read_bytes() == SITE["index.html"]


def test_unchanged_file_keeps_inode_and_mtime(tmp_path: Path) -> None:
    out = tmp_path / "build"
    build(out, SITE)
    before = snapshot(out, stamped)
    stats = build(out, SITE)
    assert snapshot(out, stamped) == before
    assert stats.changed == 0


def test_changed_file_is_rewritten_and_others_kept(tmp_path: Path) -> None:
    out = tmp_path / "build"
    build(out, SITE)
    before = snapshot(out, stamped)
    stats = build(out, {**SITE, "index.html": b"<p>nieuw</p>"})
    after = snapshot(out, stamped)
    assert (out / "index.html").read_bytes() == b"<p>nieuw</p>"
    assert after["index.html"][1] != before["index.html"][1]
    assert after["static/dossier.css"] == before["static/dossier.css"]
    assert stats.changed == 1


def test_file_with_same_size_but_other_bytes_is_rewritten(tmp_path: Path) -> None:
    out = tmp_path / "build"
    build(out, {"a.html": b"aaaa"})
    build(out, {"a.html": b"bbbb"})
    assert (out / "a.html").read_bytes() == b"bbbb"


def test_removed_files_disappear(tmp_path: Path) -> None:
    out = tmp_path / "build"
    build(out, SITE)
    stats = build(out, {"index.html": SITE["index.html"]})
    assert not (out / "projecten").exists()
    assert not (out / "static" / "dossier.css").exists()
    assert stats.removed == 2


def test_exception_inside_with_leaves_old_folder_byte_identical(tmp_path: Path) -> None:
    out = tmp_path / "build"
    build(out, SITE)
    before = snapshot(out, stamped)
    with pytest.raises(RuntimeError), OutputFolder(out) as folder:
        folder.write("index.html", b"<p>half</p>")
        folder.write("nieuw.html", b"<p>nieuw</p>")
        raise RuntimeError("render failed")
    assert snapshot(out, stamped) == before
    assert leftovers(tmp_path) == []


def test_leaving_with_without_commit_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "build"
    with OutputFolder(out) as folder:
        folder.write("index.html", b"x")
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_leftover_temporary_folders_of_a_killed_build_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "build"
    build(out, SITE)
    for name in (".build.tmp-123", ".build.old-456"):
        (tmp_path / name / "projecten").mkdir(parents=True)
        (tmp_path / name / "projecten" / "x.html").write_bytes(b"half")
    (tmp_path / ".ander.tmp-123").mkdir()  # another output folder's: not ours to remove
    build(out, SITE)
    assert leftovers(tmp_path) == []
    assert (tmp_path / ".ander.tmp-123").is_dir()


def test_non_empty_folder_not_made_by_dossier_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "scriptie"
    out.mkdir()
    (out / "hoofdstuk-1.docx").write_bytes(b"belangrijk")
    with pytest.raises(DossierError) as caught:
        build(out, SITE)
    [problem] = caught.value.diagnostics
    assert "not made by dossier build" in problem.message
    assert sorted(p.name for p in out.iterdir()) == ["hoofdstuk-1.docx"]
    assert (out / "hoofdstuk-1.docx").read_bytes() == b"belangrijk"
    assert leftovers(tmp_path, "scriptie") == []


def test_empty_existing_folder_is_used(tmp_path: Path) -> None:
    out = tmp_path / "build"
    out.mkdir()
    build(out, SITE)
    assert (out / "index.html").read_bytes() == SITE["index.html"]


def test_a_refused_folder_can_be_built_after_it_is_emptied(tmp_path: Path) -> None:
    out = tmp_path / "build"
    out.mkdir()
    (out / "x").write_bytes(b"")
    with pytest.raises(DossierError):
        build(out, SITE)
    (out / "x").unlink()
    build(out, SITE)  # the lock of the refused attempt was released
    assert (out / "index.html").is_file()


def test_two_outputs_to_one_path_are_refused(tmp_path: Path) -> None:
    with OutputFolder(tmp_path / "build") as folder:
        folder.write("a/index.html", b"1")
        with pytest.raises(ValueError, match="two outputs"):
            folder.write("a/./index.html", b"2")


def test_unsafe_path_is_refused_by_write(tmp_path: Path) -> None:
    with OutputFolder(tmp_path / "build") as folder, pytest.raises(ValueError):
        folder.write("../buiten.html", b"x")
    assert not (tmp_path / "buiten.html").exists()


@pytest.mark.parametrize(
    "rel", ["../x", "a/../../x", "/etc/passwd", "C:/x", "c:x", "a\\b", "\\x", "", "..", "x\x00"]
)
def test_safe_relpath_refuses_paths_leaving_the_folder(rel: str) -> None:
    with pytest.raises(ValueError, match="unsafe output path"):
        safe_relpath(rel)


@pytest.mark.parametrize(
    ("rel", "norm"),
    [("index.html", "index.html"), ("projecten/x/index.html", "projecten/x/index.html"),
     ("a/./b", "a/b"), ("a/../b", "b")],
)
def test_safe_relpath_normalises_safe_paths(rel: str, norm: str) -> None:
    assert safe_relpath(rel) == norm


def test_memory_output_collects_names_and_writes_nothing(tmp_path: Path) -> None:
    output = MemoryOutput()
    output.write("projecten/./x/index.html", b"x")
    assert output.files == {"projecten/x/index.html"}
    with pytest.raises(ValueError):
        output.write("../x", b"x")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_parent_is_a_diagnostic(tmp_path: Path) -> None:
    parent = tmp_path / "alleen-lezen"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        with pytest.raises(DossierError) as caught:
            build(parent / "build", SITE)
    finally:
        parent.chmod(0o755)
    [problem] = caught.value.diagnostics
    assert problem.severity == "error"
    assert not (parent / "build").exists()


def test_output_under_a_file_is_a_diagnostic_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "bestand").write_bytes(b"")
    with pytest.raises(DossierError) as caught:
        build(tmp_path / "bestand" / "build", SITE)
    [problem] = caught.value.diagnostics
    assert problem.message.startswith("cannot create output folder")


# --- the private folder (in the build cache) --------------------------------------------

def private_build(out: Path, private: Path, files: dict[str, bytes]) -> OutputFolder:
    def make() -> Path:
        private.mkdir(mode=0o700, exist_ok=True)
        return private

    with OutputFolder(out, private=make) as folder:
        for rel, data in files.items():
            folder.write(rel, data)
        folder.commit()
    return folder


def test_with_a_private_folder_nothing_but_the_output_is_made_beside_it(
        tmp_path: Path) -> None:
    www, private = tmp_path / "www", tmp_path / "cache"
    out = www / "databank"
    private_build(out, private, SITE)
    folder = private_build(out, private, {"index.html": SITE["index.html"]})
    assert folder.notices == []
    assert [p.name for p in www.iterdir()] == ["databank"]
    assert not (out / "projecten").exists()
    # The site as it was is the standby, in the private folder only.
    assert sorted(p.name for p in private.iterdir()) == ["lock", "standby"]
    assert (private / "standby" / "projecten" / "tussen-in" / "index.html").is_file()


def test_a_private_folder_on_another_filesystem_keeps_no_standby(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    www, private = tmp_path / "www", tmp_path / "cache"
    out = www / "databank"
    private_build(out, private, SITE)
    # A first build has no old site to keep: it keeps a copy of its own as the standby.
    assert (private / "standby" / "index.html").stat().st_ino == (out / "index.html").stat().st_ino
    monkeypatch.setattr(output, "_same_filesystem", lambda a, b: False)
    folder = private_build(out, private, {"index.html": SITE["index.html"]})
    [notice] = folder.notices
    assert "another filesystem" in notice
    assert [p.name for p in www.iterdir()] == ["databank"]
    assert sorted(p.name for p in private.iterdir()) == ["lock"]
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "index.html"]
    assert os.stat(out).st_mode & 0o777 == os.stat(www).st_mode & 0o777  # not 0o700


def test_leftover_trees_in_the_private_folder_are_removed(tmp_path: Path) -> None:
    out, private = tmp_path / "build", tmp_path / "cache"
    private_build(out, private, SITE)
    for name in ("tmp-123", "old-456"):
        (private / name / "projecten").mkdir(parents=True)
    private_build(out, private, SITE)
    assert sorted(p.name for p in private.iterdir()) == ["lock", "standby"]


def test_an_older_version_s_lock_beside_the_output_is_respected_then_removed(
        tmp_path: Path) -> None:
    out, private = tmp_path / "build", tmp_path / "cache"
    old = tmp_path / ".build.lock"
    fd = os.open(old, os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(DossierError, match="another build is writing"):
            private_build(out, private, SITE)
    finally:
        os.close(fd)
    private_build(out, private, SITE)
    assert [p.name for p in tmp_path.iterdir() if p.name != "cache"] == ["build"]
