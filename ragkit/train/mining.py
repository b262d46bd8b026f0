"""Hard-negative mining: (question, positive chunk, n hard negative chunks) rows for training.

For every question and each of its relevant judgments, the *positive* is the chunk
that best covers the judgment (largest overlap with the span; for a whole-document
judgment, the chunk of that document closest to the question). Candidates come from
any registered retriever (``bm25``, ``dense``, ``hybrid``, plug-ins), ``depth`` per
question. A candidate becomes a negative only if it passes, in this order:

1. **rank window**: ranks ``1..skip_top`` are skipped (the very top is where
   unlabelled relevant chunks hide);
2. **not relevant**: it overlaps no relevant judgment of the question, and (with
   ``exclude_positive_doc``, the default) belongs to no document judged relevant for
   it, the positive's own document included; its text differs from the positive's;
3. **margin**: its cosine similarity to the question (under ``score_model``) is at
   most ``pos - margin`` and/or ``pos * (1 - relative_margin)``, ``pos`` being the
   positive's cosine. Margins are measured with one embedder whatever retriever
   proposed the candidates, so the positive's score is always known. This is the
   positive-aware "TopK-PercPos" filter of Moreira et al. (2024), who found a
   95 % ceiling (``relative_margin=0.05``) the best at removing false negatives.

The ``n_negatives`` hardest survivors (``sampling="top"``) or a seeded random draw
among them (``sampling="random"``) form one row. A row with fewer survivors (its
positive ranks below ``depth``, so every candidate outscores it: the questions the
model fails worst) is completed with random corpus chunks that pass the same rules,
rank 0 (``fill="random"``), or dropped (``fill="drop"``); both are counted. Questions are processed ``batch_size`` at a time, so memory
holds one batch of candidate lists and embeddings, never a question x corpus matrix.

Reference:
    Moreira, G. et al. (2024). NV-Retriever: Improving text embedding models with
    effective hard-negative mining. arXiv:2407.15831.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ragkit.data.types import Chunk, Judgment, Qrels, Query
from ragkit.errors import ConfigError
from ragkit.registry import named_component

log = logging.getLogger(__name__)

__all__ = ["MinedSet", "MiningConfig", "mine_hard_negatives"]

_REASONS = ("window", "relevant", "positive_doc", "same_text", "margin")


class MiningConfig(BaseModel):
    """Settings of :func:`mine_hard_negatives` (the ``mining:`` section of a finetune config).

    Args:
        retriever: the candidate retriever, ``{name: bm25 | dense | hybrid, <its params>}``.
        depth: candidates retrieved per question.
        skip_top: candidates ranked ``1..skip_top`` are never negatives.
        n_negatives: hard negatives per row.
        margin: absolute cosine margin below the positive (``None``: off).
        relative_margin: relative margin: negatives score at most ``(1 - r)`` times the positive (``None``: off).
        score_model: embedder whose cosine the margins use; ``None``: the model being fine-tuned.
        exclude_positive_doc: exclude every chunk of a document judged relevant for the
            question (off: only chunks overlapping a relevant span are excluded).
        sampling: ``top`` (hardest first) or ``random`` (seeded draw among survivors).
        fill: a row with fewer survivors than ``n_negatives`` is completed with random
            corpus chunks that pass the same rules (``random``) or dropped (``drop``).
        max_positives: positives (rows) per question at most; ``None``: one per relevant judgment.
        batch_size: questions retrieved and scored together (bounds memory).
        seed: seed of ``sampling="random"``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    retriever: dict[str, Any] = Field(default_factory=lambda: {"name": "dense"})
    depth: int = Field(50, ge=1)
    skip_top: int = Field(0, ge=0)
    n_negatives: int = Field(1, ge=1)
    margin: float | None = Field(None, ge=0)
    relative_margin: float | None = Field(0.05, ge=0, lt=1)
    score_model: str | None = None
    exclude_positive_doc: bool = True
    sampling: Literal["top", "random"] = "top"
    fill: Literal["random", "drop"] = "random"
    max_positives: int | None = Field(None, ge=1)
    batch_size: int = Field(256, ge=1)
    seed: int = 0

    @field_validator("retriever")
    @classmethod
    def _named(cls, v: dict[str, Any]) -> dict[str, Any]:
        return named_component(v, "retriever", "bm25 | dense | hybrid")


@dataclass
class MinedSet:
    """Mined training rows: one per (question, positive), with ``n_negatives`` hard negatives.

    ``frame`` columns: ``anchor, positive, negative_1..negative_n`` (texts), then
    ``query_id, positive_id, positive_doc, positive_score`` and, per negative ``i``,
    ``negative_i_id, negative_i_doc, negative_i_rank, negative_i_score`` (cosines under
    the mining ``score_model``). ``stats`` counts questions, rows, drops and the
    candidates excluded by each rule.
    """

    frame: Any  # pandas.DataFrame
    n_negatives: int
    stats: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def text_columns(self) -> list[str]:
        return ["anchor", "positive", *(f"negative_{i}" for i in range(1, self.n_negatives + 1))]

    def to_dataset(self):
        """A ``datasets.Dataset`` of the text columns only, in loss-input order (anchor, positive, negatives)."""
        from ragkit.train._deps import require_datasets

        return require_datasets().Dataset.from_pandas(self.frame[self.text_columns], preserve_index=False)

    def save(self, path: str | Path) -> None:
        """Write ``frame`` to parquet atomically (``stats`` go to the caller's JSON)."""
        from ragkit.experiment.store import write_parquet

        write_parquet(self.frame, Path(path))

    @classmethod
    def load(cls, path: str | Path, stats: Mapping[str, Any] | None = None) -> MinedSet:
        import pandas as pd

        frame = pd.read_parquet(path)
        n = sum(1 for c in frame.columns if c.startswith("negative_") and c.removeprefix("negative_").isdigit())
        return cls(frame, n, dict(stats or {}))


# ----------------------------------------------------------------------------- kernels


def _threshold(pos: float, margin: float | None, relative: float | None) -> float:
    """Highest cosine a negative may have, given the positive's cosine ``pos``.

    >>> round(_threshold(0.8, None, 0.05), 4), round(_threshold(0.8, 0.1, 0.05), 4), _threshold(0.8, None, None)
    (0.76, 0.7, inf)
    """
    limits = [np.inf]
    if margin is not None:
        limits.append(pos - margin)
    if relative is not None:
        limits.append(pos - relative * abs(pos))  # = pos * (1 - r) for a positive cosine
    return float(min(limits))


def _overlap(j: Judgment, c: Chunk) -> int:
    if j.start is None:
        return 0
    return max(0, min(j.end, c.end) - max(j.start, c.start))  # type: ignore[arg-type]


def _relevant(qrels_of_q: Sequence[Judgment]) -> list[Judgment]:
    return sorted((j for j in qrels_of_q if j.grade >= 1), key=lambda j: -j.grade)


class _Batch:
    """Cosines between one batch of questions and the chunks they need (candidates and positives)."""

    def __init__(self, embedder, queries: Sequence[Query], chunk_ids: Sequence[str], by_id: Mapping[str, Chunk]):
        self.row = {cid: i for i, cid in enumerate(chunk_ids)}
        qv = embedder.encode([q.text for q in queries])  # (Q, d), unit length
        cv = embedder.encode([by_id[c].indexed_text for c in chunk_ids])  # (C, d)
        self.qrow = {q.id: i for i, q in enumerate(queries)}
        self._qv, self._cv = qv, cv

    def cos(self, qid: str, chunk_ids: Sequence[str]) -> np.ndarray:
        rows = [self.row[c] for c in chunk_ids]
        return self._cv[rows] @ self._qv[self.qrow[qid]]

    def cos_new(self, embedder, qid: str, chunks: Sequence[Chunk]) -> np.ndarray:
        """Cosines of chunks outside this batch's set (random fills): embedded now, from the cache if there."""
        return embedder.encode([c.indexed_text for c in chunks]) @ self._qv[self.qrow[qid]]


class _Miner:
    def __init__(self, cfg: MiningConfig, chunks: Sequence[Chunk], qrels: Qrels, retriever, embedder) -> None:
        self.cfg, self.qrels, self.retriever, self.embedder = cfg, qrels, retriever, embedder
        self.chunks = list(chunks)
        self.by_id = {c.id: c for c in self.chunks}
        self.by_doc: dict[str, list[Chunk]] = {}
        for c in chunks:
            self.by_doc.setdefault(c.doc_id, []).append(c)
        self.rng = np.random.default_rng(cfg.seed)
        zero = ["questions_without_positive_chunk", "rows_dropped_too_few_negatives", "rows_filled_random", "eligible"]
        self.stats: Counter = Counter({k: 0 for k in [*zero, *(f"excluded_{r}" for r in _REASONS)]})

    def _positive_options(self, judgments: Sequence[Judgment]) -> list[tuple[Judgment, list[Chunk]]]:
        out = []
        for j in judgments:
            opts = [c for c in self.by_doc.get(j.doc_id, ()) if j.overlaps(c)]
            if opts:
                out.append((j, opts))
        return out

    def _pick_positives(self, qid: str, options, batch: _Batch) -> list[tuple[Chunk, float]]:
        chosen: dict[str, tuple[Chunk, float]] = {}
        for j, opts in options:
            cos = batch.cos(qid, [c.id for c in opts])
            best = max(range(len(opts)), key=lambda i: (_overlap(j, opts[i]), cos[i], -i))
            chosen.setdefault(opts[best].id, (opts[best], float(cos[best])))
        picked = list(chosen.values())
        return picked[: self.cfg.max_positives] if self.cfg.max_positives else picked

    def _reason(self, rank: int, c: Chunk, score: float, pos: Chunk, thr: float, rel: Sequence[Judgment]) -> str | None:
        """Why candidate ``c`` cannot be a negative (the first rule it fails), or None."""
        if rank <= self.cfg.skip_top:
            return "window"
        if any(j.overlaps(c) for j in rel):
            return "relevant"
        if self.cfg.exclude_positive_doc and (c.doc_id == pos.doc_id or any(j.doc_id == c.doc_id for j in rel)):
            return "positive_doc"
        if c.text.strip() == pos.text.strip():
            return "same_text"
        if score > thr:
            return "margin"
        return None

    def _fill(self, qid: str, ok: list, pos: Chunk, thr: float, rel, batch: _Batch) -> list:
        """``ok`` completed to ``n_negatives`` with random chunks passing every rule (rank 0), if it can be."""
        n, taken = self.cfg.n_negatives, {c.id for _, c, _ in ok}
        for _ in range(3):  # a few draws: almost every chunk of a real corpus qualifies
            picks = [self.chunks[i] for i in self.rng.choice(len(self.chunks), size=min(4 * n, len(self.chunks)), replace=False)]
            picks = [c for c in picks if c.id not in taken]
            for c, s in zip(picks, batch.cos_new(self.embedder, qid, picks)):
                if len(ok) < n and self._reason(self.cfg.depth + 1, c, float(s), pos, thr, rel) is None:
                    ok.append((0, c, float(s)))
                    taken.add(c.id)
            if len(ok) >= n:
                break
        return ok

    def _row(self, q: Query, pos: Chunk, pos_cos: float, cands, cos: np.ndarray, rel, batch: _Batch) -> dict[str, Any] | None:
        thr = _threshold(pos_cos, self.cfg.margin, self.cfg.relative_margin)
        ok = []
        for rank, (c, s) in enumerate(zip(cands, cos), 1):
            why = self._reason(rank, c, float(s), pos, thr, rel)
            self.stats[f"excluded_{why}" if why else "eligible"] += 1
            if why is None:
                ok.append((rank, c, float(s)))
        n = self.cfg.n_negatives
        if len(ok) < n and self.cfg.fill == "random":
            ok = self._fill(q.id, ok, pos, thr, rel, batch)
            self.stats["rows_filled_random"] += int(len(ok) >= n)
        if len(ok) < n:
            self.stats["rows_dropped_too_few_negatives"] += 1
            return None
        if self.cfg.sampling == "random":
            ok = [ok[i] for i in sorted(self.rng.choice(len(ok), size=n, replace=False))]
        row: dict[str, Any] = {"anchor": q.text, "positive": pos.indexed_text}
        row.update({f"negative_{i}": c.indexed_text for i, (_, c, _) in enumerate(ok[:n], 1)})
        row.update({"query_id": q.id, "positive_id": pos.id, "positive_doc": pos.doc_id, "positive_score": pos_cos})
        for i, (rank, c, s) in enumerate(ok[:n], 1):
            row.update({f"negative_{i}_id": c.id, f"negative_{i}_doc": c.doc_id, f"negative_{i}_rank": rank, f"negative_{i}_score": s})
        return row

    def batch(self, queries: Sequence[Query]) -> list[dict[str, Any]]:
        run = self.retriever.retrieve(queries, k=self.cfg.depth)
        options = {q.id: self._positive_options(_relevant(self.qrels.get(q.id, ()))) for q in queries}
        need = {h.chunk_id for q in queries for h in run.get(q.id, ())}
        need |= {c.id for opts in options.values() for _, cs in opts for c in cs}
        batch = _Batch(self.embedder, queries, sorted(need), self.by_id)
        rows = []
        for q in queries:
            if not options[q.id]:
                self.stats["questions_without_positive_chunk"] += 1
                continue
            rel = _relevant(self.qrels[q.id])
            cands = [self.by_id[h.chunk_id] for h in run.get(q.id, ())]
            cos = batch.cos(q.id, [c.id for c in cands])
            for pos, pos_cos in self._pick_positives(q.id, options[q.id], batch):
                row = self._row(q, pos, pos_cos, cands, cos, rel, batch)
                if row is not None:
                    rows.append(row)
        return rows


def _batches(items: Sequence[Query], size: int) -> Iterator[Sequence[Query]]:
    for lo in range(0, len(items), size):
        yield items[lo : lo + size]


def build_retriever(spec: Mapping[str, Any], device: str = "auto"):
    """A retriever from ``{name, **params}`` through the registry; ``device`` fills in where it takes one."""
    from ragkit.registry import RETRIEVERS

    params = {k: v for k, v in spec.items() if k not in ("name", "label")}
    if "device" in RETRIEVERS.get(spec["name"]).Config.model_fields:
        params.setdefault("device", device)
    return RETRIEVERS.create(spec["name"], params)


def mine_hard_negatives(
    queries: Sequence[Query],
    qrels: Qrels,
    chunks: Sequence[Chunk],
    config: MiningConfig | Mapping[str, Any] | None = None,
    *,
    retriever=None,
    score_model: str = "default",
    device: str = "auto",
    show_progress: bool | None = None,
) -> MinedSet:
    """Mine (question, positive, hard negatives) rows; see the module docstring for the rules.

    Args:
        queries: the training questions (those without a relevant judgment are skipped).
        qrels: their judgments (documents or spans; grade >= 1 is relevant).
        chunks: the chunked corpus that positives and negatives are drawn from.
        config: a :class:`MiningConfig` or its dict.
        retriever: an already indexed retriever to take candidates from; default: build
            ``config.retriever`` through the registry and index ``chunks``.
        score_model: embedder for the margins when ``config.score_model`` is ``None``.
        device: device of the models built here (``auto``: CUDA, MPS, then CPU).
        show_progress: progress bar over batches (``None``: by log level / ``RAGKIT_DISABLE_TQDM``).

    Returns:
        A :class:`MinedSet`.

    Raises:
        ConfigError: no question has a relevant judgment, or the config is invalid.

    Example:
        >>> mined = mine_hard_negatives(queries, qrels, chunks, {"retriever": {"name": "bm25"}})  # doctest: +SKIP
        >>> mined.frame[["anchor", "positive", "negative_1"]].head()  # doctest: +SKIP
    """
    import pandas as pd

    from ragkit.core.models import get_embedder
    from ragkit.core.runtime import show_progress as _show

    cfg = config if isinstance(config, MiningConfig) else MiningConfig(**(config or {}))
    judged = [q for q in queries if _relevant(qrels.get(q.id, ()))]
    if not judged:
        raise ConfigError(
            f"mining: none of the {len(queries)} questions has a relevant judgment (grade >= 1) in the qrels; "
            "check that the questions and qrels files belong together"
        )
    if retriever is None:
        retriever = build_retriever(cfg.retriever, device)
        retriever.index(chunks)
    embedder = get_embedder(cfg.score_model or score_model, device)
    miner = _Miner(cfg, chunks, qrels, retriever, embedder)
    rows: list[dict[str, Any]] = []
    from tqdm.auto import tqdm

    n_batches = -(-len(judged) // cfg.batch_size)
    for part in tqdm(_batches(judged, cfg.batch_size), total=n_batches, desc="mining", disable=not _show(show_progress)):
        rows.extend(miner.batch(part))
    stats = {"questions": len(queries), "questions_judged": len(judged), "rows": len(rows), **miner.stats}
    log.info("mining: %d rows from %d judged questions; %s", len(rows), len(judged), dict(miner.stats))
    mined = MinedSet(pd.DataFrame(rows), cfg.n_negatives, stats)
    if not rows:
        mined.frame = pd.DataFrame(columns=mined.text_columns)
    return mined
