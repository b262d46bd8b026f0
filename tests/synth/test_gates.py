"""Quality gates: golden cases per gate, counts in the report, near-duplicates over the real shared encoder."""

from __future__ import annotations

import pytest

from ragkit.synth.config import GatesSpec
from ragkit.synth.gates import GATES, Candidate, GateReport, Gates
from ragkit.synth.sampling import Task

PASSAGE = "Refunds are processed within 14 days of the request. Error LF-ERR-4012 means the connector timed out."


def _task(style="factoid", identifier="", index=0, question=""):
    return Task(index, style, "d1", "d1#0", 0, len(PASSAGE), PASSAGE, identifier=identifier, question=question)


def _check(reply, spec=GatesSpec(), **task):
    c = Candidate(_task(**task), reply)
    Gates(spec, examples=["When is the office closed?"]).check(c)
    return c


@pytest.mark.parametrize(
    "reply, gate, reason_start",
    [
        ("", "parse", "empty"),
        ("The passage is about refunds.", "parse", "not a question"),
        ("When is the office closed?", "parse", "copies the prompt's example"),
        ("Why?", "length", "4 chars"),
        ("Refunds when?", "length", "2 words"),
        ("What " + "very " * 40 + "long?", "length", "2"),  # > 200 chars
        ("What is the plan?", "length", "fewer than 2 content words"),
        ("Are refunds processed within 14 days of the request?", "leakage", "1.00 > 0.7"),
    ],
)
def test_rejections(reply, gate, reason_start):
    c = _check(reply)
    assert c.gate == gate and c.reason.startswith(reason_start), (c.gate, c.reason)


def test_a_good_question_passes_with_its_leakage():
    c = _check("How long until I get my money back?")
    assert c.gate is None and c.text == "How long until I get my money back?"
    assert c.leakage == 0.0  # long, until, get, money, back: none in the passage


def test_keyword_question_must_name_its_identifier_and_it_is_not_leakage():
    assert _check("How do I fix a connector timeout?", style="keyword", identifier="LF-ERR-4012").gate == "identifier"
    c = _check("How do I fix LF-ERR-4012?", style="keyword", identifier="LF-ERR-4012")
    assert c.gate is None and c.leakage == 0.0  # 'fix' is the only counted term and it is not in the passage


def test_leakage_threshold_per_style():
    spec = GatesSpec(max_leakage=0.5, leakage_by_style={"paraphrase": 0.2, "metadata": None})
    assert spec.leakage_limit("factoid") == 0.5 and spec.leakage_limit("paraphrase") == 0.2
    assert spec.leakage_limit("metadata") is None
    reply = "How long are refunds processed?"  # leakage 2/3
    assert _check(reply, spec).gate == "leakage"
    assert _check(reply, GatesSpec(max_leakage=None)).gate is None


def test_dedupe_exact_and_near_duplicates_with_the_shared_encoder(embedder):
    gates = Gates(GatesSpec(dedup_cosine=0.9), encode=lambda texts: embedder.encode(texts))
    replies = [
        "How long does a refund take?",
        "How long does a refund take?",           # exact repeat
        "How long does it take to get a refund?",  # paraphrase, cosine > 0.9
        "Who approves travel expenses?",           # different
    ]
    cands = [Candidate(_task(index=i), r) for i, r in enumerate(replies)]
    for c in cands:
        gates.check(c)
    gates.dedupe(cands)
    assert [c.gate for c in cands] == [None, "duplicate", "duplicate", None]
    assert cands[1].reason == "same text as a kept question" and cands[2].reason.startswith("cosine")
    later = Candidate(_task(index=9), "How much time does a refund take?")  # a later batch still sees the kept ones
    gates.check(later)
    gates.dedupe([later])
    assert later.gate == "duplicate"


def test_report_counts_every_gate():
    report = GateReport(GatesSpec())
    for reply in ["", "When is the office closed?", "Why?", "Are refunds processed within 14 days?", "How long until I get my money back?"]:
        c = _check(reply)
        report.add(c)
    d = report.to_dict(target=10)
    assert d["candidates"] == 5 and d["kept"] == 1 and d["target"] == 10
    assert list(d["rejected"]) == list(GATES)
    assert d["rejected"] == {"parse": 2, "length": 1, "identifier": 0, "leakage": 1, "answerability": 0, "duplicate": 0}
    assert d["reasons"]["parse"] == {"empty": 1, "copies the prompt's example": 1}
    assert d["leakage"]["kept"]["n"] == 1 and d["leakage"]["parsed"]["n"] == 2
