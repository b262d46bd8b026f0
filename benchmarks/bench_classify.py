"""Real-time topic classifier: questions/second INCLUDING featurisation, and agreement with BERTopic's own transform.

    python benchmarks/bench_classify.py                                   # the shipped Acme questions + query log
    python benchmarks/bench_classify.py /path/to/nfcorpus/queries.jsonl /path/to/scifact/queries.jsonl

Questions are split 80/20 (seeded). Topics are fitted on the 80% with BERTopic (UMAP +
HDBSCAN over the shared encoder's embeddings, outliers reduced) when there are at least
``--hdbscan-min`` of them. On the held-out 20% the reference is BERTopic's own
``transform`` (UMAP transform + HDBSCAN approximate_predict, mapped onto the fitted
topics); agreement is reported on the questions BERTopic assigns to a topic, and on all
of them with BERTopic's outliers given the nearest topic embedding (its "embeddings"
outlier strategy).

Speed is measured on texts the encoder has never seen (a unique suffix per text), so the
embedding cache cannot help; the encoder is also timed with a warm cache for reference.
BERTopic's transform (embedding included) is the baseline of the speed ratios. Threads are
limited to ``--threads`` (default 2) for torch and BLAS.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("queries", nargs="*", help="JSONL query files (default: datasets/acme questions + query log)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--n-speed", type=int, default=3000, help="unseen questions timed per classifier")
    p.add_argument("--hdbscan-min", type=int, default=100)
    p.add_argument("--min-topic-size", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def _limit_threads(n: int) -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")


def _load(paths: list[str]) -> list[str]:
    from ragkit.data.jsonl import load_queries_jsonl

    files = paths or [str(ROOT / "datasets/acme/questions.jsonl"), str(ROOT / "datasets/acme/query_log.jsonl")]
    texts = [q.text for f in files for q in load_queries_jsonl(f, on_error="warn")]
    return list(dict.fromkeys(texts))


def _reference(tm, x_train, test_texts, x_test):
    """BERTopic's transform of held-out questions in our topic ids (-1 = outlier), and with its outliers
    given the nearest topic embedding (mean of the topic's training embeddings)."""
    import numpy as np

    ref = tm.bertopic_transform(test_texts, x_test)
    ids = np.unique(tm.labels)
    cents = np.stack([x_train[tm.labels == t].mean(0) for t in ids])
    cents /= np.linalg.norm(cents, axis=1, keepdims=True)
    return ref, np.where(ref == -1, ids[np.argmax(x_test @ cents.T, axis=1)], ref)


def _speed(fn, texts) -> float:
    fn(texts[:64])  # warm-up (lazy loads, JIT)
    t = time.perf_counter()
    fn(texts)
    return len(texts) / (time.perf_counter() - t)


def main() -> int:
    args = _args()
    _limit_threads(args.threads)
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from ragkit.core.models import get_embedder
    from ragkit.topics.classifier import QuestionClassifier
    from ragkit.topics.config import TopicsConfig
    from ragkit.topics.model import fit_topics

    emb = get_embedder("default", device="cpu")
    texts = _load(args.queries)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(texts))
    cut = int(0.8 * len(texts))
    train = [texts[i] for i in order[:cut]]
    test = [texts[i] for i in order[cut:]]
    x_train, x_test = emb.encode(train), emb.encode(test)
    mts = args.min_topic_size or TopicsConfig().resolved_min_topic_size(len(train))
    t = time.perf_counter()
    tm = fit_topics(train, x_train, min_topic_size=mts, hdbscan_min_questions=args.hdbscan_min, seed=args.seed,
                    embedding_model=emb.model)
    fit_s = time.perf_counter() - t
    method = tm.methods["all"]
    print(f"questions: {len(texts)} ({len(train)} train / {len(test)} held out); topics: {tm.n_topics} ({method}, "
          f"min_topic_size {mts}) in {fit_s:.1f}s; torch threads {torch.get_num_threads()}; load avg {os.getloadavg()[0]:.1f}")
    if method != "hdbscan":
        print("fewer questions than --hdbscan-min: no BERTopic transform to compare with; pass more queries")
        return 1
    ref, reduced = _reference(tm, x_train, test, x_test)
    assigned = ref != -1
    print(f"BERTopic transform: {assigned.mean():.0%} of held-out questions assigned to a topic, the rest outliers")
    unseen = [f"{test[i % len(test)]} #{i}" for i in range(args.n_speed)]
    bt = tm.clusterings["all"].bertopic
    base = _speed(lambda ts: bt.transform(ts, embeddings=emb.encode(ts, use_cache=False)), unseen[: max(256, args.n_speed // 10)])
    print(f"\n{'classifier':<20}{'agree (assigned)':>18}{'agree (all)':>13}{'q/s unseen':>12}{'x BERTopic':>12}{'q/s cached':>12}")
    print(f"{'BERTopic transform':<20}{'1.000':>18}{'1.000':>13}{base:>12.0f}{1.0:>12.2f}{'':>12}")
    for features, head in (("static", "logistic"), ("static", "centroid"), ("encoder", "logistic"), ("encoder", "centroid")):
        clf = QuestionClassifier.fit(train, tm.labels, embedder=emb, embeddings=x_train, features=features, head=head)
        pred = np.array(clf.predict(test))
        a_in, a_all = (pred[assigned] == ref[assigned]).mean(), (pred == reduced).mean()
        if features == "encoder":
            qps = _speed(lambda ts: clf.predict_features(emb.encode(ts, use_cache=False)), unseen[: max(256, args.n_speed // 10)])
            cached = _speed(clf.predict, test * 3)
        else:
            qps, cached = _speed(clf.predict, unseen), float("nan")
        print(f"{features + '-' + head:<20}{a_in:>18.3f}{a_all:>13.3f}{qps:>12.0f}{qps / base:>12.2f}"
              f"{'' if cached != cached else f'{cached:.0f}':>12}")
    print("\nstatic: piece vectors distilled once from the shared encoder; prediction = tokenise + mean + ridge map + linear head")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
