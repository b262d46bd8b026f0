from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ragkit.errors import ConfigError
from ragkit.metrics.signal import auroc, quantiles, signal_quality


def test_auroc_golden():
    # positives 0.9, 0.3; negatives 0.8, 0.1: pairs won 0.9>0.8, 0.9>0.1, 0.3>0.1 -> 3/4.
    assert auroc([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0]) == 0.75
    assert auroc([0.5, 0.5], [1, 0]) == 0.5
    assert auroc([1.0, 0.0], [1, 0]) == 1.0
    assert np.isnan(auroc([0.1, 0.2], [1, 1]))


def test_auroc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    scores = np.round(rng.random(200), 1)  # many ties
    labels = rng.random(200) < scores
    assert auroc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_auroc_rejects_bad_input():
    with pytest.raises(ConfigError, match="one label per score"):
        auroc([0.1, 0.2], [1])
    with pytest.raises(ConfigError, match="NaN"):
        auroc([0.1, np.nan], [1, 0])


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "config": ["a"] * 4 + ["b"] * 4,
        "doc:hit_rate@10": [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, np.nan],
        "top1_cosine": [0.9, 0.8, 0.3, 0.1, 0.5, 0.6, 0.7, 0.8],
        "mean_cosine@5": [0.4, 0.1, 0.3, 0.2, 0.1, 0.1, 0.1, 0.1],
    })


def test_signal_quality_per_config_and_k_agnostic_mean_cosine():
    out = signal_quality(_frame())
    assert list(out.columns) == ["config", "signal", "auroc", "n", "base_rate"]
    assert set(out["signal"]) == {"top1_cosine", "mean_cosine@5"}  # margin absent: skipped
    a_top = out[(out.config == "a") & (out.signal == "top1_cosine")].iloc[0]
    assert a_top["auroc"] == 0.75 and a_top["n"] == 4 and a_top["base_rate"] == 0.5
    a_mean = out[(out.config == "a") & (out.signal == "mean_cosine@5")].iloc[0]
    assert a_mean["auroc"] == 1.0  # positives 0.4, 0.3 beat negatives 0.1, 0.2
    b_top = out[(out.config == "b") & (out.signal == "top1_cosine")].iloc[0]
    assert b_top["n"] == 3 and np.isnan(b_top["auroc"]) and b_top["base_rate"] == 1.0  # NaN row dropped


def test_signal_quality_missing_success_is_empty():
    assert signal_quality(_frame(), success="chunk:hit_rate@10").empty


def test_quantiles_per_config():
    out = quantiles(_frame(), ["top1_cosine", "nope"], qs=(0.0, 0.5, 1.0))
    assert list(out.columns) == ["config", "column", "n", "mean", "p0", "p50", "p100"]
    a = out[out.config == "a"].iloc[0]
    assert a["p0"] == 0.1 and a["p100"] == 0.9 and a["p50"] == pytest.approx(0.55) and a["mean"] == pytest.approx(0.525)
    with pytest.raises(ConfigError, match="quantile levels"):
        quantiles(_frame(), ["top1_cosine"], qs=(1.5,))
