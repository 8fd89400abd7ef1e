"""Hostile paths: nothing in a site makes the build read or write outside its folders."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier.cli import main

SECRET = "GEHEIM-7f3a9c"  # stands for what must never be published: keys, environment


def check(site: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["check", str(site)])
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if not line.startswith("check ")]
    return result.exit_code, lines


def build(site: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["build", str(site), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


def everything(root: Path) -> dict[str, bytes]:
    """Every file under `root` (without following links) with its bytes."""
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            if not path.is_symlink():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file beside the site that must never be read into the output."""
    file = tmp_path / "geheim.txt"
    file.write_text(f"---\ntitel: {SECRET}\n---\n{SECRET}\n")
    return file


def add_body_line(site: Path, line: str) -> Path:
    record = site / "content" / "projecten" / "project-drie.md"
    record.write_text(record.read_text() + f"\n{line}\n")
    return record


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("../../../../../etc/passwd", "link '../../../../../etc/passwd' points outside the "
                                      "content folder"),
        ("%2e%2e/%2e%2e/%2e%2e/etc/passwd", "points outside the content folder"),
        ("/etc/passwd", "must be relative to this file"),
        ("C:\\Windows\\win.ini", "is a Windows path"),
        ("C:/Windows/win.ini", "is a Windows path"),
        ("..\\organisaties\\org-a.md", "is a Windows path"),
        ("file:///etc/passwd", "is not allowed"),
        ("../../geheim.txt", "points outside the content folder"),
    ],
)
def test_a_markdown_link_cannot_lead_out_of_the_site(
    base_site: Path, secret: Path, link: str, message: str
) -> None:
    add_body_line(base_site, f"Zie [dit]({link}).")
    code, lines = check(base_site)
    assert code == 1
    [line] = lines
    assert line.startswith("content/projecten/project-drie.md:")
    assert ": error: body: " in line
    assert message in line


def test_a_link_to_a_file_outside_content_is_never_read(base_site: Path, secret: Path) -> None:
    add_body_line(base_site, "Zie [dit](../../../geheim.txt) en ![x](../../../geheim.txt).")
    code, _ = build(base_site)
    assert code == 1
    assert not (base_site / "build").exists()


def test_a_template_linked_to_a_file_outside_the_site_is_refused(
    base_site: Path, secret: Path
) -> None:
    partials = base_site / "templates" / "partials"
    partials.mkdir(parents=True)
    (partials / "footer.html").symlink_to(secret)
    code, lines = check(base_site)
    assert code == 1
    assert lines == ["templates/partials/footer.html:1:1: error: symbolic link points "
                     "outside templates/; it is not read"]


def test_a_static_file_linked_outside_the_site_is_never_published(
    base_site: Path, secret: Path
) -> None:
    static = base_site / "templates" / "static"
    static.mkdir(parents=True)
    (static / "omgeving.txt").symlink_to(secret)
    (static / "map").symlink_to(secret.parent, target_is_directory=True)
    code, stderr = build(base_site)
    assert code == 1
    assert "templates/static/omgeving.txt:1:1: error: symbolic link points outside" in stderr
    assert "templates/static/map:1:1: error: symbolic link points outside" in stderr
    assert not (base_site / "build").exists()


def test_links_inside_the_templates_folder_are_fine(base_site: Path) -> None:
    static = base_site / "templates" / "static"
    static.mkdir(parents=True)
    (static / "eigen.txt").write_text("p { margin: 0 }\n")
    (static / "alias.txt").symlink_to("eigen.txt")  # not CSS or JS: kept under its own name
    code, _ = build(base_site, "--quiet")
    assert code == 0
    assert (base_site / "build" / "static" / "alias.txt").read_text() == "p { margin: 0 }\n"


@pytest.mark.parametrize("name", ["site.yml", "schema.yml"])
def test_settings_linked_to_a_file_outside_content_are_refused(
    base_site: Path, secret: Path, name: str
) -> None:
    (base_site / "content" / name).unlink()
    (base_site / "content" / name).symlink_to(secret)
    code, lines = check(base_site)
    assert code == 1
    assert f"content/{name}:1:1: error: symbolic link points outside the content folder; " \
           "it is not read" in lines
    assert SECRET not in "\n".join(lines)


def test_a_field_name_that_is_a_path_is_an_error_not_a_crash(base_site: Path) -> None:
    schema = base_site / "content" / "schema.yml"
    schema.write_text(schema.read_text().replace(
        "      programma: {type: string,", "      ../../buiten: {type: string, facet: true}\n"
        "      programma: {type: string,", 1))
    code, lines = check(base_site)
    assert code == 1
    assert len(lines) == 1
    assert "collections.projecten.fields.../../buiten: '../../buiten' is not a field name" \
        in lines[0]


def changes(root: Path, action: Callable[[], object]) -> set[str]:
    """Files under `root` that `action` creates or changes (deleting any fails)."""
    before = everything(root)
    action()
    after = everything(root)
    assert set(before) - set(after) == set()
    return {rel for rel in after if before.get(rel) != after[rel]}


def test_builds_write_only_the_output_and_the_cache(
    base_site: Path, secret: Path, tmp_path: Path
) -> None:
    allowed = ("build/", ".dossier-cache/")
    record = add_body_line(base_site, "[a](../../../../x.md) ![b](/etc/passwd)")
    (base_site / "content" / "projecten" / "lek.md").symlink_to(secret)
    failed = changes(tmp_path, lambda: build(base_site))
    assert [rel for rel in failed
            if not rel.startswith(f"{base_site.name}/.dossier-cache/")] == []
    (base_site / "content" / "projecten" / "lek.md").unlink()
    record.write_text(record.read_text().replace("[a](../../../../x.md) ![b](/etc/passwd)", ""))
    built = changes(tmp_path, lambda: build(base_site))
    assert f"{base_site.name}/build/index.html" in built
    outside = [rel for rel in built if not rel.removeprefix(f"{base_site.name}/")
               .startswith(allowed)]
    assert outside == []
