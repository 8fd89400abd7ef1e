"""dossier: a static-site generator for practice-project dossiers."""

__version__ = "0.1.0"
