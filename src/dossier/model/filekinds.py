"""Which files may be published: an allowlist of kinds, told by content, never by name.

A file's name says nothing reliable about it (a 'rapport.pdf' may hold a web page), and a
web server picks the content type from the name we give it. So the kind is read from the
file's first bytes (and, for ZIP-based office files, from its table of contents), and the
published name gets the extension of that kind. Anything that a browser could run (HTML,
SVG, scripts) or that is a program is refused.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 25 * 1000 * 1000  # one image or document
IMAGE_WARN_BYTES = 5 * 1000 * 1000  # an image this big is probably a camera original
_HEAD = 4096


@dataclass(frozen=True)
class Kind:
    """A kind of file that may be published."""

    name: str  # also the key of its label in the interface texts: kind.<name>
    ext: str  # the extension of the published file
    mediatype: str
    image: bool = False


KINDS = {k.name: k for k in (
    Kind("jpeg", "jpg", "image/jpeg", True),
    Kind("png", "png", "image/png", True),
    Kind("webp", "webp", "image/webp", True),
    Kind("gif", "gif", "image/gif", True),
    Kind("pdf", "pdf", "application/pdf"),
    Kind("odt", "odt", "application/vnd.oasis.opendocument.text"),
    Kind("ods", "ods", "application/vnd.oasis.opendocument.spreadsheet"),
    Kind("odp", "odp", "application/vnd.oasis.opendocument.presentation"),
    Kind("docx", "docx",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    Kind("xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    Kind("pptx", "pptx",
         "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    Kind("csv", "csv", "text/csv"),
    Kind("txt", "txt", "text/plain"),
)}
ALLOWED = "JPEG, PNG, WebP, GIF, PDF, OpenDocument, Word, Excel, PowerPoint, CSV or plain text"

_ODF = {"application/vnd.oasis.opendocument.text": "odt",
        "application/vnd.oasis.opendocument.spreadsheet": "ods",
        "application/vnd.oasis.opendocument.presentation": "odp"}
_OOXML = {"word/document.xml": "docx", "xl/workbook.xml": "xlsx",
          "ppt/presentation.xml": "pptx"}
_PROGRAMS = ((b"MZ", "a Windows program"), (b"\x7fELF", "a program (ELF)"),
             (b"\xcf\xfa\xed\xfe", "a macOS program"), (b"\xce\xfa\xed\xfe", "a macOS program"),
             (b"\xca\xfe\xba\xbe", "a macOS program or Java class"),
             (b"#!", "a script"), (b"\x00asm", "a WebAssembly program"))
_NAMED = {"pdf": "PDF", "jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WebP",
          "gif": "GIF", "docx": "Word", "xlsx": "Excel", "pptx": "PowerPoint",
          "odt": "OpenDocument", "ods": "OpenDocument", "odp": "OpenDocument",
          "csv": "CSV", "txt": "text"}


class Refused(Exception):
    """A file that may not be published, and why (in words for an editor)."""


def sniff(file: Path) -> Kind:
    """The kind of a file by its content; raise Refused for anything not on the allowlist."""
    with open(file, "rb") as handle:
        head = handle.read(_HEAD)
    kind = _binary_kind(head) or _zip_kind(file, head) or _text_kind(file, head)
    return KINDS[kind]


def _binary_kind(head: bytes) -> str:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    for magic, what in _PROGRAMS:
        if head.startswith(magic):
            raise Refused(f"is {what}; programs are never published")
    return ""


def _zip_kind(file: Path, head: bytes) -> str:
    """OpenDocument (a `mimetype` entry) or Office Open XML (`[Content_Types].xml`)."""
    if not head.startswith(b"PK\x03\x04"):
        return ""
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    mimetype = entry.read(100).decode("ascii", "replace").strip()
                if any(n.startswith(("Basic/", "Scripts/")) for n in names):
                    raise Refused("holds macros (programs); save it without them")
                if mimetype in _ODF:
                    return _ODF[mimetype]
            elif "[Content_Types].xml" in names:
                if any(n.lower().endswith("vbaproject.bin") for n in names):
                    raise Refused("holds macros (programs); save it without them "
                                  "(as .docx, .xlsx or .pptx)")
                found = next((kind for part, kind in _OOXML.items() if part in names), "")
                if found:
                    return found
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise Refused(f"is a damaged ZIP file ({exc})") from None
    raise Refused("is a ZIP archive; publish the documents in it one by one")


def _text_kind(file: Path, head: bytes) -> str:
    """CSV or plain text: UTF-8 without NUL bytes, and nothing a browser reads as a page."""
    named = _NAMED.get(file.suffix.lower().lstrip("."), "")
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if start.startswith((b"<svg", b"<?xml")) or b"<svg" in start[:1024]:
        raise Refused(_as(named, "SVG (or other XML), which can hold scripts") +
                      "; export it as PNG")
    if start.startswith(b"<"):
        raise Refused(_as(named, "HTML") + "; web pages from content are never published")
    if b"\x00" in head:
        raise Refused(_as(named, "data of an unknown kind") + f"; allowed are {ALLOWED}")
    try:
        file.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("is text that is not UTF-8; save it as UTF-8") from None
    return "csv" if file.suffix.lower() == ".csv" else "txt"


def _as(named: str, actual: str) -> str:
    """'is HTML', or 'is named as PDF but holds HTML' when the name says otherwise."""
    if named and named != "text" and named != "CSV":
        return f"is named as {named} but holds {actual}"
    return f"is {actual}"
