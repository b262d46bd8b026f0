"""Rank-based IR metrics, computed per query: recall, precision, hit rate, MRR, nDCG, MAP.

A metric is named by a string ``NAME@K`` (case-insensitive): ``recall@10``,
``precision@5``, ``hit_rate@10`` (aliases ``hit@10``, ``success@10``), ``mrr@10``,
``ndcg@10``, ``map@100``. Every value matches ``trec_eval`` / ``pytrec_eval`` at
relevance level 1 (a grade >= 1 is relevant; lower grades count as non-relevant):

- ``precision@k``: (# relevant in top k) / k, dividing by k even when fewer than k
  items are ranked. trec_eval ``P_k``.
- ``recall@k``: (# relevant in top k) / (# relevant judged). trec_eval ``recall_k``.
- ``hit_rate@k``: 1 if any relevant item is in the top k, else 0. trec_eval ``success_k``.
- ``mrr@k``: 1 / rank of the first relevant item when that rank is <= k, else 0.
  trec_eval ``recip_rank`` on the run cut at k (ir_measures ``RR@k``).
- ``ndcg@k``: DCG@k / IDCG@k with gain = grade and discount log2(rank + 1); the ideal
  ranking sorts all judged relevant grades of the query. trec_eval ``ndcg_cut_k``.
- ``map@k``: the sum of P@r over relevant items retrieved at rank r <= k, divided by
  the number of relevant items judged. trec_eval ``map_cut_k``.

Ranking order: the order of the hits in the :class:`~ragkit.data.types.Run`, which
sorts by descending score and breaks ties by ascending ``chunk_id``. ``trec_eval``
re-sorts a run itself, by score and then by *descending* docno, so on tied scores
the two can disagree; the parity tests therefore use tie-free runs. An item that
appears twice in one ranking counts once, at its first (best) position.

Which queries are evaluated: those in the qrels with at least one item of grade
>= 1. A query missing from the run scores 0 on every metric; run queries absent
from the qrels are ignored.

References:
    Järvelin, K. & Kekäläinen, J. (2002). Cumulated gain-based evaluation of IR
    techniques. ACM TOIS 20(4), 422-446. (nDCG)
    Voorhees, E. M. (1999). The TREC-8 Question Answering Track Report. (MRR)
    Buckley, C. & Voorhees, E. M. (2005). Retrieval system evaluation. In TREC:
    Experiment and Evaluation in Information Retrieval, MIT Press. (P, R, MAP)
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ragkit.data.types import Chunk, Qrels, Run
from ragkit.errors import ConfigError

__all__ = [
    "METRIC_NAMES",
    "aggregate",
    "evaluate",
    "evaluate_chunks",
    "evaluate_docs",
    "parse_metric",
    "validate_metrics",
]

logger = logging.getLogger(__name__)

METRIC_NAMES: tuple[str, ...] = ("recall", "precision", "hit_rate", "mrr", "ndcg", "map")
_ALIASES: dict[str, str] = {**{n: n for n in METRIC_NAMES}, "hit": "hit_rate", "success": "hit_rate"}
# Names people bring from trec_eval / ranx / ir_measures: suggested, not accepted.
_HINTS: dict[str, str] = {
    "p": "precision", "r": "recall", "rr": "mrr", "recip_rank": "mrr", "ap": "map",
    "ndcg_cut": "ndcg", "map_cut": "map", "hitrate": "hit_rate", "hits": "hit_rate",
}
_ALLOWED = "recall, precision, hit_rate, mrr, ndcg, map, each as NAME@K (e.g. ndcg@10)"
_CUTOFF = re.compile(r"[0-9]+")


# ----------------------------------------------------------------------------- parsing


def _suggest_name(name: str) -> str | None:
    if name in _HINTS:
        return _HINTS[name]
    close = difflib.get_close_matches(name, [*_ALIASES, *_HINTS], n=1, cutoff=0.6)
    if not close:
        return None
    return _ALIASES.get(close[0]) or _HINTS[close[0]]


def parse_metric(metric: str) -> tuple[str, int]:
    """Parse a metric string into its canonical name and cutoff.

    Args:
        metric: ``NAME@K``, case-insensitive, with NAME one of recall, precision,
            hit_rate (or hit, success), mrr, ndcg, map and K a positive integer.

    Returns:
        ``(name, k)`` with the canonical name.

    Raises:
        ConfigError: unknown name (with a "Did you mean" suggestion) or bad cutoff.

    Example:
        >>> parse_metric("NDCG@10")
        ('ndcg', 10)
        >>> parse_metric("success@5")
        ('hit_rate', 5)
    """
    if not isinstance(metric, str):
        raise ConfigError(
            f"metric must be a string NAME@K; got {metric!r} ({type(metric).__name__}); allowed: {_ALLOWED}"
        )
    name, sep, k_text = metric.strip().lower().partition("@")
    name, k_text = name.strip(), k_text.strip()
    k_ok = bool(_CUTOFF.fullmatch(k_text)) and int(k_text) > 0
    if name not in _ALIASES:
        suggestion = _suggest_name(name)
        hint = f" Did you mean '{suggestion}@{int(k_text) if k_ok else 10}'?" if suggestion else ""
        raise ConfigError(f"unknown metric '{metric}'; allowed: {_ALLOWED}.{hint}")
    canonical = _ALIASES[name]
    if not sep:
        raise ConfigError(
            f"metric '{metric}' has no cutoff; allowed: {_ALLOWED}. Did you mean '{canonical}@10'?"
        )
    if not k_ok:
        raise ConfigError(
            f"bad cutoff in metric '{metric}': got '{k_text}', K must be a positive integer. "
            f"Did you mean '{canonical}@10'?"
        )
    return canonical, int(k_text)


def validate_metrics(metrics: Sequence[str] | str) -> list[str]:
    """Check a list of metric strings, reporting every bad entry at once.

    Args:
        metrics: metric strings (a single string is taken as a list of one).

    Returns:
        The canonical strings (``name@k``), in order, without duplicates.

    Raises:
        ConfigError: the list is empty, or one or more entries are invalid; the
            message lists each invalid entry with its fix.

    Example:
        >>> validate_metrics(["NDCG@10", "hit@5", "ndcg@10"])
        ['ndcg@10', 'hit_rate@5']
    """
    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, Sequence) or len(metrics) == 0:
        raise ConfigError(
            f"no metrics given (got {metrics!r}); allowed: {_ALLOWED}; pass e.g. ['ndcg@10', 'recall@100']"
        )
    out: list[str] = []
    problems: list[str] = []
    for m in metrics:
        try:
            name, k = parse_metric(m)
        except ConfigError as err:
            problems.append(str(err))
            continue
        if f"{name}@{k}" not in out:
            out.append(f"{name}@{k}")
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"{len(problems)} invalid metric(s) out of {len(metrics)}:\n{lines}")
    return out


# ----------------------------------------------------------------------------- kernels


def _gain_row(hits: Sequence, judged: Mapping[str, float], depth: int) -> list[float]:
    """Gains of the top ``depth`` distinct items: the grade if >= 1, else 0."""
    ids = [h.chunk_id for h in hits[:depth]]
    if len(set(ids)) != len(ids):  # rare: keep each item's first (best) position
        seen: set[str] = set()
        ids = [i for i in (h.chunk_id for h in hits) if not (i in seen or seen.add(i))][:depth]
    grades = (judged.get(i, 0) for i in ids)
    return [g if g >= 1 else 0.0 for g in grades]


@dataclass(frozen=True)
class _Ranked:
    """Gains of the top ``K`` ranked items (Q, K) and the ideal gains (Q, K) of Q queries.

    Cumulative arrays are computed once, lazily, and shared by every cutoff.
    """

    gains: np.ndarray  # (Q, K) retrieved gains, 0 for non-relevant
    ideal: np.ndarray  # (Q, K) judged relevant grades sorted descending, 0-padded
    n_rel: np.ndarray  # (Q,) number of judged relevant items

    @cached_property
    def ranks(self) -> np.ndarray:
        return np.arange(1, self.gains.shape[1] + 1, dtype=np.float64)  # (K,)

    @cached_property
    def hits(self) -> np.ndarray:
        return np.cumsum(self.gains > 0, axis=1)  # (Q, K) relevant items in the top r

    @cached_property
    def first(self) -> np.ndarray:
        rel = self.gains > 0
        return np.where(rel.any(axis=1), rel.argmax(axis=1) + 1, np.iinfo(np.int64).max)  # (Q,)

    @cached_property
    def dcg(self) -> np.ndarray:
        return np.cumsum(self.gains / np.log2(self.ranks + 1), axis=1)  # (Q, K)

    @cached_property
    def idcg(self) -> np.ndarray:
        return np.cumsum(self.ideal / np.log2(self.ranks + 1), axis=1)  # (Q, K)

    @cached_property
    def ap_sum(self) -> np.ndarray:
        return np.cumsum((self.gains > 0) * self.hits / self.ranks, axis=1)  # (Q, K)

    def score(self, name: str, k: int) -> np.ndarray:
        """Per-query values of ``name@k`` (K >= k)."""
        c = k - 1
        if name == "precision":
            return self.hits[:, c] / k
        if name == "recall":
            return self.hits[:, c] / self.n_rel
        if name == "hit_rate":
            return (self.hits[:, c] > 0).astype(np.float64)
        if name == "mrr":
            return np.where(self.first <= k, 1.0 / np.minimum(self.first, k), 0.0)
        if name == "ndcg":
            return self.dcg[:, c] / self.idcg[:, c]
        return self.ap_sum[:, c] / self.n_rel  # map


def _rank_matrix(run: Mapping, qrels: Sequence[Mapping[str, float]], qids: Sequence[str], depth: int) -> _Ranked:
    gains = np.zeros((len(qids), depth))
    ideal = np.zeros((len(qids), depth))
    n_rel = np.zeros(len(qids))
    for i, (qid, judged) in enumerate(zip(qids, qrels)):
        row = _gain_row(run.get(qid, ()), judged, depth)
        gains[i, : len(row)] = row
        rel = sorted((g for g in judged.values() if g >= 1), reverse=True)
        n_rel[i] = len(rel)
        ideal[i, : min(depth, len(rel))] = rel[:depth]
    return _Ranked(gains, ideal, n_rel)


# ----------------------------------------------------------------------------- public API


def evaluate(run: Run, qrels: Mapping[str, Mapping[str, int]], metrics: Sequence[str]) -> pd.DataFrame:
    """Score every evaluated query of ``run`` against item-level ``qrels``.

    Items are matched on ``Hit.chunk_id`` (for a document run, the document id).
    The relevance vector of the top ``max k`` hits is built once per query and all
    metrics are read off shared cumulative sums.

    Args:
        run: ranking per query, best first (see the module docstring for ties).
        qrels: ``{query_id: {item_id: grade}}``; grade >= 1 is relevant.
        metrics: metric strings, e.g. ``["ndcg@10", "recall@100"]``.

    Returns:
        A DataFrame indexed by ``query_id`` (queries in qrels order), one float
        column per canonical metric string.

    Raises:
        ConfigError: invalid metrics, or qrels that are not a mapping of mappings.

    Example:
        >>> from ragkit.data.types import Hit, Run
        >>> run = Run({"q1": [Hit("a", "a", 0.9), Hit("b", "b", 0.5)]})
        >>> evaluate(run, {"q1": {"b": 1}}, ["mrr@10", "precision@2"]).loc["q1"].tolist()
        [0.5, 0.5]
    """
    canonical = validate_metrics(metrics)
    _check_item_qrels(qrels)
    parsed = [parse_metric(m) for m in canonical]
    evaluated = [(str(q), j) for q, j in qrels.items() if any(g >= 1 for g in j.values())]
    qids, judged = [q for q, _ in evaluated], [j for _, j in evaluated]
    ranked = _rank_matrix(run, judged, qids, max(k for _, k in parsed))
    columns = {m: ranked.score(name, k) for m, (name, k) in zip(canonical, parsed)}
    return pd.DataFrame(columns, index=pd.Index(qids, name="query_id", dtype=object), columns=canonical)


def _check_item_qrels(qrels: object) -> None:
    if isinstance(qrels, Qrels):
        raise ConfigError(
            "evaluate() takes item-level qrels {query_id: {item_id: grade}}; got a Qrels of judgments. "
            "Use evaluate_docs(run, qrels, metrics) or evaluate_chunks(run, qrels, chunks, metrics), "
            "or pass qrels.doc_level()"
        )
    if not isinstance(qrels, Mapping) or not all(isinstance(v, Mapping) for v in qrels.values()):
        raise ConfigError(
            f"qrels must be a mapping {{query_id: {{item_id: grade}}}}; got {type(qrels).__name__}; "
            "build it with Qrels.doc_level() or Qrels.chunk_level(chunks)"
        )


def evaluate_docs(run: Run, qrels: Qrels, metrics: Sequence[str]) -> pd.DataFrame:
    """Document-level evaluation: chunks collapse to documents, scored by their best chunk.

    Args:
        run: a chunk run; :meth:`Run.doc_run` max-pools it per document.
        qrels: the judgments; :meth:`Qrels.doc_level` keeps each document's best grade.
        metrics: metric strings, e.g. ``["ndcg@10"]``.

    Returns:
        Per-query metrics as in :func:`evaluate`.

    Raises:
        ConfigError: invalid metrics, or ``qrels`` is not a :class:`Qrels`.

    Example:
        >>> from ragkit.data.types import Hit, Judgment, Qrels, Run
        >>> run = Run({"q1": [Hit("d1#0", "d1", 0.9), Hit("d1#1", "d1", 0.8), Hit("d2#0", "d2", 0.7)]})
        >>> float(evaluate_docs(run, Qrels({"q1": [Judgment("d2")]}), ["mrr@10"]).loc["q1", "mrr@10"])
        0.5
    """
    metrics = validate_metrics(metrics)
    _check_qrels_object(qrels, "evaluate_docs")
    return evaluate(run.doc_run(), qrels.doc_level(), metrics)


def evaluate_chunks(run: Run, qrels: Qrels, chunks: Sequence[Chunk], metrics: Sequence[str]) -> pd.DataFrame:
    """Chunk-level evaluation: a chunk is relevant when it overlaps a relevant span.

    A whole-document judgment makes every chunk of that document relevant; spans
    are ``[start, end)``, so a chunk that only touches a span boundary is not
    relevant. A chunk takes the best grade among the judgments it overlaps.
    Queries none of whose relevant judgments overlap any of ``chunks`` are not
    evaluated (a warning is logged).

    Args:
        run: a chunk run (items matched on ``chunk_id``).
        qrels: the judgments, by document and optional span.
        chunks: the chunks the run was retrieved from.
        metrics: metric strings, e.g. ``["recall@20"]``.

    Returns:
        Per-query metrics as in :func:`evaluate`.

    Raises:
        ConfigError: invalid metrics, or ``qrels`` is not a :class:`Qrels`.

    Example:
        >>> from ragkit.data.types import Chunk, Hit, Judgment, Qrels, Run
        >>> chunks = [Chunk("c0", "d1", "x" * 10, 0, 10), Chunk("c1", "d1", "y" * 10, 10, 20)]
        >>> qrels = Qrels({"q1": [Judgment("d1", 1, start=12, end=15)]})
        >>> run = Run({"q1": [Hit("c0", "d1", 0.9), Hit("c1", "d1", 0.5)]})
        >>> float(evaluate_chunks(run, qrels, chunks, ["mrr@10"]).loc["q1", "mrr@10"])
        0.5
    """
    metrics = validate_metrics(metrics)
    _check_qrels_object(qrels, "evaluate_chunks")
    item_qrels = qrels.chunk_level(chunks)
    lost = [q for q, js in qrels.items() if any(j.grade >= 1 for j in js) and not item_qrels.get(q)]
    if lost:
        logger.warning(
            "%d queries have relevant judgments but no relevant chunk among the %d chunks given; "
            "they are not evaluated (first: %s)", len(lost), len(chunks), lost[0],
        )
    return evaluate(run, item_qrels, metrics)


def _check_qrels_object(qrels: object, fn: str) -> None:
    if not isinstance(qrels, Qrels):
        raise ConfigError(
            f"{fn}() takes a Qrels of judgments; got {type(qrels).__name__}. "
            "Wrap judgments with Qrels({...}), or call evaluate(run, {query: {item: grade}}, metrics)"
        )


def aggregate(per_query: pd.DataFrame) -> pd.Series:
    """Mean of every metric column over the evaluated queries.

    Args:
        per_query: output of :func:`evaluate` (or its doc/chunk variants).

    Returns:
        A Series indexed by metric string; NaN when there are no queries.

    Raises:
        ConfigError: ``per_query`` is not a DataFrame of numbers.

    Example:
        >>> df = pd.DataFrame({"mrr@10": [1.0, 0.5]}, index=pd.Index(["q1", "q2"], name="query_id"))
        >>> float(aggregate(df)["mrr@10"])
        0.75
    """
    if not isinstance(per_query, pd.DataFrame):
        raise ConfigError(f"aggregate() takes the DataFrame from evaluate(); got {type(per_query).__name__}")
    bad = [c for c in per_query.columns if not pd.api.types.is_numeric_dtype(per_query[c])]
    if bad:
        raise ConfigError(f"aggregate(): non-numeric columns {bad}; allowed: numeric metric columns; drop them first")
    return per_query.mean(axis=0).rename("mean")
