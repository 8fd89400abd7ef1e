"""Static files (CSS, scripts, images), published under names that carry a hash of their
content (`static/dossier.3f2a1c9e.css`), so servers may let browsers cache them forever.

The theme's `static/` is laid under the site's own `templates/static/`, which wins.
Pages ask for a file by its plain name through `static('dossier.css')`.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

THEME = Path(__file__).parent.parent / "theme"  # the built-in theme: templates, static files, texts
HASH_LENGTH = 8
# Files that other static files may refer to by name (a stylesheet's url(logo.png)) are
# published under their plain name too; stylesheets and scripts only under the hashed one.
_HASHED_ONLY = (".css", ".js")


@dataclass(frozen=True)
class Asset:
    """One static file: the name templates use, where it is published, and its bytes."""

    name: str
    path: str
    data: bytes


def collect(site_dir: Path) -> list[Asset]:
    """The theme's and the site's static files, the site's taking precedence."""
    found: dict[str, Path] = {}
    for root in (THEME / "static", site_dir / "templates" / "static"):
        if root.is_dir():
            for file in sorted(root.rglob("*")):
                if file.is_file() and not file.name.startswith("."):
                    found[file.relative_to(root).as_posix()] = file
    assets = []
    for name in sorted(found):
        data = found[name].read_bytes()
        assets.append(Asset(name, f"static/{hashed_name(name, data)}", data))
    return assets


def hashed_name(name: str, data: bytes) -> str:
    """'css/site.css' → 'css/site.<first 8 hex digits of its SHA-256>.css'."""
    digest = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
    folder, base = posixpath.split(name)
    stem, dot, ext = base.rpartition(".")
    hashed = f"{stem}.{digest}.{ext}" if dot and stem else f"{base}.{digest}"
    return posixpath.join(folder, hashed)


def manifest(assets: list[Asset]) -> Mapping[str, str]:
    """Plain name → published path, for the `static()` template helper."""
    return {a.name: a.path for a in assets}


def files(assets: list[Asset]) -> Iterator[tuple[str, bytes]]:
    """What to write: every asset under its hashed path, and some under their plain one."""
    for asset in assets:
        yield asset.path, asset.data
        if not asset.name.endswith(_HASHED_ONLY):
            yield f"static/{asset.name}", asset.data
