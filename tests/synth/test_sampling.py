"""Seeded, document-stratified sampling; identifiers; targeting; metadata tasks."""

from __future__ import annotations

import pytest

from ragkit.errors import ConfigError
from ragkit.synth.config import SynthConfig
from ragkit.synth.prompts import load_chat_template, load_metadata_templates
from ragkit.synth.sampling import find_identifiers, plan_tasks

OPENERS = {s: load_chat_template(s).openers for s in ("factoid", "paraphrase", "keyword")}
META = load_metadata_templates()
SMALL = {"name": "chars", "size": 120, "overlap": 20}


def _plan(docs, **cfg):
    return plan_tasks(docs, SynthConfig(**{"chunker": SMALL, "min_passage_chars": 50, **cfg}), OPENERS, META)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Set `flow.retry.max_backoff_ms` after LF-ERR-4012 in config.yaml.", ["flow.retry.max_backoff_ms", "LF-ERR-4012", "config.yaml"]),
        ("See OPS-1187 and SKU-TEAM-ANNUAL-25.", ["OPS-1187", "SKU-TEAM-ANNUAL-25"]),
        ("BRCA1 and IL-6 levels rose; max_retries stayed.", ["BRCA1", "IL-6", "max_retries"]),
        ("Mail ops@example.com or see https://x.example/a.md; plain words only.", []),
        ("The 2025 plan costs 449 dollars.", []),
    ],
)
def test_find_identifiers(text, expected):
    assert find_identifiers(text) == expected


def test_same_seed_same_plan_other_seed_other_plan(small_docs):
    a, b, c = _plan(small_docs, seed=3, n=5), _plan(small_docs, seed=3, n=5), _plan(small_docs, seed=4, n=5)
    assert a == b
    assert a != c


def test_stratified_by_document_and_spans_are_exact(small_docs):
    tasks = _plan(small_docs, n=4, styles={"factoid": 1})
    docs = {d.id: d for d in small_docs}
    assert len({t.doc_id for t in tasks[:3]}) == 3  # one chunk of every document before a second of any
    for t in tasks:
        assert docs[t.doc_id].text[t.start : t.end] == t.passage and len(t.passage) >= 50


def test_keyword_tasks_carry_an_identifier_from_their_passage(small_docs):
    tasks = _plan(small_docs, n=10, styles={"keyword": 1})
    keyword = [t for t in tasks if t.style == "keyword"]
    assert keyword and all(t.identifier in t.passage for t in keyword)
    assert len({t.identifier for t in keyword}) == len(keyword)  # never the same identifier twice
    assert {t.style for t in tasks} <= {"keyword", "factoid"}  # chunks without identifiers fall back


def test_metadata_tasks_are_whole_document_and_template_written(small_docs):
    tasks = _plan(small_docs, n=10, styles={"metadata": 1})
    meta = [t for t in tasks if t.style == "metadata"]
    assert len(meta) == 4 + 4 + 2  # every (document, field) pair once: travel.md has no owner / last_modified
    for t in meta:
        assert t.start is None and t.end is None and t.question.endswith("?") and t.answer
    assert any(t.question == "Who wrote the Travel policy document?" or "Travel policy" in t.question for t in meta)


def test_targeting(small_docs, embedder):
    only = _plan(small_docs, n=5, target={"doc_ids": ["travel.md"]})
    assert {t.doc_id for t in only} == {"travel.md"}
    sales = _plan(small_docs, n=5, target={"where": {"department": "Sales"}})
    assert {t.doc_id for t in sales} == {"pricing.md"}
    near = _plan(small_docs, n=5, target={"near": ["flight booking and hotel receipts"], "near_k": 2})
    assert {t.doc_id for t in near} == {"travel.md"}
    with pytest.raises(ConfigError, match="not in the corpus"):
        _plan(small_docs, target={"doc_ids": ["nope.md"]})
    with pytest.raises(ConfigError, match="no chunk"):
        _plan(small_docs, target={"where": {"department": "Legal"}})
