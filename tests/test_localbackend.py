"""The web editor's local backend in `dossier serve`: Decap's proxy protocol over HTTP,
saves checked as a build checks them, and everything that must never be written refused."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dossier.preview.localbackend import MAX_BODY, is_loopback
from helpers import EXAMPLE_IMAGE, Editor, poll


def _tree(folder: Path) -> dict[str, str]:
    """Every file under a folder (the preview's and the build's own left out), hashed."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "link"
            for p in sorted(folder.rglob("*"))
            if not any(part.startswith(".dossier") for part in p.parts)
            and (p.is_file() or p.is_symlink())}


def _record(title: str = "Ouders in gesprek", themes: str = "[jeugdzorg, gezondheid]",
            lead: str = "al-amal", extra: str = "") -> str:
    return (f"---\ntitel: {title}\nsamenvatting: Gesprekken met ouders.\nthema: {themes}\n"
            f"uitvoerder: {lead}\n{extra}---\n## Aanleiding\n\nTekst.\n")


def _persist(editor: Editor, path: str, raw: str,
             assets: list[dict[str, str]] | None = None, **more: Any) -> tuple[int, Any]:
    data_file = {"slug": path.split("/")[-2], "path": path, "raw": raw, **more}
    return editor.call("persistEntry", dataFiles=[data_file], assets=assets or [],
                       options={"commitMessage": "x", "useWorkflow": False,
                                "status": "draft"})


def _asset(path: str, data: bytes) -> dict[str, str]:
    return {"path": path, "content": base64.b64encode(data).decode(), "encoding": "base64"}


# The protocol, action by action


def test_info_and_the_reading_actions(editor: Editor) -> None:
    assert editor.call("info") == (200, {"repo": "example", "publish_modes": ["simple"],
                                         "type": "local_fs"})
    status, entries = editor.call("entriesByFolder", folder="content/projecten",
                                  extension="md", depth=2)
    assert status == 200
    paths = {e["file"]["path"] for e in entries}
    assert "content/projecten/tussen-in.md" in paths
    assert "content/projecten/opbrengsten-lokale-initiatieven/index.md" in paths
    tussen_in = next(e for e in entries if e["file"]["path"].endswith("tussen-in.md"))
    text = (editor.site / "content/projecten/tussen-in.md").read_text("utf-8")
    assert tussen_in["data"] == text
    assert tussen_in["file"]["id"] == hashlib.sha256(text.encode()).hexdigest()

    status, found = editor.call("entriesByFiles", files=[
        {"path": "content/organisaties/al-amal.md"}, {"path": "content/organisaties/nee.md"}])
    assert status == 200
    assert found[0]["data"].startswith("---\n") and found[1]["data"] is None

    status, one = editor.call("getEntry", path="content/organisaties/forum.md")
    assert status == 200 and "naam: FORUM" in one["data"]

    folder = "content/projecten/opbrengsten-lokale-initiatieven"
    status, media = editor.call("getMedia", mediaFolder=folder)
    assert status == 200
    assert sorted(m["name"] for m in media) == ["factsheet.pdf", "succesfactoren.png"]
    status, image = editor.call("getMediaFile", path=EXAMPLE_IMAGE)
    assert status == 200
    assert base64.b64decode(image["content"]) == (editor.site / EXAMPLE_IMAGE).read_bytes()
    assert editor.call("getDeployPreview", collection="projecten", slug="x") == (200, None)
    status, answer = editor.call("unpublishedEntries")
    assert status == 422 and "unpublishedEntries" in answer["error"]


def test_the_preview_has_the_editor_with_the_local_backend(editor: Editor) -> None:
    status, kind, config = editor.get("admin/config.yml")
    assert status == 200 and kind.startswith("text/yaml")  # else Decap ignores it
    assert "local_backend: true" in config
    status, _, page = editor.get("admin/")
    assert status == 200 and '<script src="lokaal.js"></script>' in page
    status, _, script = editor.get("admin/lokaal.js")
    assert status == 200 and '"../api/v1"' in script and "location.href" in script


def test_a_new_project_with_a_photo_is_checked_written_and_shown(editor: Editor) -> None:
    path = "content/projecten/ouders-in-gesprek/index.md"
    photo = (editor.site / EXAMPLE_IMAGE).read_bytes()
    extra = "foto:\n  bestand: foto.png\n  alt: Ouders aan tafel.\n"
    status, answer = _persist(editor, path, _record(extra=extra), [
        _asset("content/projecten/ouders-in-gesprek/foto.png", photo)])
    assert (status, answer) == (200, {"message": "entry persisted"})
    assert (editor.site / path).read_text("utf-8") == _record(extra=extra)
    assert (editor.site / "content/projecten/ouders-in-gesprek/foto.png").read_bytes() == photo
    checked = subprocess.run([sys.executable, "-m", "dossier", "check", str(editor.site)],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert poll(lambda: "Ouders in gesprek" in editor.get("projecten/ouders-in-gesprek/")[2])

    # A changed title is saved and shown.
    status, _ = _persist(editor, path, _record(title="Ouders in gesprek, vernieuwd",
                                               extra=extra))
    assert status == 200
    assert poll(lambda: "vernieuwd" in editor.get("projecten/ouders-in-gesprek/")[2])

    # Deleted: the record with the files beside it; the page goes.
    status, _ = editor.call("deleteFile", path=path, options={"commitMessage": "x"})
    assert status == 200
    assert not (editor.site / "content/projecten/ouders-in-gesprek").exists()
    assert poll(lambda: editor.get("projecten/ouders-in-gesprek/")[0] == 404)


def test_a_record_saved_under_a_new_name_moves_with_its_files(editor: Editor) -> None:
    old, new = "content/projecten/eerst/index.md", "content/projecten/daarna/index.md"
    raw = _record(extra="foto:\n  bestand: foto.png\n  alt: Ouders aan tafel.\n")
    photo = (editor.site / EXAMPLE_IMAGE).read_bytes()
    assert _persist(editor, old, raw, [_asset("content/projecten/eerst/foto.png",
                                              photo)])[0] == 200
    status, answer = _persist(editor, old, raw, newPath=new)
    assert status == 200, answer
    assert sorted(p.name for p in (editor.site / "content/projecten/daarna").iterdir()) \
        == ["foto.png", "index.md"]
    assert not (editor.site / old).parent.exists()


def test_a_rename_that_breaks_a_link_is_refused(editor: Editor) -> None:
    before = _tree(editor.site)
    old = "content/projecten/opbrengsten-lokale-initiatieven/index.md"
    status, answer = _persist(editor, old, (editor.site / old).read_text("utf-8"),
                              newPath="content/projecten/opbrengsten/index.md")
    assert status == 422  # an organisation's page links to it by its file
    assert any(d["path"] == "content/organisaties/verwey-jonker-instituut.md"
               for d in answer["diagnostics"])
    assert _tree(editor.site) == before


def test_uploads_and_deletions_of_files(editor: Editor) -> None:
    photo = (editor.site / EXAMPLE_IMAGE).read_bytes()
    status, answer = editor.call("persistMedia", asset=_asset("content/bestanden/schema.png",
                                                              photo),
                                 options={"commitMessage": "x"})
    assert status == 200 and answer["name"] == "schema.png"
    assert (editor.site / "content/bestanden/schema.png").read_bytes() == photo
    status, _ = editor.call("persistMedia", asset=_asset("content/bestanden/twee.png", photo),
                            options={"commitMessage": "x"})
    status, _ = editor.call("deleteFiles", paths=["content/bestanden/schema.png",
                                                  "content/bestanden/twee.png"],
                            options={"commitMessage": "x"})
    assert status == 200
    assert not list((editor.site / "content/bestanden").iterdir())


# Saves the build would refuse


@pytest.mark.parametrize(("raw", "field", "message"), [
    (_record().replace("titel: Ouders in gesprek\n", ""), "titel", "required"),
    (_record(themes="[jeugdzorg, opvoedingsondersteunig]"), "thema",
     "'opvoedingsondersteunig' is not a known term"),
    (_record(lead="niemand"), "uitvoerder", "niemand"),
])
def test_a_save_the_build_would_refuse_is_not_written(editor: Editor, raw: str, field: str,
                                                      message: str) -> None:
    before = _tree(editor.site)
    for path in ("content/projecten/ouders-in-gesprek/index.md",
                 "content/projecten/tussen-in.md"):
        status, answer = _persist(editor, path, raw)
        assert status == 422
        assert message in answer["error"]
        assert any(d["field"] == field and message in d["message"] + d.get("suggestion", "")
                   and d["path"] == path for d in answer["diagnostics"]), answer
    assert _tree(editor.site) == before


def test_deleting_a_record_others_refer_to_is_refused(editor: Editor) -> None:
    before = _tree(editor.site)
    status, answer = editor.call("deleteFile", path="content/organisaties/al-amal.md",
                                 options={"commitMessage": "x"})
    assert status == 422 and "al-amal" in answer["error"]
    assert _tree(editor.site) == before


# What is never written


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "elders"
    folder.mkdir()
    (folder / "geheim.md").write_text("geheim\n", "utf-8")
    return folder


CLIMBING = [
    "content/projecten/../../../elders/index.md",
    "content/../../elders/x.md",
    "../elders/x.md",
    "content/projecten/./x.md",
    "content//projecten/x.md",
    "content/projecten/..\\..\\x.md",
    "content/projecten/x.md\x00.png",
    "content/projecten/.verborgen.md",
]
ELSEWHERE = [
    "content/site.yml",
    "content/schema.yml",
    "templates/page.html",
    "content/onbekend/x.md",
    "content/projecten/a/b/index.md",
    "content/bestanden/x.md",
    "build/index.md",
]


@pytest.mark.parametrize("path", CLIMBING + ELSEWHERE)
def test_paths_outside_the_collections_are_refused(editor: Editor, outside: Path,
                                                   path: str) -> None:
    before, elsewhere = _tree(editor.site), _tree(outside.parent)
    status, _ = _persist(editor, path, _record())
    assert status in (400, 403)
    status, _ = editor.call("persistMedia", asset=_asset(path, b"tekst\n"),
                            options={"commitMessage": "x"})
    assert status in (400, 403)
    status, _ = editor.call("deleteFile", path=path, options={"commitMessage": "x"})
    assert status in (400, 403)
    status, _ = editor.call("getEntry", path=path)
    assert status in (400, 403)
    assert _tree(editor.site) == before and _tree(outside.parent) == elsewhere


def test_an_absolute_path_is_refused(editor: Editor, outside: Path) -> None:
    before = _tree(outside)
    for path in (str(outside / "geheim.md"), str(editor.site / "content/projecten/x.md"),
                 "C:/content/projecten/x.md"):
        assert _persist(editor, path, _record())[0] == 403
        assert editor.call("getEntry", path=path)[0] == 403
    assert _tree(outside) == before


def test_a_symbolic_link_out_of_content_is_neither_followed_nor_written(
        editor: Editor, outside: Path) -> None:
    (editor.site / "content/projecten/uit").symlink_to(outside, target_is_directory=True)
    (editor.site / "content/organisaties/link.md").symlink_to(outside / "geheim.md")
    before, elsewhere = _tree(editor.site), _tree(outside)
    status, answer = _persist(editor, "content/projecten/uit/index.md", _record())
    assert status == 403 and "symbolische koppeling" in answer["error"]
    assert editor.call("persistMedia", asset=_asset("content/projecten/uit/x.png", b"x"),
                       options={"commitMessage": "x"})[0] == 403
    assert editor.call("getEntry", path="content/organisaties/link.md")[0] == 403
    assert editor.call("getMedia", mediaFolder="content/projecten/uit")[0] == 403
    assert editor.call("deleteFile", path="content/organisaties/link.md",
                       options={"commitMessage": "x"})[0] == 403
    status, entries = editor.call("entriesByFolder", folder="content/organisaties",
                                  extension="md", depth=1)
    assert status == 200 and "geheim" not in json.dumps(entries)
    assert _tree(editor.site) == before and _tree(outside) == elsewhere


@pytest.mark.parametrize("headers", [
    {"Origin": "http://kwaadwillend.example"},
    {"Origin": "null"},
    {"Host": "kwaadwillend.example"},  # DNS rebinding: a foreign name for this address
    {"Host": "127.0.0.1:1"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Content-Type": "text/plain"},  # what a form on another site could send unasked
])
def test_requests_from_anywhere_but_the_preview_are_refused(editor: Editor,
                                                           headers: dict[str, str]) -> None:
    before = _tree(editor.site)
    status, answer = _persist_with(editor, headers)
    assert status in (403, 415), answer
    assert editor.call("getEntry", headers, path="content/projecten/tussen-in.md")[0] \
        in (403, 415)
    assert _tree(editor.site) == before


def _persist_with(editor: Editor, headers: dict[str, str]) -> tuple[int, Any]:
    body = json.dumps({"action": "persistEntry", "params": {
        "branch": "main", "assets": [], "options": {},
        "dataFiles": [{"slug": "x", "path": "content/projecten/x.md", "raw": _record()}]}})
    return editor.post(body.encode(), headers)


def test_the_preview_s_own_origin_may_write(editor: Editor) -> None:
    status, _ = _persist_with(editor, {"Origin": f"http://{editor.host}",
                                       "Sec-Fetch-Site": "same-origin"})
    assert status == 200 and (editor.site / "content/projecten/x.md").is_file()


def test_an_oversized_body_is_refused_unread(editor: Editor) -> None:
    before = _tree(editor.site)
    conn = http.client.HTTPConnection(editor.host, timeout=10)
    try:
        conn.putrequest("POST", editor.api)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(MAX_BODY + 1))
        conn.endheaders(b"{")
        response = conn.getresponse()
        assert response.status == 413
    finally:
        conn.close()
    record = "x" * (300 * 1024)  # over a record's limit, under the body's
    status, _ = _persist(editor, "content/projecten/groot/index.md", _record(extra=""
                                                                             ) + record)
    assert status == 413
    assert _tree(editor.site) == before


@pytest.mark.parametrize(("data", "said"), [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG"),
    (b"<!doctype html><script>alert(1)</script>", "HTML"),
    (b"MZ\x90\x00", "program"),
])
def test_an_upload_the_build_would_not_publish_is_refused(editor: Editor, data: bytes,
                                                          said: str) -> None:
    before = _tree(editor.site)
    status, answer = editor.call("persistMedia", asset=_asset("content/bestanden/foto.jpg",
                                                              data),
                                 options={"commitMessage": "x"})
    assert status == 422 and said in answer["error"]
    status, answer = _persist(editor, "content/projecten/met-foto/index.md", _record(
        extra="foto:\n  bestand: foto.jpg\n  alt: Een foto.\n"),
        [_asset("content/projecten/met-foto/foto.jpg", data)])
    assert status == 422 and said in answer["error"]
    assert _tree(editor.site) == before


def test_only_a_loopback_address_gets_the_write_endpoint() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert not is_loopback("::") and not is_loopback("example.org")
