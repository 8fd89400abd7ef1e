"""`make bench`: dossier's build times and peak memory on generated corpora, beside its peers.

The corpora are bench/corpus.py's editor style: bodies with sections, emphasis, lists, links to
records and outside, tables and quotes, 0.5-10 KB, a photo in one project in 25; a dossier per
40 projects and an organisation per 5.

Rows, per corpus size:
- cold builds (no output, no cache), each the median of BENCH_RUNS runs with the tools
  taking turns run by run: dossier without and with the search index, Pelican and Hugo on
  the same records (bench/peers.py says what each peer builds); after all sizes, the
  ratios dossier ÷ peer;
- dossier's rebuilds, one run each, with and without the search index: a no-op rebuild,
  after an edit of one project, of one organisation, an added and a deleted project, and a
  template change;
- the preview (`dossier serve`, bench/preview.py): from saving a project to the reload
  event and to the search index catching up, medians of 10 saves; at 1,000 projects 200
  saves more, and the memory of the serve processes after the first saves and the last;
- peak memory: the largest single process (wait4), and the highest sum of the process
  tree's proportional set sizes (bench/memory.py, sampled every half second).

A scenario is a function from a corpus to rows: add one to SCENARIOS. Environment:
BENCH_SIZES (project counts, comma-separated; default 1000,10000, and 100000 with
BENCH_FULL=1), BENCH_RUNS (default 3), BENCH_PEERS=0 (no Pelican and Hugo), BENCH_DIR (where
corpora and peers live; default .bench), BENCH_REPORT (the page the table is written into
after the run, default docs/benchmarks.md; 0 writes nothing, for a quick check). Beyond 10,000
projects only the cold builds of dossier and the floor are measured, once each. It reports;
it never fails on a time.
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import preview  # noqa: E402
from corpus import generate  # noqa: E402
from memory import TreeSampler  # noqa: E402
from peers import Peer, install, peers  # noqa: E402
from report import command, write_report  # noqa: E402

WORK = Path(os.environ.get("BENCH_DIR", ROOT / ".bench"))
DOSSIER = [sys.executable, "-m", "dossier"]
COLD, COLD_NO_SEARCH = "cold build", "cold build, no search"
EDIT = "\n\nEen bewerkte zin (benchmark).\n"


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    pages: int
    rendered: int | None = None  # dossier: pages rendered, not taken from its cache
    pss_mb: float = 0.0  # the highest sum of the process tree's proportional set sizes


@dataclass(frozen=True)
class Row:
    """One line of the table: a tool's scenario on a corpus, over one or more runs."""

    projects: int
    tool: str
    scenario: str
    runs: tuple[Run, ...]
    note: str = ""

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_mb(self) -> float:
        """The highest of the runs' peaks: memory is what a machine must have."""
        return max(r.peak_mb for r in self.runs)

    @property
    def pss_mb(self) -> float:
        return max(r.pss_mb for r in self.runs)


@dataclass
class Corpus:
    """A generated site and what its scenarios share."""

    projects: int
    site: Path
    runs: int
    peers: list[Peer]
    fresh: str | None = None  # the dossier build (COLD or COLD_NO_SEARCH) output and cache match
    pages: int = 0  # as the last dossier build counted them


@dataclass(frozen=True)
class Contender:
    """A tool's cold build: what to remove first, and the build."""

    tool: str
    scenario: str
    clean: Callable[[], None]
    build: Callable[[], Run]


def run(cmd: Iterable[str], cwd: Path | None = None) -> tuple[float, float, str, float]:
    """Wall time, peak RSS (MB) of the largest process in the tree, stdout, and the highest
    sum of the tree's proportional set sizes (MB, sampled)."""
    cmd = list(cmd)
    started = time.perf_counter()
    with open(WORK / "stdout.txt", "w+") as out, open(WORK / "stderr.txt", "w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, text=True)
        # wait4 gives this command's own usage; its ru_maxrss is the largest resident set
        # of the process and of the workers it waited for, in kB on Linux.
        with TreeSampler(proc.pid) as sampler:
            _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{err.read()[-2000:]}")
        return seconds, usage.ru_maxrss / 1024, out.read(), sampler.peak_mb


def dossier_build(site: Path, *options: str) -> Run:
    """`dossier build` on the site; its summary line gives pages written and rendered."""
    seconds, peak, out, pss = run([*DOSSIER, "build", str(site), *options])
    words = out.split()
    return Run(seconds, peak, pages=int(words[1]), rendered=int(words[3].strip("(")),
               pss_mb=pss)


def dossier_options(corpus: Corpus, scenario: str) -> tuple[str, ...]:
    """Without the search index, dossier writes to a folder of its own."""
    if scenario == COLD:
        return ()
    return ("--no-search", "--out", str(corpus.site / "build-no-search"))


def dossier_cold(corpus: Corpus, scenario: str) -> Contender:
    """dossier from cold: no output folder and no `.dossier-cache`."""
    out = "build" if scenario == COLD else "build-no-search"

    def clean() -> None:
        for leftover in (out, ".dossier-cache"):
            shutil.rmtree(corpus.site / leftover, ignore_errors=True)

    def build() -> Run:
        result = dossier_build(corpus.site, *dossier_options(corpus, scenario))
        corpus.fresh, corpus.pages = scenario, result.pages
        return result

    return Contender("dossier", scenario, clean, build)


def floor_cold(corpus: Corpus) -> Contender:
    """The required libraries alone on the same records (bench/floor.py)."""
    out = corpus.site / "build-floor"

    def clean() -> None:
        shutil.rmtree(out, ignore_errors=True)

    def build() -> Run:
        seconds, peak, printed, pss = run([sys.executable, str(HERE / "floor.py"),
                                           str(corpus.site), str(out)])
        return Run(seconds, peak, int(printed.split()[1]), pss_mb=pss)

    return Contender("floor", COLD_NO_SEARCH, clean, build)


def peer_cold(peer: Peer) -> Contender:
    """A peer from cold: its output and caches removed."""

    def build() -> Run:
        seconds, peak, _, pss = run(peer.command, cwd=peer.site)
        return Run(seconds, peak, peer.pages(), pss_mb=pss)

    return Contender(peer.name, COLD, peer.clean, build)


def cold_builds(corpus: Corpus) -> Iterator[Row]:
    """Cold builds: the median of several runs, the tools taking turns run by run."""
    contenders = [dossier_cold(corpus, COLD_NO_SEARCH), dossier_cold(corpus, COLD),
                  floor_cold(corpus), *(peer_cold(peer) for peer in corpus.peers)]
    runs: list[list[Run]] = [[] for _ in contenders]
    for _ in range(corpus.runs):
        for contender, done in zip(contenders, runs, strict=True):
            contender.clean()
            done.append(contender.build())
    for contender, done in zip(contenders, runs, strict=True):
        yield Row(corpus.projects, contender.tool, contender.scenario, tuple(done))
    # The peers ran after dossier's last cold build and pushed its files out of the page
    # cache (a no-op at 10,000 projects takes 3.7 s from a cold cache, 0.7 s from a warm
    # one): the rebuilds with the index start from a build of their own, as those without
    # it do, so that both are measured alike.
    corpus.fresh = None


def ensure_fresh(corpus: Corpus, scenario: str) -> None:
    """Make dossier's output and cache those of a finished build (untimed), if they are not."""
    if corpus.fresh != scenario:
        contender = dossier_cold(corpus, scenario)
        contender.clean()
        contender.build()


@contextmanager
def edited(path: Path, old: str, new: str) -> Iterator[None]:
    """The file with its first `old` replaced by `new`, put back as it was afterwards."""
    text = path.read_text(encoding="utf-8")
    if old not in text:  # the corpus is not what the scenario expects: not a silent no-op
        raise SystemExit(f"{path}: {old!r} not found; delete the corpus to generate it anew")
    _rewrite(path, text.replace(old, new, 1))
    try:
        yield
    finally:
        _rewrite(path, text)


def _rewrite(path: Path, text: str) -> None:
    # A new file rather than a rewrite in place: what an editor's save does.
    path.unlink()
    path.write_text(text, encoding="utf-8")


@contextmanager
def site_template(site: Path) -> Iterator[None]:
    """A site template that overrides the theme's footer, removed afterwards."""
    theme_footer = ROOT / "src" / "dossier" / "theme" / "templates" / "partials" / "footer.html"
    override = site / "templates" / "partials" / "footer.html"
    override.parent.mkdir(parents=True)
    footer = theme_footer.read_text(encoding="utf-8")
    override.write_text(footer.replace("</footer>", "<!-- bench --></footer>"), encoding="utf-8")
    try:
        yield
    finally:
        shutil.rmtree(site / "templates")


def rebuilds(corpus: Corpus, scenario: str) -> Iterator[Row]:
    """dossier's rebuilds after a full build, one on top of the other: no change, an edit
    of a project, of an organisation (its projects' pages show its name), an added and a
    deleted project, and a template change."""
    ensure_fresh(corpus, scenario)
    site, options = corpus.site, dossier_options(corpus, scenario)
    suffix = "" if scenario == COLD else ", no search"

    def row(label: str) -> Row:
        return Row(corpus.projects, "dossier", label + suffix, (dossier_build(site, *options),))

    corpus.fresh = None  # from here on the output shows edits that are undone afterwards
    yield row("no-op rebuild")
    with edited(site / "content" / "projecten" / "project-00001.md", "## Aanpak\n",
                "## Aanpak" + EDIT):
        yield row("edit one project")
        name = 'naam: "Gegenereerde organisatie 0001'
        with edited(site / "content" / "organisaties" / "org-0001.md", name, name + " (bewerkt)"):
            yield row("edit one organisation")
            with added(site / "content" / "projecten" / "project-00004.md", "project-nieuw.md"):
                yield row("add one project")
            yield row("delete one project")
            with site_template(site):
                yield row("template change")


@contextmanager
def added(model: Path, name: str) -> Iterator[None]:
    """A new record beside `model`, a copy of it under another name, removed afterwards."""
    new = model.with_name(name)
    new.write_text(model.read_text(encoding="utf-8").replace(
        'titel: "Gegenereerd project', 'titel: "Nieuw gegenereerd project', 1), encoding="utf-8")
    try:
        yield
    finally:
        new.unlink()


def rebuilds_with_search(corpus: Corpus) -> Iterator[Row]:
    return rebuilds(corpus, COLD)


def rebuilds_without_search(corpus: Corpus) -> Iterator[Row]:
    return rebuilds(corpus, COLD_NO_SEARCH)


def preview_edits(corpus: Corpus) -> Iterator[Row]:
    """`dossier serve`: from saving a project to the reload event, and to the search index
    catching up (medians of 10 saves); at the smallest size, 200 saves more for memory."""
    more = 200 if corpus.projects <= 1000 else 0
    figures = preview.measure(corpus.site, timed=10, more=more)
    pages = corpus.pages
    late = figures.pss_mb[-1][1]
    reloads = tuple(Run(s, figures.peak_mb, pages, pss_mb=late) for s in figures.reloads)
    indexed = tuple(Run(s, figures.peak_mb, pages, pss_mb=late) for s in figures.indexed)
    saves = "/".join(str(n) for n, _ in figures.pss_mb)
    memory = (f"sum PSS at rest after {saves} saves: "
              + "/".join(f"{mb:.0f}" for _, mb in figures.pss_mb) + " MB")
    yield Row(corpus.projects, "dossier", "preview: save to reload", reloads, memory)
    yield Row(corpus.projects, "dossier", "preview: save to search index", indexed)


LARGE = 10_000  # beyond this many projects only the cold builds are measured, once
Scenario = Callable[[Corpus], Iterable[Row]]
SCENARIOS: list[Scenario] = [cold_builds, rebuilds_with_search, rebuilds_without_search,
                             preview_edits]


def prepare(projects: int, runs: int, venv: Path | None) -> Corpus:
    """The generated corpus of this size (made once, then reused) and its peers' sites."""
    site = WORK / f"corpus-editor-{projects}"
    if not (site / "content").exists():
        print(f"generating {projects} projects …", file=sys.stderr)
        # A dossier per 40 projects: the NJI's dossiers hold some 30 projects each.
        generate(site, projects, organisations=projects // 5, dossiers=max(5, projects // 40),
                 style="editor")
    # The schema as the generator would copy it now (a corpus outlives schema changes).
    shutil.copy(ROOT / "content" / "schema.yml", site / "content" / "schema.yml")
    for leftover in ("build", "build-no-search", "build-floor", ".dossier-cache", ".dossier-serve",
                     "templates"):
        shutil.rmtree(site / leftover, ignore_errors=True)
    found = peers(site, WORK / f"peers-{projects}", venv) if venv else []
    return Corpus(projects, site, runs, found)


HEADER = (f"{'projects':>9}  {'tool':<8} {'scenario':<28} {'runs':>4} {'pages':>7} "
          f"{'rendered':>8} {'seconds':>8} {'pages/s':>8} {'peak MB':>8} {'sum PSS':>8}")


def line(row: Row) -> str:
    """A row as the table prints it."""
    rendered = row.runs[-1].rendered
    return (f"{row.projects:>9}  {row.tool:<8} {row.scenario:<28} {len(row.runs):>4} "
            f"{row.runs[-1].pages:>7} {'-' if rendered is None else rendered:>8} "
            f"{row.seconds:>8.2f} {row.runs[-1].pages / row.seconds:>8.0f} "
            f"{row.peak_mb:>8.0f} {row.pss_mb:>8.0f}{'  ' + row.note if row.note else ''}")


def ratio_lines(rows: list[Row]) -> Iterator[str]:
    """dossier's cold builds divided by each peer's, in time and in peak memory."""
    cold = {(r.projects, r.tool, r.scenario): r for r in rows
            if r.scenario in (COLD, COLD_NO_SEARCH)}
    tools = list(dict.fromkeys(tool for _, tool, _ in cold if tool != "dossier"))
    scenario_of = {tool: scenario for _, tool, scenario in cold}
    if not tools:
        return
    yield ""
    yield "dossier ÷ peer, cold builds (time: medians; memory: peaks; above 1: dossier needs more)"
    yield (f"{'projects':>9}  {'dossier':<22}"
           + "".join(f" {'time ÷ ' + t:>16}" for t in tools)
           + "".join(f" {'memory ÷ ' + t:>18}" for t in tools))
    for projects in sorted({p for p, _, _ in cold}):
        for scenario, label in ((COLD_NO_SEARCH, "without search index"),
                                (COLD, "with search index")):
            mine = cold[(projects, "dossier", scenario)]
            peer_rows = [cold[(projects, t, scenario_of[t])] for t in tools]
            yield (f"{projects:>9}  {label:<22}"
                   + "".join(f" {mine.seconds / p.seconds:>16.2f}" for p in peer_rows)
                   + "".join(f" {mine.peak_mb / p.peak_mb:>18.2f}" for p in peer_rows))


def sizes() -> list[int]:
    """Project counts to measure, from BENCH_SIZES or the defaults."""
    given = os.environ.get("BENCH_SIZES")
    if given:
        try:
            return [int(size) for size in given.split(",")]
        except ValueError:
            raise SystemExit(
                f"BENCH_SIZES: expected project counts like 1000,10000, got {given!r}") from None
    return [1000, 10000] + ([100000] if os.environ.get("BENCH_FULL") else [])


def runs_per_figure() -> int:
    """How many cold builds each median is taken over, from BENCH_RUNS."""
    given = os.environ.get("BENCH_RUNS", "3")
    if not given.isdigit() or int(given) < 1:
        raise SystemExit(f"BENCH_RUNS: expected a number of runs like 3, got {given!r}")
    return int(given)


def bench_images(projects: int = 1000, every: int = 10) -> Iterator[Row]:
    """The cost of images: one project in `every` has a generated photo; a cold build (no
    cache), a warm one (the cache kept, the output removed: images come from the cache),
    and a no-op rebuild; each without the search index."""
    site = WORK / f"corpus-{projects}-photos"
    if not (site / "content").exists():
        print(f"generating {projects} projects, one in {every} with a photo …", file=sys.stderr)
        generate(site, projects, organisations=projects // 5, dossiers=max(5, projects // 40),
                 photos=every)
    for leftover in ("build", ".dossier-cache"):
        shutil.rmtree(site / leftover, ignore_errors=True)
    cold = dossier_build(site, "--no-search")
    shutil.rmtree(site / "build")
    warm = dossier_build(site, "--no-search")
    for scenario, run_ in (("photos: cold build", cold), ("photos: warm build", warm),
                           ("photos: no-op rebuild", dossier_build(site, "--no-search"))):
        yield Row(projects, "dossier", scenario, (run_,), f"1 project in {every} has a photo")


def report_path() -> Path | None:
    """Where the table is recorded, from BENCH_REPORT: docs/benchmarks.md, or nowhere."""
    given = os.environ.get("BENCH_REPORT", "")
    if given in ("0", "no"):
        return None
    return Path(given) if given else ROOT / "docs" / "benchmarks.md"


def compile_package() -> None:
    """dossier's modules byte-compiled, as an installed package has them (pip compiles them
    when it installs). An editable install compiles a module when it is first imported and
    keeps the result, unless PYTHONDONTWRITEBYTECODE is set (as on this machine): then
    every timed run would compile every module again."""
    compileall.compile_dir(ROOT / "src" / "dossier", quiet=1)


def main() -> None:
    measured, runs = sizes(), runs_per_figure()
    compile_package()
    with_peers = os.environ.get("BENCH_PEERS", "1") not in ("0", "")
    WORK.mkdir(exist_ok=True)
    venv = install(WORK / "peers-venv") if with_peers else None
    table: list[str] = []

    def out(text: str) -> None:
        """A line of the table: printed as it comes, and kept for the record."""
        print(text, flush=True)
        table.append(text)

    shown = WORK.relative_to(ROOT) if WORK.is_relative_to(ROOT) else WORK  # no home folders
    out(f"dossier benchmark on {os.cpu_count()} CPUs (generated corpora in {shown}, bodies "
        "as editors write them: bench/corpus.py --style editor); "
        f"cold builds: median of {runs} run{'s' if runs > 1 else ''}, tools taking turns")
    out(HEADER)
    rows: list[Row] = []
    for size in measured:
        large = size > LARGE
        # A cold build of the largest corpus takes most of an hour: one run of dossier's
        # cold builds and the floor, without the peers, rebuilds or the preview.
        corpus = prepare(size, 1 if large else runs, None if large else venv)
        for scenario in [cold_builds] if large else SCENARIOS:
            for row in scenario(corpus):
                out(line(row))
                rows.append(row)
    for text in ratio_lines(rows):
        out(text)
    if os.environ.get("BENCH_IMAGES", "1") not in ("0", ""):
        for row in bench_images():
            out(line(row))
    out("peak MB: the largest single process (the build, one of its workers, or Pagefind); "
        "sum PSS: the highest sum of the proportional set sizes of all its processes.")
    path = report_path()
    if path is not None:
        write_report(path, "\n".join(table), command(os.environ), date.today())
        print(f"recorded in {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
