"""The preview server's pure parts: which file a request gets, the reload script, the error page."""

from __future__ import annotations

from pathlib import Path

import pytest
import watchfiles

from dossier.core.diagnostics import Diagnostic
from dossier.preview.server import (
    RELOAD_JS,
    Target,
    changed_files,
    error_page,
    resolve,
    with_reload,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    (out / "projecten" / "een").mkdir(parents=True)
    (out / "index.html").write_text("<html><body>home</body></html>")
    (out / "projecten" / "een" / "index.html").write_text("<html><body>een</body></html>")
    (tmp_path / "geheim.txt").write_text("root:x:0:0")
    return out


def test_pages_resolve_to_their_index_files(root: Path) -> None:
    assert resolve(root, "/db/", "/db/") == Target(200, (root / "index.html").resolve())
    assert resolve(root, "/db/", "/db/projecten/een/?x=1").file == (
        root / "projecten" / "een" / "index.html").resolve()
    assert resolve(root, "/db/", "/db/projecten/een") == Target(301, location="/db/projecten/een/")
    assert resolve(root, "/db/", "/db/projecten/twee/").status == 404


def test_the_root_redirects_to_the_path_prefix(root: Path) -> None:
    assert resolve(root, "/db/", "/") == Target(302, location="/db/")
    assert resolve(root, "/db/", "/db") == Target(302, location="/db/")
    assert resolve(root, "/db/", "/elders/").status == 404


@pytest.mark.parametrize("path", [
    "/db/../geheim.txt", "/db/%2e%2e/geheim.txt", "/db/%2E%2E%2Fgeheim.txt", "/db//etc/passwd",
    "/db/./index.html", "/db/a%00b", "/db/..%5cgeheim.txt",
])
def test_paths_that_climb_out_are_refused(root: Path, path: str) -> None:
    assert resolve(root, "/db/", path).status == 400


def test_a_symbolic_link_out_of_the_output_folder_is_not_followed(root: Path) -> None:
    (root / "link.txt").symlink_to(root.parent / "geheim.txt")
    (root / "map").symlink_to(root.parent)
    assert resolve(root, "/", "/link.txt").status == 404
    assert resolve(root, "/", "/map/geheim.txt").status == 404


def test_the_reload_script_goes_before_the_end_of_the_body() -> None:
    page = with_reload(b"<html><body><p>x</p></BODY></html>", 7)
    assert page == (b'<html><body><p>x</p><script src="' + RELOAD_JS.encode()
                    + b'" data-since="7"></script></BODY></html>')
    assert with_reload(b"<p>fragment</p>", 1).endswith(b'data-since="1"></script>')


def test_the_error_page_escapes_what_the_editor_wrote(tmp_path: Path) -> None:
    record = tmp_path / "content" / "projecten" / "x.md"
    record.parent.mkdir(parents=True)
    record.write_text('---\ntitel: X\nthema: ["<script>alert(1)</script>"]\n---\n')
    problem = Diagnostic("content/projecten/x.md", 3, 9, "error", "thema",
                         "'<script>alert(1)</script>' is not a known term")
    page = error_page(tmp_path, [problem])
    assert "<script>" not in page
    assert "content/projecten/x.md:3:9" in page
    assert "thema: &#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27; is not a known term" in page
    assert '    3 | thema: [&quot;&lt;script&gt;' in page, "the line it points at"


def test_the_error_page_shows_no_file_outside_the_site(tmp_path: Path) -> None:
    (tmp_path / "geheim.txt").write_text("root:x:0:0\n")
    site = tmp_path / "site"
    site.mkdir()
    page = error_page(site, [Diagnostic("../geheim.txt", 1, 1, "error", "", "kapot")])
    assert "root:x" not in page


def test_files_an_editor_writes_and_removes_in_one_save_are_not_changes(tmp_path: Path) -> None:
    record, temp = str(tmp_path / "content" / "a.md"), str(tmp_path / "content" / ".a.md.swp")
    changes = {(watchfiles.Change.added, temp), (watchfiles.Change.deleted, temp),
               (watchfiles.Change.modified, record)}
    assert changed_files(changes, tmp_path) == ["content/a.md"]
    assert changed_files({(watchfiles.Change.deleted, record)}, tmp_path) == ["content/a.md"]


def test_the_search_page_says_while_its_index_catches_up() -> None:
    from dossier.preview.server import INDEXING_ID, with_notice

    page = b'<html><body><main id="inhoud" tabindex="-1"><h1>Zoeken</h1></main></body></html>'
    shown = with_notice(page)
    assert shown.index(f'id="{INDEXING_ID}"'.encode()) > shown.index(b"<main")
    assert shown.index(b"<h1>") > shown.index(f'id="{INDEXING_ID}"'.encode())
    assert b"zoekindex wordt bijgewerkt" in shown
