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

    def _params(self, spec: ComponentSpec) -> dict[str, Any]:
        params = dict(spec.params)
        if "device" in RETRIEVERS.get(spec.name).Config.model_fields and "device" not in params:
            params["device"] = self.device
        return params

    def run_key(self, chunker: ComponentSpec, name: str, params: dict[str, Any]) -> str:
        return config_hash(
            [self.corpus_key, chunker.key(), name, _with_model_signatures(params), self.queries_key, self.depth, self.where]
        )

    def run(self, docs, queries: Sequence[Query], chunker: ComponentSpec, spec: ComponentSpec) -> tuple[Run, dict[str, float]]:
        """The ranking of ``spec`` over ``chunker``'s chunks at the experiment depth, and its timings."""
        params = self._params(spec)
        key = self.run_key(chunker, spec.name, params)
        if key in self._runs:
            return self._runs[key]
        path = self.dir / "runs" / f"{key}.parquet"
        if self.reuse and path.is_file():
            import pandas as pd

            df = pd.read_parquet(path)
            timings = {"index_s": 0.0, "retrieve_s": 0.0, **_read_timings(path)}
            self._runs[key] = (Run.from_frame(df), timings)
            return self._runs[key]
        retriever = RETRIEVERS.create(spec.name, params)
        chunks = self.chunks(docs, chunker)
        if hasattr(retriever, "sub_specs") and hasattr(retriever, "fuse"):
            result = self._hybrid(docs, queries, chunker, retriever)
        else:
            t0 = time.perf_counter()
            retriever.index(chunks)
            t1 = time.perf_counter()
            run = retriever.retrieve(queries, self.depth, self.where)
            result = (run, {"index_s": t1 - t0, "retrieve_s": time.perf_counter() - t1})
            if getattr(retriever, "ann_active", False):  # an approximate index: say what the speed costs
                result[1]["ann_recall@10"] = float(retriever.ann_recall(queries, k=10))
        write_parquet(result[0].to_frame(), path)
        _write_timings(path, result[1])
        self._runs[key] = result
        return result

    def rerank(self, docs, queries: Sequence[Query], chunker: ComponentSpec, retriever: ComponentSpec, spec: ComponentSpec):
        """(first-stage run, reranked run, timings with ``rerank_s`` and per-query ``rerank_ms``)."""
        first, timings = self.run(docs, queries, chunker, retriever)
        params = dict(spec.params)
        if "device" in RERANKERS.get(spec.name).Config.model_fields and "device" not in params:
            params["device"] = self.device
        key = config_hash([self.run_key(chunker, retriever.name, self._params(retriever)), spec.name, _with_model_signatures(params)])
        path = self.dir / "reranked" / f"{key}.parquet"
        if self.reuse and path.is_file() and key not in self._runs:
            import pandas as pd

            self._runs[key] = (Run.from_frame(pd.read_parquet(path)), _read_timings(path))
        if key not in self._runs:
            reranker = RERANKERS.create(spec.name, params)
            chunks = {c.id: c for c in self.chunks(docs, chunker)}
            t = time.perf_counter()
            run = reranker.rerank(queries, first, chunks, self.depth)
            rt = {"rerank_s": time.perf_counter() - t}
            rt["rerank_ms"] = {q: 1000 * v for q, v in (getattr(reranker, "last_timings", None) or {}).items()}
            write_parquet(run.to_frame("rerank"), path)
            _write_timings(path, rt)
            self._runs[key] = (run, rt)
        run, rt = self._runs[key]
        return first, run, {**timings, **rt}

    def _hybrid(self, docs, queries, chunker, retriever) -> tuple[Run, dict[str, float]]:
        runs, index_s, retrieve_s = [], 0.0, 0.0
        for name, params in retriever.sub_specs():
            sub, timings = self.run(docs, queries, chunker, ComponentSpec(name, dict(params), name))
            runs.append(sub)
            index_s += timings["index_s"]
            retrieve_s += timings["retrieve_s"]
        t = time.perf_counter()
        fused = retriever.fuse(runs, self.depth)
        return fused, {"index_s": index_s, "retrieve_s": retrieve_s + time.perf_counter() - t}


def _write_timings(path: Path, timings: dict[str, float]) -> None:
    from ragkit.experiment.store import write_json

    write_json(timings, path.with_suffix(".json"))


def _read_timings(path: Path) -> dict[str, float]:
    import json

    p = path.with_suffix(".json")
    return json.loads(p.read_text()) if p.is_file() else {}
