"""The build pipeline: the order of the stages, and the one function that runs them.

Owns: `pipeline.run` (the stages in order: load, validate, link, plan, what changed,
render, check, open data and search, swap), `build`, `check` and `load_site` over it,
the stage functions (stages.py), the run they share (run.py) and the side outputs made
alongside rendering (sides.py).

May import: every package below it (core, content, model, plan, render, outputs, search,
write, incremental). Imported by: preview, authoring, cli.
"""

from dossier.build.pipeline import (
           STAGES,
           BuildResult,
           Loaded,
           Reading,
           build,
           check,
           check_site,
           load_site,
           run,
)
from dossier.build.stages import make_renderer
from dossier.content.load import load_config, load_schema
from dossier.core.options import BuildOptions

__all__ = ["STAGES", "BuildOptions", "BuildResult", "Loaded", "Reading", "build", "check",
           "check_site", "load_config", "load_schema", "load_site", "make_renderer", "run"]
