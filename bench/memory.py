"""The memory of a command's whole process tree, sampled while it runs.

`wait4`'s ru_maxrss gives the largest single process; forked workers share most of their
pages with their parent, so adding up their resident sets would count those pages several
times. The proportional set size (Linux, /proc/PID/smaps_rollup) divides each shared page
among the processes that map it: the sum over the tree is what the build occupies.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PROC = Path("/proc")


def children(pid: int) -> list[int]:
    """The direct children of a process (every thread's list)."""
    found: list[int] = []
    try:
        for task in (PROC / str(pid) / "task").iterdir():
            text = (task / "children").read_text()
            found += [int(p) for p in text.split()]
    except OSError:
        pass
    return found


def tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children(current)
    return found


def pss_kb(pid: int) -> int:
    """A process's proportional set size in kB (0 if it is gone)."""
    try:
        with open(PROC / str(pid) / "smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class TreeSampler:
    """Samples the summed PSS of a process tree every `interval` seconds, keeping the
    highest sum (in MB) and the most processes seen at once."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid, self.interval = pid, interval
        self.peak_mb = 0.0
        self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.available = (PROC / str(os.getpid()) / "smaps_rollup").exists()

    def __enter__(self) -> TreeSampler:
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self.available:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = tree(self.pid)
            total = sum(pss_kb(p) for p in pids) / 1024
            self.peak_mb = max(self.peak_mb, total)
            self.processes = max(self.processes, len(pids))
            self._stop.wait(self.interval)
