"""Score fusion: several rankings of the same queries in, one ranking out.

Pure functions over :class:`~ragkit.data.types.Run` objects (no models, no index):

- :func:`rrf`: reciprocal rank fusion, which uses ranks only;
- :func:`normalize`: per-query min-max or z-score normalisation of scores;
- :func:`weighted_sum`: weighted sum of normalised scores (CombSUM with weights);
- :func:`convex`: ``alpha * a + (1 - alpha) * b``, the usual BM25 + dense mix.

Fusion is keyed by ``chunk_id``, so a chunk appears once in a fused run even when
several inputs (or one input, twice) return it. A fused hit takes its ``doc_id``
from whichever input returned the chunk; two inputs that disagree about a chunk's
document raise :class:`~ragkit.errors.DataValidationError`, since they cannot come
from the same chunking. A fused run holds every query found in any input run, and
is sorted like every :class:`Run` (score descending, ties by ascending chunk id).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from numbers import Real
from typing import Literal

from ragkit.data.types import Hit, Run
from ragkit.errors import ConfigError, DataValidationError

Normalization = Literal["minmax", "zscore", "none"]
NORMALIZATIONS: tuple[str, ...] = ("minmax", "zscore", "none")

# A query's hits of one run after de-duplication: chunk_id -> (doc_id, rank or score).
_Table = dict[str, tuple[str, float]]


# ---------------------------------------------------------------- private kernels
def _query_ids(runs: Sequence[Mapping[str, Sequence[Hit]]]) -> list[str]:
    """Every query id of every run, in first-seen order (so output order is stable)."""
    seen: dict[str, None] = {}
    for run in runs:
        seen.update(dict.fromkeys(run))
    return list(seen)


def _best_ranks(hits: Iterable[Hit]) -> _Table:
    """chunk_id -> (doc_id, 1-based rank), keeping a repeated chunk's first (best-ranked) place.

    A repeat is dropped *before* ranking, so the hits after it move up one place:
    ``[a, b, a, c]`` ranks ``a=1, b=2, c=3``, exactly like the run without the repeat.
    """
    out: _Table = {}
    for h in hits:
        if h.chunk_id not in out:
            out[h.chunk_id] = (h.doc_id, len(out) + 1)
    return out


def _best_scores(hits: Iterable[Hit], qid: str) -> _Table:
    """chunk_id -> (doc_id, score), keeping a repeated chunk's highest score."""
    out: _Table = {}
    for h in hits:
        score = float(h.score)
        if not math.isfinite(score):
            raise DataValidationError(
                f"query '{qid}', chunk '{h.chunk_id}': score is {score}, score fusion needs finite scores; "
                "drop or clip non-finite scores in the retriever, or fuse with rrf (ranks only)"
            )
        prev = out.get(h.chunk_id)
        if prev is None or score > prev[1]:
            out[h.chunk_id] = (h.doc_id, score)
    return out


def _normalized(scores: Sequence[float], method: str) -> list[float]:
    """Min-max or z-score normalisation of one query's scores (population std, ddof=0)."""
    n = len(scores)
    if method == "none" or n == 0:
        return list(scores)
    lo, hi = min(scores), max(scores)
    if method == "minmax":
        # All-equal scores carry no preference: map them to the top of the scale.
        return [1.0] * n if hi == lo else [(s - lo) / (hi - lo) for s in scores]
    mean = math.fsum(scores) / n
    std = math.sqrt(math.fsum((s - mean) ** 2 for s in scores) / n)
    # subtle: test hi == lo too, since fsum(...)/n can leave a rounding residue that
    # would make equal scores look spread out; std can also underflow to 0 for
    # subnormal gaps, where dividing would fail.
    if hi == lo or std == 0.0:
        return [0.0] * n
    return [(s - mean) / std for s in scores]


def _normalized_table(hits: Iterable[Hit], method: str, qid: str) -> tuple[_Table, float]:
    """One run's normalised scores for a query, and the score a chunk it lacks contributes."""
    table = _best_scores(hits, qid)
    normed = _normalized([s for _, s in table.values()], method)
    table = {cid: (doc, s) for (cid, (doc, _)), s in zip(table.items(), normed)}
    # minmax: 0 is the floor of the scale (the observed minimum whenever scores differ).
    # zscore / none: the lowest score the run gave; an absent chunk ranked below
    # everything it returned, so the weakest retrieved score is its best possible value.
    # A run with no hits for the query adds 0 to every chunk, which changes no order.
    fill = 0.0 if method == "minmax" or not normed else min(normed)
    return table, fill


def _rrf_query(runs: Sequence[Mapping[str, Sequence[Hit]]], w: Sequence[float], k: float, qid: str) -> list[Hit]:
    """One query of :func:`rrf`: ``sum_i w_i / (k + rank_i)`` over the runs that return each chunk."""
    scores: dict[str, float] = {}
    docs: dict[str, str] = {}
    for wi, run in zip(w, runs):
        for cid, (doc, rank) in _best_ranks(run.get(qid, ())).items():
            _merge_doc(docs, cid, doc, qid)
            scores[cid] = scores.get(cid, 0.0) + wi / (k + rank)
    return [Hit(cid, docs[cid], s) for cid, s in scores.items()]


def _weighted_query(
    runs: Sequence[Mapping[str, Sequence[Hit]]], w: Sequence[float], method: str, qid: str
) -> list[Hit]:
    """One query of :func:`weighted_sum`: ``sum_i w_i * norm_i``, a missing chunk taking run i's fill."""
    tables = [_normalized_table(run.get(qid, ()), method, qid) for run in runs]
    docs: dict[str, str] = {}
    for table, _ in tables:
        for cid, (doc, _s) in table.items():
            _merge_doc(docs, cid, doc, qid)
    hits = []
    for cid, doc in docs.items():
        score = 0.0
        for wi, (table, fill) in zip(w, tables):
            entry = table.get(cid)
            score += wi * (entry[1] if entry is not None else fill)
        hits.append(Hit(cid, doc, score))
    return hits


def _merge_doc(docs: dict[str, str], chunk_id: str, doc_id: str, qid: str) -> None:
    prev = docs.setdefault(chunk_id, doc_id)
    if prev != doc_id:
        raise DataValidationError(
            f"query '{qid}': chunk '{chunk_id}' belongs to doc '{prev}' in one run and to '{doc_id}' in another; "
            "fused runs must come from the same chunking (same corpus and chunker config)"
        )


def _check_runs(runs: Iterable[Mapping[str, Sequence[Hit]]]) -> list[Mapping[str, Sequence[Hit]]]:
    runs = list(runs)
    if not runs:
        raise ConfigError("fusion needs at least one run, got an empty list; pass a list of Run objects")
    for i, run in enumerate(runs):
        if not isinstance(run, Mapping):
            raise ConfigError(
                f"runs[{i}]: expected a Run (query id -> hits), got {type(run).__name__}; build one with Run({{...}})"
            )
    return runs


def _check_weights(weights: Sequence[float] | None, n: int, default: float) -> list[float]:
    if weights is None:
        return [default] * n
    try:
        w = [float(x) for x in weights]
    except (TypeError, ValueError):
        raise ConfigError(f"weights: expected a list of numbers, got {weights!r}") from None
    if len(w) != n:
        raise ConfigError(
            f"weights: got {len(w)} weights {w} for {n} runs; give one weight per run (same order), "
            "or None for equal weights"
        )
    if any(not math.isfinite(x) or x < 0 for x in w):
        raise ConfigError(f"weights: each must be a finite number >= 0, got {w}; a weight of 0 ignores that run")
    return w


def _check_method(method: str) -> None:
    if method not in NORMALIZATIONS:
        raise ConfigError(f"normalization: unknown method {method!r}; allowed: {', '.join(NORMALIZATIONS)}")


# ---------------------------------------------------------------- public API
def rrf(runs: Sequence[Run], k: float = 60, weights: Sequence[float] | None = None) -> Run:
    r"""Reciprocal rank fusion: ``score(c) = sum_i w_i / (k + rank_i(c))`` over the runs that return ``c``.

    Ranks are 1-based positions in each run's hit list (best first), so tied scores
    get distinct ranks in the run's own tie order (ascending chunk id for a sorted
    :class:`Run`). A chunk absent from a run gets nothing from it. Proposed by
    Cormack, Clarke & Büttcher (SIGIR 2009); ``k = 60`` is the paper's value.

    ```bibtex
    @inproceedings{DBLP:conf/sigir/CormackCB09,
        author    = {Gordon V. Cormack and
                     Charles L. A. Clarke and
                     Stefan B{\"{u}}ttcher},
        title     = {Reciprocal rank fusion outperforms condorcet and individual rank learning methods},
        booktitle = {{SIGIR}},
        pages     = {758--759},
        publisher = {{ACM}},
        year      = {2009}
    }
    ```

    Args:
        runs: the runs to fuse (at least one).
        k: smoothing constant, ``>= 0``; larger values flatten the gap between top ranks.
        weights: one non-negative weight per run; ``None`` means 1 for every run.

    Returns:
        The fused run: each chunk once, every query of every input.

    Raises:
        ConfigError: no runs, ``k < 0``, or a weights list of the wrong length or with negative values.
        DataValidationError: two runs give one chunk different doc ids.

    Example:
        >>> a = Run({"q1": [Hit("c1", "d1", 9.0), Hit("c2", "d1", 3.0)]})
        >>> b = Run({"q1": [Hit("c2", "d1", 0.8)]})
        >>> fused = rrf([a, b])
        >>> [h.chunk_id for h in fused["q1"]]  # c2: 1/62 + 1/61 > c1: 1/61
        ['c2', 'c1']
    """
    runs = _check_runs(runs)
    if isinstance(k, bool) or not isinstance(k, Real) or not math.isfinite(k) or k < 0:
        raise ConfigError(f"rrf: k must be a finite number >= 0, got {k!r}; the usual value is 60")
    w = _check_weights(weights, len(runs), default=1.0)
    return Run({qid: _rrf_query(runs, w, k, qid) for qid in _query_ids(runs)})


def normalize(run: Run, method: Normalization = "minmax") -> Run:
    """Normalise each query's scores on its own.

    - ``minmax``: ``(s - min) / (max - min)``, into ``[0, 1]``; when all of a query's
      scores are equal (one hit, say) they all become ``1.0``.
    - ``zscore``: ``(s - mean) / std`` with the population std (ddof = 0); all-equal
      scores (std 0) become ``0.0``.
    - ``none``: scores are returned as they are.

    Both maps are increasing, so each query's order is unchanged. Hits are kept one
    for one (a repeated chunk stays repeated; the fusion functions merge repeats).

    Args:
        run: the run to normalise.
        method: ``"minmax"``, ``"zscore"`` or ``"none"``.

    Returns:
        A run with the same hits and normalised scores.

    Raises:
        ConfigError: unknown ``method``.
        DataValidationError: a non-finite score.

    Example:
        >>> run = Run({"q1": [Hit("c1", "d1", 4.0), Hit("c2", "d1", 2.0), Hit("c3", "d2", 1.0)]})
        >>> [round(h.score, 3) for h in normalize(run, "minmax")["q1"]]
        [1.0, 0.333, 0.0]
    """
    _check_method(method)
    out: dict[str, list[Hit]] = {}
    for qid, hits in run.items():
        hits = tuple(hits)
        for h in hits:
            if not math.isfinite(float(h.score)):
                raise DataValidationError(
                    f"query '{qid}', chunk '{h.chunk_id}': score is {h.score}, normalisation needs finite scores"
                )
        normed = _normalized([float(h.score) for h in hits], method)
        out[qid] = [Hit(h.chunk_id, h.doc_id, s) for h, s in zip(hits, normed)]
    return Run(out)


def weighted_sum(
    runs: Sequence[Run],
    weights: Sequence[float] | None = None,
    normalization: Normalization = "minmax",
) -> Run:
    """Weighted sum of per-query normalised scores: ``score(c) = sum_i w_i * norm_i(c)``.

    Each run is normalised per query (see :func:`normalize`) after its repeated
    chunks are merged (a repeat keeps its highest score). A chunk that a run did not
    return contributes that run's *minimum* normalised score for the query:

    - ``minmax``: ``0``, the floor of the scale (also when all of the run's scores
      were equal and so normalised to 1: the chunks it did return still rank above
      the ones it did not);
    - ``zscore``: the lowest z-score the run gave for the query (a negative number).
      The chunk ranked below everything the run returned, so the weakest returned
      score is the most it could have had; 0 (the mean) would instead lift
      unretrieved chunks above the run's own weaker hits;
    - ``none``: the lowest raw score the run gave for the query.

    A run with no hits for a query adds 0 to every chunk, which changes no order.

    Args:
        runs: the runs to fuse (at least one).
        weights: one non-negative weight per run; ``None`` means ``1 / len(runs)`` each.
        normalization: ``"minmax"``, ``"zscore"`` or ``"none"``.

    Returns:
        The fused run: each chunk once, every query of every input.

    Raises:
        ConfigError: no runs, unknown normalization, or a weights list of the wrong length or with negative values.
        DataValidationError: a non-finite score, or two runs give one chunk different doc ids.

    Example:
        >>> bm25 = Run({"q1": [Hit("c1", "d1", 12.0), Hit("c2", "d1", 4.0)]})
        >>> dense = Run({"q1": [Hit("c2", "d1", 0.9), Hit("c3", "d2", 0.5)]})
        >>> fused = weighted_sum([bm25, dense], [0.5, 0.5])
        >>> [(h.chunk_id, h.score) for h in fused["q1"]]  # c1: .5*1 + .5*0; c2: .5*0 + .5*1; c3: .5*0 + .5*0
        [('c1', 0.5), ('c2', 0.5), ('c3', 0.0)]
    """
    runs = _check_runs(runs)
    _check_method(normalization)
    w = _check_weights(weights, len(runs), default=1.0 / len(runs))
    return Run({qid: _weighted_query(runs, w, normalization, qid) for qid in _query_ids(runs)})


def convex(run_a: Run, run_b: Run, alpha: float, normalization: Normalization = "minmax") -> Run:
    """Convex combination ``alpha * norm(a) + (1 - alpha) * norm(b)`` of two runs.

    The same as ``weighted_sum([run_a, run_b], [alpha, 1 - alpha], normalization)``,
    including how a chunk missing from one run is scored. ``alpha = 1`` ranks by
    ``run_a`` alone; chunks that only ``run_b`` returned follow it (under min-max
    they all score 0, so they come in chunk-id order).

    Args:
        run_a: the run weighted by ``alpha`` (e.g. BM25).
        run_b: the run weighted by ``1 - alpha`` (e.g. dense).
        alpha: weight of ``run_a``, in ``[0, 1]``.
        normalization: ``"minmax"``, ``"zscore"`` or ``"none"``.

    Returns:
        The fused run.

    Raises:
        ConfigError: ``alpha`` outside ``[0, 1]`` or not a number, or unknown normalization.
        DataValidationError: a non-finite score, or the runs give one chunk different doc ids.

    Example:
        >>> a = Run({"q1": [Hit("c1", "d1", 2.0), Hit("c2", "d1", 1.0)]})
        >>> b = Run({"q1": [Hit("c2", "d1", 5.0), Hit("c1", "d1", 1.0)]})
        >>> [(h.chunk_id, h.score) for h in convex(a, b, alpha=0.25)["q1"]]  # c2: .25*0 + .75*1
        [('c2', 0.75), ('c1', 0.25)]
    """
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0.0 <= alpha <= 1.0:
        raise ConfigError(
            f"convex: alpha must be a number in [0, 1], got {alpha!r}; "
            "alpha weights run_a and 1 - alpha weights run_b"
        )
    alpha = float(alpha)
    return weighted_sum([run_a, run_b], [alpha, 1.0 - alpha], normalization)


__all__ = ["NORMALIZATIONS", "Normalization", "convex", "normalize", "rrf", "weighted_sum"]
