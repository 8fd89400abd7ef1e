"""`dossier new` and `dossier init`: starting a record or a whole site from the schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from dossier.authoring.stubs import SCAFFOLD
from dossier.build import load_config, load_schema
from dossier.cli import main
from dossier.outputs.admin import admin_config
from helpers import ROOT


def _new(site: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["new", *args, "--site", str(site)])
    return result.exit_code, result.output


def _check(site: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", str(site)])
    return result.exit_code, result.stderr


def _fill(text: str, field: str, value: str) -> str:
    """What an editor does with a stub: write a value after `field:` (comment and all)."""
    filled, count = re.subn(rf"^{field}:.*$", f"{field}: {value}", text, count=1, flags=re.M)
    assert count == 1, f"no stub line for {field}"
    return filled


def test_new_record_passes_check_once_its_stubs_are_filled_in(base_site: Path) -> None:
    code, output = _new(base_site, "projecten", "nieuw-project",
                        "--titel", "Nieuw project: een test (gegenereerd)")
    assert code == 0, output
    record = base_site / "content" / "projecten" / "nieuw-project.md"
    assert "content/projecten/nieuw-project.md" in output

    code, problems = _check(base_site)
    assert code == 1, "the stubs of required fields are empty"
    assert "content/projecten/nieuw-project.md:4:" in problems and "samenvatting" in problems
    assert "uitvoerder" in problems
    assert "titel" not in problems, "--titel was filled in"

    text = _fill(record.read_text(), "samenvatting", "Een gegenereerd project.")
    record.write_text(_fill(text, "uitvoerder", "org-a"))
    assert _check(base_site) == (0, "check passed: 0 errors, 0 warnings\n")


def test_optional_fields_are_comments_listing_their_terms(base_site: Path) -> None:
    _new(base_site, "projecten", "met-thema")
    text = (base_site / "content" / "projecten" / "met-thema.md").read_text()
    thema = next(line for line in text.splitlines() if line.startswith("# thema:"))
    terms = [t.key for t in load_schema(base_site).terms("thema")]
    assert all(term in thema for term in terms)
    assert "#   - organisatie:" in text and "#     rol:" in text, "list items as a block"
    assert "#   start:" in text and "maand (JJJJ-MM)" in text
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## Aanleiding", "## Doel", "## Aanpak", "## Samenwerking", "## Resultaten"]

    text = _fill(text, "titel", "Met thema (gegenereerd)")
    text = _fill(text, "samenvatting", "Tekst.")
    text = _fill(text, "uitvoerder", "org-b")
    text = text.replace("# thema: []", "thema: [gezondheid]", 1)
    (base_site / "content" / "projecten" / "met-thema.md").write_text(text)
    assert _check(base_site)[0] == 0
    built = CliRunner().invoke(main, ["build", str(base_site), "--quiet"])
    assert built.exit_code == 0
    assert (base_site / "build" / "thema" / "gezondheid" / "index.html").read_text().count(
        "Met thema (gegenereerd)") == 1


def test_new_never_overwrites(base_site: Path) -> None:
    record = base_site / "content" / "projecten" / "project-een.md"
    before = record.read_bytes()
    code, output = _new(base_site, "projecten", "project-een")
    assert code == 1
    assert "content/projecten/project-een.md:1:1: error: record exists" in output
    assert record.read_bytes() == before
    code, output = _new(base_site, "organisaties", "org-b")  # org-b.yml: same slug
    assert code == 1 and "org-b.yml" in output


def test_new_refuses_a_bad_slug_and_suggests_one(base_site: Path) -> None:
    code, output = _new(base_site, "projecten", "Tussen_In")
    assert code == 2
    assert "'Tussen_In' is not a slug" in output and "did you mean 'tussen-in'?" in output
    assert not list((base_site / "content" / "projecten").glob("*ussen*"))


def test_new_suggests_a_collection_for_a_typo(base_site: Path) -> None:
    code, output = _new(base_site, "projectn", "x")
    assert code == 2
    assert "'projectn' is not a collection" in output and "did you mean 'projecten'?" in output


def test_new_sets_up_editor_schemas_and_a_modeline(base_site: Path) -> None:
    _new(base_site, "organisaties", "org-c", "--titel", "Organisatie C (gegenereerd)")
    record = base_site / "content" / "organisaties" / "org-c.md"
    modeline = record.read_text().splitlines()[1]
    assert modeline == "# yaml-language-server: $schema=../../.schemas/organisaties.json"
    schema_file = (record.parent / modeline.split("=", 1)[1]).resolve()
    assert schema_file == (base_site / ".schemas" / "organisaties.json").resolve()
    assert json.loads(schema_file.read_text())["properties"]["naam"]["title"] == "Naam"
    settings = json.loads((base_site / ".vscode" / "settings.json").read_text())
    assert settings["yaml.schemas"]["./.schemas/organisaties.json"] == [
        "content/organisaties/*.yml", "content/organisaties/*.yaml", "content/organisaties/*.md",
        "content/organisaties/*/index.yml", "content/organisaties/*/index.yaml",
        "content/organisaties/*/index.md"]


def test_new_keeps_vscode_settings_someone_made(base_site: Path) -> None:
    settings = base_site / ".vscode" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"editor.tabSize": 2}\n')
    _new(base_site, "paginas", "colofon")
    assert settings.read_text() == '{"editor.tabSize": 2}\n'


def test_init_makes_a_site_that_builds_without_errors_or_warnings(tmp_path: Path) -> None:
    site = tmp_path / "nieuwe-databank"
    created = CliRunner().invoke(main, ["init", str(site)])
    assert created.exit_code == 0, created.output
    for rel in ("content/site.yml", "content/schema.yml", "README.md", ".gitignore",
                ".vscode/settings.json", ".schemas/projecten.json"):
        assert (site / rel).is_file(), rel
    for collection in ("projecten", "organisaties", "dossiers", "paginas"):
        assert len(list((site / "content" / collection).glob("*.md"))) == 1, collection
    ignored = (site / ".gitignore").read_text().split()
    assert {"/build/", "/.dossier-serve/", "/.dossier-cache/"} <= set(ignored)

    built = CliRunner().invoke(main, ["build", str(site)])
    assert built.exit_code == 0, built.output
    assert built.stderr == "", "no warnings either"
    home = (site / "build" / "projecten" / "voorbeeldproject" / "index.html").read_text()
    assert "Voorbeeldproject" in home and "Voorbeeldorganisatie" in home


def test_the_example_records_of_init_say_they_are_examples() -> None:
    records = sorted((SCAFFOLD / "content").glob("*/*.md"))
    assert len(records) == 4
    for record in records:
        front = record.read_text().split("---")[1]
        assert re.search(r"^(titel|naam): (Voorbeeld|Over de databank)", front, re.M), record


def test_init_starts_from_the_default_content_model() -> None:
    scaffold = (SCAFFOLD / "content" / "schema.yml").read_bytes()
    assert scaffold == (ROOT / "content" / "schema.yml").read_bytes(), (
        "copy content/schema.yml to src/dossier/scaffold/content/schema.yml")


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notities.txt").write_text("van mij")
    result = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "folder is not empty" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["notities.txt"]


def test_init_writes_ci_that_builds_the_site_on_every_push(tmp_path: Path) -> None:
    site = tmp_path / "databank"
    assert CliRunner().invoke(main, ["init", str(site)]).exit_code == 0
    github = yaml.safe_load((site / ".github" / "workflows" / "dossier.yml").read_text())
    steps = [s.get("run", "") for s in github["jobs"]["build"]["steps"]]
    assert github[True] == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    assert 'pip install --quiet "$DOSSIER"' in steps and "dossier build" in steps
    checkout = github["jobs"]["build"]["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0, "dates from git need the whole history"
    gitlab = yaml.safe_load((site / ".gitlab-ci.yml").read_text())
    assert "dossier build --out public" in gitlab["pages"]["script"]
    assert gitlab["pages"]["artifacts"]["paths"] == ["public"]
    assert gitlab["variables"]["GIT_DEPTH"] == 0
    assert not (site / "github").exists() and not (site / "gitlab-ci.yml").exists()


def test_the_commented_git_backend_of_init_works_once_uncommented(tmp_path: Path) -> None:
    site = tmp_path / "databank"
    assert CliRunner().invoke(main, ["init", str(site)]).exit_code == 0
    settings = site / "content" / "site.yml"
    text = settings.read_text()
    assert "\nbeheer" not in text, "the example stays a comment"
    block = re.search(r"^# beheer:\n(?:#   .*\n)+", text, re.M)
    assert block is not None
    settings.write_text(text.replace(block[0], re.sub(r"^# ", "", block[0], flags=re.M)))
    assert _check(site)[0] == 0
    backend = admin_config(load_schema(site), load_config(site))["backend"]
    assert backend == {"name": "gitlab", "repo": "instituut/databank", "branch": "main",
                       "app_id": "0123456789abcdef", "auth_type": "pkce"}
