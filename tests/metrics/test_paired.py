from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ragkit.errors import ConfigError, DataValidationError
from ragkit.metrics.paired import compare_to_baseline, holm, permutation_test, wilcoxon


def test_exact_permutation_golden():
    # 8 sign vectors; only (+,+,+) and (-,-,-) reach |sum| = 6.
    assert permutation_test([1.0, 2.0, 3.0], [0.0, 0.0, 0.0]) == 0.25
    # d = [1, -1]: sums 0, 2, -2, 0 -> |0| is reached by all four.
    assert permutation_test([1.0, 0.0], [0.0, 1.0]) == 1.0
    # d = [1, 1, 3]: |sum| >= 5 for (+,+,+), (-,-,-) only; (+,-,+) gives 3.
    assert permutation_test([1.0, 1.0, 3.0], [0.0, 0.0, 0.0]) == 0.25
    assert permutation_test([0.2, 0.2], [0.2, 0.2]) == 1.0
    assert np.isnan(permutation_test([], []))


def test_exact_matches_scipy_permutation_test():
    rng = np.random.default_rng(3)
    a = rng.random(9)
    b = a + rng.normal(0.1, 0.2, 9)
    ref = stats.permutation_test((a, b), lambda x, y: np.mean(x - y), permutation_type="samples", n_resamples=10**6)
    assert permutation_test(a, b) == pytest.approx(ref.pvalue, abs=1e-12)


def test_monte_carlo_close_to_scipy_and_reproducible():
    rng = np.random.default_rng(5)
    a = rng.random(40)
    b = a + rng.normal(0.05, 0.2, 40)
    ref = stats.permutation_test(
        (a, b), lambda x, y, axis: np.mean(x - y, axis=axis), vectorized=True,
        permutation_type="samples", n_resamples=20000, random_state=0,
    ).pvalue
    p = permutation_test(a, b, n_resamples=20000, seed=0)
    assert p == pytest.approx(ref, abs=0.02)
    assert p == permutation_test(a, b, n_resamples=20000, seed=0)
    assert p != permutation_test(a, b, n_resamples=20000, seed=1)


def test_monte_carlo_never_zero():
    a = np.ones(30)
    p = permutation_test(a, np.zeros(30), n_resamples=99, seed=0)
    assert p == 1 / 100  # only all-+ / all-- (chance 2**-29) reach the observed sum: (1 + 0) / (1 + 99)


def test_permutation_rejects_bad_input():
    with pytest.raises(ConfigError, match="one value per query"):
        permutation_test([1.0, 2.0], [1.0])
    with pytest.raises(ConfigError, match="NaN"):
        permutation_test([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ConfigError, match="n_resamples"):
        permutation_test([1.0], [0.0], n_resamples=0)


def test_wilcoxon_matches_scipy_and_all_zero():
    a = [0.5, 0.7, 0.2, 0.9, 0.4, 0.8]
    b = [0.1, 0.5, 0.3, 0.2, 0.4, 0.1]
    d = np.subtract(a, b)
    assert wilcoxon(a, b) == pytest.approx(stats.wilcoxon(d, zero_method="zsplit").pvalue)
    assert wilcoxon([0.3, 0.3, 0.3], [0.3, 0.3, 0.3]) == 1.0


def test_holm_golden():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.4]) == pytest.approx([0.8, 0.8])  # monotone: 2*0.4=0.8, max(0.8, 0.5)
    assert holm([0.9, 0.6]) == [1.0, 1.0]  # capped
    out = holm([0.01, float("nan"), 0.02])
    assert out[0] == pytest.approx(0.02) and np.isnan(out[1]) and out[2] == pytest.approx(0.02)
    assert holm([]) == []


def _long(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"config": c, "query_id": f"q{i}", "m": v}
        for c, vs in values.items() for i, v in enumerate(vs)
    ]
    return pd.DataFrame(rows)


def test_compare_to_baseline_golden():
    df = _long({"base": [0.0, 0.0, 0.0, 0.5], "up": [1.0, 2.0, 3.0, np.nan], "same": [0.0, 0.0, 0.0, 0.5]})
    out = compare_to_baseline(df, "m", "base", n_resamples=1000, seed=0)
    assert out["config"].tolist() == ["up", "same"]
    assert list(out.columns) == [
        "config", "baseline", "metric", "mean", "baseline_mean", "delta", "delta_ci_low", "delta_ci_high",
        "p_permutation", "p_wilcoxon", "p_holm", "n",
    ]
    up = out.iloc[0]
    assert up["n"] == 3  # q3 dropped: NaN for "up"
    assert up["mean"] == 2.0 and up["baseline_mean"] == 0.0 and up["delta"] == 2.0
    assert 1.0 <= up["delta_ci_low"] <= 2.0 <= up["delta_ci_high"] <= 3.0
    assert up["p_permutation"] == 0.25
    same = out.iloc[1]
    assert same["delta"] == 0.0 and same["p_permutation"] == 1.0 and same["p_wilcoxon"] == 1.0
    assert out["p_holm"].tolist() == pytest.approx(holm([0.25, 1.0]))


def test_compare_to_baseline_pairs_on_query_id():
    df = _long({"base": [0.0, 1.0], "x": [1.0, 1.0]})
    shuffled = df.sample(frac=1.0, random_state=0)
    out = compare_to_baseline(shuffled, "m", "base")
    assert out.loc[0, "delta"] == 0.5


def test_compare_to_baseline_errors():
    df = _long({"base": [0.0, 1.0], "x": [1.0, 1.0]})
    with pytest.raises(ConfigError, match="unknown baseline 'nope'"):
        compare_to_baseline(df, "m", "nope")
    with pytest.raises(ConfigError, match="lacks column"):
        compare_to_baseline(df, "doc:ndcg@10", "base")
    with pytest.raises(DataValidationError, match="duplicate"):
        compare_to_baseline(pd.concat([df, df]), "m", "base")
