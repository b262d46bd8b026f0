"""The retriever contract: ``index(chunks)`` once, then ``retrieve(queries, k, where) -> Run``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ragkit.data.types import Chunk, Query, Run
from ragkit.registry import Component


class Retriever(Component):
    """Ranks indexed chunks for queries.

    ``where`` is a metadata filter (see :mod:`ragkit.retrieval.filters`) applied
    *before* top-k: only chunks that match it can be returned, and every retriever
    sees the same candidate set for the same filter.
    """

    kind = "retriever"

    def index(self, chunks: Sequence[Chunk]) -> None:
        raise NotImplementedError

    def retrieve(self, queries: Sequence[Query], k: int = 10, where: Mapping[str, Any] | None = None) -> Run:
        raise NotImplementedError
