"""Chunkers: ``chars``, ``tokens``, ``sentences``, ``markdown`` (see ``ragkit.registry.CHUNKERS``)."""

from ragkit.chunking.base import Chunker, count_overlong

__all__ = ["Chunker", "count_overlong"]
