"""The floor: what the required libraries alone cost on a generated corpus.

For every record file (projects, organisations, dossiers, pages; a record in a folder of its
own is its index.md, and the files beside it are copied as they are): read it, parse its front
matter with PyYAML (libyaml's loader), convert its body with Python-Markdown (the
extensions dossier uses), render one small Jinja template with the title, the fields and
the body, and write the page. Nothing else: no validation, links, facets, lists or search.
The files are shared over one process per CPU, as dossier's pages are. A build that does
more than this pays for what it does beyond the libraries.

    python bench/floor.py SITE OUT
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

import jinja2
import markdown
import yaml
from markupsafe import Markup

TEMPLATE = jinja2.Environment(autoescape=True).from_string(
    "<!DOCTYPE html><html lang=nl><head><meta charset=utf-8><title>{{ title }}</title></head>"
    "<body><main><h1>{{ title }}</h1><dl>{% for k, v in fields.items() %}"
    "<dt>{{ k }}</dt><dd>{{ v }}</dd>{% endfor %}</dl>{{ body }}</main></body></html>")
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def page(args: tuple[Path, Path]) -> int:
    """One record file to one HTML page; returns the bytes written."""
    source, out = args
    text = source.read_text(encoding="utf-8")
    front, _, body = text.removeprefix("---\n").partition("\n---\n")
    fields = yaml.load(front, Loader=LOADER) or {}
    converter = markdown.Markdown(extensions=["tables", "attr_list", "footnotes", "toc"])
    html = TEMPLATE.render(title=fields.get("titel") or fields.get("naam") or source.stem,
                           fields=fields, body=Markup(converter.convert(body)))
    bundle = source.name == "index.md"
    folder = source.parent if bundle else source.parent / source.stem
    target = out / folder.relative_to(source.parents[2 if bundle else 1]) / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    data = html.encode("utf-8")
    target.write_bytes(data)
    if bundle:  # a photo beside the record: copied, not resized (the floor makes no variants)
        for other in source.parent.iterdir():
            if other.name != "index.md":
                (target.parent / other.name).write_bytes(other.read_bytes())
    return len(data)


def build(site: Path, out: Path) -> int:
    """Every record file of the site as a page in `out`; returns the number of pages."""
    content = site / "content"
    sources = sorted([*content.glob("*/*.md"), *content.glob("*/*/index.md")])
    with multiprocessing.get_context("fork").Pool(os.cpu_count()) as pool:
        written = pool.map(page, [(s, out) for s in sources], chunksize=64)
    return len(written)


if __name__ == "__main__":
    pages = build(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"floor: {pages} pages")
