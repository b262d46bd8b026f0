"""The reranker contract: ``rerank(queries, run, chunks, k) -> Run``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ragkit.data.types import Chunk, Query, Run
from ragkit.registry import Component


class Reranker(Component):
    """Re-scores the top ``depth`` hits of a first-stage run and returns the best ``k``.

    ``chunks`` maps chunk id -> Chunk (the reranker reads ``chunk.indexed_text``).
    Hits below ``depth`` are dropped; the returned scores are the reranker's own.
    """

    kind = "reranker"

    def rerank(self, queries: Sequence[Query], run: Run, chunks: Mapping[str, Chunk], k: int = 10) -> Run:
        raise NotImplementedError
