"""The report for editors as an HTML page (`dossier check --report`'s, model/report.py).

A page of its own, not of the site: no theme stylesheet, no scripts, nothing from another
host, so it can be served anywhere (by `dossier serve`, linked from the editor under
admin/). The words are the report's, in the site's language.
"""

from __future__ import annotations

import jinja2

from dossier.model.report import KINDS, WORDS, Report
from dossier.render.assets import THEME

TEMPLATE = "report.html"


def report_page(found: Report, admin_href: str = "") -> str:
    """The page: per collection, each kind of finding as a list; `admin_href` links back
    to the editor."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(THEME / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    words = WORDS.get(found.lang, WORDS["nl"])
    headings = {kind: words[kind].format(limit=found.limit) for kind in KINDS}
    return env.get_template(TEMPLATE).render(report=found, words=words, kinds=KINDS,
                                             headings=headings, admin_href=admin_href)
