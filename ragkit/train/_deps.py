"""Optional training dependencies, imported lazily with a fix-it message."""

from __future__ import annotations

from ragkit.errors import MissingDependencyError


def require_datasets():
    """The Hugging Face ``datasets`` module (the sentence-transformers trainers need it)."""
    try:
        import datasets
    except ImportError:
        datasets = None
    # subtle: without the package, a folder named datasets/ on sys.path imports as an empty namespace package
    if datasets is None or not hasattr(datasets, "Dataset"):
        raise MissingDependencyError(
            "fine-tuning needs the Hugging Face 'datasets' package: pip install 'ragkit[train]' (or pip install datasets)"
        )
    return datasets
