"""Golden spans for the sentence splitter and the ``sentences`` chunker."""

from __future__ import annotations

import pytest

from ragkit.chunking.sentences import SentenceChunker, pack, split_sentences
from ragkit.data.types import Document
from ragkit.errors import ConfigError
from ragkit.registry import CHUNKERS

TEXT = "Dr. Smith came home. It rained, e.g. on Mon. 3.5 cm fell!\nThe end."


def _sentences(text):
    return [text[s:e] for s, e in split_sentences(text)]


def test_splitter_golden():
    # "Dr." and "e.g." are abbreviations, "3.5" has no space after its period, and
    # "fell!" ends at a newline anyway.
    assert split_sentences(TEXT) == [(0, 20), (21, 44), (45, 57), (58, 66)]
    assert _sentences(TEXT) == ["Dr. Smith came home.", "It rained, e.g. on Mon.", "3.5 cm fell!", "The end."]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("We use v1.2 now. It works.", ["We use v1.2 now.", "It works."]),
        ("Pi is 3.14159. Nice.", ["Pi is 3.14159.", "Nice."]),
        ("Ask Prof. Lee (see Fig. 2). Then go.", ["Ask Prof. Lee (see Fig. 2).", "Then go."]),
        ("J. R. R. Tolkien wrote it. Yes!", ["J. R. R. Tolkien wrote it.", "Yes!"]),
        ("Smith et al. (2020) said so. Ok.", ["Smith et al. (2020) said so.", "Ok."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("Really?! Yes... approx. five.", ["Really?!", "Yes... approx. five."]),
        ("Title\nLine two\n\nPara two", ["Title", "Line two", "Para two"]),
        ("in the U.S. army", ["in the U.S. army"]),
    ],
)
def test_splitter_cases(text, expected):
    assert _sentences(text) == expected


def test_golden_packing_with_overlap():
    # size=40, overlap_sentences=1, sentences s1 (0,20) s2 (21,44) s3 (45,57) s4 (58,66):
    # s1+s2 = 44 chars > 40 -> (0, 20); s1 is the whole chunk, so nothing is repeated;
    # s2+s3 = 57-21 = 36 -> fits, +s4 = 45 -> (21, 57); repeat s3: s3+s4 = 21 -> (45, 66).
    chunks = SentenceChunker(size=40, overlap_sentences=1).chunk(Document("d", TEXT))
    assert [(c.start, c.end) for c in chunks] == [(0, 20), (21, 57), (45, 66)]
    assert chunks[2].text == "3.5 cm fell!\nThe end."


def test_golden_packing_without_overlap():
    chunks = SentenceChunker(size=40).chunk(Document("d", TEXT))
    assert [(c.start, c.end) for c in chunks] == [(0, 20), (21, 57), (58, 66)]


def test_long_sentence_is_split_with_chars_logic():
    text = "Short one. Then " + "word " * 20 + "end. Last."
    chunker = SentenceChunker(size=30)
    units = chunker.units(text)
    assert all(e - s <= 30 for s, e in units)
    assert units[0] == (0, 10) and text[units[-1][0] : units[-1][1]] == "Last."
    assert all(len(c.text) <= 30 for c in chunker.chunk(Document("d", text)))


def test_pack_overlap_never_repeats_everything():
    units = [(0, 4), (5, 9), (10, 14), (15, 19)]
    assert pack(units, size=9, overlap_units=5) == [(0, 9), (5, 14), (10, 19)]
    assert pack(units, size=4, overlap_units=2) == units  # the overlap does not fit


def test_empty_and_registry():
    assert SentenceChunker().chunk(Document("d", " \n ")) == []
    chunker = CHUNKERS.create("sentences", {"size": 300, "overlap_sentences": 2})
    assert isinstance(chunker, SentenceChunker) and chunker.config.overlap_sentences == 2
    assert SentenceChunker().config_dict() == {"size": 800, "overlap_sentences": 0}


@pytest.mark.parametrize("params", [{"size": 0}, {"overlap_sentences": -1}, {"overlap": 3}])
def test_config_errors(params):
    with pytest.raises(ConfigError, match=next(iter(params))):
        SentenceChunker(**params)
