"""What a build remembers, and what changed since.

Owns: the build cache in the site's `.dossier-cache/` (cache), the state an output folder's
last build left (state), the comparison that tells which outputs read something that
changed (changes), and the one object the pipeline asks about all of it (memory). Nothing
below this package knows SQLite or the cache's row formats.

May import: every package below build. Imported by: build, preview, authoring, cli.
"""
