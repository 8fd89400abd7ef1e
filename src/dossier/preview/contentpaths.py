"""Which paths the local backend may read and write: files of the collections' folders
under content/, named as Decap names them, and nothing that leads anywhere else.

A path comes from the browser, so it is taken apart before it is used, never joined and
then checked:

| asked for                     | allowed                                               |
| ----------------------------- | ----------------------------------------------------- |
| a record (read, save, delete) | `content/<collection>/<slug>.md`, `…/<slug>/index.md` |
| a file beside records         | `content/<collection>/<name>`, `…/<slug>/<name>`,     |
|                               | `content/bestanden/<name>` (Decap's media library)    |
| a folder to list              | `content/<collection>`, `…/<slug>`, `content/bestanden` |

Refused on the way: an empty or absolute path (`/…`, `C:…`), `..` and `.` parts, empty
parts (`a//b`), backslashes, NUL and other control characters, hidden names (`.git`), any
other first folder than content/, a folder that is not a collection's, and deeper paths.
Reading may follow a symbolic link that stays inside content/ (the build does too);
writing follows none, so a link can never carry a save out of content/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dossier.content.documents import RECORD_SUFFIXES, is_ignored

CONTENT = "content"
# Where Decap's own media library puts files uploaded outside a record (admin.py).
SHARED_MEDIA = "bestanden"
RECORD_EXTENSION = ".md"  # what the editor writes records as (admin.py)
BUNDLE_INDEX = "index" + RECORD_EXTENSION
MAX_NAME = 200  # characters in one part of a path
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Refused(Exception):
    """A request the local backend does not carry out: its HTTP status and why, in words
    for the editor (Decap shows them), with the build's diagnostics when it has them."""

    def __init__(self, status: int, message: str, diagnostics: list[dict[str, object]]
                 | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.diagnostics = diagnostics or []


@dataclass(frozen=True)
class ContentPaths:
    """The paths of one site that the editor may use, with its collections' names."""

    site_dir: Path
    collections: frozenset[str]

    def parts(self, raw: object) -> list[str]:
        """A path from the browser as its parts, or Refused."""
        if not isinstance(raw, str) or not raw:
            raise Refused(400, "Het pad ontbreekt.")
        if len(raw) > 1000 or _CONTROL.search(raw) or "\\" in raw:
            raise Refused(400, f"Ongeldig pad: {raw!r}.")
        if raw.startswith("/") or _DRIVE.match(raw):
            raise Refused(403, f"Een absoluut pad is niet toegestaan: {raw!r}.")
        parts = raw.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise Refused(403, f"Dit pad leidt buiten de inhoud: {raw!r}.")
        if any(p.startswith(".") or len(p) > MAX_NAME for p in parts):
            raise Refused(403, f"Deze naam is niet toegestaan: {raw!r}.")
        if parts[0] != CONTENT or len(parts) < 2 or not self._area(parts[1]):
            raise Refused(403, "Alleen bestanden in de mappen van de collecties onder "
                               f"content/ kunnen worden bewerkt, niet {raw!r}.")
        return parts

    def _area(self, name: str) -> bool:
        return name in self.collections or name == SHARED_MEDIA

    def record(self, raw: object) -> str:
        """The path of a record file, as the editor writes them."""
        parts = self.parts(raw)
        shaped = parts[1] in self.collections and (
            (len(parts) == 3 and parts[2].endswith(RECORD_EXTENSION))
            or (len(parts) == 4 and parts[3] == BUNDLE_INDEX))
        if not shaped:
            raise Refused(403, f"Geen record van een collectie: {raw!r}.")
        return "/".join(parts)

    def media(self, raw: object) -> str:
        """The path of a file beside records (an image, a document)."""
        parts = self.parts(raw)
        name = parts[-1]
        deep = 3 if parts[1] == SHARED_MEDIA else 4
        if not 3 <= len(parts) <= deep or is_ignored(name):
            raise Refused(403, f"Hier kan geen bestand staan: {raw!r}.")
        if name.lower().endswith((*RECORD_SUFFIXES, ".markdown")) or \
                name.lower().startswith("index."):
            raise Refused(403, f"Een bestand met deze naam zou een record worden: {raw!r}.")
        return "/".join(parts)

    def any_file(self, raw: object) -> str:
        """A record or a file beside records (reading and deleting take either)."""
        try:
            return self.record(raw)
        except Refused:
            return self.media(raw)

    def folder(self, raw: object) -> str:
        """A folder to list: a collection's, a record's own, or the shared media folder."""
        parts = self.parts(raw)
        if len(parts) > (2 if parts[1] == SHARED_MEDIA else 3):
            raise Refused(403, f"Deze map kan niet worden gelezen: {raw!r}.")
        return "/".join(parts)

    def readable(self, rel: str) -> Path:
        """The file or folder of a checked path for reading: links may not leave content/."""
        path = self.site_dir / rel
        root = (self.site_dir / CONTENT).resolve()
        if not path.resolve().is_relative_to(root):
            raise Refused(403, f"Een symbolische koppeling leidt buiten de inhoud: {rel!r}.")
        return path

    def writable(self, rel: str) -> Path:
        """The file of a checked path for writing: no symbolic link on the way, none there."""
        path = self.site_dir
        for part in rel.split("/"):
            path = path / part
            if path.is_symlink():
                raise Refused(403, "Via een symbolische koppeling wordt niet geschreven: "
                                   f"{rel!r}.")
        if path.exists() and not path.is_file():
            raise Refused(403, f"Hier staat geen bestand: {rel!r}.")
        return path
