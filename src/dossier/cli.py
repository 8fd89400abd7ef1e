"""The command line: a thin skin over the build package, and the only module that knows click."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from dossier import __version__
from dossier.authoring import SCHEMA_DIR
from dossier.build import STAGES, BuildOptions, BuildResult, build
from dossier.core.diagnostics import (
    Diagnostic,
    DossierError,
    format_github,
    format_json,
    format_text,
    suggest,
)

# Each command imports what only it needs, so that `dossier --help` and a build that finds
# nothing to do start quickly.
if TYPE_CHECKING:
    from dossier.content.schema import Collection, Schema
    from dossier.model.report import Report

SITE = click.argument("site", type=click.Path(file_okay=False, path_type=Path), default=".")


def _print_diagnostics(diagnostics: list[Diagnostic], quiet: bool = False) -> None:
    shown = [d for d in diagnostics if d.is_error or not quiet]
    if shown:
        click.echo(format_text(shown), err=True)


def _base_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--base-url must be as safe as site.yml's base_url: it is written into every page."""
    from dossier.content.settings import BASE_URL_PATTERN

    if value is not None and not re.match(BASE_URL_PATTERN, value.rstrip("/") + "/"):
        raise click.BadParameter("expected an absolute web address such as "
                                 "https://example.org/databank/")
    return value


def _summary(diagnostics: list[Diagnostic]) -> str:
    n_err = sum(d.is_error for d in diagnostics)
    n_warn = len(diagnostics) - n_err
    return f"{n_err} error{'s' * (n_err != 1)}, {n_warn} warning{'s' * (n_warn != 1)}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dossier")
def main() -> None:
    """dossier: publish a databank of practice projects as a static website."""


def run() -> NoReturn:
    """The `dossier` command and `python -m dossier`: `main`, then out of the process at
    once. By then every file is written and closed; what is left is freeing the loaded
    site object by object, which after a build of 10,000 projects took 0.3 s. Under a
    profiler (`python -m cProfile -m dossier …`) or a coverage tool it exits as usual."""
    try:
        main()
        code: object = 0
    except SystemExit as done:
        code = done.code
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # a profiler or a coverage tool writes its report when Python exits
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


@main.command("build")
@SITE
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: SITE/build).")
@click.option("--base-url", callback=_base_url,
              help="Absolute URL the site is published at (overrides site.yml).")
@click.option("--drafts", is_flag=True, help="Include records with 'concept: true'.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--quiet", "-q", is_flag=True, help="Print errors only.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0,
              help="Worker processes for rendering (default: one per CPU).")
@click.option("--profile", is_flag=True, help="Print where the time went, per stage.")
@click.option("--no-cache", is_flag=True,
              help="Build everything from scratch (do not read or update what .dossier-cache/ "
                   "remembers).")
@click.option("--no-search", "no_search", is_flag=True, help="Skip the search index.")
@click.option("--search-part-size", type=click.IntRange(min=1),
              default=BuildOptions.search_part_size, show_default=True,
              help="Records per part of the search index at most (one Pagefind process each).")
@click.option("--minify", is_flag=True, help="Collapse white space in the HTML pages.")
def build_command(site: Path, out: Path | None, base_url: str | None, drafts: bool,
                  strict: bool, quiet: bool, jobs: int, profile: bool, no_cache: bool,
                  no_search: bool, search_part_size: int, minify: bool) -> None:
    """Validate the content, render the site and write it to the output folder."""
    _require_site(site)
    options = BuildOptions(out=out, base_url=base_url, drafts=drafts, strict=strict, jobs=jobs,
                           cache=not no_cache, search=not no_search,
                           search_part_size=search_part_size, minify=minify)
    try:
        result = build(site, options)
    except DossierError as exc:
        _print_diagnostics(exc.diagnostics)
        click.echo(f"build failed: {_summary(exc.diagnostics)}; the output folder was not "
                   "changed", err=True)
        sys.exit(1)
    _print_diagnostics(result.warnings, quiet)
    if not quiet:
        for notice in result.notices:
            click.echo(f"notice: {notice}", err=True)
    if profile:
        click.echo(_profile_table(result.timings))
    if not quiet:
        click.echo(_build_line(result))


def _profile_table(timings: dict[str, float]) -> str:
    """Seconds per stage, in the pipeline's order, each with its parts below it; the
    seconds of templates add up the time of all workers."""
    lines = ["stage                              seconds"]
    for stage in STAGES:
        if stage not in timings:
            continue
        lines.append(f"{stage:<34} {timings[stage]:8.3f}")
        for name in sorted((k for k in timings if k.startswith(stage + "/")),
                           key=lambda k: (k.endswith(".html"), k)):
            part = name[len(stage) + 1:]
            note = ("  (cpu, all workers)" if stage == "render" and part.endswith(".html")
                    else "  (another process)" if part.endswith(" (alongside rendering)")
                    else "")
            part = part.removesuffix(" (alongside rendering)")
            lines.append(f"  {part:<32} {timings[name]:8.3f}{note}")
    return "\n".join(lines)


def _build_line(result: BuildResult) -> str:
    line = (f"built {result.pages} pages ({result.rendered} rendered; {result.files} files, "
            f"{result.changed} changed, {result.removed} removed) in {result.seconds:.2f} s")
    if result.search is not None:
        s = result.search
        line += (f", of which search indexing {s.seconds:.2f} s "
                 f"({s.records} records in {s.parts} part{'s' * (s.parts != 1)}, "
                 f"{s.remade} made anew, "
                 f"{s.bytes / 1e6:.1f} MB)")
    return f"{line} → {result.out}"


@main.command("check")
@SITE
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="How to print the diagnostics.")
@click.option("--drafts", is_flag=True, help="Also check records with 'concept: true'.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--report", is_flag=True,
              help="Also list what editors should look at next: empty recommended fields, "
                   "records due for re-assessment, unused terms, organisations without "
                   "projects, images without a caption.")
def check_command(site: Path, fmt: str, drafts: bool, strict: bool, report: bool) -> None:
    """Validate content, references and links without writing anything."""
    from dossier.build import check_site

    _require_site(site)
    found: Report | None = None
    try:
        result, linked = check_site(site, BuildOptions(drafts=drafts, strict=strict))
        diagnostics, failed = result.warnings, False
        if report:
            from dossier.model.report import report as make_report
            from dossier.model.report import today

            found = make_report(linked, today())
    except DossierError as exc:
        diagnostics, failed = exc.diagnostics, True
    if fmt == "json":
        _print_json(diagnostics, found if report else None, report)
    elif fmt == "github":
        if diagnostics:
            click.echo(format_github(diagnostics))
    else:
        _print_diagnostics(diagnostics)
        click.echo(f"check {'failed' if failed else 'passed'}: {_summary(diagnostics)}",
                   err=True)
    if report and fmt != "json":
        _print_report(found)
    sys.exit(1 if failed else 0)


def _print_json(diagnostics: list[Diagnostic], found: Report | None, report: bool) -> None:
    """The diagnostics as a JSON array; with --report, an object with both."""
    if not report:
        click.echo(format_json(diagnostics))
        return
    data = {"diagnostics": json.loads(format_json(diagnostics)),
            "report": found.as_json() if found is not None else None}
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _print_report(found: Report | None) -> None:
    from dossier.model.report import report_text

    if found is None:
        click.echo("no report: the site has errors; fix them first", err=True)
    else:
        click.echo(report_text(found, found.lang))


def _require_site(site: Path) -> None:
    if not (site / "content").is_dir():
        raise click.UsageError(f"{site} is not a dossier site: it has no content/ folder")


def _fail(exc: DossierError, what: str) -> NoReturn:
    """Print the diagnostics of a refused command and exit 1."""
    _print_diagnostics(exc.diagnostics)
    click.echo(f"{what}: {_summary(exc.diagnostics)}", err=True)
    sys.exit(1)


def _schema(site: Path) -> Schema:
    """The site's content model, or its diagnostics and exit 1."""
    from dossier.content.load import load_schema

    _require_site(site)
    try:
        return load_schema(site)
    except DossierError as exc:
        _fail(exc, "content/schema.yml has errors")


def _collection(schema: Schema, name: str) -> Collection:
    names = [c.name for c in schema.collections]
    if name not in names:
        hint = suggest(name, names)
        raise click.BadParameter(
            f"'{name}' is not a collection of this site ({', '.join(names)})"
            + (f"; did you mean {hint}?" if hint else ""), param_hint="COLLECTION")
    return schema.collection(name)


# --- the editors' commands ---------------------------------------------------------------

class _ServeReport:
    """What `dossier serve` prints: the address, then one line per rebuild."""

    def serving(self, url: str) -> None:
        click.echo(f"serving {url} (press Ctrl+C to stop)")

    def built(self, result: BuildResult, changed: list[str]) -> None:
        _print_diagnostics(result.warnings)
        click.echo(_changed(changed) + _build_line(result))

    def failed(self, diagnostics: list[Diagnostic], changed: list[str]) -> None:
        _print_diagnostics(diagnostics)
        click.echo(f"{_changed(changed)}build failed: {_summary(diagnostics)}; open pages "
                   "show the errors until they are fixed", err=True)


def _changed(changed: list[str]) -> str:
    if not changed:
        return ""
    more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
    return f"{changed[0]}{more} changed: "


@main.command("serve")
@SITE
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the default is reachable from this computer only.")
@click.option("--drafts", is_flag=True, help="Include records with 'concept: true'.")
@click.option("--no-search", "no_search", is_flag=True,
              help="Skip the search index: faster rebuilds of a large site, no search in "
                   "the preview.")
def serve_command(site: Path, port: int, host: str, drafts: bool, no_search: bool) -> None:
    """Build, serve on localhost, rebuild on every change and reload open pages."""
    from dossier.preview.server import ListenError, serve

    _require_site(site)
    try:
        serve(site, BuildOptions(drafts=drafts, search=not no_search), host, port,
              _ServeReport())
    except ListenError as exc:
        click.echo(f"{exc}; try another --port", err=True)
        sys.exit(1)
    except KeyboardInterrupt:  # Ctrl+C is how one stops it
        pass


@main.command("new")
@click.argument("collection")
@click.argument("slug")
@click.option("--titel", default="", help="The record's title (or name), filled in.")
@click.option("--bundel", is_flag=True,
              help="Write SLUG/index.md: a folder for the record and its images and documents.")
@click.option("--site", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The dossier site.")
def new_command(collection: str, slug: str, titel: str, bundel: bool, site: Path) -> None:
    """Write content/COLLECTION/SLUG.md from the schema; never overwrites."""
    from dossier.authoring.stubs import new_record
    from dossier.content.documents import SLUG_RE, slugify

    schema = _schema(site)
    chosen = _collection(schema, collection)
    if not SLUG_RE.match(slug):
        hint = slugify(slug)
        raise click.BadParameter(
            f"'{slug}' is not a slug: use lowercase letters, digits and '-'"
            + (f"; did you mean '{hint}'?" if hint else ""), param_hint="SLUG")
    try:
        written = new_record(site, schema, chosen, slug, titel, bundel)
    except DossierError as exc:
        _fail(exc, "nothing written")
    click.echo(f"wrote {written.relative_to(site).as_posix()}: fill in the fields marked "
               "'verplicht', then run dossier check")


@main.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init_command(directory: Path) -> None:
    """Start a new dossier site in DIRECTORY (new or empty)."""
    from dossier.authoring.stubs import init_site

    try:
        written = init_site(directory)
    except DossierError as exc:
        _fail(exc, "nothing written")
    click.echo(f"created a dossier site in {directory} ({len(written)} files); "
               f"build it with: dossier build {directory}")


@main.command("import")
@click.argument("collection")
@click.argument("csv_file", metavar="FILE.csv",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--update", is_flag=True,
              help="Change records that exist: the spreadsheet's fields are merged into "
                   "their front matter, the body is kept.")
@click.option("--site", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The dossier site.")
def import_command(collection: str, csv_file: Path, update: bool, site: Path) -> None:
    """Write one record per row of a CSV file; nothing is written if any row is wrong."""
    from dossier.authoring.spreadsheet import import_csv

    chosen = _collection(_schema(site), collection)
    try:
        result = import_csv(site, chosen.name, csv_file, update)
    except DossierError as exc:
        _fail(exc, "import refused, nothing written")
    click.echo(f"imported {csv_file} into content/{chosen.name}/: {len(result.created)} new, "
               f"{len(result.updated)} updated, {len(result.unchanged)} unchanged")


@main.command("schema")
@SITE
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help=f"Folder for the schema files (default: SITE/{SCHEMA_DIR}).")
def schema_command(site: Path, out: Path | None) -> None:
    """Write the JSON Schema of each collection's front matter, for editors' YAML tools."""
    from dossier.authoring.editor import write_schemas

    written = write_schemas(_schema(site), out or site / SCHEMA_DIR)
    for file in written:
        click.echo(str(file))
