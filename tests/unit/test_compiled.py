"""Compiled templates kept for the next process, and trusted only with this machine's mark
(render/compiled.py; issue 25: a third of a one-project edit at 1,000 projects went to
compiling templates)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import pytest

import dossier.render.templating as templating
from dossier.build import BuildOptions, build
from dossier.render.compiled import MARK, _digest
from dossier.render.templating import make_environment


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The templates Jinja compiles from source while the test runs, by name; the process's
    own memory of compiled templates starts empty, as in a new process."""
    monkeypatch.setattr(templating, "_COMPILED", {})
    names: list[str] = []
    original = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: Any, name: str | None = None,
                 *args: Any, **kwargs: Any) -> Any:
        names.append(str(name))
        return original(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return names


def new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget what this process compiled, as the next build's process has not."""
    monkeypatch.setattr(templating, "_COMPILED", {})


def needs_marks(folder: Path) -> None:
    """Skip where the file system keeps no extended attributes: nothing is kept there."""
    probe = folder / ".probe"
    probe.write_bytes(b"")
    try:
        os.setxattr(probe, MARK, b"1")
    except (OSError, AttributeError):
        pytest.skip("the file system of the temporary folder keeps no extended attributes")
    finally:
        probe.unlink()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    needs_marks(tmp_path)
    return unmarked_site(tmp_path)


def unmarked_site(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text("echt {{ 1 + 1 }}\n")
    (tmp_path / ".dossier-cache").mkdir(mode=0o700)
    return tmp_path


def kept(site: Path) -> list[Path]:
    return sorted(p for p in (site / ".dossier-cache").glob("templates-*/*"))


def render(site: Path) -> str:
    env = make_environment(site / "templates", site / ".dossier-cache")
    return env.get_template("page.html").render()


def test_a_template_compiled_by_one_process_is_not_compiled_again_by_the_next(
    site: Path, compiles: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert render(site) == "echt 2\n"
    assert compiles == ["page.html"]
    [file] = kept(site)
    assert os.getxattr(file, MARK) == _digest(file.read_bytes())
    new_process(monkeypatch)
    assert render(site) == "echt 2\n"
    assert compiles == ["page.html"]  # taken from the file, not compiled again


def test_an_edited_template_is_compiled_again(
    site: Path, compiles: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    render(site)
    (site / "templates" / "page.html").write_text("bewerkt {{ 2 + 2 }}\n")
    new_process(monkeypatch)
    assert render(site) == "bewerkt 4\n"
    assert compiles == ["page.html", "page.html"]


def planted(site: Path, code_of: str, marked: bool) -> None:
    """Put code compiled from `code_of` where page.html's compiled code is kept, claiming
    page.html's source (the checksum Jinja checks is public: the template is in the repo),
    as a change proposed to the site could: a new file, without the mark unless `marked`."""
    env = make_environment(site / "templates", site / ".dossier-cache")
    source = (site / "templates" / "page.html").read_text()
    [file] = kept(site)
    bucket = jinja2.bccache.Bucket(env, file.name, env.bytecode_cache.get_source_checksum(source))
    bucket.code = env.compile(code_of, "page.html")
    file.unlink()
    file.write_bytes(bucket.bytecode_to_string())
    if marked:
        os.setxattr(file, MARK, _digest(file.read_bytes()))


@pytest.mark.parametrize("marked", [False, True])
def test_compiled_code_that_came_with_the_site_is_not_run(
    site: Path, monkeypatch: pytest.MonkeyPatch, marked: bool
) -> None:
    render(site)
    planted(site, "UIT DE CHECKOUT\n", marked)
    new_process(monkeypatch)
    # With the mark (which git, patches and archives do not carry) the file would be
    # trusted: the control that shows the planted file is otherwise good enough to run.
    assert render(site) == ("UIT DE CHECKOUT\n" if marked else "echt 2\n")
    [file] = kept(site)
    if not marked:  # compiled again and written over, with its mark
        assert os.getxattr(file, MARK) == _digest(file.read_bytes())


def test_a_marked_file_whose_bytes_changed_is_not_run(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    render(site)
    [file] = kept(site)
    mark = os.getxattr(file, MARK)
    planted(site, "VERANDERD\n", marked=False)
    os.setxattr(file, MARK, mark)  # the mark of the bytes that were there before
    new_process(monkeypatch)
    assert render(site) == "echt 2\n"


def test_where_files_cannot_be_marked_nothing_is_kept_and_templates_still_render(
    tmp_path: Path, compiles: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = unmarked_site(tmp_path)  # runs on any file system
    def unsupported(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOTSUP, "Operation not supported")

    monkeypatch.setattr(os, "setxattr", unsupported)
    (site / "templates" / "other.html").write_text("ander\n")
    env = make_environment(site / "templates", site / ".dossier-cache")
    assert env.get_template("page.html").render() == "echt 2\n"
    assert env.get_template("other.html").render() == "ander\n"
    assert kept(site) == []
    new_process(monkeypatch)
    assert render(site) == "echt 2\n"
    assert compiles == ["page.html", "other.html", "page.html"]


def test_a_build_keeps_compiled_templates_in_its_cache_and_not_without_it(
    example_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs_marks(example_site)
    new_process(monkeypatch)
    old = example_site / ".dossier-cache" / "templates-0123456789abcdef"
    old.mkdir(parents=True)
    (old / "leftover").write_bytes(b"from an earlier Jinja")
    build(example_site, BuildOptions(search=False))
    files = kept(example_site)
    assert len(files) >= 10  # the theme's pages and partials
    assert all(os.getxattr(f, MARK) == _digest(f.read_bytes()) for f in files)
    assert not old.exists()  # another Jinja's or dossier's compiled code is removed

    other = tmp_path / "zonder-cache"
    (example_site / ".dossier-cache").rename(other)
    new_process(monkeypatch)
    build(example_site, BuildOptions(search=False, cache=False))
    assert not list(example_site.glob(".dossier-cache/templates-*"))
