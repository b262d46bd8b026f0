"""How well label-free monitoring signals predict retrieval success.

In production there are no relevance labels, only signals such as the cosine of
the top hit. On a labelled set we can check whether such a signal is worth
watching: its AUROC as a predictor of "the retrieval succeeded" (e.g.
``doc:hit_rate@10 > 0``) says how often a random successful query scores above a
random failed one (0.5 = useless, 1.0 = perfect ranking of queries).

Reference:
    Hanley, J. A. & McNeil, B. J. (1982). The meaning and use of the area under a
    receiver operating characteristic (ROC) curve. Radiology, 143(1), 29–36.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ragkit.errors import ConfigError

__all__ = ["auroc", "quantiles", "signal_quality"]

logger = logging.getLogger(__name__)

DEFAULT_SIGNALS = ("top1_cosine", "mean_cosine@10", "top1_top2_margin", "rerank_top1")
_MEAN_COSINE = re.compile(r"^mean_cosine@\d+$")


def auroc(scores: Sequence[float] | np.ndarray, labels: Sequence[bool] | np.ndarray) -> float:
    """Area under the ROC curve, as the Mann–Whitney U statistic.

    ``AUROC = (R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg)`` where ``R_pos`` is
    the sum of the average ranks of the positives; tied scores get half credit.

    Args:
        scores: one finite score per item (higher = predicted positive).
        labels: one truth value per item.

    Returns:
        The AUROC in [0, 1]; NaN when either class is empty.

    Raises:
        ConfigError: lengths differ or non-finite scores.

    Example:
        >>> auroc([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0])
        0.75
        >>> auroc([0.5, 0.5], [1, 0])  # a tie is half a win
        0.5
    """
    from scipy.stats import rankdata

    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).astype(bool).ravel()
    if s.shape != y.shape:
        raise ConfigError(f"auroc() needs one label per score; got {s.size} scores and {y.size} labels")
    if not np.isfinite(s).all():
        raise ConfigError(f"auroc() got {int((~np.isfinite(s)).sum())} NaN or infinite score(s); drop them first")
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(s)  # average ranks: ties share credit
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _resolve_signals(columns: pd.Index, signals: Sequence[str]) -> list[str]:
    """Signals present in the frame; ``mean_cosine@K`` matches whatever K the run used."""
    found: list[str] = []
    for name in signals:
        if name in columns:
            matches = [name]
        elif _MEAN_COSINE.match(name):
            matches = [c for c in columns if _MEAN_COSINE.match(str(c))]
        else:
            matches = []
        if not matches:
            logger.info("signal %r not in the per-query table; skipped", name)
        found.extend(m for m in matches if m not in found)
    return found


def signal_quality(
    per_query: pd.DataFrame,
    *,
    success: str = "doc:hit_rate@10",
    signals: Sequence[str] = DEFAULT_SIGNALS,
) -> pd.DataFrame:
    """AUROC of each label-free signal as a predictor of retrieval success, per configuration.

    A query counts as a success when ``per_query[success] > 0``. Rows with a NaN
    signal or success value are left out of that signal's AUROC. Signals (and a
    success metric) missing from the frame are skipped with a log message;
    ``mean_cosine@10`` matches any ``mean_cosine@K`` column.

    Args:
        per_query: long table with ``config`` and the signal and metric columns.
        success: metric column whose positive values mark a success.
        signals: signal columns to assess.

    Returns:
        Columns ``config, signal, auroc, n, base_rate`` (``base_rate`` = share of
        successes among the ``n`` queries used).

    Example:
        >>> df = pd.DataFrame({"config": ["a"] * 4, "top1_cosine": [0.9, 0.8, 0.3, 0.1],
        ...                    "doc:hit_rate@10": [1.0, 0.0, 1.0, 0.0]})
        >>> signal_quality(df)[["signal", "auroc", "base_rate"]].values.tolist()
        [['top1_cosine', 0.75, 0.5]]
    """
    cols = ["config", "signal", "auroc", "n", "base_rate"]
    if "config" not in per_query.columns:
        raise ConfigError("signal_quality() needs a 'config' column; pass the table from per_query.parquet")
    if success not in per_query.columns:
        logger.warning("success metric %r not in the per-query table; no signal assessed", success)
        return pd.DataFrame(columns=cols)
    rows = []
    for signal in _resolve_signals(per_query.columns, signals):
        for config, group in per_query.groupby("config", sort=False):
            part = group[[signal, success]].dropna()
            labels = part[success].to_numpy() > 0
            rows.append({
                "config": config, "signal": signal, "auroc": auroc(part[signal].to_numpy(), labels),
                "n": len(part), "base_rate": float(labels.mean()) if len(part) else np.nan,
            })
    return pd.DataFrame(rows, columns=cols)


def quantiles(
    per_query: pd.DataFrame,
    columns: Sequence[str],
    qs: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
) -> pd.DataFrame:
    """Quantiles of monitoring columns per configuration (NaN values ignored).

    Args:
        per_query: long table with ``config`` and the columns.
        columns: columns to describe; missing ones are skipped (``mean_cosine@K``
            matches any K).
        qs: quantile levels in [0, 1].

    Returns:
        Columns ``config, column, n, mean`` and one ``p<100 q>`` column per level
        (``p5``, ``p25``, ``p50``, ...).

    Example:
        >>> df = pd.DataFrame({"config": ["a"] * 5, "top1_cosine": [0.1, 0.2, 0.3, 0.4, 0.5]})
        >>> float(quantiles(df, ["top1_cosine"]).loc[0, "p50"])
        0.3
    """
    if any(not 0.0 <= q <= 1.0 for q in qs):
        raise ConfigError(f"quantile levels must lie in [0, 1]; got {list(qs)}")
    names = [f"p{q * 100:g}" for q in qs]
    rows = []
    for column in _resolve_signals(per_query.columns, columns):
        for config, group in per_query.groupby("config", sort=False):
            x = group[column].dropna().to_numpy(dtype=np.float64)
            values = np.quantile(x, qs) if len(x) else np.full(len(qs), np.nan)
            rows.append({"config": config, "column": column, "n": len(x),
                         "mean": float(x.mean()) if len(x) else np.nan, **dict(zip(names, map(float, values)))})
    return pd.DataFrame(rows, columns=["config", "column", "n", "mean", *names])
