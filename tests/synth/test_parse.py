"""Golden cases for the parsing gate: what a small LLM writes -> the question kept, or the reason it is rejected."""

from __future__ import annotations

import pytest

from ragkit.synth.parse import MAX_REPLY_CHARS, parse_question

KEPT = [
    ("What is the SLA for Enterprise?", "What is the SLA for Enterprise?"),
    ("1. What is the SLA for Enterprise?", "What is the SLA for Enterprise?"),
    ("2) how long are logs kept?", "How long are logs kept?"),
    ("Question: Who approves travel?", "Who approves travel?"),
    ("**Question 1:** Who approves travel?", "Who approves travel?"),
    ("- Q: Who approves travel?", "Who approves travel?"),
    ('"Who approves travel?"', "Who approves travel?"),
    ("\u201cWho approves travel?\u201d", "Who approves travel?"),
    ("Who approves travel? Answer: the manager.", "Who approves travel?"),
    ("Who approves travel? Who pays for it?", "Who approves travel?"),
    ("Sure! Here is a question:\n\nWho approves travel?", "Who approves travel?"),
    ("Here is one. Who approves travel?", "Who approves travel?"),
    ("<p>How do I reset &amp; restart the agent?</p>", "How do I reset & restart the agent?"),
    ("  which   plan\tincludes SCIM?  ", "Which plan includes SCIM?"),
]

REJECTED = [
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("The passage describes the pricing.", "not a question"),
    ("What is the purpose of the PR", "not a question"),  # cut off before the '?'
    ("??", "not a question"),
    ("<script>alert('x?')</script>", "not a question"),
    ("abc\x00\x01def?", "garbage"),
    ("What is \ufffd\ufffd?", "garbage"),
    ("According to the passage, what is the refund window?", "refers to the passage"),
    ("Which of the following is a deprecation?", "refers to the passage"),
    ("What does this text say about refunds?", "refers to the passage"),
]


@pytest.mark.parametrize("reply, expected", KEPT)
def test_kept(reply, expected):
    got = parse_question(reply)
    assert got.ok and got.text == expected, got


@pytest.mark.parametrize("reply, reason", REJECTED)
def test_rejected(reply, reason):
    got = parse_question(reply)
    assert got.text is None and got.reason == reason


def test_prefill_is_joined():
    assert parse_question(" is the SLA?", prefill="What").text == "What is the SLA?"


@pytest.mark.parametrize(
    "hostile",
    [
        None,
        b"\x89PNG\r\n\x1a\n\x00\x00",
        bytes(range(256)),
        "a" * 5_000_000,
        "<html><body>" + "<div>" * 10_000 + "</body></html>",
        "\U0001F600" * 1000,
        "{" * 10_000,
    ],
)
def test_hostile_replies_never_raise_and_are_rejected(hostile):
    got = parse_question(hostile)
    assert got.text is None and got.reason in {"empty", "garbage", "not a question"}


def test_huge_reply_is_cut_before_parsing():
    got = parse_question("x" * (MAX_REPLY_CHARS + 10) + " is this kept?")
    assert got.reason == "not a question"  # the question lies past the cut
    assert parse_question("What is kept?" + "x" * 1_000_000).text == "What is kept?"
