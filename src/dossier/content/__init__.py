"""Content: the site's files read into documents, and documents checked into records.

Owns: reading record files into documents with positions (documents), site.yml
(settings), the content model and reading schema.yml (schema, schemafile), roles (roles),
checking data against JSON Schema (validation), Markdown to safe HTML (markup), records
and their validation (records), dates from git (history), and the load and validate
stages' entry points (load).

May import: core. Imported by: model and everything above it.
"""
