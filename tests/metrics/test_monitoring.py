from __future__ import annotations

import math

import numpy as np

from ragkit.data.types import Hit, Query, Run
from ragkit.metrics.monitoring import cosine_monitor


def test_cosine_monitor_values(embedder):
    texts = {"a": "refunds are paid within thirty days", "b": "deploys happen on tuesdays", "c": "vacation is 25 days"}
    queries = [Query("q1", "how long do refunds take"), Query("q2", "nothing retrieved")]
    run = Run({"q1": [Hit("a", "A", 3.0), Hit("b", "B", 2.0), Hit("c", "C", 1.0)], "q2": []})
    df = cosine_monitor(run, queries, texts, embedder, k=2)
    q = embedder.encode(["how long do refunds take"])[0]
    cos = embedder.encode([texts["a"], texts["b"]]) @ q
    assert np.isclose(df.loc["q1", "top1_cosine"], cos[0], atol=1e-6)
    assert np.isclose(df.loc["q1", "mean_cosine@2"], cos.mean(), atol=1e-6)  # k=2: the third hit is ignored
    assert np.isclose(df.loc["q1", "top1_top2_margin"], cos[0] - cos[1], atol=1e-6)
    assert df.loc["q1", "top1_cosine"] > df.loc["q1", "mean_cosine@2"]  # the refund chunk is the closest
    assert all(math.isnan(v) for v in df.loc["q2"])
