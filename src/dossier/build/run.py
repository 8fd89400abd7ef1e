"""One run of the pipeline: its options, memory, timings and problems, and its result."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from dossier.core.diagnostics import Diagnostic
from dossier.core.options import BuildOptions
from dossier.core.timing import Timer, timed

if TYPE_CHECKING:
    from dossier.content.load import Content, DocumentSource
    from dossier.incremental.memory import Memory
    from dossier.model.site import Site
    from dossier.search.index import SearchStats

# The stages of a build, in order (pipeline.run calls them so; --profile lists them so).
STAGES = ("load", "validate", "link", "plan", "what changed", "render", "check",
          "open data and search", "swap")


# How often Python's cycle collector runs while a build runs (see `few_collections`).
BUILD_GC_THRESHOLD = (10_000, 10, 10)


@contextmanager
def few_collections() -> Iterator[None]:
    """Run Python's cycle collector less often while a build runs.

    A build makes many objects that live until it ends (documents, records, the linked
    model, the plan) and little cyclic garbage. At its defaults (a collection every 700
    allocations) the collector walks the growing model again and again: at 10,000 projects
    that was a third of the validate, link and plan stages of a one-project edit. After
    10,000 allocations a collection is as thorough, and much rarer.
    """
    before = gc.get_threshold()
    gc.set_threshold(*BUILD_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cycle collection at all while a build reads what it remembers and makes the
    model (load, validate, link, plan, what changed): those stages make objects that live
    until the build ends and next to no cyclic garbage, so a collection there only walks
    them. Even rare and with the model frozen after each stage, those walks took 0.2-0.3 s
    of a one-project edit at 10,000 projects (129 collections), for no memory given back
    (the same peak either way). Rendering makes cyclic garbage (Jinja's contexts): the
    collector runs again before it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass
class BuildResult:
    """What a build did: counts, time and the warnings it found."""

    pages: int = 0
    files: int = 0
    changed: int = 0
    removed: int = 0
    rendered: int = 0  # pages rendered (the others were taken over from the previous build)
    seconds: float = 0.0
    out: Path | None = None
    warnings: list[Diagnostic] = field(default_factory=list)
    # Seconds per stage (STAGES), and per part of one ("render/template project.html").
    timings: dict[str, float] = field(default_factory=dict)
    unchanged: bool = False  # nothing to write: the previous output is still right
    search: SearchStats | None = None
    notices: list[str] = field(default_factory=list)  # how it wrote, when not as it should


@dataclass
class Loaded:
    """A site as a run read it: its content (kept, to check an edit against the rest) and
    the linked model."""

    content: Content
    site: Site


class Run:
    """What the stages of one run share: the site, options, memory, the problems found so
    far, the result being made, and what is undone when a stage fails."""

    def __init__(self, site_dir: Path, options: BuildOptions, memory: Memory,
                 timings: dict[str, float] | None = None) -> None:
        self.site_dir, self.options, self.memory = site_dir, options, memory
        self.problems: list[Diagnostic] = []
        self.store: DocumentSource | None = None  # the memory's documents, while loading
        self.result = BuildResult(timings={} if timings is None else timings)
        self._on_failure: list[Callable[[], None]] = []
        self._on_exit: list[Callable[[], None]] = []
        self._frozen = False

    @property
    def timings(self) -> dict[str, float]:
        return self.result.timings

    def stage(self, name: str) -> Timer:
        """Time one stage of STAGES."""
        assert name in STAGES, name
        return timed(self.timings, name)

    def part(self, stage: str, name: str) -> Timer:
        """Time a part of a stage (shown below it by --profile)."""
        return timed(self.timings, f"{stage}/{name}")

    def keep_alive(self) -> None:
        """What the stages so far made lives until the run ends (the documents, the linked
        model, the plan): left out of the cycle collector's walks from now on, which
        otherwise go over all of it again (at 10,000 projects 0.6 s of a one-project
        edit). Given back to the collector when the run ends."""
        if not self._frozen:
            self._frozen = True
            self.on_exit(gc.unfreeze)
        gc.freeze()

    def on_failure(self, undo: Callable[[], None]) -> None:
        """Call `undo` if a later stage fails."""
        self._on_failure.append(undo)

    def on_exit(self, done: Callable[[], None]) -> None:
        """Call `done` when the run ends, whether it succeeded or not."""
        self._on_exit.append(done)

    def __enter__(self) -> Run:
        self._collections = few_collections()
        self._collections.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._collections.__exit__(None, None, None)
        if exc is not None:
            for undo in reversed(self._on_failure):
                undo()
        for done in reversed(self._on_exit):
            done()
