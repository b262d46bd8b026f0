"""Cross-encoder reranking: score each (query, chunk) pair jointly with one transformer.

The top ``depth`` hits of the first-stage run are rescored for all queries in a
single batched ``CrossEncoder.predict`` call (sentence-transformers sorts the pairs by
length into batches and restores the order) under ``torch.inference_mode()``. The
model comes from :func:`ragkit.core.cross_encoders.get_cross_encoder`, so it is
loaded once per process whatever the number of rerankers or grid cells using it.

Scores are the model's raw logits (``activation="none"``) or their sigmoid
(``activation="sigmoid"``), which lies in (0, 1) and is comparable across queries
(useful for monitoring rerank scores without labels).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from ragkit.data.types import Chunk, Query, Run
from ragkit.errors import ConfigError
from ragkit.registry import RERANKERS, ComponentConfig
from ragkit.rerank.base import Reranker, apportion, build_run, check_k, collect_candidates

log = logging.getLogger(__name__)


@RERANKERS.register("cross_encoder")
class CrossEncoderReranker(Reranker):
    """Rescore the top ``depth`` first-stage hits with a cross-encoder.

    ``last_timings`` maps query id -> seconds of the last ``rerank`` call: the
    wall time of the single batched predict, apportioned to queries by their number
    of (query, chunk) pairs (batches mix queries, so exact per-query times do not exist).

    Example:
        >>> r = CrossEncoderReranker(model="cross-encoder/ms-marco-MiniLM-L6-v2", depth=50)  # doctest: +SKIP
        >>> reranked = r.rerank(queries, first_stage_run, chunks_by_id, k=10)  # doctest: +SKIP
    """

    class Config(ComponentConfig):
        model: str
        depth: int = Field(default=100, ge=1)
        batch_size: int = Field(default=32, ge=1)
        device: str = "auto"
        activation: Literal["none", "sigmoid"] = "none"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._model = None
        self.last_timings: dict[str, float] = {}

    @property
    def model(self):
        """The shared CrossEncoder (loaded on first use)."""
        if self._model is None:
            from ragkit.core.cross_encoders import get_cross_encoder

            self._model = get_cross_encoder(self.config.model, self.config.device)
            n_labels = getattr(self._model, "num_labels", 1)
            if n_labels != 1:
                raise ConfigError(
                    f"cross_encoder: model '{self.config.model}' has {n_labels} output labels; "
                    "reranking needs a single relevance score (num_labels=1), e.g. a cross-encoder/ms-marco-* model"
                )
        return self._model

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Scores of (query, passage) pairs as float32, with this reranker's activation."""
        import torch

        from ragkit.core.runtime import show_progress

        if not pairs:
            return np.empty(0, dtype=np.float32)
        act = torch.nn.Sigmoid() if self.config.activation == "sigmoid" else torch.nn.Identity()
        with torch.inference_mode():
            scores = self.model.predict(
                list(pairs),
                batch_size=self.config.batch_size,
                activation_fn=act,
                show_progress_bar=show_progress() and len(pairs) > 1024,
                convert_to_numpy=True,
            )
        return np.asarray(scores, dtype=np.float32).reshape(len(pairs))

    def rerank(self, queries: Sequence[Query], run: Run, chunks: Mapping[str, Chunk], k: int = 10) -> Run:
        """The top ``k`` of each query's first ``depth`` hits, by cross-encoder score."""
        check_k(k)
        cands = collect_candidates(queries, run, chunks, self.config.depth)
        text = {q.id: q.text for q in queries}
        pairs = [(text[qid], c.indexed_text) for qid, cs in cands.items() for c in cs]
        t0 = time.perf_counter()
        scores = self.score_pairs(pairs)
        self.last_timings = apportion(time.perf_counter() - t0, {q: len(cs) for q, cs in cands.items()})
        return build_run(cands, scores, k)
