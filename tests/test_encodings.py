"""Odd but harmless files: a BOM, CRLF or mixed line ends and editor litter change nothing."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from dossier.cli import main
from helpers import snapshot


def built(site: Path, out: Path) -> dict[str, bytes]:
    result = CliRunner().invoke(main, ["build", str(site), "--out", str(out), "-q",
                                       "--no-cache"])
    assert result.exit_code == 0, result.output
    return snapshot(out)


def test_bom_crlf_and_mixed_line_ends_give_the_same_site(base_site: Path,
                                                         tmp_path: Path) -> None:
    plain = built(base_site, tmp_path / "lf")
    records = sorted((base_site / "content").rglob("*.*"))
    for i, file in enumerate(records):
        text = file.read_bytes()
        if i % 3 == 0:
            text = b"\xef\xbb\xbf" + text.replace(b"\n", b"\r\n")
        elif i % 3 == 1:
            lines = text.split(b"\n")
            text = b"".join(line + (b"\r\n", b"\n")[n % 2]  # edited on two systems
                            for n, line in enumerate(lines[:-1])) + lines[-1]
        else:
            text = text.replace(b"\n", b"\r")  # classic Mac OS
        file.write_bytes(text)
    assert built(base_site, tmp_path / "crlf") == plain


def test_editor_and_system_litter_is_ignored(base_site: Path, tmp_path: Path) -> None:
    plain = built(base_site, tmp_path / "schoon")
    folder = base_site / "content" / "projecten"
    broken = b"---\ntitel: [kapot\n\x00\xff"
    for name in ("project-een.md~", ".project-een.md.swp", "project-een.swp", "#project-een.md#",
                 ".DS_Store", "Thumbs.db", "desktop.ini", "project-een.md.bak",
                 "project-een.tmp", ".verborgen.md"):
        (folder / name).write_bytes(broken)
    os.symlink("gebruiker@machine.12345:1700000000", folder / ".#project-een.md")  # Emacs lock
    (base_site / "content" / ".DS_Store").write_bytes(broken)
    result = CliRunner().invoke(main, ["check", str(base_site)])
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1] == "check passed: 0 errors, 0 warnings"
    assert built(base_site, tmp_path / "met-rommel") == plain
