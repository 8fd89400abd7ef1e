"""Dates from git: when a record file was last committed, for records without a date of
their last update (the field with the role `updated`: `bijgewerkt` in the default schema).

When the site folder is a git work tree, a record that carries no such date of its own
gets the date of the last commit that changed its file, as long as the file is committed
and unchanged since (staged or not); an uncommitted or modified file, or a site outside
git, gets no date. The dates follow the first-parent line of the checked-out branch, so
a change merged from a side branch counts from the day it was merged, and each date is
the committer's calendar day in the committer's own time zone: the same commits always
give the same dates, whatever machine builds them.

Cost: two small git processes per build (which commit is checked out, which content
files differ from it) and, when the commit is new, one `git log` over `content/` for
every file at once, never a process per record. The parsed log is kept in the build cache
under its commit.

The build calls two functions: `stamp` (what the dates depend on, for the build cache's
up-to-date check) and `dated` (the records with their dates).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dossier.content.records import Record

UPDATED = "updated"  # the role of the field a date from history fills in
CACHE_FILE = "history.json"
_FORMAT = 1
_COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Options that keep git from writing to the repository (an index refresh) or running
# commands configured in it, and keep its output in the form parsed here whatever the
# user's configuration says.
_GIT = ["git", "--no-optional-locks", "-c", "core.fsmonitor=false",
        "-c", "log.showSignature=false", "-c", "log.diffMerges=first-parent"]


@dataclass(frozen=True)
class State:
    """The git state of a site's content: the commit checked out and the content files
    that differ from it."""

    head: str = ""  # '' outside git or before the first commit
    changed: frozenset[str] = frozenset()  # site-relative paths, staged or not

    @property
    def key(self) -> str:
        """A hash of what the dates depend on ('' outside git)."""
        if not self.head:
            return ""
        text = "\0".join([self.head, *sorted(self.changed)])
        return hashlib.blake2b(text.encode("utf-8", "surrogateescape"),
                               digest_size=8).hexdigest()


def stamp(site_dir: Path) -> dict[str, tuple[int, int, int]]:
    """The git state as an entry among the build's source file stats: a commit changes
    no file, so without it a build after a commit would think nothing changed."""
    key = read_state(site_dir).key
    return {"(git history)": (0, 0, int(key, 16))} if key else {}


def dated(records: Sequence[Record], site_dir: Path,
          cache_dir: Path | None = None) -> list[Record]:
    """The records, each without a date of its last update given its file's last commit
    date if it has one. With `cache_dir`, the parsed log is read from and kept there."""
    state = read_state(site_dir)
    wanted = [r for r in records if _wants_date(r)]
    if not state.head or not wanted:
        return list(records)
    dates = commit_dates(site_dir, state.head, cache_dir)
    found = {r.path: dates[r.path] for r in wanted
             if r.path in dates and r.path not in state.changed}
    return [_with_date(r, found[r.path]) if r.path in found else r for r in records]


def _wants_date(record: Record) -> bool:
    """A record whose collection has a date field with the role `updated` that the record
    leaves empty."""
    f = record.collection.role_field(UPDATED)
    return f is not None and f.type == "date" and f.name not in record.data


def _with_date(record: Record, date: str) -> Record:
    """The record with a date from history; its digest changes with it, so incremental
    builds render again what shows the date."""
    digest = hashlib.blake2b(f"{record.digest}\0{date}".encode(), digest_size=16).hexdigest()
    f = record.collection.role_field(UPDATED)
    assert f is not None
    return record.with_data({**record.data, f.name: date}, digest)


def read_state(site_dir: Path) -> State:
    """HEAD and the content files that differ from it; an empty State outside git."""
    head = _git(site_dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if head is None or not _COMMIT.match(head.decode("ascii", "replace").strip()):
        return State()
    changed = _git(site_dir, "diff", "--name-only", "-z", "--relative", "--no-renames",
                   "--no-color", "--no-ext-diff", "HEAD", "--", "content")
    if changed is None:
        return State()
    return State(head.decode("ascii").strip(),
                 frozenset(os.fsdecode(p) for p in changed.split(b"\0") if p))


def commit_dates(site_dir: Path, head: str, cache_dir: Path | None = None) -> dict[str, str]:
    """Per file under content/ (site-relative path): the date of the last commit on the
    first-parent line of `head` that changed it."""
    cache = cache_dir / CACHE_FILE if cache_dir is not None else None
    if cache is not None and (kept := _load(cache, head)) is not None:
        return kept
    output = _git(site_dir, "log", "--first-parent", "-m", "--no-renames", "--no-color",
                  "--relative", "-z", "--format=%cI", "--name-only", head, "--", "content")
    dates = parse_log(output) if output is not None else {}
    if cache is not None and output is not None:
        _save(cache, head, dates)
    return dates


def parse_log(output: bytes) -> dict[str, str]:
    """`git log -z --format=%cI --name-only` → each file's newest date (commits come
    newest first; every name follows its commit's date)."""
    dates: dict[str, str] = {}
    date = ""
    for token in output.split(b"\0"):
        token = token.removeprefix(b"\n")  # the first name of a commit follows a newline
        if token.startswith(b"content/"):
            if date:
                dates.setdefault(os.fsdecode(token), date)
        elif token:
            date = _valid_date(token[:10].decode("ascii", "replace"))
    return dates


def _valid_date(text: str) -> str:
    """`text` if it is a real YYYY-MM-DD date, else ''."""
    if not _DATE.match(text):
        return ""
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return ""
    return text


def _git(site_dir: Path, *args: str) -> bytes | None:
    """The output of a git command run in the site folder; None if git fails or is missing."""
    try:
        done = subprocess.run([*_GIT, *args], cwd=site_dir, capture_output=True,
                              stdin=subprocess.DEVNULL, check=False)
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


def _load(path: Path, head: str) -> dict[str, str] | None:
    """The dates kept for `head`; None if the file is missing, for another commit, or not
    exactly what `_save` writes (the cache folder is in the site, anyone may add to it)."""
    try:
        raw = json.loads(path.read_text("utf-8"))
        if raw["format"] != _FORMAT or raw["head"] != head:
            return None
        dates = raw["dates"]
        if not isinstance(dates, dict) or not all(
                isinstance(p, str) and p.startswith("content/") and isinstance(d, str)
                and _valid_date(d) for p, d in dates.items()):
            return None
        return dates
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def _save(path: Path, head: str, dates: Mapping[str, str]) -> None:
    """Keep the dates of `head`, written whole or not at all."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(mode=0o700)  # private, as the build cache is
            (path.parent / ".gitignore").write_text("*\n")  # as the build cache writes it
        tmp.write_text(json.dumps({"format": _FORMAT, "head": head, "dates": dates},
                                  ensure_ascii=False, sort_keys=True), "utf-8",
                       errors="surrogateescape")
        os.replace(tmp, path)
    except (OSError, ValueError):
        tmp.unlink(missing_ok=True)  # the cache is an optimisation; a build goes on without it
