"""Cluster question embeddings into topics: BERTopic (UMAP + HDBSCAN) or, for small groups, agglomerative.

- ``n >= hdbscan_min_questions``: BERTopic with the shared encoder's embeddings
  (``embeddings=``; the same SentenceTransformer object is the ``embedding_model``, so
  nothing loads twice), UMAP (cosine, 5 components, ``random_state=seed``) and HDBSCAN
  (``min_cluster_size=min_topic_size``); outliers are reassigned to the nearest topic
  embedding (``reduce_outliers(strategy="embeddings")``), so no "-1" bucket is left.
  If HDBSCAN finds fewer than two topics, the fallback below runs instead.
- otherwise (too few points for a density estimate): agglomerative clustering
  (cosine, average linkage) with k chosen by the best silhouette among
  ``2 .. n // min_topic_size``; clusters smaller than ``min_topic_size`` are dissolved
  into the nearest remaining centroid. Fewer than ``2 * min_topic_size`` questions
  make one topic.

Every path is deterministic for a given seed.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


@dataclass
class Clustering:
    """Cluster label per question (0..k-1), the method used, and the fitted BERTopic (HDBSCAN path only)."""

    labels: np.ndarray
    method: str  # "hdbscan" | "agglomerative" | "single"
    bertopic: Any = None


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0..k-1 by decreasing size (ties: first occurrence)."""
    uniq, first, counts = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(uniq)), key=lambda i: (-counts[i], first[i]))
    mapping = {uniq[i]: r for r, i in enumerate(order)}
    return np.array([mapping[v] for v in labels], dtype=np.int64)


def _merge_small(x: np.ndarray, labels: np.ndarray, min_size: int) -> np.ndarray:
    """Dissolve clusters smaller than ``min_size`` into the nearest centroid of the kept ones (cosine)."""
    labels = labels.copy()
    counts = np.bincount(labels)
    keep = np.flatnonzero(counts >= min_size)
    if len(keep) == 0:
        return np.zeros(len(labels), dtype=np.int64)
    centroids = np.stack([x[labels == k].mean(0) for k in keep])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True) + 1e-12
    small = ~np.isin(labels, keep)
    if small.any():
        labels[small] = keep[np.argmax(x[small] @ centroids.T, axis=1)]
    return _relabel(labels)


def agglomerative_labels(x: np.ndarray, min_topic_size: int) -> np.ndarray:
    """Agglomerative clustering with k by silhouette, then small clusters merged (see module docstring)."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import silhouette_score

    n = len(x)
    kmax = min(n - 1, n // max(min_topic_size, 1))
    if n < 2 * min_topic_size or kmax < 2:
        return np.zeros(n, dtype=np.int64)
    best, best_score = np.zeros(n, dtype=np.int64), -np.inf
    for k in range(2, kmax + 1):
        labels = AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average").fit_predict(x)
        merged = _merge_small(x, labels, min_topic_size)
        if merged.max() < 1:
            continue
        score = silhouette_score(x, merged, metric="cosine")
        if score > best_score + 1e-12:
            best, best_score = merged, score
    return best


def _bertopic_hdbscan(x: np.ndarray, texts: list[str], min_topic_size: int, seed: int, embedding_model):
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    umap = UMAP(n_neighbors=min(15, len(x) - 1), n_components=5, min_dist=0.0, metric="cosine", random_state=seed)
    hdb = HDBSCAN(min_cluster_size=min_topic_size, metric="euclidean", cluster_selection_method="eom",
                  prediction_data=True)
    model = BERTopic(
        embedding_model=embedding_model,
        umap_model=umap,
        hdbscan_model=hdb,
        vectorizer_model=CountVectorizer(stop_words="english"),
        min_topic_size=min_topic_size,
        calculate_probabilities=False,
    )
    with warnings.catch_warnings():  # "n_jobs value 1 overridden to 1 by setting random_state": seeding is the point
        warnings.filterwarnings("ignore", message=".*overridden to 1 by setting random_state.*")
        topics, _ = model.fit_transform(texts, embeddings=x)
    topics = np.asarray(topics)
    if topics.max() < 1:  # fewer than two topics: nothing to reassign outliers to
        return None, None
    if (topics == -1).any():
        topics = np.asarray(model.reduce_outliers(texts, list(topics), strategy="embeddings", embeddings=x))
        model.update_topics(texts, topics=list(topics), vectorizer_model=CountVectorizer(stop_words="english"))
    return topics, model


def cluster_questions(
    embeddings: np.ndarray,
    texts: list[str],
    *,
    min_topic_size: int,
    hdbscan_min_questions: int = 100,
    seed: int = 0,
    embedding_model: Any = None,
) -> Clustering:
    """Topic label per question (0 = largest topic); see the module docstring for the method.

    Args:
        embeddings: (n, d) unit-length question embeddings from the shared encoder.
        texts: the n questions (BERTopic's c-TF-IDF and outlier reduction use them).
        min_topic_size: smallest topic.
        hdbscan_min_questions: from this many questions on, UMAP + HDBSCAN.
        seed: UMAP random state.
        embedding_model: the loaded SentenceTransformer, handed to BERTopic for ``transform``.
    """
    x = np.asarray(embeddings, dtype=np.float32)
    n = len(x)
    if n < 2 * min_topic_size:
        return Clustering(np.zeros(n, dtype=np.int64), "single")
    if n >= hdbscan_min_questions:
        try:
            topics, model = _bertopic_hdbscan(x, list(texts), min_topic_size, seed, embedding_model)
        except (ValueError, TypeError) as err:  # degenerate inputs (e.g. all-identical questions)
            log.warning("BERTopic (UMAP + HDBSCAN) failed on %d questions (%s); using agglomerative clustering", n, err)
            topics = None
        if topics is not None:
            return Clustering(_relabel(topics), "hdbscan", model)
        log.info("HDBSCAN found fewer than two topics in %d questions; using agglomerative clustering", n)
    labels = agglomerative_labels(x, min_topic_size)
    return Clustering(labels, "agglomerative" if labels.max() > 0 else "single")
