"""Publish the files records refer to: documents as they are, images made in worker processes.

Every file goes through the build's output writer, like the pages: it lands in the new
output folder and appears with it in one swap, and a file whose bytes did not change is
taken over from the previous build (its mtime kept). Images are made by a pool of worker
processes of their own (forked, like the render workers), one image per task, and kept in
the build cache so that a later build, or another output folder, does not make them again.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from dossier.core.diagnostics import Diagnostic
from dossier.model.media import Media, MediaFile
from dossier.outputs.images import ImageCache, make_variants
from dossier.render.pool import PageWriter, die_with_parent

_WORK: _Work | None = None  # set in the parent just before forking; read by the workers


@dataclass
class _Work:
    site_dir: Path
    images: Sequence[MediaFile]
    writer: PageWriter
    cache: ImageCache | None


@dataclass
class Published:
    """What publishing the media came to: files written (changed or not), problems."""

    written: list[tuple[str, bool]] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)


def publish_media(site_dir: Path, media: Media, pending: set[str], writer: PageWriter, jobs: int,
                  cache_folder: Path | None, make: bool = True) -> Published:
    """Write every published file of `media` whose path is in `pending` (the others are
    taken over from the previous build by the caller). Without `make` (dossier check),
    files are only named: nothing is read or made."""
    result = Published()
    files = sorted(media.files.values(), key=lambda f: f.source)
    done: set[str] = set()
    images: list[MediaFile] = []
    for media_file in files:
        rels = [rel for rel, _ in media_file.outputs() if rel in pending and rel not in done]
        if not rels:
            continue
        done.update(rels)
        if not make:
            result.written += [(rel, True) for rel in rels]
        elif media_file.image:
            images.append(media_file)
        else:
            problem = _copy(site_dir, media_file, writer, result.written)
            if problem:
                result.problems.append(_problem(site_dir, media, media_file, problem))
    for media_file, (written, problem) in zip(images, _make_images(
            _Work(site_dir, images, writer, ImageCache(cache_folder) if cache_folder else None),
            jobs), strict=True):
        result.written += written
        if problem:
            result.problems.append(_problem(site_dir, media, media_file, problem))
    if cache_folder is not None and make:
        ImageCache(cache_folder).prune(f.key for f in files if f.image)
    return result


def _copy(site_dir: Path, media_file: MediaFile, writer: PageWriter,
          written: list[tuple[str, bool]]) -> str:
    """A document as it is; '' or what went wrong."""
    data, problem = _read(site_dir, media_file)
    if not problem:
        written.append((media_file.rel, writer.put(media_file.rel, data)))
    return problem


def _read(site_dir: Path, media_file: MediaFile) -> tuple[bytes, str]:
    """The file's bytes, if they are still those it was checked with."""
    try:
        data = (site_dir / media_file.source).read_bytes()
    except OSError as exc:
        return b"", f"cannot read '{media_file.source}': {exc.strerror}"
    if hashlib.blake2b(data, digest_size=16).hexdigest() != media_file.digest:
        return b"", f"'{media_file.source}' changed during the build; build again"
    return data, ""


def _problem(site_dir: Path, media: Media, media_file: MediaFile, message: str) -> Diagnostic:
    record, line, col, where = media.locate(site_dir, media_file.source)
    return Diagnostic(record, line, col, "error", where, message)


def _make_images(work: _Work, jobs: int) -> list[tuple[list[tuple[str, bool]], str]]:
    """Make (or take from the cache) every image's variants, in `jobs` processes."""
    global _WORK
    _WORK = work
    try:
        indexes = list(range(len(work.images)))
        if jobs <= 1 or len(indexes) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            return [_make_one(i) for i in indexes]
        context = multiprocessing.get_context("fork")
        with context.Pool(min(jobs, len(indexes)), initializer=die_with_parent,
                          initargs=(os.getpid(),)) as pool:
            return list(pool.imap(_make_one, indexes))
    finally:
        _WORK = None


def _make_one(index: int) -> tuple[list[tuple[str, bool]], str]:
    """One image: its variants from the cache or made anew, written; '' or a problem."""
    assert _WORK is not None
    work, media_file = _WORK, _WORK.images[index]
    made = work.cache.get(media_file.key, media_file.variants) if work.cache else None
    if made is None:
        data, problem = _read(work.site_dir, media_file)
        if problem:
            return [], problem
        try:
            made = make_variants(data, media_file.variants)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            return [], f"'{media_file.source}' has too many pixels to be read safely"
        except Exception as exc:  # Pillow raises many kinds for damaged image data
            return [], (f"'{os.path.basename(media_file.source)}' cannot be read as an image "
                        f"({type(exc).__name__}: {exc}); is it damaged?")
        if work.cache is not None:
            work.cache.put(media_file.key, media_file.variants, made)
    return [(v.rel, work.writer.put(v.rel, made[v.rel])) for v in media_file.variants], ""
