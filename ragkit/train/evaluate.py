"""Before/after evaluation of a fine-tune on held-out questions, and the regression guard.

Both models are scored with the project's own metrics (:mod:`ragkit.metrics.ir`) on
the same held-out questions; :func:`compare_before_after` pairs them per question:
bootstrap CIs of each mean (:mod:`ragkit.metrics.stats`), the mean difference with a
bootstrap CI, and the paired permutation test (:mod:`ragkit.metrics.paired`).
:func:`regression_warning` turns a drop on the primary metric into a loud message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ragkit.data.types import Chunk, Qrels, Query, Run

log = logging.getLogger(__name__)

__all__ = ["compare_before_after", "evaluate_run", "regression_warning", "rerank_run", "retrieve_run"]

TEST_NAME = "paired permutation"


def evaluate_run(run: Run, qrels: Qrels, chunks: Sequence[Chunk], metrics: Sequence[str], levels: Sequence[str]):
    """Per-question metrics of ``run``: columns ``doc:ndcg@10`` ... (and ``chunk:...``), indexed by query id."""
    import pandas as pd

    from ragkit.metrics.ir import evaluate_chunks, evaluate_docs

    frames = []
    if "doc" in levels:
        frames.append(evaluate_docs(run, qrels, metrics).add_prefix("doc:"))
    if "chunk" in levels:
        frames.append(evaluate_chunks(run, qrels, chunks, metrics).add_prefix("chunk:"))
    return pd.concat(frames, axis=1)


def retrieve_run(retriever_spec: Mapping[str, Any], chunks: Sequence[Chunk], queries: Sequence[Query], k: int, device: str) -> Run:
    """Index ``chunks`` with the retriever ``{name, **params}`` and return its top ``k`` per question."""
    from ragkit.train.mining import build_retriever

    retriever = build_retriever(retriever_spec, device)
    retriever.index(chunks)
    return retriever.retrieve(queries, k=k)


def rerank_run(model: str, first: Run, chunks: Sequence[Chunk], queries: Sequence[Query], depth: int, device: str) -> Run:
    """The top ``depth`` of ``first`` reordered by the cross-encoder ``model`` (hub name or folder)."""
    from ragkit.registry import RERANKERS

    reranker = RERANKERS.create("cross_encoder", {"model": model, "depth": depth, "device": device})
    return reranker.rerank(queries, first, {c.id: c for c in chunks}, k=depth)


def compare_before_after(
    before, after, *, n_resamples: int = 1000, permutations: int = 10000, seed: int = 0
) -> list[dict[str, Any]]:
    """One record per metric column: before/after means with CIs, delta with CI, paired p-value.

    Args:
        before: per-question metrics of the base model (rows: query ids, columns: metrics).
        after: the same for the fine-tuned model (same questions; aligned on the index).
        n_resamples: bootstrap resamples of every CI.
        permutations: random sign flips of the permutation test.
        seed: seed of the bootstrap and of the test.

    Returns:
        ``[{"metric", "before", "before_ci", "after", "after_ci", "delta", "delta_ci",
        "p_value", "p_wilcoxon", "test", "n"}]`` (the ``finetune.json`` ``metrics`` list).

    Example:
        >>> import pandas as pd
        >>> b = pd.DataFrame({"doc:ndcg@10": [0.0, 0.0, 0.0]}, index=["q1", "q2", "q3"])
        >>> a = pd.DataFrame({"doc:ndcg@10": [1.0, 2.0, 3.0]}, index=["q1", "q2", "q3"])
        >>> r = compare_before_after(b, a)[0]
        >>> r["delta"], r["p_value"]
        (2.0, 0.25)
    """
    import pandas as pd

    from ragkit.metrics.paired import compare_to_baseline
    from ragkit.metrics.stats import summarize

    common = before.index.intersection(after.index)
    before, after = before.loc[common], after.loc[common]
    cis = {"before": summarize(before, n_resamples=n_resamples, seed=seed), "after": summarize(after, n_resamples=n_resamples, seed=seed)}
    out = []
    for metric in before.columns:
        long = pd.DataFrame({
            "config": ["before"] * len(common) + ["after"] * len(common),
            "query_id": list(common) * 2,
            metric: [*before[metric], *after[metric]],
        })
        row = compare_to_baseline(long, metric, "before", n_resamples=permutations, seed=seed).iloc[0]
        b, a = cis["before"].loc[metric], cis["after"].loc[metric]
        out.append({
            "metric": metric,
            "before": float(b["mean"]), "before_ci": [float(b["ci_low"]), float(b["ci_high"])],
            "after": float(a["mean"]), "after_ci": [float(a["ci_low"]), float(a["ci_high"])],
            "delta": float(row["delta"]), "delta_ci": [float(row["delta_ci_low"]), float(row["delta_ci_high"])],
            "p_value": float(row["p_permutation"]), "p_wilcoxon": float(row["p_wilcoxon"]),
            "test": TEST_NAME, "n": int(row["n"]),
        })
    return out


def regression_warning(records: Sequence[Mapping[str, Any]], primary: str, alpha: float = 0.05) -> str | None:
    """A loud message when the fine-tuned model is worse, else None.

    Worse means: any drop on ``primary``, or a significant drop on another metric
    (its delta CI entirely below 0).

    Example:
        >>> rec = [{"metric": "doc:ndcg@10", "before": 0.65, "after": 0.62, "delta": -0.03,
        ...         "delta_ci": [-0.05, -0.01], "p_value": 0.002}]
        >>> regression_warning(rec, "doc:ndcg@10").split(":")[0]
        'REGRESSION'
    """
    rec = next((r for r in records if r["metric"] == primary), None)
    others = [r["metric"] for r in records if r["metric"] != primary and r["delta_ci"][1] < 0]
    lines = []
    if rec is not None and rec["delta"] < 0:
        low, high = rec["delta_ci"]
        head = "REGRESSION" if high < 0 or rec["p_value"] < alpha else "WORSE (not significant)"
        lines.append(
            f"{head}: the fine-tuned model scores lower than the base model on {primary}: "
            f"{rec['before']:.4f} -> {rec['after']:.4f} (delta {rec['delta']:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}], "
            f"p = {rec['p_value']:.3g})."
        )
    if others:
        lines.append(f"{'Also s' if lines else 'REGRESSION: s'}ignificantly worse (delta CI below 0) on: {', '.join(others)}.")
    if not lines:
        return None
    lines.append(
        "Do not deploy it as is; try fewer epochs, a lower learning rate, a larger mining.relative_margin "
        "(fewer false negatives) or more / better training questions."
    )
    return " ".join(lines)
