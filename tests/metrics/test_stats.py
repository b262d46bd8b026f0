"""Tests for ragkit.metrics.stats: the percentile bootstrap and the per-metric summary."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from ragkit.errors import ConfigError
from ragkit.metrics.stats import bootstrap_ci, summarize


def _sample(n: int, seed: int = 0) -> np.ndarray:
    """Metric-like values in [0, 1]: a third are zeros, the rest uniform."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 1 / 3, 0.0, rng.random(n))


def test_ci_contains_the_mean():
    for seed in range(5):
        x = _sample(100, seed)
        low, high = bootstrap_ci(x, seed=seed)
        assert low < x.mean() < high


def test_ci_is_deterministic_for_a_seed():
    x = _sample(50)
    assert bootstrap_ci(x, seed=3) == bootstrap_ci(x, seed=3)
    assert bootstrap_ci(x, seed=3) != bootstrap_ci(x, seed=4)


def test_ci_narrows_with_more_data():
    small = np.subtract(*bootstrap_ci(_sample(20))[::-1])
    large = np.subtract(*bootstrap_ci(_sample(2000))[::-1])
    assert 0 < large < small / 5  # width shrinks like 1 / sqrt(n): sqrt(100) = 10


def test_ci_wider_with_more_confidence():
    x = _sample(100)
    l90, h90 = bootstrap_ci(x, confidence=0.90)
    l99, h99 = bootstrap_ci(x, confidence=0.99)
    assert l99 < l90 and h90 < h99


def test_ci_edge_cases():
    assert all(math.isnan(v) for v in bootstrap_ci([]))
    assert bootstrap_ci([0.3]) == (0.3, 0.3)
    assert bootstrap_ci([0.7] * 40) == (0.7, 0.7)  # constant values: no spread at all


def test_ci_hand_checked_two_values():
    # Resampling [0, 1] twice gives the mean 0 (p = 1/4), 0.5 (p = 1/2) or 1 (p = 1/4).
    # With confidence 0.4 the bounds are the 30th and 70th percentiles of the
    # resampled means; both fall inside the 0.5 block (0.25 < 0.3 and 0.7 < 0.75).
    assert bootstrap_ci([0.0, 1.0], confidence=0.4, n_resamples=20_000) == (0.5, 0.5)
    # At 95% the 2.5th / 97.5th percentiles sit in the end blocks.
    assert bootstrap_ci([0.0, 1.0], n_resamples=20_000) == (0.0, 1.0)


def test_ci_matches_scipy_percentile_bootstrap():
    x = _sample(200, seed=11)
    ours = bootstrap_ci(x, n_resamples=10_000, seed=0)
    ref = sps.bootstrap((x,), np.mean, method="percentile", n_resamples=10_000, rng=np.random.default_rng(0))
    assert ours == pytest.approx((ref.confidence_interval.low, ref.confidence_interval.high), abs=0.01)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_resamples": 0}, "n_resamples"), ({"n_resamples": 1.5}, "n_resamples"),
     ({"confidence": 1.0}, "confidence"), ({"confidence": 0}, "confidence"), ({"confidence": "95%"}, "confidence")],
)
def test_ci_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        bootstrap_ci([0.1, 0.2], **kwargs)


def test_ci_rejects_nan():
    with pytest.raises(ConfigError, match="1 NaN"):
        bootstrap_ci([0.1, float("nan"), 0.3])


def _per_query(n: int = 300, m: int = 36) -> pd.DataFrame:
    cols = {f"metric{j}@{j + 1}": _sample(n, seed=j) for j in range(m)}
    return pd.DataFrame(cols, index=pd.Index([f"q{i}" for i in range(n)], name="query_id"))


def test_summarize_matches_bootstrap_ci_per_column():
    df = _per_query(120, 4)
    out = summarize(df, n_resamples=500, seed=5)
    assert list(out.columns) == ["mean", "ci_low", "ci_high", "n"]
    assert out.index.tolist() == df.columns.tolist() and out.index.name == "metric"
    for col in df.columns:
        low, high = bootstrap_ci(df[col].to_numpy(), n_resamples=500, seed=5)
        assert out.loc[col, "mean"] == pytest.approx(df[col].mean(), abs=1e-12)
        assert (out.loc[col, "ci_low"], out.loc[col, "ci_high"]) == pytest.approx((low, high), abs=1e-12)
        assert out.loc[col, "n"] == 120


def test_summarize_edge_cases():
    empty = summarize(pd.DataFrame({"ndcg@10": pd.Series([], dtype=float)}))
    assert empty.loc["ndcg@10", "n"] == 0
    assert empty.loc["ndcg@10", ["mean", "ci_low", "ci_high"]].isna().all()
    one = summarize(pd.DataFrame({"ndcg@10": [0.4]}))
    assert one.loc["ndcg@10"].tolist() == [0.4, 0.4, 0.4, 1]
    with pytest.raises(ConfigError, match="non-numeric"):
        summarize(pd.DataFrame({"ndcg@10": [0.4], "name": ["x"]}))
    with pytest.raises(ConfigError, match="DataFrame"):
        summarize([0.4])  # type: ignore[arg-type]


def test_summarize_is_fast():
    df = _per_query(300, 36)
    summarize(df)  # warm-up
    start = time.perf_counter()
    summarize(df)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.1, f"summarize took {elapsed:.3f}s for 300 queries x 36 metrics"
