"""Cost of hard-negative mining against a plain retrieval of the same questions, in one run.

    python benchmarks/bench_mining.py /path/to/beir/scifact [--split train] [--retriever bm25] [--depth 50]

Corpus: one chunk per BEIR document; questions: the split's judged queries. Measured, each
best of ``--repeats`` (interleaved, so load spikes hit both alike):

- ``retrieve``: ``retriever.retrieve(questions, k=depth)`` on an indexed retriever;
- ``mine``: :func:`ragkit.train.mining.mine_hard_negatives` with the same, already indexed
  retriever (retrieval + positive choice + cosines of the candidates + the filters). Chunk
  embeddings come from the embedding cache after the warm-up, as in a real fine-tune
  (the dense index or an earlier run has embedded the corpus).

and the peak Python/numpy memory (tracemalloc) of mining with ``--batch-size`` questions per
batch vs all questions in one batch: batching keeps it bounded.

Targets: mine / retrieve <= 3 (mining is a thin layer over retrieval); peak memory
batched / unbatched < 1 on a corpus of thousands of chunks.
"""

from __future__ import annotations

import argparse
import tracemalloc

from timing import best_of


def _load(path: str, split: str):
    from ragkit.data.beir import load_beir
    from ragkit.registry import CHUNKERS

    docs, queries, qrels = load_beir(path, split)
    chunks = CHUNKERS.create("chars", {"size": 100000, "overlap": 0}).chunk_all(docs)
    return chunks, queries, qrels




def _peak(fn) -> int:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("beir", help="BEIR folder, e.g. /data/beir/scifact")
    ap.add_argument("--split", default="train")
    ap.add_argument("--retriever", default="bm25", choices=["bm25", "dense", "hybrid"])
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()

    import os

    os.environ.setdefault("RAGKIT_DISABLE_TQDM", "1")
    from ragkit.train.mining import build_retriever, mine_hard_negatives

    chunks, queries, qrels = _load(args.beir, args.split)
    retriever = build_retriever({"name": args.retriever}, args.device)
    retriever.index(chunks)

    def mine(batch_size: int):
        cfg = {"retriever": {"name": args.retriever}, "depth": args.depth, "batch_size": batch_size}
        return mine_hard_negatives(queries, qrels, chunks, cfg, retriever=retriever, device=args.device)

    warm = mine(args.batch_size)  # warm-up: loads the embedder, fills the embedding cache
    t_ret, t_mine = best_of([lambda: retriever.retrieve(queries, k=args.depth), lambda: mine(args.batch_size)], args.repeats)
    peak_batched = _peak(lambda: mine(args.batch_size))
    peak_all = _peak(lambda: mine(len(queries)))
    print(f"{len(chunks)} chunks, {len(queries)} questions, retriever {args.retriever}, depth {args.depth}: {len(warm)} rows")
    print(f"retrieve {t_ret:.2f}s  mine {t_mine:.2f}s  ratio mine/retrieve {t_mine / t_ret:.2f} (target <= 3)")
    print(f"peak traced memory: batch {args.batch_size} {peak_batched / 2**20:.1f} MiB, one batch {peak_all / 2**20:.1f} MiB, "
          f"ratio {peak_batched / peak_all:.2f} (target < 1)")


if __name__ == "__main__":
    main()
