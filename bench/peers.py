"""The peers of `make bench`: Pelican and Hugo building dossier's generated corpus.

Each peer gets a site of dossier's shape written from the same records, with the same
Markdown bodies for its own converter (Python-Markdown for Pelican, Goldmark for Hugo):

- Hugo (bench/peer-sites/hugo): a page per project and organisation (title, summary, facts
  with linked terms and organisations, table of contents, body, three related projects; an
  organisation lists the projects it runs and partners in), a list per section and a page
  per term of every facet (taxonomies: the projects' dossiers, thema, doelgroep, leeftijd,
  herkomst, plaats, provincie, status and programma; the organisations' type, plaats and
  provincie), all paginated at 20, a term list per facet, one feed, a sitemap.
- Pelican (bench/peer-sites/pelican, its default theme): an article per project and
  organisation (title, summary, body, tags), a paginated list per category (projecten,
  organisaties), one paginated tag page per facet term and dossier, a page per dossier and
  content page, one feed.

Neither makes what only dossier makes: printable dossiers, JSON and CSV exports, the A-Z
page, responsive variants of photos (both copy a record's photo as it is) and (in its own
row) the search index. Links between records written in Markdown are resolved the peer's
own way (Hugo: a link render hook; Pelican: `{filename}` links). A record in a folder of its
own (index.md and its photo) is a page bundle for Hugo; for Pelican an article, its photo
under `images/` (`{static}` links).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SITES = HERE / "peer-sites"
REQUIREMENTS = HERE / "peers.txt"
PROJECT_FACETS = ("dossiers", "thema", "doelgroep", "leeftijd", "herkomst", "plaats",
                  "provincie", "status", "programma")
# An organisation's facet and the Hugo taxonomy (of organisations only) it becomes.
ORG_FACETS = {"type": "organisatietype", "plaats": "organisatieplaats",
              "provincie": "organisatieprovincie"}
# The vocabulary that labels each taxonomy's terms (the rest show the value as written).
VOCABULARIES = {"thema": "thema", "doelgroep": "doelgroep", "leeftijd": "leeftijd",
                "herkomst": "herkomst", "provincie": "provincie", "status": "status",
                "organisatietype": "organisatietype", "organisatieprovincie": "provincie"}


@dataclass(frozen=True)
class Peer:
    """A peer's site and the command that builds it from cold."""

    name: str
    site: Path
    command: tuple[str, ...]
    output: str
    leftovers: tuple[str, ...]  # output and caches: a cold build finds none of them

    def clean(self) -> None:
        """Remove everything an earlier build left, so that the next one is cold."""
        for leftover in self.leftovers:
            shutil.rmtree(self.site / leftover, ignore_errors=True)

    def pages(self) -> int:
        """HTML pages the last build wrote."""
        return sum(1 for _ in (self.site / self.output).rglob("*.html"))


# A link to another record as editors write it, from a record's file (or from its folder).
RECORD_LINK = re.compile(
    r"\]\((?:\.\./)+(projecten|organisaties|dossiers)/([\w-]+?)(?:/index)?\.md\)")


@dataclass(frozen=True)
class Record:
    collection: str
    slug: str
    front: dict[str, Any]
    body: str
    files: tuple[Path, ...] = ()  # beside the record's index.md in its own folder


def install(venv: Path) -> Path:
    """The peers' own virtual environment, (re)installed when bench/peers.txt changes."""
    stamp = venv / "installed.txt"
    wanted = REQUIREMENTS.read_text()
    if not stamp.exists() or stamp.read_text() != wanted:
        print("installing the peers (bench/peers.txt) …", file=sys.stderr)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-r", str(REQUIREMENTS)],
                       check=True)
        stamp.write_text(wanted)
    return venv


def peers(corpus: Path, work: Path, venv: Path) -> list[Peer]:
    """Write both peer sites for the corpus at `corpus`; their sources go under `work`."""
    records = list(read_records(corpus / "content"))
    vocabularies = yaml.safe_load((corpus / "content" / "schema.yml").read_text())["vocabularies"]
    pelican_site, hugo_site = work / "pelican", work / "hugo"
    write_pelican(records, pelican_site)
    write_hugo(records, vocabularies, hugo_site)
    # The hugo package's own launcher is a Python script that execs this binary: run the
    # binary, so that Python's start-up is not counted as Hugo's.
    hugo = next(venv.glob("lib/python*/site-packages/hugo/binaries/hugo"))
    return [
        Peer("pelican", pelican_site,
             (str(venv / "bin" / "pelican"), "content", "-o", "output", "-s",
              "pelicanconf.py", "-q"), "output", ("output", "cache", "__pycache__")),
        Peer("hugo", hugo_site,
             (str(hugo), "--quiet", "--destination", "public", "--cacheDir",
              str(hugo_site / "cache")), "public", ("public", "resources", "cache")),
    ]


def read_records(content: Path) -> Iterator[Record]:
    """Every record of the corpus: its collection, slug, front matter and Markdown body."""
    for collection in ("projecten", "organisaties", "dossiers", "paginas"):
        found = [*(content / collection).glob("*.md"), *(content / collection).glob("*/index.md")]
        for path in sorted(found, key=lambda p: p.parent.name if p.name == "index.md" else p.stem):
            _, head, body = path.read_text(encoding="utf-8").split("---\n", 2)
            if path.name == "index.md":
                files = tuple(sorted(p for p in path.parent.iterdir() if p.name != "index.md"))
                yield Record(collection, path.parent.name, yaml.safe_load(head), body, files)
            else:
                yield Record(collection, path.stem, yaml.safe_load(head), body)


def write_pelican(records: list[Record], site: Path) -> None:
    """The records as Pelican content; settings from bench/peer-sites/pelican."""
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(SITES / "pelican", site)
    for record in records:
        folder = "pages" if record.collection in ("dossiers", "paginas") else record.collection
        path = site / "content" / folder / f"{record.slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_pelican_text(record), encoding="utf-8")
        for file in record.files:
            copy = site / "content" / "images" / record.slug / file.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, copy)


def _pelican_text(record: Record) -> str:
    front = record.front
    facets = PROJECT_FACETS if record.collection == "projecten" else ORG_FACETS
    # Pelican has one taxonomy of its own, tags: a tag per facet term, named with its facet.
    tags = [f"{facet} {value}" for facet in facets for value in _values(front.get(facet))]
    meta = {"Title": front.get("titel") or front.get("naam"), "Slug": record.slug,
            "Date": front.get("bijgewerkt", "2013-01-01"), "Summary": front.get("samenvatting"),
            "Category": record.collection, "Tags": ", ".join(tags)}
    head = "".join(f"{key}: {value}\n" for key, value in meta.items() if value)
    folders = {"projecten": "projecten", "organisaties": "organisaties", "dossiers": "pages"}
    body = RECORD_LINK.sub(lambda m: f"]({{filename}}/{folders[m[1]]}/{m[2]}.md)", record.body)
    for file in record.files:
        body = body.replace(f"]({file.name})", f"]({{static}}/images/{record.slug}/{file.name})")
    return f"{head}\n{body}"


def write_hugo(records: list[Record], vocabularies: dict[str, dict[str, dict[str, str]]],
               site: Path) -> None:
    """The records as Hugo content; config and layouts from bench/peer-sites/hugo."""
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(SITES / "hugo", site)
    content = site / "content"
    _hugo_page(content / "projecten" / "_index.md", {"title": "Projecten"})
    _hugo_page(content / "organisaties" / "_index.md", {"title": "Organisaties"})
    fronts = [_hugo_front(record) for record in records]
    # A term's page shows its label: the page of every term in use, as dossier makes them.
    for taxonomy, vocabulary in VOCABULARIES.items():
        used = {term for front in fronts for term in front.get(taxonomy, ())}
        for term in sorted(used):
            label = vocabularies[vocabulary][term]["nl"]
            _hugo_page(content / taxonomy / term / "_index.md", {"title": label})
    for record, front in zip(records, fronts, strict=True):
        if record.collection == "dossiers":  # a dossier is its term's page, listing projects
            path = content / "dossiers" / record.slug / "_index.md"
        elif record.collection == "paginas":
            path = content / f"{record.slug}.md"
        elif record.files:  # a page bundle: the photo beside the page
            path = content / record.collection / record.slug / "index.md"
            for file in record.files:
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, path.parent / file.name)
        else:
            path = content / record.collection / f"{record.slug}.md"
        # Links to other records from the content root: the hook looks them up by path.
        body = RECORD_LINK.sub(lambda m: f"](/{m[1]}/{m[2]}.md)", record.body)
        _hugo_page(path, front, body)


def _hugo_front(record: Record) -> dict[str, Any]:
    front = record.front
    out: dict[str, Any] = {"title": front.get("titel") or front.get("naam")}
    if "samenvatting" in front:
        out["summary"] = front["samenvatting"]
    if record.collection == "projecten":
        out.update({facet: _values(front.get(facet)) for facet in PROJECT_FACETS})
        out["params"] = {"uitvoerder": front["uitvoerder"],
                         "partners": front.get("partners", []),
                         "looptijd": front.get("looptijd"),
                         "bijgewerkt": str(front["bijgewerkt"])}
    elif record.collection == "organisaties":
        out.update({tax: _values(front.get(facet)) for facet, tax in ORG_FACETS.items()})
    return out


def _hugo_page(path: Path, front: dict[str, Any], body: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    head = yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
    path.write_text(f"---\n{head}---\n{body}", encoding="utf-8")


def _values(value: object) -> list[str]:
    """A facet's terms as a list, whether the field holds one value or several."""
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
