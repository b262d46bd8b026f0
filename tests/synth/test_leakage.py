"""Lexical leakage worked out by hand (analyzer: lowercase, Lucene stopwords, Snowball stems, minus question words)."""

from __future__ import annotations

import pytest

from ragkit.data.types import Document, Judgment, Qrels, Query
from ragkit.synth.leakage import content_terms, distribution, leakage, qrels_leakage

SOURCE = "Refunds are processed within 14 days of the request."


def test_content_terms_drop_question_and_stop_words():
    assert content_terms("How long are refunds processed?") == {"long", "refund", "process"}
    assert content_terms("What does LF-ERR-4012 mean?") == {"lf", "err", "4012", "mean"}


@pytest.mark.parametrize(
    "question, expected",
    [
        ("How long are refunds processed?", 2 / 3),        # refund, process copied; long not
        ("When do I get my money back?", 0.0),             # get, money, back: none copied
        ("Are refunds processed within 14 days?", 1.0),    # refund, process, within, 14, day
        ("What is it?", 0.0),                              # no content word at all
    ],
)
def test_leakage_hand_worked(question, expected):
    assert leakage(question, SOURCE) == pytest.approx(expected)


def test_excluded_identifier_does_not_count():
    src = "LF-ERR-4012 means the connector timed out."
    assert leakage("What does LF-ERR-4012 mean?", src) == pytest.approx(1.0)  # lf, err, 4012, mean: all in src
    assert leakage("How do I fix LF-ERR-4012?", src, exclude=["LF-ERR-4012"]) == 0.0  # only 'fix' is left


def test_qrels_leakage_uses_spans_and_whole_documents():
    docs = [Document("d1", "Alpha beta gamma. Delta epsilon."), Document("d2", "zeta eta")]
    queries = [Query("q1", "What about alpha and delta?"), Query("q2", "Is zeta theta?"), Query("q3", "unlabelled alpha?")]
    qrels = Qrels({"q1": [Judgment("d1", 1, 0, 17)], "q2": [Judgment("d2", 2)]})
    # q1: alpha in span [0,17), delta is not -> 1/2; q2: zeta in d2, theta not -> 1/2; q3 has no label -> skipped
    assert qrels_leakage(queries, qrels, docs) == [0.5, 0.5]


def test_distribution():
    d = distribution([0.0, 0.5, 1.0, 0.5])
    assert d["n"] == 4 and d["mean"] == 0.5 and d["median"] == 0.5 and d["max"] == 1.0
    assert sum(d["histogram"]) == 4 and d["histogram"][0] == 1 and d["histogram"][5] == 2 and d["histogram"][9] == 1
    assert distribution([]) == {"n": 0}
