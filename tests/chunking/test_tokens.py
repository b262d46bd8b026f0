"""The ``tokens`` chunker: golden windows, the shared tokenizer, limits, warnings and speed."""

from __future__ import annotations

import logging
import time

import pytest

from ragkit.chunking.tokens import TokenChunker
from ragkit.core.models import get_embedder
from ragkit.data.types import Document
from ragkit.errors import ConfigError
from ragkit.registry import CHUNKERS


def _texts(chunker, text):
    return [c.text for c in chunker.chunk(Document("d", text))]


def test_uses_the_embedders_tokenizer_object():
    assert TokenChunker().tokenizer is get_embedder("default").tokenizer


def test_window_counts_special_tokens():
    chunker = TokenChunker()
    assert chunker.budget == 256 - 2  # [CLS] and [SEP]
    assert chunker.config.window == get_embedder("default").max_seq_length
    assert chunker.slack == 254 // 4


def test_golden_windows():
    # window=10 -> budget 8 text tokens, slack 2; every word is one token.
    # 1: tokens [0, 8): the slack region [6, 8] has only plain spaces, the last is 8 -> "one".."eight".
    # 2: next start 8-2=6 ("seven", after a space) -> tokens [6, 12), the rest.
    chunker = TokenChunker(window=10, overlap=2)
    assert _texts(chunker, "one two three four five six seven eight nine ten eleven twelve") == [
        "one two three four five six seven eight",
        "seven eight nine ten eleven twelve",
    ]


def test_golden_prefers_sentence_end():
    # tokens: dogs bark at the moon . cats pu ##rr softly all day long .   (14)
    # 1: region [6, 8]: 6 ("cats", after "moon.") is a sentence end, 7 a space, 8 inside
    #    "purr" -> cut at 6. Next start 6-2=4 ("moon").
    # 2: tokens [4, 12): region [10, 12] all spaces, the last is 12 -> ends "day".
    #    Next start 12-2=10 ("all").  3: tokens [10, 14).
    chunker = TokenChunker(window=10, overlap=2)
    assert _texts(chunker, "Dogs bark at the moon. Cats purr softly all day long.") == [
        "Dogs bark at the moon.",
        "moon. Cats purr softly all day",
        "all day long.",
    ]


def test_never_splits_a_word_that_fits():
    chunker = TokenChunker(window=16, overlap=4)
    text = "The end is near. Internationalization supercalifragilisticexpialidocious"
    texts = _texts(chunker, text)
    assert "supercalifragilisticexpialidocious" in texts
    assert all(t.count("supercal") == t.count("supercalifragilisticexpialidocious") for t in texts)


def test_chunks_retokenize_within_window():
    tok = get_embedder("default").tokenizer
    text = ("naïve café " * 30) + "x" * 300 + " 日本語のテキスト " * 20 + "https://a.b/" + "c/d" * 80
    for window, overlap in [(8, 0), (12, 5), (32, 8)]:
        texts = _texts(TokenChunker(window=window, overlap=overlap), text)
        assert max(len(ids) for ids in tok(texts)["input_ids"]) <= window


def test_cuts_inside_a_word_are_re_checked():
    # 42 letters: 20-odd word pieces. A hard cut makes the next piece start a fresh word
    # ("##qm" becomes "qm..."), which can re-tokenize to more pieces; such chunks are shortened.
    tok = get_embedder("default").tokenizer
    word = "lrwyvxlcovqdyfqmlpxapbjwtssmuffqhaygrrhmql"
    chunks = TokenChunker(window=12, overlap=2).chunk(Document("d", word))
    assert len(chunks) > 1 and chunks[-1].end == len(word)
    assert max(len(ids) for ids in tok([c.text for c in chunks])["input_ids"]) <= 12


def test_window_above_max_seq_length_warns_once(caplog):
    chunker = TokenChunker(window=301, overlap=0)
    with caplog.at_level(logging.WARNING, logger="ragkit.chunking.tokens"):
        chunker.spans("some text")
        chunker.spans("more text")
        TokenChunker(window=301, overlap=10).spans("again")
    warnings = [r for r in caplog.records if "exceeds the max_seq_length=256" in r.message]
    assert len(warnings) == 1 and "window=301" in warnings[0].message


def test_empty_and_untokenizable_documents():
    chunker = TokenChunker(window=16, overlap=2)
    assert chunker.chunk(Document("d", "")) == []
    assert chunker.chunk(Document("d", " \n\t")) == []
    assert chunker.spans(" \x07\x00 ") == [(1, 3)]  # control characters give no token, still covered


def test_long_document_is_fast():
    words = "the study of cells shows that protein levels rise. ".split()
    text = " ".join(words[i % len(words)] for i in range(200_000))[:1_000_000]
    chunker = TokenChunker()
    chunker.spans("warm up")
    t0 = time.perf_counter()
    spans = chunker.spans(text)
    elapsed = time.perf_counter() - t0
    assert len(text) == 1_000_000 and len(spans) > 800
    assert elapsed < 4.0, f"1 MB took {elapsed:.2f}s"  # about 0.6-1 s on a 2-core laptop


def test_registry_and_defaults():
    chunker = CHUNKERS.create("tokens")
    assert isinstance(chunker, TokenChunker)
    assert chunker.config_dict() == {"window": 256, "overlap": 32, "model": "default"}


@pytest.mark.parametrize(
    "params,match",
    [
        ({"window": 64, "overlap": 64}, "overlap=64 must be smaller than window=64"),
        ({"window": 4}, "window"),
        ({"overlap": -2}, "overlap"),
        ({"model": ""}, "model"),
    ],
)
def test_config_errors(params, match):
    with pytest.raises(ConfigError, match=match):
        TokenChunker(**params)
