"""Jinja for the theme and a site's own templates, and what goes wrong in them as
diagnostics that name the template file and line.

Jinja rewrites the traceback of an error raised while a template renders so that frames
of template code carry the template's file name and line (jinja2/debug.py); the innermost
of them is where the template went wrong. An exception raised by a helper the template
called (a Python function) keeps its own message, with the helper's name.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import CodeType, TracebackType
from typing import Any

import jinja2
import jinja2.runtime
from markupsafe import Markup

from dossier.core.diagnostics import Diagnostic
from dossier.render.assets import THEME
from dossier.render.compiled import CompiledTemplates
from dossier.render.parts import Origin, Part, finalize, mark_safe

# What Jinja's Context.call makes of a StopIteration raised by a function it calls: an
# empty value, whose error then names neither the function nor its template line.
_STOPPED = "value was undefined because a callable raised a StopIteration exception"


class HelperError(jinja2.TemplateRuntimeError):
    """A function a template called raised StopIteration (Jinja would hide it)."""


class _Context(jinja2.runtime.Context):
    """Jinja's context, except that a StopIteration in a called function is an error
    naming the function, where the call is, not an empty value found later."""

    @jinja2.utils.internalcode  # left out of the traceback, as Jinja's own call is
    def call(self, obj: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        result = super().call(obj, *args, **kwargs)
        if isinstance(result, jinja2.Undefined) and result._undefined_hint == _STOPPED:
            raise HelperError(f"{_name_of(obj)}() raised StopIteration")
        return result


def _name_of(obj: Any) -> str:
    return str(getattr(obj, "__name__", "") or type(obj).__name__)


# Templates compiled in this process, by Jinja's key (for `dossier serve`, which builds
# again and again); an entry is used only for the same source, which Jinja checks.
_COMPILED: dict[str, bytes] = {}


def make_environment(site_templates: Path | None,
                     cache_folder: Path | None = None) -> jinja2.Environment:
    """Jinja with autoescape and StrictUndefined; the site's templates override the theme's.
    Compiled templates are kept in this process, and with a `cache_folder` (the build
    cache's) also for the next one (compiled.py)."""
    loaders: list[jinja2.BaseLoader] = []
    if site_templates is not None and site_templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(site_templates))
    loaders.append(jinja2.FileSystemLoader(THEME / "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
        auto_reload=False,  # templates do not change during a build: no stat per include
        finalize=finalize,  # parts are put into pages after the shell is checked
    )
    env.bytecode_cache = CompiledTemplates(_COMPILED, env, cache_folder)
    env.context_class = _Context
    env.filters["nest"] = nest
    env.filters["safe"] = mark_safe
    return env


def template_path(filename: str | None, name: str | None) -> str:
    """A template as a diagnostic names it: relative to the site if it is the site's."""
    if filename and "/templates/" in filename and not filename.startswith(str(THEME)):
        return "templates/" + filename.rsplit("/templates/", 1)[1]
    return filename or f"templates/{name}"


def template_origin() -> Origin | None:
    """The template file and line of the innermost template code running now."""
    frame = sys._getframe(1)
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:
            line = template.get_corresponding_lineno(frame.f_lineno)
            return Origin(template_path(template.filename, template.name), line, 1)
        frame = frame.f_back  # type: ignore[assignment]
    return None


def template_problem(exc: Exception, page_url: str,
                     helpers: Mapping[CodeType, str]) -> Diagnostic | None:
    """An error raised while a page rendered, as a diagnostic at the template line it came
    from; None if no template was running (a bug of dossier's own, not of a template).

    `helpers` names the functions templates know by another name (`date` for
    Renderer.format_date), so that a helper's error says what the template called.
    """
    where, line, called = _innermost(exc.__traceback__)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where, line = template_path(exc.filename, exc.name), exc.lineno
    elif where is None and isinstance(exc, jinja2.TemplateNotFound):
        where, line = template_path(None, str(exc.name)), 1
    if where is None:
        return None
    if isinstance(exc, jinja2.TemplateError):
        message = exc.message or type(exc).__name__
    else:
        name = next((helpers[c] for c in called if c in helpers), None) or next(
            (c.co_name for c in called if c.co_name not in _ANONYMOUS), "a helper")
        said = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], str) \
            else str(exc)
        message = f"{name}() raised {type(exc).__name__}" + (f": {said}" if said else "")
    return Diagnostic(where, line, 1, "error", "",
                      f"template error while rendering '{page_url or '/'}': {message}")


def _innermost(tb: TracebackType | None) -> tuple[str | None, int, list[CodeType]]:
    """The innermost template frame of a traceback (its file and line) and the code of
    the functions called from it, outermost first, if the error came from one."""
    where: str | None = None
    line, called = 1, list[CodeType]()
    while tb is not None:
        frame = tb.tb_frame
        if "__jinja_exception__" in frame.f_globals:  # template code, as Jinja rewrote it
            where = template_path(frame.f_globals.get("__file__"), None)
            line, called = tb.tb_lineno, []
        elif where is not None:
            called.append(frame.f_code)
        tb = tb.tb_next
    return where, line, called


_ANONYMOUS = ("<lambda>", "<genexpr>", "<listcomp>", "<dictcomp>", "<setcomp>")


_ID_OR_ANCHOR_RE = re.compile(r'(?<=\s)(id="|href="#)([^"]*)"')
_HEADING_RE = re.compile(r"<(/?)h([2-5])\b")


def nest(html: str, prefix: str, levels: int = 1) -> Markup:
    """Body HTML placed inside a page with other bodies: ids and #anchors get `prefix`, and
    headings move down `levels` (h2 → h3), so several records can share one page."""
    meta = getattr(html, "meta", None)
    html = _ID_OR_ANCHOR_RE.sub(lambda m: f'{m[1]}{prefix}{m[2]}"', str.__str__(html))
    if levels:
        html = _HEADING_RE.sub(lambda m: f"<{m[1]}h{min(6, int(m[2]) + levels)}", html)
    if meta is None:
        return Markup(html)
    return Part.made(html, meta.nested(prefix))
