"""Diagnostics: what is wrong with the input, where, and what was probably meant."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]

MAX_SHOWN = 80  # characters of a value or field name that a diagnostic quotes
MAX_PER_FILE = 100  # diagnostics of one kind for one file; then one that says there are more
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """A value as a diagnostic quotes it: a 10 MB value must not make a 10 MB message."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def printable(text: str) -> str:
    """Control characters (a terminal or CI log would obey them) and lone surrogates from
    file names, written as escapes such as \\x1b."""
    return _UNPRINTABLE.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem with the input, located as `path:line:col`."""

    path: str
    line: int
    column: int
    severity: Severity
    field: str
    message: str
    suggestion: str = ""

    def __str__(self) -> str:
        return (f"{printable(self.path)}:{self.line}:{self.column}: {self.severity}: "
                f"{self.text}")

    @property
    def text(self) -> str:
        """The field, the message and the suggestion, without the location."""
        field = f"{shorten(self.field)}: " if self.field else ""
        hint = f"; did you mean {self.suggestion}?" if self.suggestion else ""
        return printable(f"{field}{self.message}{hint}")

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class DossierError(Exception):
    """Raised by any stage whose input has errors; carries every diagnostic found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = sort_diagnostics(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    def __reduce__(self) -> tuple[type[DossierError], tuple[list[Diagnostic]]]:
        # Raised in a worker process, it travels to the parent by pickle.
        return DossierError, (self.diagnostics,)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sort by path, then line and column, without duplicates."""
    return sorted(set(diagnostics), key=lambda d: (d.path, d.line, d.column, d.field, d.message))


def errors(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Only the errors."""
    return [d for d in diagnostics if d.is_error]


def stop_on_errors(problems: Sequence[Diagnostic], strict: bool = False) -> None:
    """Raise the problems found so far when one is an error (or any is, when `strict`)."""
    if errors(problems) or (strict and problems):
        raise DossierError(list(problems))


def suggest(word: str, candidates: Iterable[str]) -> str:
    """The closest candidate, quoted, or '' when nothing is close enough."""
    pool = sorted(set(candidates))
    match = difflib.get_close_matches(word, pool, n=1, cutoff=0.7)
    if not match and word.lower() != word:
        match = difflib.get_close_matches(word.lower(), pool, n=1, cutoff=0.7)
    return f"'{match[0]}'" if match else ""


def format_text(diagnostics: Iterable[Diagnostic]) -> str:
    """One diagnostic per line, as compilers print them."""
    return "\n".join(str(d) for d in diagnostics)


def format_json(diagnostics: Iterable[Diagnostic]) -> str:
    """A JSON array of diagnostics for CI tools."""
    rows = []
    for d in diagnostics:
        row = {k: printable(v) if isinstance(v, str) else v for k, v in asdict(d).items()}
        row["field"] = shorten(row["field"])
        row["suggestion"] = printable(d.suggestion.strip("'")) or None
        rows.append(row)
    return json.dumps(rows, ensure_ascii=False, indent=2)


def format_github(diagnostics: Iterable[Diagnostic]) -> str:
    """GitHub Actions workflow commands, so errors show on the right line."""
    lines = []
    for d in diagnostics:
        text = d.text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        path = printable(d.path).replace("%", "%25").replace(",", "%2C").replace(":", "%3A")
        lines.append(f"::{d.severity} file={path},line={d.line},col={d.column}::{text}")
    return "\n".join(lines)

