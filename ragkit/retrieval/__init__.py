"""Retrievers: ``bm25``, ``dense``, ``hybrid`` (see ``ragkit.registry.RETRIEVERS``)."""

from ragkit.retrieval.base import Retriever

__all__ = ["Retriever"]
