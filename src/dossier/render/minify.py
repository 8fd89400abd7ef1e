"""Optional HTML minification (`dossier build --minify`): runs of white space collapse.

Only white space between and inside text changes, which browsers collapse anyway; the
content of pre, textarea, script and style elements is kept exactly.
"""

from __future__ import annotations

import re

_KEEP_RE = re.compile(r"<(pre|textarea|script|style)\b.*?</\1\s*>", re.S | re.I)
_SPACE_RE = re.compile(r"[ \t\r\n\f]+")


def minify_html(html: str) -> str:
    """The same page with less white space."""
    out, last = [], 0
    for match in _KEEP_RE.finditer(html):
        out.append(_collapse(html[last:match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_collapse(html[last:]))
    return "".join(out)


def _collapse(text: str) -> str:
    return _SPACE_RE.sub(lambda m: "\n" if "\n" in m.group(0) else " ", text)
