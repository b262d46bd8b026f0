"""Capability / content gap detection on constructed cases and on the shipped gold questions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ragkit.data.types import Document
from ragkit.topics.gaps import CorpusVocabulary, metadata_fields, metadata_intents, question_gaps, topic_gap

DOCS = [
    Document("a.md", "Connector timeouts are retried with backoff. Invoices are sent monthly.", "A",
             {"author": "Ana", "owner": "ops@x", "last_modified": "2025-01-02", "file_name": "a.md"}),
    Document("b.md", "Parental leave is sixteen weeks. Vacation days carry over until March.", "B",
             {"author": "Ben", "owner": "", "file_name": "b.md"}),
]


def test_gold_metadata_questions_are_exactly_the_ones_detected(acme_dir):
    rows = [json.loads(line) for line in (acme_dir / "questions.jsonl").read_text().splitlines()]
    detected = {r["id"] for r in rows if metadata_intents(r["text"])}
    labelled = {r["id"] for r in rows if r["metadata"]["type"] == "metadata"}
    assert detected == labelled and len(labelled) == 12


@pytest.mark.parametrize("text, intents", [
    ("who owns the security policy", ["owner"]),
    ("When was the on-call handbook last modified?", ["date"]),
    ("docs by hannah lindqvist", ["author"]),
    ("Which documents are tagged quarantine?", ["tags"]),
    ("Which department owns the data retention policy?", ["owner", "department"]),
    ("what is the file name of the runbook", ["file"]),
    ("who approves discounts above 25%", []),
    ("when does the winter shutdown start", []),
    ("how to change the account owner email", []),
])
def test_metadata_intents(text, intents):
    assert metadata_intents(text) == intents


def test_vocabulary_tells_missing_words_from_typos_and_plurals():
    v = CorpusVocabulary(d.text for d in DOCS)
    assert v.missing("conector timout invoice") == []  # typos and a singular of "invoices"
    assert v.correction("conector") == "connector" and v.correction("timout") == "timeouts"
    assert v.missing("visa sponsorship") == ["visa", "sponsorship"]
    assert v.correction("4012") is None  # identifiers are never "corrected"
    assert v.content_words("How many vacation days?") == ["vacation", "days"]


def test_question_gaps_on_constructed_cases():
    texts = ["who wrote the travel policy", "who wrote this, tagged?", "rsu vesting cliff", "parental leave weeks",
             "vacation carry over", "invoices monthly"]
    cos = np.array([0.5, 0.5, 0.15, 0.6, 0.55, 0.58])  # median 0.525
    g = question_gaps(texts, cos, CorpusVocabulary(d.text for d in DOCS), metadata_fields(DOCS))
    assert g.gap == ["capability", "capability", "content", "none", "none", "none"]
    assert g.intents[0] == ["author"] and g.intents[1] == ["author"]  # no tags field in the corpus: not a capability
    assert g.missing[2] == ["rsu", "vesting", "cliff"]
    assert g.fields == ["author"]
    # the same question with a high cosine is covered (words alone never decide)
    g2 = question_gaps(["rsu vesting cliff", "a b", "c d"], np.array([0.9, 0.5, 0.5]), CorpusVocabulary(["x"]), {})
    assert g2.gap[0] == "none"


def test_capability_needs_a_matching_corpus_field():
    g = question_gaps(["who owns the travel policy"], None, None, {"title": 3})
    assert g.gap == ["none"] and g.intents == [[]]


def test_topic_gap_majority_and_evidence():
    texts = ["who owns the security policy", "who wrote the handbook", "when was travel policy updated", "sick days"]
    g = question_gaps(texts, np.array([0.6, 0.5, 0.6, 0.55]), CorpusVocabulary(d.text for d in DOCS), metadata_fields(DOCS))
    gap, evidence = topic_gap([0, 1, 2, 3], g)
    assert gap == "capability"
    assert evidence.startswith("3/4 questions ask for document metadata (")
    assert "owner" in evidence and "corpus metadata has author, last_modified, owner" in evidence
    texts = ["visa sponsorship h1b", "rsu vesting cliff", "vacation days", "parental leave", "invoices monthly"]
    g = question_gaps(texts, np.array([0.2, 0.18, 0.6, 0.62, 0.58]), CorpusVocabulary(d.text for d in DOCS), {})
    gap, evidence = topic_gap([0, 1], g)
    assert gap == "content"
    assert "2/2 questions not covered: best corpus cosine 0.19 vs median 0.58" in evidence
    assert "6/6 content words never occur in the corpus" in evidence
    assert topic_gap([2, 3], g)[0] == "none"
    assert topic_gap([], g) == ("none", "no questions")
