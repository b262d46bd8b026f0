"""Golden spans and config checks for the ``chars`` chunker and its boundary search."""

from __future__ import annotations

import pytest

from ragkit.chunking.boundaries import char_spans, cut_kind, slack_for
from ragkit.chunking.chars import CharChunker
from ragkit.data.types import Document
from ragkit.errors import ConfigError
from ragkit.registry import CHUNKERS

TEXT = "Alpha beta gamma. Delta epsilon zeta eta theta.\n\nIota kappa."


def test_golden_spans():
    # size=30, overlap=8, slack=30//4=7.
    # 1: window [0, 30); cut candidates (whitespace after a word) in the slack region
    #    [23, 30]: only 23 (after "Delta") -> (0, 23). Next start: 23-8=15 ("a." of
    #    "gamma."), snapped forward to the word start 18 ("Delta").
    # 2: window [18, 48); slack region [41, 48] holds 47, the "\n\n" after "theta."
    #    (paragraph break) -> (18, 47). Next start: 47-8=39 -> word start 41 ("theta.").
    # 3: 41 + 30 >= 60: the rest -> (41, 60).
    chunks = CharChunker(size=30, overlap=8).chunk(Document("d", TEXT))
    assert [(c.start, c.end) for c in chunks] == [(0, 23), (18, 47), (41, 60)]
    assert [c.text for c in chunks] == [
        "Alpha beta gamma. Delta",
        "Delta epsilon zeta eta theta.",
        "theta.\n\nIota kappa.",
    ]
    assert [c.id for c in chunks] == ["d#0", "d#1", "d#2"]


def test_prefers_paragraph_then_sentence_then_space():
    # size 20 -> slack 5: the region for a window starting at 0 is [15, 20]
    assert char_spans("aaaa bbbb cccc.\n\nd. ee ff", 20, 0)[0] == (0, 15)  # paragraph (15) over sentence (19)
    assert char_spans("aaaa bbbb cc dd. ee ff gg", 20, 0)[0] == (0, 16)  # sentence end (16) over space (19)
    assert char_spans("aaaa bbbb cccc dd ee ff gg", 20, 0)[0] == (0, 20)  # the last space (17, 20)
    assert cut_kind("x.\n\ny", 2, 0) == 2 and cut_kind('x." y', 3, 0) == 1 and cut_kind("x y", 1, 0) == 0


def test_hard_cut_only_without_whitespace():
    url = "https://example.com/" + "a" * 50
    assert char_spans(url, 20, 0) == [(0, 20), (20, 40), (40, 60), (60, 70)]
    # a run that fits in one window is kept whole: cut before it (a short chunk)
    assert char_spans("ab " + "x" * 18, 20, 0) == [(0, 2), (3, 21)]
    # a run longer than a window is cut anyway, so no tiny chunk before it
    assert char_spans("ab " + "x" * 30, 20, 0) == [(0, 20), (20, 33)]


def test_next_chunk_starts_at_a_word():
    text = "one two three four five six seven eight nine ten"
    for c in CharChunker(size=20, overlap=6).chunk(Document("d", text)):
        assert c.start == 0 or text[c.start - 1] == " "


def test_overlap_restarts_to_keep_a_word_whole():
    # Chunk 1 is "aaaa bbbb ccc" (0, 13). Window 2 would start at "ccc" (10) and end
    # inside the 18-character word at 30; it starts at the word (14) instead, which
    # then fits whole. The word's tail has no word start near 32-6=26, so "end"
    # follows without overlap.
    text = "aaaa bbbb ccc " + "w" * 18 + " end"
    assert char_spans(text, 20, 6) == [(0, 13), (14, 32), (33, 36)]


def test_whitespace_and_empty_documents():
    chunker = CharChunker(size=10, overlap=2)
    assert chunker.chunk(Document("d", "")) == []
    assert chunker.chunk(Document("d", " \n\t \u3000 ")) == []
    assert chunker.spans("   word   ") == [(3, 7)]


def test_slack_is_a_quarter_of_the_window():
    assert CharChunker().slack == slack_for(800) == 200
    assert CharChunker(size=40, overlap=10).slack == 10


def test_defaults_and_registry():
    chunker = CHUNKERS.create("chars")
    assert isinstance(chunker, CharChunker)
    assert chunker.config_dict() == {"size": 800, "overlap": 240}
    assert CharChunker(**chunker.config_dict()).fingerprint() == chunker.fingerprint()


@pytest.mark.parametrize(
    "params,match",
    [
        ({"size": 100, "overlap": 100}, "overlap=100 must be smaller than size=100"),
        ({"size": 100, "overlap": 250}, "overlap=250 must be smaller than size=100"),
        ({"size": 0}, "size"),
        ({"overlap": -1}, "overlap"),
        ({"sise": 10}, "sise"),
    ],
)
def test_config_errors(params, match):
    with pytest.raises(ConfigError, match=match):
        CharChunker(**params)
