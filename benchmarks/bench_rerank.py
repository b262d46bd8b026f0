"""Throughput of ragkit's rerankers vs direct sentence-transformers calls on the same pairs, in one run.

    python benchmarks/bench_rerank.py [--pairs 1000] [--depth 20] [--repeats 2] [--device auto]

Pairs: the Acme questions (datasets/acme/questions.jsonl) x the chunks (chars chunker,
defaults) of the shipped Acme corpus, each of the first N/depth questions gets
``depth`` consecutive chunks (cycling through the corpus) as its first-stage candidates.

- cross_encoder: ``CrossEncoderReranker.rerank`` vs ``CrossEncoder.predict`` (same batch size).
  The cross-encoder is the bundled MiniLM with a freshly initialised, seeded one-logit head
  saved to a temp dir (no trained cross-encoder ships offline): speed is representative,
  scores are not.
- late_interaction: ``LateInteractionReranker.rerank`` with an empty token cache vs
  ``SentenceTransformer.encode(output_value="token_embeddings")`` of the queries and the
  distinct chunks plus a per-pair MaxSim loop; "warm" = ragkit again with chunks cached.

Target: ratio (ragkit / direct throughput) >= 0.95.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from timing import best_of

ROOT = Path(__file__).resolve().parents[1]


def _pairs(n: int, depth: int):
    from ragkit.data.folder import load_folder
    from ragkit.data.jsonl import load_queries_jsonl
    from ragkit.data.types import Hit, Run
    from ragkit.registry import CHUNKERS

    chunker = CHUNKERS.create("chars", {})
    chunks = [c for d in load_folder(ROOT / "datasets" / "acme" / "docs") for c in chunker.chunk(d)]
    queries = load_queries_jsonl(ROOT / "datasets" / "acme" / "questions.jsonl")
    per_q = max(1, min(depth, n))
    queries = queries[: max(1, n // per_q)]
    hits, start = {}, 0
    for q in queries:
        take = [chunks[(start + j) % len(chunks)] for j in range(per_q)]
        start += per_q
        hits[q.id] = [Hit(c.id, c.doc_id, float(-j)) for j, c in enumerate(take)]
    run = Run(hits)
    by_id = {c.id: c for c in chunks}
    text = {q.id: q.text for q in queries}
    pairs = [(text[qid], by_id[h.chunk_id].indexed_text) for qid, hs in run.items() for h in hs]
    return queries, run, by_id, pairs, per_q




def bench_cross_encoder(queries, run, by_id, pairs, depth, device, repeats) -> None:
    import torch
    from sentence_transformers import CrossEncoder

    from ragkit.core.cross_encoders import get_cross_encoder
    from ragkit.core.models import resolve_model_path
    from ragkit.registry import RERANKERS

    torch.manual_seed(0)
    path = tempfile.mkdtemp(prefix="ragkit-bench-ce-")
    CrossEncoder(resolve_model_path("default"), num_labels=1, device="cpu").save(path)
    reranker = RERANKERS.create("cross_encoder", {"model": path, "depth": depth, "device": device, "batch_size": 32})
    ce = get_cross_encoder(path, device)
    ident = torch.nn.Identity()
    ce.predict(pairs[:64], batch_size=32, activation_fn=ident)  # warm-up

    def direct():
        with torch.inference_mode():
            ce.predict(pairs, batch_size=32, activation_fn=ident, show_progress_bar=False)

    d, r = best_of([direct, lambda: reranker.rerank(queries, run, by_id, k=depth)], repeats)
    n = len(pairs)
    print(f"cross_encoder (locally initialised MiniLM + random 1-logit head, {ce.device}, batch 32)")
    print(f"  CrossEncoder.predict           : {n / d:9.1f} pairs/s")
    print(f"  CrossEncoderReranker.rerank    : {n / r:9.1f} pairs/s   ratio {d / r:.3f} (target >= 0.95)")


def _direct_late_interaction(model, queries, run, by_id, bs) -> None:
    import torch

    qtok = model.encode([q.text for q in queries], output_value="token_embeddings", batch_size=bs)
    texts = sorted({by_id[h.chunk_id].indexed_text for hs in run.values() for h in hs})
    dtok = dict(zip(texts, model.encode(texts, output_value="token_embeddings", batch_size=bs)))
    with torch.inference_mode():
        for q, t in zip(queries, qtok):
            qn = torch.nn.functional.normalize(t.float(), dim=-1)
            for h in run[q.id]:
                dn = torch.nn.functional.normalize(dtok[by_id[h.chunk_id].indexed_text].float(), dim=-1)
                float((qn @ dn.T).max(dim=1).values.sum())


def bench_late_interaction(queries, run, by_id, pairs, depth, device, repeats) -> None:
    import ragkit.rerank.late_interaction as li
    from ragkit.core.runtime import default_batch_size
    from ragkit.registry import RERANKERS

    reranker = RERANKERS.create("late_interaction", {"depth": depth, "device": device})
    emb = reranker.embedder
    bs = default_batch_size(emb.device)
    emb.model.encode([p[1] for p in pairs[:64]], output_value="token_embeddings", batch_size=bs)  # warm-up

    def cold():
        li._TOKEN_CACHE.clear()
        reranker.rerank(queries, run, by_id, k=depth)

    direct = lambda: _direct_late_interaction(emb.model, queries, run, by_id, bs)  # noqa: E731
    d, c, w = best_of([direct, cold, lambda: reranker.rerank(queries, run, by_id, k=depth)], repeats)
    n = len(pairs)
    n_chunks = len({p[1] for p in pairs})
    print(f"late_interaction (shared bundled MiniLM, {emb.device}, batch {bs}, {n_chunks} distinct chunks)")
    print(f"  ST token_embeddings + MaxSim   : {n / d:9.1f} pairs/s")
    print(f"  LateInteractionReranker, cold  : {n / c:9.1f} pairs/s   ratio {d / c:.3f} (target >= 0.95)")
    print(f"  LateInteractionReranker, warm  : {n / w:9.1f} pairs/s   ratio {d / w:.1f}x (chunks cached)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--depth", type=int, default=20, help="candidates per query")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--only", choices=["cross_encoder", "late_interaction"], default=None)
    args = ap.parse_args()
    os.environ["RAGKIT_DISABLE_TQDM"] = "1"
    os.environ.setdefault("RAGKIT_CACHE_DIR", tempfile.mkdtemp(prefix="ragkit-bench-"))

    queries, run, by_id, pairs, per_q = _pairs(args.pairs, args.depth)
    mean_chars = sum(len(p[1]) for p in pairs) / len(pairs)
    print(f"pairs={len(pairs)} queries={len(queries)} depth={per_q} mean_chunk_chars={mean_chars:.0f} repeats={args.repeats} (best of)")
    if args.only in (None, "cross_encoder"):
        bench_cross_encoder(queries, run, by_id, pairs, per_q, args.device, args.repeats)
    if args.only in (None, "late_interaction"):
        bench_late_interaction(queries, run, by_id, pairs, per_q, args.device, args.repeats)


if __name__ == "__main__":
    main()
