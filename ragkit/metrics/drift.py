"""Distribution drift of label-free monitoring signals between two runs.

When the query stream or the corpus changes, the distribution of signals such
as the top-1 cosine moves before any labelled metric can be computed. Two
summaries are given: the two-sample Kolmogorov–Smirnov statistic (the largest
gap between the empirical CDFs, with its p-value) and the population stability
index (PSI), the usual credit-scoring measure of a shifted score distribution.

Reading the PSI (Siddiqi, 2006): < 0.1 stable, 0.1–0.25 moderate shift,
> 0.25 large shift.

References:
    Siddiqi, N. (2006). Credit Risk Scorecards. Wiley, chapter 8.

    Yurdakul, B. (2018). Statistical properties of population stability index.
    PhD thesis, Western Michigan University.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ragkit.errors import ConfigError

__all__ = ["MONITORING_COLUMNS", "drift_table", "ks_statistic", "psi"]

MONITORING_COLUMNS = ("top1_cosine", "mean_cosine@10", "top1_top2_margin", "rerank_top1")
PSI_EPSILON = 1e-4  # floor of a bin's share, so an empty bin gives a large but finite term
_MEAN_COSINE = re.compile(r"^mean_cosine@\d+$")


def _finite(values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[~np.isnan(x)]
    if x.size == 0:
        raise ConfigError(f"{what} has no non-NaN values; pass at least one number")
    return x


def ks_statistic(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov statistic ``D = max_x |F_a(x) - F_b(x)|``.

    NaN values are dropped. Equal to ``scipy.stats.ks_2samp(a, b).statistic``.

    Args:
        a: first sample.
        b: second sample.

    Returns:
        D in [0, 1].

    Raises:
        ConfigError: a sample has no non-NaN values.

    Example:
        >>> ks_statistic([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
        0.0
        >>> ks_statistic([0.0, 1.0], [2.0, 3.0])
        1.0
    """
    x = np.sort(_finite(a, "first sample"))
    y = np.sort(_finite(b, "second sample"))
    grid = np.concatenate([x, y])  # the CDF gap is largest at one of the sample points
    fx = np.searchsorted(x, grid, side="right") / x.size
    fy = np.searchsorted(y, grid, side="right") / y.size
    return float(np.abs(fx - fy).max())


def psi(expected: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray, *, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected``.

    Bins are the quantiles of ``expected`` (``bins`` equal-mass bins, open-ended
    at both sides, duplicate edges merged); with shares ``e_i`` and ``a_i`` per
    bin, ``PSI = sum_i (a_i - e_i) ln(a_i / e_i)``. Shares below
    ``PSI_EPSILON`` (1e-4) are raised to it, so an empty bin adds a large but
    finite term. Reading: < 0.1 stable, 0.1–0.25 moderate, > 0.25 large shift.

    Args:
        expected: reference sample (e.g. last month's top-1 cosines).
        actual: sample to check.
        bins: number of quantile bins (at least 2).

    Returns:
        PSI >= 0; 0 for identical samples.

    Raises:
        ConfigError: ``bins`` < 2 or an empty sample.

    Example:
        >>> psi([0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4], bins=2)
        0.0
    """
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise ConfigError(f"bins must be an integer >= 2; got {bins!r}; use e.g. 10")
    e = _finite(expected, "expected sample")
    a = _finite(actual, "actual sample")
    inner = np.unique(np.quantile(e, np.linspace(0.0, 1.0, bins + 1))[1:-1])
    # side="right": a value equal to an edge falls in the bin above it, for both samples alike.
    e_share = np.bincount(np.searchsorted(inner, e, side="right"), minlength=inner.size + 1) / e.size
    a_share = np.bincount(np.searchsorted(inner, a, side="right"), minlength=inner.size + 1) / a.size
    e_share = np.maximum(e_share, PSI_EPSILON)
    a_share = np.maximum(a_share, PSI_EPSILON)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


def _monitoring_columns(columns: pd.Index, wanted: Sequence[str] | None) -> list[str]:
    wanted = MONITORING_COLUMNS if wanted is None else wanted
    out: list[str] = []
    for name in wanted:
        if name in columns:
            hits = [name]
        elif _MEAN_COSINE.match(name):  # the K of mean_cosine@K is the run's choice
            hits = [c for c in columns if _MEAN_COSINE.match(str(c))]
        else:
            hits = []
        out.extend(h for h in hits if h not in out)
    return out


def drift_table(
    per_query_a: pd.DataFrame,
    per_query_b: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    bins: int = 10,
) -> pd.DataFrame:
    """Drift of monitoring columns between two runs, per configuration present in both.

    Run ``a`` is the reference (the PSI's ``expected``). NaN values are dropped.

    Args:
        per_query_a: per-query table of the reference run.
        per_query_b: per-query table of the run to check.
        columns: columns to compare; default ``MONITORING_COLUMNS`` (``mean_cosine@K``
            matches any K). Columns missing from either run are skipped.
        bins: PSI quantile bins.

    Returns:
        Columns ``config, column, n_a, n_b, mean_a, mean_b, ks, ks_p, psi``.

    Example:
        >>> a = pd.DataFrame({"config": ["x"] * 4, "top1_cosine": [0.1, 0.2, 0.3, 0.4]})
        >>> drift_table(a, a)[["ks", "psi"]].values.tolist()
        [[0.0, 0.0]]
    """
    from scipy.stats import ks_2samp

    for name, frame in (("first", per_query_a), ("second", per_query_b)):
        if "config" not in frame.columns:
            raise ConfigError(f"drift_table(): the {name} table has no 'config' column; pass per_query.parquet tables")
    cols_a = _monitoring_columns(per_query_a.columns, columns)
    cols = [c for c in cols_a if c in per_query_b.columns]
    configs = [c for c in pd.unique(per_query_a["config"]) if c in set(per_query_b["config"])]
    rows = []
    for config in configs:
        ga = per_query_a[per_query_a["config"] == config]
        gb = per_query_b[per_query_b["config"] == config]
        for column in cols:
            x, y = ga[column].dropna().to_numpy(float), gb[column].dropna().to_numpy(float)
            if x.size == 0 or y.size == 0:
                continue
            rows.append({
                "config": config, "column": column, "n_a": x.size, "n_b": y.size,
                "mean_a": float(x.mean()), "mean_b": float(y.mean()), "ks": ks_statistic(x, y),
                "ks_p": float(ks_2samp(x, y).pvalue), "psi": psi(x, y, bins=bins),
            })
    return pd.DataFrame(rows, columns=["config", "column", "n_a", "n_b", "mean_a", "mean_b", "ks", "ks_p", "psi"])
