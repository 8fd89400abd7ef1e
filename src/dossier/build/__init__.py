"""The build pipeline: the order of the stages, and the one function that runs them.

Owns: `pipeline.run` (the stages in order: load, validate, link, plan, what changed,
render, check, open data and search, swap), `build`, `check` and `load_site` over it,
the stage functions (stages.py), the run they share (run.py) and the side outputs made
alongside rendering (sides.py).

May import: every package below it (core, content, model, plan, render, outputs, search,
write, incremental). Imported by: preview, authoring, cli.
"""

from typing import TYPE_CHECKING, Any

from dossier.build.pipeline import build, check, check_site, load_site, run
from dossier.build.run import STAGES, BuildResult, Loaded
from dossier.core.options import BuildOptions

if TYPE_CHECKING:
    from dossier.build.stages import Reading, make_renderer
    from dossier.content.load import load_config, load_schema

__all__ = ["STAGES", "BuildOptions", "BuildResult", "Loaded", "Reading", "build", "check",
           "check_site", "load_config", "load_schema", "load_site", "make_renderer", "run"]

# Where they are; imported on first use, so that a build that finds nothing to do (and
# `dossier --help`) does not load the renderer, Markdown and the rest.
_LATER = {"Reading": "dossier.build.stages", "make_renderer": "dossier.build.stages",
          "load_config": "dossier.content.load", "load_schema": "dossier.content.load"}


def __getattr__(name: str) -> Any:
    if name in _LATER:
        import importlib

        return getattr(importlib.import_module(_LATER[name]), name)
    raise AttributeError(f"module 'dossier.build' has no attribute {name!r}")
