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
