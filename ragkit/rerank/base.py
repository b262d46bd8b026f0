"""The reranker contract: ``rerank(queries, run, chunks, k) -> Run``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ragkit.data.types import Chunk, Hit, Query, Run
from ragkit.errors import ConfigError, DataValidationError
from ragkit.registry import Component


class Reranker(Component):
    """Re-scores the top ``depth`` hits of a first-stage run and returns the best ``k``.

    ``chunks`` maps chunk id -> Chunk (the reranker reads ``chunk.indexed_text``).
    Hits below ``depth`` are dropped; the returned scores are the reranker's own.
    """

    kind = "reranker"

    def rerank(self, queries: Sequence[Query], run: Run, chunks: Mapping[str, Chunk], k: int = 10) -> Run:
        raise NotImplementedError


def check_k(k: Any) -> None:
    """ConfigError unless ``k`` is an integer >= 0."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ConfigError(f"rerank: k must be an integer >= 0, got {k!r}")


def collect_candidates(
    queries: Sequence[Query], run: Run, chunks: Mapping[str, Chunk], depth: int
) -> dict[str, list[Chunk]]:
    """query id -> the chunks of its top ``depth`` first-stage hits (queries absent from ``run`` get none).

    Raises:
        DataValidationError: a hit names a chunk id that is not in ``chunks``.
    """
    out: dict[str, list[Chunk]] = {}
    for q in queries:
        cands = []
        for hit in run.get(q.id, ())[:depth]:
            chunk = chunks.get(hit.chunk_id)
            if chunk is None:
                raise DataValidationError(
                    f"rerank: query '{q.id}' has hit '{hit.chunk_id}', which is not in the chunks mapping "
                    f"({len(chunks)} chunks); pass chunks_by_id built from the same chunking as the run"
                )
            cands.append(chunk)
        out[q.id] = cands
    return out


def apportion(total_s: float, pairs_per_query: Mapping[str, int]) -> dict[str, float]:
    """Split ``total_s`` seconds across queries in proportion to their pair counts.

    >>> apportion(3.0, {"a": 2, "b": 1, "c": 0})
    {'a': 2.0, 'b': 1.0, 'c': 0.0}
    """
    n = sum(pairs_per_query.values())
    return {q: (total_s * c / n if n else 0.0) for q, c in pairs_per_query.items()}


def build_run(cands: Mapping[str, list[Chunk]], scores: np.ndarray, k: int) -> Run:
    """A Run from per-query candidates and their scores (flat, in candidate order), top ``k`` each."""
    out, i = {}, 0
    for qid, chunks in cands.items():
        out[qid] = [Hit(c.id, c.doc_id, float(s)) for c, s in zip(chunks, scores[i : i + len(chunks)])]
        i += len(chunks)
    return Run(out).cutoff(k)
