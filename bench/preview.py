"""The preview's rows of `make bench`: from saving a project to the reload event.

`dossier serve` runs on the generated corpus as an editor starts it (with the search
index). The benchmark listens to its event stream as an open page does, saves one project
(a new sentence in its body each time), and times the save until the `reload` event, and
until the `indexed` event that tells the search page its index caught up. Each edit waits
for both before the next, so one edit's indexing does not fall into the next one's time.
Then it saves the same project many times more, each time waiting only for the reload (an
editor saving often), and reads the memory of the serve process tree at rest after the
first edits and every 50 edits after: memory that levels off means nothing is kept per edit.
"""

from __future__ import annotations

import http.client
import queue
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from memory import pss_kb, tree

START_TIMEOUT = 3600.0  # the first build of a large corpus; a hang guard, not a bound
EVENT_TIMEOUT = 600.0


@dataclass(frozen=True)
class PreviewFigures:
    reloads: list[float]  # seconds from a save to its reload event
    indexed: list[float]  # seconds from a save to the search index catching up
    pss_mb: list[tuple[int, float]]  # (saves so far, the tree's summed PSS then, at rest)
    peak_mb: float  # the largest single process's peak resident set (VmHWM)

    @property
    def reload_median(self) -> float:
        return statistics.median(self.reloads)


class Events:
    """A server-sent event stream read in a thread, as a page's EventSource reads it."""

    def __init__(self, host: str, path: str) -> None:
        self.conn = http.client.HTTPConnection(host, timeout=EVENT_TIMEOUT)
        self.conn.request("GET", path)
        self.response = self.conn.getresponse()
        self.events: queue.Queue[tuple[str, float]] = queue.Queue()
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("retry:"):
                    self.ready.set()
                elif line.startswith("event: "):
                    self.events.put((line.removeprefix("event: "), time.perf_counter()))
        except OSError:
            pass

    def next(self, kind: str) -> float:
        """The time the next event of this kind arrived (others are skipped)."""
        while True:
            got, when = self.events.get(timeout=EVENT_TIMEOUT)
            if got == kind:
                return when

    def close(self) -> None:
        self.conn.close()


@contextmanager
def served(site: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`dossier serve` on a free port; yields the process and the home page's URL."""
    command = [sys.executable, "-m", "dossier", "serve", str(site), "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as process:
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        url = ""
        while not url:
            line = lines.get(timeout=max(1.0, deadline - time.monotonic()))
            if line.startswith("serving "):
                url = line.split()[1]
            elif "Traceback" in line or "error" in line:
                process.kill()
                raise SystemExit(f"dossier serve failed: {line}")
        try:
            yield process, url
        finally:
            process.terminate()
            process.wait(timeout=60)


def _get(url: str, page: str) -> str:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=60)
    try:
        conn.request("GET", parts.path + page)
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def _idle(url: str) -> None:
    """Wait until the search page no longer says that its index is being brought up to
    date (the index of the first build is made in the background)."""
    deadline = time.monotonic() + START_TIMEOUT
    while "dossier-zoekindex" in _get(url, "zoeken/") and time.monotonic() < deadline:
        time.sleep(0.5)


def _since(url: str, page: str) -> str:
    """The generation of the build a page was served from (its reload script says)."""
    html = _get(url, page)
    found = re.search(r'data-since="(\d+)"', html)
    if not found:
        raise SystemExit(f"{page}: the served page has no reload script")
    return found.group(1)


def _save(file: Path, original: str, n: int) -> None:
    """Save the project with its body changed (a new file, as an editor's save does)."""
    text = original.replace("## Aanpak\n", f"## Aanpak\n\nBewerking {n} (benchmark).\n", 1)
    if text == original:
        raise SystemExit(f"{file}: no '## Aanpak' section; generate the corpus anew")
    tmp = file.with_name(f".{file.name}.bench")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(file)


def _vm_hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _pss_at_rest_mb(url: str, pid: int) -> float:
    """The summed PSS of the serve process tree once the index runs that saves queued are
    over (a running Pagefind would be counted otherwise)."""
    _idle(url)
    time.sleep(1.0)
    return sum(pss_kb(p) for p in tree(pid)) / 1024


def measure(site: Path, timed: int = 10, more: int = 200) -> PreviewFigures:
    """Serve the corpus, save a project `timed` times waiting for the reload and the index,
    then `more` times waiting for the reload only, reading the memory at rest every 50 saves;
    the project is put back afterwards."""
    project = site / "content" / "projecten" / "project-00003.md"
    original = project.read_text(encoding="utf-8")
    reloads: list[float] = []
    indexed: list[float] = []
    try:
        with served(site) as (process, url):
            host = urlsplit(url).netloc
            since = _since(url, "projecten/project-00003/")
            events = Events(host, f"/__dossier/events?since={since}&index=1")
            try:
                events.ready.wait(EVENT_TIMEOUT)
                _idle(url)
                time.sleep(1.0)  # let the watcher settle after the first build
                for n in range(timed):
                    saved = time.perf_counter()
                    _save(project, original, n)
                    reloads.append(events.next("reload") - saved)
                    indexed.append(events.next("indexed") - saved)
                pss = [(timed, _pss_at_rest_mb(url, process.pid))]
                for n in range(timed, timed + more):
                    _save(project, original, n)
                    events.next("reload")
                    if (n + 1 - timed) % 50 == 0 or n + 1 == timed + more:
                        pss.append((n + 1, _pss_at_rest_mb(url, process.pid)))
                peak = max(_vm_hwm_mb(p) for p in tree(process.pid))
            finally:
                events.close()
    finally:
        project.write_text(original, encoding="utf-8")
    return PreviewFigures(reloads, indexed, pss, peak)
