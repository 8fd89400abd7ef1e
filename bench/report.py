"""The record of the last `make bench`: its table, written into docs/benchmarks.md.

The figures live in one place and are never copied by hand: after a run, bench/run.py
puts the table it printed between two markers of that page, with the command and the date
of the run. The text around the markers (what the columns mean) is the page's own and is
kept as it is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path

START = "<!-- bench:start -->"
END = "<!-- bench:end -->"


def command(environ: Mapping[str, str]) -> str:
    """`make bench` with the BENCH_* settings of this run before it, as one would type it."""
    settings = [f"{key}={value}" for key, value in sorted(environ.items())
                if key.startswith("BENCH_") and key != "BENCH_REPORT"]
    return " ".join([*settings, "make bench"])


def block(table: str, run: str, when: date) -> str:
    """The marked block: the command and date of the run, then its table as printed."""
    return (f"{START}\nLast recorded run: `{run}`, {when.isoformat()}.\n\n"
            f"```text\n{table.rstrip()}\n```\n{END}")


def replace_block(text: str, new_block: str) -> str:
    """`text` with its marked block replaced by `new_block`; without markers, the block is
    added at the end. Everything outside the markers is kept byte for byte."""
    start = text.find(START)
    end = text.find(END, start) if start >= 0 else -1
    if start < 0 or end < 0:
        if START in text or END in text:
            raise ValueError(f"{START} and {END} must both be there, in that order")
        return text.rstrip("\n") + ("\n\n" if text.strip() else "") + new_block + "\n"
    return text[:start] + new_block + text[end + len(END):]


def write_report(path: Path, table: str, run: str, when: date) -> None:
    """Put the table between the markers of `path` (made if missing), atomically."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    new = replace_block(old, block(table, run, when))
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(new, encoding="utf-8")
    os.replace(temporary, path)
