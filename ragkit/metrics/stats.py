"""Confidence intervals for mean per-query metrics: the percentile bootstrap.

A metric's mean over queries is resampled ``n_resamples`` times, drawing the
queries with replacement; the interval is the ``(1 - confidence) / 2`` and
``(1 + confidence) / 2`` percentiles of the resampled means (linear
interpolation, as ``numpy.quantile``). :func:`summarize` draws one set of
resampled query indices and applies it to every metric column, so the intervals
of different metrics are paired, and a column's interval equals
:func:`bootstrap_ci` of that column for the same seed.

Reference:
    Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap.
    Chapman & Hall/CRC, chapter 13 (the percentile interval).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ragkit.errors import ConfigError

__all__ = ["bootstrap_ci", "summarize"]


def _check_params(n_resamples: int, confidence: float) -> None:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ConfigError(f"n_resamples must be a positive integer; got {n_resamples!r}; use e.g. 1000")
    if not isinstance(confidence, (int, float)) or not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must be a number in (0, 1); got {confidence!r}; use e.g. 0.95")


def _as_matrix(values: np.ndarray, what: str) -> np.ndarray:
    """``values`` as a float (n, m) array; NaN or infinite entries are refused."""
    x = np.asarray(values, dtype=np.float64)
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).sum())
        raise ConfigError(
            f"{what} contains {bad} NaN or infinite value(s); allowed: finite numbers; drop or fill them first"
        )
    return x


def _percentile_ci(x: np.ndarray, n_resamples: int, confidence: float, seed: int) -> np.ndarray:
    """Percentile-bootstrap bounds of the column means of ``x`` (n, m): returns (2, m).

    Each resample is stored as counts per query, so the resampled means of all
    m columns are one (B, n) @ (n, m) product rather than a (B, n, m) gather.
    """
    n, m = x.shape
    if n == 0:
        return np.full((2, m), np.nan)
    if n == 1:
        return np.vstack([x[0], x[0]])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n))  # (B, n) query drawn at each slot
    offsets = (np.arange(n_resamples) * n)[:, None]
    counts = np.bincount((idx + offsets).ravel(), minlength=n_resamples * n).reshape(n_resamples, n)
    means = counts @ x / n  # (B, m)
    alpha = (1.0 - confidence) / 2.0
    bounds = np.quantile(means, [alpha, 1.0 - alpha], axis=0)  # (2, m)
    # subtle: a constant column gives means that differ from it in the last bit;
    # clip so the interval always contains the observed mean's range.
    return np.clip(bounds, x.min(axis=0), x.max(axis=0))


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean (Efron & Tibshirani, 1993).

    Args:
        values: one number per query (finite).
        n_resamples: number of bootstrap resamples.
        confidence: coverage of the interval, in (0, 1).
        seed: seed of ``numpy.random.default_rng``; the same seed gives the same interval.

    Returns:
        ``(low, high)``; ``(nan, nan)`` for no values and ``(v, v)`` for one value.

    Raises:
        ConfigError: bad ``n_resamples`` or ``confidence``, or non-finite values.

    Example:
        >>> low, high = bootstrap_ci([0.0, 1.0, 1.0, 0.0, 1.0], seed=0)
        >>> bool(low <= 0.6 <= high)
        True
        >>> bootstrap_ci([0.25])
        (0.25, 0.25)
    """
    _check_params(n_resamples, confidence)
    x = _as_matrix(values, "values").reshape(-1, 1)
    low, high = _percentile_ci(x, n_resamples, confidence, seed)[:, 0]
    return float(low), float(high)


def summarize(
    per_query: pd.DataFrame,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean and bootstrap confidence interval of every metric column.

    The same resampled queries serve every column (one matrix product for all
    metrics), so 300 queries x 36 metrics take a few milliseconds.

    Args:
        per_query: one row per query, one numeric column per metric (the output
            of :func:`ragkit.metrics.ir.evaluate`).
        n_resamples: number of bootstrap resamples.
        confidence: coverage of the intervals, in (0, 1).
        seed: seed of ``numpy.random.default_rng``.

    Returns:
        A DataFrame indexed by metric (the columns of ``per_query``) with columns
        ``mean``, ``ci_low``, ``ci_high`` and ``n`` (number of queries).

    Raises:
        ConfigError: not a DataFrame, non-numeric columns, non-finite values, or
            bad ``n_resamples`` / ``confidence``.

    Example:
        >>> df = pd.DataFrame({"mrr@10": [1.0, 0.5, 0.0, 1.0], "recall@5": [1.0, 1.0, 0.0, 1.0]})
        >>> out = summarize(df, seed=0)
        >>> float(out.loc["recall@5", "mean"]), int(out.loc["recall@5", "n"])
        (0.75, 4)
    """
    _check_params(n_resamples, confidence)
    if not isinstance(per_query, pd.DataFrame):
        raise ConfigError(f"summarize() takes the DataFrame from evaluate(); got {type(per_query).__name__}")
    bad = [c for c in per_query.columns if not pd.api.types.is_numeric_dtype(per_query[c])]
    if bad:
        raise ConfigError(f"summarize(): non-numeric columns {bad}; allowed: numeric metric columns; drop them first")
    x = _as_matrix(per_query.to_numpy(dtype=np.float64), "per_query")
    low, high = _percentile_ci(x, n_resamples, confidence, seed)
    mean = x.mean(axis=0) if len(x) else np.full(x.shape[1], np.nan)
    out = pd.DataFrame(
        {"mean": mean, "ci_low": low, "ci_high": high, "n": np.full(x.shape[1], len(x), dtype=np.int64)},
        index=pd.Index(per_query.columns, name="metric"),
    )
    return out
