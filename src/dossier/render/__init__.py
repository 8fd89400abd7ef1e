"""Rendering: one page of the plan into HTML, and the check of its links.

Owns: the renderer and its helpers for templates (renderer), Jinja and template errors
(templating), compiled templates kept for the next build (compiled), parts made once and
shared by pages (parts), JSON-LD (jsonld), images and documents in pages (pictures), the
link check (linkcheck), the worker processes that render and write pages (pool),
minification (minify), static files (assets), and converted Markdown kept between builds
(fragments).

May import: core, content, model, plan, write (the workers write each page as they make
it, through a writer handed to them). Imported by: outputs, search and above.
"""
