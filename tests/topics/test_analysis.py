"""Topic analysis end to end on the shipped query log (bundled model, real BERTopic), and its edge cases."""

from __future__ import annotations

import pandas as pd
import pytest

from ragkit.data.types import Query
from ragkit.topics import analyse_topics, weakest_topic_questions, write_topics
from ragkit.topics.target import parse_selector

TOPIC_COLUMNS = ["config", "topic", "label", "keywords", "n", "share", "priority", "priority_rank", "gap", "gap_evidence"]


@pytest.fixture(scope="session")
def acme_corpus(acme_dir):
    from ragkit.data.folder import load_folder
    from ragkit.registry import CHUNKERS

    docs = load_folder(acme_dir / "docs")
    return docs, CHUNKERS.create("markdown", {"prefix_headings": True}).chunk_all(docs)


@pytest.fixture(scope="session")
def log_analysis(acme_dir, acme_corpus, embedder):
    from ragkit.data.jsonl import load_queries_jsonl

    docs, chunks = acme_corpus
    queries = load_queries_jsonl(acme_dir / "query_log.jsonl")
    return analyse_topics(queries, embedder=embedder, docs=docs, chunks=chunks, seed=0, n_resamples=200, config_name="log")


def test_weak_areas_of_the_query_log_come_first_with_the_right_gap(log_analysis):
    topics, questions = log_analysis.topics, log_analysis.questions
    top3 = topics.head(3)
    assert {"content", "capability"} <= set(top3["gap"])  # (the third: a cluster of typos, weak too)
    assert topics[topics["gap"] != "none"]["priority_rank"].max() <= 3
    by_text = questions.set_index("text")
    # every metadata-style query of the log sits in a capability-gap topic
    for text in ["who owns the security policy", "who wrote the on-call handbook", "docs by hannah lindqvist",
                 "when was travel policy updated", "which team owns data retention", "latest version of pricing doc"]:
        assert by_text.loc[text, "gap"] == "capability"
        assert topics.set_index("topic").loc[by_text.loc[text, "topic"], "gap"] == "capability"
    # the uncovered ones (equity, visa, pet insurance) form the content-gap topic, ranked first
    content = topics[topics["gap"] == "content"]
    assert content.iloc[0]["priority_rank"] == 1
    members = set(questions[questions["topic"] == content.iloc[0]["topic"]]["text"])
    assert {"rsu vesting cliff", "stock options vesting schedule", "visa sponsorship h1b"} <= members
    assert "never occur in the corpus" in content.iloc[0]["gap_evidence"]
    # typos are not content gaps
    assert by_text.loc["conector timout", "gap"] == "none" and "connector" in by_text.loc["conector timout", "misspellings"]
    assert topics["feedback_mean"].iloc[0] < topics["feedback_mean"].iloc[-1]


def test_contract_columns_and_files(log_analysis, tmp_path):
    topics, questions = log_analysis.topics, log_analysis.questions
    assert all(c in topics for c in TOPIC_COLUMNS + ["feedback_mean", "feedback_ci_low", "feedback_ci_high"])
    assert (topics["topic"] >= 0).all() and topics["n"].sum() == len(questions) == 85
    assert topics["share"].sum() == pytest.approx(1.0)
    assert sorted(topics["priority_rank"]) == list(range(1, len(topics) + 1))
    assert list(questions.columns[:6]) == ["query_id", "text", "topic", "label", "x", "y"]
    write_topics(log_analysis, tmp_path)
    back = pd.read_parquet(tmp_path / "topics.parquet")
    assert back["label"].tolist() == topics["label"].tolist()
    assert len(pd.read_parquet(tmp_path / "question_topics.parquet")) == 85
    # close the loop: the weakest non-content-gap topics' questions are the synthesis targets
    targets = weakest_topic_questions(tmp_path, 1)
    first = topics[topics["gap"] != "content"].iloc[0]
    assert set(targets) == set(questions[questions["topic"] == first["topic"]]["text"])
    assert parse_selector("weakest:3") == 3


def test_no_and_one_question(embedder):
    empty = analyse_topics([], embedder=embedder)
    assert len(empty.topics) == 0 and all(c in empty.topics for c in TOPIC_COLUMNS)
    assert list(empty.questions.columns) == ["query_id", "text", "topic", "label", "x", "y"]
    one = analyse_topics([Query("q1", "how do I reset my okta password", {"feedback": 2})], embedder=embedder)
    row = one.topics.iloc[0]
    assert (len(one.topics), row["n"], row["share"], row["priority_rank"], row["gap"]) == (1, 1, 1.0, 1, "none")
    assert row["priority"] == pytest.approx(0.0) and row["feedback_mean"] == 2.0
    assert one.questions["topic"].tolist() == [0]
