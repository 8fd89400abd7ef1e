"""The ground every stage stands on: what no stage owns but all of them use.

Owns: diagnostics (what is wrong, where, what was meant), the one URL resolver (urls), the
YAML tree with line and column of every value (yamltree), the recording of what a page
reads of the model (deps), the build's options (options) and its timings (timing).

May import: nothing of dossier. Imported by: every other package.
"""
