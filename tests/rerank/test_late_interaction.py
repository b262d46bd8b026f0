"""Late-interaction (ColBERT MaxSim) reranker over the shared bi-encoder's token embeddings."""

from __future__ import annotations

import doctest

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
    "The mobile app supports dark mode since version 2.3.",
    "Support is available by email around the clock.",
    "Our office dog is named Biscuit and loves tennis balls.",
]
QUERIES = [
    Query("q1", "How much memory does the Flow Agent require?"),
    Query("q2", "How long are backups retained?"),
    Query("q3", "What is the name of the office dog?"),
]


def _chunks() -> dict[str, Chunk]:
    return {f"c{i}": Chunk(f"c{i}", f"d{i}", t, 0, len(t)) for i, t in enumerate(TEXTS)}


def _reverse_run() -> Run:
    """A deliberately bad first stage: every chunk, with the right answer ranked low."""
    hits = [Hit(f"c{i}", f"d{i}", float(i)) for i in range(len(TEXTS))]
    return Run({q.id: hits for q in QUERIES})


@pytest.fixture(scope="module")
def reranker(embedder):
    return RERANKERS.create("late_interaction", {"device": "cpu"})


def test_maxsim_golden():
    from ragkit.rerank.late_interaction import maxsim

    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    d = np.array([[1.0, 0.0], [0.6, 0.8], [-1.0, 0.0]])
    assert maxsim(q, d) == pytest.approx(1.0 + 0.8)
    assert maxsim(q[:1], d[2:]) == pytest.approx(-1.0)  # a single negative match stays negative
    assert maxsim(q[:0], d) == 0.0 and maxsim(q, d[:0]) == 0.0


def test_batched_maxsim_matches_reference_with_padding():
    """Padding is zero vectors: with all-negative similarities a padded 0 would win a max if it were not masked."""
    from ragkit.rerank.late_interaction import maxsim, maxsim_pairs

    rng = np.random.default_rng(0)

    def unit(n):
        a = rng.normal(size=(n, 16)).astype(np.float32)
        return a / np.linalg.norm(a, axis=1, keepdims=True)

    qs = [unit(int(n)) for n in rng.integers(1, 9, size=40)]
    ds = [unit(int(n)) for n in rng.integers(1, 30, size=40)]
    ds[3] = -np.repeat(qs[3][:1], 2, axis=0)  # every similarity of q3's first token is negative
    got = maxsim_pairs(qs, ds)
    want = np.array([maxsim(q, d) for q, d in zip(qs, ds)])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert maxsim_pairs(qs[:1], [ds[0][:0]])[0] == 0.0  # empty document


def test_token_embeddings_drop_special_and_padding_tokens(embedder):
    from ragkit.core.token_embeddings import token_embeddings

    texts = ["short", "a somewhat longer sentence, with punctuation!", "x " * 400]
    arrs = token_embeddings(embedder, texts, batch_size=2)
    limit = embedder.max_seq_length - 2  # [CLS] and [SEP] take two of the slots
    for text, arr in zip(texts, arrs):
        n = len(embedder.tokenizer(text, add_special_tokens=False).input_ids)
        assert arr.shape == (min(n, limit), embedder.dim) and arr.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(arr, axis=1), 1.0, atol=1e-5)
    # batching and order do not change the result
    alone = token_embeddings(embedder, texts[1:2])[0]
    np.testing.assert_allclose(alone, arrs[1], atol=1e-5)


def test_shares_the_dense_retrievers_model(reranker, embedder):
    from ragkit.core.models import get_embedder, loaded_models, resolve_model_path

    reranker.rerank(QUERIES, _reverse_run(), _chunks(), k=3)
    assert reranker.embedder is get_embedder("default", device="cpu") is embedder
    assert sum(m.startswith(resolve_model_path("default") + " (cpu") for m in loaded_models()) == 1


def test_rerank_bounds_depth_and_determinism(reranker):
    r = RERANKERS.create("late_interaction", {"device": "cpu", "depth": 6})
    first = _reverse_run()
    out = r.rerank(QUERIES, first, _chunks(), k=4)
    for q in QUERIES:
        top_depth = {h.chunk_id for h in first[q.id][:6]}
        assert 0 < len(out[q.id]) <= 4
        assert {h.chunk_id for h in out[q.id]} <= top_depth
    again = r.rerank(QUERIES, first, _chunks(), k=4)
    assert out.to_dict() == again.to_dict()
    assert set(r.last_timings) == {q.id for q in QUERIES} and all(t >= 0 for t in r.last_timings.values())


def test_obvious_answers_rank_first(reranker):
    out = reranker.rerank(QUERIES, _reverse_run(), _chunks(), k=3)
    assert [out[q.id][0].chunk_id for q in QUERIES] == ["c0", "c6", "c9"]


def test_scores_equal_reference_maxsim(reranker, embedder):
    from ragkit.core.token_embeddings import token_embeddings
    from ragkit.rerank.late_interaction import maxsim

    out = reranker.rerank(QUERIES[:1], _reverse_run(), _chunks(), k=3)
    q = token_embeddings(embedder, [QUERIES[0].text])[0]
    for h in out["q1"]:
        d = token_embeddings(embedder, [TEXTS[int(h.chunk_id[1:])]])[0]
        assert h.score == pytest.approx(maxsim(q, d), abs=1e-4)


def test_chunks_are_embedded_once(reranker, monkeypatch):
    import ragkit.core.token_embeddings as te

    reranker.rerank(QUERIES, _reverse_run(), _chunks(), k=3)  # fills the cache
    seen = []
    real = te.token_embeddings
    monkeypatch.setattr(te, "token_embeddings", lambda emb, texts, **kw: seen.extend(texts) or real(emb, texts, **kw))
    reranker.rerank(QUERIES, _reverse_run(), _chunks(), k=3)
    assert sorted(seen) == sorted(q.text for q in QUERIES)  # only the queries are encoded again


def test_edge_cases_and_errors(reranker):
    assert reranker.rerank(QUERIES, Run({}), _chunks(), k=3).to_dict() == {"q1": {}, "q2": {}, "q3": {}}
    assert reranker.rerank(QUERIES, _reverse_run(), _chunks(), k=0).to_dict() == {"q1": {}, "q2": {}, "q3": {}}
    with pytest.raises(DataValidationError, match="not in the chunks mapping"):
        reranker.rerank(QUERIES, Run({"q1": [Hit("nope", "d", 1.0)]}), _chunks(), k=3)
    with pytest.raises(ConfigError, match="k must be"):
        reranker.rerank(QUERIES, _reverse_run(), _chunks(), k=-1)
    with pytest.raises(ConfigError, match="depth"):
        RERANKERS.create("late_interaction", {"depth": 0})


def test_docstring_examples(embedder):
    import ragkit.rerank.late_interaction as li

    result = doctest.testmod(li, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
