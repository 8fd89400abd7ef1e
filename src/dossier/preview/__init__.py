"""The preview: `dossier serve`, a site kept in memory and rebuilt on every save.

Owns: the local server with reload and error pages (server) and the in-memory session that
runs the pipeline for each save (session).

May import: every package below it (build and down). Not authoring. Imported by: cli.
"""
