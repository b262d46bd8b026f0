"""Cached stages of a cell: chunks per (corpus, chunker), rankings per (chunks, retriever, queries).

Rankings are cached on disk under ``<cache>/stages/runs/<key>.parquet`` and in
memory, so ten cells that share a BM25 stage retrieve once, a hybrid reuses its
sub-retrievers' rankings, and a re-run of an unchanged experiment skips retrieval.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragkit.data.types import Chunk, Document, Query, Run
from ragkit.experiment.grid import ComponentSpec
from ragkit.experiment.store import write_parquet
from ragkit.registry import CHUNKERS, RERANKERS, RETRIEVERS, config_hash

log = logging.getLogger(__name__)


def _with_model_signatures(params: Any) -> Any:
    """Params with every ``model: NAME`` replaced by the model's signature (cache keys follow weights)."""
    from ragkit.core.models import model_signature

    if isinstance(params, dict):
        return {k: (model_signature(v) if k == "model" and isinstance(v, str) else _with_model_signatures(v)) for k, v in params.items()}
    if isinstance(params, list):
        return [_with_model_signatures(v) for v in params]
    return params


class Stages:
    """Stage outputs for one experiment, memoised in memory and (rankings) on disk."""

    def __init__(
        self, cache_dir: Path, corpus_key: str, queries_key: str, depth: int, where: dict | None, device: str, reuse: bool = True
    ):
        self.dir = cache_dir / "stages"
        self.reuse = reuse  # False: recompute (and overwrite) rankings found on disk
        self.corpus_key, self.queries_key = corpus_key, queries_key
        self.depth, self.where, self.device = depth, where, device
        self._chunks: dict[str, list[Chunk]] = {}
        self._runs: dict[str, tuple[Run, dict[str, float]]] = {}

    def chunks(self, docs: Sequence[Document], spec: ComponentSpec) -> list[Chunk]:
        key = spec.key()
        if key not in self._chunks:
            t = time.perf_counter()
            self._chunks[key] = CHUNKERS.create(spec.name, spec.params).chunk_all(docs)
            log.info("%s: %d chunks in %.2fs", spec.label, len(self._chunks[key]), time.perf_counter() - t)
        return self._chunks[key]

    def _params(self, registry, spec: ComponentSpec) -> dict[str, Any]:
        """The spec's params, with the experiment's device where the component takes one."""
        params = dict(spec.params)
        if "device" in registry.get(spec.name).Config.model_fields and "device" not in params:
            params["device"] = self.device
        return params

    def run_key(self, chunker: ComponentSpec, name: str, params: dict[str, Any]) -> str:
        return config_hash(
            [self.corpus_key, chunker.key(), name, _with_model_signatures(params), self.queries_key, self.depth, self.where]
        )

    def _cached(self, key: str, path: Path, stage: str, compute, defaults: dict[str, Any]) -> tuple[Run, dict[str, Any]]:
        """Memo, then disk (unless ``reuse`` is off), then ``compute()`` whose result is written to disk."""
        if key in self._runs:
            return self._runs[key]
        if self.reuse and path.is_file():
            import pandas as pd

            self._runs[key] = (Run.from_frame(pd.read_parquet(path)), {**defaults, **_read_timings(path)})
            return self._runs[key]
        run, timings = compute()
        write_parquet(run.to_frame(stage), path)
        _write_timings(path, timings)
        self._runs[key] = (run, timings)
        return run, timings

    def run(self, docs, queries: Sequence[Query], chunker: ComponentSpec, spec: ComponentSpec) -> tuple[Run, dict[str, float]]:
        """The ranking of ``spec`` over ``chunker``'s chunks at the experiment depth, and its timings."""
        params = self._params(RETRIEVERS, spec)
        key = self.run_key(chunker, spec.name, params)

        def compute():
            retriever = RETRIEVERS.create(spec.name, params)
            if hasattr(retriever, "sub_specs") and hasattr(retriever, "fuse"):
                return self._hybrid(docs, queries, chunker, retriever)
            chunks = self.chunks(docs, chunker)
            t0 = time.perf_counter()
            retriever.index(chunks)
            t1 = time.perf_counter()
            run = retriever.retrieve(queries, self.depth, self.where)
            timings = {"index_s": t1 - t0, "retrieve_s": time.perf_counter() - t1}
            if getattr(retriever, "ann_active", False):  # an approximate index: say what the speed costs
                timings["ann_recall@10"] = float(retriever.ann_recall(queries, k=10))
            return run, timings

        return self._cached(key, self.dir / "runs" / f"{key}.parquet", "retrieve", compute, {"index_s": 0.0, "retrieve_s": 0.0})

    def rerank(self, docs, queries: Sequence[Query], chunker: ComponentSpec, retriever: ComponentSpec, spec: ComponentSpec):
        """(first-stage run, reranked run, timings with ``rerank_s`` and per-query ``rerank_ms``)."""
        first, timings = self.run(docs, queries, chunker, retriever)
        params = self._params(RERANKERS, spec)
        first_key = self.run_key(chunker, retriever.name, self._params(RETRIEVERS, retriever))
        key = config_hash([first_key, spec.name, _with_model_signatures(params)])

        def compute():
            reranker = RERANKERS.create(spec.name, params)
            chunks = {c.id: c for c in self.chunks(docs, chunker)}
            t = time.perf_counter()
            run = reranker.rerank(queries, first, chunks, self.depth)
            per_query = getattr(reranker, "last_timings", None) or {}
            return run, {"rerank_s": time.perf_counter() - t, "rerank_ms": {q: 1000 * v for q, v in per_query.items()}}

        run, rt = self._cached(key, self.dir / "reranked" / f"{key}.parquet", "rerank", compute, {})
        return first, run, {**timings, **rt}

    def _hybrid(self, docs, queries, chunker, retriever) -> tuple[Run, dict[str, float]]:
        runs, index_s, retrieve_s, recalls = [], 0.0, 0.0, []
        for name, params in retriever.sub_specs():
            sub, timings = self.run(docs, queries, chunker, ComponentSpec(name, dict(params), name))
            runs.append(sub)
            index_s += timings["index_s"]
            retrieve_s += timings["retrieve_s"]
            recalls += [timings["ann_recall@10"]] if "ann_recall@10" in timings else []
        t = time.perf_counter()
        fused = retriever.fuse(runs, self.depth)
        out = {"index_s": index_s, "retrieve_s": retrieve_s + time.perf_counter() - t}
        if recalls:  # a member searched an ANN index: the fused ranking inherits its (worst) recall
            out["ann_recall@10"] = min(recalls)
        return fused, out


def _write_timings(path: Path, timings: dict[str, float]) -> None:
    from ragkit.experiment.store import write_json

    write_json(timings, path.with_suffix(".json"))


def _read_timings(path: Path) -> dict[str, float]:
    import json

    p = path.with_suffix(".json")
    return json.loads(p.read_text()) if p.is_file() else {}
