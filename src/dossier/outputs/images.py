"""Images with Pillow: make the variants the model planned (model/variants.py), and keep them.

Every published variant is made anew from the pixels: turned upright (EXIF orientation),
converted to sRGB, resized, and encoded without any metadata, so a photo never publishes
where it was taken (GPS), with what camera, or by whom. Variants are WebP, with JPEG (or
PNG, for images with transparency and for drawings saved as PNG or GIF) as the fallback
for browsers without WebP; an animated GIF is re-encoded as it is, frames and timing kept.

Made variants are kept in the build cache (`.dossier-cache/images/<key>/`) as plain files,
never pickled. The cache sits in the site folder, where anyone who can propose content can
add a file, so a cached file is only used after it is checked: the kind its bytes say,
the exact size Pillow reads from it, and no block that could carry metadata.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import time
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

from PIL import Image, ImageCms, ImageOps, ImageSequence

from dossier.model.filekinds import MAX_FILE_BYTES
from dossier.model.variants import MAX_PIXELS, Variant

# Pillow's own guard, for any image it opens: a file that claims more pixels raises.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
_QUALITY = {"webp": 80, "jpeg": 82}
_MAGIC = {"jpeg": (b"\xff\xd8\xff",), "png": (b"\x89PNG\r\n\x1a\n",),
          "gif": (b"GIF87a", b"GIF89a"), "webp": (b"RIFF",)}
_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP"}
KEEP_UNUSED_DAYS = 14  # a cached image no build used for this long is removed


# --- making the variants ---------------------------------------------------------------

def make_variants(data: bytes, variants: tuple[Variant, ...]) -> dict[str, bytes]:
    """Every variant's bytes, made from the original's pixels without its metadata."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as image:
            if variants[0].format == "gif":
                return {variants[0].rel: _animation(image)}
            return _stills(image, variants)


def _stills(image: Image.Image, variants: tuple[Variant, ...]) -> dict[str, bytes]:
    largest = max(variants, key=lambda v: v.width)
    if image.format == "JPEG":  # decode at a reduced scale where that is enough: faster
        image.draft("RGB", (largest.width, largest.height) if largest.width >= largest.height
                    else (largest.height, largest.width))
    upright = ImageOps.exif_transpose(image)
    upright, profile = _to_srgb(upright)
    drawing = any(v.format == "png" for v in variants)  # lossless: no blur on lines
    alpha = drawing and _has_alpha(upright)
    pixels = upright.convert("RGBA" if alpha else "RGB")
    made: dict[str, bytes] = {}
    resized: dict[int, Image.Image] = {}
    for variant in variants:
        frame = resized.get(variant.width)
        if frame is None:
            size = (variant.width, variant.height)
            frame = pixels if pixels.size == size else pixels.resize(
                size, Image.Resampling.LANCZOS, reducing_gap=3.0)
            frame.info = {}  # resize copies info (EXIF, XMP, comments): none of it is kept
            resized[variant.width] = frame
        made[variant.rel] = _encode(frame, variant.format, profile, drawing)
    return made


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _to_srgb(image: Image.Image) -> tuple[Image.Image, bytes]:
    """The image in sRGB; where its colour profile cannot be converted, that profile is
    returned to be kept in the variants (the colours then stay right)."""
    icc = image.info.get("icc_profile")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if not icc:
        return image, b""
    try:
        mode = "RGBA" if _has_alpha(image) else "RGB"
        converted = ImageCms.profileToProfile(
            image, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"),
            outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image, bytes(icc)
    return (converted or image), b""


def _encode(frame: Image.Image, fmt: str, profile: bytes, lossless: bool) -> bytes:
    out = io.BytesIO()
    extra = {"icc_profile": profile} if profile else {}
    if fmt == "webp":
        # Effort 2 of 6: half the time of the default (4) for files about as small.
        frame.save(out, "WEBP", quality=_QUALITY["webp"], method=2, lossless=lossless, **extra)
    elif fmt == "jpeg":
        frame.save(out, "JPEG", quality=_QUALITY["jpeg"], optimize=True, progressive=True,
                   **extra)
    else:
        frame.save(out, "PNG", compress_level=9, **extra)
    return out.getvalue()


def _animation(image: Image.Image) -> bytes:
    """An animated GIF again, with its frames and timing and without comments or XMP."""
    frames, durations = [], []
    for frame in ImageSequence.Iterator(image):
        durations.append(int(frame.info.get("duration", 100)))
        copy = frame.convert("RGBA")
        copy.info = {}
        frames.append(copy)
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=durations,
                   loop=int(image.info.get("loop", 0)), disposal=2)
    return out.getvalue()


# --- what a published variant may hold --------------------------------------------------

def metadata_blocks(data: bytes, fmt: str) -> list[str]:
    """The blocks of an image file that can carry metadata (EXIF, XMP, IPTC, comments,
    text); a colour profile is not counted. Unreadable structure counts as one."""
    try:
        return list({"jpeg": _jpeg_blocks, "png": _png_blocks, "webp": _webp_blocks,
                     "gif": _gif_blocks}[fmt](data))
    except (IndexError, ValueError, KeyError):
        return ["unreadable structure"]


def _jpeg_blocks(data: bytes) -> Iterator[str]:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise ValueError("not a marker")
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker == 0xDA:  # start of scan: the pixels follow
            return
        length = int.from_bytes(data[i + 2:i + 4], "big")
        body = data[i + 4:i + 2 + length]
        if marker == 0xFE:
            yield "COM"
        elif 0xE1 <= marker <= 0xEF and not (marker == 0xE2 and body.startswith(b"ICC_PROFILE")):
            yield f"APP{marker - 0xE0}"
        i += 2 + length
    raise ValueError("no image data")


_PNG_PLAIN = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"sRGB", b"gAMA", b"cHRM",
              b"pHYs", b"sBIT", b"bKGD", b"iCCP"}


def _png_blocks(data: bytes) -> Iterator[str]:
    i = 8
    while i + 8 <= len(data):
        length = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        if kind not in _PNG_PLAIN:
            yield kind.decode("latin-1")
        if kind == b"IEND":
            return
        i += 12 + length
    raise ValueError("no IEND")


def _webp_blocks(data: bytes) -> Iterator[str]:
    i = 12
    while i + 8 <= len(data):
        kind = data[i:i + 4]
        length = int.from_bytes(data[i + 4:i + 8], "little")
        if kind in (b"EXIF", b"XMP "):
            yield kind.decode("latin-1").strip()
        i += 8 + length + (length & 1)


def _gif_blocks(data: bytes) -> Iterator[str]:
    flags = data[10]
    i = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    while True:
        block = data[i]
        if block == 0x3B:
            return
        if block == 0x21:
            label = data[i + 1]
            i += 2
            if label == 0xFE:
                yield "comment"
            elif label == 0xFF and data[i + 1:i + 12] not in (b"NETSCAPE2.0", b"ANIMEXTS1.0"):
                yield "application data"
        elif block == 0x2C:
            local = data[i + 9]
            i += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0) + 1
        else:
            raise ValueError("unknown block")
        while data[i]:  # data sub-blocks
            i += data[i] + 1
        i += 1


def trusted(data: bytes, variant: Variant) -> bool:
    """Whether a file read back (from the cache) is exactly a variant as we make it."""
    if not data.startswith(_MAGIC[variant.format]) or metadata_blocks(data, variant.format):
        return False
    try:
        with Image.open(io.BytesIO(data)) as image:
            return bool(image.format == _PILLOW_FORMATS[variant.format]
                        and image.size == (variant.width, variant.height))
    except Exception:  # anything Pillow cannot read is not one of ours
        return False


# --- the cache -----------------------------------------------------------------------------

class ImageCache:
    """Made variants by image key, as plain files; every failure is only a miss."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, key: str, variants: tuple[Variant, ...]) -> dict[str, bytes] | None:
        found = {}
        for variant in variants:
            try:
                path = self._path(key, variant)
                if path.is_symlink() or path.stat().st_size > MAX_FILE_BYTES:
                    return None
                data = path.read_bytes()
            except OSError:
                return None
            if not trusted(data, variant):
                return None
            found[variant.rel] = data
        with contextlib.suppress(OSError):
            os.utime(self.folder / key)  # used: kept a while longer
        return found

    def put(self, key: str, variants: tuple[Variant, ...], made: dict[str, bytes]) -> None:
        try:
            (self.folder / key).mkdir(parents=True, exist_ok=True)
            for variant in variants:
                path = self._path(key, variant)
                tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
                tmp.write_bytes(made[variant.rel])
                os.replace(tmp, path)
        except OSError:
            pass  # the cache is an optimisation; failing to write it must not fail a build

    def prune(self, keep: Iterable[str]) -> None:
        """Remove images that this build did not use and no build used for a while."""
        wanted = set(keep)
        cutoff = time.time() - KEEP_UNUSED_DAYS * 86400
        try:
            entries = list(os.scandir(self.folder))
        except OSError:
            return
        for entry in entries:
            try:
                if entry.name not in wanted and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    shutil.rmtree(entry.path, ignore_errors=True)
            except OSError:
                continue

    def _path(self, key: str, variant: Variant) -> Path:
        return self.folder / key / f"{variant.width}.{variant.format}"
