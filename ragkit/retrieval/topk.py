"""Exact per-query top-k over a dense score block, shared by the lexical and dense retrievers.

Every retriever ranks with this one function, so they all break ties the same way:
by descending score, then by ascending item index. Items outside an optional
candidate mask are never returned, so a query may get fewer than ``k`` results.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ragkit.errors import ConfigError, DataValidationError


class TopK(NamedTuple):
    """Ragged per-query results of :func:`topk`: ``indices[i]`` and ``scores[i]`` are best first."""

    indices: list[np.ndarray]  # int64 item indices, one array per query
    scores: list[np.ndarray]  # the matching scores, same dtype as the input block


def _check(scores: np.ndarray, k: int, mask: np.ndarray | None) -> np.ndarray | None:
    if scores.ndim != 2:
        raise DataValidationError(
            f"topk: scores must be a 2-D (n_queries, n_items) array, got shape {scores.shape}; "
            "wrap a single query's scores as scores[None, :]"
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ConfigError(f"topk: k must be an integer >= 0, got {k!r}")
    if np.isnan(scores).any():
        raise DataValidationError("topk: scores contain NaN; NaN has no rank, replace it (e.g. with -inf) first")
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=bool)
    if mask.shape not in (scores.shape, scores.shape[1:]):
        raise DataValidationError(
            f"topk: mask shape {mask.shape} does not fit scores {scores.shape}; "
            f"give one row for all queries {scores.shape[1:]} or one per query {scores.shape}"
        )
    return np.broadcast_to(mask, scores.shape)


def topk(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> TopK:
    """The ``k`` best items of every row of ``scores``, sorted by score desc, ties by ascending index.

    Args:
        scores: ``(n_queries, n_items)`` float array; NaN is rejected.
        k: how many items per query; ``k = 0`` gives empty results, ``k > n_items``
            gives every (candidate) item.
        mask: optional boolean candidate mask, ``(n_items,)`` shared by every query or
            ``(n_queries, n_items)``; ``False`` items are never returned, so a row may
            get fewer than ``k`` results.

    Returns:
        A :class:`TopK` of per-query arrays (ragged: lengths may differ with a mask).

    Example:
        >>> res = topk(np.array([[0.5, 2.0, 0.5, 1.0]]), k=3)
        >>> res.indices[0].tolist(), res.scores[0].tolist()
        ([1, 3, 0], [2.0, 1.0, 0.5])
        >>> topk(np.array([[0.5, 2.0, 0.5, 1.0]]), k=3, mask=np.array([True, False, True, False])).indices[0].tolist()
        [0, 2]
    """
    scores = np.asarray(scores)
    mask = _check(scores, k, mask)
    n_queries, n_items = scores.shape
    k = min(int(k), n_items)
    if k == 0:
        empty_i, empty_s = np.empty(0, dtype=np.int64), np.empty(0, dtype=scores.dtype)
        return TopK([empty_i] * n_queries, [empty_s] * n_queries)
    work = scores if mask is None else np.where(mask, scores, -np.inf)
    # Vectorised pass: argpartition picks k items per row, lexsort orders them by
    # (score desc, index asc). It is exact unless the row has a tie across the cut
    # (argpartition picks arbitrarily among equal values) or fewer than k candidates.
    if k < n_items:
        # subtle: selecting the k smallest of -work is several times faster than the k
        # largest of work when many entries are equal (masked -inf, BM25 zeros).
        picked = np.argpartition(-work, k - 1, axis=1)[:, :k]
    else:
        picked = np.broadcast_to(np.arange(n_items), work.shape)
    picked_vals = np.take_along_axis(work, picked, axis=1)
    order = np.lexsort((picked, -picked_vals), axis=1)
    top = np.take_along_axis(picked, order, axis=1).astype(np.int64, copy=False)
    kth = np.take_along_axis(picked_vals, order[:, -1:], axis=1)  # (n_queries, 1)
    redo = (work >= kth).sum(axis=1) > k
    if mask is not None:
        redo |= mask.sum(axis=1) < k
    indices = list(top)
    for i in np.flatnonzero(redo):
        indices[i] = _exact_row(work[i], k, kth[i, 0], None if mask is None else mask[i])
    values = [scores[i, idx] for i, idx in enumerate(indices)]
    return TopK(indices, values)


def _exact_row(row: np.ndarray, k: int, kth: float, mask: np.ndarray | None) -> np.ndarray:
    """Top-k of one row when ties cross the cut or candidates are few: every item >= kth competes."""
    cand = np.flatnonzero(row >= kth)  # ascending index
    if mask is not None:
        # subtle: masked items are -inf in ``row`` and would pass a -inf threshold.
        cand = cand[mask[cand]]
    order = np.argsort(-row[cand], kind="stable")[:k]  # stable keeps ascending index within ties
    return cand[order].astype(np.int64, copy=False)
