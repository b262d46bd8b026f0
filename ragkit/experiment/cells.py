"""One cell of the grid: chunk, retrieve (cached), evaluate, monitor -> per-query table + rankings."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ragkit.experiment.grid import Cell
from ragkit.experiment.inputs import Inputs
from ragkit.experiment.spec import ExperimentSpec
from ragkit.experiment.stages import Stages


def _ir_metrics(spec: ExperimentSpec, inputs: Inputs, run, chunks):
    import pandas as pd

    from ragkit.metrics.ir import evaluate_chunks, evaluate_docs

    frames = []
    if "doc" in spec.levels:
        frames.append(evaluate_docs(run, inputs.qrels, spec.metric_names()).add_prefix("doc:"))
    if "chunk" in spec.levels:
        frames.append(evaluate_chunks(run, inputs.qrels, chunks, spec.metric_names()).add_prefix("chunk:"))
    return pd.concat(frames, axis=1) if frames else pd.DataFrame()


def run_cell(cell: Cell, spec: ExperimentSpec, inputs: Inputs, stages: Stages, embedder: Callable):
    """(per_query DataFrame, rankings DataFrame) for one cell.

    ``retrieve_ms`` is the batched retrieval time divided by the number of queries
    (queries are retrieved together, so per-query latency is amortised).
    """
    import pandas as pd

    chunks = stages.chunks(inputs.docs, cell.chunker)
    if cell.reranker:
        first, run, timings = stages.rerank(inputs.docs, inputs.queries, cell.chunker, cell.retriever, cell.reranker)
    else:
        run, timings = stages.run(inputs.docs, inputs.queries, cell.chunker, cell.retriever)
    t = time.perf_counter()
    per_query = pd.DataFrame(index=pd.Index([q.id for q in inputs.queries], name="query_id"))
    if inputs.qrels:
        per_query = per_query.join(_ir_metrics(spec, inputs, run, chunks))
    eval_s = time.perf_counter() - t
    kmax = max(spec.k)
    texts = {c.id: c.indexed_text for c in chunks}
    monitor = _monitor(run, inputs, texts, embedder, kmax)
    per_query = per_query.join(monitor)
    if cell.reranker:
        from ragkit.metrics.monitoring import rerank_monitor

        per_query = per_query.join(rerank_monitor(first, run, inputs.queries, kmax))
        per_query["rerank_ms"] = [timings["rerank_ms"].get(q.id, np.nan) for q in inputs.queries]
    n = max(len(inputs.queries), 1)
    per_query["n_hits"] = [len(run.get(q.id, ())) for q in inputs.queries]
    per_query["retrieve_ms"] = 1000 * timings["retrieve_s"] / n
    per_query["index_s"] = timings["index_s"]
    per_query["eval_s"] = eval_s
    per_query["n_chunks"] = len(chunks)
    if "ann_recall@10" in timings:
        per_query["ann_recall@10"] = timings["ann_recall@10"]
    per_query = per_query.reset_index()
    per_query.insert(0, "config", cell.name)
    per_query.insert(1, "chunker", cell.chunker.label)
    per_query.insert(2, "retriever", cell.retriever.label)
    rankings = run.cutoff(kmax).to_frame("rerank" if cell.reranker else "retrieve")
    rankings.insert(0, "config", cell.name)
    return per_query, rankings


def _monitor(run, inputs: Inputs, texts, embedder: Callable, k: int):
    from ragkit.metrics.monitoring import cosine_monitor

    if not any(run.get(q.id) for q in inputs.queries):
        import pandas as pd

        cols = ["top1_cosine", f"mean_cosine@{k}", "top1_top2_margin"]
        return pd.DataFrame(np.nan, index=pd.Index([q.id for q in inputs.queries], name="query_id"), columns=cols)
    return cosine_monitor(run, inputs.queries, texts, embedder(), k)
