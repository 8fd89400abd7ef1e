"""The preview: `dossier serve`, a site kept in memory and rebuilt on every save.

Owns: the local server with reload and error pages (server), the in-memory session that
runs the pipeline for each save (session), and the web editor's local backend: Decap's
proxy protocol (localbackend), the paths it may touch (contentpaths) and saves checked as
a build checks them, then written atomically (proposal).

May import: every package below it (build and down). Not authoring. Imported by: cli.
"""
