"""Every file of the output and how to make it; and the files made of the model itself
(open data, record files, discovery files, static files), written as they are planned."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from dossier.content.schema import Collection
from dossier.core import deps
from dossier.core.deps import Dep
from dossier.core.urls import output_path
from dossier.model.report import report, today
from dossier.model.site import Site
from dossier.outputs.admin import FOLDER as ADMIN_FOLDER
from dossier.outputs.admin import REPORT_PAGE, admin_files
from dossier.outputs.feeds import discovery_makers
from dossier.outputs.opendata import (
    Rows,
    collection_file_names,
    datapackage,
    record_file,
    to_json,
    write_collection_files,
)
from dossier.plan.pages import Page
from dossier.render import assets
from dossier.render.reportpage import report_page

if TYPE_CHECKING:
    from dossier.render.pool import PageWriter


@dataclass
class Job:
    """One output file: a page, a file made of the model, or a file records refer to.

    `produce` makes the bytes; a job without `record` (static files, the sitemap) is made
    anew every build and compared; one with it records what it read of the model, so the
    next build makes it again only when that changed.
    """

    rel: str
    kind: str  # page, file, export, media
    page: Page | None = None
    produce: Callable[[], bytes] | None = None
    record: bool = False
    # One of a collection's export files, which are written together, record by record
    # (exports.write_collection_files), never made as bytes in memory.
    export_of: Collection | None = None


def plan_jobs(site: Site, pages: list[Page], site_dir: Path,
              admin_local: bool = False) -> list[Job]:
    """Pages, static files, open data, discovery files, the web editor and media, in a
    stable order. `admin_local`: the preview's editor, saving through `dossier serve`."""
    jobs = [Job(output_path(p.url), "page", page=p) for p in pages]
    for rel, data in assets.files(assets.collect(site_dir)):
        jobs.append(Job(rel, "file", produce=partial(bytes, data)))
    for collection in site.schema.collections:
        jobs += [Job(rel, "export", export_of=collection)
                 for rel in collection_file_names(collection)]
        for record in site.unrecorded.records.get(collection.name, ()):
            jobs.append(Job(f"{record.url}index.json", "file", record=True,
                            produce=partial(record_file, site, record)))
    jobs.append(Job("data/datapackage.json", "file",
                    produce=lambda: to_json(datapackage(site)).encode()))
    for rel, make in discovery_makers(site, pages):
        jobs.append(Job(rel, "file", produce=make))
    if site.config.admin or admin_local:  # the web editor, when site.yml asks for it
        jobs += [Job(rel, "file", produce=partial(bytes, data))
                 for rel, data in admin_files(site.schema, site.config, admin_local)]
    if admin_local:  # the preview's report for editors, linked from its editor
        jobs.append(Job(f"{ADMIN_FOLDER}/{REPORT_PAGE}", "file", record=True,
                        produce=partial(_report_page, site)))
    # Files records refer to: made by outputs/publish.py, never by `produce`.
    jobs += [Job(rel, "media") for rel, _ in site.media.outputs()]
    return jobs


def _report_page(site: Site) -> bytes:
    """What editors should look at next, as a page beside the editor (what it reads of
    the model is recorded, so a save that changes the report makes it again)."""
    return report_page(report(site, today()), admin_href="./").encode()


@dataclass
class Written:
    """What the files made of the model came to: per file written whether it changed,
    what it read (packed) and the derived dependencies among that; per collection the
    rows of its export files."""

    files: list[tuple[str, bool, bytes, list[Dep]]] = field(default_factory=list)
    rows: dict[str, Rows] = field(default_factory=dict)  # per collection: its export rows
    seconds: float = 0.0


def write_files(site: Site, jobs: list[Job], writer: PageWriter,
                rows: dict[str, Rows] | None = None,
                stale: Callable[[bytes], bool] | None = None) -> Written:
    """Write the jobs that are not pages nor media. With `rows` (where the previous
    build's export files have each record's row), unchanged rows are copied from those
    files."""
    done = Written()
    started = time.perf_counter()
    exported: set[Collection] = set()
    for job in jobs:
        if job.export_of is not None:
            if job.export_of not in exported:
                exported.add(job.export_of)
                name = job.export_of.name
                wanted = {j.rel for j in jobs if j.export_of is job.export_of}
                with deps.recording() as read:
                    written, made = write_collection_files(
                        site, job.export_of, writer, wanted,
                        (rows or {}).get(name), stale)
                done.rows[name] = made
                # The files are checked every build, row by row (what each row read is
                # kept with the rows); the derived dependencies among that are kept.
                derived = list(deps.derived(read))
                done.files += [(rel, was, b"", derived) for rel, was in written.items()]
            continue
        assert job.produce is not None
        if job.record:
            with deps.recording() as read:
                data = job.produce()
            packed, derived = deps.pack(read), list(deps.derived(read))
        else:
            data, packed, derived = job.produce(), b"", []
        done.files.append((job.rel, writer.put(job.rel, data), packed, derived))
    done.seconds = time.perf_counter() - started
    return done
