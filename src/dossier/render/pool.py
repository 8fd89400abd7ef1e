"""Render pages in worker processes; each worker writes its pages and checks their links.

Workers are forked after the Site model is built, so they share it without pickling, and
every page is rendered by the same pure function whatever the number of processes: the
output of `--jobs 2` is byte-identical to `--jobs 1`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import pickle
import signal
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Generic, Protocol, TypeVar

from dossier.core import deps
from dossier.core.diagnostics import Diagnostic, DossierError
from dossier.core.urls import output_path
from dossier.plan.pages import Page
from dossier.render.linkcheck import Trouble
from dossier.render.minify import minify_html
from dossier.render.parts import Anchor
from dossier.render.renderer import Renderer
from dossier.render.templating import template_problem
from dossier.write.files import Stream

T = TypeVar("T")


class PageWriter(Protocol):
    def put(self, rel: str, data: bytes) -> bool: ...

    def stream(self, rel: str) -> Stream: ...

    def reuse(self, rel: str) -> None: ...


@dataclass
class PageResult:
    """What became of one page: changed or not, problems, anchors to check elsewhere."""

    rel: str
    changed: bool = False
    problems: list[Diagnostic] = field(default_factory=list)
    anchors: list[Anchor] = field(default_factory=list)  # ids it needs on other pages
    ids: set[str] = field(default_factory=set)  # ids it has
    troubles: list[Trouble] = field(default_factory=list)  # broken links templates made
    deps: bytes = b""  # what it read of the model, packed (deps.py)
    parts: dict[int, bytes] = field(default_factory=dict)  # parts first shown here: theirs
    derived: list[tuple[str, ...]] = field(default_factory=list)  # values to keep
    template: str = ""
    seconds: float = 0.0


@dataclass
class _Job:
    renderer: Renderer
    pages: Sequence[Page]
    writer: PageWriter
    minify: bool = False


_PR_SET_PDEATHSIG = 1  # Linux prctl option: a signal for this process when its parent dies
_JOB: _Job | None = None  # set in the parent just before forking; read by the workers


def default_jobs() -> int:
    """One worker per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def render_pages(renderer: Renderer, pages: Sequence[Page], writer: PageWriter, jobs: int,
                 minify: bool = False) -> Iterator[tuple[int, PageResult]]:
    """Render, write and link-check every page, in `jobs` processes; yields each result
    with its page's place in `pages` as it comes (the caller keeps what it needs of it,
    not every result of a large site at once).

    Record pages come first: they make their records' parts (body, facts, card), which
    the other pages (lists, facet terms, printable dossiers) then take as they are.
    """
    global _JOB
    _JOB = _Job(renderer, pages, writer, minify)
    _SENT.clear()
    deps.made_parts.clear()
    first = [i for i, p in enumerate(pages) if p.kind == "record"]
    # Printable dossiers hold every project of a dossier: each is a job of its own, last,
    # so they do not all fall to one worker.
    whole = [i for i, p in enumerate(pages) if p.kind == "print"]
    rest = [i for i, p in enumerate(pages) if p.kind not in ("record", "print")]
    try:
        if jobs <= 1 or len(pages) < 50 or "fork" not in multiprocessing.get_all_start_methods():
            order = first + rest + whole
            yield from zip(order, (_render_one(_JOB, pages[i]) for i in order), strict=True)
            return
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            for phase in (_chunks(first, 64), _chunks(rest, 64) + [[i] for i in whole]):
                for chunk, done in zip(phase, pool.imap(_render_chunk, phase, chunksize=1),
                                       strict=True):
                    yield from zip(chunk, done, strict=True)
    finally:
        _JOB = None


def _chunks(indexes: list[int], size: int) -> list[list[int]]:
    return [indexes[i:i + size] for i in range(0, len(indexes), size)]


class Background(Generic[T]):
    """A function run in a forked process while the parent goes on (rendering pages, say).

    The result comes back pickled; a DossierError raised there is raised again by
    `result()`. Where fork is not available the function runs when its result is asked for.
    """

    def __init__(self, function: Callable[[], T]) -> None:
        self.function = function
        self.process: multiprocessing.process.BaseProcess | None = None
        if "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
            # The result comes back through a file both processes hold open, read as it is
            # unpickled: through the pipe, the whole pickle would be held in memory too
            # (hundreds of MB for a large site's open data and search index).
            self.spill = tempfile.TemporaryFile()  # noqa: SIM115 (closed by result())
            self.receive, send = context.Pipe(duplex=False)
            self.process = context.Process(target=self._run, args=(send, os.getpid()),
                                           daemon=True)
            self.process.start()
            send.close()

    def _run(self, send: Connection, parent: int) -> None:
        die_with_parent(parent)
        try:
            value = self.function()
            pickle.dump(value, self.spill, protocol=pickle.HIGHEST_PROTOCOL)
            self.spill.flush()
            send.send(("ok", None))
        except DossierError as exc:
            send.send(("error", exc.diagnostics))
        except BaseException as exc:  # a bug: shown as one, with its traceback
            send.send(("crash", "".join(traceback.format_exception(exc))))

    def result(self) -> T:
        if self.process is None:
            return self.function()
        try:
            kind, value = self.receive.recv()
        except EOFError:
            kind, value = "crash", f"background process ended with {self.process.exitcode}"
        finally:
            self.process.join()
        with self.spill:
            if kind == "error":
                raise DossierError(value)
            if kind == "crash":
                raise RuntimeError(f"in a background process:\n{value}")
            self.spill.seek(0)
            return pickle.load(self.spill)  # type: ignore[no-any-return]

    def cancel(self) -> None:
        """Stop it (the build failed): what it wrote goes with the temporary folder."""
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join()
        if self.process is not None:
            self.spill.close()


def give_back_memory() -> None:
    """Return the memory freed while loading (the documents, the text of the bodies) to the
    system before forking: what the parent holds then, every worker starts with. glibc only
    (elsewhere nothing happens)."""
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        trim = getattr(ctypes.CDLL(libc_name), "malloc_trim", None)
        if trim is not None:
            trim(0)


def die_with_parent(parent: int) -> None:
    """A worker must not outlive a killed build: it would keep writing into the temporary
    folder and hold the output folder's lock (inherited with fork), so the next build
    would be refused as if the killed one were still running."""
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        ctypes.CDLL(libc_name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _render_chunk(indexes: Sequence[int]) -> list[PageResult]:
    assert _JOB is not None
    return [_render_one(_JOB, _JOB.pages[i]) for i in indexes]


def _render_one(job: _Job, page: Page) -> PageResult:
    started = time.perf_counter()
    rel = output_path(page.url)
    result = PageResult(rel, template=page.template[0])
    try:
        rendered = job.renderer.render(page)
    except DossierError:
        raise
    except Exception as exc:  # a template's error, or a helper's it called
        problem = template_problem(exc, page.url, job.renderer.helper_names)
        if problem is None:
            raise  # not in a template: a bug of dossier's own
        result.problems.append(problem)
        return result
    result.problems = rendered.problems
    result.anchors, result.ids, result.troubles = rendered.anchors, rendered.ids, \
        rendered.troubles
    _dependencies(result, rendered.deps)
    html = minify_html(rendered.html) if job.minify else rendered.html
    result.changed = job.writer.put(rel, html.encode("utf-8"))
    result.seconds = time.perf_counter() - started
    return result


_SENT: set[int] = set()  # ids of the dependencies and parts this process already reported


def _dependencies(result: PageResult, read: set[deps.Dep]) -> None:
    """What a page read, for the parent: packed, with what it needs only once per build
    (the reads of the parts it shows, the dependencies whose value must be kept)."""
    result.deps = deps.pack(read)
    derived = set(deps.derived(read))
    for dep in read:
        if dep[0] == "part" and (number := deps.dep_id(dep)) not in _SENT:
            _SENT.add(number)
            inner = deps.made_parts.get(dep, frozenset())
            result.parts[number] = deps.pack(inner)
            derived.update(deps.derived(inner))
    # Every part this page shows is reported now or was before: what they read need not
    # be kept (a large site has hundreds of thousands of parts).
    deps.made_parts.clear()
    result.derived = [d for d in derived if deps.dep_id(d) not in _SENT]
    _SENT.update(deps.dep_id(d) for d in result.derived)
