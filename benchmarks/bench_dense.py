"""Dense exact search: ragkit's batched torch top-k against LanceDB's per-query exact search, and nDCG@10.

Usage::

    python benchmarks/bench_dense.py PATH_TO_BEIR_FOLDER [--k 10] [--model default] [--device auto]
                                     [--uri DIR] [--repeats 5]

PATH_TO_BEIR_FOLDER holds ``corpus.jsonl.gz`` (or ``corpus.jsonl``), ``queries.jsonl`` and
``qrels/test.tsv`` (e.g. SciFact). Each document becomes one chunk whose text is
``title + " " + text``. Indexing embeds every chunk once (a few minutes on 2 CPU cores
for SciFact's ~5k documents); the embeddings are cached under ``RAGKIT_CACHE_DIR`` and
the LanceDB table is reused, so later runs start in seconds.

Both searches run in this process over the same LanceDB table and all test queries.
Query embedding is excluded from both: the queries are embedded once up front (timed
and printed separately) and the same vectors go to ``DenseRetriever.search_vectors``
(one batched call, repeated ``--repeats`` times, median taken) and to
``table.search(vec).distance_type("dot").limit(k).to_list()`` per query (no vector
index, so LanceDB brute-forces every row; median of ``--repeats`` passes). The two
rankings are compared query by query. Quality is nDCG@10 on the test qrels via
pytrec_eval (published all-MiniLM-L6-v2 SciFact nDCG@10: 0.645).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from beir_chunks import load_beir_chunks

from ragkit.retrieval.dense import DenseRetriever

PUBLISHED_NDCG10 = {"scifact": 0.645}


def time_ragkit(r: DenseRetriever, qids: list[str], qvecs: np.ndarray, k: int, repeats: int):
    r.search_vectors(qids[:1], qvecs[:1], k)  # warm-up
    times, run = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        run = r.search_vectors(qids, qvecs, k)
        times.append(time.perf_counter() - t0)
    return run, statistics.median(times)


def time_lancedb(table, qids: list[str], qvecs: np.ndarray, k: int, repeats: int):
    table.search(qvecs[0]).distance_type("dot").limit(k).to_list()  # warm-up
    times, ranked = [], {}
    for _ in range(repeats):
        t0 = time.perf_counter()
        for qid, vec in zip(qids, qvecs):
            ranked[qid] = table.search(vec).distance_type("dot").limit(k).to_list()
        times.append(time.perf_counter() - t0)
    return ranked, statistics.median(times)


def ndcg10(run_dict: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]]) -> float:
    import pytrec_eval

    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"})
    per_query = evaluator.evaluate(run_dict)
    # queries with no retrieved documents still count (as 0), like BEIR's evaluation
    return sum(per_query.get(q, {}).get("ndcg_cut_10", 0.0) for q in qrels) / len(qrels)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--model", default="default")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--uri", default=None, help="LanceDB location (default: <RAGKIT_CACHE_DIR>/lancedb)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    if not (args.folder / "qrels" / "test.tsv").exists():
        print(f"no BEIR dataset at {args.folder} (need corpus.jsonl[.gz], queries.jsonl, qrels/test.tsv)")
        return 2
    import torch

    chunks, queries, qrels = load_beir_chunks(args.folder, title_in_text=True)
    r = DenseRetriever(model=args.model, device=args.device, uri=args.uri)
    emb = r.embedder
    print(f"dataset {args.folder.name}: {len(chunks)} docs (one chunk each), {len(queries)} test queries")
    print(f"model {args.model} on {emb.device}, torch threads {torch.get_num_threads()}")

    calls0, t0 = emb.model_calls, time.perf_counter()
    r.index(chunks)
    how = "embedded + written" if emb.model_calls > calls0 else "reused LanceDB table / embedding cache"
    print(f"index: {time.perf_counter() - t0:.1f}s ({how}); table {r.table.name} at {r.table.uri}")

    qids = [q.id for q in queries]
    t0 = time.perf_counter()
    qvecs = r.encode_queries([q.text for q in queries])
    print(f"query embedding (excluded from both QPS below): {len(queries)} queries in {time.perf_counter() - t0:.2f}s")

    run, t_rk = time_ragkit(r, qids, qvecs, args.k, args.repeats)
    ranked, t_ld = time_lancedb(r.table.open(), qids, qvecs, args.k, max(1, args.repeats // 2))
    qps_rk, qps_ld = len(qids) / t_rk, len(qids) / t_ld
    print(
        f"ragkit batched exact top-{args.k}:  {qps_rk:10.0f} QPS  "
        f"({t_rk * 1e3:.1f} ms for all queries, median of {args.repeats})"
    )
    print(f"LanceDB per-query exact top-{args.k}: {qps_ld:10.0f} QPS  ({t_ld * 1e3:.1f} ms)")
    print(f"ratio ragkit / LanceDB: {qps_rk / qps_ld:.1f}x (target >= 10x)")

    same = sum([h.chunk_id for h in run[q]] == [row["chunk_id"] for row in ranked[q]] for q in qids)
    diff = max(
        abs(h.score - (1.0 - row["_distance"])) for q in qids for h, row in zip(run[q], ranked[q])
    )
    print(f"agreement: identical top-{args.k} lists for {same}/{len(qids)} queries; max |score diff| {diff:.2e}")

    score = ndcg10(run.doc_run().to_dict(), qrels)
    ref = PUBLISHED_NDCG10.get(args.folder.name.lower())
    ref_s = f" (published all-MiniLM-L6-v2: {ref:.3f})" if ref and args.model == "default" else ""
    print(f"nDCG@10: {score:.4f}{ref_s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
