"""Label-free monitoring metrics: how close the retrieved chunks are to the query.

These need no relevance labels, so they can be computed on production traffic.
Cosine similarities come from the shared embedder (``monitor_model``), whatever
retriever produced the ranking, so BM25 and dense runs are measured alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ragkit.data.types import Query, Run


def cosine_monitor(run: Run, queries: Sequence[Query], chunk_texts: Mapping[str, str], embedder, k: int = 10):
    """Per query: ``top1_cosine``, ``mean_cosine@k`` and ``top1_top2_margin`` (cosine of hit 1 minus hit 2).

    Queries with no hits get NaN. Every distinct text is embedded once (and cached).

    Returns:
        pandas.DataFrame indexed by ``query_id``.
    """
    import pandas as pd

    qids = [q.id for q in queries]
    qv = embedder.encode([q.text for q in queries])
    ids = sorted({h.chunk_id for q in qids for h in run.get(q, ())[:k]})
    pos = {cid: i for i, cid in enumerate(ids)}
    cv = embedder.encode([chunk_texts[c] for c in ids]) if ids else np.zeros((0, qv.shape[1]), np.float32)
    rows = []
    for i, q in enumerate(qids):
        hits = run.get(q, ())[:k]
        cos = cv[[pos[h.chunk_id] for h in hits]] @ qv[i] if hits else np.array([])
        rows.append(
            (
                q,
                float(cos[0]) if len(cos) else np.nan,
                float(cos.mean()) if len(cos) else np.nan,
                float(cos[0] - cos[1]) if len(cos) > 1 else np.nan,
            )
        )
    cols = ["query_id", "top1_cosine", f"mean_cosine@{k}", "top1_top2_margin"]
    return pd.DataFrame(rows, columns=cols).set_index("query_id")


def rerank_monitor(first: Run, reranked: Run, queries: Sequence[Query], k: int = 10):
    """Per query: the reranker's scores and how much it moved the ranking.

    Columns: ``rerank_top1`` (reranker score of the new top hit), ``rerank_mean@k``,
    ``rerank_top1_prev_rank`` (first-stage rank of the chunk the reranker put first;
    1 = unchanged), ``rerank_rank_change@k`` (mean absolute rank change over the new
    top k). NaN for queries with no hits.
    """
    import pandas as pd

    rows = []
    for q in queries:
        new = reranked.get(q.id, ())[:k]
        old_rank = {h.chunk_id: r for r, h in enumerate(first.get(q.id, ()), 1)}
        if not new:
            rows.append((q.id, np.nan, np.nan, np.nan, np.nan))
            continue
        scores = np.array([h.score for h in new], dtype=float)
        moves = [abs(old_rank.get(h.chunk_id, r) - r) for r, h in enumerate(new, 1)]
        rows.append((q.id, scores[0], scores.mean(), old_rank.get(new[0].chunk_id, np.nan), float(np.mean(moves))))
    cols = ["query_id", "rerank_top1", f"rerank_mean@{k}", "rerank_top1_prev_rank", f"rerank_rank_change@{k}"]
    return pd.DataFrame(rows, columns=cols).set_index("query_id")
