"""Cross-encoder fine-tuning on CPU for a few steps, from the bundled MiniLM with a fresh head."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ragkit.train.base import ModelFolder
from ragkit.train.mining import MinedSet
from ragkit.train.reranker import RerankerTrainConfig, pairs_with_labels, train_reranker

TINY = {"max_steps": 2, "batch_size": 4, "max_length": 48, "save_steps": 1000, "logging_steps": 1}


def test_pairs_with_labels_golden():
    frame = pd.DataFrame({"anchor": ["q1", "q2"], "positive": ["p1", "p2"], "negative_1": ["a1", "a2"], "negative_2": ["b1", "b2"]})
    pairs = pairs_with_labels(MinedSet(frame, 2))
    assert pairs.values.tolist() == [
        ["q1", "p1", 1.0], ["q1", "a1", 0.0], ["q1", "b1", 0.0],
        ["q2", "p2", 1.0], ["q2", "a2", 0.0], ["q2", "b2", 0.0],
    ]


@pytest.mark.parametrize("loss", ["bce", "listwise"])
def test_train_save_load_predict(tiny_mined, tmp_path, loss):
    folder = ModelFolder(tmp_path / "rr", key=loss)
    out = train_reranker(tiny_mined, RerankerTrainConfig(loss=loss, **TINY), folder, device="cpu", seed=0)
    assert out.steps == 2 and len(out.losses) == 2 and all(np.isfinite(out.losses))
    header = json.loads((folder.path / "ragkit.json").read_text())
    assert header["kind"] == "reranker" and header["n_train"] == (24 if loss == "bce" else 8)

    from ragkit.core.cross_encoders import get_cross_encoder
    from ragkit.data.types import Chunk, Hit, Query, Run
    from ragkit.registry import RERANKERS

    ce = get_cross_encoder(str(folder.path), device="cpu")
    assert ce.num_labels == 1
    scores = ce.predict([("what is rust", "Rust is iron oxide."), ("what is rust", "Owls hunt at night.")])
    assert np.asarray(scores).shape == (2,) and np.isfinite(scores).all()
    # the folder plugs into the cross_encoder reranker like any hub model
    rr = RERANKERS.create("cross_encoder", {"model": str(folder.path), "device": "cpu", "depth": 2})
    chunks = {"a#0": Chunk("a#0", "a", "Rust is iron oxide.", 0, 19), "b#0": Chunk("b#0", "b", "Owls hunt at night.", 0, 19)}
    run = Run({"q": [Hit("a#0", "a", 0.5), Hit("b#0", "b", 0.4)]})
    assert len(rr.rerank([Query("q", "what is rust")], run, chunks, k=2)["q"]) == 2
