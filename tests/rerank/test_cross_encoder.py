"""Cross-encoder reranker, exercised with a small cross-encoder built locally from the bundled MiniLM."""

from __future__ import annotations

import numpy as np
import pytest

from ragkit.data.types import Chunk, Hit, Query, Run
from ragkit.errors import ConfigError, DataValidationError
from ragkit.registry import RERANKERS

TEXTS = [
    "The Flow Agent needs 4 GB of RAM and two CPU cores to run.",
    "Pipelines are idempotent: rerunning a crashed pipeline resumes from the last checkpoint.",
    "Invoices are sent on the first business day of each month.",
    "To reset your password, open Settings and choose Security.",
    "The cafeteria serves vegetarian lasagna on Fridays.",
    "API tokens expire after 90 days and must be rotated.",
    "Backups are stored in three regions and kept for 30 days.",
    "Support is available by email around the clock.",
]
QUERIES = [Query("q1", "How much memory does the Flow Agent require?"), Query("q2", "How long are backups retained?")]


def _chunks() -> dict[str, Chunk]:
    return {f"c{i}": Chunk(f"c{i}", f"d{i}", t, 0, len(t), prefix="Doc" if i == 2 else "") for i, t in enumerate(TEXTS)}


def _run() -> Run:
    return Run({q.id: [Hit(f"c{i}", f"d{i}", float(-i)) for i in range(len(TEXTS))] for q in QUERIES})


@pytest.fixture(scope="session")
def ce_path(tmp_path_factory):
    """A cross-encoder: bundled MiniLM + a freshly initialised (seeded) one-logit head, saved to disk."""
    import torch
    from sentence_transformers import CrossEncoder

    from ragkit.core.models import resolve_model_path

    torch.manual_seed(0)
    ce = CrossEncoder(resolve_model_path("default"), num_labels=1, device="cpu")
    path = tmp_path_factory.mktemp("tiny-ce")
    ce.save(str(path))
    return path


def test_loaded_once_per_path_device_dtype(ce_path):
    from ragkit.core.cross_encoders import get_cross_encoder, loaded_cross_encoders

    a = get_cross_encoder(str(ce_path), device="cpu")
    assert a is get_cross_encoder(str(ce_path), device="cpu")
    assert a is get_cross_encoder(str(ce_path), device="cpu", dtype="float32")  # auto is fp32 on CPU
    assert not a.training
    assert sum(str(ce_path) in m for m in loaded_cross_encoders()) == 1


def test_ordering_equals_the_models_own_predict(ce_path):
    from ragkit.core.cross_encoders import get_cross_encoder

    r = RERANKERS.create("cross_encoder", {"model": str(ce_path), "device": "cpu", "depth": 6, "batch_size": 4})
    out = r.rerank(QUERIES, _run(), _chunks(), k=3)
    ce = get_cross_encoder(str(ce_path), device="cpu")
    chunks = _chunks()
    for q in QUERIES:
        ids = [f"c{i}" for i in range(6)]
        raw = ce.predict([(q.text, chunks[c].indexed_text) for c in ids], activation_fn=__import__("torch").nn.Identity())
        want = sorted(zip(ids, raw), key=lambda p: (-p[1], p[0]))[:3]
        assert [h.chunk_id for h in out[q.id]] == [c for c, _ in want]
        np.testing.assert_allclose([h.score for h in out[q.id]], [s for _, s in want], atol=1e-5)
        assert len(out[q.id]) <= 3 and {h.chunk_id for h in out[q.id]} <= set(ids)
    assert out.to_dict() == r.rerank(QUERIES, _run(), _chunks(), k=3).to_dict()
    assert set(r.last_timings) == {"q1", "q2"} and all(t >= 0 for t in r.last_timings.values())


def test_sigmoid_scores_are_sigmoid_of_raw(ce_path):
    raw = RERANKERS.create("cross_encoder", {"model": str(ce_path), "device": "cpu"})
    sig = RERANKERS.create("cross_encoder", {"model": str(ce_path), "device": "cpu", "activation": "sigmoid"})
    a = raw.rerank(QUERIES, _run(), _chunks(), k=8).to_dict()
    b = sig.rerank(QUERIES, _run(), _chunks(), k=8).to_dict()
    for q in a:
        assert a[q].keys() == b[q].keys()
        for c, s in a[q].items():
            assert 0.0 < b[q][c] < 1.0
            assert b[q][c] == pytest.approx(1.0 / (1.0 + np.exp(-s)), abs=1e-5)


def test_edge_cases_and_errors(ce_path, tmp_path):
    r = RERANKERS.create("cross_encoder", {"model": str(ce_path), "device": "cpu"})
    assert r.rerank(QUERIES, Run({}), _chunks(), k=3).to_dict() == {"q1": {}, "q2": {}}
    assert r.last_timings == {"q1": 0.0, "q2": 0.0}
    with pytest.raises(DataValidationError, match="not in the chunks mapping"):
        r.rerank(QUERIES, Run({"q1": [Hit("nope", "d", 1.0)]}), _chunks(), k=3)
    with pytest.raises(ConfigError, match="k must be"):
        r.rerank(QUERIES, _run(), _chunks(), k=1.5)
    with pytest.raises(ConfigError, match="model"):
        RERANKERS.create("cross_encoder", {})
    with pytest.raises(ConfigError, match="activation"):
        RERANKERS.create("cross_encoder", {"model": "x", "activation": "softmax"})
    with pytest.raises(ConfigError, match="does not exist"):
        RERANKERS.create("cross_encoder", {"model": str(tmp_path / "missing")}).rerank(QUERIES, _run(), _chunks())


def test_apportioned_timings_doctest():
    import doctest

    import ragkit.rerank.base as base

    result = doctest.testmod(base, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
