"""Question-writer speed: GGUF load vs cached de-quantised load, and batched vs one-at-a-time generation.

    python benchmarks/bench_synth.py [--prompts 32] [--batch-size 16] [--device auto]

Prompts: factoid prompts over the first chunks (chars, 800/240) of the shipped Acme corpus,
bundled SmolLM2-135M-Instruct, greedy, 40 new tokens, stop at '?'. All in a fresh cache dir.
Targets: cached load >= 10x faster than the first (GGUF) load; batched generation >= 2x the
prompts/s of one-at-a-time on CPU (more on GPU); batched replies identical to one-at-a-time.
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
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    os.environ["RAGKIT_DISABLE_TQDM"] = "1"
    os.environ["RAGKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="ragkit-bench-synth-")

    from ragkit.chunking.chars import CharChunker
    from ragkit.core.causal_lm import CausalLM
    from ragkit.core.runtime import resolve_device
    from ragkit.data.folder import load_folder
    from ragkit.synth.prompts import load_chat_template

    device = resolve_device(args.device)
    t = time.perf_counter()
    CausalLM.load("default", device=device)
    first = time.perf_counter() - t
    t = time.perf_counter()
    lm = CausalLM.load("default", device=device)
    second = time.perf_counter() - t
    print(f"device={device} load: GGUF + de-quantise {first:.1f}s, cached {second:.2f}s, ratio {first / second:.1f}x (target >= 10x)")

    template = load_chat_template("factoid")
    chunks = CharChunker(size=800, overlap=240).chunk_all(load_folder(ROOT / "datasets" / "acme" / "docs"))[: args.prompts]
    convs = [template.render(passage=c.text, opener="What") for c in chunks]
    opts = {"max_new_tokens": 40, "stop": ["?"]}
    lm.generate(convs[:2], batch_size=2, **opts)  # warm-up
    t = time.perf_counter()
    single = [lm.generate([c], batch_size=1, **opts)[0] for c in convs]
    one = time.perf_counter() - t
    t = time.perf_counter()
    batched = lm.generate(convs, batch_size=args.batch_size, **opts)
    many = time.perf_counter() - t
    same = sum(a == b for a, b in zip(single, batched))
    n = len(convs)
    print(f"generation, one at a time : {n / one:7.2f} prompts/s")
    print(f"generation, batch {args.batch_size:<3}    : {n / many:7.2f} prompts/s   ratio {one / many:.2f}x (target >= 2x on CPU)")
    print(f"batched replies identical to one-at-a-time: {same}/{n}")


if __name__ == "__main__":
    main()
