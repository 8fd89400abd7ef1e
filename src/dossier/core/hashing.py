"""Hashes of files: what a cached result was made from (templates, code, schema)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def hash_files(*roots: Path) -> str:
    """A hash over the names and bytes of every file under some folders."""
    digest = hashlib.blake2b(digest_size=16)
    for root in roots:
        if not root.exists():
            continue
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        inside = (root if root.is_dir() else root.parent).resolve()
        for file in files:
            if not file.resolve().is_relative_to(inside):
                continue  # a link out of the site is an error of the build, never read
            digest.update(str(file.relative_to(root.parent)).encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()
