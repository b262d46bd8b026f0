from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ragkit.errors import ConfigError
from ragkit.metrics.drift import PSI_EPSILON, drift_table, ks_statistic, psi


def test_ks_golden_and_scipy():
    assert ks_statistic([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 0.0
    assert ks_statistic([0.0, 1.0], [2.0, 3.0]) == 1.0
    # F_a jumps to 1/2 at 1 while F_b is 0 until 1.5 -> D = 1/2.
    assert ks_statistic([1.0, 2.0], [1.5, 2.5]) == 0.5
    rng = np.random.default_rng(0)
    a, b = np.round(rng.normal(size=57), 1), np.round(rng.normal(0.3, 1.2, size=80), 1)  # ties included
    assert ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)


def test_psi_golden():
    e = [1.0, 2.0, 3.0, 4.0]  # bins=2 -> inner edge at median 2.5: shares (0.5, 0.5)
    assert psi(e, e, bins=2) == 0.0
    # actual: 3 of 4 below 2.5 -> shares (0.75, 0.25):
    want = (0.75 - 0.5) * np.log(0.75 / 0.5) + (0.25 - 0.5) * np.log(0.25 / 0.5)
    assert psi(e, [1.0, 1.5, 2.0, 3.0], bins=2) == pytest.approx(want)
    # all actual values above: the empty bin's share is floored at epsilon.
    want = (PSI_EPSILON - 0.5) * np.log(PSI_EPSILON / 0.5) + (1 - 0.5) * np.log(1 / 0.5)
    assert psi(e, [9.0, 9.0], bins=2) == pytest.approx(want)
    with pytest.raises(ConfigError, match="bins"):
        psi(e, e, bins=1)
    with pytest.raises(ConfigError, match="no non-NaN"):
        psi([], e)


def _run(cos: np.ndarray, config: str = "c | bm25") -> pd.DataFrame:
    return pd.DataFrame({"config": config, "query_id": [f"q{i}" for i in range(len(cos))],
                         "top1_cosine": cos, "mean_cosine@20": cos - 0.1})


def test_drift_table_identical_and_shifted():
    rng = np.random.default_rng(0)
    base = rng.normal(0.5, 0.1, 300)
    same = drift_table(_run(base), _run(base))
    assert list(same.columns) == ["config", "column", "n_a", "n_b", "mean_a", "mean_b", "ks", "ks_p", "psi"]
    assert same["column"].tolist() == ["top1_cosine", "mean_cosine@20"]
    assert (same["ks"] == 0.0).all() and same["psi"].abs().max() < 1e-12 and (same["ks_p"] == 1.0).all()
    shifted = drift_table(_run(base), _run(rng.normal(0.65, 0.1, 300)))
    assert (shifted["psi"] > 0.25).all() and (shifted["ks_p"] < 1e-6).all()


def test_drift_table_only_shared_configs():
    a = pd.concat([_run(np.linspace(0, 1, 20)), _run(np.linspace(0, 1, 20), "only-a")])
    out = drift_table(a, _run(np.linspace(0, 1, 20)), ["top1_cosine"])
    assert out["config"].tolist() == ["c | bm25"]
