"""Throughput of ragkit's cached encode vs a direct SentenceTransformer.encode, measured in one run.

    python benchmarks/bench_encode.py [--n 1000] [--repeats 2] [--device auto]

Texts: the first N chunks (chars, 800/240) of the shipped Acme corpus. "cold" = ragkit
with an empty cache (hashing + cache writes included); "warm" = the same texts again.
Targets: cold ratio >= 0.95, warm ratio >= 20x.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    os.environ["RAGKIT_DISABLE_TQDM"] = "1"

    from ragkit.chunking.chars import CharChunker
    from ragkit.core.models import get_embedder
    from ragkit.core.runtime import default_batch_size
    from ragkit.data.folder import load_folder

    chunks = CharChunker(size=800, overlap=240).chunk_all(load_folder(ROOT / "datasets" / "acme" / "docs"))
    texts = [c.text for c in chunks]
    while len(texts) < args.n:  # a small corpus: make distinct variants so nothing is a duplicate
        texts += [f"{t} ({len(texts)})" for t in texts[: args.n - len(texts)]]
    texts = texts[: args.n]
    emb = get_embedder("default", device=args.device)
    bs = default_batch_size(emb.device)
    emb.model.encode(texts[:64], batch_size=bs)  # warm-up (kernels, allocator)

    raw, cold, warm = [], [], []
    for _ in range(args.repeats):
        t = time.perf_counter()
        emb.model.encode(texts, batch_size=bs, normalize_embeddings=True, convert_to_numpy=True)
        raw.append(time.perf_counter() - t)
        os.environ["RAGKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="ragkit-bench-")
        emb._caches.clear()
        t = time.perf_counter()
        emb.encode(texts)
        cold.append(time.perf_counter() - t)
        t = time.perf_counter()
        emb.encode(texts)
        warm.append(time.perf_counter() - t)
    r, c, w = min(raw), min(cold), min(warm)
    n = len(texts)
    print(f"device={emb.device} texts={n} mean_chars={sum(map(len, texts)) / n:.0f} batch_size={bs} repeats={args.repeats} (best of)")
    print(f"sentence-transformers encode : {n / r:10.1f} texts/s")
    print(f"ragkit encode, cold cache    : {n / c:10.1f} texts/s   ratio {r / c:.3f}  (target >= 0.95)")
    print(f"ragkit encode, warm cache    : {n / w:10.1f} texts/s   ratio {r / w:.1f}x (target >= 20x)")


if __name__ == "__main__":
    main()
