"""The question classifier: agreement with the topic assignments it was fitted on, held-out agreement, save/load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ragkit.errors import DataValidationError
from ragkit.topics.classifier import QuestionClassifier
from ragkit.topics.model import fit_topics


@pytest.fixture(scope="session")
def acme_topics(acme_dir, embedder):
    texts = [json.loads(line)["text"] for f in ("questions.jsonl", "query_log.jsonl")
             for line in (acme_dir / f).read_text().splitlines()]
    x = embedder.encode(texts)
    return texts, x, fit_topics(texts, x, min_topic_size=5, seed=0)


@pytest.mark.parametrize("head", ["logistic", "centroid"])
def test_encoder_classifier_agrees_with_topics_and_round_trips(acme_topics, embedder, tmp_path, head):
    texts, x, tm = acme_topics
    clf = QuestionClassifier.fit(texts, tm.labels, embedder=embedder, embeddings=x, features="encoder", head=head)
    agree = np.mean(np.array(clf.predict(texts)) == tm.labels)
    assert agree >= (0.95 if head == "logistic" else 0.8)
    clf.save(tmp_path / "clf")
    back = QuestionClassifier.load(tmp_path / "clf")
    assert back.predict(texts[:20]) == clf.predict(texts[:20])
    header = json.loads((tmp_path / "clf" / "ragkit.json").read_text())
    assert header["kind"] == "topic_classifier" and header["schema_version"] == 1
    assert header["config"]["features"] == "encoder" and header["config"]["n_topics"] == tm.n_topics


def test_held_out_agreement_with_bertopic_transform(acme_topics, embedder):
    """Topics fitted by BERTopic (UMAP + HDBSCAN) on 80%; on the other 20%, the classifier vs BERTopic's own transform."""
    texts, x, _ = acme_topics
    idx = np.random.default_rng(0).permutation(len(texts))
    train, test = idx[: int(0.8 * len(idx))], idx[int(0.8 * len(idx)):]
    tm = fit_topics([texts[i] for i in train], x[train], min_topic_size=5, hdbscan_min_questions=50, seed=0,
                    embedding_model=embedder.model)
    ref = tm.bertopic_transform([texts[i] for i in test], x[test])
    assigned = ref != -1
    assert assigned.sum() >= 5  # HDBSCAN's approximate_predict leaves many held-out questions as outliers
    clf = QuestionClassifier.fit([texts[i] for i in train], tm.labels, embedder=embedder, embeddings=x[train],
                                 features="encoder", head="logistic")
    pred = np.array(clf.predict_features(x[test]))
    assert np.mean(pred[assigned] == ref[assigned]) >= 0.8  # 7/7 here; 0.89 on 3,457 BEIR questions (bench)


def test_single_topic_and_errors(embedder):
    clf = QuestionClassifier.fit(["a question", "another one"], [3, 3], embedder=embedder, features="encoder")
    assert clf.predict(["anything at all"]) == [3] and clf.predict([]) == []
    with pytest.raises(DataValidationError, match="one topic per question"):
        QuestionClassifier.fit(["a"], [0, 1], embedder=embedder, features="encoder")
    with pytest.raises(DataValidationError, match="not a topic classifier"):
        QuestionClassifier.load("/nonexistent/folder")
