"""The files besides pages: open data, discovery files, published media, the web editor,
and the plan of every output file.

Owns: every output file and how to make it (files), open data as JSON, JSON Lines, CSV
and a Data Package (opendata), sitemap, robots.txt and the Atom feed (feeds), and the
publishing of the files records refer to (publish), the web editor under admin/ made
from the schema, with the editor's vendored bundle in cms/ (admin).

May import: core, content, model, plan, render, write. Not search: the two are made side
by side. Imported by: incremental, build and above.
"""
