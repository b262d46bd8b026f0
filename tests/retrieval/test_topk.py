from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ragkit.errors import ConfigError, DataValidationError
from ragkit.retrieval.topk import topk


def _lists(res):
    return [i.tolist() for i in res.indices], [s.tolist() for s in res.scores]


def test_sorted_by_score_then_ascending_index():
    scores = np.array([[1.0, 3.0, 2.0, 3.0, 1.0], [0.0, 0.0, 0.0, 0.0, 5.0]])
    idx, val = _lists(topk(scores, k=3))
    assert idx == [[1, 3, 2], [4, 0, 1]]
    assert val == [[3.0, 3.0, 2.0], [5.0, 0.0, 0.0]]


def test_ties_at_the_cutoff_keep_the_lowest_indices():
    scores = np.full((1, 100), 7.0)
    scores[0, 50] = 9.0
    assert topk(scores, k=4).indices[0].tolist() == [50, 0, 1, 2]


def test_shared_mask_removes_items_even_if_fewer_than_k_remain():
    scores = np.array([[5.0, 4.0, 3.0, 2.0], [1.0, 2.0, 3.0, 4.0]])
    mask = np.array([False, True, False, True])
    idx, val = _lists(topk(scores, k=3, mask=mask))
    assert idx == [[1, 3], [3, 1]]
    assert val == [[4.0, 2.0], [4.0, 2.0]]


def test_per_query_mask_and_negative_infinite_scores():
    scores = np.array([[-np.inf, 1.0, -np.inf], [-np.inf, -np.inf, -np.inf]])
    mask = np.array([[True, False, False], [False, False, False]])
    idx, val = _lists(topk(scores, k=2, mask=mask))
    # a valid -inf item is still a candidate; masked items never are
    assert idx == [[0], []]
    assert val == [[-np.inf], []]


def test_k_larger_than_n_returns_everything_sorted():
    idx, val = _lists(topk(np.array([[0.1, 0.3, 0.2]]), k=10))
    assert idx == [[1, 2, 0]]
    assert val == [[0.3, 0.2, 0.1]]


def test_k_zero_and_empty_blocks():
    assert _lists(topk(np.array([[1.0, 2.0]]), k=0)) == ([[]], [[]])
    assert _lists(topk(np.zeros((2, 0)), k=5)) == ([[], []], [[], []])
    assert _lists(topk(np.zeros((0, 4)), k=5)) == ([], [])


def test_keeps_dtype_and_returns_int64_indices():
    res = topk(np.array([[1, 2]], dtype=np.float32), k=1)
    assert res.scores[0].dtype == np.float32 and res.indices[0].dtype == np.int64


@pytest.mark.parametrize(
    ("scores", "k", "mask", "error"),
    [
        (np.zeros(3), 1, None, DataValidationError),
        (np.array([[np.nan, 1.0]]), 1, None, DataValidationError),
        (np.zeros((1, 3)), -1, None, ConfigError),
        (np.zeros((1, 3)), 1.5, None, ConfigError),
        (np.zeros((1, 3)), 1, np.ones(2, dtype=bool), DataValidationError),
    ],
)
def test_bad_input_is_rejected_with_a_clear_error(scores, k, mask, error):
    with pytest.raises(error):
        topk(scores, k, mask)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda nq: st.integers(0, 12).flatmap(
            lambda n: st.tuples(
                st.lists(st.lists(st.integers(-3, 3), min_size=n, max_size=n), min_size=nq, max_size=nq),
                st.lists(st.booleans(), min_size=n, max_size=n),
                st.integers(0, 15),
            )
        )
    )
)
def test_matches_a_full_sort(case):
    rows, mask, k = case
    scores = np.array(rows, dtype=np.float64).reshape(len(rows), len(mask))
    res = topk(scores, k, np.array(mask, dtype=bool))
    for i, row in enumerate(scores):
        expected = sorted((j for j in range(len(row)) if mask[j]), key=lambda j: (-row[j], j))[:k]
        assert res.indices[i].tolist() == expected
        assert res.scores[i].tolist() == [row[j] for j in expected]


@pytest.mark.parametrize("k", [1, 7, 50, 64])
def test_distinct_and_tied_scores_on_a_random_block_match_a_full_sort(k):
    rng = np.random.default_rng(k)
    scores = rng.normal(size=(40, 64))
    scores[::3] = np.round(scores[::3])  # every third row has many ties
    mask = rng.random((40, 64)) < 0.8
    mask[5, :60] = False  # a row with fewer than k candidates
    for m in (None, mask):
        res = topk(scores, k, m)
        for i, row in enumerate(scores):
            valid = range(len(row)) if m is None else np.flatnonzero(m[i])
            expected = sorted(valid, key=lambda j: (-row[j], j))[:k]
            assert res.indices[i].tolist() == expected
            assert res.scores[i].tolist() == row[expected].tolist()
