"""Incremental builds give byte-identical output to clean builds, for every kind of edit."""

from __future__ import annotations

import gc
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dossier.build import BuildOptions, build
from dossier.core.diagnostics import DossierError
from dossier.incremental.cache import BuildCache
from helpers import (
    assert_same_as_clean,
    edit,
    generated_project,
    generated_site,
    linked_copy,
    snapshot,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 generated projects, built once with its cache (shared by the tests, read-only)."""
    site = generated_site(tmp_path_factory.mktemp("corpus"), 200, organisations=30, words=80)
    first = build(site)
    assert first.rendered == first.pages
    return site


@pytest.fixture
def site(corpus: Path, tmp_path: Path) -> Path:
    """The built corpus, copied with hard links (shared by the tests, left as it is)."""
    return linked_copy(corpus, tmp_path / "site")


def _add_template(site: Path) -> None:
    folder = site / "templates" / "partials"
    folder.mkdir(parents=True)
    (folder / "header.html").write_text(
        '<header class="site-header"><a href="{{ url(\'\') }}">Eigen kop</a></header>\n')


EDITS: dict[str, Callable[[Path], None]] = {
    "project title": lambda s: edit(generated_project(s, 7), "titel: \"Gegenereerd project 00007",
                                    "titel: \"Gegenereerd project 00007 (bewerkt)"),
    "project body": lambda s: edit(generated_project(s, 8), "## Aanpak\n",
                                   "## Aanpak\n\nNieuwe zin.\n"),
    "project facet": lambda s: edit(generated_project(s, 9), "status: lopend", "status: afgerond")
    if "status: lopend" in generated_project(s, 9).read_text()
    else edit(generated_project(s, 9), "status: afgerond", "status: lopend"),
    # The newest date of all is the site's date, in the footer of every page.
    "project date": lambda s: edit(generated_project(s, 14), "bijgewerkt: 20",
                                   "bijgewerkt: 2014-12-31\n# was: 20"),
    "project reference": lambda s: edit(generated_project(s, 10), "uitvoerder: org-",
                                        "uitvoerder: org-0029\n#"),
    "organisation name": lambda s: edit(s / "content" / "organisaties" / "org-0003.md",
                                        "naam: \"Gegenereerde organisatie 0003",
                                        "naam: \"Hernoemde organisatie 0003"),
    "template": _add_template,
    "site settings": lambda s: edit(s / "content" / "site.yml", "per_pagina: 20",
                                    "per_pagina: 15"),
    "delete project": lambda s: generated_project(s, 11).unlink(),
    "rename project": lambda s: generated_project(s, 12).rename(
        generated_project(s, 12).with_name("hernoemd.md")),
    "add project": lambda s: shutil.copy(
        generated_project(s, 13), generated_project(s, 13).with_name("nieuw.md")),
}


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_incremental_build_equals_clean_build(kind: str, site: Path, tmp_path: Path) -> None:
    EDITS[kind](site)
    result = build(site)
    assert result.changed > 0
    assert_same_as_clean(site, tmp_path)


def test_a_text_edit_renders_only_the_pages_that_show_it(site: Path) -> None:
    EDITS["project body"](site)
    result = build(site)
    assert 0 < result.rendered < result.pages / 10


def test_a_build_without_changes_writes_nothing(site: Path) -> None:
    before = snapshot(site / "build", lambda p: p.stat().st_ino)
    result = build(site)
    assert result.unchanged and result.rendered == 0 and result.changed == 0
    after = snapshot(site / "build", lambda p: p.stat().st_ino)
    assert after == before


def test_an_output_file_changed_by_hand_is_made_again(site: Path, tmp_path: Path) -> None:
    page = site / "build" / "projecten" / "project-00001" / "index.html"
    page.unlink()
    page.write_text("overschreven")
    build(site)
    assert page.read_text() != "overschreven"
    assert_same_as_clean(site, tmp_path)


def test_an_output_file_changed_by_hand_is_made_again_in_a_build_after_an_edit(
        site: Path, tmp_path: Path) -> None:
    """With a record edited too, the stats of the output folder are read while the content
    is (in a process of their own): a page changed by hand is still seen and made again."""
    page = site / "build" / "organisaties" / "org-0001" / "index.html"
    page.unlink()
    page.write_text("overschreven")
    EDITS["project body"](site)
    build(site)
    assert page.read_text() != "overschreven"
    assert_same_as_clean(site, tmp_path)


def test_an_edit_reads_the_rest_of_the_state_in_another_process_while_the_content_loads(
        site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What each page read at the last build (parts, derived values, the records'
    fingerprints) is needed once the model is linked: a process of its own reads it while
    this one loads the content, and the edit still renders only what shows it."""
    from dossier.incremental import state

    readers = tmp_path / "readers"
    read_model = state._read_model

    def noting(*args: Any) -> None:
        with readers.open("a") as f:
            f.write(f"{os.getpid()}\n")
        read_model(*args)

    monkeypatch.setattr(state, "_read_model", noting)
    EDITS["project body"](site)
    result = build(site)
    assert 0 < result.rendered < result.pages / 10
    pids = readers.read_text().split()
    assert len(pids) == 1 and pids[0] != str(os.getpid())


def test_when_the_other_process_cannot_read_the_state_the_build_reads_it_itself(
        site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BuildCache, "model_apart", lambda self: None)
    EDITS["project body"](site)
    result = build(site)
    assert 0 < result.rendered < result.pages / 10
    assert_same_as_clean(site, tmp_path)


def test_a_reading_apart_that_failed_says_so_to_both_questions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process gives its result once: the build's second question (the stats after
    the rows, or the other way round) gets the same failure, not a closed file."""
    import dossier.incremental.memory as memory

    def broken(*args: object) -> None:
        raise KeyError("a bug in the other process")

    monkeypatch.setattr(memory, "_read_apart", broken)
    reading = memory._ReadingApart(tmp_path, BuildCache(tmp_path, tmp_path / "build"))
    with pytest.raises(RuntimeError, match="a bug in the other process"):
        reading.model()
    with pytest.raises(RuntimeError, match="a bug in the other process"):
        reading.stats()


def test_one_and_two_workers_give_identical_output(corpus: Path, tmp_path: Path) -> None:
    build(corpus, BuildOptions(out=tmp_path / "een", jobs=1, cache=False))
    build(corpus, BuildOptions(out=tmp_path / "twee", jobs=2, cache=False))
    assert snapshot(tmp_path / "een") == snapshot(tmp_path / "twee")


def test_an_up_to_date_site_is_not_even_read(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing changed, the build compares file stats and validates no record."""
    import dossier.content.documents

    def fail(*args: object) -> None:
        raise AssertionError("a record was read")

    monkeypatch.setattr(dossier.content.documents, "load_document", fail)
    result = build(site)
    assert result.unchanged and result.pages > 200
    assert "validate" not in result.timings and "render" not in result.timings


def test_a_moved_collection_changes_the_links_in_converted_markdown(
        site: Path, tmp_path: Path) -> None:
    """Converted Markdown is kept between builds; a body's link to an organisation must
    follow the organisation to its new folder, not keep the URL it had when converted."""
    edit(site / "content" / "schema.yml", "folder: organisaties", "folder: partners")
    build(site)
    page = (site / "build" / "projecten" / "project-00001" / "index.html").read_text()
    assert 'href="../../partners/org-' in page
    assert "../../organisaties/" not in page
    assert_same_as_clean(site, tmp_path)


def test_a_template_change_converts_no_markdown_again(
        site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dossier.content.markup import MarkdownRenderer

    converted: list[str] = []
    original = MarkdownRenderer.convert

    def counting(self: MarkdownRenderer, text: str, *args: object, **kwargs: object) -> object:
        converted.append(text)
        return original(self, text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(MarkdownRenderer, "convert", counting)
    _add_template(site)
    result = build(site, BuildOptions(jobs=1))
    assert result.rendered == result.pages
    assert converted == []


def test_a_planted_fragment_cannot_put_a_script_into_a_page(site: Path, tmp_path: Path) -> None:
    """The fragment store sits in the site folder: what it holds is used only if the
    sanitiser would leave it exactly as it is."""
    import sqlite3

    db = sqlite3.connect(BuildCache(site, site / "build").fragments_path)
    with db:
        rows = db.execute("SELECT key, value FROM fragment").fetchall()
        assert rows
        for key, value in rows:
            planted = value.replace("<p>", "<p><script>alert(1)</script>", 1)
            db.execute("UPDATE fragment SET value = ? WHERE key = ?", (planted, key))
    db.close()
    _add_template(site)  # every page is rendered again
    build(site)
    for page in (site / "build").rglob("*.html"):
        assert "alert(1)" not in page.read_text()
    assert_same_as_clean(site, tmp_path)


def test_a_damaged_fragment_store_is_made_anew(site: Path, tmp_path: Path) -> None:
    store = BuildCache(site, site / "build").fragments_path
    for stale in store.parent.glob(f"{store.name}-*"):
        stale.unlink()
    store.write_bytes(b"not a database" * 100)
    _add_template(site)
    build(site)
    assert store.read_bytes().startswith(b"SQLite format 3\x00")
    assert_same_as_clean(site, tmp_path)


# --- a site's own templates that read other records -------------------------------------

SITE_TEMPLATES = {
    # A footer that names one project (its title changes with it).
    "footer names a project": (
        "partials/footer.html",
        '<footer class="site-footer"><p>Uitgelicht: '
        '{{ site.get("projecten", "project-00005").title }}</p></footer>\n'),
    # Every page shows how many projects there are.
    "count of projects": (
        "partials/footer.html",
        '<footer class="site-footer"><p>{{ site.records["projecten"] | length }} projecten'
        "</p></footer>\n"),
    # A block on every page with the three newest projects, in Jinja only.
    "three newest projects": (
        "partials/footer.html",
        '<footer class="site-footer"><ul>{% for p in site.records["projecten"] '
        '| selectattr("data.bijgewerkt", "defined") | sort(attribute="data.bijgewerkt", '
        'reverse=True) %}{% if loop.index <= 3 %}<li>{{ p.title }} '
        "({{ p.data.bijgewerkt }})</li>{% endif %}{% endfor %}</ul></footer>\n"),
}


def _retitle(file: Path) -> None:
    edit(file, "titel: \"Gegenereerd project", "titel: \"Bewerkt gegenereerd project")


def _newest(site: Path) -> Path:
    """The project with the latest `bijgewerkt` (what the block of the newest shows)."""
    def date(file: Path) -> str:
        return next(line for line in file.read_text().splitlines()
                    if line.startswith("bijgewerkt:"))
    return max(sorted((site / "content" / "projecten").glob("*.md")), key=date)


SITE_EDITS: dict[str, Callable[[Path], None]] = {
    # The title of the project the footer names, and of the newest project.
    "edit": lambda s: (_retitle(generated_project(s, 5)), _retitle(_newest(s))),
    "add": lambda s: shutil.copy(
        generated_project(s, 21), generated_project(s, 21).with_name("nieuw.md")),
    "delete": lambda s: generated_project(s, 22).unlink(),
    "rename": lambda s: generated_project(s, 23).rename(
        generated_project(s, 23).with_name("hernoemd.md")),
}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_site(tmp_path_factory.mktemp("small"), 40, organisations=8, words=40)


@pytest.mark.parametrize("change", sorted(SITE_EDITS))
@pytest.mark.parametrize("template", sorted(SITE_TEMPLATES))
def test_a_site_template_that_reads_other_records_stays_right(
        template: str, change: str, small: Path, tmp_path: Path) -> None:
    """What a site's own template reads is recorded like the theme's: after an edit, an
    added, deleted or renamed record, the incremental build equals a clean one."""
    site = tmp_path / "site"
    shutil.copytree(small, site)
    name, text = SITE_TEMPLATES[template]
    (site / "templates" / name).parent.mkdir(parents=True, exist_ok=True)
    (site / "templates" / name).write_text(text)
    build(site, BuildOptions(search=False))
    SITE_EDITS[change](site)
    result = build(site, BuildOptions(search=False))
    assert result.changed > 0
    assert_same_as_clean(site, tmp_path, BuildOptions(search=False))


def test_a_site_template_renders_again_only_what_reads_the_change(
        small: Path, tmp_path: Path) -> None:
    """A footer with the number of projects: editing a project's text changes no count, so
    only that project's own pages are rendered again; adding one changes every page."""
    site = tmp_path / "site"
    shutil.copytree(small, site)
    name, text = SITE_TEMPLATES["count of projects"]
    (site / "templates" / name).parent.mkdir(parents=True)
    (site / "templates" / name).write_text(text)
    build(site, BuildOptions(search=False))
    EDITS["project body"](site)
    assert build(site, BuildOptions(search=False)).rendered == 2  # its page, its dossier's
    SITE_EDITS["add"](site)
    result = build(site, BuildOptions(search=False))
    assert result.rendered == result.pages


def test_edits_one_after_another_stay_right(site: Path, tmp_path: Path) -> None:
    """What a build took over from the one before (rows of the open data copied from the
    previous files, pages kept) is checked again by the next: every build of a series of
    edits equals a clean one."""
    for kind in ("project body", "organisation name", "project title", "delete project",
                 "add project"):
        EDITS[kind](site)
        build(site)
        assert_same_as_clean(site, tmp_path)


def test_links_to_a_section_of_another_project_are_checked_whichever_page_is_made_again(
        site: Path) -> None:
    """A link to a section of another project is checked against the sections that
    project has now: when the linking page is taken over and the linked one made again,
    and when the linking page is made again and the linked one taken over (its ids as
    the last build found them)."""
    options = BuildOptions(search=False)
    edit(generated_project(site, 3), "## Aanpak\n",
         "## Aanpak\n\nZie [de aanpak](project-00004.md#aanpak).\n")
    assert build(site, options).rendered >= 1
    # The linked project loses the section; the linking page is taken over.
    edit(generated_project(site, 4), "## Aanpak\n", "## Werkwijze\n")
    with pytest.raises(DossierError) as failed:
        build(site, options)
    assert "has no id 'aanpak'" in str(failed.value)
    assert "project-00003.md" in str(failed.value)
    edit(generated_project(site, 4), "## Werkwijze\n", "## Aanpak\n")
    build(site, options)
    # Now the linking page is made again and the linked one taken over.
    edit(generated_project(site, 3), "#aanpak)", "#doel)")
    result = build(site, options)
    assert result.rendered >= 1 and not any("has no id" in str(w) for w in result.warnings)
    edit(generated_project(site, 3), "#doel)", "#werkwijze)")
    with pytest.raises(DossierError) as failed:
        build(site, options)
    assert "project-00003.md" in str(failed.value)
    assert "has no id 'werkwijze'" in str(failed.value)


def test_the_cycle_collector_waits_while_the_model_is_made_and_runs_while_pages_render(
        base_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build pauses Python's cycle collector while it reads and links the site (there it
    would only walk objects that live until the build ends), turns it on again before pages
    render (they make cyclic garbage) and leaves it on when it ends, failed or not: a
    process that builds again and again (the preview) must go on collecting."""
    from dossier.build import stages
    from dossier.render.renderer import Renderer

    linking: list[bool] = []
    rendering: list[bool] = []
    real_link, real_render = stages.link, Renderer.render

    def link(*args: object) -> object:
        linking.append(gc.isenabled())
        return real_link(*args)  # type: ignore[arg-type]

    def render(self: Renderer, page: object) -> object:
        rendering.append(gc.isenabled())
        return real_render(self, page)  # type: ignore[arg-type]

    monkeypatch.setattr(stages, "link", link)
    monkeypatch.setattr(Renderer, "render", render)
    assert gc.isenabled()
    build(base_site, BuildOptions(search=False, jobs=1))
    assert linking == [False]
    assert rendering and all(rendering)
    assert gc.isenabled()
    (base_site / "content" / "projecten" / "kapot.md").write_text(
        "---\ntitel: [niet gesloten\n---\n", encoding="utf-8")
    with pytest.raises(DossierError):
        build(base_site, BuildOptions(search=False, jobs=1))
    assert gc.isenabled()


def test_a_build_that_fails_leaves_no_file_open(base_site: Path) -> None:
    """An edit that fails validation: the stats of the output folder, read in a process of
    their own while the content loads, are never asked for; the file their answer comes
    through is closed all the same, not left for the garbage collector to find open (the
    preview builds again and again)."""
    build(base_site, BuildOptions(search=False))
    (base_site / "content" / "projecten" / "kapot.md").write_text(
        "---\ntitel: [niet gesloten\n---\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(3):
            with pytest.raises(DossierError):
                build(base_site, BuildOptions(search=False))
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
