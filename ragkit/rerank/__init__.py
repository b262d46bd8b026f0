"""Rerankers: ``cross_encoder``, ``late_interaction`` (see ``ragkit.registry.RERANKERS``)."""

from ragkit.rerank.base import Reranker

__all__ = ["Reranker"]
