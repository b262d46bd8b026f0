"""Human labels for metric columns, and JSON-safe rounding of numbers for the report data."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["clean", "metric_label", "num", "split_metric"]

_NAMES = {"ndcg": "nDCG", "recall": "Recall", "mrr": "MRR", "hit_rate": "Hit rate", "precision": "Precision",
          "map": "MAP", "top1_cosine": "top-1 cosine", "top1_top2_margin": "top-1/top-2 margin",
          "rerank_top1": "rerank top-1 score", "rerank_top1_prev_rank": "rerank: first-stage rank of new top-1",
          "feedback": "feedback"}


def split_metric(column: str) -> tuple[str, str, int | None]:
    """``"doc:ndcg@10"`` -> ``("doc", "ndcg", 10)``; ``"top1_cosine"`` -> ``("monitor", "top1_cosine", None)``.

    Example:
        >>> split_metric("chunk:hit_rate@3")
        ('chunk', 'hit_rate', 3)
    """
    level, _, rest = column.rpartition(":")
    name, _, k = rest.partition("@")
    return level or "monitor", name, int(k) if k.isdigit() else None


def metric_label(column: str) -> str:
    """A short readable label: ``"doc:ndcg@10"`` -> ``"nDCG@10"``, ``"chunk:recall@5"`` -> ``"chunk Recall@5"``.

    Example:
        >>> metric_label("monitor:mean_cosine@10")
        'mean cosine@10'
    """
    level, name, k = split_metric(column)
    label = _NAMES.get(name, name.replace("_", " ")) + (f"@{k}" if k is not None else "")
    return f"chunk {label}" if level == "chunk" else label


def num(value: Any, digits: int = 4) -> float | None:
    """A float rounded to ``digits`` decimals; ``None`` for missing, NaN or infinite values (JSON has no NaN).

    Example:
        >>> num(0.123456), num(float("nan"))
        (0.1235, None)
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return round(x, digits) if math.isfinite(x) else None


def clean(obj: Any) -> Any:
    """``obj`` with every NaN/inf float replaced by ``None`` and numpy scalars made plain (for strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):  # numpy scalar
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
