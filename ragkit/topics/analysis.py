"""Topic analysis of a question set: topics, gaps, the per-topic table; and the run-folder files.

:func:`analyse_topics` is the library entry point (any questions, labelled or not);
:func:`write_topics` writes ``topics.parquet`` and ``question_topics.parquet`` into a run
folder (formats in ``contracts.md``). The real-time classifier is fitted from those files
on first use (:meth:`ragkit.topics.QuestionClassifier.from_run`, ``ragkit classify``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ragkit.data.types import Chunk, Document, Query
from ragkit.topics.config import TopicsConfig
from ragkit.topics.gaps import CorpusVocabulary, encoder_dictionary, metadata_fields, question_gaps, topic_gap
from ragkit.topics.model import TopicModel, fit_topics
from ragkit.topics.table import question_quality, topic_table

log = logging.getLogger(__name__)

__all__ = ["TopicAnalysis", "analyse_topics", "write_topics", "feedback_values"]

_BLOCK = 4096  # chunks per block of the question x corpus cosine product


@dataclass
class TopicAnalysis:
    """Result of :func:`analyse_topics`: the two tables and the topic model."""

    topics: pd.DataFrame  # topics.parquet
    questions: pd.DataFrame  # question_topics.parquet
    model: TopicModel
    config: str = ""


def feedback_values(queries: Sequence[Query], field: str = "feedback") -> np.ndarray:
    """Numeric user feedback per query from ``metadata[field]`` (numbers, booleans, numeric strings; else NaN)."""
    out = np.full(len(queries), np.nan)
    bad = 0
    for i, q in enumerate(queries):
        v = q.metadata.get(field)
        if v is None or v == "":
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            bad += 1
    if bad:
        log.warning("%d '%s' values are not numbers and were ignored", bad, field)
    return out


def corpus_cosine(question_vecs: np.ndarray, chunks: Sequence[Chunk], embedder) -> np.ndarray:
    """Best cosine of each question against every chunk (shared encoder, cached embeddings, blocked product)."""
    best = np.full(len(question_vecs), -np.inf, dtype=np.float32)
    for s in range(0, len(chunks), _BLOCK):
        cv = embedder.encode([c.indexed_text for c in chunks[s : s + _BLOCK]])
        best = np.maximum(best, (question_vecs @ cv.T).max(axis=1))
    return np.where(np.isfinite(best), best, np.nan)


def _empty(config_name: str) -> TopicAnalysis:
    model = TopicModel(np.zeros(0, dtype=np.int64), {}, np.zeros((0, 2), dtype=np.float32))
    cols = ["config", "topic", "label", "keywords", "n", "share", "priority", "priority_rank", "gap", "gap_evidence"]
    questions = pd.DataFrame(columns=["query_id", "text", "topic", "label", "x", "y"])
    return TopicAnalysis(pd.DataFrame(columns=cols), questions, model, config_name)


def analyse_topics(
    queries: Sequence[Query],
    *,
    embedder,
    values: pd.DataFrame | None = None,
    docs: Sequence[Document] | None = None,
    chunks: Sequence[Chunk] | None = None,
    config: TopicsConfig | None = None,
    seed: int = 0,
    n_resamples: int = 1000,
    config_name: str = "",
) -> TopicAnalysis:
    """Cluster ``queries`` into topics and rank the topics to work on first.

    Args:
        queries: the questions (``metadata["feedback"]`` is read as user feedback).
        embedder: the shared :class:`~ragkit.core.embedder.Embedder`.
        values: per-question signals indexed by query id (``top1_cosine``, ``rerank_top1``,
            ``doc:hit_rate@10``, ``doc:ndcg@10``, ...); feedback is added from the queries.
        docs: the corpus documents (their metadata fields decide capability gaps; their
            words the missing-word evidence).
        chunks: the chunks to measure coverage against (best cosine over all of them).
        config: topic settings (``TopicsConfig()`` when omitted).
        seed, n_resamples: random state of clustering / map / bootstrap, and bootstrap size.
        config_name: the configuration whose values are analysed (the ``config`` column).

    Returns:
        :class:`TopicAnalysis`; zero questions give empty tables, one question one topic.
    """
    config = config or TopicsConfig()
    queries = list(queries)
    if not queries:
        return _empty(config_name)
    seed = config.seed if config.seed is not None else seed
    texts = [q.text for q in queries]
    ids = [q.id for q in queries]
    x = embedder.encode(texts)
    frame = values.reindex(ids) if values is not None else pd.DataFrame(index=pd.Index(ids))
    frame = frame.assign(feedback=feedback_values(queries)).reset_index(drop=True)
    cos = corpus_cosine(x, chunks, embedder) if (config.coverage and chunks) else None
    vocab = CorpusVocabulary((d.text for d in docs), encoder_dictionary(embedder.tokenizer)) if docs else None
    labelled = frame[[c for c in frame.columns if c.startswith(("doc:", "chunk:"))]].notna().any(axis=1).to_numpy()
    gaps = question_gaps(texts, cos, vocab, metadata_fields(docs) if docs else None, labelled)
    model = fit_topics(
        texts, x, groups=gaps.gap if config.split_gaps else None,
        min_topic_size=config.resolved_min_topic_size(len(texts)), hdbscan_min_questions=config.hdbscan_min_questions,
        n_keywords=config.n_keywords, seed=seed, embedding_model=getattr(embedder, "model", None),
    )
    qframe = _no_hits_worst(frame)
    table = topic_table(model.labels, frame, signals=config.signals, keywords=model.keywords, n_resamples=n_resamples,
                        seed=seed, quality_values=qframe)
    verdicts = {t: topic_gap(np.flatnonzero(model.labels == t).tolist(), gaps) for t in table["topic"]}
    table["gap"] = [verdicts[t][0] for t in table["topic"]]
    table["gap_evidence"] = [verdicts[t][1] for t in table["topic"]]
    if cos is not None:
        table["corpus_cosine_mean"] = [float(np.nanmean(cos[model.labels == t])) for t in table["topic"]]
    table.insert(0, "config", config_name)
    questions = _question_frame(queries, model, gaps, qframe, config.signals)
    return TopicAnalysis(table, questions, model, config_name)


def _no_hits_worst(frame: pd.DataFrame) -> pd.DataFrame:
    """A question the pipeline found nothing for has no cosine: for its quality it counts as the lowest one."""
    if "n_hits" not in frame:
        return frame
    out = frame.copy()
    empty = out["n_hits"].fillna(0).to_numpy() == 0
    for col in ("top1_cosine", "rerank_top1"):
        if col in out:
            out.loc[empty & out[col].isna().to_numpy(), col] = -np.inf
    return out


def _question_frame(queries, model: TopicModel, gaps, frame: pd.DataFrame, signals) -> pd.DataFrame:
    return pd.DataFrame({
        "query_id": [q.id for q in queries],
        "text": [q.text for q in queries],
        "topic": model.labels.astype(np.int64),
        "label": [model.label(int(t)) for t in model.labels],
        "x": model.xy[:, 0].astype(float),
        "y": model.xy[:, 1].astype(float),
        "gap": gaps.gap,
        "metadata_asked": [", ".join(v) for v in gaps.intents],
        "missing_words": [", ".join(v) for v in gaps.missing],
        "misspellings": [", ".join(v) for v in gaps.typos],
        "corpus_cosine": gaps.corpus_cosine.astype(float),
        "quality": question_quality(frame, signals).to_numpy(dtype=float),
    })


def write_topics(analysis: TopicAnalysis, run_dir: str | Path) -> None:
    """Write ``topics.parquet``, ``question_topics.parquet`` and ``topics.json`` (methods used) into ``run_dir``."""
    from ragkit.experiment.store import write_json, write_parquet

    run_dir = Path(run_dir)
    write_parquet(analysis.topics, run_dir / "topics.parquet")
    write_parquet(analysis.questions, run_dir / "question_topics.parquet")
    info = {"config": analysis.config, "n_topics": analysis.model.n_topics, "methods": analysis.model.methods}
    write_json(info, run_dir / "topics.json")
    log.info("topics: %d topics over %d questions -> %s", analysis.model.n_topics, len(analysis.questions), run_dir)

