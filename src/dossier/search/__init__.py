"""Search: the entries of the index, and the Pagefind index in parts.

Owns: what the index holds per record (entries), running Pagefind with byte-identical
output (pagefind, cbor), the index in parts (index) and the entries of earlier builds
(store).

May import: core, content, model, plan, render, write. Not outputs. Imported by:
incremental, build and above.
"""
