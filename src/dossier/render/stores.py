"""What the renderer keeps outside itself, as it sees it: converted Markdown kept between
builds, and parts that worker processes share. build/stages.py wires the implementations (SQLite
files, incremental/fragments.py); every failure of a store is only a miss."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from dossier.render.parts import Part


class FragmentStore(Protocol):
    """Converted Markdown by a key of its text, its record and the converter's settings."""

    def key(self, owner: str, text: str) -> str: ...

    def get(self, key: str) -> tuple[str, list[Any], list[tuple[str, str]]] | None:
        """HTML, table of contents and link targets (source path, URL) stored under `key`."""
        ...

    def put(self, key: str, owner: str, html: str, toc: list[Any],
            targets: Iterable[tuple[str, str]]) -> None: ...

    def close(self) -> None: ...


class PartStore(Protocol):
    """Parts made in this build, by whichever worker needed them first."""

    def get(self, key: tuple[Any, ...]) -> Part | None: ...

    def put(self, key: tuple[Any, ...], part: Part) -> None: ...

    def remove(self) -> None:
        """Close and delete the store (the build is over)."""
        ...
