"""Template errors as diagnostics: the template file and line as Jinja knows them, the page,
and a helper's own message (issue 18)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest

from dossier.core.diagnostics import Diagnostic
from dossier.render.assets import THEME
from dossier.render.templating import make_environment, template_problem


def rendered_problem(env: jinja2.Environment, name: str, names: dict[Any, str] | None = None,
                     **context: Any) -> Diagnostic | None:
    """The diagnostic of rendering template `name` as the page 'x/' (it must fail)."""
    with pytest.raises(Exception) as caught:
        env.get_template(name).render(**context)
    assert isinstance(caught.value, Exception)
    return template_problem(caught.value, "x/", names or {})


@pytest.fixture
def site_templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    (folder / "partials").mkdir(parents=True)
    return folder


def test_an_undefined_value_names_the_site_template_and_line(site_templates: Path) -> None:
    (site_templates / "page.html").write_text("<p>\n{% include 'partials/part.html' %}\n</p>\n")
    (site_templates / "partials" / "part.html").write_text("one\ntwo {{ nothing.here }}\n")
    problem = rendered_problem(make_environment(site_templates), "page.html")
    assert str(problem) == ("templates/partials/part.html:2:1: error: template error while "
                            "rendering 'x/': 'nothing' is undefined")


def test_a_helper_is_named_as_templates_call_it_with_its_message(site_templates: Path) -> None:
    def format_date(value: str) -> str:
        raise ValueError(f"'{value}' is not a date")

    (site_templates / "page.html").write_text("<p>\n\n{{ date('2012-13') }}</p>\n")
    env = make_environment(site_templates)
    env.globals["date"] = format_date
    problem = rendered_problem(env, "page.html", {format_date.__code__: "date"})
    assert str(problem) == ("templates/page.html:3:1: error: template error while rendering "
                            "'x/': date() raised ValueError: '2012-13' is not a date")


def test_a_stop_iteration_in_a_helper_is_an_error_where_it_is_called(
    site_templates: Path
) -> None:
    def first_match() -> str:
        return next(iter(()))

    (site_templates / "page.html").write_text("{% set found = first_match() %}\n{{ found }}\n")
    env = make_environment(site_templates)
    env.globals["first_match"] = first_match
    problem = rendered_problem(env, "page.html")
    assert str(problem) == ("templates/page.html:1:1: error: template error while rendering "
                            "'x/': first_match() raised StopIteration")


def test_an_error_in_a_theme_template_names_the_theme_file() -> None:
    def card(record: object) -> str:
        raise LookupError("no card")

    env = make_environment(None)
    env.globals.update(card=card, t=lambda key: key)
    problem = rendered_problem(env, "partials/cards.html", records=[object()])
    assert problem is not None
    assert (problem.path, problem.line) == (str(THEME / "templates/partials/cards.html"), 4)
    assert problem.message.endswith("card() raised LookupError: no card")


def test_a_syntax_error_names_its_template_and_line(site_templates: Path) -> None:
    (site_templates / "page.html").write_text("<p>\n{% if %}\n</p>\n")
    problem = rendered_problem(make_environment(site_templates), "page.html")
    assert problem is not None
    assert (problem.path, problem.line) == ("templates/page.html", 2)


def test_an_error_outside_any_template_is_not_called_a_template_error() -> None:
    try:
        raise ValueError("a bug of dossier's own")
    except ValueError as exc:
        assert template_problem(exc, "x/", {}) is None
