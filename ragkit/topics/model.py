"""Fit topics over question embeddings: per-group clustering, c-TF-IDF keywords, a seeded 2-D map.

:func:`fit_topics` clusters each group of questions on its own (groups are the gap
strata of :mod:`ragkit.topics.gaps` when ``split_gaps`` is on, so a topic never mixes
questions that need different fixes), then fits one BERTopic in "manual" mode on the
final labels (no second embedding pass, no UMAP): its class-based TF-IDF gives every
topic its keywords against all the other topics, and it renumbers topics by size
(0 = largest).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ragkit.topics.cluster import Clustering, cluster_questions

log = logging.getLogger(__name__)

__all__ = ["TopicModel", "fit_topics", "project_2d"]


@dataclass
class TopicModel:
    """Topics of a set of questions.

    Attributes:
        labels: topic id per question (0 = largest topic).
        keywords: topic id -> c-TF-IDF keywords, best first.
        xy: (n, 2) seeded 2-D projection of the embeddings (the topic map).
        methods: group -> clustering method ("hdbscan", "agglomerative", "single").
        clusterings: group -> :class:`~ragkit.topics.cluster.Clustering` (holds the BERTopic of the HDBSCAN path).
    """

    labels: np.ndarray
    keywords: dict[int, list[str]]
    xy: np.ndarray
    methods: dict[str, str] = field(default_factory=dict)
    clusterings: dict[str, Clustering] = field(default_factory=dict)

    @property
    def n_topics(self) -> int:
        return len(self.keywords)

    def bertopic_transform(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        """BERTopic's own ``transform`` of new questions (UMAP transform + HDBSCAN ``approximate_predict``),
        in this model's topic ids; -1 where HDBSCAN calls a question an outlier.

        Only for a model fitted as one group on the UMAP + HDBSCAN path (the reference the
        real-time classifier is compared with in ``benchmarks/bench_classify.py``).
        """
        fitted = [c for c in self.clusterings.values() if c.bertopic is not None]
        if len(self.clusterings) != 1 or not fitted:
            raise ValueError("bertopic_transform needs a model fitted as one group on the UMAP + HDBSCAN path")
        bt = fitted[0].bertopic
        mapping: dict[int, int] = {}
        for raw, ours in zip(np.asarray(bt.topics_), self.labels):
            mapping.setdefault(int(raw), int(ours))
        pred, _ = bt.transform(list(texts), embeddings=np.asarray(embeddings, dtype=np.float32))
        return np.array([mapping.get(int(r), -1) if r != -1 else -1 for r in pred], dtype=np.int64)

    def label(self, topic: int, n: int = 3) -> str:
        """A short readable label: the topic's first ``n`` keywords."""
        words = self.keywords.get(topic) or []
        return ", ".join(words[:n]) or f"topic {topic}"


# words, and identifiers kept whole: "lf-err-4012", "flow.retry.max_backoff_ms", "4.0"
_TOKENS = r"(?u)\b\w[\w.-]*\w\b"


def _dedupe(words: list[str]) -> list[str]:
    """Drop a keyword whose singular / plural form is already listed ("invoice", "invoices")."""
    seen, out = set(), []
    for w in words:
        stem = w[:-1] if w.endswith("s") and len(w) > 3 else w
        if w and stem not in seen:
            seen.add(stem)
            out.append(w)
    return out


def _ctfidf(texts: list[str], labels: np.ndarray, embeddings: np.ndarray, n_keywords: int):
    """(labels renumbered by BERTopic, topic -> keywords) from a manual-mode BERTopic fit."""
    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from sklearn.feature_extraction.text import CountVectorizer

    last: Exception | None = None
    keep_stop_words = CountVectorizer(token_pattern=r"(?u)\b\w+\b")  # when a question has nothing else
    vectorizers = (CountVectorizer(stop_words="english", token_pattern=_TOKENS), keep_stop_words)
    for vectorizer in vectorizers:
        model = BERTopic(
            language="multilingual",  # keeps the text as is ("english" strips every non-ASCII-alphanumeric character)
            umap_model=BaseDimensionalityReduction(),
            hdbscan_model=BaseCluster(),
            vectorizer_model=vectorizer,
            top_n_words=max(n_keywords * 2, 10),
            min_topic_size=1,
            calculate_probabilities=False,
        )
        bt_log = logging.getLogger("BERTopic")
        level = bt_log.level
        bt_log.setLevel(logging.ERROR)  # its "custom list of topic assignments" warning: manual mode is the point
        try:
            model.fit(texts, embeddings=embeddings, y=labels)
        except ValueError as err:  # empty vocabulary: only stop words; retry keeping them
            last = err
            continue
        finally:
            bt_log.setLevel(level)
        final = np.asarray(model.topics_, dtype=np.int64)
        words = {int(t): _dedupe([w for w, s in (model.get_topic(t) or []) if w and s > 0])[:n_keywords]
                 for t in set(final)}
        return final, words
    log.warning("no keywords: %s", last)
    uniq = {v: i for i, v in enumerate(sorted(set(labels.tolist()), key=lambda v: -int((labels == v).sum())))}
    final = np.array([uniq[v] for v in labels], dtype=np.int64)
    return final, {t: [] for t in set(final.tolist())}


def project_2d(embeddings: np.ndarray, *, seed: int = 0, use_umap: bool = False) -> np.ndarray:
    """A seeded (n, 2) map of the embeddings: UMAP (cosine) when asked and n >= 10, else PCA."""
    x = np.asarray(embeddings, dtype=np.float32)
    n = len(x)
    out = np.zeros((n, 2), dtype=np.float32)
    if n < 2:
        return out
    if use_umap and n >= 10:
        from umap import UMAP

        with warnings.catch_warnings():  # "n_jobs ... overridden to 1 by setting random_state": seeding is the point
            warnings.filterwarnings("ignore", message=".*overridden to 1 by setting random_state.*")
            umap = UMAP(n_components=2, n_neighbors=min(15, n - 1), metric="cosine", random_state=seed)
            return umap.fit_transform(x).astype(np.float32)
    from sklearn.decomposition import PCA

    k = min(2, n, x.shape[1])
    out[:, :k] = PCA(n_components=k, random_state=seed).fit_transform(x)[:, :k]
    return out


def fit_topics(
    texts: Sequence[str],
    embeddings: np.ndarray,
    *,
    groups: Sequence[str] | None = None,
    min_topic_size: int = 3,
    hdbscan_min_questions: int = 100,
    n_keywords: int = 10,
    seed: int = 0,
    embedding_model: Any = None,
) -> TopicModel:
    """Cluster questions into labelled topics.

    Args:
        texts: the questions.
        embeddings: (n, d) unit-length embeddings of ``texts`` from the shared encoder.
        groups: optional group name per question; each group is clustered on its own (groups other
            than ``"none"`` are gap groups, clustered with twice the ``min_topic_size``).
        min_topic_size: smallest topic (smaller clusters are merged into their nearest topic).
        hdbscan_min_questions: groups at least this large use BERTopic's UMAP + HDBSCAN.
        n_keywords: keywords kept per topic.
        seed: random state of UMAP and of the 2-D map; the same seed gives the same topics.
        embedding_model: the loaded SentenceTransformer (``Embedder.model``) for BERTopic.

    Returns:
        A :class:`TopicModel`; no questions give zero topics, one question one topic.

    Example:
        >>> import numpy as np
        >>> tm = fit_topics(["a b", "c d"], np.eye(2, dtype=np.float32))
        >>> tm.labels.tolist(), tm.n_topics
        ([0, 0], 1)
    """
    texts = list(texts)
    n = len(texts)
    if n == 0:
        return TopicModel(np.zeros(0, dtype=np.int64), {}, np.zeros((0, 2), dtype=np.float32))
    x = np.asarray(embeddings, dtype=np.float32).reshape(n, -1)
    groups = list(groups) if groups is not None else ["all"] * n
    labels = np.full(n, -1, dtype=np.int64)
    methods, clusterings, offset = {}, {}, 0
    for g in dict.fromkeys(groups):
        idx = np.flatnonzero(np.array([v == g for v in groups]))
        # a gap group shares one fix (metadata search, new documents): fewer, larger topics
        size = min_topic_size if g in ("all", "none") else 2 * min_topic_size
        cl = cluster_questions(
            x[idx], [texts[i] for i in idx], min_topic_size=size,
            hdbscan_min_questions=hdbscan_min_questions, seed=seed, embedding_model=embedding_model,
        )
        labels[idx] = cl.labels + offset
        offset += int(cl.labels.max()) + 1
        methods[g], clusterings[g] = cl.method, cl
        log.info("topics: %d questions in group '%s' -> %d topic(s) (%s)", len(idx), g, cl.labels.max() + 1, cl.method)
    final, keywords = _ctfidf(texts, labels, x, n_keywords)
    xy = project_2d(x, seed=seed, use_umap=n >= hdbscan_min_questions)
    return TopicModel(final, keywords, xy, methods, clusterings)
