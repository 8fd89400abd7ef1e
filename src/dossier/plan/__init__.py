"""The plan: which pages a site has, computed from the model (pure).

Owns: pages and their pagination, the record templates, URL collisions (pages).

May import: core, content, model. Imported by: write and everything above it.
"""
