"""Clustering paths (agglomerative with automatic k, BERTopic UMAP + HDBSCAN), keywords, seeding, tiny inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ragkit.topics.cluster import agglomerative_labels, cluster_questions
from ragkit.topics.model import fit_topics, project_2d


def _blobs(n_per: int = 8, k: int = 3, dim: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = np.eye(dim)[:k] * 4
    x = np.vstack([c + rng.normal(scale=0.3, size=(n_per, dim)) for c in centers])
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), np.repeat(np.arange(k), n_per)


def test_agglomerative_finds_k_by_silhouette():
    x, truth = _blobs()
    labels = agglomerative_labels(x, min_topic_size=3)
    assert labels.max() + 1 == 3
    # same partition as the truth, up to renaming
    assert len({(a, b) for a, b in zip(labels, truth)}) == 3


def test_small_clusters_are_merged_and_tiny_groups_are_one_topic():
    x, _ = _blobs(n_per=6, k=2)
    outlier = np.zeros((1, x.shape[1]), np.float32)
    outlier[0, 5] = 1.0
    labels = agglomerative_labels(np.vstack([x, outlier]), min_topic_size=3)
    assert labels.max() + 1 == 2 and np.bincount(labels).min() >= 3
    assert cluster_questions(x[:5], ["q"] * 5, min_topic_size=3).method == "single"


def test_zero_one_two_questions():
    empty = fit_topics([], np.zeros((0, 4), np.float32))
    assert (empty.n_topics, len(empty.labels), empty.xy.shape) == (0, 0, (0, 2))
    one = fit_topics(["how do I reset my okta password"], np.ones((1, 4), np.float32))
    assert one.labels.tolist() == [0] and one.n_topics == 1
    assert set(one.keywords[0]) >= {"okta", "password"}
    assert one.label(0) and one.xy.shape == (1, 2)
    stop_only = fit_topics(["who is it", "what is it"], np.eye(2, dtype=np.float32))
    assert stop_only.n_topics == 1 and stop_only.keywords[0]  # falls back to keeping stop words


def test_groups_are_clustered_apart_and_keywords_come_from_ctfidf():
    x, _ = _blobs(n_per=4, k=2)
    texts = ["invoice pdf download"] * 4 + ["okta sso login"] * 4
    tm = fit_topics(texts, x, groups=["a"] * 4 + ["b"] * 4, min_topic_size=2)
    assert tm.n_topics == 2
    kw = {tuple(sorted(tm.keywords[t][:3])) for t in range(2)}
    assert kw == {("download", "invoice", "pdf"), ("login", "okta", "sso")}
    assert set(tm.methods) == {"a", "b"}


def test_projection_is_seeded():
    x, _ = _blobs(n_per=4, k=2)
    assert np.array_equal(project_2d(x, seed=1), project_2d(x, seed=1))


@pytest.fixture(scope="session")
def acme_questions(acme_dir, embedder):
    texts = [json.loads(line)["text"] for f in ("questions.jsonl", "query_log.jsonl")
             for line in (acme_dir / f).read_text().splitlines()]
    return texts, embedder.encode(texts)


def test_bertopic_path_is_identical_across_two_seeded_runs(acme_questions, embedder):
    texts, x = acme_questions
    kwargs = dict(min_topic_size=5, hdbscan_min_questions=50, seed=7, embedding_model=embedder.model)
    a = fit_topics(texts, x, **kwargs)
    b = fit_topics(texts, x, **kwargs)
    assert a.methods == {"all": "hdbscan"}
    assert a.n_topics >= 3 and (a.labels >= 0).all()  # outliers reassigned: no -1 bucket
    assert np.array_equal(a.labels, b.labels)
    assert a.keywords == b.keywords
    assert np.array_equal(a.xy, b.xy)
    assert a.clusterings["all"].bertopic is not None
