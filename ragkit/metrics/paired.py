"""Paired significance tests for comparing two configurations on the same queries.

Two retrieval configurations evaluated on the same queries give paired
per-query scores ``a`` and ``b``. Under the null hypothesis that the two are
exchangeable, each difference ``d_i = a_i - b_i`` is equally likely to have
either sign, so the randomisation (sign-flip) test compares ``|mean(d)|`` with
its distribution over random sign flips (Smucker et al., 2007, recommend it for
IR evaluation). With many configurations against one baseline, the
Holm–Bonferroni step-down procedure controls the family-wise error rate.

References:
    Smucker, M. D., Allan, J. & Carterette, B. (2007). A comparison of
    statistical significance tests for information retrieval evaluation. CIKM.

    Phipson, B. & Smyth, G. K. (2010). Permutation p-values should never be
    zero. Statistical Applications in Genetics and Molecular Biology, 9(1).

    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    Scandinavian Journal of Statistics, 6(2), 65–70.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ragkit.errors import ConfigError, DataValidationError
from ragkit.metrics.stats import bootstrap_ci

__all__ = ["compare_to_baseline", "holm", "permutation_test", "wilcoxon"]

_EXACT_MAX_N = 12  # 2**12 = 4096 sign vectors: cheaper to enumerate than to sample
_BATCH_CELLS = 2_000_000  # bound the (resamples x queries) sign matrix to ~16 MB per batch


def _differences(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> np.ndarray:
    """``a - b`` as a float vector; lengths must match and values be finite."""
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ConfigError(
            f"paired test needs one value per query in both samples; got {x.size} and {y.size} values; "
            "align them on query id first (compare_to_baseline does)"
        )
    d = x - y
    if not np.isfinite(d).all():
        raise ConfigError(
            f"paired test got {int((~np.isfinite(d)).sum())} NaN or infinite difference(s); "
            "allowed: finite numbers; drop those queries first"
        )
    return d


def _count_extreme(d: np.ndarray, signs: np.ndarray, observed: float) -> int:
    """Number of sign vectors (rows of ``signs``) whose |sum| reaches the observed |sum|."""
    stats = np.abs(signs @ d)
    # subtle: permuted sums equal to the observed one may differ in the last bits.
    return int((stats >= observed * (1.0 - 1e-12) - 1e-15).sum())


def permutation_test(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    n_resamples: int = 10000,
    seed: int = 0,
) -> float:
    """Two-sided paired randomisation (sign-flip) test of ``mean(a - b) == 0``.

    The statistic is ``|sum(d)|`` for ``d = a - b``. With ``n <= 12`` pairs all
    ``2**n`` sign vectors are enumerated and ``p = #{|sum(s*d)| >= |sum(d)|} / 2**n``
    (exact). Otherwise ``n_resamples`` random sign vectors are drawn and
    ``p = (1 + #extreme) / (1 + n_resamples)`` (Phipson & Smyth, 2010), so the
    p-value is never 0.

    Args:
        a: per-query scores of one configuration.
        b: per-query scores of the other, in the same query order.
        n_resamples: random sign vectors in the Monte-Carlo case.
        seed: seed of ``numpy.random.default_rng``; the same seed gives the same p-value.

    Returns:
        The p-value in (0, 1]; NaN for no pairs; 1.0 when every difference is 0.

    Raises:
        ConfigError: lengths differ, non-finite values, or bad ``n_resamples``.

    Example:
        >>> permutation_test([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])  # only all-+ and all-- reach |6|
        0.25
    """
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ConfigError(f"n_resamples must be a positive integer; got {n_resamples!r}; use e.g. 10000")
    d = _differences(a, b)
    n = d.size
    if n == 0:
        return float("nan")
    observed = abs(float(d.sum()))
    if n <= _EXACT_MAX_N:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))  # (2**n, n)
        return _count_extreme(d, signs, observed) / len(signs)
    rng = np.random.default_rng(seed)
    batch = max(1, _BATCH_CELLS // n)
    extreme = 0
    for start in range(0, n_resamples, batch):
        size = min(batch, n_resamples - start)
        signs = rng.integers(0, 2, size=(size, n)).astype(np.float64) * 2.0 - 1.0  # (size, n)
        extreme += _count_extreme(d, signs, observed)
    return (1 + extreme) / (1 + n_resamples)


def wilcoxon(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank test of paired scores (``scipy.stats.wilcoxon``).

    Zero differences are common with IR metrics (both configurations miss, or
    both rank the same document first). They are kept with
    ``zero_method="zsplit"``: their ranks are split evenly between the positive
    and negative sums, so ties dilute the evidence instead of being discarded.

    Args:
        a: per-query scores of one configuration.
        b: per-query scores of the other, in the same query order.

    Returns:
        The p-value; 1.0 when every difference is 0; NaN for no pairs.

    Raises:
        ConfigError: lengths differ or non-finite values.

    Example:
        >>> wilcoxon([0.5, 0.5], [0.5, 0.5])
        1.0
    """
    from scipy import stats

    d = _differences(a, b)
    if d.size == 0:
        return float("nan")
    if not d.any():
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns about the normal approximation for small n
        return float(stats.wilcoxon(d, zero_method="zsplit").pvalue)


def holm(pvalues: Sequence[float] | np.ndarray) -> list[float]:
    """Holm–Bonferroni adjusted p-values (Holm, 1979).

    With the ``m`` p-values sorted ascending, the adjusted ``j``-th (from 0) is
    ``max_{i <= j} (m - i) * p_(i)``, capped at 1, so adjusted values keep the
    order of the raw ones. NaN p-values stay NaN and do not count in ``m``.

    Args:
        pvalues: raw p-values, in any order.

    Returns:
        Adjusted p-values in the input order.

    Example:
        >>> [round(p, 10) for p in holm([0.01, 0.04, 0.03])]
        [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = valid.size
    if m == 0:
        return out.tolist()
    order = valid[np.argsort(p[valid], kind="stable")]
    scaled = (m - np.arange(m)) * p[order]
    out[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return out.tolist()


def _paired_frame(per_query: pd.DataFrame, metric: str) -> pd.DataFrame:
    """query_id x config table of ``metric``; duplicates and missing columns are refused."""
    needed = {"config", "query_id", metric}
    missing = sorted(needed - set(per_query.columns))
    if missing:
        metrics = [c for c in per_query.columns if ":" in str(c)]
        raise ConfigError(
            f"per-query table lacks column(s) {missing}; metric columns present: {metrics[:12]}; "
            "pass a metric named as in per_query.parquet, e.g. 'doc:ndcg@10'"
        )
    dup = per_query.duplicated(["config", "query_id"])
    if dup.any():
        first = per_query.loc[dup, ["config", "query_id"]].iloc[0].tolist()
        raise DataValidationError(
            f"per-query table has {int(dup.sum())} duplicate (config, query_id) rows, e.g. {first}; "
            "expected one row per configuration and query"
        )
    wide = per_query.pivot(index="query_id", columns="config", values=metric)
    return wide.reindex(columns=pd.unique(per_query["config"]))  # keep the run's config order


def compare_to_baseline(
    per_query: pd.DataFrame,
    metric: str,
    baseline: str,
    *,
    n_resamples: int = 10000,
    seed: int = 0,
) -> pd.DataFrame:
    """Paired comparison of every configuration with a baseline on one metric.

    Each configuration is paired with the baseline on the queries both have a
    non-NaN value for. ``delta = mean(config - baseline)`` with a percentile
    bootstrap CI of the paired differences; ``p_holm`` adjusts the permutation
    p-values over all configurations compared.

    Args:
        per_query: long table with ``config``, ``query_id`` and the metric column.
        metric: metric column, e.g. ``"doc:ndcg@10"``.
        baseline: the configuration every other one is compared with.
        n_resamples: resamples of the permutation test and of the bootstrap.
        seed: seed of both.

    Returns:
        One row per other configuration: ``config, baseline, metric, mean,
        baseline_mean, delta, delta_ci_low, delta_ci_high, p_permutation,
        p_wilcoxon, p_holm, n``.

    Raises:
        ConfigError: unknown baseline or metric column.
        DataValidationError: duplicate (config, query_id) rows.

    Example:
        >>> df = pd.DataFrame({"config": ["a"] * 3 + ["b"] * 3, "query_id": ["q1", "q2", "q3"] * 2,
        ...                    "m": [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]})
        >>> row = compare_to_baseline(df, "m", "a").iloc[0]
        >>> row["config"], float(row["delta"]), float(row["p_permutation"])
        ('b', 2.0, 0.25)
    """
    wide = _paired_frame(per_query, metric)
    if baseline not in wide.columns:
        raise ConfigError(f"unknown baseline {baseline!r}; configurations: {', '.join(map(str, wide.columns))}")
    rows = []
    for config in wide.columns:
        if config == baseline:
            continue
        pair = wide[[config, baseline]].dropna()
        x, y = pair[config].to_numpy(), pair[baseline].to_numpy()
        d = x - y
        low, high = bootstrap_ci(d, n_resamples=n_resamples, seed=seed)
        rows.append({
            "config": config, "baseline": baseline, "metric": metric,
            "mean": float(x.mean()) if len(x) else np.nan,
            "baseline_mean": float(y.mean()) if len(y) else np.nan,
            "delta": float(d.mean()) if len(d) else np.nan,
            "delta_ci_low": low, "delta_ci_high": high,
            "p_permutation": permutation_test(x, y, n_resamples=n_resamples, seed=seed),
            "p_wilcoxon": wilcoxon(x, y), "n": len(d),
        })
    out = pd.DataFrame(rows, columns=[
        "config", "baseline", "metric", "mean", "baseline_mean", "delta", "delta_ci_low",
        "delta_ci_high", "p_permutation", "p_wilcoxon", "n",
    ])
    out.insert(10, "p_holm", holm(out["p_permutation"].to_numpy()) if len(out) else [])
    return out
