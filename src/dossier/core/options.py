"""What the command line can change about a build: one frozen value every stage reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BuildOptions:
    """What the command line can change about a build."""

    out: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    strict: bool = False
    jobs: int = 0  # worker processes; 0 = one per CPU
    cache: bool = True  # reuse what the previous build made from unchanged inputs
    search: bool = True  # build the Pagefind search index
    # Records per part of the search index at most (search/index.py: Pagefind then holds
    # some 260 MB).
    search_part_size: int = 2000
    minify: bool = False  # collapse white space in HTML
    # The preview's own: the web editor under admin/ whatever site.yml says, editing
    # through `dossier serve`'s local backend. A build never sets it (docs/admin.md).
    admin_local: bool = False
