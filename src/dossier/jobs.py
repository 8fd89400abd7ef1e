"""Output jobs: every file of the output with the key of its inputs and how to make it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from dossier import assets
from dossier.exports import (
    collection_file_names,
    datapackage,
    record_file,
    to_json,
)
from dossier.feeds import discovery_files
from dossier.keys import Keys
from dossier.model import Site
from dossier.pages import Page
from dossier.schema import Collection
from dossier.urls import output_path


@dataclass
class Job:
    """One output file. An empty key means: made anew every build (it is cheap)."""

    rel: str
    key: str = ""
    page: Page | None = None
    produce: Callable[[], bytes] | None = None
    # One of a collection's export files, which are written together, record by record
    # (exports.write_collection_files), never made as bytes in memory.
    export_of: Collection | None = None


def plan_jobs(site: Site, pages: list[Page], site_dir: Path, keys: Keys | None) -> list[Job]:
    """Pages, static files, open data and discovery files, in a stable order."""
    jobs = [Job(output_path(p.url), keys.page(p) if keys else "", page=p) for p in pages]
    for rel, data in assets.files(assets.collect(site_dir)):
        jobs.append(Job(rel, produce=partial(bytes, data)))
    for collection in site.schema.collections:
        key = keys.collection_export(collection.name) if keys else ""
        jobs += [Job(rel, key, export_of=collection) for rel in collection_file_names(collection)]
        for record in site.records.get(collection.name, ()):
            jobs.append(Job(f"{record.url}index.json", keys.record_export(record) if keys else "",
                            produce=partial(record_file, site, record)))
    jobs.append(Job("data/datapackage.json",
                    produce=lambda: to_json(datapackage(site)).encode()))
    for rel, data in discovery_files(site, pages):
        jobs.append(Job(rel, produce=partial(bytes, data)))
    # Files records refer to: made by mediaworkers.publish_media, never by `produce`.
    jobs += [Job(rel, key if keys else "") for rel, key in site.media.outputs()]
    return jobs
