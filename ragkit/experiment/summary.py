"""Aggregate per-query tables into per-configuration results with bootstrap CIs."""

from __future__ import annotations

ID_COLUMNS = ("config", "chunker", "retriever", "query_id")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
_TIMING = ("retrieve_ms", "rerank_ms", "index_s", "eval_s", "n_chunks", "n_hits", "ann_recall@10")


def summarize_cells(per_query, *, n_resamples: int = 1000, seed: int = 0):
    """Long table: config, chunker, retriever, level, metric, mean, ci_low, ci_high, n.

    ``level`` is ``doc`` / ``chunk`` for IR metrics (column ``doc:ndcg@10`` -> level doc,
    metric ndcg@10), ``monitor`` for label-free values, ``cost`` for timings (no CI).
    Means skip NaN (queries without labels or without hits). Columns ``q05`` .. ``q95`` hold
    the distribution (5th, 25th, 50th, 75th, 95th percentiles) of each value over queries.
    """
    import pandas as pd

    from ragkit.metrics.stats import summarize

    rows = []
    for (config, chunker, retriever), group in per_query.groupby(["config", "chunker", "retriever"], sort=False):
        values = group.drop(columns=list(ID_COLUMNS))
        metrics = values.drop(columns=[c for c in _TIMING if c in values])
        # columns share a NaN pattern (IR metrics: unlabelled queries; monitoring: no hits): summarise each pattern once
        patterns: dict[bytes, list[str]] = {}
        for col in metrics:
            patterns.setdefault(metrics[col].notna().to_numpy().tobytes(), []).append(col)
        stats = pd.concat(
            [summarize(metrics[cols].dropna(), n_resamples=n_resamples, seed=seed) for cols in patterns.values()]
        )
        quant = metrics.quantile(QUANTILES)  # pandas skips NaN per column
        for col, r in stats.iterrows():
            level, _, metric = col.rpartition(":")
            rows.append((config, chunker, retriever, level or "monitor", metric, r["mean"], r["ci_low"], r["ci_high"],
                         int(r["n"]), *quant[col]))
        for col in _TIMING:
            if col in values:
                rows.append((config, chunker, retriever, "cost", col, float(values[col].mean()), None, None,
                             int(values[col].notna().sum()), *values[col].quantile(QUANTILES)))
    cols = ["config", "chunker", "retriever", "level", "metric", "mean", "ci_low", "ci_high", "n"]
    return pd.DataFrame(rows, columns=cols + [f"q{int(q * 100):02d}" for q in QUANTILES])
