"""Tools for editors: new records and sites, spreadsheet import, editors' JSON Schemas.

Owns: `dossier new` and `dossier init` (stubs), `dossier import` (spreadsheet), the JSON
Schemas and settings for editors' YAML tools (editor).

May import: every package below it (build and down). Not preview. Imported by: cli.
"""

SCHEMA_DIR = ".schemas"  # default place of the editor schemas, relative to the site
