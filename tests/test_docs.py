"""The README, the editors' guide and the pages in docs/ keep up with the code.

The tables that list what the code has (the fields of the default schema, the commands and
their options, the roles, the dependencies, the settings of `make bench`) are compared
with the code, every page of docs/ must be in its index, and every relative link must
lead to a file (and a heading) that exists.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from pathlib import Path

import click

from dossier.build import STAGES, load_schema
from dossier.cli import main
from dossier.content.roles import COLLECTION_ROLES, FIELD_ROLES, TERM_ROLES
from dossier.content.schema import Field
from helpers import ROOT

DOCS = ROOT / "docs"
GUIDE = DOCS / "redacteuren.md"
README = ROOT / "README.md"
# Pages and headings written on other branches: a link to one is allowed while it is
# missing here. Remove an entry once it is merged (from then on it is checked anyway).
PENDING = {
    "tests/README.md",  # where a test goes
}


def _paths(fields: tuple[Field, ...], prefix: str = "") -> list[str]:
    found = []
    for f in fields:
        found.append(prefix + f.name)
        if f.leaf.type == "object":
            found += _paths(f.leaf.fields, f"{prefix}{f.name}.")
    return found


def _pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def _table(text: str, header: str) -> list[list[str]]:
    """The rows (as lists of cells) of the Markdown table whose header row starts with
    `header`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def test_the_guide_explains_every_field_of_the_default_schema() -> None:
    guide = GUIDE.read_text()
    schema = load_schema(ROOT)
    missing = [f"{c.name}: {path}" for c in schema.collections for path in _paths(c.fields)
               if f"| `{path}` |" not in guide]
    assert missing == [], "add these fields to the tables in docs/redacteuren.md"


def test_the_readme_links_the_guide_and_lists_every_command() -> None:
    readme = README.read_text()
    assert "(docs/redacteuren.md)" in readme
    assert [name for name in main.commands if f"| `dossier {name}" not in readme] == []


def test_the_commands_table_gives_every_option() -> None:
    rows = {row[0].split()[1].strip("`"): row[0]
            for row in _table(README.read_text(), "| command |")}
    missing = [f"dossier {name} {option}" for name, command in main.commands.items()
               for param in command.params if isinstance(param, click.Option)
               for option in param.opts if option.startswith("--")
               and option not in rows.get(name, "")]
    assert missing == [], "add these options to the README's table of commands"


def test_the_content_model_page_lists_every_role() -> None:
    rows = _table((DOCS / "content-model.md").read_text(), "| role |")
    listed = {name for row in rows for name in re.findall(r"`([a-z]+)`", row[0])}
    roles = {*COLLECTION_ROLES, *FIELD_ROLES, *TERM_ROLES}
    assert sorted(roles - listed) == [], "add these roles to docs/content-model.md"
    assert sorted(listed - roles) == [], "these roles in docs/content-model.md are no more"


def test_every_dependency_says_why() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [re.split(r"[\[<>=!~ ]", dep, maxsplit=1)[0].lower()
             for dep in project["dependencies"]]
    # The names the tables use where they differ from the package's.
    known_as = {"markdown": "python-markdown", "pagefind": "pagefind"}
    rows = _table((DOCS / "libraries.md").read_text(), "| library |")
    libraries = " ".join(row[0] for row in rows).lower()
    readme = README.read_text().lower()
    for name in names:
        assert known_as.get(name, name) in libraries, f"docs/libraries.md: why {name}?"
        assert f"**{known_as.get(name, name)}" in readme or f", {known_as.get(name, name)}" \
            in readme, f"README.md: {name} in the list of libraries"


def test_the_benchmarks_page_lists_every_setting() -> None:
    used = {name for script in (ROOT / "bench").glob("*.py")
            for name in re.findall(r"\bBENCH_[A-Z]+\b", script.read_text())}
    rows = _table((DOCS / "benchmarks.md").read_text(), "| setting |")
    listed = {row[0].strip("`") for row in rows}
    assert sorted(used - listed) == [], "add these settings to docs/benchmarks.md"


def test_every_module_named_in_the_docs_exists() -> None:
    """`render/renderer.py` in a page is a path from src/dossier/ (or from the repository)."""
    missing = [f"{page.relative_to(ROOT)}: {name}" for page in [README, *_pages()]
               for name in re.findall(r"`([\w/]+\.py)`", page.read_text())
               if not (ROOT / name).exists() and not (ROOT / "src" / "dossier" / name).exists()]
    assert missing == []


def test_every_docs_page_is_in_the_index() -> None:
    index = (DOCS / "index.md").read_text()
    linked = set(re.findall(r"\]\(([^)#\s]+)", index))
    missing = [page.name for page in _pages() if page.name != "index.md"
               and page.name not in linked]
    assert missing == [], "link these pages from docs/index.md"


def _anchor(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, no punctuation, spaces as -."""
    text = heading.strip().lower().replace("`", "")
    text = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return text.replace(" ", "-")


def _anchors(text: str) -> set[str]:
    found: set[str] = set()
    for heading in re.findall(r"^#+ (.+)$", _without_code_blocks(text), re.M):
        anchor, n = _anchor(heading), 1
        while anchor in found:  # a second heading of the same name gets -1, and so on
            anchor, n = f"{_anchor(heading)}-{n}", n + 1
        found.add(anchor)
    return found


def _without_code_blocks(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)


def _links(text: str) -> list[str]:
    """The targets of the Markdown links outside code blocks and code spans."""
    text = _without_code_blocks(text)
    text = re.sub(r"(?<!\[)`[^`\n]*`(?!\])", "", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_every_relative_link_leads_to_a_file_and_heading_that_exist() -> None:
    broken = []
    for page in [README, *_pages()]:
        text = page.read_text()
        for target in _links(text):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            rel = file.relative_to(ROOT).as_posix() if file.is_relative_to(ROOT) else str(file)
            if not file.exists():
                if rel not in PENDING:
                    broken.append(f"{page.relative_to(ROOT)}: {target}")
                continue
            if anchor and file.suffix == ".md" and anchor not in _anchors(file.read_text()) \
                    and f"{rel}#{anchor}" not in PENDING:
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


ARCHITECTURE = DOCS / "architecture.md"
PACKAGE = ROOT / "src" / "dossier"


def test_the_architecture_page_lists_the_stages_in_the_order_the_pipeline_runs_them() -> None:
    page = ARCHITECTURE.read_text()
    table = re.findall(r"^\| `([a-z ]+)` \|", page, re.M)
    assert tuple(table) == STAGES
    pipeline = (PACKAGE / "build" / "pipeline.py").read_text()
    assert tuple(re.findall(r'r\.stage\("([a-z ]+)"\)', pipeline)) == STAGES


def _drawn_layers(page: str) -> list[set[str]]:
    """The packages of the layer drawing, top first; siblings share a line."""
    drawing = page.split("## The packages and their layers")[1].split("```")[1]
    layers = []
    for line in drawing.strip().splitlines():
        names = re.findall(r"(?:^|│)\s*([a-z]+)(?:/|\.py)", line.split("  ", 1)[0]
                           if "│" not in line else line.split("   ")[0])
        layers.append({f"dossier.{n}" for n in names})
    return layers


def test_the_architecture_page_draws_the_layers_that_make_lint_checks() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"]
                    if c["type"] == "layers")
    checked = [{n.strip() for n in layer.split("|")} for layer in contract["layers"]]
    drawn = _drawn_layers(ARCHITECTURE.read_text())
    assert drawn == [{"dossier.cli"}, *checked[1:]]
    packages = {f"dossier.{d.name}" for d in PACKAGE.iterdir() if (d / "__init__.py").is_file()}
    assert set().union(*checked) - {"dossier.cli"} == packages
