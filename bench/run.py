"""`make bench`: build generated corpora and report pages per second and peak memory.

Reports figures; it never fails on a time. Sizes: 1,000 and 10,000 projects, and 100,000
with BENCH_FULL=1. Pelican, a peer written in Python, is timed on the same corpus when
BENCH_PEERS=1 (it is installed into the bench's own virtual environment).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from corpus import generate  # noqa: E402

WORK = Path(os.environ.get("BENCH_DIR", ROOT / ".bench"))
DOSSIER = [sys.executable, "-m", "dossier"]


@dataclass
class Run:
    seconds: float
    peak_mb: float
    pages: int
    rendered: int


def run(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, str]:
    """Wall time, peak RSS (MB) of the largest process in the tree, and stdout."""
    started = time.perf_counter()
    with open(WORK / "stdout.txt", "w+") as out, open(WORK / "stderr.txt", "w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, text=True)
        # wait4 gives this command's own usage; its ru_maxrss is the largest resident set
        # of the process and of the workers it waited for, in kB on Linux.
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{err.read()[-2000:]}")
        return seconds, usage.ru_maxrss / 1024, out.read()


def build(site: Path, *options: str) -> Run:
    seconds, peak, out = run([*DOSSIER, "build", str(site), *options])
    words = out.split()
    pages = int(words[1])
    rendered = int(words[3].strip("("))
    return Run(seconds, peak, pages, rendered)


def touch_replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    path.unlink()
    path.write_text(text.replace(old, new, 1))


def bench_size(projects: int) -> list[tuple[str, Run]]:
    site = WORK / f"corpus-{projects}"
    if not (site / "content").exists():
        print(f"generating {projects} projects …", file=sys.stderr)
        # A dossier per 40 projects: the NJI's dossiers hold some 30 projects each.
        generate(site, projects, organisations=projects // 5, dossiers=max(5, projects // 40))
    for leftover in ("build", "build-no-search", ".dossier-cache", "templates"):
        shutil.rmtree(site / leftover, ignore_errors=True)
    # Without the search index first: what Pelican does, for the comparison.
    no_search = ("--no-search", "--out", str(site / "build-no-search"))
    results = [("full build, no search", build(site, *no_search))]
    # Without the search index, an edit shows what the rest of the build costs (Pagefind
    # indexes every record again on any change).
    other = site / "content" / "projecten" / "project-00002.md"
    touch_replace(other, "## Aanpak\n", "## Aanpak\n\nEen bewerkte zin (benchmark).\n")
    results.append(("edit project, no search", build(site, *no_search)))
    touch_replace(other, "\n\nEen bewerkte zin (benchmark).\n", "\n")
    shutil.rmtree(site / ".dossier-cache")
    shutil.rmtree(site / "build-no-search")
    results += [("full build", build(site)), ("no-op rebuild", build(site))]
    project = site / "content" / "projecten" / "project-00001.md"
    touch_replace(project, "## Aanpak\n", "## Aanpak\n\nEen bewerkte zin (benchmark).\n")
    results.append(("edit one project", build(site)))
    org = site / "content" / "organisaties" / "org-0001.md"
    touch_replace(org, "naam: \"Gegenereerde organisatie 0001",
                  "naam: \"Gegenereerde organisatie 0001 (bewerkt)")
    results.append(("edit one organisation", build(site)))
    (site / "templates" / "partials").mkdir(parents=True)
    theme_footer = ROOT / "src" / "dossier" / "theme" / "templates" / "partials" / "footer.html"
    (site / "templates" / "partials" / "footer.html").write_text(
        theme_footer.read_text().replace("</footer>", "<!-- benchmark --></footer>"))
    results.append(("template change", build(site)))
    shutil.rmtree(site / "templates")
    # Leave the corpus as generated for the next run.
    touch_replace(project, "\n\nEen bewerkte zin (benchmark).\n", "\n")
    touch_replace(org, " (bewerkt)", "")
    return results


def pelican(projects: int) -> Run | None:
    """Pelican on the same corpus: one article per project, same Markdown bodies."""
    venv = WORK / "pelican-venv"
    if not (venv / "bin" / "pelican").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "pelican[markdown]"],
                       check=True)
    site = WORK / f"corpus-{projects}"
    peli = WORK / f"pelican-{projects}"
    shutil.rmtree(peli, ignore_errors=True)
    (peli / "content").mkdir(parents=True)
    for file in sorted((site / "content" / "projecten").glob("*.md")):
        head, _, body = file.read_text().partition("\n---\n")
        title = next(line for line in head.splitlines() if line.startswith("titel:"))
        date = next((line.split()[1] for line in head.splitlines()
                     if line.startswith("bijgewerkt:")), "2012-01-01")
        tags = next((line.split(":", 1)[1].strip(" []") for line in head.splitlines()
                     if line.startswith("thema:")), "")
        (peli / "content" / file.name).write_text(
            f"Title: {title[6:].strip().strip(chr(34))}\nDate: {date}\nTags: {tags}\n"
            f"Category: projecten\n\n{body}")
    (peli / "pelicanconf.py").write_text(
        "SITENAME = 'bench'\nSITEURL = ''\nPATH = 'content'\nTIMEZONE = 'Europe/Amsterdam'\n"
        "DEFAULT_LANG = 'nl'\nFEED_ALL_ATOM = None\nCATEGORY_FEED_ATOM = None\n"
        "DEFAULT_PAGINATION = 20\nRELATIVE_URLS = True\n")
    seconds, peak, _ = run([str(venv / "bin" / "pelican"), "content", "-o", "output",
                              "-s", "pelicanconf.py", "-q"], cwd=peli)
    pages = sum(1 for _ in (peli / "output").rglob("*.html"))
    return Run(seconds, peak, pages, pages)


def bench_images(projects: int = 1000, every: int = 10) -> None:
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
    rows = [("photos: cold build", build(site, "--no-search"))]
    shutil.rmtree(site / "build")
    rows.append(("photos: warm build", build(site, "--no-search")))
    rows.append(("photos: no-op rebuild", build(site, "--no-search")))
    for name, r in rows:
        print(f"{projects:>9}  {name:<22} {r.pages:>7} {r.rendered:>8} {r.seconds:>8.2f} "
              f"{r.pages / r.seconds:>8.0f} {r.peak_mb:>8.0f}", flush=True)


def main() -> None:
    sizes = [1000, 10000] + ([100000] if os.environ.get("BENCH_FULL") else [])
    WORK.mkdir(exist_ok=True)
    print(f"dossier benchmark on {os.cpu_count()} CPUs (generated corpora in {WORK})")
    print(f"{'projects':>9}  {'scenario':<22} {'pages':>7} {'rendered':>8} {'seconds':>8} "
          f"{'pages/s':>8} {'peak MB':>8}")
    for size in sizes:
        for name, r in bench_size(size):
            print(f"{size:>9}  {name:<22} {r.pages:>7} {r.rendered:>8} {r.seconds:>8.2f} "
                  f"{r.pages / r.seconds:>8.0f} {r.peak_mb:>8.0f}", flush=True)
        if os.environ.get("BENCH_PEERS"):
            peer = pelican(size)
            if peer:
                print(f"{size:>9}  {'pelican full build':<22} {peer.pages:>7} "
                      f"{peer.rendered:>8} {peer.seconds:>8.2f} "
                      f"{peer.pages / peer.seconds:>8.0f} {peer.peak_mb:>8.0f}", flush=True)
    bench_images()
    print("peak MB: the largest single process (the build or one of its workers).")


if __name__ == "__main__":
    main()
