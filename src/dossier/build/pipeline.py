"""The build: the one place that knows the order of the stages.

    load → validate → link → plan → what changed → render → check → open data and search → swap

`run` is that list, one call a stage (stages.py holds them); `dossier build`, `dossier
check` and the preview all go through it, each with its own destination (the output
folder, nothing, the preview's folder in place) and memory (the build cache, nothing,
the preview's state in memory). Every read finishes before anything is swapped in; a
stage that finds errors raises DossierError, and the output stays as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from dossier.build.run import STAGES, BuildResult, Loaded, Run, collector_paused
from dossier.core.diagnostics import Diagnostic, DossierError, sort_diagnostics
from dossier.core.options import BuildOptions
from dossier.core.timing import timed
from dossier.incremental.memory import Memory, complete, current_sources, recall
from dossier.write.output import MemoryOutput, OutputFolder

if TYPE_CHECKING:
    from dossier.build.stages import Destination, Reading
    from dossier.model.site import Site

__all__ = ["STAGES", "BuildResult", "Loaded", "build", "check", "check_site",
           "load_site", "run"]


def run(site_dir: Path, options: BuildOptions, output: Destination, memory: Memory,
        reading: Reading | None = None, timings: dict[str, float] | None = None,
        out: Path | None = None,
        pages_ready: Callable[[list[Diagnostic]], None] | None = None,
        ) -> tuple[BuildResult, Loaded]:
    """Make the site into `output`, stage by stage; `reading`: the preview's content and
    the files saved since (else every file is read); `out`: where the output is, for
    the memory to keep (none for a check); `pages_ready`: called with the warnings once
    the pages are written and checked, before the open data and the search index are
    waited for (the preview reloads open pages then; written in place, they are final)."""
    from dossier.build import stages  # here: a build with nothing to do needs none of it

    with Run(site_dir, options, memory, timings) as r:
        with collector_paused():  # on again before the pages render
            with r.stage("load"):
                content = stages.load(r, reading)
            r.keep_alive()
            with r.stage("validate"):
                content, records = stages.validate(r, content)
            with r.stage("link"):
                site = stages.link(r, content, records)
            r.keep_alive()
            with r.stage("plan"):
                work = stages.plan_outputs(r, site)
            r.keep_alive()
            with r.stage("what changed"):
                todo = stages.what_changed(r, work, output)
        if not todo.nothing_to_do:
            with r.stage("render"):
                rendered = stages.render(r, work, todo, output)
            with r.stage("check"):
                stages.check(r, work, rendered)
            if pages_ready is not None:
                pages_ready(sort_diagnostics(r.problems))
            with r.stage("open data and search"):
                stages.open_data_and_search(r, work, rendered, output)
        with r.stage("swap"):
            stages.swap(r, output, out)
    return r.result, Loaded(content, site)


def build(site_dir: Path, options: BuildOptions = BuildOptions()) -> BuildResult:
    """Validate, render and write the site; raise DossierError and leave the output as it
    was. When nothing changed since the last build, nothing is read (like make)."""
    started = time.perf_counter()
    out = options.out or site_dir / "build"
    _refuse_dangerous_output(site_dir, out)
    timings: dict[str, float] = {}
    with timed(timings, "load"), collector_paused():
        memory, stats, up_to_date = recall(site_dir, out, options, current_sources(site_dir))
    try:
        if up_to_date:
            before = memory.before
            assert before is not None
            result = BuildResult(pages=before.pages, files=len(before.baseline.outputs),
                                 warnings=list(before.warnings), unchanged=True)
        else:
            with timed(timings, "load"), collector_paused():
                complete(memory)
            # The lock and the trees live in the cache's private folder, never beside `out`.
            with OutputFolder(out, memory.standby(), memory.standby_unknown,
                              memory.private_folder, keep=options.cache) as folder:
                folder.stats_later = stats  # being read, or read by the up-to-date check
                result, _ = run(site_dir, options, folder, memory, timings=timings, out=out)
            result.notices = folder.notices
    finally:
        memory.close()
    result.out, result.timings = out, timings
    result.seconds = time.perf_counter() - started
    return result


def check(site_dir: Path, options: BuildOptions = BuildOptions()) -> BuildResult:
    """Everything a build does except writing: all diagnostics, nothing on disk changes."""
    return check_site(site_dir, options)[0]


def check_site(site_dir: Path,
               options: BuildOptions = BuildOptions()) -> tuple[BuildResult, Site]:
    """`check`, with the linked model it checked (for `dossier check --report`)."""
    started = time.perf_counter()
    options = replace(options, search=False)
    result, loaded = run(site_dir, options, MemoryOutput(), Memory.nothing())
    result.seconds = time.perf_counter() - started
    return result, loaded.site


def load_site(site_dir: Path, options: BuildOptions = BuildOptions(),
              problems: list[Diagnostic] | None = None) -> Site:
    """The linked model of a site; its warnings are added to `problems`."""
    return load(site_dir, options, Memory.nothing(), problems).site


def load(site_dir: Path, options: BuildOptions, memory: Memory,
         problems: list[Diagnostic] | None = None) -> Loaded:
    """The load, validate and link stages alone (documents from `memory` where it has
    them)."""
    from dossier.build import stages

    with Run(site_dir, options, memory) as r, collector_paused():
        content, records = stages.validate(r, stages.load(r, None))
        site = stages.link(r, content, records)
    if problems is not None:
        problems.extend(r.problems)
    return Loaded(content, site)


def _refuse_dangerous_output(site_dir: Path, out: Path) -> None:
    """The output folder is replaced whole: it may not hold the site itself."""
    site, target = site_dir.resolve(), out.resolve()
    if target == site or site.is_relative_to(target) or target == site / "content":
        raise DossierError([Diagnostic(str(out), 1, 1, "error", "",
                                       "output folder would replace the site's own files; "
                                       "choose another --out")])
