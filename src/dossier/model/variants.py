"""Images as the model plans them: their size, the resized variants they are published
as, and the key those are kept under. Pillow is imported only to read a header, so
loading the model does not import it; making the variants is outputs/images.py.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import PIL

from dossier.model.filekinds import Refused

WIDTHS = (480, 960, 1440, 1920)  # widths of the variants, as far as the original has them
MAX_PIXELS = 50_000_000  # width × height; beyond it an image is refused (decompression bomb)
SETTINGS = (f"images 1 {WIDTHS} webp q80 m2 lossless-drawings jpeg q82 progressive png c9 "
            f"pillow {PIL.__version__}")  # PIL itself is small: its Image module is not


@dataclass(frozen=True)
class Header:
    """What an image's header says: its size once upright, and how it can be encoded."""

    width: int
    height: int
    alpha: bool
    animated: bool


@dataclass(frozen=True)
class Variant:
    """One published file of an image."""

    rel: str
    width: int
    height: int
    format: str  # webp, jpeg, png or gif


def probe(file: Path) -> Header:
    """Read an image's header (not its pixels); Refused if Pillow cannot or must not."""
    from PIL import Image, UnidentifiedImageError  # here: loading the model needs no Pillow

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own guard: a file claiming more raises
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(file)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Refused(_too_many_pixels()) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise Refused("cannot be read as an image; is it damaged?") from None
    with image:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise Refused(_too_many_pixels(f"{width:,} × {height:,}"))
        try:
            orientation = image.getexif().get(0x0112)
        except Exception:  # Pillow raises many kinds for a damaged EXIF block
            orientation = None
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info
        animated = bool(getattr(image, "is_animated", False))
    return Header(width, height, alpha, animated)


def _too_many_pixels(size: str = "") -> str:
    has = f"has {size} pixels" if size else f"has more than {MAX_PIXELS:,} pixels"
    return (f"{has}; an image may have at most {MAX_PIXELS:,} (more can be a 'decompression "
            "bomb' that exhausts the memory of the machine that builds): save it smaller, "
            "e.g. 1920 pixels wide")


def plan_variants(header: Header, base: str, kind: str) -> tuple[Variant, ...]:
    """The files an image is published as: `base` + width + format's extension."""
    w, h = header.width, header.height
    if header.animated and kind == "gif":
        return (Variant(f"{base}.gif", w, h, "gif"),)
    widths = sorted({x for x in WIDTHS if x < 0.9 * w} | {min(w, WIDTHS[-1])})
    fallback = "png" if header.alpha or kind in ("png", "gif") else "jpeg"
    ext = {"png": "png", "jpeg": "jpg"}[fallback]
    sizes = [(x, max(1, round(h * x / w))) for x in widths]
    return (*(Variant(f"{base}-{x}.webp", x, y, "webp") for x, y in sizes),
            *(Variant(f"{base}-{x}.{ext}", x, y, fallback) for x, y in sizes))


def image_key(digest: str) -> str:
    """The key of an image's variants: its bytes and how they are made."""
    return hashlib.blake2b(f"{digest}\0{SETTINGS}".encode(), digest_size=16).hexdigest()
