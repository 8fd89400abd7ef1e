"""The command line: a thin skin over build.py, and the only module that knows click."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from dossier import __version__
from dossier.build import BuildOptions, BuildResult, build, check
from dossier.config import BASE_URL_PATTERN
from dossier.diagnostics import (
    Diagnostic,
    DossierError,
    format_github,
    format_json,
    format_text,
)

SITE = click.argument("site", type=click.Path(file_okay=False, path_type=Path), default=".")


def _print_diagnostics(diagnostics: list[Diagnostic], quiet: bool = False) -> None:
    shown = [d for d in diagnostics if d.is_error or not quiet]
    if shown:
        click.echo(format_text(shown), err=True)


def _base_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--base-url must be as safe as site.yml's base_url: it is written into every page."""
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
              help="Build everything from scratch (ignore and do not update .dossier-cache/).")
def build_command(site: Path, out: Path | None, base_url: str | None, drafts: bool,
                  strict: bool, quiet: bool, jobs: int, profile: bool, no_cache: bool) -> None:
    """Validate the content, render the site and write it to the output folder."""
    _require_site(site)
    options = BuildOptions(out=out, base_url=base_url, drafts=drafts, strict=strict, jobs=jobs,
                           cache=not no_cache)
    try:
        result = build(site, options)
    except DossierError as exc:
        _print_diagnostics(exc.diagnostics)
        click.echo(f"build failed: {_summary(exc.diagnostics)}; the output folder was not "
                   "changed", err=True)
        sys.exit(1)
    _print_diagnostics(result.warnings, quiet)
    if profile:
        click.echo(_profile_table(result.timings))
    if not quiet:
        click.echo(_build_line(result))


def _profile_table(timings: dict[str, float]) -> str:
    """Seconds per stage; per-template figures add up the time of all workers."""
    stages = ["load", "validate", "link", "plan", "exports", "render", "write", "check",
              "search index", "swap"]
    lines = ["stage                              seconds"]
    for stage in stages:
        if stage in timings:
            lines.append(f"{stage:<34} {timings[stage]:8.3f}")
        if stage == "render":
            for name in sorted(k for k in timings if k.startswith("render ")):
                lines.append(f"  {name[7:]:<32} {timings[name]:8.3f}  (cpu, all workers)")
    return "\n".join(lines)


def _build_line(result: BuildResult) -> str:
    return (f"built {result.pages} pages ({result.rendered} rendered; {result.files} files, "
            f"{result.changed} changed, {result.removed} removed) in {result.seconds:.2f} s "
            f"→ {result.out}")


@main.command("check")
@SITE
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="How to print the diagnostics.")
@click.option("--drafts", is_flag=True, help="Also check records with 'concept: true'.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def check_command(site: Path, fmt: str, drafts: bool, strict: bool) -> None:
    """Validate content, references and links without writing anything."""
    _require_site(site)
    try:
        diagnostics = check(site, BuildOptions(drafts=drafts, strict=strict)).warnings
        failed = False
    except DossierError as exc:
        diagnostics, failed = exc.diagnostics, True
    if fmt == "json":
        click.echo(format_json(diagnostics))
    elif fmt == "github":
        if diagnostics:
            click.echo(format_github(diagnostics))
    else:
        _print_diagnostics(diagnostics)
        click.echo(f"check {'failed' if failed else 'passed'}: {_summary(diagnostics)}",
                   err=True)
    sys.exit(1 if failed else 0)


def _require_site(site: Path) -> None:
    if not (site / "content").is_dir():
        raise click.UsageError(f"{site} is not a dossier site: it has no content/ folder")
