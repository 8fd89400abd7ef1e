"""The local backend of `dossier serve`: Decap CMS's proxy protocol (`POST /api/v1`), so
an editor edits in the browser with no account and no Node (docs/admin.md).

A request is JSON `{"action": …, "params": {…}}`; an answer is JSON, and a refusal an
HTTP status with `{"error": "…"}`, which Decap shows to the editor.

| action           | does                                                          |
| ---------------- | ------------------------------------------------------------- |
| info             | says it is a local file system backend, simple publishing     |
| entriesByFolder  | the record files of a collection's folder, with their text    |
| entriesByFiles   | the named record files, with their text (null: not there)     |
| getEntry         | one record file                                               |
| persistEntry     | saves a record (and its uploads, and a move), checked first   |
| getMedia         | the files in a folder, base64                                 |
| getMediaFile     | one file, base64                                              |
| persistMedia     | saves an upload, checked first                                |
| deleteFile(s)    | removes files (a record's folder with it), checked first      |
| getDeployPreview | null: the preview is the page itself                          |

Every change goes through one door (`_save`): paths checked (contentpaths.py), uploads
checked by their content against the build's allowlist (model/filekinds.py), the site
after the change checked as a build checks it (proposal.py), then written atomically.
Who may ask is the server's to check (`request_problem`): only the preview's own page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dossier.build import BuildOptions, load_schema
from dossier.content.documents import MAX_FILE_BYTES as MAX_RECORD_BYTES
from dossier.content.documents import is_ignored
from dossier.core.diagnostics import DossierError
from dossier.model.filekinds import MAX_FILE_BYTES, sniff
from dossier.model.filekinds import Refused as NotAllowed
from dossier.preview.contentpaths import BUNDLE_INDEX, ContentPaths, Refused
from dossier.preview.proposal import Changes, new_errors, write_changes

__all__ = ["API", "MAX_BODY", "LocalBackend", "Refused", "is_loopback", "request_problem"]

API = "api/v1"  # under the site's path, where admin/lokaal.js points Decap
# An upload of the largest file a build publishes, in base64, with room for the rest.
MAX_BODY = MAX_FILE_BYTES * 4 // 3 + 1024 * 1024
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether an address the server is bound to can only be reached from this machine."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def request_problem(headers: Callable[[str], str | None], bound: tuple[str, int],
                    length: int | None) -> Refused | None:
    """Why a request to the local backend is refused, or None. Only the preview's own
    page may write: the Host must be the server's own address (a name that another site
    made point here, DNS rebinding, is refused), an Origin the same (another tab's page
    cannot post here), the body JSON (which no form can send without asking first) and
    within the limit."""
    host, port = bound
    own = {f"{name}:{port}" for name in (*LOOPBACK_NAMES, host)}
    asked = (headers("Host") or "").lower()
    if asked not in own:
        return Refused(403, f"Bewerken kan alleen via het eigen adres van de preview, niet "
                            f"via {asked or 'een onbekend adres'}.")
    origin = headers("Origin")
    if origin is not None and origin.lower() != f"http://{asked}":
        return Refused(403, "Alleen de beheeromgeving van deze preview mag opslaan.")
    if (headers("Sec-Fetch-Site") or "same-origin") not in ("same-origin", "none"):
        return Refused(403, "Alleen de beheeromgeving van deze preview mag opslaan.")
    if not (headers("Content-Type") or "").lower().startswith("application/json"):
        return Refused(415, "Het verzoek moet JSON zijn.")
    if length is None:
        return Refused(411, "De lengte van het verzoek ontbreekt.")
    if length > MAX_BODY:
        return Refused(413, f"Het verzoek is te groot (meer dan {MAX_BODY // 1_000_000} MB).")
    return None


class LocalBackend:
    """Decap's proxy protocol over one site's content folder; one change at a time."""

    def __init__(self, site_dir: Path, options: BuildOptions, scratch: Path,
                 lock: threading.Lock | None = None) -> None:
        self.site_dir = site_dir
        self.options = options
        self.scratch = scratch  # where saves are checked before they are written
        # One save at a time, and none while the preview builds (its runs and the
        # checks of saves share the pipeline's module state).
        self._lock = lock or threading.Lock()

    def answer(self, body: bytes) -> Any:
        """The answer to one request body, or Refused."""
        try:
            request = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise Refused(400, "Het verzoek is geen geldige JSON.") from None
        if not isinstance(request, dict):
            raise Refused(400, "Het verzoek is geen JSON-object.")
        action, params = request.get("action"), request.get("params") or {}
        handler = _ACTIONS.get(action) if isinstance(action, str) else None
        if handler is None:
            raise Refused(422, f"Onbekende actie: {action!r}.")
        if not isinstance(params, dict):
            raise Refused(400, "De parameters van het verzoek ontbreken.")
        return handler(self, params, self._paths())

    def _paths(self) -> ContentPaths:
        try:
            names = frozenset(c.name for c in load_schema(self.site_dir).collections)
        except DossierError:
            raise Refused(409, "content/schema.yml bevat fouten; verbeter die eerst.") \
                from None
        return ContentPaths(self.site_dir, names)

    # Reading

    def info(self, params: dict[str, Any], paths: ContentPaths) -> Any:
        return {"repo": self.site_dir.resolve().name, "publish_modes": ["simple"],
                "type": "local_fs"}

    def entries_by_folder(self, params: dict[str, Any], paths: ContentPaths) -> Any:
        folder = paths.folder(params.get("folder"))
        extension = str(params.get("extension") or "")
        depth = params.get("depth")
        found = _files(paths.readable(folder), folder,
                       min(depth, 2) if isinstance(depth, int) else 1)
        return [_entry(paths, rel) for rel in found if rel.endswith(extension)
                and _is_record(paths, rel)]

    def entries_by_files(self, params: dict[str, Any], paths: ContentPaths) -> Any:
        files = params.get("files")
        if not isinstance(files, list):
            raise Refused(400, "De lijst met bestanden ontbreekt.")
        return [_entry(paths, paths.record(f.get("path") if isinstance(f, dict) else f),
                       f.get("label") if isinstance(f, dict) else None) for f in files]

    def get_entry(self, params: dict[str, Any], paths: ContentPaths) -> Any:
        return _entry(paths, paths.record(params.get("path")))

    def get_media(self, params: dict[str, Any], paths: ContentPaths) -> Any:
        folder = paths.folder(params.get("mediaFolder"))
        return [_media_file(paths, rel) for rel in _files(paths.readable(folder), folder, 1)
                if not _is_record(paths, rel)]

    def get_media_file(self, params: dict[str, Any], paths: ContentPaths) -> Any:
        return _media_file(paths, paths.media(params.get("path")))

    def deploy_preview(self, params: dict[str, Any], paths: ContentPaths) -> Any:
        return None

    # Changing

    def persist_entry(self, params: dict[str, Any], paths: ContentPaths) -> Any:
        files = params.get("dataFiles") or [params.get("entry")]
        assets = params.get("assets") or []
        if not isinstance(files, list) or not isinstance(assets, list):
            raise Refused(400, "Het record of zijn bestanden ontbreken.")
        changes: dict[str, bytes | None] = {}
        for data_file in files:
            if not isinstance(data_file, dict) or not isinstance(data_file.get("raw"), str):
                raise Refused(400, "De inhoud van het record ontbreekt.")
            old = paths.record(data_file.get("path"))
            new = paths.record(data_file["newPath"]) if data_file.get("newPath") else old
            raw = data_file["raw"].encode("utf-8", "surrogatepass")
            if len(raw) > MAX_RECORD_BYTES:
                raise Refused(413, f"Het record is te groot: een record mag hoogstens "
                                   f"{MAX_RECORD_BYTES // 1024} KB zijn.")
            if new != old:
                changes.update(_moved(paths, old, new))
            changes[new] = raw
        for asset in assets:
            rel, data = self._upload(asset, paths)
            changes[rel] = data
        self._save(changes, paths)
        return {"message": "entry persisted"}

    def persist_media(self, params: dict[str, Any], paths: ContentPaths) -> Any:
        rel, data = self._upload(params.get("asset"), paths)
        self._save({rel: data}, paths)
        return _media_file(paths, rel)

    def delete_file(self, params: dict[str, Any], paths: ContentPaths) -> Any:
        rel = paths.any_file(params.get("path"))
        self._save(_removal(paths, [rel]), paths)
        return {"message": f"deleted file {rel}"}

    def delete_files(self, params: dict[str, Any], paths: ContentPaths) -> Any:
        asked = params.get("paths")
        if not isinstance(asked, list):
            raise Refused(400, "De lijst met bestanden ontbreekt.")
        rels = [paths.any_file(p) for p in asked]
        self._save(_removal(paths, rels), paths)
        return {"message": f"deleted files {', '.join(rels)}"}

    def _upload(self, asset: object, paths: ContentPaths) -> tuple[str, bytes]:
        """An uploaded file's path and bytes, if a build would publish it."""
        if not isinstance(asset, dict) or asset.get("encoding") != "base64" or \
                not isinstance(asset.get("content"), str):
            raise Refused(400, "Het bestand ontbreekt of is niet base64-gecodeerd.")
        rel = paths.media(asset.get("path"))
        try:
            data = base64.b64decode(asset["content"], validate=True)
        except (binascii.Error, ValueError):
            raise Refused(400, f"Het bestand {rel} is niet goed gecodeerd.") from None
        if len(data) > MAX_FILE_BYTES:
            raise Refused(413, f"{rel} is te groot: een bestand mag hoogstens "
                               f"{MAX_FILE_BYTES // 1_000_000} MB zijn.")
        self.scratch.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(suffix=Path(rel).suffix, dir=self.scratch)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            sniff(Path(probe))
        except NotAllowed as exc:
            raise Refused(422, f"{rel} wordt niet gepubliceerd: het bestand {exc}.") from None
        finally:
            os.unlink(probe)
        return rel, data

    def _save(self, changes: Changes, paths: ContentPaths) -> None:
        """Check the site after `changes` as a build does; write them if it passes."""
        for rel in changes:
            paths.writable(rel)
        with self._lock:
            problems = new_errors(self.site_dir, self.options, changes, self.scratch)
            if problems:
                shown = "; ".join(f"{d.text} ({d.path}:{d.line})" for d in problems)
                raise Refused(422, f"Niet opgeslagen, want de site zou zo niet te bouwen "
                                   f"zijn: {shown}",
                              [{"path": d.path, "line": d.line, "column": d.column,
                                "field": d.field, "message": d.message,
                                "suggestion": d.suggestion} for d in problems])
            write_changes(self.site_dir, changes)


def _moved(paths: ContentPaths, old: str, new: str) -> dict[str, bytes | None]:
    """A record saved under a new name: the old file goes; a folder's files move along."""
    changes: dict[str, bytes | None] = {old: None}
    if old.endswith("/" + BUNDLE_INDEX) and new.endswith("/" + BUNDLE_INDEX):
        folder, target = old.rsplit("/", 1)[0], new.rsplit("/", 1)[0]
        for rel in _files(paths.readable(folder), folder, 1):
            if rel != old:
                changes[rel] = None
                changes[f"{target}/{rel.rsplit('/', 1)[1]}"] = \
                    paths.readable(rel).read_bytes()
    return changes


def _removal(paths: ContentPaths, rels: list[str]) -> dict[str, bytes | None]:
    """Files to remove; a record in a folder of its own goes with the files beside it."""
    changes: dict[str, bytes | None] = {rel: None for rel in rels}
    for rel in rels:
        if rel.endswith("/" + BUNDLE_INDEX) and len(rel.split("/")) == 4:
            folder = rel.rsplit("/", 1)[0]
            changes.update({f: None for f in _files(paths.readable(folder), folder, 1)})
    return changes


def _files(folder: Path, rel: str, depth: int) -> list[str]:
    """Files under a folder, `depth` levels down, by site-relative path; sorted."""
    if depth < 1 or not folder.is_dir():
        return []
    found = []
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if is_ignored(entry.name):
                continue
            if entry.is_dir():
                if not entry.is_symlink():
                    found += _files(Path(entry.path), f"{rel}/{entry.name}", depth - 1)
            elif entry.is_file(follow_symlinks=False):
                found.append(f"{rel}/{entry.name}")
    return found


def _is_record(paths: ContentPaths, rel: str) -> bool:
    try:
        paths.record(rel)
    except Refused:
        return False
    return True


def _entry(paths: ContentPaths, rel: str, label: object = None) -> dict[str, Any]:
    """A record file as Decap reads it: its text and a hash (data null: not there)."""
    file: dict[str, Any] = {"path": rel, "id": None}
    if isinstance(label, str):
        file["label"] = label
    try:
        data = paths.readable(rel).read_bytes()
    except OSError:
        return {"data": None, "file": file}
    file["id"] = hashlib.sha256(data).hexdigest()
    return {"data": data.decode("utf-8", "replace"), "file": file}


def _media_file(paths: ContentPaths, rel: str) -> dict[str, Any]:
    try:
        data = paths.readable(rel).read_bytes()
    except OSError:
        raise Refused(404, f"Bestand niet gevonden: {rel}.") from None
    return {"id": hashlib.sha256(data).hexdigest(), "path": rel, "name": rel.rsplit("/")[-1],
            "encoding": "base64", "content": base64.b64encode(data).decode("ascii")}


_ACTIONS: dict[str, Callable[[LocalBackend, dict[str, Any], ContentPaths], Any]] = {
    "info": LocalBackend.info,
    "entriesByFolder": LocalBackend.entries_by_folder,
    "entriesByFiles": LocalBackend.entries_by_files,
    "getEntry": LocalBackend.get_entry,
    "persistEntry": LocalBackend.persist_entry,
    "getMedia": LocalBackend.get_media,
    "getMediaFile": LocalBackend.get_media_file,
    "persistMedia": LocalBackend.persist_media,
    "deleteFile": LocalBackend.delete_file,
    "deleteFiles": LocalBackend.delete_files,
    "getDeployPreview": LocalBackend.deploy_preview,
}
