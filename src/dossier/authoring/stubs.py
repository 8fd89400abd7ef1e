"""Starting points for editors: a new record from the schema, a new site from the scaffold.

Neither ever overwrites a file: a record that exists or a folder that is not empty is refused.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import yaml

from dossier.authoring import SCHEMA_DIR
from dossier.authoring.editor import (
    MEDIA_SUBFIELDS,
    describe,
    modeline,
    write_schemas,
    write_vscode_settings,
)
from dossier.content.documents import RECORD_SUFFIXES, collection_files, record_slug
from dossier.content.load import load_schema
from dossier.content.schema import Collection, Field, Schema
from dossier.core.diagnostics import Diagnostic, DossierError

SCAFFOLD = Path(__file__).parent.parent / "scaffold"
# Package data cannot reliably carry dot-files, so the scaffold stores them (files and
# folders at its top) without the dot.
_DOT_FILES = {"gitignore": ".gitignore", "gitlab-ci.yml": ".gitlab-ci.yml",
              "github": ".github"}
COMMENT_COLUMN = 30  # where the explaining comments of a stub line up
EXAMPLE_SLUGS = 3  # existing slugs named as examples in the comment of a reference field

Line = tuple[str, str]  # YAML text, and the comment that explains it


def record_stub(collection: Collection, schema: Schema, title: str = "",
                examples: dict[str, list[str]] | None = None, header: str = "") -> str:
    """A record file: required fields stubbed, optional ones as comments, body sections."""
    lines = [header] if header else []
    stub = list(_fields(collection.fields, schema, examples or {}, collection.title_field, title))
    width = min(COMMENT_COLUMN, max(len(code) for code, _ in stub))
    for code, comment in stub:
        lines.append(f"{code.ljust(width)}  # {comment}".rstrip() if comment else code)
    body = "".join(f"## {section}\n\n\n" for section in collection.sections)
    return "---\n" + "\n".join(lines) + "\n---\n" + body.rstrip("\n") + ("\n" if body else "")


def _fields(fields: tuple[Field, ...], schema: Schema, examples: dict[str, list[str]],
            title_field: str, title: str) -> Iterator[Line]:
    for f in fields:
        if f.name == title_field and title:
            yield f"{f.name}: {_scalar(title)}", _help(f, schema, examples)
        else:
            yield from _block(f, schema, examples, "" if f.required else "# ", "")


def _block(f: Field, schema: Schema, examples: dict[str, list[str]], mark: str,
           indent: str) -> Iterator[Line]:
    """One field as YAML lines; `mark` is '# ' for a field left as a comment."""
    leaf = f.leaf
    subfields = leaf.fields or MEDIA_SUBFIELDS.get(leaf.type, ())
    if not subfields:
        empty = " []" if f.is_list and mark else ""
        yield f"{mark}{indent}{f.name}:{empty}", _help(f, schema, examples)
        return
    yield f"{mark}{indent}{f.name}:", _help(f, schema, examples)
    inner = indent + ("    " if f.is_list else "  ")
    lines: list[Line] = []
    # Required subfields first, so the dash of a list item is on a line that is not a comment.
    for sub in sorted(subfields, key=lambda s: not s.required):
        lines.extend(_block(sub, schema, examples, mark or ("" if sub.required else "# "),
                            inner))
    if f.is_list and lines:
        code, comment = lines[0]
        sub_mark = "# " if code.startswith("# ") else ""
        lines[0] = f"{sub_mark}{indent}  - {code[len(sub_mark) + len(inner):]}", comment
    yield from lines


def _help(f: Field, schema: Schema, examples: dict[str, list[str]]) -> str:
    """The comment after a field: required or not, what to write, existing slugs to refer to."""
    text = ("verplicht; " if f.required else "") + describe(f, schema)
    if f.leaf.type == "ref" and examples.get(f.leaf.collection):
        text += ", bijv. " + ", ".join(examples[f.leaf.collection][:EXAMPLE_SLUGS])
    return text


def _scalar(value: str) -> str:
    """`value` as a YAML scalar on one line, quoted only where YAML needs it."""
    return yaml.safe_dump(value, allow_unicode=True, default_style=None,
                          width=10_000).removesuffix("\n...\n").rstrip("\n")


def existing_slugs(site_dir: Path, schema: Schema) -> dict[str, list[str]]:
    """The slugs of the records each collection has, from their file names."""
    content = site_dir / "content"
    return {c.name: [record_slug(rel) for f, rel in collection_files(content, c.name, [])
                     if f.suffix in RECORD_SUFFIXES]
            for c in schema.collections}


def new_record(site_dir: Path, schema: Schema, collection: Collection, slug: str,
               title: str = "", bundle: bool = False) -> Path:
    """Write content/<collection>/<slug>.md from the schema (with `bundle`, the record of a
    folder for it and its files: <slug>/index.md); refuse if the record exists."""
    folder = site_dir / "content" / collection.name
    for name in (*(f"{slug}{s}" for s in RECORD_SUFFIXES),
                 *(f"{slug}/index{s}" for s in RECORD_SUFFIXES)):
        if (folder / name).exists():
            rel = f"content/{collection.name}/{name}"
            raise DossierError([Diagnostic(
                rel, 1, 1, "error", "",
                "record exists; dossier new never overwrites a file: edit it, or choose "
                "another slug")])
    rel = f"content/{collection.name}/{slug}{'/index' if bundle else ''}.md"
    text = record_stub(collection, schema, title, existing_slugs(site_dir, schema),
                       modeline(rel, collection.name))
    (site_dir / rel).parent.mkdir(parents=True, exist_ok=True)
    with open(site_dir / rel, "x", encoding="utf-8") as handle:
        handle.write(text)
    set_up_editors(site_dir, schema)
    return site_dir / rel


def set_up_editors(site_dir: Path, schema: Schema) -> None:
    """Editor schemas in .schemas/, and VS Code settings that use them (if it has none)."""
    write_schemas(schema, site_dir / SCHEMA_DIR)
    write_vscode_settings(site_dir, schema)


def init_site(target: Path) -> list[Path]:
    """A new site in `target` (new or empty): the scaffold, editor schemas and settings."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise DossierError([Diagnostic(
            str(target), 1, 1, "error", "",
            "folder is not empty; dossier init starts a site in a new or empty folder")])
    written = []
    for file in sorted(SCAFFOLD.rglob("*")):
        if not file.is_file() or "__pycache__" in file.parts:
            continue
        top, *rest = file.relative_to(SCAFFOLD).parts
        dest = target.joinpath(_DOT_FILES.get(top, top), *rest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, dest)
        written.append(dest)
    set_up_editors(target, load_schema(target))
    return written
