"""Metrics over per-query results: rank-based IR metrics and bootstrap statistics.

Example:
    >>> from ragkit.data.types import Hit, Run
    >>> from ragkit.metrics import evaluate, summarize
    >>> run = Run({"q1": [Hit("a", "a", 0.9), Hit("b", "b", 0.5)], "q2": [Hit("c", "c", 0.3)]})
    >>> per_query = evaluate(run, {"q1": {"b": 2}, "q2": {"c": 1}}, ["mrr@10", "hit@1"])
    >>> per_query["mrr@10"].tolist()
    [0.5, 1.0]
    >>> float(summarize(per_query).loc["mrr@10", "mean"])
    0.75
"""

from __future__ import annotations

from ragkit.metrics.ir import (
    METRIC_NAMES,
    aggregate,
    evaluate,
    evaluate_chunks,
    evaluate_docs,
    parse_metric,
    validate_metrics,
)
from ragkit.metrics.stats import bootstrap_ci, summarize

__all__ = [
    "METRIC_NAMES",
    "aggregate",
    "bootstrap_ci",
    "evaluate",
    "evaluate_chunks",
    "evaluate_docs",
    "parse_metric",
    "summarize",
    "validate_metrics",
]
