"""BM25 speed and quality on a BEIR dataset: the fast engine against rank_bm25, and nDCG@10.

Usage::

    python benchmarks/bench_bm25.py PATH_TO_BEIR_FOLDER [--queries N] [--k1 1.5 --b 0.75]
                                    [--stem | --no-stem] [--stopwords | --no-stopwords] [--sweep]

PATH_TO_BEIR_FOLDER holds ``corpus.jsonl.gz`` (or ``corpus.jsonl``), ``queries.jsonl`` and
``qrels/test.tsv`` (e.g. SciFact, NFCorpus). Each document becomes one chunk: its text,
with the title appended through the retriever's ``fields=["title"]``.

Both engines are indexed and timed in the same process on the test queries. rank_bm25
scores one query at a time in Python, so it is timed on the first ``--queries`` test
queries only (default 100; 0 = all); the fast engine is timed on that same subset (for
the ratio) and on all test queries. Both runs are compared hit by hit. Quality
(nDCG@10, Recall@100, via pytrec_eval) is that of the fast engine on all test queries.
The library alone (``BM25Okapi.get_scores`` + argsort on pre-analyzed queries, its
best case) is timed on the same subset as a second baseline.
``--sweep`` also prints nDCG@10 for a grid of analyzer settings and k1/b.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from beir_chunks import load_beir_chunks

from ragkit.data.types import Query, Run
from ragkit.retrieval.bm25 import BM25Retriever


def evaluate(run: Run, qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """Mean nDCG@10 and Recall@100 over the qrels' queries (a query with no hits scores 0)."""
    import pytrec_eval

    run_dict = run.doc_run().to_dict()
    run_dict = {q: (run_dict.get(q) or {"__none__": 0.0}) for q in qrels}
    per_query = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(run_dict)
    return {
        "ndcg@10": statistics.fmean(m["ndcg_cut_10"] for m in per_query.values()),
        "recall@100": statistics.fmean(m["recall_100"] for m in per_query.values()),
    }


def timed(fn, repeat: int = 1):
    """(result of the last call, median seconds over ``repeat`` calls)."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def compare_runs(a: Run, b: Run) -> tuple[int, float]:
    """(queries whose hit ids differ, max |score difference| over shared hits)."""
    differ, worst = 0, 0.0
    for qid in a:
        ha, hb = a[qid], b[qid]
        differ += [h.chunk_id for h in ha] != [h.chunk_id for h in hb]
        sb = {h.chunk_id: h.score for h in hb}
        worst = max([worst, *(abs(h.score - sb[h.chunk_id]) for h in ha if h.chunk_id in sb)])
    return differ, worst


def bench_engines(chunks, queries, qrels, params: dict, n_subset: int) -> None:
    subset = queries[: n_subset or len(queries)]
    fast, t_fast_index = timed(lambda: _indexed(chunks, engine="fast", **params))
    ref, t_ref_index = timed(lambda: _indexed(chunks, engine="rank_bm25", **params))
    print(f"index build: fast {t_fast_index:.2f} s, rank_bm25 {t_ref_index:.2f} s  ({len(chunks)} chunks)")

    run_all, t_all = timed(lambda: fast.retrieve(queries, k=10), repeat=5)
    run_fast_sub, t_fast_sub = timed(lambda: fast.retrieve(subset, k=10), repeat=5)
    run_ref_sub, t_ref_sub = timed(lambda: ref.retrieve(subset, k=10))
    qps_all, qps_fast, qps_ref = len(queries) / t_all, len(subset) / t_fast_sub, len(subset) / t_ref_sub
    print(f"fast engine      : {qps_all:10.1f} QPS on all {len(queries)} test queries (median of 5, k=10)")
    print(f"fast engine      : {qps_fast:10.1f} QPS on the first {len(subset)} queries (median of 5)")
    extrapolated = len(queries) / qps_ref
    note = ""
    if len(subset) < len(queries):
        note = f"; all {len(queries)} would take ~{extrapolated:.1f} s (extrapolated)"
    print(f"rank_bm25 engine : {qps_ref:10.1f} QPS on the first {len(subset)} queries (one run{note})")
    qps_bare = bare_rank_bm25_qps(ref, subset)
    print(f"bare rank_bm25   : {qps_bare:10.1f} QPS (BM25Okapi.get_scores + argsort top-10 on pre-analyzed queries)")
    print(f"speed-up (same {len(subset)} queries): {qps_fast / qps_ref:.0f}x over the rank_bm25 engine, "
          f"{qps_fast / qps_bare:.0f}x over bare rank_bm25")
    differ, worst = compare_runs(run_fast_sub, run_ref_sub)
    print(f"agreement on those queries: {differ} with different top-10 ids, max |score diff| {worst:.2e}")

    full = fast.retrieve(queries, k=100)
    m = evaluate(full, qrels)
    print(f"fast engine quality: nDCG@10 {m['ndcg@10']:.4f}, Recall@100 {m['recall@100']:.4f}")


def bare_rank_bm25_qps(ref: BM25Retriever, queries: list[Query]) -> float:
    """QPS of the library alone: no analysis, no match mask, no Hit objects (its best case)."""
    import numpy as np

    bm25 = ref._engine._bm25  # the BM25Okapi the rank_bm25 engine wraps
    tokens = ref.analyzer.analyze_many(q.text for q in queries)
    t0 = time.perf_counter()
    for q in tokens:
        np.argsort(bm25.get_scores(q))[::-1][:10]
    return len(tokens) / (time.perf_counter() - t0)


def _indexed(chunks, **params) -> BM25Retriever:
    r = BM25Retriever(fields=["title"], **params)
    r.index(chunks)
    return r


def sweep(chunks, queries, qrels) -> None:
    print("\nsweep (fast engine): stem stopwords k1 b -> nDCG@10 Recall@100")
    for stem in (False, True):
        for stopwords in (False, True):
            for k1, b in ((1.5, 0.75), (1.2, 0.75), (0.9, 0.4)):
                r = _indexed(chunks, stem=stem, stopwords=stopwords, k1=k1, b=b)
                m = evaluate(r.retrieve(queries, k=100), qrels)
                print(f"  {stem!s:5} {stopwords!s:5} {k1:3} {b:4} -> {m['ndcg@10']:.4f} {m['recall@100']:.4f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path, help="BEIR dataset folder")
    ap.add_argument("--queries", type=int, default=100, help="test queries to time rank_bm25 on (0 = all)")
    ap.add_argument("--k1", type=float, default=1.5)
    ap.add_argument("--b", type=float, default=0.75)
    ap.add_argument("--stem", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--stopwords", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--sweep", action="store_true", help="also print nDCG@10 over a grid of settings")
    args = ap.parse_args(argv)
    if not (args.path / "queries.jsonl").exists():
        print(f"no BEIR dataset at {args.path} (expected queries.jsonl, corpus.jsonl.gz, qrels/test.tsv)")
        return 2
    chunks, queries, qrels = load_beir_chunks(args.path)
    params = {"k1": args.k1, "b": args.b, "stem": args.stem, "stopwords": args.stopwords}
    print(f"{args.path.name}: {len(chunks)} documents, {len(queries)} test queries; settings {params}")
    bench_engines(chunks, queries, qrels, params, args.queries)
    if args.sweep:
        sweep(chunks, queries, qrels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
