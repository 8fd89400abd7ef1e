"""Seconds per stage of a build, for `dossier build --profile`.

A build's timings are a plain dict: a stage's name (build.STAGES) holds the seconds of the
whole stage; `stage/detail` holds a part of it that the profile shows indented below it.
"""

from __future__ import annotations

import time
from types import TracebackType


class Timer:
    """Adds the seconds a `with` block takes to one entry of `timings`."""

    def __init__(self, timings: dict[str, float], name: str) -> None:
        self.timings, self.name, self.started = timings, name, 0.0

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        add(self.timings, self.name, time.perf_counter() - self.started)


def timed(timings: dict[str, float], name: str) -> Timer:
    """`with timed(timings, "link/media"):` adds the block's seconds to that entry."""
    return Timer(timings, name)


def add(timings: dict[str, float], name: str, seconds: float) -> None:
    """Add `seconds` to one entry."""
    timings[name] = timings.get(name, 0.0) + seconds
