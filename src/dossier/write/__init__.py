"""Writing: the output folder, assembled beside it or brought up to date in its
standby tree, and swapped in whole.

Owns: writers that keep a file's previous copy when its bytes did not change, the output
folder with its lock, standby tree and atomic swap, the preview's folder written in place,
and the output of `dossier check`, which writes nothing (output).

May import: core. It sits low so that the render workers and the open data can write
through it; it knows nothing of pages. Imported by: render and everything above it.
"""
