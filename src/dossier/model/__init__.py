"""The model: records linked into one Site, with everything a page needs to know.

Owns: the linked site (references resolved, derived sides, facets, related records:
site), which files records refer to and where they go (media), which files may be
published (filekinds) and the planning of image variants (images).

May import: core, content. Imported by: plan and everything above it.
"""
