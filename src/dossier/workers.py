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
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Generic, Protocol, TypeVar

import jinja2

from dossier.diagnostics import Diagnostic, DossierError
from dossier.linkcheck import collect, page_problems
from dossier.minify import minify_html
from dossier.output import Stream
from dossier.pages import Page
from dossier.render import Renderer
from dossier.urls import output_path

T = TypeVar("T")


class Writer(Protocol):
    def put(self, rel: str, data: bytes) -> bool: ...

    def stream(self, rel: str) -> Stream: ...


@dataclass
class PageResult:
    """What became of one page: changed or not, problems, anchors to check elsewhere."""

    rel: str
    changed: bool = False
    problems: list[Diagnostic] = field(default_factory=list)
    anchors: list[tuple[str, str, str]] = field(default_factory=list)
    template: str = ""
    seconds: float = 0.0


@dataclass
class _Job:
    renderer: Renderer
    pages: Sequence[Page]
    writer: Writer
    files: set[str]
    prefix: str
    out_label: str
    minify: bool = False


_PR_SET_PDEATHSIG = 1  # Linux prctl option: a signal for this process when its parent dies
_JOB: _Job | None = None  # set in the parent just before forking; read by the workers


def default_jobs() -> int:
    """One worker per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def render_pages(renderer: Renderer, pages: Sequence[Page], writer: Writer, files: set[str],
                 prefix: str, out_label: str, jobs: int, minify: bool = False
                 ) -> list[PageResult]:
    """Render, write and link-check every page, in `jobs` processes; results in page order."""
    global _JOB
    _JOB = _Job(renderer, pages, writer, files, prefix, out_label, minify)
    try:
        if jobs <= 1 or len(pages) < 50 or "fork" not in multiprocessing.get_all_start_methods():
            return _render_chunk(range(len(pages)))
        # Printable dossiers hold every project of a dossier: each is a job of its own, last,
        # so they do not all fall to one worker and find their projects' Markdown converted.
        whole = [i for i, p in enumerate(pages) if p.kind == "print"]
        rest = [i for i, p in enumerate(pages) if p.kind != "print"]
        chunks = [rest[i:i + 64] for i in range(0, len(rest), 64)] + [[i] for i in whole]
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, initializer=_die_with_parent, initargs=(os.getpid(),)) as pool:
            results: list[PageResult | None] = [None] * len(pages)
            for chunk, part in zip(chunks, pool.imap(_render_chunk, chunks), strict=True):
                for index, result in zip(chunk, part, strict=True):
                    results[index] = result
            return [r for r in results if r is not None]
    finally:
        _JOB = None


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
            self.receive, send = context.Pipe(duplex=False)
            self.process = context.Process(target=self._run, args=(send, os.getpid()),
                                           daemon=True)
            self.process.start()
            send.close()

    def _run(self, send: Connection, parent: int) -> None:
        _die_with_parent(parent)
        try:
            send.send(("ok", self.function()))
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
        if kind == "error":
            raise DossierError(value)
        if kind == "crash":
            raise RuntimeError(f"in a background process:\n{value}")
        return value  # type: ignore[no-any-return]

    def cancel(self) -> None:
        """Stop it (the build failed): what it wrote goes with the temporary folder."""
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join()


def _die_with_parent(parent: int) -> None:
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
    except jinja2.TemplateError as exc:
        result.problems.append(template_problem(exc, page))
        return result
    result.problems.extend(rendered.problems)
    messages, result.anchors = page_problems(rel, collect(rendered.html), job.files, job.prefix)
    label = f"{job.out_label}/{rel}" if job.out_label else rel
    result.problems.extend(Diagnostic(label, 1, 1, "error", "", m) for m in messages)
    html = minify_html(rendered.html) if job.minify else rendered.html
    result.changed = job.writer.put(rel, html.encode("utf-8"))
    result.seconds = time.perf_counter() - started
    return result


def template_problem(exc: jinja2.TemplateError, page: Page) -> Diagnostic:
    """A template bug as a diagnostic naming the template and the page it broke."""
    name = getattr(exc, "name", None) or getattr(exc, "filename", None) or "templates"
    line = getattr(exc, "lineno", None) or 1
    where = f"templates/{name}" if not str(name).startswith("/") else str(name)
    return Diagnostic(where, line, 1, "error", "",
                      f"template error while rendering '{page.url or '/'}': {exc.message}")


def iter_ids(renderer: Renderer, page: Page, read: Callable[[str], str | None]) -> Iterator[str]:
    """The ids of one page: from the written file if there is one, else rendered again."""
    html = read(output_path(page.url))
    if html is None:
        html = renderer.render(page).html
    yield from collect(html).ids
